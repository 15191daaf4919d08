import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { getPolicy } from '../../../functions/core/deid/deid-policy';
import { deidentifyDicom, readDicom, writeDicom, type DicomDataset } from '../../../functions/core/deid/deidentify-dicom';
import { Pseudonymizer } from '../../../functions/core/deid/pseudonym';
import { DICOM_WATERMARK_PREFIX, GrantWatermark, uidToken } from '../../../functions/core/deid/watermark';
import type { Actor } from '../../../functions/core/identity/actor';
import { operations as accessOps } from '../../../functions/handlers/access.handler';
import { leakTracerOf } from '../../../functions/handlers/deid-operations';
import { makeApiHandler } from '../../../functions/http/make-api-handler';
import type { DemoPatient } from '../../../infra/local/demo/demo-model';
import { issueGrantFor } from '../../support/test-container';
import { containerWith, demoCohort, source } from '../ingestion/multimodal-fixture';
import { userEvent } from '../integrations/integration-fixtures';

const researcher = (id: string): Actor => ({ kind: 'user', id, displayName: id, roles: ['researcher'], institution: 'demo-hospital-1', mfa: true, scopes: [] });
const alice = researcher('alice');
const bob = researcher('bob');

/** Every replaced `2.25.` UID of a dataset (file meta and nested sequences included; the kept ImplementationClassUID names software). */
function uids(ds: DicomDataset, out: string[] = []): string[] {
  for (const [tag, el] of Object.entries(ds)) {
    for (const v of el.Value ?? []) {
      if (el.vr === 'SQ') uids(v as DicomDataset, out);
      else if (el.vr === 'UI' && tag !== '00020012' && typeof v === 'string' && v.startsWith('2.25.')) out.push(v);
    }
  }
  return out;
}

