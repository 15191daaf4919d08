import type { Clock } from '../../core/ports/clock';

/** A cancellable one-shot timer. */
export interface TimerHandle {
  cancel(): void;
}

/** setTimeout's ceiling (2^31-1 ms, ~24.8 days); longer delays fire immediately if not split. */
const MAX_DELAY_MS = 2_147_483_647;

/**
 * Calls `fire` once when `clock.now()` reaches `deadline` (epoch ms). Long delays are split into
 * chunks below setTimeout's limit. The timer is unref'd: a pending deadline alone does not keep
 * the process alive (the local runtime's server does).
 */
export function armTimer(deadline: number, clock: Clock, fire: () => void): TimerHandle {
  let timeout: NodeJS.Timeout | undefined;
  let cancelled = false;
  const wait = (ms: number): void => {
    timeout = setTimeout(tick, Math.max(0, Math.min(ms, MAX_DELAY_MS)));
    timeout.unref();
  };
  const tick = (): void => {
    if (cancelled) return;
    const remaining = deadline - clock.now();
    if (remaining > 0) return wait(remaining);
    timeout = undefined;
    fire();
  };
  // Never fires synchronously, even for a deadline already past: callers finish arming first.
  wait(deadline - clock.now());
  return {
    cancel() {
      cancelled = true;
      if (timeout) clearTimeout(timeout);
      timeout = undefined;
    },
  };
}
