import { describe, expect, it } from 'vitest';
import { loadPolicyBundle } from '../../../functions/adapters/shared/load-policies';
import { CedarAuthorizer } from '../../../functions/core/authz/cedar-authorizer';
import { anonymousActor, ROLES, type Actor, type Role } from '../../../functions/core/identity/actor';
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
  registerPartnerWebhook: { roles: [], partnerScopes: ['access-requests.read'] },
  listPartnerWebhooks: { roles: [], partnerScopes: ['grants.read'] },
  deletePartnerWebhook: { roles: [], partnerScopes: ['access-requests.read'] },
  listPartnerWebhookDeliveries: { roles: [], partnerScopes: ['access-requests.read'] },
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
        expect(authz.decide({ actor: partner(exp.partnerScopes), action: route.action, resource }).effect).toBe('allow');
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
