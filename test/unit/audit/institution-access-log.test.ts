import { describe, expect, it } from 'vitest';
import { MemoryDocumentStore } from '../../../functions/adapters/memory/memory-document-store';
import type { Grant } from '../../../functions/core/access/grant';
import { AuditTrail } from '../../../functions/core/audit/audit-trail';
import { InstitutionAccessLog } from '../../../functions/core/audit/institution-access-log';
import type { Dataset } from '../../../functions/core/catalog/dataset';
import { TestClock } from '../../support/test-container';
import { auditEvent } from './audit-fixtures';

const ds = (datasetId: string, institution: string): Dataset => ({
  datasetId,
  title: datasetId,
  description: '',
  disease: 'C50',
  institution,
  securityLevel: 2,
  modalities: [],
  patientCount: 0,
  recordCount: 0,
  fileCount: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

const grant = (grantId: string, datasetIds: string[]): Grant =>
  ({
    grantId,
    requestId: `AR-${grantId}`,
    holderId: 'researcher-1',
    holderName: 'Dr. Researcher',
    institution: 'demo-hospital-1',
    scope: { datasetIds },
    status: 'active',
    startsAt: '2026-11-01T00:00:00.000Z',
    expiresAt: '2027-02-01T00:00:00.000Z',
  }) as unknown as Grant;

/** Hospital 2 owns `h2`; `h1` is hospital 1's; `pooled` holds patients of both. */
async function rig() {
  const store = new MemoryDocumentStore();
  const trail = new AuditTrail(store, new TestClock());
  const profiles: Record<string, string[]> = { 'pat-h1': ['demo-hospital-1'], 'pat-h2': ['demo-hospital-2'] };
  const log = new InstitutionAccessLog(store, {
    listDatasets: async () => [ds('h1', 'demo-hospital-1'), ds('h2', 'demo-hospital-2'), ds('pooled', 'multi-institution'), ds('h3', 'demo-hospital-3')],
    listGrants: async () => [grant('grt_h1', ['h1']), grant('grt_pooled', ['pooled']), grant('grt_h2', ['h2', 'h1'])],
    patientInstitutions: async (id) => profiles[id],
    datasetInstitutions: async (id) => (id === 'pooled' ? ['demo-hospital-1', 'demo-hospital-2'] : []),
  });
  // Released patients of the pooled grant: one per hospital, under grant-scoped tokens.
  await store.put('main', { pk: 'RELEASE#grt_pooled', sk: 'PT#tok-a', patientId: 'pat-h1', patient: { token: 'tok-a', datasetId: 'pooled' } });
  await store.put('main', { pk: 'RELEASE#grt_pooled', sk: 'PT#tok-b', patientId: 'pat-h2', patient: { token: 'tok-b', datasetId: 'pooled' } });
  const at = (m: number) => `2026-11-24T08:${String(m).padStart(2, '0')}:00.000Z`;
  const events = {
    readH2: auditEvent(at(1), { operation: 'getDataset', resources: [{ type: 'Dataset', id: 'h2' }] }),
    readH1: auditEvent(at(2), { operation: 'getDataset', resources: [{ type: 'Dataset', id: 'h1' }] }),
    requestBoth: auditEvent(at(3), { category: 'permission', operation: 'submitAccessRequest', resources: [{ type: 'AccessRequest', id: 'AR-1' }, { type: 'Dataset', id: 'h1' }, { type: 'Dataset', id: 'h2' }] }),
    searchPooled: auditEvent(at(4), { operation: 'searchGrantedPatients', resources: [{ type: 'Grant', id: 'grt_pooled' }], result: { outcome: 'success', status: 200, count: 2 } }),
    readPatientH1: auditEvent(at(5), { operation: 'getGrantedPatient', resources: [{ type: 'Grant', id: 'grt_pooled' }, { type: 'Patient', id: 'tok-a' }] }),
    readPatientH2: auditEvent(at(6), { operation: 'getGrantedPatient', resources: [{ type: 'Grant', id: 'grt_pooled' }, { type: 'Patient', id: 'tok-b' }] }),
    grantH1Only: auditEvent(at(7), { operation: 'getGrantRelease', resources: [{ type: 'Grant', id: 'grt_h1' }] }),
    deniedH2: auditEvent(at(8), { operation: 'getDataset', resources: [{ type: 'Dataset', id: 'h2' }], result: { outcome: 'denied', status: 403, errorCode: 'FORBIDDEN' } }),
    grantMixed: auditEvent(at(9), { operation: 'getGrantRelease', resources: [{ type: 'Grant', id: 'grt_h2' }] }),
  };
  for (const e of Object.values(events)) await trail.write(e);
  return { log, events };
}

describe('InstitutionAccessLog: who accessed my data', () => {
  it("R-AUD-4: a provider sees the events on its datasets, its grants and its released patients, newest first, and nothing of another institution's", async () => {
    // Prepare
    const { log, events: e } = await rig();
    // Act
    const page = await log.query({ institution: 'demo-hospital-2', limit: 50 });
    // Assess
    expect(page.items.map((i) => i.eventId)).toEqual([e.grantMixed, e.deniedH2, e.readPatientH2, e.searchPooled, e.requestBoth, e.readH2].map((x) => x.eventId));
    const byId = new Map(page.items.map((i) => [i.eventId, i]));
    expect(byId.get(e.readPatientH2.eventId)).toMatchObject({ via: 'patient', grantId: 'grt_pooled', patientToken: 'tok-b', datasetIds: ['pooled'] });
    expect(byId.get(e.requestBoth.eventId)).toMatchObject({ via: 'dataset', requestId: 'AR-1', datasetIds: ['h2'] });
    expect(byId.get(e.deniedH2.eventId)).toMatchObject({ outcome: 'denied', status: 403 });
    // The grant over h2 and h1 shows only h2 to hospital 2.
    expect(byId.get(e.grantMixed.eventId)).toMatchObject({ via: 'grant', datasetIds: ['h2'] });
    expect(JSON.stringify(page)).not.toContain('"h1"');
    expect(JSON.stringify(page)).not.toContain('tok-a');
    expect(page.grants.map((g) => [g.grantId, g.datasetIds])).toEqual([
      ['grt_pooled', ['pooled']],
      ['grt_h2', ['h2']],
    ]);
  });

  it('R-GOV-6: the other hospital sees its own side of the same grants, and an institution with no data sees nothing', async () => {
    // Prepare
    const { log, events: e } = await rig();
    // Act
    const h1 = await log.query({ institution: 'demo-hospital-1', limit: 50 });
    const none = await log.query({ institution: 'demo-hospital-9', limit: 50 });
    // Assess
    expect(h1.items.map((i) => i.eventId)).toEqual([e.grantMixed, e.grantH1Only, e.readPatientH1, e.searchPooled, e.requestBoth, e.readH1].map((x) => x.eventId));
    expect(JSON.stringify(h1)).not.toContain('tok-b');
    expect(none).toEqual({ items: [], grants: [] });
  });

  it('R-AUD-4: pages by cursor without gaps or repeats, and respects the time range', async () => {
    // Prepare
    const { log, events: e } = await rig();
    // Act
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const p = await log.query({ institution: 'demo-hospital-2', limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...p.items.map((i) => i.eventId));
      cursor = p.cursor;
      pages++;
    } while (cursor && pages < 20);
    const ranged = await log.query({ institution: 'demo-hospital-2', limit: 50, from: '2026-11-24T08:03:00.000Z', to: '2026-11-24T08:06:00.000Z' });
    // Assess
    expect(seen).toEqual([e.grantMixed, e.deniedH2, e.readPatientH2, e.searchPooled, e.requestBoth, e.readH2].map((x) => x.eventId));
    expect(ranged.items.map((i) => i.eventId)).toEqual([e.readPatientH2, e.searchPooled, e.requestBoth].map((x) => x.eventId));
    await expect(log.query({ institution: 'demo-hospital-2', limit: 2, cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
