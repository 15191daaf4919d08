import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Actor } from '../identity/actor';
import type { AuthzDecision, AuthzRequest, Authorizer, AuthzResource } from './authorizer';

/** Policy sources: the schema text and the policy files' texts (loaded by the composition root). */
export interface PolicyBundle {
  schema: string;
  /** File name → Cedar policy text. Every policy must carry an `@id("...")` annotation. */
  policies: Record<string, string>;
  /** Version label recorded with decisions (e.g. a content hash), so a decision is traceable. */
  version: string;
}

const NS = 'MDRP';

/** `CedarAuthorizer.slices` by schema and policies. */
const sliceMemo = new Map<string, ReadonlyMap<string, readonly string[]>>();

/**
 * The Cedar implementation of the authorization port (R-GOV-7).
 *
 * Policies and schema are parsed and validated once (`preparsePolicySet`), then each decision is a
 * `statefulIsAuthorized` call with a handful of entities: the principal with its role parents and
 * the resource with its attributes (ARCHITECTURE D3). Policy ids come from `@id` annotations so
 * audit events can name the policies that decided.
 *
 * Policy slicing (Cedar's recommended technique for large policy sets): besides the full set, one
 * set per action of the schema is preparsed, holding only the policies whose action scope can
 * match that action (`action`, `action == A`, `action in [.., A, ..]` or a group A belongs to).
 * A policy whose action scope does not match a request is never satisfied and never evaluated, so
 * a slice gives exactly the full set's decision, reasons and errors, while a decision evaluates a
 * handful of policies instead of all of them (`npm run bench:authz`). A request for an action the
 * schema does not declare uses the full set (and is denied by request validation).
 *
 * @example
 * const authz = new CedarAuthorizer(bundle, clock);
 * authz.decide({ actor, action: 'ReadCatalog', resource: { type: 'Platform', id: 'mdrp' } });
 */
export class CedarAuthorizer implements Authorizer {
  readonly version: string;
  private readonly setId: string;
  private readonly schemaName: string;
  /** Action id → id of its preparsed slice (see the class comment). */
  private readonly sliceIds = new Map<string, string>();

  /** `slicing: false` decides every request with the full set (the reference the slicing test and the bench compare with). */
  constructor(bundle: PolicyBundle, private readonly now: () => number, options: { slicing?: boolean } = {}) {
    this.version = bundle.version;
    this.setId = `mdrp-${bundle.version}${options.slicing === false ? '-full' : ''}`;
    this.schemaName = `mdrp-schema-${bundle.version}`;
    const policies = CedarAuthorizer.policiesById(bundle.policies);
    const validation = cedar.validate({ schema: bundle.schema, policies: { staticPolicies: policies } });
    if (validation.type !== 'success') throw new Error(`Cedar validation failed: ${JSON.stringify(validation.errors)}`);
    if (validation.validationErrors.length > 0) {
      throw new Error(`Cedar policies do not match the schema: ${validation.validationErrors.map((e) => `${e.policyId}: ${e.error.message}`).join('; ')}`);
    }
    const parsedSchema = cedar.preparseSchema(this.schemaName, bundle.schema);
    if (parsedSchema.type !== 'success') throw new Error(`Cedar schema: ${JSON.stringify(parsedSchema.errors)}`);
    const parsed = cedar.preparsePolicySet(this.setId, { staticPolicies: policies });
    if (parsed.type !== 'success') throw new Error(`Cedar policies: ${JSON.stringify(parsed.errors)}`);
    if (options.slicing === false) return;
    for (const [action, ids] of CedarAuthorizer.slices(bundle.schema, policies)) {
      const sliceId = `${this.setId}#${action}`;
      const slice = cedar.preparsePolicySet(sliceId, { staticPolicies: Object.fromEntries(ids.map((id) => [id, policies[id]!])) });
      if (slice.type !== 'success') throw new Error(`Cedar policies (slice ${action}): ${JSON.stringify(slice.errors)}`);
      this.sliceIds.set(action, sliceId);
    }
  }

  /**
   * For every action the schema declares, the ids of the policies whose action scope can match it.
   * Anything this cannot read exactly (a slot, an entity of another type) puts the policy in every
   * slice: including a policy that cannot match never changes a decision, leaving one out would.
   */
  static slices(schema: string, policies: Record<string, string>): ReadonlyMap<string, readonly string[]> {
    // Worked out once per policy set and process: every container of a test run builds an
    // authorizer, and Node 20's V8 has crashed ("unreachable code" in a lazy deoptimization)
    // re-optimizing this function after some forty such runs in one process.
    const key = `${schema}\u0000${JSON.stringify(policies)}`;
    let slices = sliceMemo.get(key);
    if (!slices) {
      if (sliceMemo.size >= 8) sliceMemo.delete(sliceMemo.keys().next().value!);
      sliceMemo.set(key, (slices = CedarAuthorizer.computeSlices(schema, policies)));
    }
    return slices;
  }

