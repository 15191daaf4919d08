import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CatalogService } from '../catalog/catalog-service';
import type { PatientIndex } from '../patients/patient-index';
import type { ResearchRecords, TimelineEvent } from '../patients/research-records';
import type { Clock } from '../ports/clock';
import type { DocumentStore, Item } from '../ports/document-store';
import type { FhirValidator } from '../ports/fhir-validator';
import type { IdGenerator } from '../ports/id-generator';
import { SpreadsheetRejected, type SpreadsheetReader } from '../ports/spreadsheet-reader';
import { platformIdOf } from './fhir-ingestor';
import type { IngestJob, RejectedItem } from './ingest-job';
import { fileIdOf, IngestJobs, jobLineageOf, wholeFile, type IngestSource } from './ingest-support';
import { isSupportedZone, localToUtc } from './local-time';
import {
  EXT_SOURCE_LOCAL_TIME,
  EXT_SOURCE_VALUE,
  EXT_TABLE_FREE_TEXT,
  FILE_ID_SYSTEM,
  LOINC_SYSTEM,
  OBSERVATION_CATEGORY_SYSTEM,
  TABLE_FIELD_SYSTEM,
  TABLE_TARGET_SYSTEM,
  TABLE_VALUE_SYSTEM,
} from '../fhir/platform-extensions';

/** Version of the table pipeline, recorded in lineage. */
export const TABLE_INGEST_VERSION = 'table-ingest/1.1.0';

/** Content type of a declared column mapping (the export's `tables/column-mapping.json`). */
export const COLUMN_MAPPING_CONTENT_TYPE = 'application/vnd.mdrp.column-mapping+json';

/** Content type of an XLSX workbook; its first sheet is read like a CSV under the same mapping. */
export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Workbooks larger than this are refused (rows of the first sheet, columns). */
const XLSX_LIMITS = { maxRows: 200_000, maxColumns: 200 };

const ColumnSchema = z.object({
  column: z.string().min(1),
  target: z.string().min(1),
  type: z.string().optional(),
  loinc: z.string().optional(),
  unit: z.string().optional(),
  range: z.tuple([z.number(), z.number()]).optional(),
  enum: z.array(z.string()).optional(),
  phi: z.union([z.boolean(), z.string()]).optional(),
});
/** The declared mapping of a hospital's table exports (R-ING-2). */
export const ColumnMappingSchema = z.object({
  timeZone: z.string().refine(isSupportedZone, 'unsupported time zone'),
  tables: z.record(
    z.string(),
    z.object({
      target: z.string().min(1),
      /** LOINC panel code of a row (`Observation.code`), e.g. 85353-1 for vital signs. */
      loinc: z.string().regex(/^\d{1,7}-\d$/, 'not a LOINC code').optional(),
      /** Human-readable name of a row (`Observation.code.text`). */
      display: z.string().min(1).optional(),
      patientKey: z.object({ column: z.string().min(1) }),
      columns: z.array(ColumnSchema).min(1),
    }),
  ),
});
export type ColumnMapping = z.infer<typeof ColumnMappingSchema>;
type Column = z.infer<typeof ColumnSchema>;

/**
 * Source unit → UCUM unit and conversion. The source value and unit are always kept beside the
 * normalized ones (R-ING-2).
 */
const UNITS: Record<string, { ucum: string; convert: (v: number) => number }> = {
  '/min': { ucum: '/min', convert: (v) => v },
  bpm: { ucum: '/min', convert: (v) => v },
  '次/分': { ucum: '/min', convert: (v) => v },
  'mm[Hg]': { ucum: 'mm[Hg]', convert: (v) => v },
  mmHg: { ucum: 'mm[Hg]', convert: (v) => v },
  kPa: { ucum: 'mm[Hg]', convert: (v) => Math.round(v * 7.50062 * 10) / 10 },
  Cel: { ucum: 'Cel', convert: (v) => v },
  '℃': { ucum: 'Cel', convert: (v) => v },
  '°C': { ucum: 'Cel', convert: (v) => v },
  degF: { ucum: 'Cel', convert: (v) => Math.round(((v - 32) * 5) / 9 * 10) / 10 },
  '°F': { ucum: 'Cel', convert: (v) => Math.round(((v - 32) * 5) / 9 * 10) / 10 },
  '%': { ucum: '%', convert: (v) => v },
  '{score}': { ucum: '{score}', convert: (v) => v },
};

const isNumeric = (c: Column) => Boolean(c.unit ?? c.loinc ?? c.range);
const isFreeText = (c: Column, key: string) => c.column !== key && (Boolean(c.phi) || /free-text/.test(c.type ?? ''));
const isTime = (c: Column) => c.type === 'local-datetime';

