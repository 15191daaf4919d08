import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readDicom, writeDicom } from '../../functions/core/deid/deidentify-dicom';
import { generateDemoCohort } from '../../infra/local/demo/generate-demo-cohort';
import { grantFor } from '../support/access-grants';
import { apiAs, idTokenFor } from '../support/api-client';

const platform = inject('platform');
const run = promisify(execFile);

/** `npm run trace-leak -- <file>` as a data protection officer runs it, against this test platform's stores and keys. */
async function traceLeak(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, MDRP_DYNAMO_PORT: new URL(platform.dynamoEndpoint).port, MDRP_S3_PORT: new URL(platform.s3Endpoint).port };
  try {
    const out = await run(process.execPath, ['--import', 'tsx', 'infra/local/trace-leak-cli.ts', file, '--data-dir', platform.dataDir], { env, timeout: 90_000 });
    return { code: 0, ...out };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('npm run trace-leak on a file released by the running platform (R-DEID-6)', () => {
  let dir: string;
  let grantId: string;
  let researcher: ReturnType<typeof apiAs>;
  let researcherToken: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mdrp-leak-'));
    ({ grantId } = await grantFor(platform, 'researcher', { title: 'Leak tracing rehearsal' }));
    researcherToken = await idTokenFor(platform, 'researcher');
    researcher = apiAs(platform, researcherToken);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('R-DEID-6: an NDJSON excerpt of released Observations names its grant and holder; the trace is audited', async () => {
    const group = (await researcher.get(`/fhir/R4/Group/${grantId.replace(/_/g, '-')}`)).json;
    // The first member with a few Observations (other tests of this platform erase or withdraw patients).
    let resources: Array<{ id: string }> = [];
    for (const m of group.member as Array<{ entity: { reference: string } }>) {
      const obs = await researcher.get(`/fhir/R4/Observation?patient=${m.entity.reference.split('/')[1]}&_count=8`);
      expect(obs.status).toBe(200);
      resources = (obs.json.entry ?? []).filter((e: { search: { mode: string } }) => e.search.mode === 'match').map((e: { resource: { id: string } }) => e.resource);
      if (resources.length > 3) break;
    }
    expect(resources.length).toBeGreaterThan(3);
    const file = join(dir, 'found-on-a-usb-stick.ndjson');
    writeFileSync(file, resources.map((r: unknown) => JSON.stringify(r)).join('\n') + '\n');

    const t = await traceLeak(file);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain(grantId);
    expect(t.stdout).toMatch(/TRACED to grant/);
    // The tool prints figures and ids, never the file's content.
    expect(t.stdout).not.toContain(resources[0]!.id);

    const auditor = apiAs(platform, await idTokenFor(platform, 'auditor'));
    const events = await auditor.get(`/v1/audit/events?resourceType=Grant&resourceId=${encodeURIComponent(grantId)}&limit=100`);
    expect(events.status).toBe(200);
    const trace = events.json.items.find((e: { operation: string }) => e.operation === 'traceLeak');
    expect(trace).toMatchObject({ category: 'security', result: { outcome: 'success', status: 200 }, parameters: { traced: true } });
  });

  it('R-DEID-6: a DICOM file the researcher downloaded is traced to the grant, also after its watermark attribute and pseudonym were stripped', async () => {
    const page = await researcher.get(`/v1/grants/${grantId}/patients?limit=10`);
    expect(page.status).toBe(200);
    let found: { token: string; fileId: string } | undefined;
    for (const { token } of page.json.items as Array<{ token: string }>) {
      const view = await researcher.get(`/v1/grants/${grantId}/patients/${token}`);
      const file = (view.json.timeline as Array<{ files: Array<{ kind: string; fileId: string }> }>).flatMap((e) => e.files).find((f) => f.kind === 'dicom');
      if (file) {
        found = { token, fileId: file.fileId };
        break;
      }
    }
    expect(found, 'a released patient with a DICOM file').toBeDefined();
    const res = await fetch(`${platform.apiUrl}/v1/grants/${grantId}/patients/${found!.token}/files/${found!.fileId}/preview?format=dicom`, { headers: { authorization: `Bearer ${researcherToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/dicom');
    const bytes = new Uint8Array(await res.arrayBuffer());
    const file = join(dir, 'series-from-a-conference-laptop.dcm');
    writeFileSync(file, bytes);
    const t = await traceLeak(file);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^format dicom, 1 records/m);
    expect(t.stdout).toContain(`TRACED to grant ${grantId}`);

    // The explicit code and the patient pseudonym removed: the grant-marked UIDs still name it.
    const { meta, dict } = readDicom(bytes);
    delete dict['00120063'];
    dict['00100020'] = { vr: 'LO', Value: ['ANON'] };
    const stripped = join(dir, 'stripped.dcm');
    writeFileSync(stripped, writeDicom(meta, dict));
    const s = await traceLeak(stripped);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain(`TRACED to grant ${grantId}`);
    expect(s.stdout).toMatch(/tags 0, release pseudonyms 0, marked tokens [3-9]\//);
  });

  it('R-DEID-6: a file of de-identified-looking data from outside the platform is "not traced" (exit code 3)', async () => {
    const cohort = generateDemoCohort({ patients: 2 });
    const file = join(dir, 'elsewhere.ndjson');
    writeFileSync(file, cohort.patients[0]!.fhir.slice(0, 6).map((r) => JSON.stringify(r)).join('\n') + '\n');
    const t = await traceLeak(file);
    expect(t.code).toBe(3);
    expect(t.stdout).not.toContain(grantId);
  });
});
