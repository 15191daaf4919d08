import { beforeAll, describe, expect, inject, it } from 'vitest';
import { MedplumFhirValidator } from '../../functions/adapters/shared/medplum-fhir-validator';
import { generateDemoCohort } from '../../infra/local/demo/generate-demo-cohort';
import { apiAs, eventually, idTokenFor } from '../support/api-client';

const platform = inject('platform');

const request = {
  title: 'FHIR facade study of neoadjuvant response',
  purposeCode: 'DUO:0000007',
  purpose: 'Disease-specific analysis of response to neoadjuvant therapy in breast cancer through the FHIR API',
  academicStatement: 'Retrospective analysis of de-identified cohort data through the platform FHIR facade; only aggregate results leave it.',
  scope: { datasetIds: ['bc-nrt-io'], modalities: [], fields: [] },
  requestedDurationDays: 30,
  agreementVersion: 'DSA-2026.1',
  agreementAccepted: true,
};

/**
 * A caller that retries a GET once when the connection is dropped under it (an idle keep-alive
 * socket closed by the server just as it is reused: seen on this busy machine, not an API answer).
 */
function retrying(api: ReturnType<typeof apiAs>): ReturnType<typeof apiAs> {
  const get: typeof api.get = async (path, headers) => {
    try {
      return await api.get(path, headers);
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      return api.get(path, headers);
    }
  };
  return { ...api, get };
}

type Api = ReturnType<typeof apiAs>;
// FHIR JSON as parsed from responses (checked by the medplum validator, not by the type system).
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Res = Awaited<ReturnType<Api['get']>>;

/** Every match of a FHIR search, following the server's `next` links (paths on the same server). */
async function everything(api: Api, path: string): Promise<Json[]> {
  const out: Json[] = [];
  let next: string | undefined = path;
  while (next) {
    const res: Res = await api.get(next);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    out.push(...res.json.entry.filter((e: { search: { mode: string } }) => e.search.mode === 'match').map((e: { resource: Json }) => e.resource));
    const link = res.json.link.find((l: { relation: string }) => l.relation === 'next');
    next = link ? new URL(link.url).pathname + new URL(link.url).search : undefined;
  }
  return out;
}

