import type { ApplicantResponseInput, DecisionInput, SubmitAccessRequestInput } from '../core/access/access-request-service';
import type { AccessRequest } from '../core/access/access-request';
import { ForbiddenError } from '../core/errors';
import type { Actor } from '../core/identity/actor';
import { makeApiHandler } from '../http/make-api-handler';
import { deidOperations } from './deid-operations';
import type { OperationContext, OperationMap } from '../http/operation';
import { governanceOperations } from './governance.operations';
import { lambdaContainer, lambdaObservability } from './lambda-runtime';
import { previewOperations } from './preview-operations';

type Ctx<B = unknown, Q = Record<string, unknown>> = OperationContext<Record<string, string>, Q, B>;

/** The public view of a request: the pending step's task token never leaves the service. */
function view(r: AccessRequest) {
  const { pending, ...rest } = r;
  if (!pending) return rest;
  const { taskToken: _token, decision: _decision, ...open } = pending;
  return { ...rest, pending: open };
}

/**
 * Names people in request histories: the ID token carries `name` in Cognito; where it does not
 * (cognito-local), the identity directory has it.
 */
async function named(ctx: Ctx<unknown>): Promise<Actor> {
  const { actor, container } = ctx;
  if (actor.displayName || !actor.username) return actor;
  const user = await container.directory.getUser(actor.username).catch(() => undefined);
  return user ? { ...actor, displayName: user.displayName } : actor;
}

/** Access requests, review decisions and grants (R-GOV-2..6); re-identification and leak tracing (R-DEID-3/6). */
export const operations: OperationMap = {
  ...previewOperations,
  ...deidOperations,
  async submitAccessRequest(ctx: Ctx<SubmitAccessRequestInput>) {
    const { container, body, audit } = ctx;
    const r = await container.accessRequests.submit(await named(ctx), body);
    audit.resources.push({ type: 'AccessRequest', id: r.requestId }, ...r.scope.datasetIds.map((id) => ({ type: 'Dataset', id })));
    audit.parameters.purposeCode = body.purposeCode;
    audit.parameters.requestedDurationDays = body.requestedDurationDays;
    return view(r);
  },
  async listAccessRequests({ container, actor, query, audit }: Ctx<unknown, { view: 'mine' | 'queue' | 'all' }>) {
    const items = await container.accessRequests.list(actor, query.view);
    audit.parameters.view = query.view;
    audit.count = items.length;
    return { items: items.map(view) };
  },
  async getAccessRequest({ container, actor, params, audit }: Ctx) {
    audit.resources.push({ type: 'AccessRequest', id: params.requestId! });
    return view(await container.accessRequests.get(actor, params.requestId!));
  },
  async decideAccessRequest(ctx: Ctx<DecisionInput>) {
    const { container, params, body, audit } = ctx;
    audit.resources.push({ type: 'AccessRequest', id: params.requestId! });
    audit.parameters.outcome = body.outcome;
    return view(await container.accessRequests.decide(await named(ctx), params.requestId!, body));
  },
  async respondToAccessRequest(ctx: Ctx<ApplicantResponseInput>) {
    const { container, params, body, audit } = ctx;
    audit.resources.push({ type: 'AccessRequest', id: params.requestId! });
    audit.parameters.amended = Boolean(body.amendments && Object.keys(body.amendments).length);
    return view(await container.accessRequests.respond(await named(ctx), params.requestId!, body));
  },
  async listGrants({ container, actor, query, audit }: Ctx<unknown, { view: 'mine' | 'all'; holderId?: string }>) {
    audit.parameters.view = query.view;
    let items;
    if (query.view === 'all') {
      // R-GOV-6 permission audit: governance roles only.
      if (!actor.roles.some((r) => ['approver', 'security-admin', 'auditor'].includes(r))) throw new ForbiddenError('only governance roles list every grant');
      items = query.holderId ? await container.grants.listForHolder(query.holderId) : await container.grants.listAll();
      if (query.holderId) audit.parameters.holderId = query.holderId;
    } else {
      items = await container.grants.listForHolder(actor.id);
    }
    audit.count = items.length;
    return { items };
  },
  async getGrantRelease({ container, actor, params, audit }: Ctx) {
    audit.resources.push({ type: 'Grant', id: params.grantId! });
    return container.researchAccess.releaseSummary(actor, params.grantId!);
  },
  async searchGrantedPatients({ container, actor, params, query, audit }: Ctx<unknown, { q?: string; limit: number }>) {
    audit.resources.push({ type: 'Grant', id: params.grantId! });
    // The search terms are diagnoses and stages, not identifiers; recorded for the audit trail.
    if (query.q) audit.parameters.q = query.q.slice(0, 100);
    const page = await container.researchAccess.search(actor, params.grantId!, query.q, query.limit);
    audit.count = page.items.length;
    return page;
  },
  async getGrantedPatient({ container, actor, params, audit }: Ctx) {
    audit.resources.push({ type: 'Grant', id: params.grantId! }, { type: 'Patient', id: params.token! });
    const out = await container.researchAccess.patient(actor, params.grantId!, params.token!);
    audit.count = out.records.length;
    audit.parameters.policy = `${out.policy.id}@${out.policy.version}`;
    return out;
  },
  async revokeGrant({ container, actor, params, body, audit }: Ctx<{ reason: string }>) {
    audit.resources.push({ type: 'Grant', id: params.grantId! });
    return container.grants.revoke(actor, params.grantId!, body.reason);
  },
  // Request documents, grant renewal, runtime policy administration (issue 5).
  ...governanceOperations,
};

export const handler = makeApiHandler('access', operations, lambdaContainer, lambdaObservability('access'));
