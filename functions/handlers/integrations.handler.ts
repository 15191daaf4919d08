import type { AccessRequest } from '../core/access/access-request';
import type { Grant } from '../core/access/grant';
import type { PartnerOperationsService, PartnerAccessRequestInput } from '../core/integrations/partner-operations-service';
import type { RegisterWebhookInput } from '../core/integrations/webhook-service';
import type { WebhookDelivery } from '../core/integrations/webhook-endpoint';
import type { Container } from '../composition/container';
import { makeApiHandler } from '../http/make-api-handler';
import type { OperationContext, OperationMap } from '../http/operation';
import { integrationServices } from '../composition/integration-services';
import { lambdaContainer, lambdaObservability } from './lambda-runtime';

type Ctx<B = unknown, Q = Record<string, unknown>> = OperationContext<Record<string, string>, Q, B>;

/** The public view of a request: the pending step's task token never leaves the service. */
function view(r: AccessRequest) {
  const { pending, ...rest } = r;
  if (!pending) return rest;
  const { taskToken: _token, decision: _decision, ...open } = pending;
  return { ...rest, pending: open };
}

/** The delivery log as the API shows it (the stored body is not repeated). */
function deliveryView(d: WebhookDelivery) {
  return d;
}

const ops = (c: Container): PartnerOperationsService => integrationServices(c).partnerOperations;
const hooks = (c: Container) => integrationServices(c).webhooks;

/** Partner business operations, webhooks, and the admin view of partners' webhooks (R-INT-1). */
export const operations: OperationMap = {
  async submitPartnerAccessRequest({ container, actor, body, audit }: Ctx<PartnerAccessRequestInput>) {
    const r = await ops(container).submit(actor, body);
    // Ids and codes only: the researcher's name and e-mail are on the request, not in the audit trail.
    audit.resources.push({ type: 'AccessRequest', id: r.requestId }, ...r.scope.datasetIds.map((id) => ({ type: 'Dataset', id })));
    audit.parameters.purposeCode = body.purposeCode;
    audit.parameters.requestedDurationDays = body.requestedDurationDays;
    audit.parameters.onBehalfOf = Boolean(body.onBehalfOf.reference) ? 'reference' : 'named';
    return view(r);
  },
  async listPartnerAccessRequests({ container, actor, audit }: Ctx) {
    const items = await ops(container).listRequests(actor);
    audit.count = items.length;
    return { items: items.map(view) };
  },
  async getPartnerAccessRequest({ container, actor, params, audit }: Ctx) {
    audit.resources.push({ type: 'AccessRequest', id: params.requestId! });
    return view(await ops(container).getRequest(actor, params.requestId!));
  },
  async syncPartnerGrants({ container, actor, query, audit }: Ctx<unknown, { status?: Grant['status'] }>) {
    if (query.status) audit.parameters.status = query.status;
    const items = await ops(container).syncGrants(actor, query);
    audit.count = items.length;
    return { items, syncedAt: new Date(container.clock.now()).toISOString() };
  },
  async registerPartnerWebhook({ container, actor, body, audit }: Ctx<RegisterWebhookInput>) {
    const out = await hooks(container).register(actor, actor.id, body);
    audit.resources.push({ type: 'Partner', id: actor.id }, { type: 'WebhookEndpoint', id: out.endpoint.endpointId });
    audit.parameters.eventTypes = out.endpoint.eventTypes.join(' ');
    return out;
  },
  async listPartnerWebhooks({ container, actor, audit }: Ctx) {
    const items = await hooks(container).list(actor.id);
    audit.count = items.length;
    return { items };
  },
  async deletePartnerWebhook({ container, actor, params, audit }: Ctx) {
    audit.resources.push({ type: 'WebhookEndpoint', id: params.endpointId! });
    await hooks(container).remove(actor.id, params.endpointId!);
    return { endpointId: params.endpointId!, deleted: true };
  },
  async listPartnerWebhookDeliveries({ container, actor, params, query, audit }: Ctx<unknown, { limit: number }>) {
    audit.resources.push({ type: 'WebhookEndpoint', id: params.endpointId! });
    const items = await hooks(container).deliveries(actor.id, params.endpointId!, query.limit);
    audit.count = items.length;
    return { items: items.map(deliveryView) };
  },
  async listWebhooksOfPartner({ container, params, audit }: Ctx) {
    audit.resources.push({ type: 'Partner', id: params.partnerId! });
    await container.partners.get(params.partnerId!);
    const items = await hooks(container).list(params.partnerId!);
    audit.count = items.length;
    return { items };
  },
  async registerWebhookForPartner({ container, actor, params, body, audit }: Ctx<RegisterWebhookInput>) {
    await container.partners.get(params.partnerId!);
    const out = await hooks(container).register(actor, params.partnerId!, body);
    audit.resources.push({ type: 'Partner', id: params.partnerId! }, { type: 'WebhookEndpoint', id: out.endpoint.endpointId });
    audit.parameters.eventTypes = out.endpoint.eventTypes.join(' ');
    return out;
  },
  async deleteWebhookOfPartner({ container, params, audit }: Ctx) {
    audit.resources.push({ type: 'Partner', id: params.partnerId! }, { type: 'WebhookEndpoint', id: params.endpointId! });
    await hooks(container).remove(params.partnerId!, params.endpointId!);
    return { endpointId: params.endpointId!, deleted: true };
  },
  async listWebhookDeliveriesOfPartner({ container, params, query, audit }: Ctx<unknown, { limit: number }>) {
    audit.resources.push({ type: 'Partner', id: params.partnerId! }, { type: 'WebhookEndpoint', id: params.endpointId! });
    const items = await hooks(container).deliveries(params.partnerId!, params.endpointId!, query.limit);
    audit.count = items.length;
    return { items: items.map(deliveryView) };
  },
};

export const handler = makeApiHandler('integrations', operations, lambdaContainer, lambdaObservability('integrations'));
