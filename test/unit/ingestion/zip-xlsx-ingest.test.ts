import ExcelJS from 'exceljs';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { COLUMN_MAPPING, VITAL_COLUMNS } from '../../../infra/local/demo/write-hospital-export';
import type { DemoPatient } from '../../../infra/local/demo/demo-model';
import { YauzlArchiveReader } from '../../../functions/adapters/shared/yauzl-archive-reader';
import { STUDY_ZIP_LIMITS, studyRecordIdOf } from '../../../functions/core/ingestion/dicom-ingestor';
import { MedplumFhirValidator } from '../../../functions/adapters/shared/medplum-fhir-validator';
import { sourceLocalTimeOf } from '../../../functions/core/fhir/platform-extensions';
import { containerWith, demoCohort, patientIdOf, source } from './multimodal-fixture';

const enc = (s: string) => new TextEncoder().encode(s);

/** Rewrites the declared uncompressed size of every entry (local header and central directory). */
function declareSize(zip: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(zip);
  const v = new DataView(out.buffer);
  for (let i = 0; i + 4 <= out.length; i++) {
    const sig = v.getUint32(i, true);
    if (sig === 0x04034b50) v.setUint32(i + 22, size, true);
    if (sig === 0x02014b50) v.setUint32(i + 24, size, true);
  }
  return out;
}

