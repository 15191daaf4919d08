import type { AuthzDecision, AuthzRequest, Authorizer } from './authorizer';
import { CedarAuthorizer } from './cedar-authorizer';
import type { PolicyAdministration } from './policy-administration';

/** How long an instance trusts its loaded policy version before checking the head again. */
export const DEFAULT_POLICY_TTL_MS = 5_000;

/**
 * The authorizer every request uses: a `CedarAuthorizer` for the current policy version, swapped
 * when the stored head moves (R-GOV-7, runtime changes). Decisions stay synchronous (~0.2 ms);
 * `refresh()` runs once per request before any decision and reads the head item at most every
 * `ttlMs`, so in AWS each Lambda instance picks a change up within the TTL (one GetItem per TTL
 * per instance). The instance that made a change reloads at once.
 *
 * If the store cannot be read, a version loaded before is kept (checked again next request); an
 * instance that never read the head fails the request instead of guessing (fail closed).
 */
export class ReloadingAuthorizer implements Authorizer {
  private current: CedarAuthorizer;
  private currentNumber = -1;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private loading?: Promise<void>;

  constructor(
    private readonly admin: PolicyAdministration,
    shipped: CedarAuthorizer,
    private readonly now: () => number,
    private readonly ttlMs = DEFAULT_POLICY_TTL_MS,
  ) {
    this.current = shipped;
  }

  /** Label of the loaded policy version (recorded with decisions). */
  get version(): string {
    return this.current.version;
  }

  /** Number of the loaded stored version (-1 before the first check, 0 = shipped set). */
  get loadedVersion(): number {
    return this.currentNumber;
  }

  decide(request: AuthzRequest): AuthzDecision {
    return this.current.decide(request);
  }

  /** Checks the stored head if the TTL has passed (or `force`), and loads a new version if it moved. */
  async refresh(force = false): Promise<void> {
    if (!force && this.now() - this.checkedAt < this.ttlMs) return;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    await this.loading;
  }

  private async load(): Promise<void> {
    let n: number;
    try {
      n = await this.admin.currentNumber();
    } catch (e) {
      // Never checked yet: fail closed (the request fails) rather than decide with a set that
      // may be older than the stored one. Checked before: keep the loaded set, retry next request.
      if (this.currentNumber < 0) throw e;
      return;
    }
    this.checkedAt = this.now();
    if (n === this.currentNumber) return;
    if (n === 0 && this.currentNumber < 0) {
      this.currentNumber = 0; // the shipped set is already loaded
      return;
    }
    const version = await this.admin.version(n);
    // A stored version was validated before it was saved; if it still fails (e.g. the shipped
    // schema changed under it), the constructor throws and the loaded set stays in force.
    this.current = new CedarAuthorizer(this.admin.bundleOf(version), this.now);
    this.currentNumber = n;
  }
}
