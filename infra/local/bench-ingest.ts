import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { zipSync } from 'fflate';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pMap from 'p-map';
import { DynamoDocumentStore } from '../../functions/adapters/aws/dynamo-document-store';
import { LocalKeyProvider, loadOrCreateLocalKeys } from '../../functions/adapters/local/local-key-provider';
import { MedplumFhirValidator } from '../../functions/adapters/shared/medplum-fhir-validator';
import { RandomIdGenerator } from '../../functions/adapters/shared/random-id-generator';
import type { PlatformConfig } from '../../functions/composition/config';
import { buildContainer } from '../../functions/composition/container';
import { systemClock } from '../../functions/core/ports/clock';
import { ConflictError } from '../../functions/core/errors';
import { parseDicom } from '../../functions/core/ingestion/dicom-image';
import { FILES_INGESTED_TOGETHER } from '../../functions/core/ingestion/ingest-support';
import { ensureTables, startDynamoDbLocal } from './emulators/dynamodb-local';
import { ensureBuckets, startS3Local } from './emulators/s3-local';
import { clinicalCtSeries } from './demo/clinical-series';
import { generateDemoCohort } from './demo/generate-demo-cohort';
import { REPO_ROOT } from './platform';
import { freePort } from './emulators/process-utils';

/**
 * `npm run bench:ingest [-- <patients>]`: ingestion throughput on the local emulators (DynamoDB
 * Local, s3rver), one run, beside the raw limits measured in the same run on the same data:
 * - FHIR resources/s through the FHIR pipeline, as one NDJSON file per patient and as a bulk export
 *   (one file per institution, another cohort of the same size), vs raw BatchWriteItem items/s of
 *   the same resources (measured before and after the pipeline runs; the mean is the baseline);
 * - DICOM MB/s through the DICOM pipeline vs raw SHA-256 + AES-256-GCM MB/s in Node and raw
 *   PutObject MB/s to s3rver (before and after the pipelines, the mean), combined as one
 *   sequential crypto+store limit.
 * Files go through the pipelines one at a time (what one Lambda invocation does); inside a job the
 * FHIR pipeline keeps 4 record batches in flight and a zipped study 4 entries, so the raw limits are
 * measured both sequentially and with 4 calls in flight, and both ratios are reported. DICOM single
 * files are also run 4 jobs at a time (an SQS batch handled by concurrent invocations: jobs of one
 * study race for its versioned record), and every study record is then checked to hold every
 * instance of its study; a missing instance fails the run. The demo cohort's imaging is small
 * (1–3 slices of 128² per series), so DICOM is also measured on clinical-size CT series (512²,
 * 16-bit, `CLINICAL_SLICES` slices per study) as zipped studies and as single files, against the
 * raw limits measured on those bytes. Single files are also run as the ingest queue's Lambda
 * gets them: SQS batches of `FILES_INGESTED_TOGETHER`, one job each, files of a study sharing a commit.
 * Writes bench/results/ingest.json.
 */

/** Writes in flight in the pipelines (FHIR record batches, archive entries) and in the matching raw runs. */
const CONCURRENCY = 4;
/** Clinical-size CT studies: how many, and slices (~512 KB each) per study. */
const CLINICAL_STUDIES = 4;
const CLINICAL_SLICES = 32;

