import { z } from 'zod';
import { PARTNER_SCOPES } from '../../core/partners/partner-service';
import type { RouteDefinition } from '../route-definition';

const Cidr = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/(\d|[12]\d|3[0-2])$/, 'an IPv4 CIDR, e.g. 203.0.113.0/24');

export const PartnerSchema = z
  .object({
    partnerId: z.string(),
    name: z.string(),
    institution: z.string(),
    contactEmail: z.string(),
    allowedCidrs: z.array(z.string()),
    scopes: z.array(z.enum(PARTNER_SCOPES)),
    plan: z.string(),
    status: z.enum(['active', 'suspended']),
    keys: z.array(z.object({ keyId: z.string(), plan: z.string(), status: z.enum(['active', 'revoked']), issuedAt: z.string(), revokedAt: z.string().optional() })),
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .meta({ id: 'Partner' });

const PartnerParams = z.object({ partnerId: z.string().regex(/^ptn_[A-Za-z0-9]{10,40}$/) });

/** Partner onboarding and API keys (R-INT-1, R-SEC-7): security administrators only. */
export const partnerRoutes: RouteDefinition[] = [
  {
    operationId: 'onboardPartner',
    method: 'POST',
    path: '/v1/partners',
    module: 'partners',
    auth: 'user',
    action: 'ManagePartners',
    summary: 'Onboard a partner system: partner record and an API key bound to a usage plan (the key value is shown once)',
    tags: ['partners'],
    auditCategory: 'permission',
    request: {
      body: z
        .object({
          name: z.string().trim().min(2).max(200),
          institution: z.string().trim().min(2).max(100),
          contactEmail: z.email(),
          allowedCidrs: z.array(Cidr).min(1).max(20),
          scopes: z.array(z.enum(PARTNER_SCOPES)).min(1),
          plan: z.string().max(32).optional(),
        })
        .meta({ id: 'OnboardPartner' }),
      maxBodyBytes: 8 * 1024,
    },
    response: z.object({ partner: PartnerSchema, apiKey: z.string().describe('Shown once; store it in the partner system') }).meta({ id: 'OnboardedPartner' }),
    successStatus: 201,
  },
  {
    operationId: 'listPartners',
    method: 'GET',
    path: '/v1/partners',
    module: 'partners',
    auth: 'user',
    action: 'ManagePartners',
    summary: 'Every onboarded partner with its keys (ids and status only)',
    tags: ['partners'],
    auditCategory: 'permission',
    response: z.object({ items: z.array(PartnerSchema) }).meta({ id: 'PartnerList' }),
  },
  {
    operationId: 'revokePartnerApiKey',
    method: 'POST',
    path: '/v1/partners/{partnerId}/api-keys/{keyId}/revocation',
    module: 'partners',
    auth: 'user',
    action: 'ManagePartners',
    summary: "Revoke one of a partner's API keys",
    tags: ['partners'],
    auditCategory: 'permission',
    request: { params: PartnerParams.extend({ keyId: z.string().regex(/^[A-Za-z0-9_]{4,64}$/) }) },
    response: PartnerSchema,
  },
];
