/** Notifier port: in-app inbox always, plus SNS/e-mail in AWS. Messages carry ids, never PHI. */
export interface Notification {
  /** A user id, or `role:<name>` for everyone holding that role. */
  to: string;
  category: 'review-task' | 'request-status' | 'grant' | 'security-alert' | 'system';
  subject: string;
  body: string;
  /** Ids of the things the notification is about (request, grant…). */
  refs?: Record<string, string>;
}

export interface Notifier {
  notify(notification: Notification): Promise<void>;
}
