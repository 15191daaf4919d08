import type { OnboardPartnerInput } from '../core/partners/partner-service';
import { makeApiHandler } from '../http/make-api-handler';
import type { OperationContext, OperationMap } from '../http/operation';
import { lambdaContainer, lambdaObservability } from './lambda-runtime';

/** Partner onboarding and API keys (security administrators). */
export const operations: OperationMap = {
  async onboardPartner({ container, actor, body, audit }: OperationContext<Record<string, string>, unknown, OnboardPartnerInput>) {
    const out = await container.partners.onboard(actor, body);
    audit.resources.push({ type: 'Partner', id: out.partner.partnerId }, { type: 'ApiKey', id: out.partner.keys[0]!.keyId });
    audit.parameters.scopes = body.scopes.join(' ');
    audit.parameters.institution = body.institution;
    return out;
  },
  async listPartners({ container, audit }) {
    const items = await container.partners.list();
    audit.count = items.length;
    return { items };
  },
  async revokePartnerApiKey({ container, params, audit }) {
    audit.resources.push({ type: 'Partner', id: params.partnerId }, { type: 'ApiKey', id: params.keyId });
    return container.partners.revokeKey(params.partnerId, params.keyId);
  },
};

export const handler = makeApiHandler('partners', operations, lambdaContainer, lambdaObservability('partners'));