async function inParallel(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  await pMap(Array.from({ length: n }, (_, i) => i), fn, { concurrency: limit });
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const MB = 1024 * 1024;

async function main(): Promise<void> {
  const patients = Number(process.argv[2] ?? 24);
  const dir = mkdtempSync(join(tmpdir(), 'mdrp-bench-ingest-'));
  const [dynamoPort, s3Port] = [await freePort(), await freePort()];
  const dynamo = await startDynamoDbLocal({ port: dynamoPort, corsOrigin: 'http://127.0.0.1' });
  const s3 = await startS3Local({ port: s3Port, dataDir: join(dir, 's3'), corsOrigin: 'http://127.0.0.1' });
  try {
    const region = 'us-east-1';
    const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    const endpoints = { dynamodb: `http://127.0.0.1:${dynamoPort}`, s3: `http://127.0.0.1:${s3Port}` };
    const tables = { main: 'bench-main', identity: 'bench-identity', audit: 'bench-audit' };
    const buckets = { staging: 'bench-staging', data: 'bench-data', archive: 'bench-archive' };
    const ddb = new DynamoDBClient({ region, endpoint: endpoints.dynamodb, credentials });
    const s3c = new S3Client({ region, endpoint: endpoints.s3, credentials, forcePathStyle: true });
    await ensureTables(ddb, Object.values(tables));
    await ensureBuckets(s3c, Object.values(buckets));
    const config: PlatformConfig = {
      stage: 'bench',
      version: '0',
      region,
      tables,
      buckets,
      keys: { kind: 'local', keyFile: join(dir, 'keys', 'local-keys.json') },
      workflow: { kind: 'local' },
      scheduler: { kind: 'local' },
      identity: { userPoolId: 'bench', issuer: 'http://127.0.0.1/bench' },
      notifications: {},
      allowedOrigin: 'http://127.0.0.1',
      assetsDir: REPO_ROOT,
      endpoints,
      localCredentials: credentials,
    };
    mkdirSync(join(dir, 'keys'), { recursive: true });
    const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used in the benchmark')) });
    // MDRP_BENCH_PROFILE=1: time spent per document-store method, to find the bottleneck.
    // Always: transactions lost to a condition (a DICOM job that lost its study record's race runs again).
    const calls = new Map<string, { n: number; ms: number }>();
    let conflicts = 0;
    const store = new DynamoDocumentStore(ddb, tables);
    const documents = new Proxy(store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return async (...args: unknown[]) => {
          const t = performance.now();
          try {
            return await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } catch (e) {
            if (e instanceof ConflictError) conflicts += 1;
            throw e;
          } finally {
            if (process.env.MDRP_BENCH_PROFILE) {
              const s = calls.get(String(prop)) ?? { n: 0, ms: 0 };
              s.n += 1;
              s.ms += performance.now() - t;
              calls.set(String(prop), s);
            }
          }
        };
      },
    });
    const profile = (label: string) => {
      if (!process.env.MDRP_BENCH_PROFILE) return;
      console.log(`${label}: ${[...calls].map(([k, s]) => `${k} ×${s.n} ${Math.round(s.ms)} ms`).join(', ')}`);
      calls.clear();
    };
    const c = buildContainer(config, {
      documents,
      keys: new LocalKeyProvider(loadOrCreateLocalKeys(config.keys.kind === 'local' ? config.keys.keyFile : '')),
      ids: new RandomIdGenerator(),
      clock: systemClock,
      workflow: unused as never,
      scheduler: unused as never,
      directory: unused as never,
      apiKeys: unused as never,
      digestSigner: unused as never,
    });
    const now = new Date().toISOString();
    await c.catalog.saveDataset({ datasetId: 'bench', title: 'bench', description: '', disease: 'C50', institution: 'multi', securityLevel: 2, modalities: ['fhir', 'imaging'], patientCount: 0, recordCount: 0, fileCount: 0, createdAt: now, updatedAt: now });
    const cohort = generateDemoCohort({ patients, seed: 2026 });
    const src = (institution: string, fileName: string, contentType: string, bytes: Uint8Array) => ({ datasetId: 'bench', institution, sourceSystem: 'bench', fileName, contentType, bytes, operator: 'bench' });

    // Warm-up outside the timings: medplum indexes the FHIR base definitions once per process (~1-2 s),
    // and DynamoDB Local (a JVM) and s3rver answer their first calls several times slower than
    // later ones: without this, whichever side runs first is measured cold.
    new MedplumFhirValidator().validate(cohort.patients[0]!.fhir[0]);
    const warmDoc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
    // DynamoDB Local's JIT needs a few thousand items before its rate settles (measured: ~1,700
    // items/s after 500 items, ~2,500 after 4,000).
    const warmSource = cohort.patients.flatMap((p) => p.fhir);
    const warm = Array.from({ length: 4000 }, (_, i) => warmSource[i % warmSource.length]!);
    for (let i = 0; i < warm.length; i += 25) {
      await warmDoc.send(new BatchWriteCommand({ RequestItems: { [tables.main]: warm.slice(i, i + 25).map((r, j) => ({ PutRequest: { Item: { pk: `WARM#${Math.floor((i + j) / 100)}`, sk: `REC#${i + j}`, resource: r } } })) } }));
    }
    const warmFiles = cohort.patients.flatMap((p) => p.files).slice(0, 20);
    for (const [i, f] of warmFiles.entries()) await s3c.send(new PutObjectCommand({ Bucket: buckets.data, Key: `warm/${i}`, Body: f.bytes }));

    // Raw BatchWriteItem of the cohort's resources (25 per call, sequential, through the same
    // document client the adapter uses) into fresh partitions: once before the FHIR pipeline runs
    // and once after, and the mean is the baseline, so neither side is favoured by DynamoDB Local
    // warming up (or slowing down) over the run.
    const all = cohort.patients.flatMap((p) => p.fhir);
    const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
    const rawBatchWrite = async (prefix: string, concurrency: number) => {
      const t = performance.now();
      await inParallel(Math.ceil(all.length / 25), concurrency, async (b) => {
        const i = b * 25;
        let pending: Array<{ PutRequest: { Item: Record<string, unknown> } }> | undefined = all.slice(i, i + 25).map((r, j) => ({ PutRequest: { Item: { pk: `${prefix}#${Math.floor((i + j) / 100)}`, sk: `REC#${i + j}`, resource: r } } }));
        while (pending?.length) {
          const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tables.main]: pending } }));
          pending = out.UnprocessedItems?.[tables.main] as typeof pending;
        }
      });
      return (performance.now() - t) / 1000;
    };
    const rawBatchBeforeSeconds = await rawBatchWrite('RAWA', 1);

    // FHIR through the pipeline: one NDJSON file per patient.
    let resources = 0;
    let rejected = 0;
    const ndjson = cohort.patients.map((p) => ({ p, bytes: new TextEncoder().encode(p.fhir.map((r) => JSON.stringify(r)).join('\n')) }));
    let t0 = performance.now();
    for (const { p, bytes } of ndjson) {
      const job = await c.ingestRouter.ingest(src(p.institutionId, 'export.ndjson', 'application/fhir+ndjson', bytes));
      resources += job.counts.accepted;
      rejected += job.counts.rejected;
    }
    const fhirSeconds = (performance.now() - t0) / 1000;
    profile(`FHIR pipeline (${Math.round(fhirSeconds * 1000)} ms)`);

    // FHIR as an EMR's bulk export: one NDJSON file per institution for a second cohort of the
    // same size (other patients, so none is known yet), into its own dataset.
    await c.catalog.saveDataset({ datasetId: 'bench-bulk', title: 'bench bulk', description: '', disease: 'C50', institution: 'multi', securityLevel: 2, modalities: ['fhir'], patientCount: 0, recordCount: 0, fileCount: 0, createdAt: now, updatedAt: now });
    const bulkCohort = generateDemoCohort({ patients, seed: 2027 });
    const byInstitution = new Map<string, string[]>();
    for (const p of bulkCohort.patients) byInstitution.set(p.institutionId, [...(byInstitution.get(p.institutionId) ?? []), ...p.fhir.map((r) => JSON.stringify(r))]);
    const bulkFiles = [...byInstitution].map(([institution, lines]) => ({ institution, bytes: new TextEncoder().encode(lines.join('\n')) }));
    let bulkAccepted = 0;
    let bulkRejected = 0;
    t0 = performance.now();
    for (const f of bulkFiles) {
      const job = await c.ingestRouter.ingest({ ...src(f.institution, 'bulk-export.ndjson', 'application/fhir+ndjson', f.bytes), datasetId: 'bench-bulk' });
      bulkAccepted += job.counts.accepted;
      bulkRejected += job.counts.rejected;
    }
    const bulkSeconds = (performance.now() - t0) / 1000;
    profile(`FHIR bulk export pipeline (${Math.round(bulkSeconds * 1000)} ms)`);

    // FHIR one file per patient again, as the ingest queue delivers an upload of many files: in
    // batches of up to `FILES_INGESTED_TOGETHER`, for a third cohort of the same size, into its own dataset.
    await c.catalog.saveDataset({ datasetId: 'bench-fhir-batch', title: 'bench FHIR queue batches', description: '', disease: 'C50', institution: 'multi', securityLevel: 2, modalities: ['fhir'], patientCount: 0, recordCount: 0, fileCount: 0, createdAt: now, updatedAt: now });
    const batchCohort = generateDemoCohort({ patients, seed: 2028 });
    const batchNdjson = batchCohort.patients.map((p) => ({ ...src(p.institutionId, 'export.ndjson', 'application/fhir+ndjson', new TextEncoder().encode(p.fhir.map((r) => JSON.stringify(r)).join('\n'))), datasetId: 'bench-fhir-batch' }));
    let fhirBatchAccepted = 0;
    let fhirBatchRejected = 0;
    t0 = performance.now();
    for (let i = 0; i < batchNdjson.length; i += FILES_INGESTED_TOGETHER) {
      for (const r of await c.ingestRouter.ingestMany(batchNdjson.slice(i, i + FILES_INGESTED_TOGETHER))) {
        if (r.status === 'rejected') throw r.reason;
        fhirBatchAccepted += r.value.counts.accepted;
        fhirBatchRejected += r.value.counts.rejected;
      }
    }
    const fhirBatchSeconds = (performance.now() - t0) / 1000;
    profile(`FHIR pipeline, one file per patient in queue batches of ${FILES_INGESTED_TOGETHER} (${Math.round(fhirBatchSeconds * 1000)} ms)`);

    const rawBatchAfterSeconds = await rawBatchWrite('RAWB', 1);
    const rawBatchSeconds = (rawBatchBeforeSeconds + rawBatchAfterSeconds) / 2;
    // The same with 4 calls in flight, as the FHIR pipeline writes one job's batches.
    const rawBatchConcurrentSeconds = await rawBatchWrite('RAWC', CONCURRENCY);

    // DICOM through the pipeline: every instance of the cohort, one file at a time.
    const dicom = cohort.patients.flatMap((p) => p.files.filter((f) => f.contentType === 'application/dicom').map((f) => ({ p, bytes: f.bytes })));
    const dicomBytes = dicom.reduce((n, d) => n + d.bytes.byteLength, 0);
    // Every instance of the cohort by study (parsed outside the timings), to check the study records against.
    const instancesByStudy = (files: Array<{ bytes: Uint8Array }>) => {
      const out = new Map<string, Set<string>>();
      for (const { bytes } of files) {
        const s = parseDicom(bytes).summary;
        out.set(s.studyInstanceUid, (out.get(s.studyInstanceUid) ?? new Set<string>()).add(s.sopInstanceUid));
      }
      return out;
    };
    const expected = instancesByStudy(dicom);
    const scanAll = async (filter: string, values: Record<string, unknown>, names?: Record<string, string>) => {
      const out: Array<Record<string, unknown>> = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(new ScanCommand({ TableName: tables.main, FilterExpression: filter, ExpressionAttributeValues: values, ...(names ? { ExpressionAttributeNames: names } : {}), ExclusiveStartKey: start, ConsistentRead: true }));
        out.push(...((page.Items ?? []) as Array<Record<string, unknown>>));
        start = page.LastEvaluatedKey as Record<string, unknown> | undefined;
      } while (start);
      return out;
    };
    type StudyItem = { resource: { id: string; studyInstanceUid: string; numberOfInstances: number } };
    type InstanceItem = { sk: string; instance: { sopInstanceUid: string } };
    /** Every study must have its record and an instance item for every instance (and the record's count agree); else the run fails. */
    const checkStudyRecords = async (label: string, expected: Map<string, Set<string>>) => {
      const items = (await scanAll('begins_with(sk, :p)', { ':p': 'REC#ImagingStudy#' })) as unknown as StudyItem[];
      const found = new Map(items.map((i) => [i.resource.studyInstanceUid, i.resource]));
      const byStudy = new Map<string, Set<string>>();
      for (const i of (await scanAll('begins_with(sk, :i)', { ':i': 'DCMI#' })) as unknown as InstanceItem[]) {
        const studyId = i.sk.split('#')[1]!;
        byStudy.set(studyId, (byStudy.get(studyId) ?? new Set<string>()).add(i.instance.sopInstanceUid));
      }
      const problems: string[] = [];
      let instances = 0;
      for (const [study, sops] of expected) {
        const r = found.get(study);
        const listed = (r && byStudy.get(r.id)) ?? new Set<string>();
        instances += listed.size;
        const missing = [...sops].filter((s) => !listed.has(s)).length;
        if (!r) problems.push(`a study of ${sops.size} instances has no record`);
        else if (missing > 0 || r.numberOfInstances !== sops.size) problems.push(`a study record lists ${listed.size}/${sops.size} instances (count ${r.numberOfInstances}, ${missing} missing)`);
      }
      // A staged write's markers go with the study records that commit its instances.
      const markers = (await scanAll('begins_with(sk, :s)', { ':s': 'DCMS#' })).length;
      if (markers > 0) problems.push(`${markers} staging markers left behind`);
      if (problems.length) throw new Error(`${label}: study records incomplete — ${problems.join('; ')}`);
      console.log(`${label}: ${expected.size} study records hold all ${instances} instances, no staging marker left`);
      return { studies: expected.size, instances, complete: true };
    };
    /** Removes the ImagingStudy records, their instance items and staging markers and imaging timeline events (file metadata and objects are overwritten in place). */
    const deleteStudyRecords = async () => {
      const items = [
        ...(await scanAll('begins_with(sk, :p)', { ':p': 'REC#ImagingStudy#' })),
        ...(await scanAll('begins_with(sk, :i)', { ':i': 'DCMI#' })),
        ...(await scanAll('begins_with(sk, :s)', { ':s': 'DCMS#' })),
        ...(await scanAll('begins_with(sk, :e) AND #ev.#t = :t', { ':e': 'EVT#', ':t': 'imaging' }, { '#ev': 'event', '#t': 'type' })),
      ];
      for (let i = 0; i < items.length; i += 25) {
        await doc.send(new BatchWriteCommand({ RequestItems: { [tables.main]: items.slice(i, i + 25).map((x) => ({ DeleteRequest: { Key: { pk: x.pk, sk: x.sk } } })) } }));
      }
      if ((await scanAll('begins_with(sk, :p)', { ':p': 'REC#ImagingStudy#' })).length) throw new Error('study records not deleted');
    };
    // Raw SHA-256 + AES-256-GCM of the same bytes in Node, and raw sequential PutObject of them to
    // s3rver: before the DICOM pipelines and after them, the mean being the baseline, so neither
    // side is favoured by the emulator's drift over the run.
    const rawCryptoAndPut = async (prefix: string, files: Array<{ bytes: Uint8Array }> = dicom) => {
      let t = performance.now();
      for (let rep = 0; rep < 5; rep++) {
        for (const { bytes } of files) {
          createHash('sha256').update(bytes).digest();
          const cipher = createCipheriv('aes-256-gcm', randomBytes(32), randomBytes(12));
          cipher.update(bytes);
          cipher.final();
          cipher.getAuthTag();
        }
      }
      const cryptoSeconds = (performance.now() - t) / 1000 / 5;
      t = performance.now();
      for (const [i, { bytes }] of files.entries()) await s3c.send(new PutObjectCommand({ Bucket: buckets.data, Key: `${prefix}/${i}`, Body: bytes, ContentType: 'application/octet-stream' }));
      return { cryptoSeconds, putSeconds: (performance.now() - t) / 1000 };
    };
    const rawBefore = await rawCryptoAndPut('rawa');

    let dicomAccepted = 0;
    t0 = performance.now();
    for (const { p, bytes } of dicom) dicomAccepted += (await c.ingestRouter.ingest(src(p.institutionId, 'x.dcm', 'application/dicom', bytes))).counts.accepted;
    const dicomSeconds = (performance.now() - t0) / 1000;
    profile(`DICOM pipeline (${Math.round(dicomSeconds * 1000)} ms)`);
    const sequentialCheck = await checkStudyRecords('DICOM single files, sequential', expected);

    // The same single files 4 jobs at a time, as an SQS batch reaches concurrent Lambda
    // invocations. The file list is in study order, so the jobs in flight are mostly instances of
    // one study and race for its record (versioned: the loser runs again). Into a fresh dataset
    // (no content marker is a repeat) on fresh study records: the sequential run's ImagingStudy
    // records and imaging events are deleted first (outside the timing), so this side starts where
    // the sequential one did and the check below sees only what the concurrent jobs merged.
    await c.catalog.saveDataset({ datasetId: 'bench-conc', title: 'bench concurrent', description: '', disease: 'C50', institution: 'multi', securityLevel: 2, modalities: ['imaging'], patientCount: 0, recordCount: 0, fileCount: 0, createdAt: now, updatedAt: now });
    await deleteStudyRecords();
    let concAccepted = 0;
    const conflictsBefore = conflicts;
    t0 = performance.now();
    await inParallel(dicom.length, CONCURRENCY, async (i) => {
      const { p, bytes } = dicom[i]!;
      const job = await c.ingestRouter.ingest({ ...src(p.institutionId, 'x.dcm', 'application/dicom', bytes), datasetId: 'bench-conc' });
      concAccepted += job.counts.accepted;
    });
    const concSeconds = (performance.now() - t0) / 1000;
    const concConflicts = conflicts - conflictsBefore;
    profile(`DICOM pipeline ×${CONCURRENCY} jobs in flight (${Math.round(concSeconds * 1000)} ms, ${concConflicts} lost races)`);
    const concurrentCheck = await checkStudyRecords(`DICOM single files, ${CONCURRENCY} jobs in flight`, expected);

    // The same single files as the ingest queue's Lambda gets them: SQS batches of
    // `FILES_INGESTED_TOGETHER` (files of one study in a batch share its reads and one commit, one
    // job and report each). Fresh dataset and study records again.
    await c.catalog.saveDataset({ datasetId: 'bench-batch', title: 'bench queue batches', description: '', disease: 'C50', institution: 'multi', securityLevel: 2, modalities: ['imaging'], patientCount: 0, recordCount: 0, fileCount: 0, createdAt: now, updatedAt: now });
    await deleteStudyRecords();
    const ingestInBatches = async (files: Array<{ p: { institutionId: string }; bytes: Uint8Array }>, datasetId: string) => {
      let accepted = 0;
      for (let i = 0; i < files.length; i += FILES_INGESTED_TOGETHER) {
        const results = await c.ingestRouter.ingestMany(files.slice(i, i + FILES_INGESTED_TOGETHER).map(({ p, bytes }) => ({ ...src(p.institutionId, 'x.dcm', 'application/dicom', bytes), datasetId })));
        for (const r of results) {
          if (r.status === 'rejected') throw r.reason;
          accepted += r.value.counts.accepted;
        }
      }
      return accepted;
    };
    t0 = performance.now();
    const batchAccepted = await ingestInBatches(dicom, 'bench-batch');
    const batchSeconds = (performance.now() - t0) / 1000;
    profile(`DICOM pipeline, queue batches of ${FILES_INGESTED_TOGETHER} (${Math.round(batchSeconds * 1000)} ms)`);
    const batchCheck = await checkStudyRecords(`DICOM single files, queue batches of ${FILES_INGESTED_TOGETHER}`, expected);

    // The same instances as one zipped study archive per patient (how PACS exports arrive): the
    // archive path reads and writes each study record once instead of once per instance. Into a
    // second dataset and fresh study records, so nothing is a repeat of the single-file runs (until
    // 2026-12-04 the archives merged into the studies the queue-batch run had left).
    await c.catalog.saveDataset({ datasetId: 'bench-zip', title: 'bench zip', description: '', disease: 'C50', institution: 'multi', securityLevel: 2, modalities: ['imaging'], patientCount: 0, recordCount: 0, fileCount: 0, createdAt: now, updatedAt: now });
    await deleteStudyRecords();
    const zips = cohort.patients
      .map((p) => ({ p, files: p.files.filter((f) => f.contentType === 'application/dicom') }))
      .filter((z) => z.files.length > 0)
      .map(({ p, files }) => ({ p, bytes: zipSync(Object.fromEntries(files.map((f, i) => [`study/IM${i}.dcm`, [f.bytes, { level: 0 }]]))) }));
    let zipAccepted = 0;
    t0 = performance.now();
    for (const { p, bytes } of zips) zipAccepted += (await c.ingestRouter.ingest({ ...src(p.institutionId, 'study.zip', 'application/zip', bytes), datasetId: 'bench-zip' })).counts.accepted;
    const zipSeconds = (performance.now() - t0) / 1000;
    profile(`DICOM zip pipeline (${Math.round(zipSeconds * 1000)} ms)`);
    const zipCheck = await checkStudyRecords('DICOM zipped studies', expected);

    const rawAfter = await rawCryptoAndPut('rawb');
    const cryptoSeconds = (rawBefore.cryptoSeconds + rawAfter.cryptoSeconds) / 2;
    const putSeconds = (rawBefore.putSeconds + rawAfter.putSeconds) / 2;
    // The same with 4 objects in flight, as a zipped study's entries are stored.
    t0 = performance.now();
    await inParallel(dicom.length, CONCURRENCY, async (i) => {
      await s3c.send(new PutObjectCommand({ Bucket: buckets.data, Key: `rawc/${i}`, Body: dicom[i]!.bytes, ContentType: 'application/octet-stream' }));
    });
    const putConcurrentSeconds = (performance.now() - t0) / 1000;

    // Clinical-size CT studies: one zipped archive per study, and other studies of the same size as
    // single files (other UIDs, so nothing merges into the archives' records), each against raw
    // crypto + PutObject of the same bytes before and after (the mean).
    const ctOf = (seed: number) => cohort.patients.slice(0, CLINICAL_STUDIES).map((p, i) => ({ p, slices: clinicalCtSeries(p, { seed: seed + i, slices: CLINICAL_SLICES }) }));
    const ctZipped = ctOf(1000);
    const ctSingle = ctOf(2000).flatMap(({ p, slices }) => slices.map((bytes) => ({ p, bytes })));
    const ctZippedFiles = ctZipped.flatMap(({ slices }) => slices.map((bytes) => ({ bytes })));
    const ctBytes = ctSingle.reduce((n, f) => n + f.bytes.byteLength, 0);
    const ctZipBytes = ctZippedFiles.reduce((n, f) => n + f.bytes.byteLength, 0);
    const ctArchives = ctZipped.map(({ p, slices }) => ({ p, bytes: zipSync(Object.fromEntries(slices.map((b, i) => [`CT/IM${i}.dcm`, [b, { level: 0 }]]))) }));
    await c.catalog.saveDataset({ datasetId: 'bench-ct', title: 'bench clinical CT', description: '', disease: 'C50', institution: 'multi', securityLevel: 2, modalities: ['imaging'], patientCount: 0, recordCount: 0, fileCount: 0, createdAt: now, updatedAt: now });
    const ctRawBefore = await rawCryptoAndPut('rawct-a', ctSingle);
    let ctZipAccepted = 0;
    t0 = performance.now();
    for (const { p, bytes } of ctArchives) ctZipAccepted += (await c.ingestRouter.ingest({ ...src(p.institutionId, 'ct.zip', 'application/zip', bytes), datasetId: 'bench-ct' })).counts.accepted;
    const ctZipSeconds = (performance.now() - t0) / 1000;
    profile(`clinical CT zip pipeline (${Math.round(ctZipSeconds * 1000)} ms)`);
    let ctSingleAccepted = 0;
    t0 = performance.now();
    for (const { p, bytes } of ctSingle) ctSingleAccepted += (await c.ingestRouter.ingest({ ...src(p.institutionId, 'ct.dcm', 'application/dicom', bytes), datasetId: 'bench-ct' })).counts.accepted;
    const ctSingleSeconds = (performance.now() - t0) / 1000;
    profile(`clinical CT single-file pipeline (${Math.round(ctSingleSeconds * 1000)} ms)`);
    // Other studies of the same size as queue batches (see `ingestInBatches`).
    const ctBatched = ctOf(3000).flatMap(({ p, slices }) => slices.map((bytes) => ({ p, bytes })));
    const ctBatchedBytes = ctBatched.reduce((n, f) => n + f.bytes.byteLength, 0);
    t0 = performance.now();
    const ctBatchedAccepted = await ingestInBatches(ctBatched, 'bench-ct');
    const ctBatchedSeconds = (performance.now() - t0) / 1000;
    profile(`clinical CT single files, queue batches of ${FILES_INGESTED_TOGETHER} (${Math.round(ctBatchedSeconds * 1000)} ms)`);
    const ctRawAfter = await rawCryptoAndPut('rawct-b', ctSingle);
    const ctCheck = await checkStudyRecords('clinical CT (zipped, single files, queue batches)', new Map([...instancesByStudy(ctZippedFiles), ...instancesByStudy(ctSingle), ...instancesByStudy(ctBatched)]));
    const ctRawSeconds = (ctRawBefore.cryptoSeconds + ctRawBefore.putSeconds + ctRawAfter.cryptoSeconds + ctRawAfter.putSeconds) / 2;
    const ctRawRate = ctBytes / MB / ctRawSeconds;
    const ctZipRate = ctZipBytes / MB / ctZipSeconds;
    const ctSingleRate = ctBytes / MB / ctSingleSeconds;
    const ctBatchedRate = ctBatchedBytes / MB / ctBatchedSeconds;

    const fhirRate = resources / fhirSeconds;
    const bulkRate = bulkAccepted / bulkSeconds;
    const fhirBatchRate = fhirBatchAccepted / fhirBatchSeconds;
    const rawItems = all.length / rawBatchSeconds;
    const dicomRate = dicomBytes / MB / dicomSeconds;
    const zipRate = dicomBytes / MB / zipSeconds;
    const concRate = dicomBytes / MB / concSeconds;
    const batchRate = dicomBytes / MB / batchSeconds;
    const cryptoRate = dicomBytes / MB / cryptoSeconds;
    const putRate = dicomBytes / MB / putSeconds;
    // One object is hashed, encrypted, then stored: the limits add up in time, not in rate.
    const cryptoStoreRate = dicomBytes / MB / (cryptoSeconds + putSeconds);
    const rawItemsConcurrent = all.length / rawBatchConcurrentSeconds;
    const putConcurrentRate = dicomBytes / MB / putConcurrentSeconds;
    // Crypto stays one core's worth; the stores overlap.
    const cryptoStoreConcurrentRate = dicomBytes / MB / (cryptoSeconds + putConcurrentSeconds);
    const result = {
      measuredAt: new Date().toISOString(),
      node: process.version,
      cohort: { patients: cohort.patients.length, fhirResources: all.length, dicomInstances: dicom.length, dicomMB: round(dicomBytes / MB, 2) },
      fhir: {
        pipeline: { resourcesPerSecond: round(fhirRate), accepted: resources, rejected, seconds: round(fhirSeconds, 2) },
        rawBatchWriteItem: { itemsPerSecond: round(rawItems), seconds: round(rawBatchSeconds, 2), before: { itemsPerSecond: round(all.length / rawBatchBeforeSeconds) }, after: { itemsPerSecond: round(all.length / rawBatchAfterSeconds) } },
        ratio: round(fhirRate / rawItems, 3),
        pipelineQueueBatches: { filesPerBatch: FILES_INGESTED_TOGETHER, files: batchNdjson.length, resourcesPerSecond: round(fhirBatchRate), accepted: fhirBatchAccepted, rejected: fhirBatchRejected, seconds: round(fhirBatchSeconds, 2), ratio: round(fhirBatchRate / rawItems, 3) },
        bulkExport: { files: bulkFiles.length, resources: bulkCohort.patients.reduce((n, p) => n + p.fhir.length, 0), resourcesPerSecond: round(bulkRate), accepted: bulkAccepted, rejected: bulkRejected, seconds: round(bulkSeconds, 2), ratio: round(bulkRate / rawItems, 3), ratioAtSameConcurrency: round(bulkRate / rawItemsConcurrent, 3) },
        rawBatchWriteItemConcurrent: { concurrency: CONCURRENCY, itemsPerSecond: round(rawItemsConcurrent), seconds: round(rawBatchConcurrentSeconds, 2) },
        ratioAtSameConcurrency: round(fhirRate / rawItemsConcurrent, 3),
        target: 0.5,
      },
      dicom: {
        pipeline: { mbPerSecond: round(dicomRate, 2), instancesPerSecond: round(dicom.length / dicomSeconds), accepted: dicomAccepted, seconds: round(dicomSeconds, 2) },
        rawSha256AesGcm: { mbPerSecond: round(cryptoRate, 1) },
        rawPutObject: { mbPerSecond: round(putRate, 2), objectsPerSecond: round(dicom.length / putSeconds), before: { objectsPerSecond: round(dicom.length / rawBefore.putSeconds) }, after: { objectsPerSecond: round(dicom.length / rawAfter.putSeconds) } },
        rawCryptoPlusStore: { mbPerSecond: round(cryptoStoreRate, 2) },
        ratio: round(dicomRate / cryptoStoreRate, 3),
        pipelineConcurrentJobs: { concurrency: CONCURRENCY, mbPerSecond: round(concRate, 2), instancesPerSecond: round(dicom.length / concSeconds), accepted: concAccepted, seconds: round(concSeconds, 2), lostRaces: concConflicts, ratio: round(concRate / cryptoStoreRate, 3), ratioAtSameConcurrency: round(concRate / cryptoStoreConcurrentRate, 3) },
        pipelineQueueBatches: { filesPerBatch: FILES_INGESTED_TOGETHER, mbPerSecond: round(batchRate, 2), instancesPerSecond: round(dicom.length / batchSeconds), accepted: batchAccepted, seconds: round(batchSeconds, 2), ratio: round(batchRate / cryptoStoreRate, 3) },
        studyRecordsComplete: { sequential: sequentialCheck, concurrentJobs: concurrentCheck, queueBatches: batchCheck, zippedStudies: zipCheck },
        rawPutObjectConcurrent: { concurrency: CONCURRENCY, mbPerSecond: round(putConcurrentRate, 2), objectsPerSecond: round(dicom.length / putConcurrentSeconds) },
        rawCryptoPlusStoreConcurrent: { mbPerSecond: round(cryptoStoreConcurrentRate, 2) },
        zippedStudies: { mbPerSecond: round(zipRate, 2), archives: zips.length, accepted: zipAccepted, seconds: round(zipSeconds, 2), ratio: round(zipRate / cryptoStoreRate, 3), ratioAtSameConcurrency: round(zipRate / cryptoStoreConcurrentRate, 3) },
        clinicalCtSeries: {
          studies: CLINICAL_STUDIES,
          slicesPerStudy: CLINICAL_SLICES,
          pixels: '512x512x16',
          mbPerStudySet: round(ctBytes / MB, 1),
          rawCryptoPlusStore: { mbPerSecond: round(ctRawRate, 2), before: { mbPerSecond: round(ctBytes / MB / (ctRawBefore.cryptoSeconds + ctRawBefore.putSeconds), 2) }, after: { mbPerSecond: round(ctBytes / MB / (ctRawAfter.cryptoSeconds + ctRawAfter.putSeconds), 2) } },
          zippedStudies: { mbPerSecond: round(ctZipRate, 2), accepted: ctZipAccepted, seconds: round(ctZipSeconds, 2), ratio: round(ctZipRate / ctRawRate, 3) },
          singleFiles: { mbPerSecond: round(ctSingleRate, 2), accepted: ctSingleAccepted, seconds: round(ctSingleSeconds, 2), ratio: round(ctSingleRate / ctRawRate, 3) },
          singleFilesInQueueBatches: { filesPerBatch: FILES_INGESTED_TOGETHER, mbPerSecond: round(ctBatchedRate, 2), accepted: ctBatchedAccepted, seconds: round(ctBatchedSeconds, 2), ratio: round(ctBatchedRate / ctRawRate, 3) },
          studyRecordsComplete: ctCheck,
        },
        target: 0.5,
      },
    };
    console.log(`FHIR : ${result.fhir.pipeline.resourcesPerSecond} resources/s through the pipeline, one file per patient (${resources} accepted) vs raw BatchWriteItem ${result.fhir.rawBatchWriteItem.itemsPerSecond} items/s (mean of ${result.fhir.rawBatchWriteItem.before.itemsPerSecond} before and ${result.fhir.rawBatchWriteItem.after.itemsPerSecond} after) → ratio ${result.fhir.ratio} (target ≥ 0.5)`);
    console.log(`FHIR : ${result.fhir.pipelineQueueBatches.resourcesPerSecond} resources/s, one file per patient in queue batches of ${FILES_INGESTED_TOGETHER} (${fhirBatchAccepted} accepted in ${batchNdjson.length} files) → ratio ${result.fhir.pipelineQueueBatches.ratio} (target ≥ 0.5)`);
    console.log(`FHIR : ${result.fhir.bulkExport.resourcesPerSecond} resources/s as a bulk export, one file per institution (${bulkAccepted} accepted in ${bulkFiles.length} files) → ratio ${result.fhir.bulkExport.ratio} (target ≥ 0.5)`);
    console.log(`DICOM: ${result.dicom.pipeline.mbPerSecond} MB/s through the pipeline (${dicomAccepted}/${dicom.length} instances, ${result.cohort.dicomMB} MB) vs raw SHA-256+AES-GCM ${result.dicom.rawSha256AesGcm.mbPerSecond} MB/s, raw PutObject ${result.dicom.rawPutObject.mbPerSecond} MB/s, combined ${result.dicom.rawCryptoPlusStore.mbPerSecond} MB/s → ratio ${result.dicom.ratio} (target ≥ 0.5)`);
    mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(REPO_ROOT, 'bench', 'results', 'ingest.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log(`FHIR vs raw BatchWriteItem ×${CONCURRENCY} in flight (${result.fhir.rawBatchWriteItemConcurrent.itemsPerSecond} items/s): ratio ${result.fhir.ratioAtSameConcurrency}`);
    console.log(`DICOM single files ×${CONCURRENCY} jobs in flight: ${result.dicom.pipelineConcurrentJobs.mbPerSecond} MB/s, ${result.dicom.pipelineConcurrentJobs.instancesPerSecond} instances/s (${concAccepted}/${dicom.length}, ${concConflicts} lost races rerun) → ratio ${result.dicom.pipelineConcurrentJobs.ratio}; vs crypto + PutObject ×${CONCURRENCY} in flight: ${result.dicom.pipelineConcurrentJobs.ratioAtSameConcurrency}`);
    console.log(`DICOM single files in queue batches of ${FILES_INGESTED_TOGETHER}: ${result.dicom.pipelineQueueBatches.mbPerSecond} MB/s (${batchAccepted}/${dicom.length}) → ratio ${result.dicom.pipelineQueueBatches.ratio} (target ≥ 0.5)`);
    console.log(`DICOM as zipped studies: ${result.dicom.zippedStudies.mbPerSecond} MB/s (${zipAccepted} instances in ${zips.length} archives) → ratio ${result.dicom.zippedStudies.ratio}; vs crypto + PutObject ×${CONCURRENCY} in flight (${result.dicom.rawCryptoPlusStoreConcurrent.mbPerSecond} MB/s): ${result.dicom.zippedStudies.ratioAtSameConcurrency}`);
    console.log(`DICOM clinical CT (${CLINICAL_STUDIES} studies × ${CLINICAL_SLICES} slices of 512², ${round(ctBytes / MB, 1)} MB) vs raw crypto + PutObject ${round(ctRawRate, 2)} MB/s: zipped ${round(ctZipRate, 2)} MB/s → ratio ${round(ctZipRate / ctRawRate, 3)}; single files ${round(ctSingleRate, 2)} MB/s → ratio ${round(ctSingleRate / ctRawRate, 3)}; single files in queue batches of ${FILES_INGESTED_TOGETHER} ${round(ctBatchedRate, 2)} MB/s → ratio ${round(ctBatchedRate / ctRawRate, 3)} (target ≥ 0.5)`);
    console.log('written to bench/results/ingest.json');
  } finally {
    await s3.stop();
    await dynamo.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
