import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateDemoCohort } from '../../../infra/local/demo/generate-demo-cohort';
import type { DemoCohort } from '../../../infra/local/demo/demo-model';
import { MedplumFhirValidator } from '../../../functions/adapters/shared/medplum-fhir-validator';
import { FhirIngestor, platformIdOf } from '../../../functions/core/ingestion/fhir-ingestor';
import type { IngestJob } from '../../../functions/core/ingestion/ingest-job';
import type { TransactOperation } from '../../../functions/core/ports/document-store';
import { testContainer } from '../../support/test-container';

const enc = (lines: unknown[]) => new TextEncoder().encode(lines.map((l) => JSON.stringify(l)).join('\n'));

describe('FHIR ingestion (R-ING-1, R-ING-5, R-ING-6, R-MPI-1..3)', () => {
  let cohort: DemoCohort;
  let c: ReturnType<typeof testContainer>;
  beforeAll(() => {
    cohort = generateDemoCohort({ patients: 4 });
  });
  beforeEach(async () => {
    c = testContainer();
    await c.catalog.saveDataset({ datasetId: 'bc-nrt-io', title: 't', description: 'd', disease: 'C50', institution: 'multi', securityLevel: 3, modalities: ['clinical'], patientCount: 0, recordCount: 0, fileCount: 0, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
  });
  const source = (patientIndex: number, bytes: Uint8Array, fileName = 'export.ndjson') => ({
    datasetId: 'bc-nrt-io',
    institution: cohort.patients[patientIndex]!.institutionId,
    sourceSystem: 'EMR',
    fileName,
    contentType: 'application/fhir+ndjson',
    bytes,
    operator: 'dm-1',
  });

  it('R-MPI-3/R-DEID-1: accepts a patient export; the research side holds pseudonyms only, never identifiers', async () => {
    const p = cohort.patients[0]!;
    const job = await c.ingest.ingest(source(0, enc(p.fhir)));
    expect(job.counts).toMatchObject({ rejected: 0, patients: 1, newPatients: 1 });
    expect(job.counts.accepted).toBe(p.fhir.length);
    const patientId = (await c.patientIndex.lookupSource(`${p.institutionId}/${p.fhir[0]!.id}`))!;
    expect(patientId).toMatch(/^PT-/);
    const records = await c.research.records(patientId);
    expect(records.length).toBe(p.fhir.length - 1);
    const research = JSON.stringify([records, await c.research.timeline(patientId), await c.research.getProfile(patientId)]);
    for (const secret of [p.identity.fullName, p.identity.residentId, p.identity.mobilePhone, p.identity.mrn, p.identity.insuranceNumber, p.identity.address.street]) expect(research).not.toContain(secret);
    expect(records.every((r) => JSON.stringify(r).match(/"Patient\/([^"]+)"/g)?.every((ref) => ref === `"Patient/${patientId}"`) ?? true)).toBe(true);
    // The vault holds the identity, encrypted, and gives it back only through the index.
    const [vault] = await c.patientIndex.identities(patientId);
    expect(vault!.identity.fullName).toBe(p.identity.fullName);
  });

  it('R-ING-6: every record knows its source, file, job, transformations and operator; queryable per job', async () => {
    const p = cohort.patients[1]!;
    const job = await c.ingest.ingest(source(1, enc(p.fhir), 'emr-2026-11.ndjson'));
    const perJob = (await c.research.recordsOfJob(job.jobId)).items;
    expect(perJob.length).toBe(job.counts.accepted - 1);
    const one = perJob[0]!;
    const lineage = await c.research.lineageOf(one.patientId, one.resourceType, one.id);
    expect(lineage).toMatchObject({ sourceSystem: 'EMR', fileName: 'emr-2026-11.ndjson', jobId: job.jobId, operator: 'dm-1', fileSha256: job.sha256 });
    expect(lineage!.transformations.map((t) => t.name)).toContain('pseudonymize-patient-references');
    expect(lineage!.sourceId).toMatch(/^[A-Za-z]+\/.+/);
    // Stored once per job: the record itself keeps only its source id and its job.
    const item = await c.documents.get<{ pk: string; sk: string; lineage: unknown }>('main', { pk: `PATIENT#${one.patientId}`, sk: `REC#${one.resourceType}#${one.id}` });
    expect(item!.lineage).toEqual({ jobId: job.jobId, sourceId: lineage!.sourceId });
  });

  it('R-ING-5: re-ingesting the same content is a no-op returning the same report', async () => {
    const bytes = enc(cohort.patients[2]!.fhir);
    const first = await c.ingest.ingest(source(2, bytes));
    const before = await c.research.records((await c.patientIndex.lookupSource(`${cohort.patients[2]!.institutionId}/${cohort.patients[2]!.fhir[0]!.id}`))!);
    const second = await c.ingest.ingest(source(2, bytes));
    expect(second.jobId).toBe(first.jobId);
    const after = await c.research.records((await c.patientIndex.lookupSource(`${cohort.patients[2]!.institutionId}/${cohort.patients[2]!.fhir[0]!.id}`))!);
    expect(after.length).toBe(before.length);
  });

  it('R-ING-5: a crash mid-job loses nothing and duplicates nothing when the job is run again', async () => {
    const p = cohort.patients[3]!;
    const bytes = enc(p.fhir);
    // The store fails on its 3rd write (transactions and bulk writes alike: a record batch after the
    // patient was indexed and the first batch landed), as if the emulator restarted.
    const realTransact = c.documents.transact.bind(c.documents);
    const realBatch = c.documents.batchPut.bind(c.documents);
    let writes = 0;
    const crashAt = 3;
    c.documents.transact = async (ops) => {
      if (++writes === crashAt) throw new Error('emulator restarted');
      return realTransact(ops);
    };
    c.documents.batchPut = async (table, items) => {
      if (++writes === crashAt) throw new Error('emulator restarted');
      return realBatch(table, items);
    };
    await expect(c.ingest.ingest(source(3, bytes))).rejects.toThrow('emulator restarted');
    c.documents.transact = realTransact;
    c.documents.batchPut = realBatch;
    const job = await c.ingest.ingest(source(3, bytes));
    expect(job.counts.rejected).toBe(0);
    const pid = (await c.patientIndex.lookupSource(`${p.institutionId}/${p.fhir[0]!.id}`))!;
    const records = await c.research.records(pid);
    expect(records.length).toBe(p.fhir.length - 1);
    expect(new Set(records.map((r) => `${r.resourceType}/${r.id}`)).size).toBe(records.length);
  });

  it('R-ING-5: a crash at any write, even one leaving a record without its timeline event, is completed by the rerun, counted once in the dataset', async () => {
    // Records and events go by BatchWriteItem (not one transaction per pair): the job report and
    // content marker come last, so a crashed job runs again and overwrites the same keys.
    const p = cohort.patients[3]!;
    const bytes = enc(p.fhir);
    const reference = testContainer();
    await reference.catalog.saveDataset(await c.catalog.getDataset('bc-nrt-io'));
    let total = 0;
    const countTransact = reference.documents.transact.bind(reference.documents);
    const countBatch = reference.documents.batchPut.bind(reference.documents);
    const countPut = reference.documents.put.bind(reference.documents);
    reference.documents.transact = async (ops) => ((total += 1), countTransact(ops));
    reference.documents.batchPut = async (table, items) => ((total += 1), countBatch(table, items));
    reference.documents.put = async (table, item, options) => ((total += 1), countPut(table, item, options));
    const expected = await reference.ingest.ingest(source(3, bytes));
    const expectedDataset = await reference.catalog.getDataset('bc-nrt-io');
    expect(expectedDataset.patientCount).toBe(1);
    expect(expected.counts.timelineEvents).toBeGreaterThan(0);
    let halfPairs = 0;
    for (let crashAt = 1; crashAt <= total; crashAt++) {
      const run = testContainer();
      await run.catalog.saveDataset(await c.catalog.getDataset('bc-nrt-io'));
      const realTransact = run.documents.transact.bind(run.documents);
      const realBatch = run.documents.batchPut.bind(run.documents);
      const realPut = run.documents.put.bind(run.documents);
      let writes = 0;
      // Single puts too (patient index, profiles, the note of patients joining the dataset).
      run.documents.put = async (table, item, options) => {
        if (++writes === crashAt) throw new Error('emulator restarted');
        return realPut(table, item, options);
      };
      run.documents.transact = async (ops) => {
        if (++writes === crashAt) throw new Error('emulator restarted');
        return realTransact(ops);
      };
      // A bulk write that fails part-way, some of its items stored.
      run.documents.batchPut = async (table, items) => {
        if (++writes === crashAt) {
          // Three items: a batch starting with record, event, record, event… leaves its second record without its event.
          await realBatch(table, items.slice(0, Math.min(3, items.length - 1)));
          throw new Error('emulator restarted');
        }
        return realBatch(table, items);
      };
      await expect(run.ingest.ingest(source(3, bytes))).rejects.toThrow('emulator restarted');
      run.documents.transact = realTransact;
      run.documents.batchPut = realBatch;
      run.documents.put = realPut;
      const crashedPid = await run.patientIndex.lookupSource(`${p.institutionId}/${p.fhir[0]!.id}`);
      if (crashedPid) {
        const eventRefs = new Set((await run.research.timeline(crashedPid)).flatMap((e) => e.recordRefs));
        const eventLike = (await run.research.records(crashedPid)).filter((r) => ['Encounter', 'Procedure', 'MedicationAdministration', 'DiagnosticReport', 'Condition'].includes(String(r.resourceType)));
        if (eventLike.some((r) => !eventRefs.has(`${r.resourceType}/${r.id}`)) && eventRefs.size > 0) halfPairs += 1;
      }
      const job = await run.ingest.ingest(source(3, bytes));
      // The patient index registered the patient before the crash: the rerun finds it, not a new one.
      expect({ ...job.counts, newPatients: expected.counts.newPatients }).toEqual(expected.counts);
      const pid = (await run.patientIndex.lookupSource(`${p.institutionId}/${p.fhir[0]!.id}`))!;
      const records = await run.research.records(pid);
      expect(records.length).toBe(p.fhir.length - 1);
      const timeline = await run.research.timeline(pid);
      expect(timeline.length).toBe(expected.counts.timelineEvents);
      const refs = new Set(records.map((r) => `${r.resourceType}/${r.id}`));
      expect(timeline.every((e) => e.recordRefs.every((ref) => refs.has(ref)))).toBe(true);
      // The dataset counts the patient and the records once, whichever write the crash hit.
      const dataset = await run.catalog.getDataset('bc-nrt-io');
      expect({ crashAt, patients: dataset.patientCount, records: dataset.recordCount }).toEqual({ crashAt, patients: expectedDataset.patientCount, records: expectedDataset.recordCount });
    }
    // At least one crash point really left a record stored without its event.
    expect(halfPairs).toBeGreaterThan(0);
  });

  it('R-ING-5: bad items are rejected with machine-readable reasons; good ones are kept', async () => {
    const p = cohort.patients[0]!;
    const patient = p.fhir[0] as unknown as Record<string, unknown>;
    const badId = { ...patient, id: 'other-1', identifier: [{ system: 'https://mdrp.example.org/fhir/sid/cn-resident-id', value: '110101199003071230' }] };
    const lines = [
      patient,
      { resourceType: 'Observation', id: 'o-1', status: 'final', code: { text: 'Hb' }, subject: { reference: `Patient/${patient.id}` }, valueQuantity: { value: 'high' } },
      { resourceType: 'Observation', id: 'o-2', code: { text: 'Hb' }, subject: { reference: `Patient/${patient.id}` } },
      { resourceType: 'Medication', id: 'm-1' },
      { resourceType: 'Observation', id: 'o-3', status: 'final', code: { text: 'Hb' }, subject: { reference: 'Patient/nobody' } },
      badId,
      { resourceType: 'Observation', id: 'o-4', status: 'final', code: { text: 'Hb' }, subject: { reference: `Patient/${patient.id}` }, valueQuantity: { value: 128, unit: 'g/L' } },
    ];
    const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n{not json';
    const job = await c.ingest.ingest(source(0, new TextEncoder().encode(text)));
    const byLine = Object.fromEntries(job.rejected.map((r) => [r.line, r.code]));
    expect(byLine).toEqual({ 2: 'INVALID_FHIR', 3: 'INVALID_FHIR', 4: 'UNSUPPORTED_RESOURCE_TYPE', 5: 'UNKNOWN_PATIENT', 6: 'INVALID_RESIDENT_ID', 8: 'INVALID_JSON' });
    expect(job.counts.accepted).toBe(2);
    expect(JSON.stringify(job.rejected)).not.toContain('110101199003071230');
  });

  it('R-ING-1: Bundles (collection/transaction) are unpacked; an empty file is rejected', async () => {
    const p = cohort.patients[1]!;
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: p.fhir.slice(0, 5).map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } })) };
    const job = await c.ingest.ingest({ ...source(1, new TextEncoder().encode(JSON.stringify(bundle)), 'bundle.json'), contentType: 'application/fhir+json' });
    expect(job.counts.accepted).toBe(5);
    const empty = await c.ingest.ingest({ ...source(1, new TextEncoder().encode('  \n'), 'empty.json'), contentType: 'application/fhir+json' });
    expect(empty.rejected).toEqual([{ line: 0, code: 'EMPTY_FILE', issues: ['the file is empty'] }]);
  });

  it('R-MPI-2: a second record with the same name, birth date and sex but another resident ID is queued as a probable duplicate', async () => {
    const pair = cohort.duplicatePairs.find((d) => d.kind === 'probable');
    const a = cohort.patients.find((p) => p.sourcePatientId === pair?.a);
    const b = cohort.patients.find((p) => p.sourcePatientId === pair?.b);
    if (!a || !b) return expect(pair).toBeUndefined(); // the 4-patient cohort may not contain a pair
    await c.ingest.ingest({ ...source(0, enc([a.fhir[0]])), institution: a.institutionId });
    const job = await c.ingest.ingest({ ...source(0, enc([b.fhir[0]])), institution: b.institutionId });
    expect(job.counts.probableDuplicates).toBe(1);
    expect(await c.patientIndex.reviewQueue()).toHaveLength(1);
  });

  it('R-GOV-1: the catalogue counts the patients a file adds to the dataset, without recounting the dataset per file', async () => {
    // Prepare
    const queried: string[] = [];
    const realQuery = c.documents.query.bind(c.documents);
    c.documents.query = async (table, input) => {
      queried.push(input.pk);
      return realQuery(table, input);
    };
    // Act
    await c.ingest.ingest(source(0, enc(cohort.patients[0]!.fhir)));
    await c.ingest.ingest(source(1, enc(cohort.patients[1]!.fhir)));
    // the same patient again, in another file: no new member
    await c.ingest.ingest(source(0, enc(cohort.patients[0]!.fhir.slice(0, 3))));
    // Assess
    expect(queried.filter((pk) => pk.startsWith('DSMEMBER#'))).toEqual([]);
    const dataset = await c.catalog.getDataset('bc-nrt-io');
    expect(dataset.patientCount).toBe(2);
    expect(dataset.patientCount).toBe((await c.research.profilesOf('bc-nrt-io')).length);
  });

  it('R-ING-5/R-DSR-2: a file repeating a resource keeps its last version once; diagnosis and consent reach the profile in one write per patient', async () => {
    // Prepare
    const p = cohort.patients[2]!;
    const obs = p.fhir.find((r) => r.resourceType === 'Observation') as unknown as Record<string, unknown>;
    const changed = { ...obs, status: 'amended' };
    let profileWrites = 0;
    const realTransact = c.documents.transact.bind(c.documents);
    c.documents.transact = async (ops) => {
      profileWrites += ops.filter((o) => o.kind === 'put' && o.item.sk === 'PROFILE').length;
      return realTransact(ops);
    };
    // Act
    const job = await c.ingest.ingest(source(2, enc([...p.fhir, changed])));
    // Assess
    expect(job.counts.rejected).toBe(0);
    const pid = (await c.patientIndex.lookupSource(`${p.institutionId}/${p.fhir[0]!.id}`))!;
    const records = await c.research.records(pid, 'Observation');
    expect(records.filter((r) => r.status === 'amended')).toHaveLength(1);
    expect(records.length).toBe(p.fhir.filter((r) => r.resourceType === 'Observation').length);
    expect(profileWrites).toBe(1);
    const profile = (await c.research.getProfile(pid))!;
    expect(profile.diagnosis?.code).toBeTruthy();
  });

  it('R-ING-5: records are written while the rest of the file is still being validated; rejections are reported in line order', async () => {
    // Prepare: a validator that counts, and the number of resources validated when the first record batch is sent
    const p = cohort.patients[0]!;
    const medplum = new MedplumFhirValidator();
    let validated = 0;
    let validatedAtFirstBatch: number | undefined;
    const ingestor = new FhirIngestor(c.documents, c.patientIndex, c.research, c.catalog, { validate: (r) => (validated++, medplum.validate(r)) }, c.clock, c.ids);
    const realBatchPut = c.documents.batchPut.bind(c.documents);
    c.documents.batchPut = async (table, items) => {
      if (items.some((i) => i.sk.startsWith('REC#'))) validatedAtFirstBatch ??= validated;
      return realBatchPut(table, items);
    };
    const bad = { resourceType: 'Observation', id: 'bad-1', status: 42 };
    const lines = [...p.fhir.slice(0, 60), bad, ...p.fhir.slice(60), { resourceType: 'Specimen', id: 's-1' }];
    // Act
    const job = await ingestor.ingest(source(0, enc(lines)));
    // Assess
    expect(job.counts.accepted).toBe(p.fhir.length);
    expect(validatedAtFirstBatch).toBeLessThan(p.fhir.length / 2);
    expect(job.rejected.map((r) => [r.line, r.code])).toEqual([
      [61, 'INVALID_FHIR'],
      [p.fhir.length + 2, 'UNSUPPORTED_RESOURCE_TYPE'],
    ]);
  });

  it('R-ING-5/R-ING-7: a resource repeated with another date leaves only its last version on the timeline', async () => {
    // Prepare
    const p = cohort.patients[1]!;
    const encounter = p.fhir.find((r) => r.resourceType === 'Encounter') as unknown as { period: { start: string; end?: string } } & Record<string, unknown>;
    const moved = { ...encounter, period: { start: '2020-01-02T08:00:00+08:00', end: '2020-01-02T09:00:00+08:00' } };
    // Act
    const job = await c.ingest.ingest(source(1, enc([...p.fhir.slice(0, 1), moved, ...p.fhir.slice(1)])));
    // Assess
    expect(job.counts.rejected).toBe(0);
    const pid = (await c.patientIndex.lookupSource(`${p.institutionId}/${p.fhir[0]!.id}`))!;
    const timeline = await c.research.timeline(pid);
    const last = timeline.find((e) => e.type === 'visit' && e.occurredAt === new Date(encounter.period.start).toISOString());
    expect(last).toBeDefined();
    expect(timeline.filter((e) => e.recordRefs[0] === last!.recordRefs[0])).toHaveLength(1);
    expect(timeline.some((e) => e.occurredAt === '2020-01-02T00:00:00.000Z')).toBe(false);
    expect(job.counts.timelineEvents).toBe(timeline.filter((e) => e.source === 'ingested').length);
  });

  it('R-ING-5/R-GOV-1: a file of more patients than one transaction holds writes their profiles first; a crash before its report still counts each patient once', async () => {
    // 60 patients: 120 profile and membership writes, more than fit beside the report.
    const patients = Array.from({ length: 60 }, (_, i) => ({ resourceType: 'Patient', id: `bulk-${i}`, name: [{ family: '测', given: [`试${i}`] }], gender: i % 2 ? 'male' : 'female', birthDate: `1970-01-${String((i % 28) + 1).padStart(2, '0')}` }));
    const bytes = enc(patients);
    for (const crashOn of ['30th profile', 'report'] as const) {
      const run = testContainer();
      await run.catalog.saveDataset(await c.catalog.getDataset('bc-nrt-io'));
      const realTransact = run.documents.transact.bind(run.documents);
      let crashed = false;
      let profileWrites = 0;
      run.documents.transact = async (ops) => {
        const hit = crashOn === 'report' ? ops.some((o) => o.kind === 'put' && o.item.sk === 'JOB') : ops.some((o) => o.kind === 'put' && o.item.sk === 'PROFILE') && ++profileWrites === 30;
        if (hit && !crashed) {
          crashed = true;
          throw new Error('emulator restarted');
        }
        return realTransact(ops);
      };
      await expect(run.ingest.ingest(source(0, bytes, 'patients.ndjson'))).rejects.toThrow('emulator restarted');
      const job = await run.ingest.ingest(source(0, bytes, 'patients.ndjson'));
      expect(job.counts).toMatchObject({ accepted: 60, rejected: 0, patients: 60 });
      const dataset = await run.catalog.getDataset('bc-nrt-io');
      expect({ crashOn, patients: dataset.patientCount, members: (await run.research.profilesOf('bc-nrt-io')).length }).toEqual({ crashOn, patients: 60, members: 60 });
      // The note of patients joining the dataset is gone with the report.
      expect(await run.documents.get('main', { pk: `JOINS#bc-nrt-io#${cohort.patients[0]!.institutionId}#${job.sha256}`, sk: 'JOINS' })).toBeUndefined();
    }
  });

  describe('the files of a queue batch (ARCHITECTURE D8)', () => {
    const INSTITUTION = 'H-BATCH';
    const file = (bytes: Uint8Array, fileName = 'export.ndjson') => ({ ...source(0, bytes, fileName), institution: INSTITUTION });
    const perPatient = () => cohort.patients.map((p, i) => file(enc(p.fhir), `patient-${i}.ndjson`));
    const fulfilled = (results: Array<PromiseSettledResult<IngestJob>>) => results.map((r) => (r.status === 'fulfilled' ? r.value : undefined)!);
    const pidOf = async (box: ReturnType<typeof testContainer>, sourceId: string) => (await box.patientIndex.lookupSource(`${INSTITUTION}/${sourceId}`))!;
    /** What a reader sees of the dataset and of each patient, to compare two ways of ingesting the same files. */
    const stateOf = async (box: ReturnType<typeof testContainer>) => {
      const { patientCount, recordCount } = await box.catalog.getDataset('bc-nrt-io');
      const patients = await Promise.all(
        cohort.patients.map(async (p) => {
          const pid = await pidOf(box, p.fhir[0]!.id!);
          const { updatedAt: _, patientId: __, ...profile } = (await box.research.getProfile(pid))!;
          const records = (await box.research.records(pid)).map((r) => JSON.stringify(r).replaceAll(pid, 'PID')).sort();
          const timeline = (await box.research.timeline(pid)).map((e) => `${e.occurredAt} ${e.type} ${e.recordRefs.join()}`).sort();
          return { profile, records, timeline };
        }),
      );
      return { patientCount, recordCount, patients };
    };
    const withDataset = async () => {
      const box = testContainer();
      await box.catalog.saveDataset(await c.catalog.getDataset('bc-nrt-io'));
      return box;
    };
    const jobWrites = (ops: TransactOperation[]) => ops.filter((o) => o.kind === 'put' && o.item.sk === 'JOB').length;
    /** How many reports each file name has in the dataset. */
    const reportsByFile = async (box: ReturnType<typeof testContainer>) => {
      const out: Record<string, number> = {};
      for (const { job } of (await box.documents.query<{ pk: string; sk: string; job: IngestJob }>('main', { index: 'gsi1', pk: 'JOBS#bc-nrt-io' })).items) out[job.fileName] = (out[job.fileName] ?? 0) + 1;
      return out;
    };
    const manyPatients = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ resourceType: 'Patient', id: `${prefix}-${i}`, name: [{ family: '测', given: [`${prefix}${i}`] }], gender: 'female', birthDate: `1971-02-${String((i % 28) + 1).padStart(2, '0')}` }));

    it('R-ING-5/R-ING-6: per-patient files are one job and report each, as if ingested one by one, with their reports in one transaction instead of one per file', async () => {
      // Prepare
      const files = perPatient();
      const reference = await withDataset();
      const one = [];
      for (const f of files) one.push(await reference.ingest.ingest(f));
      const transact = vi.spyOn(c.documents, 'transact');
      // Act
      const jobs = fulfilled(await c.ingest.ingestFiles(files));
      // Assess
      expect(jobs.map((j) => [j.fileName, j.counts])).toEqual(one.map((j) => [j.fileName, j.counts]));
      expect(new Set(jobs.map((j) => j.jobId)).size).toBe(files.length);
      expect(transact.mock.calls.map(([ops]) => jobWrites(ops)).filter((n) => n > 0)).toEqual([files.length]);
      expect(await stateOf(c)).toEqual(await stateOf(reference));
      // Each record names its own file's job, whose lineage is its file's.
      for (const [i, job] of jobs.entries()) {
        const [rec] = (await c.research.recordsOfJob(job.jobId, { limit: 1 })).items;
        expect(await c.research.lineageOf(rec!.patientId, rec!.resourceType, rec!.id)).toMatchObject({ jobId: job.jobId, fileName: `patient-${i}.ndjson`, fileSha256: job.sha256 });
        expect((await c.research.recordsOfJob(job.jobId)).items).toHaveLength(job.counts.accepted - 1);
      }
      // Each file again, alone or in a batch: its earlier report.
      expect(fulfilled(await c.ingest.ingestFiles(files)).map((j) => j.jobId)).toEqual(jobs.map((j) => j.jobId));
      expect((await c.ingest.ingest(files[2]!)).jobId).toBe(jobs[2]!.jobId);
    });

    it('R-ING-5/R-DSR-2: files keep their delivery order: a file may reference the patients of the files before it; a profile two files change is written once, counted once', async () => {
      // Prepare: the Patient in one file, its clinical resources in the next
      const p = cohort.patients[1]!;
      const [patient, ...rest] = p.fhir;
      let profileWrites = 0;
      const transact = c.documents.transact.bind(c.documents);
      c.documents.transact = async (ops) => ((profileWrites += ops.filter((o) => o.kind === 'put' && o.item.sk === 'PROFILE').length), transact(ops));
      // Act
      const [a, b] = fulfilled(await c.ingest.ingestFiles([file(enc([patient]), 'patient.ndjson'), file(enc(rest), 'clinical.ndjson')]));
      const [late] = fulfilled(await c.ingest.ingestFiles([file(enc(cohort.patients[2]!.fhir.slice(1)), 'early.ndjson'), file(enc([cohort.patients[2]!.fhir[0]]), 'patient-later.ndjson')]));
      // Assess
      expect([a!.counts.accepted, b!.counts]).toEqual([1, expect.objectContaining({ accepted: rest.length, rejected: 0, patients: 1 })]);
      const profile = (await c.research.getProfile(await pidOf(c, patient!.id!)))!;
      expect(profile).toMatchObject({ datasetIds: ['bc-nrt-io'], diagnosis: { code: expect.any(String) } });
      expect(profileWrites).toBe(2); // one per patient of the two batches
      expect((await c.catalog.getDataset('bc-nrt-io')).patientCount).toBe(2);
      expect(new Set(late!.rejected.map((r) => r.code))).toEqual(new Set(['UNKNOWN_PATIENT']));
    });

    it('R-ING-5: files of two institutions interleaved in one batch share a run per institution; results keep their order', async () => {
      // Prepare
      const files = perPatient().map((f, i) => (i % 2 ? { ...f, institution: 'H-OTHER' } : f));
      const transact = vi.spyOn(c.documents, 'transact');
      // Act
      const jobs = fulfilled(await c.ingest.ingestFiles(files));
      // Assess
      expect(jobs.map((j) => [j.fileName, j.institution, j.counts.rejected])).toEqual(files.map((f) => [f.fileName, f.institution, 0]));
      expect(transact.mock.calls.map(([ops]) => ops.filter((o) => o.kind === 'put' && o.item.sk === 'JOB').map((o) => (o as unknown as { item: { job: IngestJob } }).item.job.institution)).filter((n) => n.length > 0)).toEqual([
        [INSTITUTION, INSTITUTION],
        ['H-OTHER', 'H-OTHER'],
      ]);
    });

    it('R-ING-5: a resource in two files of one batch keeps the later file\'s version', async () => {
      // Prepare
      const p = cohort.patients[0]!;
      const obs = p.fhir.find((r) => r.resourceType === 'Observation') as unknown as Record<string, unknown>;
      const transact = vi.spyOn(c.documents, 'transact');
      // Act
      // A first file small enough that its write of the Observation and the correction's would share a call.
      const first = [p.fhir[0], obs];
      const jobs = fulfilled(await c.ingest.ingestFiles([file(enc(first), 'first.ndjson'), file(enc([{ ...obs, status: 'amended' }]), 'correction.ndjson')]));
      // Assess: in one shared run (not file by file after a refused batch call)
      expect(transact.mock.calls.map(([ops]) => jobWrites(ops)).filter((n) => n > 0)).toEqual([2]);
      expect(jobs.map((j) => j.counts.accepted)).toEqual([2, 1]);
      const pid = await pidOf(c, p.fhir[0]!.id!);
      const kept = (await c.research.records(pid, 'Observation')).filter((r) => r.id === platformIdOf(INSTITUTION, 'Observation', String(obs.id)));
      expect(kept.map((r) => r.status)).toEqual(['amended']);
      const [rec] = (await c.research.recordsOfJob(jobs[1]!.jobId)).items;
      expect(rec!.id).toBe(kept[0]!.id);

      // Again with the earlier version's call still in flight when the correction is written: it waits for it.
      const box = await withDataset();
      const realBatch = box.documents.batchPut.bind(box.documents);
      box.documents.batchPut = async (table, items) => {
        if (items.some((i) => (i.resource as { id?: string; status?: string } | undefined)?.id === kept[0]!.id && (i.resource as { status?: string }).status !== 'amended')) await new Promise((r) => setTimeout(r, 200));
        return realBatch(table, items);
      };
      await box.ingest.ingestFiles([file(enc(p.fhir), 'first.ndjson'), file(enc([{ ...obs, status: 'amended' }]), 'correction.ndjson')]);
      expect((await box.research.records(await pidOf(box, p.fhir[0]!.id!), 'Observation')).filter((r) => r.id === kept[0]!.id).map((r) => r.status)).toEqual(['amended']);
    });

    it('R-ING-5: in one batch a file seen before returns its report, the same bytes twice are one job, a bad file gets its report once and last; results keep their order', async () => {
      // Prepare
      const [a, b, d] = perPatient();
      const seen = await c.ingest.ingest(a!);
      const transact = vi.spyOn(c.documents, 'transact');
      // Act
      const jobs = fulfilled(await c.ingest.ingestFiles([b!, a!, file(new TextEncoder().encode('{not json'), 'bad.ndjson'), d!, { ...d!, fileName: 'twice.ndjson' }]));
      // Assess
      expect(jobs.map((j) => j.fileName)).toEqual(['patient-1.ndjson', 'patient-0.ndjson', 'bad.ndjson', 'patient-2.ndjson', 'patient-2.ndjson']);
      expect(jobs[1]!.jobId).toBe(seen.jobId);
      expect(jobs[4]!.jobId).toBe(jobs[3]!.jobId);
      expect(jobs[2]!.rejected).toEqual([{ line: 1, code: 'INVALID_JSON', issues: ['line is not valid JSON'] }]);
      // b and d's reports, then the bad file's in a transaction of its own: the repeat of d's bytes starts a run of its own and finds d's report.
      const reports = transact.mock.calls.map(([ops]) => ops.filter((o) => o.kind === 'put' && o.item.sk === 'JOB').map((o) => (o as unknown as { item: { job: IngestJob } }).item.job.fileName)).filter((n) => n.length > 0);
      expect(reports).toEqual([['patient-1.ndjson', 'patient-2.ndjson'], ['bad.ndjson']]);
      const all = (await c.documents.query<{ pk: string; sk: string; job: IngestJob }>('main', { index: 'gsi1', pk: 'JOBS#bc-nrt-io' })).items;
      expect(all.filter((x) => x.job.fileName === 'bad.ndjson')).toHaveLength(1);
    });

    it('R-ING-5/R-GOV-1: a crash at any write of a batch is completed by its redelivery, one by one or in a batch again, every file and patient counted once', async () => {
      // Prepare: a file of 48 patients (96 profile writes: its report fills a transaction), the
      // clinical file of one of them (the profile it changes commits with the first file) and a
      // second patient's whole file
      const p = cohort.patients[1]!;
      const others = manyPatients(47, 'many');
      const files = [file(enc([...others, p.fhir[0]]), 'patients.ndjson'), file(enc(p.fhir.slice(1)), 'clinical.ndjson'), file(new TextEncoder().encode('{not json'), 'bad.ndjson'), file(enc(cohort.patients[3]!.fhir), 'other.ndjson')];
      const reference = await withDataset();
      let total = 0;
      for (const method of ['transact', 'batchPut', 'put'] as const) {
        const real = (reference.documents[method] as (...a: unknown[]) => Promise<void>).bind(reference.documents);
        (reference.documents[method] as unknown) = async (...args: unknown[]) => ((total += 1), real(...args));
      }
      const transact = vi.spyOn(reference.documents, 'transact');
      const expected = fulfilled(await reference.ingest.ingestFiles(files)).map((j) => j.counts);
      expect(transact.mock.calls.map(([ops]) => jobWrites(ops)).filter((n) => n > 0)).toEqual([1, 2, 1]);
      const timeline = (await reference.research.timeline(await pidOf(reference, p.fhir[0]!.id!))).length;
      const dataset = await reference.catalog.getDataset('bc-nrt-io');
      expect(dataset.patientCount).toBe(49);
      let betweenReports = 0;
      for (let crashAt = 1; crashAt <= total; crashAt++) {
        const run = await withDataset();
        const real = { transact: run.documents.transact.bind(run.documents), batchPut: run.documents.batchPut.bind(run.documents), put: run.documents.put.bind(run.documents) };
        // From the crash on the store is unreachable (the invocation died): the per-file fallback fails too.
        let writes = 0;
        for (const method of ['transact', 'batchPut', 'put'] as const) {
          (run.documents[method] as unknown) = async (...args: unknown[]) => {
            if (++writes >= crashAt) throw new Error('emulator restarted');
            return (real[method] as (...a: unknown[]) => Promise<void>)(...args);
          };
        }
        // A file whose report committed before the crash is found by the per-file fallback.
        const statuses = (await run.ingest.ingestFiles(files)).map((r) => r.status);
        expect(statuses).toContain('rejected');
        if (statuses[0] === 'fulfilled') betweenReports += 1;
        Object.assign(run.documents, real);
        // Odd crash points are redelivered as a batch again, even ones file by file.
        const jobs: IngestJob[] = [];
        if (crashAt % 2) jobs.push(...fulfilled(await run.ingest.ingestFiles(files)));
        else for (const f of files) jobs.push(await run.ingest.ingest(f));
        expect({ crashAt, counts: jobs.map((j) => ({ ...j.counts, newPatients: 0 })) }).toEqual({ crashAt, counts: expected.map((x) => ({ ...x, newPatients: 0 })) });
        const after = await run.catalog.getDataset('bc-nrt-io');
        expect({ crashAt, patients: after.patientCount, records: after.recordCount, members: (await run.research.profilesOf('bc-nrt-io')).length }).toEqual({ crashAt, patients: 49, records: dataset.recordCount, members: 49 });
        const pid = await pidOf(run, p.fhir[0]!.id!);
        expect(await run.research.records(pid)).toHaveLength(p.fhir.length - 1);
        expect((await run.research.getProfile(pid))!.diagnosis?.code).toBeTruthy();
        expect((await run.research.timeline(pid)).length).toBe(timeline);
        // One report per file, the rejected one included; no note of joining patients left.
        expect({ crashAt, reports: await reportsByFile(run) }).toEqual({ crashAt, reports: { 'patients.ndjson': 1, 'clinical.ndjson': 1, 'bad.ndjson': 1, 'other.ndjson': 1 } });
        for (const j of jobs) expect(await run.documents.get('main', { pk: `JOINS#bc-nrt-io#${INSTITUTION}#${j.sha256}`, sk: 'JOINS' })).toBeUndefined();
      }
      // The crashes after the first report transaction (at the second and at the third) were among them.
      expect(betweenReports).toBe(2);
    });

    it('R-ING-5: when the shared run fails, its files run one by one: each gets one report and is counted once', async () => {
      // Prepare: the shared commit fails once (an object the batch cannot write)
      const files = perPatient();
      const transact = c.documents.transact.bind(c.documents);
      let failed = 0;
      c.documents.transact = async (ops) => {
        if (jobWrites(ops) > 1 && failed++ === 0) throw new Error('item too large');
        return transact(ops);
      };
      // Act
      const jobs = fulfilled(await c.ingest.ingestFiles(files));
      // Assess
      expect(failed).toBe(1);
      expect(jobs.map((j) => j.counts.rejected)).toEqual(files.map(() => 0));
      const all = (await c.documents.query<{ pk: string; sk: string; job: IngestJob }>('main', { index: 'gsi1', pk: 'JOBS#bc-nrt-io' })).items;
      expect(all).toHaveLength(files.length);
      expect((await c.catalog.getDataset('bc-nrt-io')).patientCount).toBe(files.length);
    });

    it('R-GOV-1: a patient a bulk file only enriches, and a later file of the batch adds to the dataset, is counted once when its profile write fails', async () => {
      // Prepare: the patient is indexed and a member of another dataset
      const p = cohort.patients[2]!;
      await c.catalog.saveDataset({ ...(await c.catalog.getDataset('bc-nrt-io')), datasetId: 'elsewhere' });
      await c.ingest.ingest({ ...file(enc([p.fhir[0]]), 'elsewhere.ndjson'), datasetId: 'elsewhere' });
      const pid = await pidOf(c, p.fhir[0]!.id!);
      const condition = p.fhir.find((r) => r.resourceType === 'Condition');
      // 49 new patients and the patient's Condition: 50 profiles, written before the report
      const bulk = file(enc([...manyPatients(49, 'bulk'), condition]), 'bulk.ndjson');
      const joining = file(enc([p.fhir[0]]), 'patient.ndjson');
      const transact = c.documents.transact.bind(c.documents);
      let failed = 0;
      c.documents.transact = async (ops) => {
        if (failed === 0 && jobWrites(ops) === 0 && ops.some((o) => o.kind === 'put' && o.item.pk === `PATIENT#${pid}` && o.item.sk === 'PROFILE')) {
          failed += 1;
          throw new Error('throttled');
        }
        return transact(ops);
      };
      // Act
      const jobs = fulfilled(await c.ingest.ingestFiles([bulk, joining]));
      // Assess: the shared run failed, each file ran alone
      expect(failed).toBe(1);
      expect(jobs.map((j) => [j.counts.accepted, j.counts.rejected])).toEqual([
        [50, 0],
        [1, 0],
      ]);
      const dataset = await c.catalog.getDataset('bc-nrt-io');
      expect({ patients: dataset.patientCount, members: (await c.research.profilesOf('bc-nrt-io')).length }).toEqual({ patients: 50, members: 50 });
      expect((await c.research.getProfile(pid))!.datasetIds.sort()).toEqual(['bc-nrt-io', 'elsewhere']);
    });

    it('R-ING-5: reports too large for one transaction are split; a run whose last transaction fails runs again only the files whose report did not land', async () => {
      // Prepare: 4 patients' files and 70 files of 1,000 bad lines (a report of ~65 KB each, ~55 to a 3.5 MB transaction)
      const bad = (n: number) => file(new TextEncoder().encode(Array.from({ length: 1000 }, (_, i) => `{bad ${n} ${i}`).join('\n')), `bad-${n}.ndjson`);
      const files = [...perPatient(), ...Array.from({ length: 70 }, (_, n) => bad(n))];
      const transact = c.documents.transact.bind(c.documents);
      const reports: number[] = [];
      let failed = 0;
      c.documents.transact = async (ops) => {
        const n = jobWrites(ops);
        if (n > 0) reports.push(n);
        // The last of the run's transactions fails once.
        if (n > 0 && reports.reduce((a, b) => a + b, 0) === files.length && failed++ === 0) throw new Error('throttled');
        return transact(ops);
      };
      // Act
      const jobs = fulfilled(await c.ingest.ingestFiles(files));
      // Assess: 4 accepted, then the rejected in two transactions; the second's files again, alone
      expect(reports.slice(0, 3)).toEqual([4, expect.any(Number), 70 - reports[1]!]);
      expect(reports[1]).toBeGreaterThan(40);
      expect(reports.slice(3)).toEqual(Array.from({ length: 70 - reports[1]! }, () => 1));
      expect(jobs.map((j) => j.counts.rejected)).toEqual([0, 0, 0, 0, ...Array.from({ length: 70 }, () => 1000)]);
      expect(Object.values(await reportsByFile(c))).toEqual(files.map(() => 1));
    });

    it('R-ING-5/R-GOV-1: a bulk file of more patients than a transaction holds shares a batch with small files; a crash before the reports still counts each patient once', async () => {
      const patients = Array.from({ length: 60 }, (_, i) => ({ resourceType: 'Patient', id: `bulk-${i}`, name: [{ family: '测', given: [`试${i}`] }], gender: i % 2 ? 'male' : 'female', birthDate: `1970-01-${String((i % 28) + 1).padStart(2, '0')}` }));
      const files = [file(enc(cohort.patients[0]!.fhir), 'small.ndjson'), file(enc(patients), 'bulk.ndjson'), file(enc(cohort.patients[2]!.fhir), 'small-2.ndjson')];
      const transact = c.documents.transact.bind(c.documents);
      c.documents.transact = async (ops) => {
        if (jobWrites(ops) > 0) throw new Error('invocation timed out');
        return transact(ops);
      };
      expect((await c.ingest.ingestFiles(files)).map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      // The bulk file's profiles landed before its report, noted as joining the dataset.
      expect((await c.research.profilesOf('bc-nrt-io')).length).toBeGreaterThanOrEqual(60);
      c.documents.transact = transact;
      const jobs = fulfilled(await c.ingest.ingestFiles(files));
      expect(jobs.map((j) => j.counts.accepted)).toEqual([cohort.patients[0]!.fhir.length, 60, cohort.patients[2]!.fhir.length]);
      const dataset = await c.catalog.getDataset('bc-nrt-io');
      expect({ patients: dataset.patientCount, members: (await c.research.profilesOf('bc-nrt-io')).length }).toEqual({ patients: 62, members: 62 });
      expect(await c.documents.get('main', { pk: `JOINS#bc-nrt-io#${INSTITUTION}#${jobs[1]!.sha256}`, sk: 'JOINS' })).toBeUndefined();
    });
  });
});
