import type { Clock } from '../ports/clock';
import type { UsagePlanLimits } from './usage-plans';

/** Outcome of metering one request against a key's plan. */
export type UsageResult =
  | { ok: true; remainingToday: number }
  | { ok: false; reason: 'rate' | 'quota'; retryAfterSeconds: number };

interface KeyUsage {
  tokens: number;
  refilledAt: number;
  day: string;
  usedToday: number;
}

const DAY_MS = 86_400_000;

/**
 * Per-key token bucket (capacity = burst, refilled at `rateLimit` tokens/s) plus a daily quota
 * counted per UTC day: the metering API Gateway applies to a usage-plan key, done in memory by
 * the local front (in AWS API Gateway meters and this class is not used).
 *
 * @example
 * const meter = new UsageMeter(systemClock);
 * const r = meter.take('key_1', PARTNER_USAGE_PLANS.default);
 * if (!r.ok) respond429(r.retryAfterSeconds);
 */
export class UsageMeter {
  private readonly usage = new Map<string, KeyUsage>();

  constructor(private readonly clock: Clock) {}

  /** Meters one request; a refused request consumes nothing. */
  take(keyId: string, limits: UsagePlanLimits): UsageResult {
    const now = this.clock.now();
    const day = new Date(now).toISOString().slice(0, 10);
    const u = this.usage.get(keyId) ?? { tokens: limits.burstLimit, refilledAt: now, day, usedToday: 0 };
    // Refill for the time elapsed, never above the bucket size.
    u.tokens = Math.min(limits.burstLimit, u.tokens + ((now - u.refilledAt) / 1000) * limits.rateLimit);
    u.refilledAt = now;
    if (u.day !== day) {
      u.day = day;
      u.usedToday = 0;
    }
    this.usage.set(keyId, u);
    if (u.usedToday >= limits.quotaPerDay) {
      const nextDay = (Math.floor(now / DAY_MS) + 1) * DAY_MS;
      return { ok: false, reason: 'quota', retryAfterSeconds: Math.max(1, Math.ceil((nextDay - now) / 1000)) };
    }
    if (u.tokens < 1) {
      return { ok: false, reason: 'rate', retryAfterSeconds: Math.max(1, Math.ceil((1 - u.tokens) / limits.rateLimit)) };
    }
    u.tokens -= 1;
    u.usedToday += 1;
    return { ok: true, remainingToday: limits.quotaPerDay - u.usedToday };
  }

  /** Forgets a key's counters (a revoked key). */
  forget(keyId: string): void {
    this.usage.delete(keyId);
  }
}
