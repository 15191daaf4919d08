import { beforeAll, describe, expect, it } from 'vitest';
import type { DemoCohort, DemoPatient } from '../../../infra/local/demo/demo-model';
import { generateDemoCohort } from '../../../infra/local/demo/generate-demo-cohort';
import { mpiReviewOf } from '../../../functions/handlers/mpi-operations';
import { ConflictError } from '../../../functions/core/errors';
import { containerWith, patientIdOf, source } from '../ingestion/multimodal-fixture';

type C = Awaited<ReturnType<typeof containerWith>>;

/** Every item of the main and identity tables except the merge history and the catalogue's counters (checked apart). */
function dump(c: C): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const tables = (c.documents as any).tables as Map<string, Map<string, { pk: string }>>;
  const out: Record<string, unknown> = {};
  for (const t of ['main', 'identity']) {
    for (const [k, v] of tables.get(t) ?? []) if (!v.pk.startsWith('MPI#MERGE') && v.pk !== 'DATASET') out[`${t}|${k}`] = v;
  }
  return out;
}

describe('MPI review: probable duplicates, merge, unmerge, dismiss (R-MPI-2, R-MPI-3)', () => {
  let cohort: DemoCohort;
  let a: DemoPatient;
  let b: DemoPatient;
  beforeAll(() => {
    cohort = generateDemoCohort({ patients: 4, seed: 4242 });
    const pair = cohort.duplicatePairs.find((d) => d.kind === 'probable')!;
    a = cohort.patients.find((p) => p.sourcePatientId === pair.a)!;
    b = cohort.patients.find((p) => p.sourcePatientId === pair.b)!;
  });

  /** Both patients' FHIR, plus one DICOM instance of the second (so a file moves too). */
  async function setup() {
    const c = await containerWith([a, b]);
    const dcm = b.files.find((f) => f.contentType === 'application/dicom')!;
    const job = await c.ingestRouter.ingest(source(b, 'x.dcm', 'application/dicom', dcm.bytes));
    expect(job.counts.accepted).toBe(1);
    const idb = await patientIdOf(c, b);
    const fileId = (await c.research.timeline(idb)).flatMap((e) => e.fileIds).find((f) => f.startsWith('f-'))!;
    expect(await c.research.getFile(idb, fileId)).toBeDefined();
    return { c, review: mpiReviewOf(c), ida: await patientIdOf(c, a), idb, fileId };
  }

  it('R-MPI-2: the queue shows both patients masked (first character, birth year, sex, institution, identifier kinds) and never an identifier value', async () => {
    const { review, ida, idb } = await setup();
    const cases = await review.cases();
    expect(cases).toHaveLength(1);
    const c = cases[0]!;
    expect([c.patient.patientId, c.candidate.patientId].sort()).toEqual([ida, idb].sort());
    const side = c.patient.patientId === ida ? c.patient : c.candidate;
    expect(side.sources).toEqual([
      { institution: a.institutionId, maskedName: `${[...a.identity.fullName][0]}**`, birthYear: Number(a.identity.birthDate.slice(0, 4)), sex: a.identity.sex, identifierKinds: expect.arrayContaining(['residentId', 'mrn']) },
    ]);
    expect(side.records).toBeGreaterThan(0);
    const text = JSON.stringify(cases);
    for (const p of [a, b]) {
      for (const secret of [p.identity.residentId, p.identity.mrn, p.identity.fullName, p.identity.birthDate, p.identity.mobilePhone]) expect(text).not.toContain(secret);
    }
  });

  it('R-MPI-2: merge moves records, timeline, files, dataset membership and identifiers to the survivor; unmerge restores exactly the previous state', async () => {
    const { c, review, ida, idb, fileId } = await setup();
    const before = dump(c);
    const recordsA = (await c.research.records(ida)).length;
    const recordsB = (await c.research.records(idb)).length;
    const eventsB = (await c.research.timeline(idb)).length;
    const patientCount = async () => (await c.catalog.getDataset('bc-test')).patientCount;
    expect(await patientCount()).toBe(2);
    const [kase] = await review.cases();

    const m = await review.merge('dm-1', kase!.reviewId, ida);
    expect(m).toMatchObject({ status: 'merged', survivorId: ida, mergedId: idb });
    expect(m.counts.records).toBe(recordsB);
    // Records and timeline now belong to the survivor, their references rewritten.
    const records = await c.research.records(ida);
    expect(records).toHaveLength(recordsA + recordsB);
    expect(JSON.stringify(records)).not.toContain(idb);
    expect(await c.research.records(idb)).toEqual([]);
    expect((await c.research.timeline(ida)).length).toBeGreaterThanOrEqual(eventsB);
    expect(await c.research.getProfile(idb)).toBeUndefined();
    const profile = (await c.research.getProfile(ida))!;
    expect(profile.institutions.sort()).toEqual([a.institutionId, b.institutionId].sort());
    expect((await c.research.profilesOf('bc-test')).map((p) => p.patientId)).toEqual([ida]);
    // The catalogue counts one patient where there were two.
    expect(await patientCount()).toBe(1);
    // Identifiers of the merged patient now resolve to the survivor; its vault entries are readable.
    expect(await c.patientIndex.lookupMrn(b.institutionId, b.identity.mrn)).toBe(ida);
    expect(await c.patientIndex.lookupSource(`${b.institutionId}/${b.sourcePatientId.split('/').pop()}`)).toBeOneOf([ida, undefined]);
    expect((await c.patientIndex.identities(ida)).map((i) => i.identity.mrn).sort()).toEqual([a.identity.mrn, b.identity.mrn].sort());
    // Files stay decryptable (encrypted for the original id, verified by SHA-256).
    expect(m.counts.files).toBeGreaterThan(0);
    const file = await c.research.readFile(ida, fileId);
    expect(file?.bytes.byteLength).toBeGreaterThan(0);
    expect(file?.file.patientId).toBe(ida);
    expect(await review.cases()).toEqual([]);
    expect((await review.cases('merged'))[0]!.candidate.mergedInto ?? (await review.cases('merged'))[0]!.patient.mergedInto).toBe(ida);
    // A later ingest of the merged patient's source goes to the survivor.
    expect(await c.patientIndex.lookupMrn(b.institutionId, b.identity.mrn)).toBe(ida);

    const u = await review.unmerge('dm-2', m.mergeId);
    expect(u).toMatchObject({ status: 'unmerged', unmergedBy: 'dm-2' });
    expect(dump(c)).toEqual(before);
    expect(await patientCount()).toBe(2);
    expect(await c.patientIndex.lookupMrn(b.institutionId, b.identity.mrn)).toBe(idb);
    expect((await review.cases()).map((x) => x.reviewId)).toEqual([kase!.reviewId]);
    // Idempotent: a repeated unmerge changes nothing.
    expect((await review.unmerge('dm-2', m.mergeId)).status).toBe('unmerged');
    expect(dump(c)).toEqual(before);
  });

  it('R-MPI-2: an interrupted merge is finished by repeating it (idempotent), and a merge cannot run twice or chain', async () => {
    const { c, review, ida, idb } = await setup();
    const [kase] = await review.cases();
    // Crash after the merge record was written but before any item moved: fail the first batch write.
    const docs = c.documents;
    const original = docs.batchPut.bind(docs);
    let fail = true;
    docs.batchPut = async (t, items) => {
      if (fail) {
        fail = false;
        throw new Error('simulated crash');
      }
      return original(t, items);
    };
    await expect(review.merge('dm-1', kase!.reviewId, idb)).rejects.toThrow('simulated crash');
    expect((await review.merges())[0]!.status).toBe('merging');
    const done = await review.merge('dm-1', kase!.reviewId, idb);
    expect(done.status).toBe('merged');
    expect(await c.research.records(ida)).toEqual([]);
    expect(await review.merges()).toHaveLength(1);
    // The reverse merge of the same pair is refused.
    await expect(review.merge('dm-1', kase!.reviewId, ida)).rejects.toBeInstanceOf(ConflictError);
  });

  it('R-MPI-2: dismiss closes a case as not the same person and leaves both patients untouched', async () => {
    const { c, review } = await setup();
    const before = dump(c);
    const [kase] = await review.cases();
    const dismissed = await review.dismiss('dm-1', kase!.reviewId);
    expect(dismissed.status).toBe('dismissed');
    expect(await review.cases()).toEqual([]);
    await expect(review.dismiss('dm-1', kase!.reviewId)).rejects.toBeInstanceOf(ConflictError);
    await expect(review.merge('dm-1', kase!.reviewId, kase!.patient.patientId)).rejects.toBeInstanceOf(ConflictError);
    const after = dump(c);
    const changed = Object.keys(after).filter((k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]));
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatch(/^identity\|MPI#REVIEW/);
  });

  it('R-MPI-3: the survivor keeps its pseudonymous id; a survivor must be one of the pair', async () => {
    const { review, ida } = await setup();
    const [kase] = await review.cases();
    await expect(review.merge('dm-1', kase!.reviewId, 'PT-NOTINCASE00')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const m = await review.merge('dm-1', kase!.reviewId, ida);
    expect(m.survivorId).toMatch(/^PT-/);
    expect(m.survivorId).toBe(ida);
  });
});
