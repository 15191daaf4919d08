import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateDemoCohort } from '../../../infra/local/demo/generate-demo-cohort';
import type { DemoCohort } from '../../../infra/local/demo/demo-model';
import { MedplumFhirValidator } from '../../../functions/adapters/shared/medplum-fhir-validator';
import { FhirIngestor } from '../../../functions/core/ingestion/fhir-ingestor';
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
});
