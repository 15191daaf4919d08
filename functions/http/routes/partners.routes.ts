import { z } from 'zod';
import { PARTNER_SCOPES } from '../../core/partners/partner-service';
import { PARTNER_EDGE, PARTNER_PLANS } from '../../core/partners/usage-plans';
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
    keys: z.array(
      z.object({
        keyId: z.string(),
        plan: z.string(),
        status: z.enum(['active', 'retiring', 'revoked']).describe('`retiring`: replaced by a rotation, accepted until `graceUntil`'),
        issuedAt: z.string(),
        graceUntil: z.string().optional(),
        revokedAt: z.string().optional(),
      }),
    ),
    oauthClientId: z.string().optional().describe('OAuth 2.0 client (client-credentials flow) of the partner'),
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .meta({ id: 'Partner' });

const OAuthClientSchema = z
  .object({
    clientId: z.string(),
    clientSecret: z.string().describe('Shown once; the partner exchanges id + secret for an access token'),
    tokenEndpoint: z.string().optional().describe('OAuth 2.0 token endpoint (grant_type=client_credentials)'),
  })
  .meta({ id: 'PartnerOAuthClient' });

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
    summary: 'Onboard a partner system: partner record, OAuth 2.0 client (client credentials) and an API key bound to a usage plan (secrets shown once)',
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
          plan: z.enum(PARTNER_PLANS).optional().describe('Usage plan (rate, burst, daily quota); default `default`'),
        })
        .meta({ id: 'OnboardPartner' }),
      maxBodyBytes: 8 * 1024,
    },
    response: z
      .object({
        partner: PartnerSchema,
        apiKey: z.string().describe('Shown once; store it in the partner system'),
        oauthClient: OAuthClientSchema,
      })
      .meta({ id: 'OnboardedPartner' }),
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
  {
    operationId: 'rotatePartnerApiKey',
    method: 'POST',
    path: '/v1/partners/{partnerId}/api-keys',
    module: 'partners',
    auth: 'user',
    action: 'ManagePartners',
    summary: "Rotate a partner's API key: a new key (shown once); the current keys stay valid for a grace period, then are revoked",
    tags: ['partners'],
    auditCategory: 'permission',
    request: {
      params: PartnerParams,
      body: z
        .object({
          gracePeriodSeconds: z
            .number()
            .int()
            .min(0)
            .max(PARTNER_EDGE.maxKeyGraceSeconds)
            .optional()
            .describe(`How long the replaced keys keep working (default ${PARTNER_EDGE.defaultKeyGraceSeconds} s; 0 revokes them at once)`),
        })
        .meta({ id: 'RotatePartnerApiKey' }),
      maxBodyBytes: 1024,
    },
    response: z.object({ partner: PartnerSchema, keyId: z.string(), apiKey: z.string().describe('Shown once') }).meta({ id: 'RotatedPartnerApiKey' }),
    successStatus: 201,
  },
  {
    operationId: 'setPartnerStatus',
    method: 'PUT',
    path: '/v1/partners/{partnerId}/status',
    module: 'partners',
    auth: 'user',
    action: 'ManagePartners',
    summary: 'Suspend a partner (every call refused at the edge) or reactivate it',
    tags: ['partners'],
    auditCategory: 'permission',
    request: { params: PartnerParams, body: z.object({ status: z.enum(['active', 'suspended']) }).meta({ id: 'PartnerStatusChange' }), maxBodyBytes: 1024 },
    response: PartnerSchema,
  },
];