const TIMELINE_TYPES: Record<string, { type: string; zh: string; en: string }> = {
  'nursing-record': { type: 'nursing', zh: '护理记录', en: 'Nursing records' },
  'vital-sign-series': { type: 'vital-signs', zh: '生命体征', en: 'Vital signs' },
};

/**
 * What a row of a well-known table target is in FHIR terms when the mapping declares nothing:
 * its LOINC panel (only where one obviously fits) and its Observation category.
 */
const KNOWN_TARGETS: Record<string, { loinc?: { code: string; display: string }; category: { code: string; display: string }; text: string }> = {
  'vital-sign-series': {
    loinc: { code: '85353-1', display: 'Vital signs, weight, height, head circumference, oxygen saturation and BMI panel' },
    category: { code: 'vital-signs', display: 'Vital Signs' },
    text: 'Vital signs',
  },
  // Nursing assessments (pain, Barthel, Braden, Morse scores) are assessment-tool results.
  'nursing-record': { category: { code: 'survey', display: 'Survey' }, text: 'Nursing record' },
};

type Table = ColumnMapping['tables'][string];

/** `Observation.code` of a row: the declared (or obvious) LOINC panel and the platform's target code. */
function rowCode(table: Table): Record<string, unknown> {
  const known = KNOWN_TARGETS[table.target];
  const loinc = table.loinc ? { code: table.loinc, ...(table.display ? { display: table.display } : {}) } : known?.loinc;
  return {
    coding: [...(loinc ? [{ system: LOINC_SYSTEM, ...loinc }] : []), { system: TABLE_TARGET_SYSTEM, code: table.target }],
    text: table.display ?? known?.text ?? table.target,
  };
}

/** `component.code` of a column: its LOINC code when declared, always the platform field; the source header as text. */
function columnCode(c: Column): Record<string, unknown> {
  return {
    coding: [...(c.loinc ? [{ system: LOINC_SYSTEM, code: c.loinc }] : []), { system: TABLE_FIELD_SYSTEM, code: c.target }],
    text: c.column,
  };
}

type MappingItem = Item & { mapping: ColumnMapping };

/**
 * Ingestion of CSV tables (nursing records, vital signs) under a declared column mapping
 * (R-ING-1, -2, -5, -6, -7):
 * - the mapping is uploaded first (`application/vnd.mdrp.column-mapping+json`) and kept per
 *   dataset and institution; a CSV is then matched to its table by file name;
 * - each row becomes a FHIR R4 Observation, validated before it is written: `code` from the table
 *   target (its LOINC panel where declared or obvious), one component per mapped cell (`code`
 *   from the column's LOINC code and platform field), units normalized to UCUM with the source
 *   value and unit kept in a `source-value` extension, wall-clock times (Asia/Shanghai) normalized
 *   to UTC with the local time in a `source-local-time` extension (see `platform-extensions.ts`),
 *   the patient found by MRN (keyed hash) within the institution;
 * - rows with an unmapped, missing or malformed cell are rejected with their line and column
 *   (`INVALID_ROW`), the rest accepted;
 * - free-text columns (notes naming patients) never reach the database: they are kept per
 *   patient in one envelope-encrypted object, referenced by file id (`table-free-text` extension);
 * - per patient and day, one timeline event links that day's rows.
 */
export class TableIngestor {
  private readonly jobs: IngestJobs;

  constructor(
    private readonly store: DocumentStore,
    private readonly index: PatientIndex,
    private readonly records: ResearchRecords,
    private readonly catalog: CatalogService,
    /** Every row is checked as the FHIR R4 Observation it becomes before anything is written. */
    private readonly validator: FhirValidator,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly spreadsheets?: SpreadsheetReader,
  ) {
    this.jobs = new IngestJobs(store, clock);
  }

  async ingest(src: IngestSource): Promise<IngestJob> {
    const sha256 = IngestJobs.sha256(src.bytes);
    const previous = await this.jobs.previous(src.datasetId, sha256, src.institution);
    if (previous) return previous;
    const base = { jobId: this.ids.next('job'), sha256, startedAt: new Date(this.clock.now()).toISOString() };
    if (src.bytes.byteLength === 0) return this.jobs.finish(src, base, {}, [wholeFile('EMPTY_FILE', 'the file is empty')]);
    if (src.contentType.startsWith(COLUMN_MAPPING_CONTENT_TYPE)) return this.saveMapping(src, base);
    return this.ingestCsv(src, base);
  }

  getJob(jobId: string): Promise<IngestJob | undefined> {
    return this.jobs.get(jobId);
  }

