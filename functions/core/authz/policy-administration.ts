import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { createHash } from 'node:crypto';
import { ConflictError, DomainError, NotFoundError, ValidationError } from '../errors';
import type { Actor } from '../identity/actor';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import { CedarAuthorizer, type PolicyBundle } from './cedar-authorizer';

/**
 * Policies that a runtime change can neither alter nor remove (deny by default stays intact):
 * every `forbid` of the shipped set (found by parsing it), plus the permit that lets security
 * admins manage policies, so a bad change can always be rolled back.
 */
export const ALWAYS_LOCKED_POLICY_IDS = ['security-admins-manage-policies'] as const;

/** One stored version of the policy set. Version 0 is the shipped set (no overrides). */
export interface PolicyVersion {
  number: number;
  /** Label the authorizer records with decisions: the shipped set's hash plus `+r<number>`. */
  label: string;
  /** File name → replacement text, on top of the shipped files (cumulative). */
  overrides: Record<string, string>;
  action: 'shipped' | 'change' | 'rollback';
  changedFile?: string;
  rolledBackTo?: number;
  reason: string;
  authorId: string;
  authorName?: string;
  at: string;
  /** SHA-256 of the effective policy texts, to tell versions apart at a glance. */
  sha256: string;
}

export interface PolicyFileView {
  file: string;
  text: string;
  /** True when the text differs from the shipped file. */
  overridden: boolean;
  policyIds: string[];
}

type HeadItem = Item & { current: number; version: number };
type VersionItem = Item & { policyVersion: PolicyVersion };

const HEAD_KEY = { pk: 'POLICYSET', sk: 'HEAD' };
const versionKey = (n: number) => ({ pk: 'POLICYSET', sk: `V#${String(n).padStart(6, '0')}` });
/** Largest policy file accepted at run time. */
export const MAX_POLICY_FILE_BYTES = 64 * 1024;

/**
 * Runtime policy administration (R-GOV-7, issue 5 "policies can be changed at run time").
 *
 * The shipped files (`policies/`) are version 0. A change replaces one file's text; it is
 * validated against the shipped schema and the locked policies before it is stored as a new,
 * append-only version (who, when, why); a rollback stores a new version whose overrides equal
 * an earlier one's. The head item `POLICYSET/HEAD` names the current version: every authorizer
 * instance (each Lambda) compares it with what it has loaded, at most every few seconds
 * (`ReloadingAuthorizer`), so a change reaches all instances within that TTL.
 */
export class PolicyAdministration {
  private readonly locked: Map<string, string>;

  constructor(
    private readonly store: DocumentStore,
    private readonly shipped: PolicyBundle,
    private readonly clock: Clock,
  ) {
    this.locked = lockedPolicies(shipped);
  }

  /** Ids of the policies no runtime change may alter or remove. */
  lockedIds(): string[] {
    return [...this.locked.keys()].sort();
  }

  /** The number of the current version (0 when nothing was ever changed). */
  async currentNumber(): Promise<number> {
    const head = await this.store.get<HeadItem>('main', HEAD_KEY);
    return head?.current ?? 0;
  }

  /** A version (0: the shipped set). */
  async version(n: number): Promise<PolicyVersion> {
    if (n === 0) return this.shippedVersion();
    const item = await this.store.get<VersionItem>('main', versionKey(n));
    if (!item) throw new NotFoundError('policy version', { version: n });
    return item.policyVersion;
  }

  /** Every version, newest first (the shipped set last). */
  async history(): Promise<PolicyVersion[]> {
    const out: PolicyVersion[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.query<VersionItem>('main', { pk: 'POLICYSET', skPrefix: 'V#', ascending: false, limit: 500, cursor });
      out.push(...page.items.map((i) => i.policyVersion));
      cursor = page.cursor;
    } while (cursor);
    return [...out, this.shippedVersion()];
  }

  /** The bundle a version stands for: shipped files with the version's overrides. */
  bundleOf(v: PolicyVersion): PolicyBundle {
    return { schema: this.shipped.schema, policies: { ...this.shipped.policies, ...v.overrides }, version: v.label };
  }

  /** The current version's files, for the console. */
  async files(): Promise<{ version: PolicyVersion; files: PolicyFileView[]; locked: string[] }> {
    const version = await this.version(await this.currentNumber());
    const bundle = this.bundleOf(version);
    const files = Object.keys(bundle.policies)
      .sort()
      .map((file) => {
        const text = bundle.policies[file]!;
        return { file, text, overridden: text !== this.shipped.policies[file], policyIds: Object.keys(safePoliciesById({ [file]: text })) };
      });
    return { version, files, locked: this.lockedIds() };
  }

  /**
   * Checks a proposed file text: Cedar syntax, `@id` on every policy, ids unique across the set,
   * validation against the schema, locked policies unchanged. Returns the validator's messages
   * (empty when valid).
   */
  async check(file: string, text: string): Promise<string[]> {
    const current = this.bundleOf(await this.version(await this.currentNumber()));
    return this.problems({ ...current, policies: { ...current.policies, [file]: text } }, file);
  }

