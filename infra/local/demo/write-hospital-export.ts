import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DemoCohort, DemoPatient, ExportManifest, ExportManifestFile } from './demo-model';
import { toShanghai } from './demo-time';

/** Column headers of `tables/nursing-records.csv` (Chinese, as the nursing system exports them). */
export const NURSING_COLUMNS = ['记录号', '病案号', '记录时间', '病区', '护理类别', '疼痛评分(NRS)', 'Barthel指数', 'Braden评分', 'Morse跌倒评分', '护理记录', '护士工号'] as const;
/** Column headers of `tables/vital-signs.csv`. */
export const VITAL_COLUMNS = ['记录号', '病案号', '测量时间', '心率', '收缩压', '舒张压', '体温', '血氧饱和度', '呼吸', '来源'] as const;

/** Declared column mapping (`tables/column-mapping.json`): source column → platform field, code, unit (R-ING-2). */
export const COLUMN_MAPPING = {
  timeZone: 'Asia/Shanghai',
  timestampFormat: 'YYYY-MM-DD HH:mm:ss (hospital wall clock, no offset)',
  encoding: 'UTF-8 with BOM',
  tables: {
    'nursing-records.csv': {
      target: 'nursing-record',
      patientKey: { column: '病案号', identifierSystem: 'https://mdrp.example.org/fhir/sid/mrn/{institutionId}' },
      columns: [
        { column: '记录号', target: 'recordId' },
        { column: '病案号', target: 'patient.mrn', phi: true },
        { column: '记录时间', target: 'recordedAt', type: 'local-datetime' },
        { column: '病区', target: 'ward' },
        { column: '护理类别', target: 'category' },
        { column: '疼痛评分(NRS)', target: 'painScore', loinc: '72514-3', unit: '{score}', range: [0, 10] },
        { column: 'Barthel指数', target: 'barthelIndex', unit: '{score}', range: [0, 100] },
        { column: 'Braden评分', target: 'bradenScore', unit: '{score}', range: [6, 23] },
        { column: 'Morse跌倒评分', target: 'fallRiskScore', unit: '{score}', range: [0, 125] },
        { column: '护理记录', target: 'note', type: 'free-text-zh', phi: 'may contain names' },
        { column: '护士工号', target: 'nurseId' },
      ],
    },
    'vital-signs.csv': {
      target: 'vital-sign-series',
      patientKey: { column: '病案号', identifierSystem: 'https://mdrp.example.org/fhir/sid/mrn/{institutionId}' },
      columns: [
        { column: '记录号', target: 'recordId' },
        { column: '病案号', target: 'patient.mrn', phi: true },
        { column: '测量时间', target: 'measuredAt', type: 'local-datetime' },
        { column: '心率', target: 'heartRate', loinc: '8867-4', unit: '/min' },
        { column: '收缩压', target: 'systolic', loinc: '8480-6', unit: 'mm[Hg]' },
        { column: '舒张压', target: 'diastolic', loinc: '8462-4', unit: 'mm[Hg]' },
        { column: '体温', target: 'temperature', loinc: '8310-5', unit: 'Cel' },
        { column: '血氧饱和度', target: 'spo2', loinc: '59408-5', unit: '%' },
        { column: '呼吸', target: 'respiratoryRate', loinc: '9279-1', unit: '/min' },
        { column: '来源', target: 'source', enum: ['monitor', 'manual'] },
      ],
    },
  },
} as const;

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function csv(header: readonly string[], rows: (string | number)[][]): string {
  // BOM so that spreadsheet tools at the hospital open the UTF-8 file correctly.
  return `\uFEFF${[header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

const localTs = (iso: string): string => toShanghai(iso).offsetIso.slice(0, 19).replace('T', ' ');

/** Relative export path of a patient file. */
export function exportPathOf(p: DemoPatient, f: DemoPatient['files'][number]): string {
  if (f.kind === 'dicom' && f.dicom) return `dicom/${p.institutionId}/${f.dicom.studyInstanceUid}/${f.dicom.seriesInstanceUid}/${f.dicom.sopInstanceUid}.dcm`;
  return `documents/${f.fileName}`;
}

/**
 * Writes the cohort as a hospital export folder: `fhir/<ResourceType>.ndjson`,
 * `dicom/<institution>/<Study>/<Series>/<SOP>.dcm`, `documents/*`, `tables/*.csv` +
 * `tables/column-mapping.json`, and `manifest.json` (sha256 of every file, R-ING-4). Paths in the
 * manifest are sorted, so the manifest is byte-identical for the same cohort.
 */
export async function writeHospitalExport(cohort: DemoCohort, dir: string): Promise<ExportManifest> {
  const files: ExportManifestFile[] = [];
  const put = async (rel: string, data: Uint8Array | string, contentType: string, extra: Partial<ExportManifestFile> = {}): Promise<void> => {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const abs = join(dir, rel);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, bytes);
    files.push({ path: rel, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex'), contentType, ...extra });
  };

  const byType = new Map<string, string[]>();
  for (const p of cohort.patients) {
    for (const r of p.fhir) {
      const list = byType.get(r.resourceType) ?? [];
      list.push(JSON.stringify(r));
      byType.set(r.resourceType, list);
    }
  }
  const fhirCounts: Record<string, number> = {};
  for (const type of [...byType.keys()].sort()) {
    const lines = byType.get(type) ?? [];
    fhirCounts[type] = lines.length;
    await put(`fhir/${type}.ndjson`, `${lines.join('\n')}\n`, 'application/fhir+ndjson');
  }

  const studies = new Set<string>();
  let dicomFiles = 0;
  let documents = 0;
  for (const p of cohort.patients) {
    for (const f of p.files) {
      if (f.kind === 'dicom') {
        dicomFiles++;
        if (f.dicom) studies.add(f.dicom.studyInstanceUid);
      } else documents++;
      await put(exportPathOf(p, f), f.bytes, f.contentType, { sourcePatientId: p.sourcePatientId, fileId: f.fileId });
    }
  }

  const nursingRows = cohort.patients.flatMap((p) => p.nursing.map((n) => [n.recordId, n.mrn, localTs(n.recordedAt), n.ward, n.category.zh, n.painScore, n.barthelIndex, n.bradenScore, n.fallRiskScore, n.note, n.nurseId]));
  const vitalRows = cohort.patients.flatMap((p) => p.vitals.map((v) => [v.recordId, v.mrn, localTs(v.measuredAt), v.heartRate, v.systolic, v.diastolic, v.temperatureC.toFixed(1), v.spo2, v.respiratoryRate, v.source]));
  await put('tables/nursing-records.csv', csv(NURSING_COLUMNS, nursingRows), 'text/csv; charset=utf-8');
  await put('tables/vital-signs.csv', csv(VITAL_COLUMNS, vitalRows), 'text/csv; charset=utf-8');
  await put('tables/column-mapping.json', `${JSON.stringify(COLUMN_MAPPING, null, 2)}\n`, 'application/json');

  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const manifest: ExportManifest = {
    format: 'mdrp-demo-hospital-export',
    formatVersion: 1,
    generatorVersion: cohort.generatorVersion,
    seed: cohort.seed,
    generatedAt: cohort.generatedAt,
    institutions: cohort.institutions.map((i) => ({ institutionId: i.institutionId, name: i.name, patients: cohort.patients.filter((p) => p.institutionId === i.institutionId).length })),
    counts: {
      patients: cohort.patients.length,
      fhirResources: fhirCounts,
      dicomFiles,
      dicomStudies: studies.size,
      documents,
      nursingRows: nursingRows.length,
      vitalRows: vitalRows.length,
    },
    probableDuplicatePairs: cohort.duplicatePairs,
    datasets: cohort.datasets.map(({ sourcePatientIds: _ids, ...d }) => d),
    consentExcluded: cohort.patients.filter((p) => p.consent.excluded).map((p) => p.sourcePatientId),
    pdfText: cohort.pdfText,
    timeZone: 'Asia/Shanghai',
    files,
  };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