  /** The rows of a CSV (UTF-8, RFC 4180) or of the first sheet of an XLSX workbook (R-ING-1). */
  private async rowsOf(src: IngestSource): Promise<{ rows: Array<{ line: number; cells: string[] }> } | { rejected: RejectedItem }> {
    if (src.contentType.split(';')[0]!.trim().toLowerCase() === XLSX_CONTENT_TYPE) {
      if (!this.spreadsheets) return { rejected: wholeFile('UNSUPPORTED_CONTENT_TYPE', 'XLSX is not processed here') };
      try {
        const sheet = await this.spreadsheets.readFirstSheet(src.bytes, XLSX_LIMITS);
        // Blank rows of a sheet are formatting, not data (a CSV export would drop them too).
        const rows = sheet.map((cells, i) => ({ line: i + 1, cells })).filter((r) => r.cells.some((c) => c.trim()));
        if (!rows.some((r) => r.cells.some((c) => c.trim()))) return { rejected: wholeFile('EMPTY_FILE', 'the worksheet is empty') };
        return { rows };
      } catch (e) {
        if (e instanceof SpreadsheetRejected) return { rejected: wholeFile('INVALID_SPREADSHEET', e.message) };
        throw e;
      }
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(src.bytes).replace(/^\uFEFF/, '');
    } catch {
      return { rejected: wholeFile('INVALID_ROW', 'the table is not UTF-8') };
    }
    if (!text.trim()) return { rejected: wholeFile('EMPTY_FILE', 'the table is empty') };
    return { rows: parseCsv(text) };
  }

  /** The mapping declared for a dataset and institution. */
  async mapping(datasetId: string, institution: string): Promise<ColumnMapping | undefined> {
    return (await this.store.get<MappingItem>('main', { pk: `COLMAP#${datasetId}#${institution}`, sk: 'MAPPING' }))?.mapping;
  }

