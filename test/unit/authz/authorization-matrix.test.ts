import { describe, expect, it } from 'vitest';
import { loadPolicyBundle } from '../../../functions/adapters/shared/load-policies';
import { CedarAuthorizer } from '../../../functions/core/authz/cedar-authorizer';
import { grantResource, type Grant } from '../../../functions/core/access/grant';
import { anonymousActor, ROLES, type Actor, type Role } from '../../../functions/core/identity/actor';
import { PARTNER_SCOPES } from '../../../functions/core/partners/partner-service';
import { PLATFORM_RESOURCE } from '../../../functions/http/route-definition';
import { routes } from '../../../functions/http/routes';

/**
 * The expected route-level decision of every route for every role (R-GOV-7: deny by default).
 * A new route without a row here fails the test, so no route ships without an explicit policy.
 * Fine-grained checks (own request, self-approval, grant holder) are tested in the services.
 */
const ALL: readonly Role[] = ROLES;
const EXPECTED: Record<string, { roles: readonly Role[]; anonymous?: boolean; partnerScopes?: string[] }> = {
  getHealth: { roles: ALL, anonymous: true },
  getOpenApiDocument: { roles: ALL, anonymous: true },
  getMyProfile: { roles: ALL },
  listDatasets: { roles: ALL, partnerScopes: ['catalog.read'] },
  getDataset: { roles: ALL, partnerScopes: ['catalog.read'] },
  createIngestUpload: { roles: ['data-manager', 'data-provider'], partnerScopes: ['ingest.write'] },
  getIngestUpload: { roles: ['data-manager', 'data-provider'], partnerScopes: ['ingest.write'] },
  getIngestJob: { roles: ['data-manager', 'data-provider'], partnerScopes: ['ingest.write'] },
  listIngestJobRecords: { roles: ['data-manager', 'data-provider'], partnerScopes: ['ingest.write'] },
  getRecordLineage: { roles: ['data-manager', 'data-provider'], partnerScopes: ['ingest.write'] },
  listMpiReviews: { roles: ['data-manager'] },
  dismissMpiReview: { roles: ['data-manager'] },
  listPatientMerges: { roles: ['data-manager'] },
  mergePatients: { roles: ['data-manager'] },
  unmergePatients: { roles: ['data-manager'] },
  submitAccessRequest: { roles: ['researcher'], partnerScopes: ['access-requests.write'] },
  listAccessRequests: { roles: ALL },
  getAccessRequest: { roles: ALL },
  decideAccessRequest: { roles: ['ethics-reviewer', 'approver', 'data-owner', 'security-admin'] },
  respondToAccessRequest: { roles: ['researcher'], partnerScopes: ['access-requests.write'] },
  listGrants: { roles: ALL },
  revokeGrant: { roles: ['approver', 'security-admin'] },
  // R-GOV-9: route level; the request-level decision limits documents to the applicant, reviewers and auditors.
  uploadRequestDocument: { roles: ['researcher'] },
  listRequestDocuments: { roles: ALL },
  getRequestDocumentContent: { roles: ALL },
  // R-GOV-5: renewal requests are access requests (the service checks the caller holds the grant).
  requestGrantRenewal: { roles: ['researcher'], partnerScopes: ['access-requests.write'] },
  // R-GOV-7: runtime policy administration.
  getPolicySet: { roles: ['security-admin', 'auditor'] },
  listPolicyVersions: { roles: ['security-admin', 'auditor'] },
  changePolicy: { roles: ['security-admin'] },
  rollbackPolicies: { roles: ['security-admin'] },
  getGrantRelease: { roles: ['researcher'] },
  searchGrantedPatients: { roles: ['researcher'] },
  getGrantedPatient: { roles: ['researcher'] },
  // R-ANA-2: inline previews are research reads through a grant (ReadResearchData).
  previewReleasedFile: { roles: ['researcher'] },
  // R-MPI-4 / R-ANA-2: timeline curation is the data manager's (research side, pseudonymous ids).
  getPatientTimeline: { roles: ['data-manager'] },
  listCuratablePatients: { roles: ['data-manager'] },
  listTimelineEventVersions: { roles: ['data-manager'] },
  addTimelineEvent: { roles: ['data-manager'] },
  editTimelineEvent: { roles: ['data-manager'] },
  annotateTimelineEvent: { roles: ['data-manager'] },
  requestReidentification: { roles: ['researcher'] },
  listReidentificationRequests: { roles: ['researcher', 'ethics-reviewer', 'security-admin'] },
  getReidentificationRequest: { roles: ['researcher', 'ethics-reviewer', 'security-admin'] },
  decideReidentificationRequest: { roles: ['ethics-reviewer', 'security-admin'] },
  viewReidentificationResult: { roles: ['researcher'] },
  traceLeak: { roles: ['security-admin'] },
  queryAuditEvents: { roles: ['auditor', 'security-admin'] },
  verifyAuditChain: { roles: ['auditor', 'security-admin'] },
  listAuditAlerts: { roles: ['auditor', 'security-admin'] },
  listInstitutionDataAccess: { roles: ['data-provider', 'data-owner'] },
  createAuditReport: { roles: ['auditor', 'security-admin'] },
  listAuditReports: { roles: ['auditor', 'security-admin'] },
  downloadAuditReport: { roles: ['auditor', 'security-admin'] },
  onboardPartner: { roles: ['security-admin'] },
  listPartners: { roles: ['security-admin'] },
  revokePartnerApiKey: { roles: ['security-admin'] },
  // R-INT-1 partner operations (partner systems only, by scope) and the admins' view of partners' webhooks.
  submitPartnerAccessRequest: { roles: ['researcher'], partnerScopes: ['access-requests.write'] },
  listPartnerAccessRequests: { roles: [], partnerScopes: ['access-requests.read'] },
  getPartnerAccessRequest: { roles: [], partnerScopes: ['access-requests.read'] },
  syncPartnerGrants: { roles: [], partnerScopes: ['grants.read'] },
  registerPartnerWebhook: { roles: [], partnerScopes: ['access-requests.read', 'grants.read'] },
  listPartnerWebhooks: { roles: [], partnerScopes: ['access-requests.read', 'grants.read'] },
  deletePartnerWebhook: { roles: [], partnerScopes: ['access-requests.read', 'grants.read'] },
  listPartnerWebhookDeliveries: { roles: [], partnerScopes: ['access-requests.read', 'grants.read'] },
  listWebhooksOfPartner: { roles: ['security-admin'] },
  registerWebhookForPartner: { roles: ['security-admin'] },
  deleteWebhookOfPartner: { roles: ['security-admin'] },
  listWebhookDeliveriesOfPartner: { roles: ['security-admin'] },
  rotatePartnerApiKey: { roles: ['security-admin'] },
  setPartnerStatus: { roles: ['security-admin'] },
  getFhirCapabilityStatement: { roles: ALL, anonymous: true },
  searchFhirResources: { roles: ['researcher'], partnerScopes: ['fhir.read'] },
  readFhirResource: { roles: ['researcher'], partnerScopes: ['fhir.read'] },
  startFhirBulkExport: { roles: ['researcher'], partnerScopes: ['fhir.read'] },
  getFhirBulkJobStatus: { roles: ['researcher'], partnerScopes: ['fhir.read'] },
  downloadFhirBulkFile: { roles: ['researcher'], partnerScopes: ['fhir.read'] },
};

