import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { getPolicy } from '../../../functions/core/deid/deid-policy';
import { deidentifyResource } from '../../../functions/core/deid/deidentify-resource';
import { deidentifyTable } from '../../../functions/core/deid/deidentify-table';
import { writeCsvRows } from '../../../functions/core/deid/table-csv';
import { DEID_WATERMARK_TAG_SYSTEM, GrantWatermark, keyedPermutation } from '../../../functions/core/deid/watermark';
import type { Actor } from '../../../functions/core/identity/actor';
import { leakTracerOf } from '../../../functions/handlers/deid-operations';
import { operations as accessOps } from '../../../functions/handlers/access.handler';
import { makeApiHandler } from '../../../functions/http/make-api-handler';
import { generateDemoCohort } from '../../../infra/local/demo/generate-demo-cohort';
import type { DemoCohort } from '../../../infra/local/demo/demo-model';
import { issueGrantFor, testContainer } from '../../support/test-container';
import { userEvent } from '../integrations/integration-fixtures';
import type { Resource } from '@medplum/fhirtypes';

const researcher = (id: string): Actor => ({ kind: 'user', id, displayName: id, roles: ['researcher'], institution: 'demo-hospital-1', mfa: true, scopes: [] });
const alice = researcher('alice');
const bob = researcher('bob');