  private async saveMapping(src: IngestSource, base: { jobId: string; sha256: string; startedAt: string }): Promise<IngestJob> {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(src.bytes).replace(/^\uFEFF/, ''));
    } catch {
      return this.jobs.finish(src, base, {}, [wholeFile('INVALID_JSON', 'file is not valid JSON')]);
    }
    const parsed = ColumnMappingSchema.safeParse(json);
    if (!parsed.success) return this.jobs.finish(src, base, {}, [{ line: 0, code: 'INVALID_COLUMN_MAPPING', issues: parsed.error.issues.slice(0, 20).map((i) => `${i.path.join('.')}: ${i.message}`) }]);
    await this.store.put('main', { pk: `COLMAP#${src.datasetId}#${src.institution}`, sk: 'MAPPING', mapping: parsed.data, jobId: base.jobId });
    return this.jobs.finish(src, base, { accepted: Object.keys(parsed.data.tables).length }, []);
  }

  private async ingestCsv(src: IngestSource, base: { jobId: string; sha256: string; startedAt: string }): Promise<IngestJob> {
    const mapping = await this.mapping(src.datasetId, src.institution);
    const name = src.fileName.split('/').pop()!;
    // A workbook exported from the same table uses the CSV's mapping (`x.xlsx` → `x.csv`).
    const table = mapping?.tables[name] ?? mapping?.tables[name.replace(/\.xlsx$/i, '.csv')];
    if (!mapping || !table) return this.jobs.finish(src, base, {}, [wholeFile('MISSING_COLUMN_MAPPING', `no column mapping declared for table ${name.slice(0, 64)} in this dataset (upload column-mapping.json first)`)]);
    const read = await this.rowsOf(src);
    if ('rejected' in read) return this.jobs.finish(src, base, {}, [read.rejected]);
    const rows = read.rows;
    const header = rows.shift()?.cells.map((h) => h.trim()) ?? [];
    const byName = new Map(table.columns.map((c) => [c.column, c]));
    const unmapped = header.filter((h) => !byName.has(h));
    const missing = [table.patientKey.column, ...table.columns.filter((c) => isTime(c)).map((c) => c.column)].filter((c) => !header.includes(c));
    if (unmapped.length || missing.length) {
      return this.jobs.finish(src, base, {}, [
        ...unmapped.map((column) => ({ line: 1, code: 'INVALID_ROW' as const, column, issues: ['header: column is not in the declared mapping'] })),
        ...missing.map((column) => ({ line: 1, code: 'INVALID_ROW' as const, column, issues: ['header: a required mapped column is missing'] })),
      ]);
    }

    const rejected: RejectedItem[] = [];
    const accepted: Array<{ patientId: string; resource: Record<string, unknown> & { resourceType: string; id: string }; sourceId: string; day: string; at: string }> = [];
    const notes = new Map<string, Record<string, Record<string, string>>>();
    const patients = new Map<string, string | undefined>();
    const transformations = [
      { name: 'map-columns', version: TABLE_INGEST_VERSION },
      { name: 'normalize-units-ucum', version: TABLE_INGEST_VERSION },
      { name: `normalize-time-${mapping.timeZone}-to-utc`, version: TABLE_INGEST_VERSION },
      { name: 'match-patient-by-mrn', version: TABLE_INGEST_VERSION },
      { name: 'encrypt-free-text', version: TABLE_INGEST_VERSION },
    ];
    for (const { line, cells } of rows) {
      if (cells.length === 1 && !cells[0]!.trim()) continue;
      const reject = (column: string | undefined, issue: string) => rejected.push({ line, resourceType: table.target, code: 'INVALID_ROW', ...(column ? { column } : {}), issues: [issue] });
      if (cells.length > header.length) {
        reject(`#${header.length + 1}`, 'row: more cells than mapped columns');
        continue;
      }
      const cell = (c: string) => (cells[header.indexOf(c)] ?? '').trim();
      const mrn = cell(table.patientKey.column);
      if (!patients.has(mrn)) patients.set(mrn, mrn ? await this.index.lookupMrn(src.institution, mrn) : undefined);
      const patientId = patients.get(mrn);
      if (!patientId) {
        rejected.push({ line, resourceType: table.target, code: 'UNKNOWN_PATIENT', column: table.patientKey.column, issues: ['the patient key is not the MRN of a known patient of this institution'] });
        continue;
      }
      const components: Array<Record<string, unknown>> = [];
      const freeText: Record<string, string> = {};
      let effective: { utc: string; local: string } | undefined;
      let recordId: string | undefined;
      let bad = false;
      for (const h of header) {
        const c = byName.get(h)!;
        const raw = cell(h);
        if (c.column === table.patientKey.column) continue;
        if (isFreeText(c, table.patientKey.column)) {
          if (raw) freeText[c.target] = raw;
          continue;
        }
        if (isTime(c)) {
          const utc = localToUtc(raw, mapping.timeZone);
          if (!utc) {
            reject(h, `${c.target}: not a date-time (expected YYYY-MM-DD HH:mm:ss)`);
            bad = true;
            break;
          }
          effective ??= { utc, local: raw };
          continue;
        }
        if (isNumeric(c)) {
          if (!raw) continue;
          const value = Number(raw);
          const unit = c.unit ? UNITS[c.unit] : undefined;
          if (!/^-?\d+(\.\d+)?$/.test(raw) || !Number.isFinite(value)) {
            reject(h, `${c.target}: not a number`);
            bad = true;
            break;
          }
          if (c.range && (value < c.range[0] || value > c.range[1])) {
            reject(h, `${c.target}: outside ${c.range[0]}..${c.range[1]}`);
            bad = true;
            break;
          }
          if (c.unit && !unit) {
            reject(h, `${c.target}: unit ${c.unit} cannot be normalized`);
            bad = true;
            break;
          }
          components.push({
            // The cell as written and its declared unit, beside the normalized UCUM quantity (R-ING-2).
            extension: [{ url: EXT_SOURCE_VALUE, extension: [{ url: 'value', valueString: raw }, ...(c.unit ? [{ url: 'unit', valueString: c.unit }] : [])] }],
            code: columnCode(c),
            valueQuantity: { value: unit ? unit.convert(value) : value, ...(unit ? { unit: unit.ucum, system: 'http://unitsofmeasure.org', code: unit.ucum } : {}) },
          });
          continue;
        }
        if (c.enum && raw && !c.enum.includes(raw)) {
          reject(h, `${c.target}: not one of ${c.enum.join(', ')}`);
          bad = true;
          break;
        }
        if (c.target === 'recordId') recordId = raw;
        else if (raw) {
          // Categorical cells: a declared enumeration is a code of the field's value set, anything else a string.
          components.push({ code: columnCode(c), ...(c.enum ? { valueCodeableConcept: { coding: [{ system: `${TABLE_VALUE_SYSTEM}/${c.target}`, code: raw }], text: raw } } : { valueString: raw }) });
        }
      }
      if (bad) continue;
      if (!effective) {
        reject(undefined, 'row: no timestamp');
        continue;
      }
      const sourceId = recordId || `line-${line}`;
      const id = platformIdOf(src.institution, table.target, sourceId);
      const notesFileId = fileIdOf(src.institution, `table-notes|${name}`, patientId);
      const freeFields = Object.keys(freeText);
      const resource = {
        resourceType: 'Observation',
        id,
        extension: [
          { url: EXT_SOURCE_LOCAL_TIME, extension: [{ url: 'localDateTime', valueString: effective.local }, { url: 'timeZone', valueCode: mapping.timeZone }] },
          ...(freeFields.length ? [{ url: EXT_TABLE_FREE_TEXT, extension: [{ url: 'file', valueIdentifier: { system: FILE_ID_SYSTEM, value: notesFileId } }, ...freeFields.map((f) => ({ url: 'field', valueString: f }))] }] : []),
        ],
        status: 'final',
        category: [{ ...(KNOWN_TARGETS[table.target] ? { coding: [{ system: OBSERVATION_CATEGORY_SYSTEM, ...KNOWN_TARGETS[table.target]!.category }] } : {}), text: table.target }],
        code: rowCode(table),
        subject: { reference: `Patient/${patientId}` },
        effectiveDateTime: effective.utc,
        ...(components.length ? { component: components } : {}),
      };
      const issues = this.validator.validate(resource);
      if (issues.length) {
        rejected.push({ line, resourceType: table.target, code: 'INVALID_FHIR', issues: issues.slice(0, 20) });
        continue;
      }
      if (freeFields.length) {
        const perPatient = notes.get(patientId) ?? {};
        perPatient[id] = freeText;
        notes.set(patientId, perPatient);
      }
      const day = new Date(Date.parse(effective.utc) + 8 * 3600_000).toISOString().slice(0, 10);
      accepted.push({ patientId, resource, sourceId: `${table.target}/${sourceId}`, day, at: effective.utc });
    }

    // Free text first (encrypted objects), then records, then events: a crash leaves at worst an
    // unreferenced ciphertext, and a retry rewrites the same ids.
    if (notes.size) {
      await this.records.saveFiles(
        [...notes].map(([patientId, byRecord]) => ({
          meta: { fileId: fileIdOf(src.institution, `table-notes|${name}`, patientId), patientId, kind: 'table-free-text', contentType: 'application/json', fileName: `${table.target}-free-text.json`, description: { zh: `${table.target} 自由文本`, en: `${table.target} free text` }, datasetId: src.datasetId },
          bytes: new TextEncoder().encode(JSON.stringify(byRecord)),
        })),
      );
    }
    if (accepted.length) await this.records.saveJobLineage(jobLineageOf(src, base, transformations));
    for (let i = 0; i < accepted.length; i += 100) await this.records.saveJobRecords(base.jobId, accepted.slice(i, i + 100));
    const events = timelineOf(src.institution, table.target, accepted);
    if (events.length) await this.records.saveTimeline(events);
    const job = await this.jobs.finish(src, base, { accepted: accepted.length, patients: new Set(accepted.map((a) => a.patientId)).size, timelineEvents: events.length }, rejected);
    await this.catalog.recordIngest(src.datasetId, { records: accepted.length, files: notes.size, patientCount: (await this.records.profilesOf(src.datasetId)).length, at: job.finishedAt });
    return job;
  }
}