const authz = new CedarAuthorizer(loadPolicyBundle('policies'), () => Date.parse('2026-11-24T00:00:00Z'));
const user = (role: Role): Actor => ({ kind: 'user', id: `u-${role}`, roles: [role], institution: 'demo-hospital-1', mfa: true, scopes: [] });
const partner = (scopes: string[]): Actor => ({ kind: 'partner', id: 'p-1', roles: [], institution: 'demo-hospital-2', mfa: false, scopes });

describe('authorization matrix: every route × every role', () => {
  it('R-GOV-7: every route has an explicit expectation', () => {
    const missing = routes.map((r) => r.operationId).filter((id) => !EXPECTED[id]);
    expect(missing).toEqual([]);
  });

  for (const route of routes) {
    const exp = EXPECTED[route.operationId];
    if (!exp) continue;
    const resource = route.resource ? route.resource({ params: {}, query: {} }) : PLATFORM_RESOURCE;
    it(`R-GOV-7: ${route.operationId} (${route.action}) allows exactly [${exp.roles.join(', ')}]`, () => {
      for (const role of ROLES) {
        const d = authz.decide({ actor: user(role), action: route.action, resource });
        expect({ role, effect: d.effect }).toEqual({ role, effect: exp.roles.includes(role) ? 'allow' : 'deny' });
        if (d.effect === 'allow') expect(d.policyIds.length).toBeGreaterThan(0);
      }
      const anon = authz.decide({ actor: anonymousActor(), action: route.action, resource });
      expect(anon.effect).toBe(exp.anonymous ? 'allow' : 'deny');
      const bare = authz.decide({ actor: partner([]), action: route.action, resource });
      expect(bare.effect).toBe(exp.anonymous ? 'allow' : 'deny');
      if (exp.partnerScopes) {
        // `partnerScopes` lists every scope that opens the route: each one alone does, all the others together do not.
        for (const scope of exp.partnerScopes) expect({ scope, effect: authz.decide({ actor: partner([scope]), action: route.action, resource }).effect }).toEqual({ scope, effect: 'allow' });
        const others = PARTNER_SCOPES.filter((s) => !exp.partnerScopes!.includes(s));
        expect(authz.decide({ actor: partner(others), action: route.action, resource }).effect).toBe(exp.anonymous ? 'allow' : 'deny');
      } else {
        // A partner holding every scope is still refused a route not listed for partners.
        expect(authz.decide({ actor: partner([...PARTNER_SCOPES]), action: route.action, resource }).effect).toBe(exp.anonymous ? 'allow' : 'deny');
      }
    });
  }

  it('R-GOV-7: a user with no role is denied everything but public and own-profile operations', () => {
    const nobody: Actor = { kind: 'user', id: 'u-0', roles: [], mfa: false, scopes: [] };
    const allowed = routes.filter((r) => authz.decide({ actor: nobody, action: r.action, resource: PLATFORM_RESOURCE }).effect === 'allow').map((r) => r.operationId);
    expect(allowed.sort()).toEqual(['getAccessRequest', 'getDataset', 'getFhirCapabilityStatement', 'getHealth', 'getMyProfile', 'getOpenApiDocument', 'listAccessRequests', 'listDatasets', 'listGrants', 'listRequestDocuments', 'getRequestDocumentContent'].sort());
  });
});