describe('watermark and leak tracing (R-DEID-6)', () => {
  let cohort: DemoCohort;
  let c: ReturnType<typeof testContainer>;
  let grantA: string;
  let grantB: string;
  let leakA: Resource[];
  let leakB: Resource[];

  const grantFor = (who: Actor) => issueGrantFor(c, who, { datasetIds: ['bc-nrt-io'], modalities: ['clinical', 'labs'] }, 'pCR predictors');

  async function released(who: Actor, grantId: string, patients: number): Promise<Resource[]> {
    const page = await c.researchAccess.search(who, grantId, undefined, patients);
    const out: Resource[] = [];
    for (const p of page.items) out.push(...(await c.researchAccess.patient(who, grantId, p.token)).records);
    return out;
  }

  beforeAll(async () => {
    cohort = generateDemoCohort({ patients: 8 });
    c = testContainer();
    await c.catalog.saveDataset({ datasetId: 'bc-nrt-io', title: 't', description: 'd', disease: 'C50', institution: 'multi', securityLevel: 3, modalities: ['clinical', 'labs'], patientCount: 0, recordCount: 0, fileCount: 0, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
    for (const p of cohort.patients) {
      const bytes = new TextEncoder().encode(p.fhir.map((r) => JSON.stringify(r)).join('\n'));
      await c.ingest.ingest({ datasetId: 'bc-nrt-io', institution: p.institutionId, sourceSystem: 'EMR', fileName: 'x.ndjson', contentType: 'application/fhir+ndjson', bytes, operator: 'dm' });
    }
    grantA = await grantFor(alice);
    grantB = await grantFor(bob);
    leakA = await released(alice, grantA, 2);
    leakB = await released(bob, grantB, 2);
  }, 180_000);

  it('R-DEID-6: every level-3 record carries its grant\'s keyed watermark tag, different per grant', async () => {
    const codeA = await new GrantWatermark(c.keys, grantA).code();
    const codeB = await new GrantWatermark(c.keys, grantB).code();
    expect(codeA).toMatch(/^[0-9a-f]{16}$/);
    expect(codeA).not.toBe(codeB);
    expect(leakA.length).toBeGreaterThan(5);
    for (const r of leakA) expect(r.meta?.tag).toContainEqual({ system: DEID_WATERMARK_TAG_SYSTEM, code: codeA });
    for (const r of leakB) expect(r.meta?.tag).toContainEqual({ system: DEID_WATERMARK_TAG_SYSTEM, code: codeB });
  });

  it('R-DEID-6: the key-order fingerprint changes order only, never content (same resource, both grants)', async () => {
    const wa = new GrantWatermark(c.keys, grantA);
    const wb = new GrantWatermark(c.keys, grantB);
    const names = ['status', 'code', 'subject', 'effectiveDateTime', 'valueQuantity', 'category', 'encounter'];
    const oa = await wa.order('Observation', names);
    const ob = await wb.order('Observation', names);
    expect([...oa].sort()).toEqual([...names].sort());
    expect(oa).not.toEqual(ob);
    // Deterministic, whatever order the names come in.
    expect(await new GrantWatermark(c.keys, grantA).order('Observation', [...names].reverse())).toEqual(oa);
    const rec = { resourceType: 'Observation', id: 'x', meta: {}, status: 'final', code: { text: 'a' }, subject: { reference: 'Patient/p' }, effectiveDateTime: '2024-01-01', valueQuantity: { value: 1 }, category: [], encounter: { reference: 'Encounter/e' } };
    const re = await wa.reorder('Observation', rec);
    expect(Object.keys(re).slice(0, 3)).toEqual(['resourceType', 'id', 'meta']);
    expect(re).toEqual(rec);
    expect(keyedPermutation([1, 2, 3], new Uint8Array(6))).toHaveLength(3);
  });

  it('R-DEID-6: a leaked NDJSON excerpt of grant A is traced to grant A and its holder, with a confidence figure', async () => {
    const excerpt = leakA.slice(0, 6).map((r) => JSON.stringify(r)).join('\n');
    const t = await leakTracerOf(c).trace(excerpt);
    expect(t).toMatchObject({ traced: true, format: 'fhir-ndjson', grantId: grantA, holderId: 'alice', records: 6, grantsConsidered: 2 });
    expect(t.confidence).toBeGreaterThan(0.999999);
    expect(t.candidates[0]).toMatchObject({ grantId: grantA, watermarkTags: 6 });
    expect(t.candidates[0]!.pseudonymsMatched).toBeGreaterThan(0);
    expect(t.candidates.find((x) => x.grantId === grantB)?.evidenceBits ?? 0).toBeLessThan(20);
    const tb = await leakTracerOf(c).trace(JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: leakB.slice(0, 4).map((resource) => ({ resource })) }));
    expect(tb).toMatchObject({ traced: true, format: 'fhir-json', grantId: grantB, holderId: 'bob' });
  });

  it('R-DEID-6: the trace survives removing meta and replacing every pseudonym (key order alone)', async () => {
    const stripped = leakA.slice(0, 8).map((r) => {
      const { meta: _meta, ...rest } = r as Resource & Record<string, unknown>;
      return JSON.stringify(rest).replace(/[0-9a-f]{32}/g, (m) => [...m].reverse().join(''));
    });
    // A broken first line, as an excerpt cut mid-record would have.
    const t = await leakTracerOf(c).trace(`"status":"final"}\n${stripped.join('\n')}`);
    expect(t.traced).toBe(true);
    expect(t.grantId).toBe(grantA);
    expect(t.candidates[0]).toMatchObject({ watermarkTags: 0, pseudonymsMatched: 0 });
    expect(t.candidates[0]!.keyOrderMatched).toBeGreaterThan(3);
  });

  it('R-DEID-6: a file from neither grant is "not traced" (de-identified without a grant watermark; raw source order)', async () => {
    const policy = getPolicy('l3-project');
    const other: string[] = [];
    for (const r of cohort.patients[0]!.fhir.slice(0, 10)) {
      const out = await deidentifyResource(r as Resource, { policy, projectId: 'offline-project', patientToken: 'f'.repeat(32), keys: c.keys });
      other.push(JSON.stringify(out.resource));
    }
    const t = await leakTracerOf(c).trace(other.join('\n'));
    expect(t).toMatchObject({ traced: false, confidence: 0 });
    expect(t.grantId).toBeUndefined();
    const raw = await leakTracerOf(c).trace(cohort.patients[1]!.fhir.map((r) => JSON.stringify(r)).join('\n'));
    expect(raw.traced).toBe(false);
    await expect(leakTracerOf(c).trace('just some words\n')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('R-DEID-6: a CSV excerpt of table rows released under grant B is traced to grant B by its keyed column order', async () => {
    const rows = Array.from({ length: 6 }, (_, i) => ({ mrn: `MRN${i}`, visit_time: `2024-03-0${i + 1} 08:30`, age: String(40 + i), diagnosis: 'C50.9', heart_rate: String(70 + i), complaint: '无', ward: '二病区', score: String(i) }));
    const table = { table: 'visits', patientColumn: 'mrn', columns: [{ column: 'age', action: 'generalize' as const, generalize: 'age-band' as const }] };
    const policy = getPolicy('l3-project');
    const released = await deidentifyTable(rows, { policy, projectId: grantB, keys: c.keys, table, watermark: new GrantWatermark(c.keys, grantB) });
    const excerpt = writeCsvRows(released.columns, released.rows.slice(2, 4));
    const t = await leakTracerOf(c).trace(excerpt);
    expect(t).toMatchObject({ traced: true, format: 'csv', grantId: grantB, holderId: 'bob' });
    expect(t.confidence).toBeGreaterThan(0.9999);
    // The same rows de-identified without a grant watermark (source column order): not traced.
    const unmarked = await deidentifyTable(rows, { policy, projectId: grantB, keys: c.keys, table });
    expect((await leakTracerOf(c).trace(writeCsvRows(unmarked.columns, unmarked.rows))).traced).toBe(false);
  });

  it('R-DEID-6: the trace operation is for security admins only and is audited without the file', async () => {
    const api = makeApiHandler('access', accessOps, async () => c, { logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }) });
    const content = leakA.slice(0, 5).map((r) => JSON.stringify(r)).join('\n');
    const ev = (sub: string, groups: string[]) => userEvent('POST', '/v1/leak-traces', groups, { body: { content }, sub });
    const lambdaCtx = { functionName: 'test', awsRequestId: 'req-1' } as unknown as Context;
    expect((await api(ev('alice', ['researcher']), lambdaCtx)).statusCode).toBe(403);
    const res = await api(ev('sam', ['security-admin']), lambdaCtx);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ traced: true, grantId: grantA, holderId: 'alice' });
    const events = (await c.audit.query({ limit: 200, to: '2026-11-24T23:59:59Z' })).items.filter((e) => e.operation === 'traceLeak');
    const ok = events.find((e) => e.result.status === 200)!;
    expect(ok).toMatchObject({ category: 'security', resources: [{ type: 'Grant', id: grantA }] });
    expect(JSON.stringify(events)).not.toContain(leakA[0]!.id!);
  });
});
