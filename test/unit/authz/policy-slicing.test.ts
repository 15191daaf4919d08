import { describe, expect, it } from 'vitest';
import { loadPolicyBundle } from '../../../functions/adapters/shared/load-policies';
import type { AuthzRequest, AuthzResource } from '../../../functions/core/authz/authorizer';
import { CedarAuthorizer, type PolicyBundle } from '../../../functions/core/authz/cedar-authorizer';
import { anonymousActor, ROLES, type Actor } from '../../../functions/core/identity/actor';
import { PARTNER_SCOPES } from '../../../functions/core/partners/partner-service';
import { routes } from '../../../functions/http/routes';

/**
 * Policy slicing (R-GOV-7): the authorizer decides each request with the preparsed slice of its
 * action. These tests compare it with the same policies decided as one full set, over thousands of
 * generated requests: effect, deciding policy ids and evaluation errors must be identical.
 */
const NOW = () => Date.parse('2026-11-24T00:00:00Z');
const bundle = loadPolicyBundle('policies');
const sliced = new CedarAuthorizer(bundle, NOW);
const full = new CedarAuthorizer(bundle, NOW, { slicing: false });

/** Deterministic generator (mulberry32), so a failure can be reproduced. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = random(20261124);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const some = <T>(xs: readonly T[]): T[] => xs.filter(() => rnd() < 0.3);
const INSTITUTIONS = ['demo-hospital-1', 'demo-hospital-2'];
const USERS = ['u-1', 'u-2'];

function actor(): Actor {
  const r = rnd();
  if (r < 0.1) return anonymousActor();
  if (r < 0.3) return { kind: 'partner', id: pick(['p-1', 'p-2']), roles: [], institution: pick(INSTITUTIONS), mfa: false, scopes: some(PARTNER_SCOPES) };
  return { kind: 'user', id: pick(USERS), roles: rnd() < 0.7 ? [pick(ROLES)] : some(ROLES), institution: pick(INSTITUTIONS), mfa: rnd() < 0.7, scopes: [] };
}

function resource(): AuthzResource {
  const who = () => pick([...USERS.map((u) => `user:${u}`)]);
  const institution = pick(INSTITUTIONS);
  switch (pick(['Platform', 'Dataset', 'AccessRequest', 'Grant', 'Upload', 'AuditLog', 'Partner', 'Patient', 'ReidentificationRequest'] as const)) {
    case 'Platform':
      return { type: 'Platform', id: 'mdrp' };
    case 'Dataset':
      return { type: 'Dataset', id: 'ds-1', attributes: { institution, securityLevel: 1 + Math.floor(rnd() * 5) } };
    case 'AccessRequest':
      return {
        type: 'AccessRequest',
        id: 'req-1',
        attributes: {
          applicant: who(),
          institution,
          ...(rnd() < 0.3 ? { partner: `partner:${pick(['p-1', 'p-2'])}` } : {}),
          ...(rnd() < 0.5 ? { stepRoles: some(ROLES).map((r) => `role:${r}`) } : {}),
          ...(rnd() < 0.5 ? { reviewers: some(USERS).map((u) => `user:${u}`) } : {}),
        },
      };
    case 'Grant':
      return { type: 'Grant', id: 'grt-1', attributes: rnd() < 0.7 ? { holder: who(), institution } : { partner: `partner:${pick(['p-1', 'p-2'])}`, institution } };
    case 'Upload':
      return { type: 'Upload', id: 'up-1', attributes: { institution } };
    case 'ReidentificationRequest':
      return { type: 'ReidentificationRequest', id: 'rid-1', attributes: { requester: who(), grantId: 'grt-1' } };
    case 'AuditLog':
      return { type: 'AuditLog', id: 'audit' };
    case 'Partner':
      return { type: 'Partner', id: 'p-1' };
    case 'Patient':
      return { type: 'Patient', id: 'pat-1' };
  }
}

function context(): AuthzRequest['context'] {
  const r = rnd();
  if (r < 0.4) return undefined;
  if (r < 0.7) return { dataLevel: 1 + Math.floor(rnd() * 5) };
  return { step: pick(['ethics', 'approval-1', 'approval-2']) };
}

const comparable = (d: ReturnType<CedarAuthorizer['decide']>) => ({ effect: d.effect, policyIds: [...d.policyIds].sort(), errors: [...d.errors].sort() });

describe('policy slicing: one preparsed set per action gives the full set decisions', () => {
  const actions = [...CedarAuthorizer.slices(bundle.schema, CedarAuthorizer.policiesById(bundle.policies)).keys()];

  it('R-GOV-7: every action of the schema has a slice, smaller than the full set', () => {
    const policies = CedarAuthorizer.policiesById(bundle.policies);
    const slices = CedarAuthorizer.slices(bundle.schema, policies);
    for (const route of routes) expect(slices.has(route.action)).toBe(true);
    const largest = Math.max(...[...slices.values()].map((ids) => ids.length));
    expect(largest).toBeLessThan(Object.keys(policies).length / 2);
    // A policy for one action sits in that action's slice only.
    expect(slices.get('ManagePolicies')).toContain('security-admins-manage-policies');
    expect(slices.get('ReadCatalog')).not.toContain('security-admins-manage-policies');
  });

  it('R-GOV-7: 5,000 generated requests (every action, resource type, role mix, partner scopes, context) decide identically', () => {
    let allows = 0;
    for (let i = 0; i < 5_000; i++) {
      // Mostly the schema's actions; a few the schema does not declare (denied by validation either way).
      const request: AuthzRequest = { actor: actor(), action: rnd() < 0.02 ? 'NoSuchAction' : pick(actions), resource: resource(), context: context() };
      const a = comparable(sliced.decide(request));
      const b = comparable(full.decide(request));
      if (JSON.stringify(a) !== JSON.stringify(b)) expect({ request, sliced: a }).toEqual({ request, sliced: b });
      if (a.effect === 'allow') allows++;
    }
    // The sample exercises both outcomes (a generator that only produced denials would prove nothing).
    expect(allows).toBeGreaterThan(250);
    expect(5_000 - allows).toBeGreaterThan(250);
  });

  it('R-GOV-7: the authorization matrix (every route × every role, partners, anonymous) decides identically', () => {
    const actors: Actor[] = [
      anonymousActor(),
      ...ROLES.map((r): Actor => ({ kind: 'user', id: `u-${r}`, roles: [r], institution: 'demo-hospital-1', mfa: true, scopes: [] })),
      ...PARTNER_SCOPES.map((s): Actor => ({ kind: 'partner', id: 'p-1', roles: [], institution: 'demo-hospital-2', mfa: false, scopes: [s] })),
    ];
    for (const route of routes) {
      const resource = route.resource ? route.resource({ params: {}, query: {} }) : { type: 'Platform' as const, id: 'mdrp' };
      for (const a of actors) expect(comparable(sliced.decide({ actor: a, action: route.action, resource }))).toEqual(comparable(full.decide({ actor: a, action: route.action, resource })));
    }
  });

  it('R-GOV-7: action groups: a policy on a group reaches the slices of its members, transitively', () => {
    const groups: PolicyBundle = {
      version: 'slicing-groups',
      schema: `namespace MDRP {
  entity Role;
  entity User in [Role] = { institution: String, mfa: Bool };
  entity Platform;
  type RequestContext = { now: Long };
  action Read;
  action ReadData in [Read];
  action ReadRaw in [ReadData] appliesTo { principal: [User], resource: [Platform], context: RequestContext };
  action ReadMeta in [Read] appliesTo { principal: [User], resource: [Platform], context: RequestContext };
  action Write appliesTo { principal: [User], resource: [Platform], context: RequestContext };
}`,
      policies: {
        'p.cedar': `@id("read-group") permit (principal in MDRP::Role::"reader", action in MDRP::Action::"Read", resource);
@id("data-group") forbid (principal, action in [MDRP::Action::"ReadData"], resource) unless { principal.mfa };
@id("writers") permit (principal in MDRP::Role::"writer", action == MDRP::Action::"Write", resource);
@id("any") permit (principal in MDRP::Role::"admin", action, resource);`,
      },
    };
    const slices = CedarAuthorizer.slices(groups.schema, CedarAuthorizer.policiesById(groups.policies));
    expect([...(slices.get('ReadRaw') ?? [])].sort()).toEqual(['any', 'data-group', 'read-group']);
    expect([...(slices.get('ReadMeta') ?? [])].sort()).toEqual(['any', 'read-group']);
    expect([...(slices.get('Write') ?? [])].sort()).toEqual(['any', 'writers']);
    const s = new CedarAuthorizer(groups, NOW);
    const f = new CedarAuthorizer(groups, NOW, { slicing: false });
    const resource = { type: 'Platform' as const, id: 'mdrp' };
    for (const roles of [['reader'], ['writer'], ['admin'], []]) {
      for (const mfa of [true, false]) {
        for (const action of ['ReadRaw', 'ReadMeta', 'Write']) {
          const request = { actor: { kind: 'user', id: 'u-1', roles, institution: 'x', mfa, scopes: [] } as Actor, action, resource };
          expect(comparable(s.decide(request))).toEqual(comparable(f.decide(request)));
        }
      }
    }
    const raw = (mfa: boolean) => s.decide({ actor: { kind: 'user', id: 'u-1', roles: ['reader'] as never, institution: 'x', mfa, scopes: [] }, action: 'ReadRaw', resource }).effect;
    expect([raw(true), raw(false)]).toEqual(['allow', 'deny']);
  });
});
