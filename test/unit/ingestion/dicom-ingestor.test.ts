import * as dcmjsModule from 'dcmjs';
import { zipSync } from 'fflate';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { clinicalCtSeries } from '../../../infra/local/demo/clinical-series';
import type { DemoPatient } from '../../../infra/local/demo/demo-model';
import { parseDicom } from '../../../functions/core/ingestion/dicom-image';
import { fileIdOf } from '../../../functions/core/ingestion/ingest-support';
import type { TransactOperation } from '../../../functions/core/ports/document-store';
import { containerWith, demoCohort, patientIdOf, source } from './multimodal-fixture';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const dcmjs = ((dcmjsModule as any).default ?? dcmjsModule) as any;

/** The same instance re-serialized without its PixelData element. */
function withoutPixels(bytes: Uint8Array): Uint8Array {
  const d = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  delete d.dict['7FE00010'];
  const out = new dcmjs.data.DicomDict(d.meta);
  out.dict = d.dict;
  return new Uint8Array(out.write());
}

type Series = { seriesInstanceUid: string; numberOfInstances: number; previewFileId?: string };
type Instance = { sopInstanceUid: string; seriesInstanceUid: string; instanceNumber?: number; fileId: string; rows: number };
/** A study's instances (items of their own beside the study record). */
const instancesOf = (c: Awaited<ReturnType<typeof containerWith>>, patientId: string, study: Record<string, unknown>) => c.research.studyInstances<Instance>(patientId, String(study.id));

