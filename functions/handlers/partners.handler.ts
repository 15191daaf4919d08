import type { OnboardPartnerInput } from '../core/partners/partner-service';
import { makeApiHandler } from '../http/make-api-handler';
import type { OperationContext, OperationMap } from '../http/operation';
import { lambdaContainer, lambdaObservability } from './lambda-runtime';

/** Partner onboarding, API keys (rotation, revocation), suspension (security administrators). */
export const operations: OperationMap = {
  async onboardPartner({ container, actor, body, audit }: OperationContext<Record<string, string>, unknown, OnboardPartnerInput>) {
    const out = await container.partners.onboard(actor, body);
    audit.resources.push({ type: 'Partner', id: out.partner.partnerId }, { type: 'ApiKey', id: out.partner.keys[0]!.keyId }, { type: 'OAuthClient', id: out.oauthClient.clientId });
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
  async rotatePartnerApiKey({ container, params, body, audit }: OperationContext<Record<string, string>, unknown, { gracePeriodSeconds?: number }>) {
    audit.resources.push({ type: 'Partner', id: params.partnerId! });
    const out = await container.partners.rotateKey(params.partnerId!, body.gracePeriodSeconds);
    audit.resources.push({ type: 'ApiKey', id: out.keyId });
    audit.parameters.gracePeriodSeconds = String(body.gracePeriodSeconds ?? 'default');
    return out;
  },
  async setPartnerStatus({ container, params, body, audit }: OperationContext<Record<string, string>, unknown, { status: 'active' | 'suspended' }>) {
    audit.resources.push({ type: 'Partner', id: params.partnerId! });
    audit.parameters.status = body.status;
    return container.partners.setStatus(params.partnerId!, body.status);
  },
};

export const handler = makeApiHandler('partners', operations, lambdaContainer, lambdaObservability('partners'));
