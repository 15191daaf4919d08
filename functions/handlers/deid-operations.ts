import type { Container } from '../composition/container';
import { LeakTracer, type LeakFormat } from '../core/reidentification/leak-tracer';
import { ReidentificationService, type ReidentificationDecisionInput, type ReidentificationRequestInput } from '../core/reidentification/reidentification-service';
import type { Actor } from '../core/identity/actor';
import type { OperationContext, OperationMap } from '../http/operation';

type Ctx<B = unknown, Q = Record<string, unknown>> = OperationContext<Record<string, string>, Q, B>;

/** The re-identification service over the container's adapters (stateless, cheap to build). */
export function reidentificationOf(c: Container): ReidentificationService {
  return new ReidentificationService(c.documents, c.grants, c.patientIndex, c.notifier, c.authorizer, c.clock, c.ids);
}

/** The leak tracer over the container's adapters. */
export function leakTracerOf(c: Container): LeakTracer {
  return new LeakTracer(c.documents, c.grants, c.keys);
}

/** Names people in decisions when the token carries no name (cognito-local). */
async function named(ctx: Ctx<unknown, unknown>): Promise<Actor> {
  const { actor, container } = ctx;
  if (actor.displayName || !actor.username) return actor;
  const user = await container.directory.getUser(actor.username).catch(() => undefined);
  return user ? { ...actor, displayName: user.displayName } : actor;
}

/**
 * Controlled re-identification (R-DEID-3) and leak tracing (R-DEID-6), served by the access
 * handler. Audit notes carry request, grant and pseudonym ids only: never the revealed
 * institution record number, never the traced file's content.
 */
export const deidOperations: OperationMap = {
  async requestReidentification(ctx: Ctx<ReidentificationRequestInput>) {
    const { container, body, audit } = ctx;
    const r = await reidentificationOf(container).request(await named(ctx), body);
    audit.resources.push({ type: 'ReidentificationRequest', id: r.requestId }, { type: 'Grant', id: body.grantId }, { type: 'Patient', id: body.token });
    audit.parameters.reason = body.reason;
    return r;
  },
  async listReidentificationRequests({ container, actor, query, audit }: Ctx<unknown, { view: 'mine' | 'queue' }>) {
    const items = await reidentificationOf(container).list(actor, query.view);
    audit.parameters.view = query.view;
    audit.count = items.length;
    return { items };
  },
  async getReidentificationRequest({ container, actor, params, audit }: Ctx) {
    audit.resources.push({ type: 'ReidentificationRequest', id: params.requestId! });
    return reidentificationOf(container).get(actor, params.requestId!);
  },
  async decideReidentificationRequest(ctx: Ctx<ReidentificationDecisionInput>) {
    const { container, params, body, audit } = ctx;
    audit.resources.push({ type: 'ReidentificationRequest', id: params.requestId! });
    audit.parameters.outcome = body.outcome;
    const r = await reidentificationOf(container).decide(await named(ctx), params.requestId!, body);
    audit.resources.push({ type: 'Grant', id: r.grantId }, { type: 'Patient', id: r.token });
    audit.parameters.status = r.status;
    return r;
  },
  async viewReidentificationResult({ container, actor, params, audit }: Ctx) {
    audit.resources.push({ type: 'ReidentificationRequest', id: params.requestId! });
    const out = await reidentificationOf(container).reveal(actor, params.requestId!);
    audit.resources.push({ type: 'Grant', id: out.grantId }, { type: 'Patient', id: out.token });
    audit.count = out.sources.length;
    return out;
  },
  async traceLeak({ container, body, audit }: Ctx<{ content?: string; contentBase64?: string; format?: LeakFormat }>) {
    // The schema admits exactly one of the two; the file itself is never audited, only its size.
    const content = body.contentBase64 !== undefined ? new Uint8Array(Buffer.from(body.contentBase64, 'base64')) : body.content!;
    audit.parameters.bytes = typeof content === 'string' ? Buffer.byteLength(content, 'utf8') : content.byteLength;
    if (body.format) audit.parameters.format = body.format;
    const out = await leakTracerOf(container).trace(content, body.format ? { format: body.format } : {});
    audit.parameters.traced = out.traced;
    audit.parameters.confidence = Math.round(out.confidence * 1e6) / 1e6;
    if (out.grantId) audit.resources.push({ type: 'Grant', id: out.grantId });
    audit.count = out.records;
    return out;
  },
};