  /** Stores a change of one policy file as a new version. Invalid → `VALIDATION_FAILED` with the messages. */
  async change(actor: Actor, input: { file: string; text: string; reason: string; baseVersion?: number }): Promise<PolicyVersion> {
    if (!this.shipped.policies[input.file]) {
      throw new ValidationError('only the shipped policy files can be changed', { field: 'file', files: Object.keys(this.shipped.policies).sort() });
    }
    if (new TextEncoder().encode(input.text).length > MAX_POLICY_FILE_BYTES) throw new DomainError('PAYLOAD_TOO_LARGE', 'policy file too large', { maxBytes: MAX_POLICY_FILE_BYTES });
    const head = await this.store.get<HeadItem>('main', HEAD_KEY);
    const currentNumber = head?.current ?? 0;
    if (input.baseVersion !== undefined && input.baseVersion !== currentNumber) {
      throw new ConflictError('the policy set changed since you loaded it', { baseVersion: input.baseVersion, currentVersion: currentNumber });
    }
    const current = await this.version(currentNumber);
    const overrides = { ...current.overrides };
    if (input.text === this.shipped.policies[input.file]) delete overrides[input.file];
    else overrides[input.file] = input.text;
    const messages = this.problems({ schema: this.shipped.schema, policies: { ...this.shipped.policies, ...overrides }, version: 'proposed' }, input.file);
    if (messages.length) throw new ValidationError('the policy change is invalid', { code: 'POLICY_INVALID', file: input.file, messages });
    return this.append(actor, head, { overrides, action: 'change', changedFile: input.file, reason: input.reason });
  }

  /** Makes an earlier version current again, as a new version (history stays append-only). */
  async rollback(actor: Actor, input: { toVersion: number; reason: string }): Promise<PolicyVersion> {
    const head = await this.store.get<HeadItem>('main', HEAD_KEY);
    if (input.toVersion === (head?.current ?? 0)) throw new ConflictError('that version is already current', { version: input.toVersion });
    const target = await this.version(input.toVersion);
    // The shipped locked policies are checked again: an old version can never unlock them.
    const messages = this.problems(this.bundleOf(target));
    if (messages.length) throw new ValidationError('that version is no longer valid', { code: 'POLICY_INVALID', messages });
    return this.append(actor, head, { overrides: target.overrides, action: 'rollback', rolledBackTo: target.number, reason: input.reason });
  }

  private async append(actor: Actor, head: HeadItem | undefined, v: Pick<PolicyVersion, 'overrides' | 'action' | 'reason'> & Partial<PolicyVersion>): Promise<PolicyVersion> {
    const number = (head?.current ?? 0) + 1;
    const bundle = { schema: this.shipped.schema, policies: { ...this.shipped.policies, ...v.overrides } };
    const version: PolicyVersion = {
      ...v,
      number,
      label: `${this.shipped.version}+r${number}`,
      authorId: actor.id,
      ...(actor.displayName ? { authorName: actor.displayName } : {}),
      at: new Date(this.clock.now()).toISOString(),
      sha256: digest(bundle.policies),
    };
    // Version item and head move together; a concurrent change loses with CONFLICT.
    await this.store.transact([
      { kind: 'put', table: 'main', item: { ...versionKey(number), policyVersion: version }, options: { ifNotExists: true } },
      { kind: 'put', table: 'main', item: { ...HEAD_KEY, current: number, version: number }, options: { expectedVersion: head?.version ?? 0 } },
    ]);
    return version;
  }

  private problems(bundle: PolicyBundle, file?: string): string[] {
    let policies: Record<string, string>;
    try {
      policies = CedarAuthorizer.policiesById(bundle.policies);
    } catch (e) {
      return [(e as Error).message];
    }
    const out: string[] = [];
    const v = cedar.validate({ schema: bundle.schema, policies: { staticPolicies: policies } });
    if (v.type !== 'success') out.push(...v.errors.map((e) => e.message));
    else out.push(...v.validationErrors.map((e) => `${e.policyId}: ${e.error.message}`));
    for (const [id, text] of this.locked) {
      if (!policies[id]) out.push(`${id}: locked policy cannot be removed`);
      else if (normalize(policies[id]) !== normalize(text)) out.push(`${id}: locked policy cannot be changed`);
    }
    if (file && out.length === 0 && !Object.keys(policies).length) out.push(`${file}: the policy set would be empty`);
    return out;
  }

  private shippedVersion(): PolicyVersion {
    return { number: 0, label: this.shipped.version, overrides: {}, action: 'shipped', reason: 'policies shipped with the deployment', authorId: 'system:deployment', at: '1970-01-01T00:00:00.000Z', sha256: digest(this.shipped.policies) };
  }
}

/** The shipped set's locked policies: every `forbid` plus `ALWAYS_LOCKED_POLICY_IDS`. */
function lockedPolicies(shipped: PolicyBundle): Map<string, string> {
  const all = CedarAuthorizer.policiesById(shipped.policies);
  const out = new Map<string, string>();
  for (const [id, text] of Object.entries(all)) {
    const effect = /^\s*(?:@\w+\([^)]*\)\s*)*(permit|forbid)\b/.exec(text.replace(/\/\/[^\n]*/g, ''))?.[1];
    if (effect === 'forbid' || (ALWAYS_LOCKED_POLICY_IDS as readonly string[]).includes(id)) out.set(id, text);
  }
  return out;
}

function safePoliciesById(files: Record<string, string>): Record<string, string> {
  try {
    return CedarAuthorizer.policiesById(files);
  } catch {
    return {};
  }
}

/** Whitespace and comments do not change a policy. */
function normalize(text: string): string {
  return text.replace(/\/\/[^\n]*/g, '').replace(/\s+/g, ' ').trim();
}

function digest(files: Record<string, string>): string {
  const h = createHash('sha256');
  for (const f of Object.keys(files).sort()) h.update(f).update('\0').update(files[f]!).update('\0');
  return h.digest('hex');
}