describe('fine-grained policies', () => {
  const request = (applicant: string) => ({ type: 'AccessRequest' as const, id: 'AR-2026-000001', attributes: { applicant: `user:${applicant}`, institution: 'demo-hospital-1' } });

  it('R-GOV-3: nobody decides on their own request, whatever their roles', () => {
    const both: Actor = { kind: 'user', id: 'u-x', roles: ['researcher', 'approver', 'ethics-reviewer'], mfa: true, scopes: [] };
    const own = authz.decide({ actor: both, action: 'DecideAccessRequest', resource: request('u-x') });
    expect(own).toMatchObject({ effect: 'deny', policyIds: ['no-self-approval'] });
    expect(authz.decide({ actor: both, action: 'DecideAccessRequest', resource: request('u-other') }).effect).toBe('allow');
  });

  it('R-GOV-2: applicants read their own requests and not others', () => {
    const r = user('researcher');
    expect(authz.decide({ actor: r, action: 'ReadAccessRequest', resource: request(r.id) }).effect).toBe('allow');
    expect(authz.decide({ actor: r, action: 'ReadAccessRequest', resource: request('someone-else') }).effect).toBe('deny');
    expect(authz.decide({ actor: user('auditor'), action: 'ReadAccessRequest', resource: request('someone-else') }).effect).toBe('allow');
  });

  it('R-GOV-6: a grant is readable by its holder and governance roles only', () => {
    const grant = (holder: string) => ({ type: 'Grant' as const, id: 'grt_1', attributes: { holder: `user:${holder}`, institution: 'demo-hospital-1' } });
    const r = user('researcher');
    expect(authz.decide({ actor: r, action: 'ReadGrant', resource: grant(r.id) }).effect).toBe('allow');
    expect(authz.decide({ actor: r, action: 'ReadGrant', resource: grant('other') }).effect).toBe('deny');
    expect(authz.decide({ actor: user('auditor'), action: 'ReadGrant', resource: grant('other') }).effect).toBe('allow');
  });

  describe('R-INT-1/R-DEID-1: partner systems read research data only through grants they hold', () => {
    const grant = (over: Partial<Grant>): Grant => ({ grantId: 'grt_1', requestId: 'AR-2026-000001', holderId: 'p-1', holderName: 'Dr. Zhou', holderKind: 'partner', institution: 'demo-hospital-2', scope: { datasetIds: ['bc-nrt-io'], modalities: [], fields: [] }, purposeCode: 'DUO:0000007', dataLevel: 3, agreementVersion: 'DSA-2026.1', startsAt: '2026-11-01T00:00:00Z', expiresAt: '2026-12-01T00:00:00Z', status: 'active', issuedAt: '2026-11-01T00:00:00Z', approvals: [], remindersSent: [], version: 1, ...over });
    const read = (actor: Actor, g: Grant, dataLevel: number | null = g.dataLevel) => authz.decide({ actor, action: 'ReadResearchData', resource: grantResource(g), context: dataLevel === null ? {} : { dataLevel } });
    const fhir = partner(['fhir.read']);

    it('allows its own grant with fhir.read at levels 1-3, by the partner permit', () => {
      for (const dataLevel of [1, 2, 3]) expect(read(fhir, grant({ dataLevel }))).toMatchObject({ effect: 'allow', policyIds: ['partners-read-data-of-own-grants-with-scope'] });
    });

    it('denies without fhir.read, on another partner\'s grant, on a person\'s grant, across institutions', () => {
      expect(read(partner(PARTNER_SCOPES.filter((s) => s !== 'fhir.read')), grant({})).effect).toBe('deny');
      expect(read(fhir, grant({ holderId: 'p-2' })).effect).toBe('deny');
      // A person's grant whose holder id happens to equal the partner's id is still a person's.
      expect(read(fhir, grant({ holderKind: undefined })).effect).toBe('deny');
      expect(read(fhir, grant({ institution: 'demo-hospital-1' })).effect).toBe('deny');
      // The route-level decision (platform resource) never opens research reads to partners.
      expect(authz.decide({ actor: fhir, action: 'ReadResearchData', resource: PLATFORM_RESOURCE, context: { dataLevel: 1 } }).effect).toBe('deny');
    });

    it('R-SEC-3/R-SEC-6: level 4-5 data (or an unknown level) is never released to a partner system, whatever the grant', () => {
      for (const dataLevel of [4, 5]) expect(read(fhir, grant({ dataLevel }))).toMatchObject({ effect: 'deny', policyIds: ['sensitive-data-never-to-partner-systems'] });
      expect(read(fhir, grant({}), null)).toMatchObject({ effect: 'deny', policyIds: ['sensitive-data-never-to-partner-systems'] });
    });

    it('a person\'s grant still needs MFA at level 4-5; a partner-held grant is not readable by the named researcher', () => {
      const r = user('researcher');
      expect(read(r, grant({ holderId: r.id, holderKind: undefined, dataLevel: 4 })).effect).toBe('allow');
      expect(read({ ...r, mfa: false }, grant({ holderId: r.id, holderKind: undefined, dataLevel: 4 }))).toMatchObject({ effect: 'deny', policyIds: ['mfa-required-for-sensitive-data'] });
      // Grant-holder checks for people live in the service (holderId === caller); ReadGrant is the holder's only.
      expect(authz.decide({ actor: r, action: 'ReadGrant', resource: grantResource(grant({})) }).effect).toBe('deny');
    });
  });

  it('R-DEID-3: nobody approves their own re-identification request, whatever their roles', () => {
    const rid = (requester: string) => ({ type: 'ReidentificationRequest' as const, id: 'rid_000000000001', attributes: { requester: `user:${requester}`, grantId: 'grt_000000000001' } });
    const both: Actor = { kind: 'user', id: 'u-x', roles: ['researcher', 'ethics-reviewer', 'security-admin'], mfa: true, scopes: [] };
    expect(authz.decide({ actor: both, action: 'DecideReidentification', resource: rid('u-x') })).toMatchObject({ effect: 'deny', policyIds: ['no-self-approval-of-reidentification'] });
    expect(authz.decide({ actor: both, action: 'DecideReidentification', resource: rid('u-other') }).effect).toBe('allow');
    expect(authz.decide({ actor: user('approver'), action: 'DecideReidentification', resource: rid('u-other') }).effect).toBe('deny');
  });

  it('R-GOV-7: a malformed request (unknown action) is a denial, not an error', () => {
    const d = authz.decide({ actor: user('security-admin'), action: 'DropEverything', resource: PLATFORM_RESOURCE });
    expect(d.effect).toBe('deny');
    expect(d.errors.length).toBeGreaterThan(0);
  });
});