describe('watermarked DICOM releases and their tracing (R-DEID-6, R-DEID-4)', () => {
  let c: Awaited<ReturnType<typeof containerWith>>;
  let p: DemoPatient;
  let grantA: string;
  let grantB: string;
  /** The same stored DICOM file as served to grant A and to grant B. */
  let fileA: Uint8Array;
  let fileB: Uint8Array;
  let studyUidsA: string[];

  const grantFor = (who: Actor) => issueGrantFor(c, who, { datasetIds: ['bc-test'], modalities: ['clinical', 'imaging'] }, 'Imaging response');

  /** The first released DICOM file of the grant's first patient, downloaded as Part 10, and its ImagingStudy records. */
  let releasedStudiesA: string;
  async function servedDicom(who: Actor, grantId: string): Promise<{ bytes: Uint8Array; studyUids: string[]; studies: string }> {
    const token = (await c.researchAccess.search(who, grantId, undefined, 1)).items[0]!.token;
    const view = await c.researchAccess.patient(who, grantId, token);
    const file = view.timeline.flatMap((e) => e.files).find((f) => f.kind === 'dicom')!;
    const out = await c.previews.preview(who, grantId, token, file.fileId, { format: 'dicom' });
    // FHIR ImagingStudy (identifier urn:dicom:uid) and the study record of DICOM ingestion (studyInstanceUid).
    type Study = { identifier?: Array<{ system?: string; value?: string }>; studyInstanceUid?: string };
    const studies = view.records.filter((r) => r.resourceType === 'ImagingStudy') as unknown as Study[];
    const studyUids = studies.flatMap((r) => [...(r.identifier ?? []).filter((i) => i.system === 'urn:dicom:uid').map((i) => i.value!.replace(/^urn:oid:/, '')), ...(r.studyInstanceUid ? [r.studyInstanceUid] : [])]);
    return { bytes: out.bytes, studyUids, studies: JSON.stringify(studies) };
  }

  beforeAll(async () => {
    p = demoCohort().patients.find((x) => x.institutionId === 'demo-hospital-1')!;
    c = await containerWith([p]);
    await c.catalog.saveDataset({ ...(await c.catalog.getDataset('bc-test')), modalities: ['clinical', 'imaging'] });
    for (const f of p.files.filter((x) => x.kind === 'dicom')) expect((await c.ingestRouter.ingest(source(p, f.fileName, f.contentType, f.bytes))).counts.rejected).toBe(0);
    grantA = await grantFor(alice);
    grantB = await grantFor(bob);
    const a = await servedDicom(alice, grantA);
    fileA = a.bytes;
    studyUidsA = a.studyUids;
    releasedStudiesA = a.studies;
    fileB = (await servedDicom(bob, grantB)).bytes;
  }, 180_000);

  it('R-DEID-6: a level-3 DICOM release carries its grant code in DeidentificationMethod and every replacement UID carries its mark', async () => {
    const wa = new GrantWatermark(c.keys, grantA);
    const wb = new GrantWatermark(c.keys, grantB);
    const { meta, dict } = readDicom(fileA);
    const method = dict['00120063']?.Value as string[];
    expect(method).toHaveLength(2);
    expect(method[0]).toMatch(/^MDRP l3-/);
    expect(method[1]).toBe(`${DICOM_WATERMARK_PREFIX}${await wa.code()}`);
    const all = [...uids(meta), ...uids(dict)];
    // Study, series, SOP instance (twice: meta and dataset) and frame of reference at least.
    expect(new Set(all).size).toBeGreaterThanOrEqual(3);
    for (const u of all) {
      expect(u.length).toBeLessThanOrEqual(64);
      expect(await wa.isMarked(uidToken(u)!)).toBe(true);
      expect(await wb.isMarked(uidToken(u)!)).toBe(false);
    }
    expect(meta['00020003']?.Value?.[0]).toBe(dict['00080018']?.Value?.[0]);
    // The other grant's copy of the same file: other UIDs, other code.
    const other = readDicom(fileB).dict;
    expect(other['00120063']?.Value?.[1]).toBe(`${DICOM_WATERMARK_PREFIX}${await wb.code()}`);
    expect(other['0020000D']?.Value?.[0]).not.toBe(dict['0020000D']?.Value?.[0]);
  });

  it('R-DEID-6, R-DEID-4: released ImagingStudy records name the same (marked) Study Instance UID as the released file, and no original UID', async () => {
    const uid = readDicom(fileA).dict['0020000D']?.Value?.[0] as string;
    expect(studyUidsA).toContain(uid);
    const original = readDicom(p.files.find((x) => x.kind === 'dicom')!.bytes).dict['0020000D']?.Value?.[0];
    expect(studyUidsA).not.toContain(original);
    // No original UID of any of the patient's files (study, series, instance) is left in the released records.
    const originals = p.files.filter((x) => x.kind === 'dicom').flatMap((x) => uids(readDicom(x.bytes).dict));
    expect(originals.length).toBeGreaterThan(3);
    for (const u of originals) expect(releasedStudiesA).not.toContain(u);
    for (const u of studyUidsA) expect(await new GrantWatermark(c.keys, grantA).isMarked(uidToken(u)!)).toBe(true);
  });

  it('R-DEID-6: the leaked file is traced to its grant and holder, also with (0012,0063) and PatientID stripped', async () => {
    const tracer = leakTracerOf(c);
    const t = await tracer.trace(fileA);
    expect(t).toMatchObject({ traced: true, format: 'dicom', records: 1, grantId: grantA, holderId: 'alice' });
    expect(t.candidates[0]).toMatchObject({ watermarkTags: 1, pseudonymsMatched: 1 });
    expect(t.confidence).toBeGreaterThan(0.999999);
    expect((await tracer.trace(fileB)).grantId).toBe(grantB);

    // Someone removes the explicit code and the pseudonym before passing the file on: the UIDs still tell.
    const { meta, dict } = readDicom(fileA);
    delete dict['00120063'];
    dict['00100020'] = { vr: 'LO', Value: ['ANON'] };
    dict['00100010'] = { vr: 'PN', Value: [{ Alphabetic: 'ANON' }] };
    const stripped = await tracer.trace(writeDicom(meta, dict));
    expect(stripped).toMatchObject({ traced: true, grantId: grantA });
    expect(stripped.candidates[0]).toMatchObject({ watermarkTags: 0, pseudonymsMatched: 0 });
    expect(stripped.candidates[0]!.markedTokens).toBeGreaterThanOrEqual(3);
  });

  it('R-DEID-6: a DICOM file de-identified outside the platform (no watermark) is not traced', async () => {
    const original = p.files.find((x) => x.kind === 'dicom')!.bytes;
    const keys = c.keys;
    const out = await deidentifyDicom(original, { policy: getPolicy('l3-project'), projectId: 'elsewhere', patientToken: 'f'.repeat(32), keys, pseudonymizer: new Pseudonymizer(keys, 'elsewhere') });
    expect(readDicom(out.bytes!).dict['00120063']?.Value).toHaveLength(1);
    const t = await leakTracerOf(c).trace(out.bytes!);
    expect(t.traced).toBe(false);
    expect(t.grantId).toBeUndefined();
  });

  it('R-DEID-6: the watermark must belong to the grant being served, and a DICOM file sent as text is refused', async () => {
    expect(() => new Pseudonymizer(c.keys, grantA, new GrantWatermark(c.keys, grantB))).toThrow(/another grant/);
    const original = p.files.find((x) => x.kind === 'dicom')!.bytes;
    await expect(deidentifyDicom(original, { policy: getPolicy('l3-project'), projectId: grantA, patientToken: 'a'.repeat(32), keys: c.keys, pseudonymizer: new Pseudonymizer(c.keys, grantA), watermark: new GrantWatermark(c.keys, grantA) })).rejects.toThrow(/watermark/);
    await expect(leakTracerOf(c).trace('{"resourceType":"Patient"}', { format: 'dicom' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('R-DEID-6: POST /v1/leak-traces takes the DICOM file as contentBase64 (exactly one of content and contentBase64)', async () => {
    const api = makeApiHandler('access', accessOps, async () => c, { logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }) });
    const post = (body: unknown) => api(userEvent('POST', '/v1/leak-traces', ['security-admin'], { body, sub: 'sam' }), { functionName: 'test', awsRequestId: 'req-1' } as unknown as Context);
    const res = await post({ contentBase64: Buffer.from(fileA).toString('base64') });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ traced: true, format: 'dicom', grantId: grantA, holderId: 'alice' });
    const both = await post({ content: 'x', contentBase64: 'eA==' });
    expect(both.statusCode).toBe(400);
    expect(JSON.parse(both.body).error.code).toBe('VALIDATION_FAILED');
    expect((await post({})).statusCode).toBe(400);
  });
});