describe('Zipped DICOM studies and XLSX tables (R-ING-1, R-ING-5)', () => {
  let p: DemoPatient;
  let dicom: Uint8Array[];
  beforeAll(() => {
    p = demoCohort().patients[0]!;
    dicom = p.files.filter((f) => f.contentType === 'application/dicom').map((f) => f.bytes);
  });
  const zip = (files: Record<string, Uint8Array>, level: 0 | 6 | 9 = 6) => zipSync(Object.fromEntries(Object.entries(files).map(([k, b]) => [k, [b, { level }]])));

  it('R-ING-1: a zipped study is unpacked and every instance goes through the DICOM pipeline under one job; noise files are skipped, bad entries reported by index', async () => {
    const c = await containerWith([p]);
    const files: Record<string, Uint8Array> = { '__MACOSX/._x': enc('x'), 'study/bad.dcm': enc('not dicom at all') };
    dicom.forEach((b, i) => (files[`study/series1/IM${i}.dcm`] = b));
    const archive = zip(files);
    const job = await c.ingestRouter.ingest(source(p, 'study.zip', 'application/zip', archive));
    expect(job.counts).toMatchObject({ accepted: dicom.length, rejected: 1, patients: 1 });
    expect(job.rejected[0]).toMatchObject({ code: 'INVALID_DICOM', line: 2 });
    expect(JSON.stringify(job.rejected)).not.toContain('bad.dcm');
    const patientId = await patientIdOf(c, p);
    const ids = new Set(p.files.filter((f) => f.contentType === 'application/dicom').map((f) => studyRecordIdOf(p.institutionId, f.dicom!.studyInstanceUid)));
    const studies = (await c.research.records(patientId, 'ImagingStudy')).filter((s) => ids.has(String(s.id)));
    expect(studies.reduce((n, s) => n + Number(s.numberOfInstances), 0)).toBe(dicom.length);
    const lineage = await c.research.lineageOf(patientId, 'ImagingStudy', String(studies[0]!.id));
    expect(lineage).toMatchObject({ jobId: job.jobId, fileName: expect.stringMatching(/^study\.zip#\d+$/) });
    expect(lineage!.transformations.map((t) => t.name)).toContain('unzip-study-archive');
    // The same archive again is the same job (idempotent by content hash).
    expect((await c.ingestRouter.ingest(source(p, 'study.zip', 'application/zip', archive))).jobId).toBe(job.jobId);
  });

  it('R-ING-5: an archive whose final write fails leaves no study, event or report; run again it is complete, each file readable and intact', async () => {
    // Prepare
    const c = await containerWith([p]);
    const patientId = await patientIdOf(c, p);
    const files: Record<string, Uint8Array> = {};
    dicom.forEach((b, i) => (files[`study/IM${i}.dcm`] = b));
    // The same instance twice: its object and its metadata must still agree.
    files['study/again.dcm'] = dicom[0]!;
    const archive = zip(files);
    const before = (await c.research.records(patientId, 'ImagingStudy')).length;
    const realTransact = c.documents.transact.bind(c.documents);
    c.documents.transact = async (ops) => {
      if (ops.some((o) => o.kind === 'put' && o.item.sk === 'JOB')) throw new Error('emulator restarted');
      return realTransact(ops);
    };
    // Act
    await expect(c.ingestRouter.ingest(source(p, 'study.zip', 'application/zip', archive))).rejects.toThrow('emulator restarted');
    const afterCrash = (await c.research.records(patientId, 'ImagingStudy')).length;
    c.documents.transact = realTransact;
    const job = await c.ingestRouter.ingest(source(p, 'study.zip', 'application/zip', archive));
    // Assess
    expect(afterCrash).toBe(before);
    expect(job.counts).toMatchObject({ accepted: dicom.length + 1, rejected: 0 });
    const ids = new Set(p.files.filter((f) => f.contentType === 'application/dicom').map((f) => studyRecordIdOf(p.institutionId, f.dicom!.studyInstanceUid)));
    const studies = (await c.research.records(patientId, 'ImagingStudy')).filter((s) => ids.has(String(s.id)));
    expect(studies.reduce((n, s) => n + Number(s.numberOfInstances), 0)).toBe(dicom.length);
    const fileIds = (
      await Promise.all(
        studies.map(async (s) => [
          ...(await c.research.studyInstances<{ sopInstanceUid: string; seriesInstanceUid: string; fileId: string }>(patientId, String(s.id))).map((i) => i.fileId),
          ...(s.series as Array<{ previewFileId?: string }>).flatMap((x) => (x.previewFileId ? [x.previewFileId] : [])),
        ]),
      )
    ).flat();
    for (const fileId of fileIds) expect((await c.research.readFile(patientId, fileId))?.bytes.byteLength).toBeGreaterThan(0);
    const dataset = await c.catalog.getDataset('bc-test');
    expect(dataset.fileCount).toBe(dicom.length + 1);
  });

  it('R-ING-5: a zip with a ../ path or an absolute path is refused as a whole, nothing written', async () => {
    const c = await containerWith([p]);
    const patientId = await patientIdOf(c, p);
    const before = (await c.research.records(patientId, 'ImagingStudy')).length;
    for (const name of ['../../etc/evil.dcm', 'study/../../evil.dcm', '/abs/evil.dcm']) {
      const job = await c.ingestRouter.ingest(source(p, 'evil.zip', 'application/zip', zip({ 'ok.dcm': dicom[0]!, [name]: dicom[1] ?? dicom[0]! })));
      expect(job.rejected).toEqual([expect.objectContaining({ line: 0, code: 'ZIP_PATH_TRAVERSAL' })]);
      expect(job.counts.accepted).toBe(0);
      expect(JSON.stringify(job.rejected)).not.toMatch(/etc|\/abs|evil/);
    }
    expect((await c.research.records(patientId, 'ImagingStudy')).length).toBe(before);
  });

  it('R-ING-5: zip bombs are refused: ratio, declared size over the entry limit, actual size over the declared one, too many entries', async () => {
    const c = await containerWith([p]);
    const ingest = async (bytes: Uint8Array) => (await c.ingestRouter.ingest(source(p, 'bomb.zip', 'application/zip', bytes))).rejected.map((r) => r.code);
    // 8 MiB of zeros deflates to a few KiB: a ratio no study has.
    expect(await ingest(zip({ 'a.dcm': new Uint8Array(8 * 1024 * 1024) }, 9))).toEqual(['ZIP_RATIO_LIMIT']);
    // A header declaring more than the per-entry limit.
    expect(await ingest(declareSize(zip({ 'a.dcm': dicom[0]! }, 6), STUDY_ZIP_LIMITS.maxEntryBytes + 1))).toEqual(['ZIP_SIZE_LIMIT']);
    // A header declaring less than the entry really inflates to.
    expect(await ingest(declareSize(zip({ 'a.dcm': dicom[0]! }, 6), 100))).toEqual(['ZIP_SIZE_MISMATCH']);
    // Not a zip at all.
    expect(await ingest(enc('PK\u0003\u0004 but not really a zip'))).toEqual(['INVALID_ZIP']);
    // Too many entries (checked on a small limit: the reader is the same).
    const many: Record<string, Uint8Array> = {};
    for (let i = 0; i < 12; i++) many[`f${i}.dcm`] = enc('x');
    await expect(new YauzlArchiveReader().readZip(zip(many), { ...STUDY_ZIP_LIMITS, maxEntries: 10 })).rejects.toMatchObject({ code: 'ZIP_ENTRY_LIMIT' });
    await expect(new YauzlArchiveReader().readZip(zip(many), { ...STUDY_ZIP_LIMITS, maxTotalBytes: 5 })).rejects.toMatchObject({ code: 'ZIP_SIZE_LIMIT' });
  });

  it('R-ING-1/R-ING-2: an XLSX export goes through the table pipeline under the declared column mapping (x.xlsx uses the mapping of x.csv)', async () => {
    const c = await containerWith([p]);
    await c.ingestRouter.ingest(source(p, 'column-mapping.json', 'application/vnd.mdrp.column-mapping+json', enc(JSON.stringify(COLUMN_MAPPING))));
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('vitals');
    ws.addRow([...VITAL_COLUMNS]);
    ws.addRow(['V1', p.identity.mrn, new Date(Date.UTC(2024, 9, 3, 7, 5, 0)), 65, 103, 80, 36.9, 99, 17, 'manual']);
    ws.addRow([]);
    ws.addRow(['V2', p.identity.mrn, '2024-13-03 07:05:00', 65, 103, 80, 36.9, 99, 17, 'manual']);
    const bytes = new Uint8Array(await wb.xlsx.writeBuffer());
    const job = await c.ingestRouter.ingest(source(p, 'vital-signs.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', bytes));
    expect(job.counts).toMatchObject({ accepted: 1, rejected: 1 });
    expect(job.rejected[0]).toMatchObject({ line: 4, code: 'INVALID_ROW' });
    const patientId = await patientIdOf(c, p);
    const obs = (await c.research.records(patientId, 'Observation')).find((r) => sourceLocalTimeOf(r));
    expect(new MedplumFhirValidator().validate(obs)).toEqual([]);
    expect(sourceLocalTimeOf(obs)?.localDateTime).toBe('2024-10-03 07:05:00');
    // Excel wall-clock 07:05 in Asia/Shanghai is 23:05 UTC the day before.
    expect(obs!.effectiveDateTime).toBe('2024-10-02T23:05:00.000Z');
    // A file that is not a workbook gets a machine-readable reason.
    const bad = await c.ingestRouter.ingest(source(p, 'vital-signs.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', enc('not a workbook')));
    expect(bad.rejected.map((r) => r.code)).toEqual(['INVALID_SPREADSHEET']);
  });
});