/** One event per patient and local day, linking that day's rows (R-ING-7). */
function timelineOf(institution: string, target: string, rows: Array<{ patientId: string; resource: { id: string }; day: string; at: string }>): TimelineEvent[] {
  const spec = TIMELINE_TYPES[target] ?? { type: target, zh: target, en: target };
  const groups = new Map<string, typeof rows>();
  for (const r of rows) {
    const k = `${r.patientId}|${r.day}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups].map(([k, list]) => {
    const sorted = [...list].sort((a, b) => a.at.localeCompare(b.at));
    return {
      eventId: `ev-tbl-${createHash('sha256').update(`${institution}|${target}|${k}`).digest('hex').slice(0, 24)}`,
      patientId: sorted[0]!.patientId,
      type: spec.type,
      occurredAt: sorted[0]!.at,
      endedAt: sorted[sorted.length - 1]!.at,
      title: { zh: `${spec.zh}（${list.length}）`, en: `${spec.en} (${list.length})` },
      recordRefs: sorted.map((r) => `Observation/${r.resource.id}`),
      fileIds: [],
      source: 'ingested' as const,
      annotations: [],
    };
  });
}

/** RFC 4180 CSV: quoted cells may hold commas, quotes ("") and line breaks; lines are 1-based. */
export function parseCsv(text: string): Array<{ line: number; cells: string[] }> {
  const out: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      out.push({ line: start, cells });
      cells = [];
      cell = '';
      line++;
      start = line;
    } else cell += ch;
  }
  if (cell !== '' || cells.length) {
    cells.push(cell);
    out.push({ line: start, cells });
  }
  return out;
}
