import type { APIGatewayProxyEvent } from 'aws-lambda';
import { vi } from 'vitest';
import { CURRENT_AGREEMENT_VERSION } from '../../../functions/core/access/access-request-service';
import { NotFoundError } from '../../../functions/core/errors';
import type { Actor } from '../../../functions/core/identity/actor';
import type { PartnerAccessRequestInput } from '../../../functions/core/integrations/partner-operations-service';
import type { Partner } from '../../../functions/core/partners/partner-service';
import type { testContainer } from '../../support/test-container';

export const PARTNER_A = 'ptn_000000000a01';
export const PARTNER_B = 'ptn_000000000b02';

/** A partner actor as `actorFromEvent` builds it from the authorizer context. */
export const partnerActor = (id: string, scopes: string[], institution = 'demo-hospital-2'): Actor => ({ kind: 'partner', id, roles: [], institution, mfa: false, scopes });

/**
 * Partner records as the partner registry (partner-edge's PartnerService) returns them. The
 * registry is a dependency of these operations, not their subject, so its `get` is replaced.
 */
export function registerPartners(c: ReturnType<typeof testContainer>, records: Array<Pick<Partner, 'partnerId' | 'institution'> & Partial<Partner>>): void {
  const byId = new Map(records.map((p) => [p.partnerId, { name: p.partnerId, contactEmail: 'it@example.org', allowedCidrs: ['127.0.0.0/8'], scopes: [], plan: 'default', status: 'active', keys: [], createdAt: '2026-01-01T00:00:00Z', createdBy: 'admin', version: 1, ...p } as Partner]));
  vi.spyOn(c.partners, 'get').mockImplementation(async (id: string) => {
    const p = byId.get(id);
    if (!p) throw new NotFoundError('partner', { partnerId: id });
    return p;
  });
}

export async function saveDataset(c: ReturnType<typeof testContainer>, securityLevel: 1 | 2 | 3 | 4 | 5 = 2): Promise<void> {
  await c.catalog.saveDataset({ datasetId: 'bc-nrt-io', title: 't', description: 'd', disease: 'C50', institution: 'demo-hospital-2', securityLevel, modalities: ['clinical', 'imaging'], patientCount: 60, recordCount: 10, fileCount: 1, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
}

export const partnerInput = (over: Partial<PartnerAccessRequestInput> = {}): PartnerAccessRequestInput => ({
  title: 'Immunotherapy response in TNBC',
  purposeCode: 'DUO:0000007',
  purpose: 'Study pathological complete response after neoadjuvant radiotherapy plus immunotherapy',
  academicStatement: 'We will analyse de-identified clinical and imaging data to model pCR predictors; results published in aggregate only.',
  scope: { datasetIds: ['bc-nrt-io'], modalities: ['clinical'], fields: [] },
  requestedDurationDays: 60,
  agreementVersion: CURRENT_AGREEMENT_VERSION,
  agreementAccepted: true,
  onBehalfOf: { name: 'Dr. Li Wei', email: 'li.wei@demo-hospital-2.example', reference: 'HIS-4711' },
  ...over,
});

/** An API Gateway event as the partner edge hands it on: client-credentials claims + partner context. */
export function partnerEvent(method: string, resource: string, partnerId: string, scopes: string[], opts: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown } = {}): APIGatewayProxyEvent {
  return {
    resource,
    path: resource,
    httpMethod: method,
    headers: opts.body !== undefined ? { 'content-type': 'application/json' } : {},
    queryStringParameters: opts.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: opts.params ?? null,
    body: opts.body !== undefined ? JSON.stringify(opts.body) : null,
    isBase64Encoded: false,
    requestContext: {
      requestId: 'r-123456789',
      identity: { sourceIp: '127.0.0.1', userAgent: 'vitest', apiKeyId: 'key_test' },
      authorizer: { claims: { client_id: `client-${partnerId}`, scope: scopes.join(' ') }, partnerId, institution: 'demo-hospital-2' },
    },
  } as unknown as APIGatewayProxyEvent;
}

/** A signed-in user's event (Cognito claims; `sub` defaults to admin-1). */
export function userEvent(method: string, resource: string, groups: string[], opts: { params?: Record<string, string>; body?: unknown; sub?: string } = {}): APIGatewayProxyEvent {
  const sub = opts.sub ?? 'admin-1';
  return {
    resource,
    path: resource,
    httpMethod: method,
    headers: opts.body !== undefined ? { 'content-type': 'application/json' } : {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: opts.params ?? null,
    body: opts.body !== undefined ? JSON.stringify(opts.body) : null,
    isBase64Encoded: false,
    requestContext: {
      requestId: 'r-123456789',
      identity: { sourceIp: '127.0.0.1', userAgent: 'vitest' },
      authorizer: { claims: { sub, 'cognito:username': sub, 'cognito:groups': groups, 'custom:institution': 'demo-hospital-1', name: opts.sub ?? 'Admin', token_use: 'id' } },
    },
  } as unknown as APIGatewayProxyEvent;
}