describe('FHIR R4 facade and Bulk Data export on the local platform (R-INT-1, R-DEID-1)', () => {
  const api: Record<string, Api> = {};
  let grantId: string;
  let groupId: string;
  let grantsBefore: string[];
  const validator = new MedplumFhirValidator();
  const cohort = generateDemoCohort({ patients: 24 });
  const secrets = cohort.patients.flatMap((p) => [p.identity.fullName, p.identity.residentId, p.identity.mobilePhone, p.identity.mrn, p.identity.insuranceNumber, p.identity.address.street, p.identity.emergencyContact.name, ...(p.identity.email ? [p.identity.email] : [])]);

  beforeAll(async () => {
    for (const u of ['researcher', 'ethics-reviewer', 'approver', 'data-owner', 'security-admin']) api[u] = retrying(apiAs(platform, await idTokenFor(platform, u)));
    grantsBefore = (await api.researcher!.get('/v1/grants')).json.items.filter((g: { status: string }) => g.status === 'active').map((g: { grantId: string }) => g.grantId);
  });

  it('R-INT-1/R-DEID-1: a researcher sees nothing through the facade without a grant, and only the grant\'s cohort with one', async () => {
    if (grantsBefore.length === 0) {
      for (const type of ['Patient', 'Observation', 'Group', 'ResearchStudy']) {
        const res = await api.researcher!.get(`/fhir/R4/${type}?_summary=count`);
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 0 });
      }
    }
    const id = (await api.researcher!.post('/v1/access-requests', request)).json.requestId as string;
    for (const [user, step] of [['ethics-reviewer', 'ethics'], ['approver', 'approver'], ['data-owner', 'data-owner']] as const) {
      await eventually(async () => (await api[user]!.get('/v1/access-requests?view=queue')).json.items.find((r: { requestId: string }) => r.requestId === id));
      expect((await api[user]!.post(`/v1/access-requests/${id}/decisions`, { step, outcome: 'approved', comment: 'proportionate' })).status).toBe(200);
    }
    const done = await eventually(async () => {
      const r = await api.researcher!.get(`/v1/access-requests/${id}`);
      return r.json.status === 'approved' ? r.json : undefined;
    }, 30_000);
    grantId = done.grantId;
    groupId = grantId.replace(/_/g, '-');

    const group = await api.researcher!.get(`/fhir/R4/Group/${groupId}`);
    expect(group.status).toBe(200);
    expect(group.headers.get('content-type')).toContain('application/fhir+json');
    expect(group.json).toMatchObject({ resourceType: 'Group', id: groupId, type: 'person', actual: true });
    const release = (await api.researcher!.get(`/v1/grants/${grantId}/release`)).json;
    expect(group.json.quantity).toBe(release.included);
    const study = await api.researcher!.get(`/fhir/R4/ResearchStudy/${groupId}`);
    expect(study.json).toMatchObject({ resourceType: 'ResearchStudy', status: 'active', title: request.title, enrollment: [{ reference: `Group/${groupId}` }] });
    expect(validator.validate(group.json)).toEqual([]);
    expect(validator.validate(study.json)).toEqual([]);
  });

  it('R-INT-1/R-DEID-1: read, search, _include, paging and _summary return valid, de-identified FHIR R4', async () => {
    const members = new Set<string>((await api.researcher!.get(`/fhir/R4/Group/${groupId}`)).json.member.map((m: { entity: { reference: string } }) => m.entity.reference));
    const patients = await everything(api.researcher!, `/fhir/R4/Patient?_count=50`);
    const mine = patients.filter((p) => members.has(`Patient/${p.id}`));
    expect(mine.length).toBe(members.size);
    const pid = mine[0]!.id as string;

    const first = await api.researcher!.get(`/fhir/R4/Observation?patient=Patient/${pid}&_count=5&_include=Observation:patient`);
    expect(first.status).toBe(200);
    expect(first.json.total).toBeGreaterThan(5);
    const matches = first.json.entry.filter((e: { search: { mode: string } }) => e.search.mode === 'match');
    expect(matches).toHaveLength(5);
    expect(first.json.entry.filter((e: { search: { mode: string } }) => e.search.mode === 'include').map((e: { resource: { id: string } }) => e.resource.id)).toEqual([pid]);
    expect(first.json.link.map((l: { relation: string }) => l.relation)).toEqual(['self', 'next']);
    const all = await everything(api.researcher!, `/fhir/R4/Observation?patient=${pid}&_count=5`);
    expect(all).toHaveLength(first.json.total);
    expect(new Set(all.map((o) => o.id)).size).toBe(all.length);

    const o = all[0]!;
    const read = await api.researcher!.get(`/fhir/R4/Observation/${o.id}`);
    expect(read.json).toEqual(o);
    const when = String(o.effectiveDateTime ?? o.effectivePeriod?.start).slice(0, 7);
    const inMonth = await everything(api.researcher!, `/fhir/R4/Observation?subject=${pid}&date=ge${when}&date=le${when}`);
    expect(inMonth.map((x) => x.id)).toContain(o.id);
    expect(inMonth.every((x) => String(x.effectiveDateTime ?? x.effectivePeriod?.start).startsWith(when) || x.effectivePeriod)).toBe(true);
    const coding = o.code.coding[0];
    const byCode = await api.researcher!.get(`/fhir/R4/Observation?patient=${pid}&code=${encodeURIComponent(`${coding.system}|${coding.code}`)}&_summary=count`);
    expect(byCode.json.total).toBe(all.filter((x) => x.code.coding.some((c: { system: string; code: string }) => c.system === coding.system && c.code === coding.code)).length);
    expect(byCode.json.entry).toBeUndefined();

    // Everything served is valid R4 and carries no direct identifier of any demo patient.
    for (const type of ['Condition', 'Procedure', 'DiagnosticReport', 'Consent']) {
      const res = await api.researcher!.get(`/fhir/R4/${type}?patient=${pid}&_count=100`);
      expect(res.status).toBe(200);
      for (const e of res.json.entry) expect(validator.validate(e.resource), `${type}/${e.resource.id}`).toEqual([]);
      for (const s of secrets) expect(res.text).not.toContain(s);
    }
    for (const r of [...mine, ...all]) expect(validator.validate(r), `${r.resourceType}/${r.id}`).toEqual([]);
    for (const s of secrets) expect(JSON.stringify([mine, all])).not.toContain(s);
    expect(JSON.stringify(all)).not.toMatch(/PT-[A-Za-z0-9]{6}/);
  });

  it('R-INT-1: errors are OperationOutcome with the right status (400 / 404 / 403 / 401)', async () => {
    const oo = (res: Res, status: number, code: string) => {
      expect(res.status, res.text.slice(0, 200)).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/fhir+json');
      expect(res.json).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code }] });
      expect(validator.validate(res.json)).toEqual([]);
    };
    oo(await api.researcher!.get('/fhir/R4/Observation?colour=red'), 400, 'invalid');
    oo(await api.researcher!.get('/fhir/R4/Observation?date=2024-13-45'), 400, 'invalid');
    oo(await api.researcher!.get('/fhir/R4/Observation?_cursor=forged'), 400, 'invalid');
    oo(await api.researcher!.get('/fhir/R4/Practitioner'), 400, 'invalid');
    oo(await api.researcher!.get('/fhir/R4/Observation/does-not-exist'), 404, 'not-found');
    oo(await api.approver!.get('/fhir/R4/Observation'), 403, 'forbidden');
    oo(await api.researcher!.get(`/fhir/R4/Group/${groupId}/$export`), 400, 'invalid'); // no Prefer: respond-async
    // Without credentials the front refuses before the handler (status checked; body per the edge).
    expect((await apiAs(platform).get('/fhir/R4/Observation')).status).toBe(401);
  });

  it('R-INT-1/R-DEID-1: Group $export runs asynchronously; every NDJSON line validates and holds no direct identifier', async () => {
    const kick = await api.researcher!.get(`/fhir/R4/Group/${groupId}/$export?_type=Patient,Observation,Condition,Procedure,Consent`, { prefer: 'respond-async', accept: 'application/fhir+json' });
    expect(kick.status, kick.text).toBe(202);
    const status = new URL(kick.headers.get('content-location')!);
    expect(status.pathname).toMatch(/^\/fhir\/R4\/bulk-export\/fhx_/);
    const other = await api.approver!.get(status.pathname);
    expect(other.status).toBe(403);
    let sawProgress = false;
    const manifest = await eventually(async () => {
      const s = await api.researcher!.get(status.pathname);
      if (s.status === 202) {
        sawProgress ||= Boolean(s.headers.get('x-progress'));
        return undefined;
      }
      expect(s.status, s.text).toBe(200);
      return s.json;
    }, 60_000);
    expect(sawProgress || manifest.output.length > 0).toBe(true);
    expect(manifest).toMatchObject({ requiresAccessToken: true, request: expect.stringContaining(`/Group/${groupId}/$export`), extension: { 'https://mdrp.example.org/fhir/bulk/deid-policy': { id: 'l3-project' } } });
    // One file per type, split every 1000 resources (Observations run to several files).
    expect([...new Set(manifest.output.map((f: { type: string }) => f.type))].sort()).toEqual(['Condition', 'Consent', 'Observation', 'Patient', 'Procedure'].sort());
    expect(manifest.output.every((f: { count: number }) => f.count >= 1 && f.count <= 1000)).toBe(true);
    const group = (await api.researcher!.get(`/fhir/R4/Group/${groupId}`)).json;
    let lines = 0;
    for (const f of manifest.output as Array<{ type: string; url: string; count: number }>) {
      const res = await api.researcher!.get(new URL(f.url).pathname);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('application/fhir+ndjson');
      const rows = res.text.trim().split('\n');
      expect(rows).toHaveLength(f.count);
      for (const row of rows) {
        const r = JSON.parse(row);
        expect(r.resourceType).toBe(f.type);
        expect(validator.validate(r), `${f.type}/${r.id}`).toEqual([]);
        expect(r.meta.tag.some((t: { code: string }) => t.code.startsWith('l3-project@'))).toBe(true);
        lines += 1;
      }
      for (const s of secrets) expect(res.text).not.toContain(s);
      if (f.type === 'Patient') expect(f.count).toBe(group.quantity);
    }
    expect(lines).toBeGreaterThan(group.quantity);
    // Someone else cannot download the files.
    expect((await api.approver!.get(new URL(manifest.output[0].url).pathname)).status).toBe(403);
  });

  it('R-GOV-5/R-INT-1: after revocation the grant\'s cohort disappears from the facade', async () => {
    expect((await api['security-admin']!.post(`/v1/grants/${grantId}/revocation`, { reason: 'End of the FHIR facade test' })).status).toBe(200);
    const res = await api.researcher!.get(`/fhir/R4/Group/${groupId}`);
    expect(res.status).toBe(404);
    expect(res.json.resourceType).toBe('OperationOutcome');
    const groups = await api.researcher!.get('/fhir/R4/Group?_summary=count');
    expect(groups.json.total).toBe(grantsBefore.length);
  });
});