  private static computeSlices(schema: string, policies: Record<string, string>): Map<string, string[]> {
    const json = cedar.schemaToJson(schema);
    if (json.type !== 'success') throw new Error(`Cedar schema: ${JSON.stringify(json.errors)}`);
    const actions = json.json[NS]?.actions ?? {};
    const isOwnAction = (type: string | undefined) => type === undefined || type === 'Action' || type === `${NS}::Action`;
    // Each action with the groups it belongs to, transitively (`action in G` matches members of G).
    const ancestors = new Map<string, Set<string>>();
    const collect = (id: string, into: Set<string>) => {
      if (into.has(id)) return;
      into.add(id);
      for (const parent of actions[id]?.memberOf ?? []) {
        if (isOwnAction(parent.type)) collect(parent.id, into);
      }
    };
    for (const id of Object.keys(actions)) {
      const set = new Set<string>();
      collect(id, set);
      ancestors.set(id, set);
    }
    const out = new Map<string, string[]>([...ancestors.keys()].map((a) => [a, []]));
    for (const [policyId, text] of Object.entries(policies)) {
      const parsed = cedar.policyToJson(text);
      if (parsed.type !== 'success') throw new Error(`${policyId}: ${parsed.errors.map((e) => e.message).join('; ')}`);
      const scope = parsed.json.action;
      let named: string[] | undefined; // the action uids the scope names; undefined = matches any action
      if (scope.op === 'in' || scope.op === '==') {
        const uids = 'entities' in scope ? scope.entities : 'entity' in scope ? [scope.entity] : undefined;
        const plain = uids?.map((u) => ('__entity' in u ? u.__entity : u));
        named = plain?.every((u) => u.type === `${NS}::Action`) ? plain.map((u) => u.id) : undefined;
      }
      for (const [action, ids] of out) {
        if (!named || named.some((n) => (scope.op === '==' ? n === action : ancestors.get(action)!.has(n)))) ids.push(policyId);
      }
    }
    return out;
  }

  /** Splits policy files into single policies keyed by their `@id` annotation (required, unique). */
  static policiesById(files: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [file, text] of Object.entries(files)) {
      const parts = cedar.policySetTextToParts(text);
      if (parts.type !== 'success') throw new Error(`${file}: ${parts.errors.map((e) => e.message).join('; ')}`);
      for (const policy of parts.policies) {
        const id = /@id\("([^"]+)"\)/.exec(policy)?.[1];
        if (!id) throw new Error(`${file}: every policy needs an @id("...") annotation`);
        if (out[id]) throw new Error(`${file}: duplicate policy id ${id}`);
        out[id] = policy;
      }
    }
    return out;
  }

  decide(request: AuthzRequest): AuthzDecision {
    const principal = principalOf(request.actor);
    const resource = { type: `${NS}::${request.resource.type === 'Partner' ? 'PartnerAccount' : request.resource.type}`, id: request.resource.id };
    const entities: cedar.EntityJson[] = [...principal.entities, resourceEntity(resource, request.resource)];
    const answer = cedar.statefulIsAuthorized({
      principal: principal.uid,
      action: { type: `${NS}::Action`, id: request.action },
      resource,
      context: { now: Math.floor(this.now() / 1000), ...(request.context ?? {}) },
      preparsedPolicySetId: this.sliceIds.get(request.action) ?? this.setId,
      preparsedSchemaName: this.schemaName,
      validateRequest: true,
      entities,
    });
    if (answer.type !== 'success') {
      // A malformed request is a denial, never an error that could be mistaken for permission.
      return { effect: 'deny', policyIds: [], errors: answer.errors.map((e) => e.message) };
    }
    return {
      effect: answer.response.decision,
      policyIds: answer.response.diagnostics.reason,
      errors: answer.response.diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`),
    };
  }
}

function principalOf(actor: Actor): { uid: cedar.TypeAndId; entities: cedar.EntityJson[] } {
  if (actor.kind === 'user') {
    const uid = { type: `${NS}::User`, id: actor.id };
    return {
      uid,
      entities: [
        {
          uid,
          attrs: { institution: actor.institution ?? '', mfa: actor.mfa },
          parents: actor.roles.map((r) => ({ type: `${NS}::Role`, id: r })),
        },
        ...actor.roles.map((r) => ({ uid: { type: `${NS}::Role`, id: r }, attrs: {}, parents: [] })),
      ],
    };
  }
  if (actor.kind === 'partner') {
    const uid = { type: `${NS}::Partner`, id: actor.id };
    return { uid, entities: [{ uid, attrs: { institution: actor.institution ?? '', scopes: actor.scopes }, parents: [] }] };
  }
  // System actions are not API calls; anonymous callers only reach public operations.
  const uid = { type: `${NS}::Anonymous`, id: actor.id };
  return { uid, entities: [{ uid, attrs: {}, parents: [] }] };
}

/** Values that reference users (`user:<id>`), partner systems (`partner:<id>`) or roles (`role:<name>`) become entity references. */
function attributeValue(v: string | number | boolean): cedar.CedarValueJson {
  if (typeof v !== 'string') return v;
  for (const [prefix, type] of [['user:', 'User'], ['partner:', 'Partner'], ['role:', 'Role']] as const) {
    if (v.startsWith(prefix)) return { __entity: { type: `${NS}::${type}`, id: v.slice(prefix.length) } };
  }
  return v;
}

function resourceEntity(uid: cedar.TypeAndId, resource: AuthzResource): cedar.EntityJson {
  const attrs: Record<string, cedar.CedarValueJson> = {};
  for (const [k, v] of Object.entries(resource.attributes ?? {})) attrs[k] = Array.isArray(v) ? v.map(attributeValue) : attributeValue(v);
  const parents = uid.type === `${NS}::Platform` ? [] : [{ type: `${NS}::Platform`, id: 'mdrp' }];
  return { uid, attrs, parents };
}
