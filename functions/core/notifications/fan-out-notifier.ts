import type { Notification, Notifier } from '../ports/notifier';

/**
 * Sends each notification to every notifier in order (e.g. the in-app inbox, then SNS). A failure
 * stops the fan-out and propagates to the caller, after the earlier notifiers have run.
 */
export class FanOutNotifier implements Notifier {
  constructor(private readonly notifiers: readonly Notifier[]) {}

  async notify(n: Notification): Promise<void> {
    for (const notifier of this.notifiers) await notifier.notify(n);
  }
}