describe('DICOM ingestion (R-ING-1, R-ING-3..7)', () => {
  let p: DemoPatient;
  let dicom: DemoPatient['files'];
  beforeAll(() => {
    p = demoCohort().patients[0]!;
    dicom = p.files.filter((f) => f.kind === 'dicom');
  });

  it('R-ING-3/R-ING-7: stores the original encrypted with a PNG preview, a study record without patient attributes, an imaging event', async () => {
    // Prepare
    const c = await containerWith([p]);
    const f = dicom.find((x) => x.contentType === 'application/dicom')!;
    // Act
    const job = await c.ingestRouter.ingest(source(p, 'x.dcm', 'application/dicom', f.bytes));
    // Assess
    expect(job.counts).toMatchObject({ accepted: 1, rejected: 0, patients: 1 });
    const patientId = await patientIdOf(c, p);
    const studies = await c.research.records(patientId, 'ImagingStudy');
    const study = studies.find((s) => s.studyInstanceUid === f.dicom!.studyInstanceUid)!;
    expect(study).toMatchObject({ numberOfInstances: 1, subject: { reference: `Patient/${patientId}` } });
    const text = JSON.stringify(study);
    for (const secret of [p.identity.fullName, p.identity.mrn, p.identity.birthDate.replaceAll('-', '')]) expect(text).not.toContain(secret);
    const [inst] = await instancesOf(c, patientId, study);
    expect(inst!.rows).toBeGreaterThan(0);
    const original = await c.research.readFile(patientId, inst!.fileId);
    expect(original!.file.sha256).toBe(job.sha256);
    const preview = await c.research.readFile(patientId, (study.series as Series[])[0]!.previewFileId!);
    const png = PNG.sync.read(Buffer.from(preview!.bytes));
    expect(png.width * png.height).toBeGreaterThan(0);
    const event = (await c.research.timeline(patientId)).find((e) => e.type === 'imaging' && e.fileIds.includes(inst!.fileId))!;
    expect(event.recordRefs).toEqual([`ImagingStudy/${study.id}`]);
    const lineage = await c.research.lineageOf(patientId, 'ImagingStudy', String(study.id));
    expect(lineage).toMatchObject({ jobId: job.jobId, fileSha256: job.sha256 });
  });

  it('R-ING-5: the same file twice is one job; a second instance of the study merges into the same record and event', async () => {
    const c = await containerWith([p]);
    const [a, b] = dicom.filter((x) => x.dicom?.studyInstanceUid === dicom.find((y) => dicom.filter((z) => z.dicom?.studyInstanceUid === y.dicom?.studyInstanceUid).length > 1)!.dicom!.studyInstanceUid);
    const first = await c.ingestRouter.ingest(source(p, 'a.dcm', 'application/dicom', a!.bytes));
    expect((await c.ingestRouter.ingest(source(p, 'a.dcm', 'application/dicom', a!.bytes))).jobId).toBe(first.jobId);
    await c.ingestRouter.ingest(source(p, 'b.dcm', 'application/dicom', b!.bytes));
    const patientId = await patientIdOf(c, p);
    const study = (await c.research.records(patientId, 'ImagingStudy')).find((s) => s.studyInstanceUid === a!.dicom!.studyInstanceUid)!;
    expect(study.numberOfInstances).toBe(2);
    const events = (await c.research.timeline(patientId)).filter((e) => e.recordRefs.includes(`ImagingStudy/${study.id}`));
    expect(events).toHaveLength(1);
    // Two originals and the preview of each series they are in.
    expect(events[0]!.fileIds.length).toBe(2 + new Set((study.series as Series[]).map((x) => x.seriesInstanceUid)).size);
  });

  it('R-ING-5: single-file jobs of one study running at once (an SQS batch) lose none of each other\'s instances', async () => {
    const c = await containerWith([p]);
    const uid = dicom.find((y) => dicom.filter((z) => z.dicom?.studyInstanceUid === y.dicom?.studyInstanceUid).length > 2)!.dicom!.studyInstanceUid;
    const same = dicom.filter((x) => x.dicom?.studyInstanceUid === uid);
    const jobs = await Promise.all(same.map((f, i) => c.ingestRouter.ingest(source(p, `${i}.dcm`, 'application/dicom', f.bytes))));
    expect(jobs.every((j) => j.counts.accepted === 1)).toBe(true);
    const patientId = await patientIdOf(c, p);
    const study = (await c.research.records(patientId, 'ImagingStudy')).find((s) => s.studyInstanceUid === uid)!;
    expect(study.numberOfInstances).toBe(same.length);
    const events = (await c.research.timeline(patientId)).filter((e) => e.recordRefs.includes(`ImagingStudy/${study.id}`));
    expect(events).toHaveLength(1);
    // Every original, and a preview for each series (a job that lost the race keeps the one it stored).
    const all = await instancesOf(c, patientId, study);
    expect(all.map((i) => i.sopInstanceUid).sort()).toEqual(same.map((f) => f.dicom!.sopInstanceUid).sort());
    for (const i of all) expect(events[0]!.fileIds).toContain(i.fileId);
    for (const x of study.series as Series[]) expect(x.previewFileId && events[0]!.fileIds.includes(x.previewFileId)).toBe(true);
  });

  it('R-ING-5: a job reads the study record before its instance items, so an instance another job commits in between is never left uncounted', async () => {
    const c = await containerWith([p]);
    const [a, b] = clinicalCtSeries(p, { seed: 93, slices: 2, size: 16 });
    // Job A's read of the study record is held until job B has committed its instance.
    let release!: () => void;
    const bCommitted = new Promise<void>((r) => (release = r));
    const getMany = c.documents.getMany.bind(c.documents);
    let held = false;
    c.documents.getMany = async (table, keys) => {
      if (!held && keys.some((k) => k.sk.startsWith('REC#ImagingStudy#'))) {
        held = true;
        await bCommitted;
      }
      return getMany(table, keys);
    };
    const jobA = c.ingestRouter.ingest(source(p, 'a.dcm', 'application/dicom', a!));
    await new Promise((r) => setTimeout(r, 20));
    await c.ingestRouter.ingest(source(p, 'b.dcm', 'application/dicom', b!));
    release();
    await jobA;
    const patientId = await patientIdOf(c, p);
    const study = (await c.research.records(patientId, 'ImagingStudy')).find((s) => s.description === 'CT Chest')!;
    expect(await instancesOf(c, patientId, study)).toHaveLength(2);
    expect(study.numberOfInstances).toBe(2);
  });

  it('R-ING-5/R-GOV-1: the dataset counts move with the job; the same file again, or twice at once (a redelivered event), counts once', async () => {
    const c = await containerWith([p]);
    const [a, b] = dicom.filter((x) => x.contentType === 'application/dicom');
    const before = (await c.catalog.getDataset('bc-test')).fileCount;
    const [one, two] = await Promise.all([c.ingestRouter.ingest(source(p, 'a.dcm', 'application/dicom', a!.bytes)), c.ingestRouter.ingest(source(p, 'a.dcm', 'application/dicom', a!.bytes))]);
    expect(two.jobId).toBe(one.jobId);
    expect((await c.catalog.getDataset('bc-test')).fileCount).toBe(before + 1);
    expect((await c.ingestRouter.ingest(source(p, 'a.dcm', 'application/dicom', a!.bytes))).jobId).toBe(one.jobId);
    await c.ingestRouter.ingest(source(p, 'b.dcm', 'application/dicom', b!.bytes));
    expect((await c.catalog.getDataset('bc-test')).fileCount).toBe(before + 2);
  });

  it('R-ING-5: RGB secondary captures get an as-is preview', async () => {
    const c = await containerWith([p]);
    const sc = dicom.find((x) => x.dicom?.modality === 'OT' || /dose/i.test(x.description.en));
    if (!sc) return;
    const job = await c.ingestRouter.ingest(source(p, 'sc.dcm', 'application/dicom', sc.bytes));
    expect(job.counts.accepted).toBe(1);
    const patientId = await patientIdOf(c, p);
    const study = (await c.research.records(patientId, 'ImagingStudy')).find((s) => s.studyInstanceUid === sc.dicom!.studyInstanceUid)!;
    const png = PNG.sync.read(Buffer.from((await c.research.readFile(patientId, (study.series as Series[])[0]!.previewFileId!))!.bytes));
    // As-is: the colours survive (a grey rendering would have R = G = B everywhere).
    expect([...Array(png.width * png.height).keys()].some((i) => png.data[i * 4] !== png.data[i * 4 + 1] || png.data[i * 4 + 1] !== png.data[i * 4 + 2])).toBe(true);
  });

  it('R-ING-5: truncated, non-Part-10, pixel-less, empty and unknown-patient files are rejected with a reason and nothing written', async () => {
    const c = await containerWith([p]);
    const f = dicom[0]!.bytes;
    const other = demoCohort().patients[1]!; // never ingested: unknown to the index
    const otherFile = other.files.find((x) => x.kind === 'dicom')!.bytes;
    const cases: Array<[Uint8Array, string, string]> = [
      [f.subarray(0, f.length - 200), 'INVALID_DICOM', 'truncated'],
      [f.subarray(132), 'INVALID_DICOM', 'no preamble'],
      [withoutPixels(f), 'NO_PIXEL_DATA', 'no pixels'],
      [new Uint8Array(0), 'EMPTY_FILE', 'empty'],
      [otherFile, 'UNKNOWN_PATIENT', 'unknown patient'],
    ];
    const patientId = await patientIdOf(c, p);
    const before = JSON.stringify([await c.research.records(patientId, 'ImagingStudy'), await c.research.timeline(patientId)]);
    for (const [bytes, code, name] of cases) {
      const job = await c.ingestRouter.ingest(source(p, `${name}.dcm`, 'application/dicom', bytes));
      expect(job.counts.accepted, name).toBe(0);
      expect(job.rejected[0]?.code, name).toBe(code);
    }
    expect(JSON.stringify([await c.research.records(patientId, 'ImagingStudy'), await c.research.timeline(patientId)])).toBe(before);
    // A rejected file leaves no content marker: once fixed (the patient indexed), it is accepted.
    const c2 = await containerWith([p, other]);
    expect((await c2.ingestRouter.ingest(source(other, 'o.dcm', 'application/dicom', otherFile))).counts.accepted).toBe(1);
  });

  describe('one preview per series', () => {
    const series = (n: number) => clinicalCtSeries(p, { seed: 77, slices: n, size: 64 });
    const studyOf = async (c: Awaited<ReturnType<typeof containerWith>>, patientId: string) => (await c.research.records(patientId, 'ImagingStudy')).find((s) => s.description === 'CT Chest')!;

    it('R-ING-1/R-ING-3: a zipped series gets one preview, of its middle instance; the event lists every original and it', async () => {
      const c = await containerWith([p]);
      const slices = series(5);
      const job = await c.ingestRouter.ingest(source(p, 'ct.zip', 'application/zip', zipSync(Object.fromEntries(slices.map((b, i) => [`CT/IM${i}.dcm`, [b, { level: 0 }]])))));
      expect(job.counts.accepted).toBe(5);
      const patientId = await patientIdOf(c, p);
      const study = await studyOf(c, patientId);
      const instances = await instancesOf(c, patientId, study);
      expect(instances).toHaveLength(5);
      expect(study).toMatchObject({ numberOfInstances: 5, series: [{ numberOfInstances: 5 }] });
      const previewId = (study.series as Series[])[0]!.previewFileId!;
      const preview = (await c.research.readFile(patientId, previewId))!;
      const middle = instances.find((i) => i.instanceNumber === 3)!;
      expect(preview.file.fileName).toBe(`${middle.sopInstanceUid}.png`);
      const png = PNG.sync.read(Buffer.from(preview.bytes));
      expect([png.width, png.height]).toEqual([64, 64]);
      const event = (await c.research.timeline(patientId)).find((e) => e.recordRefs.includes(`ImagingStudy/${study.id}`))!;
      expect(new Set(event.fileIds)).toEqual(new Set([...instances.map((i) => i.fileId), previewId]));
      const lineage = await c.research.lineageOf(patientId, 'ImagingStudy', String(study.id));
      expect(lineage!.transformations.map((t) => t.name)).toContain('render-preview-png');
    });

    it('R-ING-3: single files of one series: the first one brings the preview, later ones none; re-ingesting it renders it again under the same id', async () => {
      const c = await containerWith([p]);
      const slices = series(3);
      for (const [i, b] of slices.entries()) await c.ingestRouter.ingest(source(p, `ct${i}.dcm`, 'application/dicom', b));
      const patientId = await patientIdOf(c, p);
      const study = await studyOf(c, patientId);
      const instances = await instancesOf(c, patientId, study);
      expect(study).toMatchObject({ numberOfInstances: 3, series: [{ numberOfInstances: 3 }] });
      const previewId = (study.series as Series[])[0]!.previewFileId!;
      const first = (await c.research.readFile(patientId, previewId))!.file;
      expect(first.fileName).toBe(`${instances.find((i) => i.instanceNumber === 1)!.sopInstanceUid}.png`);
      const event = (await c.research.timeline(patientId)).find((e) => e.recordRefs.includes(`ImagingStudy/${study.id}`))!;
      expect(event.fileIds).toHaveLength(4);
      const before = first.sha256;
      // The same SOP instance re-exported with other pixels (a new job: other bytes).
      const changed = new Uint8Array(slices[0]!);
      changed[changed.length - 1] = changed[changed.length - 1]! ^ 0xff;
      expect((await c.ingestRouter.ingest(source(p, 'ct0-again.dcm', 'application/dicom', changed))).counts.accepted).toBe(1);
      const again = await studyOf(c, patientId);
      expect(again).toMatchObject({ numberOfInstances: 3, series: [{ numberOfInstances: 3, previewFileId: previewId }] });
      expect((await c.research.readFile(patientId, previewId))!.file.sha256).not.toBe(before);
    });

    it('R-ING-5: single files of one series at once (an SQS batch): a preview exists and every stored object has its metadata', async () => {
      const c = await containerWith([p]);
      const slices = series(4);
      const jobs = await Promise.all(slices.map((b, i) => c.ingestRouter.ingest(source(p, `ct${i}.dcm`, 'application/dicom', b))));
      expect(jobs.every((j) => j.counts.accepted === 1)).toBe(true);
      const patientId = await patientIdOf(c, p);
      const study = await studyOf(c, patientId);
      expect(await instancesOf(c, patientId, study)).toHaveLength(4);
      expect(study).toMatchObject({ numberOfInstances: 4, series: [{ numberOfInstances: 4, previewFileId: expect.any(String) }] });
      // Jobs that lost the study record's race ran again; a preview object of theirs is never left without metadata.
      const stored = (await c.objects.list('data', `patients/${patientId}/`)).map((k) => k.split('/').pop()!);
      expect(stored.length).toBeGreaterThanOrEqual(5);
      for (const id of stored) expect((await c.research.readFile(patientId, id))?.file.fileId, id).toBe(id);
    });
  });

  describe('study records stay small', () => {
    it('R-ING-1/R-ING-5: a 300-instance study keeps a record of the same size as a 3-instance one (instances are items of their own; DynamoDB items are at most 400 KB)', async () => {
      const c = await containerWith([p]);
      const sizeOf = async (n: number, seed: number) => {
        const slices = clinicalCtSeries(p, { seed, slices: n, size: 8 });
        await c.ingestRouter.ingest(source(p, `ct${n}.zip`, 'application/zip', zipSync(Object.fromEntries(slices.map((b, i) => [`CT/IM${i}.dcm`, [b, { level: 0 }]])))));
        const patientId = await patientIdOf(c, p);
        const uid = parseDicom(slices[0]!).summary.studyInstanceUid;
        const study = (await c.research.records(patientId, 'ImagingStudy')).find((x) => x.studyInstanceUid === uid)!;
        expect(study.numberOfInstances).toBe(n);
        expect(await instancesOf(c, patientId, study)).toHaveLength(n);
        return JSON.stringify(study).length;
      };
      const small = await sizeOf(3, 301);
      const large = await sizeOf(300, 302);
      expect(large).toBeLessThan(small + 40); // the counts and UIDs differ in length, nothing grows per instance
    });

    it('R-ING-1/R-ING-5: a large archive is matched 100 entries at a time, its first objects stored before its last chunk is matched; bad and empty entries keep their index', async () => {
      const c = await containerWith([p]);
      const slices = clinicalCtSeries(p, { seed: 303, slices: 250, size: 8 });
      const entries = slices.map((b, i): [string, Uint8Array] => [`CT/IM${i}.dcm`, i === 5 ? new Uint8Array(0) : i === 217 ? b.subarray(0, b.length - 50) : b]);
      const steps: string[] = [];
      const lookupMrns = c.patientIndex.lookupMrns.bind(c.patientIndex);
      c.patientIndex.lookupMrns = async (institution, mrns) => {
        steps.push(`lookup ${mrns.length}`);
        return lookupMrns(institution, mrns);
      };
      const storeObjects = c.research.storeObjects.bind(c.research);
      c.research.storeObjects = async (files, concurrency) => {
        if (steps.at(-1) !== 'store') steps.push('store');
        return storeObjects(files, concurrency);
      };
      const job = await c.ingestRouter.ingest(source(p, 'ct.zip', 'application/zip', zipSync(Object.fromEntries(entries.map(([name, b]) => [name, [b, { level: 0 }]])))));
      expect(job.counts).toMatchObject({ accepted: 248, rejected: 2 });
      // Entries are numbered from 1; the empty one is never parsed, so the others' numbers come from their own entry.
      expect(job.rejected.map((r) => [r.line, r.code])).toEqual([[6, 'EMPTY_FILE'], [218, 'INVALID_DICOM']]);
      // 249 non-empty entries: lookups of 100, 100 and 48 (the truncated entry is not looked up), objects stored in between.
      expect(steps.filter((x) => x.startsWith('lookup'))).toEqual(['lookup 100', 'lookup 100', 'lookup 48']);
      expect(steps.indexOf('store')).toBeLessThan(steps.lastIndexOf('lookup 48'));
      const patientId = await patientIdOf(c, p);
      const study = (await c.research.records(patientId, 'ImagingStudy')).find((x) => x.studyInstanceUid === parseDicom(slices[0]!).summary.studyInstanceUid)!;
      expect(study.numberOfInstances).toBe(248);
    });

    it('R-ING-5: an archive whose later chunk cannot be matched fails only after the objects already being stored have landed, and its rerun commits it whole', async () => {
      const c = await containerWith([p]);
      const slices = clinicalCtSeries(p, { seed: 304, slices: 150, size: 8 });
      const zip = source(p, 'ct.zip', 'application/zip', zipSync(Object.fromEntries(slices.map((b, i) => [`CT/IM${i}.dcm`, [b, { level: 0 }]]))));
      const lookupMrns = c.patientIndex.lookupMrns.bind(c.patientIndex);
      let lookups = 0;
      c.patientIndex.lookupMrns = async (institution, mrns) => {
        if (++lookups === 2) throw new Error('identity vault unavailable');
        return lookupMrns(institution, mrns);
      };
      const storeObjects = c.research.storeObjects.bind(c.research);
      let storing = 0;
      c.research.storeObjects = async (files, concurrency) => {
        storing += 1;
        try {
          await new Promise((r) => setTimeout(r, 5));
          return await storeObjects(files, concurrency);
        } finally {
          storing -= 1;
        }
      };
      await expect(c.ingestRouter.ingest(zip).finally(() => expect(storing).toBe(0))).rejects.toThrow('identity vault unavailable');
      const patientId = await patientIdOf(c, p);
      const uid = parseDicom(slices[0]!).summary.studyInstanceUid;
      expect((await c.research.records(patientId, 'ImagingStudy')).filter((x) => x.studyInstanceUid === uid)).toHaveLength(0);
      const job = await c.ingestRouter.ingest(zip);
      expect(job.counts).toMatchObject({ accepted: 150, rejected: 0 });
      expect((await c.research.records(patientId, 'ImagingStudy')).find((x) => x.studyInstanceUid === uid)).toMatchObject({ numberOfInstances: 150 });
    });

    /**
     * Ingests `first` and rewrites its study record in the older shape: the instance listed in its
     * series (with the preview id), no instance item; without `version` too when `unversioned`.
     */
    const legacyStudyOf = async (c: Awaited<ReturnType<typeof containerWith>>, first: Uint8Array, { unversioned }: { unversioned: boolean }) => {
      await c.ingestRouter.ingest(source(p, 'first.dcm', 'application/dicom', first));
      const patientId = await patientIdOf(c, p);
      const study = (await c.research.records(patientId, 'ImagingStudy')).find((x) => x.description === 'CT Chest')!;
      const [inst] = await instancesOf(c, patientId, study);
      const key = { pk: `PATIENT#${patientId}`, sk: `REC#ImagingStudy#${study.id}` };
      const { version, ...item } = (await c.documents.get<Record<string, unknown> & { pk: string; sk: string; resource: Record<string, unknown> }>('main', key))!;
      expect(version).toBe(1);
      const series = (study.series as Series[]).map(({ previewFileId, ...x }) => ({ ...x, instances: [{ ...inst, previewFileId }] }));
      await c.documents.put('main', { ...item, ...(unversioned ? {} : { version }), resource: { ...item.resource, series } });
      await c.documents.delete('main', { pk: `PATIENT#${patientId}`, sk: `DCMI#${study.id}#${inst!.sopInstanceUid}` });
      return { patientId, study, inst: inst!, key };
    };

    it('R-ING-5: a study record written with inline instances (before instance items) keeps counting them when the study grows, and again after', async () => {
      const c = await containerWith([p]);
      const [a, b, d] = clinicalCtSeries(p, { seed: 401, slices: 3, size: 8 });
      const { patientId, study, inst } = await legacyStudyOf(c, a!, { unversioned: false });
      await c.ingestRouter.ingest(source(p, 'b.dcm', 'application/dicom', b!));
      const grown = (await c.research.records(patientId, 'ImagingStudy')).find((x) => x.id === study.id)!;
      expect(grown).toMatchObject({ numberOfInstances: 2, series: [{ numberOfInstances: 2, previewFileId: (study.series as Series[])[0]!.previewFileId }] });
      expect(JSON.stringify(grown)).not.toContain('"instances"');
      // The inline instance got its own item with the rewrite, so the next merge still counts it.
      await c.ingestRouter.ingest(source(p, 'd.dcm', 'application/dicom', d!));
      const again = (await c.research.records(patientId, 'ImagingStudy')).find((x) => x.id === study.id)!;
      expect(again.numberOfInstances).toBe(3);
      expect((await instancesOf(c, patientId, again)).map((i) => i.sopInstanceUid)).toContain(inst.sopInstanceUid);
    });

    it('R-ING-5: two jobs growing one unversioned study record (written before records had versions) at once keep both instances: the later commit loses its condition and merges again', async () => {
      const c = await containerWith([p]);
      const [x, a, b] = clinicalCtSeries(p, { seed: 402, slices: 3, size: 8 });
      const { patientId, study, key } = await legacyStudyOf(c, x!, { unversioned: true });
      expect((await c.documents.get('main', key))?.version).toBeUndefined();
      // Job A has read the legacy record and merged its instance; its commit is held until job B has committed.
      const transact = c.documents.transact.bind(c.documents);
      let held: (() => void) | undefined;
      let reached!: () => void;
      const aAtCommit = new Promise<void>((r) => (reached = r));
      c.documents.transact = async (ops) => {
        if (!held && ops.some((o) => o.kind === 'put' && o.item.sk === key.sk)) {
          await new Promise<void>((r) => {
            held = r;
            reached();
          });
        }
        return transact(ops);
      };
      const jobA = c.ingestRouter.ingest(source(p, 'a.dcm', 'application/dicom', a!));
      await aAtCommit;
      await c.ingestRouter.ingest(source(p, 'b.dcm', 'application/dicom', b!));
      held!();
      expect((await jobA).counts.accepted).toBe(1);
      const grown = (await c.research.records(patientId, 'ImagingStudy')).find((s) => s.id === study.id)!;
      expect(grown.numberOfInstances).toBe(3);
      expect((await instancesOf(c, patientId, grown)).map((i) => i.sopInstanceUid).sort()).toEqual([x, a, b].map((f) => parseDicom(f!).summary.sopInstanceUid).sort());
      expect((await c.documents.get('main', key))?.version).toBe(2);
    });
  });
  describe('the files of a queue batch (ARCHITECTURE D8: an SQS batch of up to 10 staged objects)', () => {
    const series = (n: number, seed = 88) => clinicalCtSeries(p, { seed, slices: n, size: 16 });
    const writesStudyRecord = (ops: TransactOperation[]) => ops.some((o) => o.kind === 'put' && String(o.item.sk).startsWith('REC#ImagingStudy#'));
    const markerRemovals = (ops: TransactOperation[]) => ops.filter((o) => o.kind === 'delete' && o.key.sk.startsWith('DCMS#')).length;
    const markersOf = async (c: Awaited<ReturnType<typeof containerWith>>, patientId: string) => (await c.documents.query('main', { pk: `PATIENT#${patientId}`, skPrefix: 'DCMS#' })).items;
    /** Every transaction that writes a study record fails (an invocation dying there); returns a restore, which returns the store's own transact. */
    const crashBeforeStudyRecords = (c: Awaited<ReturnType<typeof containerWith>>) => {
      const transact = c.documents.transact.bind(c.documents);
      c.documents.transact = async (ops) => {
        if (writesStudyRecord(ops)) throw new Error('invocation timed out');
        return transact(ops);
      };
      return () => (c.documents.transact = transact);
    };
    const studyOf = async (c: Awaited<ReturnType<typeof containerWith>>, patientId: string) => (await c.research.records(patientId, 'ImagingStudy')).find((s) => s.description === 'CT Chest')!;
    /** The job reports of the test dataset with this file name. */
    const reportsOf = async (c: Awaited<ReturnType<typeof containerWith>>, fileName: string) =>
      (await c.documents.query<{ pk: string; sk: string; job: { fileName: string } }>('main', { index: 'gsi1', pk: 'JOBS#bc-test' })).items.filter((x) => x.job.fileName === fileName);

    it('R-ING-5: 12 slices of one study are 12 jobs with a report each, committed in one transaction instead of 12; the study counts all, its event once', async () => {
      const c = await containerWith([p]);
      const slices = series(12);
      const before = (await c.catalog.getDataset('bc-test')).fileCount;
      const transact = vi.spyOn(c.documents, 'transact');
      const results = await c.ingestRouter.ingestMany(slices.map((b, i) => source(p, `ct${i}.dcm`, 'application/dicom', b)));
      const jobs = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
      expect(jobs.map((j) => j?.counts.accepted)).toEqual(slices.map(() => 1));
      expect(jobs.map((j) => j?.fileName)).toEqual(slices.map((_, i) => `ct${i}.dcm`));
      expect(new Set(jobs.map((j) => j!.jobId)).size).toBe(12);
      expect(transact).toHaveBeenCalledTimes(1);
      expect(jobs.reduce((n, j) => n + j!.counts.timelineEvents, 0)).toBe(1);
      for (const j of jobs) expect(await c.ingestRouter.ingest(source(p, 'again.dcm', 'application/dicom', slices[jobs.indexOf(j)]!))).toEqual(j);
      const patientId = await patientIdOf(c, p);
      const study = await studyOf(c, patientId);
      expect(study).toMatchObject({ numberOfInstances: 12, series: [{ numberOfInstances: 12, previewFileId: expect.any(String) }] });
      expect(await instancesOf(c, patientId, study)).toHaveLength(12);
      expect((await c.research.timeline(patientId)).filter((e) => e.recordRefs.includes(`ImagingStudy/${study.id}`))).toHaveLength(1);
      expect((await c.catalog.getDataset('bc-test')).fileCount).toBe(before + 12);
    });

    it('R-ING-5: 60 slices commit in stages (items, the study, then reports in transactions of 49 files); a crash before the reports loses nothing and counts nothing twice on redelivery', async () => {
      const c = await containerWith([p]);
      const slices = series(60, 92);
      const before = (await c.catalog.getDataset('bc-test')).fileCount;
      const sources = slices.map((b, i) => source(p, `ct${i}.dcm`, 'application/dicom', b));
      // The first invocation dies after the study is written, before any report lands (the
      // store unreachable from then on; the files' fallback one by one fails the same way).
      const transact = c.documents.transact.bind(c.documents);
      c.documents.transact = async (ops) => {
        if (ops.some((o) => o.kind === 'put' && String(o.item.pk).startsWith('JOB#'))) throw new Error('invocation timed out');
        return transact(ops);
      };
      const failed = await c.dicomIngest.ingestFiles(sources);
      expect(failed.map((r) => r.status)).toEqual(slices.map(() => 'rejected'));
      const patientId = await patientIdOf(c, p);
      expect((await studyOf(c, patientId)).numberOfInstances).toBe(60);
      expect((await c.catalog.getDataset('bc-test')).fileCount).toBe(before);
      // Redelivered: every file gets its report, the study stays at 60, each file is counted once.
      c.documents.transact = transact;
      const spy = vi.spyOn(c.documents, 'transact');
      const jobs = (await c.dicomIngest.ingestFiles(sources)).map((r) => (r.status === 'fulfilled' ? r.value : undefined)!);
      expect(jobs.map((j) => j.counts.accepted)).toEqual(slices.map(() => 1));
      expect(spy.mock.calls.map(([ops]) => ops.filter((o) => o.kind === 'put' && String(o.item.pk).startsWith('JOB#')).length)).toEqual([0, 49, 11]);
      expect((await studyOf(c, patientId)).numberOfInstances).toBe(60);
      expect(await instancesOf(c, patientId, await studyOf(c, patientId))).toHaveLength(60);
      expect((await c.catalog.getDataset('bc-test')).fileCount).toBe(before + 60);
      expect((await c.research.timeline(patientId)).filter((e) => e.type === 'imaging' && e.title.en === 'CT Chest')).toHaveLength(1);
      expect((await c.dicomIngest.ingestFiles(sources)).map((r) => r.status === 'fulfilled' && r.value.jobId)).toEqual(jobs.map((j) => j.jobId));
    });

    it('R-ING-5: the studies of a batch are read in one round trip with their patients; new studies are not queried for instances', async () => {
      const c = await containerWith([p]);
      const studies = [series(3, 71), series(3, 72), series(3, 73), series(3, 74)];
      const getMany = vi.spyOn(c.documents, 'getMany');
      const query = vi.spyOn(c.documents, 'query');
      const results = await c.dicomIngest.ingestFiles(studies.flat().map((b, i) => source(p, `s${i}.dcm`, 'application/dicom', b)));
      expect(results.map((r) => r.status === 'fulfilled' && r.value.counts.accepted)).toEqual(studies.flat().map(() => 1));
      const studyReads = getMany.mock.calls.filter(([, keys]) => keys.some((k) => k.sk.startsWith('REC#ImagingStudy#')));
      expect(studyReads).toHaveLength(1);
      expect(studyReads[0]![1].filter((k) => k.sk.startsWith('REC#ImagingStudy#'))).toHaveLength(4);
      expect(getMany.mock.calls.filter(([table]) => table === 'identity')).toHaveLength(1);
      expect(query.mock.calls.filter(([, q]) => q.skPrefix?.startsWith('DCMI#'))).toHaveLength(0);
      // A study that now has a record is queried: its next slice counts the 3 before it.
      const patientId = await patientIdOf(c, p);
      const [more] = clinicalCtSeries(p, { seed: 71, slices: 4, size: 16 }).slice(3);
      await c.dicomIngest.ingestFiles([source(p, 'more.dcm', 'application/dicom', more!)]);
      const grown = (await c.research.records(patientId, 'ImagingStudy')).filter((s) => s.numberOfInstances === 4);
      expect(grown).toHaveLength(1);
    });

    describe('a batch of many studies commits in waves of whole studies', () => {
      // 20 studies of 3 slices: 16 writes each (2 per instance, a preview, record, event, marker
      // removal, 2 reports' worth per file), 6 to a transaction: waves of 18, 18, 18 and 6 files.
      const studies = () => Array.from({ length: 20 }, (_, k) => series(3, 300 + k));
      const reportsIn = (ops: TransactOperation[]) => ops.filter((o) => o.kind === 'put' && String(o.item.pk).startsWith('JOB#')).length;

      it('R-ING-5: each wave is one transaction with its reports, and the next wave is stored while the one before commits', async () => {
        const c = await containerWith([p]);
        const before = (await c.catalog.getDataset('bc-test')).fileCount;
        let puts = 0;
        let onPut: (() => void) | undefined;
        const put = c.objects.put.bind(c.objects);
        c.objects.put = async (...args) => {
          puts += 1;
          onPut?.();
          return put(...args);
        };
        const transact = c.documents.transact.bind(c.documents);
        const commits: Array<{ reports: number; putsDuring: number }> = [];
        c.documents.transact = async (ops) => {
          const at = puts;
          // A commit that lands only once the next wave has stored an object (or after 2 s, when
          // the waves ran one after the other): the last has no wave after it.
          if (commits.length < 3) await Promise.race([new Promise<void>((r) => (onPut = r)), new Promise((r) => setTimeout(r, 2000))]);
          await transact(ops);
          commits.push({ reports: reportsIn(ops), putsDuring: puts - at });
        };
        const batchPut = vi.spyOn(c.documents, 'batchPut');
        const results = await c.dicomIngest.ingestFiles(studies().flat().map((b, i) => source(p, `s${i}.dcm`, 'application/dicom', b)));
        const jobs = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined)!);
        expect(jobs.map((j) => j.counts.accepted)).toEqual(jobs.map(() => 1));
        expect(jobs.map((j) => j.fileName)).toEqual(jobs.map((_, i) => `s${i}.dcm`));
        expect(commits.map((x) => x.reports)).toEqual([18, 18, 18, 6]);
        expect(commits.slice(0, 3).every((x) => x.putsDuring > 0)).toBe(true);
        expect(batchPut).not.toHaveBeenCalled();
        expect(jobs.reduce((n, j) => n + j.counts.timelineEvents, 0)).toBe(20);
        const patientId = await patientIdOf(c, p);
        const records = (await c.research.records(patientId, 'ImagingStudy')).filter((s) => s.description === 'CT Chest');
        expect(records.map((r) => r.numberOfInstances)).toEqual(records.map(() => 3));
        expect(records).toHaveLength(20);
        expect((await c.catalog.getDataset('bc-test')).fileCount).toBe(before + 60);
      });

      it('R-ING-5: a file that cannot be stored stops the waves after its own; the waves before keep their reports, which the files run one by one then return', async () => {
        const c = await containerWith([p]);
        const files = studies().flat();
        // A slice of the third wave.
        const poison = fileIdOf(p.institutionId, 'dicom', parseDicom(files[40]!).summary.sopInstanceUid);
        const lastWave = new Set(files.slice(54).map((b) => fileIdOf(p.institutionId, 'dicom', parseDicom(b).summary.sopInstanceUid)));
        const log: string[] = [];
        let poisoned!: () => void;
        const failing = new Promise<void>((r) => (poisoned = r));
        const put = c.objects.put.bind(c.objects);
        c.objects.put = async (bucket, key, body, meta) => {
          const fileId = meta?.metadata?.['file-id'] ?? '';
          if (lastWave.has(fileId)) log.push('last wave stored');
          if (fileId === poison) {
            log.push('poison');
            poisoned();
            throw new Error('object store unavailable');
          }
          return put(bucket, key, body, meta);
        };
        const transact = c.documents.transact.bind(c.documents);
        let commits = 0;
        c.documents.transact = async (ops) => {
          // The second wave's commit lands only after the third wave has failed.
          if (++commits === 2) await failing.then(() => new Promise((r) => setTimeout(r, 20)));
          await transact(ops);
          log.push(`committed ${reportsIn(ops)}`);
        };
        const getMany = c.documents.getMany.bind(c.documents);
        c.documents.getMany = async (table, keys) => {
          log.push('read');
          return getMany(table, keys);
        };
        const results = await c.dicomIngest.ingestFiles(files.map((b, i) => source(p, `s${i}.dcm`, 'application/dicom', b)));
        expect(results.map((r) => r.status)).toEqual(files.map((_, i) => (i === 40 ? 'rejected' : 'fulfilled')));
        // The batch run: two waves committed, the second after the third failed and before the
        // files run one by one (their first read), nothing of the last wave stored.
        const failedAt = log.indexOf('poison');
        expect(log.slice(0, failedAt).filter((x) => x.startsWith('committed'))).toEqual(['committed 18']);
        expect(log.slice(failedAt, failedAt + 2)).toEqual(['poison', 'committed 18']);
        expect(log.slice(0, failedAt)).not.toContain('last wave stored');
        const reports = (await c.documents.query<{ pk: string; sk: string; job: { fileName: string } }>('main', { index: 'gsi1', pk: 'JOBS#bc-test' })).items.filter((x) => /^s\d+\.dcm$/.test(x.job.fileName));
        expect(reports).toHaveLength(59);
        expect(new Set(reports.map((r) => r.job.fileName)).size).toBe(59);
        const patientId = await patientIdOf(c, p);
        const records = (await c.research.records(patientId, 'ImagingStudy')).filter((s) => s.description === 'CT Chest');
        expect(records.map((r) => r.numberOfInstances).sort()).toEqual([...records.map(() => 3).slice(1), 2].sort());
      });
    });

    it('R-ING-5: a staged batch that crashed before its study record leaves instances that the next job of the study counts, though no report names them', async () => {
      const c = await containerWith([p]);
      const slices = series(60, 94);
      // The invocation dies after the instance items, before the study record (and is never redelivered).
      const restore = crashBeforeStudyRecords(c);
      const failed = await c.dicomIngest.ingestFiles(slices.slice(0, 59).map((b, i) => source(p, `ct${i}.dcm`, 'application/dicom', b)));
      expect(failed.every((r) => r.status === 'rejected')).toBe(true);
      restore();
      const patientId = await patientIdOf(c, p);
      expect((await c.research.records(patientId, 'ImagingStudy')).filter((s) => s.description === 'CT Chest')).toHaveLength(0);
      // Another file of the study: its record counts the 59 instances the crashed run stored.
      const job = await c.ingestRouter.ingest(source(p, 'last.dcm', 'application/dicom', slices[59]!));
      expect(job.counts.accepted).toBe(1);
      const study = await studyOf(c, patientId);
      expect(study.numberOfInstances).toBe(60);
      expect(await instancesOf(c, patientId, study)).toHaveLength(60);
      // The crashed run's marker went with the record that counted its instances.
      expect(await markersOf(c, patientId)).toHaveLength(0);
    });

    it('R-ING-5: a staged batch that finds a crashed batch\'s marker removes it once with the record and counts every instance', async () => {
      const c = await containerWith([p]);
      const slices = series(80, 96);
      const restore = crashBeforeStudyRecords(c);
      await c.dicomIngest.ingestFiles(slices.slice(0, 40).map((b, i) => source(p, `ct${i}.dcm`, 'application/dicom', b)));
      const transact = restore();
      const patientId = await patientIdOf(c, p);
      expect(await markersOf(c, patientId)).toHaveLength(1);
      // The next batch of the study is staged too (40 files): its one record write carries the one removal.
      const records: number[] = [];
      c.documents.transact = async (ops) => {
        if (writesStudyRecord(ops)) records.push(markerRemovals(ops));
        return transact(ops);
      };
      const jobs = await c.dicomIngest.ingestFiles(slices.slice(40).map((b, i) => source(p, `ct${40 + i}.dcm`, 'application/dicom', b)));
      expect(jobs.every((r) => r.status === 'fulfilled')).toBe(true);
      expect(records).toEqual([1]);
      expect((await studyOf(c, patientId)).numberOfInstances).toBe(80);
      expect(await markersOf(c, patientId)).toHaveLength(0);
    });

    it('R-ING-5: a staged batch marks its new studies before any instance item and removes each mark in the transaction of its study record', async () => {
      const c = await containerWith([p]);
      const writes: string[] = [];
      const batchPut = c.documents.batchPut.bind(c.documents);
      const transact = c.documents.transact.bind(c.documents);
      c.documents.batchPut = async (table, items) => {
        const kinds = [...new Set(items.map((i) => String(i.sk).split('#')[0]))];
        writes.push(...kinds.map((k) => `start ${k}`));
        // A slow marker write: an instance write started before it landed would show here.
        if (kinds.includes('DCMS')) await new Promise((r) => setTimeout(r, 30));
        await batchPut(table, items);
        writes.push(...kinds.map((k) => `done ${k}`));
      };
      c.documents.transact = async (ops) => {
        if (writesStudyRecord(ops)) writes.push(`record with ${markerRemovals(ops)} marker removal(s)`);
        return transact(ops);
      };
      const jobs = await c.dicomIngest.ingestFiles(series(40, 95).map((b, i) => source(p, `ct${i}.dcm`, 'application/dicom', b)));
      expect(jobs.every((r) => r.status === 'fulfilled')).toBe(true);
      expect(writes.indexOf('done DCMS')).toBeGreaterThanOrEqual(0);
      expect(writes.lastIndexOf('done DCMS')).toBeLessThan(writes.indexOf('start DCMI'));
      expect(writes.filter((w) => w.startsWith('record'))).toEqual(['record with 1 marker removal(s)']);
      const patientId = await patientIdOf(c, p);
      expect(await markersOf(c, patientId)).toHaveLength(0);
      expect((await studyOf(c, patientId)).numberOfInstances).toBe(40);
    });

    it('R-ING-5/R-MPI-1: a batch whose DICOM files come before the FHIR file that indexes their patient ingests the patient first', async () => {
      // Prepare: nothing of the patient ingested yet
      const c = await containerWith([]);
      const [a, b] = series(2, 93);
      const fhir = new TextEncoder().encode(p.fhir.map((r) => JSON.stringify(r)).join('\n'));
      // Act
      const results = await c.ingestRouter.ingestMany([source(p, 'a.dcm', 'application/dicom', a!), source(p, 'b.dcm', 'application/dicom', b!), source(p, 'patient.ndjson', 'application/fhir+ndjson', fhir)]);
      // Assess
      const jobs = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
      expect(jobs.map((j) => [j?.fileName, j?.counts.accepted, j?.counts.rejected])).toEqual([
        ['a.dcm', 1, 0],
        ['b.dcm', 1, 0],
        ['patient.ndjson', p.fhir.length, 0],
      ]);
      expect((await studyOf(c, await patientIdOf(c, p))).numberOfInstances).toBe(2);
    });

    it('R-ING-5: in one batch a file seen before returns its report, the same bytes twice are one job, bad files get their own report once, results keep their order', async () => {
      const c = await containerWith([p]);
      const [a, b, d] = series(3, 89);
      const seen = await c.ingestRouter.ingest(source(p, 'a.dcm', 'application/dicom', a!));
      const truncated = b!.subarray(0, b!.length - 100);
      const results = await c.ingestRouter.ingestMany([
        source(p, 'b.dcm', 'application/dicom', b!),
        source(p, 'a-again.dcm', 'application/dicom', a!),
        source(p, 'bad.dcm', 'application/dicom', truncated),
        source(p, 'd.dcm', 'application/dicom', d!),
        source(p, 'd-twice.dcm', 'application/dicom', d!),
        source(p, 'empty.dcm', 'application/dicom', new Uint8Array(0)),
      ]);
      const jobs = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
      expect(jobs[1]!.jobId).toBe(seen.jobId);
      expect(jobs[4]!.jobId).toBe(jobs[3]!.jobId);
      expect(jobs.map((j) => j!.counts.accepted)).toEqual([1, 1, 0, 1, 1, 0]);
      expect(jobs[2]!.rejected[0]!.code).toBe('INVALID_DICOM');
      expect(jobs[5]!.rejected[0]!.code).toBe('EMPTY_FILE');
      const patientId = await patientIdOf(c, p);
      expect(await studyOf(c, patientId)).toMatchObject({ numberOfInstances: 3 });
      expect(await reportsOf(c, 'bad.dcm')).toHaveLength(1);
    });

    it('R-ING-5: a batch racing a single-file job of the same study reruns and loses nothing; a rejected file in it is reported once', async () => {
      const c = await containerWith([p]);
      const slices = series(6, 90);
      const truncated = slices[5]!.subarray(0, slices[5]!.length - 100);
      const [batch, lone] = await Promise.all([
        c.ingestRouter.ingestMany([...slices.slice(0, 5).map((b, i) => source(p, `ct${i}.dcm`, 'application/dicom', b)), source(p, 'bad.dcm', 'application/dicom', truncated)]),
        c.ingestRouter.ingest(source(p, 'ct5.dcm', 'application/dicom', slices[5]!)),
      ]);
      expect(batch.map((r) => r.status === 'fulfilled' && r.value.counts.accepted)).toEqual([1, 1, 1, 1, 1, 0]);
      expect(lone.counts.accepted).toBe(1);
      const patientId = await patientIdOf(c, p);
      const study = await studyOf(c, patientId);
      expect(study.numberOfInstances).toBe(6);
      expect(await instancesOf(c, patientId, study)).toHaveLength(6);
      expect(await reportsOf(c, 'bad.dcm')).toHaveLength(1);
    });

    it('R-ING-5: a file whose object cannot be stored fails alone: the batch is ingested file by file and the others are accepted', async () => {
      const c = await containerWith([p]);
      const slices = series(4, 91);
      const poison = fileIdOf(p.institutionId, 'dicom', parseDicom(slices[2]!).summary.sopInstanceUid);
      const objects = c.objects;
      const put = objects.put.bind(objects);
      objects.put = async (bucket, key, body, meta) => {
        if (meta?.metadata?.['file-id'] === poison) throw new Error('object store unavailable');
        return put(bucket, key, body, meta);
      };
      const results = await c.ingestRouter.ingestMany(slices.map((b, i) => source(p, `ct${i}.dcm`, 'application/dicom', b)));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      const patientId = await patientIdOf(c, p);
      expect((await studyOf(c, patientId)).numberOfInstances).toBe(3);
      // Redelivered once the store is back: accepted, and the study complete.
      objects.put = put;
      expect((await c.ingestRouter.ingestMany([source(p, 'ct2.dcm', 'application/dicom', slices[2]!)]))[0]).toMatchObject({ status: 'fulfilled', value: { counts: { accepted: 1 } } });
      expect((await studyOf(c, patientId)).numberOfInstances).toBe(4);
    });
  });
});
