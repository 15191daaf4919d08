import type { Clock } from '../ports/clock';
import type { DocumentStore } from '../ports/document-store';
import type { IdGenerator } from '../ports/id-generator';
import type { Notification, Notifier } from '../ports/notifier';

/** A notification as stored in a recipient's in-app inbox (R-ENT-5). */
export interface InboxMessage extends Notification {
  messageId: string;
  createdAt: string;
  read: boolean;
}

/**
 * In-app inbox on the document store: the notifier every deployment has. Recipients are user
 * ids or `role:<name>`; the portal reads the inbox of the user and of each of their roles.
 */
export class InboxNotifier implements Notifier {
  constructor(
    private readonly store: DocumentStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  async notify(n: Notification): Promise<void> {
    const createdAt = new Date(this.clock.now()).toISOString();
    const message: InboxMessage = { ...n, messageId: this.ids.next('msg'), createdAt, read: false };
    await this.store.put('main', { pk: `INBOX#${n.to}`, sk: `${createdAt}#${message.messageId}`, message }, { ifNotExists: true });
  }

  async list(recipients: string[], limit = 50): Promise<InboxMessage[]> {
    const pages = await Promise.all(recipients.map((to) => this.store.query<{ pk: string; sk: string; message: InboxMessage }>('main', { pk: `INBOX#${to}`, ascending: false, limit })));
    return pages
      .flatMap((p) => p.items.map((i) => i.message))
      .sort((a, b) => (`${a.createdAt}#${a.messageId}` < `${b.createdAt}#${b.messageId}` ? 1 : -1))
      .slice(0, limit);
  }
}
