import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import ExcelJS from 'exceljs';
import { ExcelJsSpreadsheetReader } from '../../functions/adapters/shared/exceljs-spreadsheet-reader';
import { parseCsv, XLSX_CONTENT_TYPE } from '../../functions/core/ingestion/table-ingestor';

/** One file as the CLI uploads it (FHIR and tables are split per institution first). */
interface Planned {
  phase: 'fhir' | 'dicom' | 'documents' | 'tables';
  /** What the report prints: never a patient identifier (document file names carry MRNs). */
  label: string;
  fileName: string;
  contentType: string;
  institution: string;
  bytes: Uint8Array;
  patientRef?: string;
}

/** The outcome of one file. */
export interface FileOutcome {
  label: string;
  status: 'accepted' | 'rejected' | 'timeout';
  accepted: number;
  rejected: number;
  codes: string[];
}

export interface IngestExportOptions {
  dir: string;
  apiUrl: string;
  token: string;
  datasetId: string;
  /** Only this institution's files; default every institution of the export. */
  institution?: string;
  sourceSystem?: string;
  concurrency?: number;
  log?: (line: string) => void;
}

const TYPES: Array<[RegExp, string]> = [
  [/\.ndjson$/i, 'application/fhir+ndjson'],
  [/\.dcm$/i, 'application/dicom'],
  [/\.pdf$/i, 'application/pdf'],
  [/\.txt$/i, 'text/plain; charset=utf-8'],
  [/\.png$/i, 'image/png'],
  [/\.jpe?g$/i, 'image/jpeg'],
  [/\.csv$/i, 'text/csv; charset=utf-8'],
  [/\.xlsx$/i, XLSX_CONTENT_TYPE],
];

async function walk(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

type Fhir = { resourceType: string; id?: string; identifier?: Array<{ system?: string; value?: string; type?: { coding?: Array<{ code?: string }> } }>; meta?: { source?: string }; subject?: { reference?: string }; patient?: { reference?: string } };

/**
 * Plans the uploads of a hospital export folder: FHIR first (Patients before everything else, so
 * later files can be matched), then DICOM, documents, and tables (their column mapping first).
 * A multi-institution export is split per institution, since an upload belongs to one.
 */
export async function planExport(dir: string, only?: string): Promise<Planned[]> {
  const manifest = existsSync(join(dir, 'manifest.json')) ? (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files?: Array<{ path: string; sourcePatientId?: string }> }) : { files: [] };
  const byPath = new Map((manifest.files ?? []).map((f) => [f.path, f]));
  const plan: Planned[] = [];
  const want = (inst: string) => !only || inst === only;

  // FHIR: patient → institution from the MRN identifier's system (…/mrn/<institution>).
  const fhirFiles = (await walk(join(dir, 'fhir'))).sort((a, b) => Number(!a.endsWith('Patient.ndjson')) - Number(!b.endsWith('Patient.ndjson')) || a.localeCompare(b));
  const patientInstitution = new Map<string, string>();
  const mrnInstitution = new Map<string, string>();
  const parsed = new Map<string, Array<{ line: string; r: Fhir }>>();
  for (const f of fhirFiles) {
    const lines = (await readFile(f, 'utf8')).split(/\r?\n/).filter((l) => l.trim());
    parsed.set(f, lines.map((line) => ({ line, r: JSON.parse(line) as Fhir })));
    for (const { r } of parsed.get(f)!) {
      if (r.resourceType !== 'Patient') continue;
      const mr = r.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MR'));
      const inst = /\/mrn\/([^/]+)$/.exec(mr?.system ?? '')?.[1] ?? /urn:mdrp:demo:(.+)$/.exec(r.meta?.source ?? '')?.[1];
      if (inst && r.id) patientInstitution.set(r.id, inst);
      if (inst && mr?.value) mrnInstitution.set(mr.value, inst);
    }
  }
  for (const f of fhirFiles) {
    const groups = new Map<string, string[]>();
    for (const { line, r } of parsed.get(f)!) {
      const ref = /^Patient\/(.+)$/.exec(r.subject?.reference ?? r.patient?.reference ?? '')?.[1];
      const inst = (r.resourceType === 'Patient' ? patientInstitution.get(r.id ?? '') : ref ? patientInstitution.get(ref) : undefined) ?? /urn:mdrp:demo:(.+)$/.exec(r.meta?.source ?? '')?.[1] ?? only ?? 'unknown';
      groups.set(inst, [...(groups.get(inst) ?? []), line]);
    }
    for (const [inst, lines] of groups) if (want(inst)) plan.push({ phase: 'fhir', label: `fhir/${basename(f)} [${inst}]`, fileName: basename(f), contentType: 'application/fhir+ndjson', institution: inst, bytes: new TextEncoder().encode(`${lines.join('\n')}\n`) });
  }

  let n = 0;
  for (const f of await walk(join(dir, 'dicom'))) {
    const inst = relative(join(dir, 'dicom'), f).split(sep)[0]!;
    // A zipped study is unpacked (safely) by the DICOM pipeline itself; anything else is one Part 10 file.
    const contentType = /\.zip$/i.test(f) ? 'application/zip' : 'application/dicom';
    if (want(inst)) plan.push({ phase: 'dicom', label: `dicom [${inst}] #${++n}`, fileName: basename(f), contentType, institution: inst, bytes: await readFile(f) });
  }
  n = 0;
  for (const f of await walk(join(dir, 'documents'))) {
    const rel = relative(dir, f).split(sep).join('/');
    const spid = byPath.get(rel)?.sourcePatientId;
    const [inst, ref] = spid ? [spid.slice(0, spid.indexOf('/')), spid.slice(spid.indexOf('/') + 1)] : [only ?? 'unknown', undefined];
    const type = TYPES.find(([re]) => re.test(f))?.[1] ?? 'application/octet-stream';
    if (want(inst)) plan.push({ phase: 'documents', label: `documents [${inst}] #${++n} (${type.split(';')[0]})`, fileName: basename(f), contentType: type, institution: inst, bytes: await readFile(f), ...(ref ? { patientRef: ref } : {}) });
  }

  // Tables: the mapping once per institution, then each CSV split by the institution of its MRN.
  const tables = await walk(join(dir, 'tables'));
  const mapping = tables.find((f) => basename(f) === 'column-mapping.json');
  const institutions = [...new Set([...mrnInstitution.values(), ...(only ? [only] : [])])].filter(want);
  if (mapping) for (const inst of institutions) plan.push({ phase: 'tables', label: `tables/column-mapping.json [${inst}]`, fileName: 'column-mapping.json', contentType: 'application/vnd.mdrp.column-mapping+json', institution: inst, bytes: await readFile(mapping) });
  const keyColumn = mapping ? (JSON.parse(readFileSync(mapping, 'utf8')) as { tables: Record<string, { patientKey: { column: string } }> }).tables : {};
  // Which institution a row belongs to, by the institution of the MRN in the table's key column.
  const byInstitution = (name: string, header: string[] | undefined, rows: string[][]) => {
    const column = (keyColumn[name] ?? keyColumn[name.replace(/\.xlsx$/i, '.csv')])?.patientKey.column ?? '';
    const keyIndex = header?.indexOf(column) ?? -1;
    const groups = new Map<string, string[][]>();
    for (const row of rows) {
      if (row.length === 1 && !row[0]) continue;
      const inst = mrnInstitution.get(row[keyIndex] ?? '') ?? only ?? 'unknown';
      groups.set(inst, [...(groups.get(inst) ?? []), row]);
    }
    return groups;
  };
  for (const f of tables.filter((t) => /\.csv$/i.test(t))) {
    const [header, ...rows] = parseCsv((await readFile(f, 'utf8')).replace(/^\uFEFF/, '')).map((r) => r.cells);
    const cellOut = (c: string) => (/[",\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c);
    const headerLine = (header ?? []).map(cellOut).join(',');
    for (const [inst, list] of byInstitution(basename(f), header, rows)) {
      if (want(inst)) plan.push({ phase: 'tables', label: `tables/${basename(f)} [${inst}]`, fileName: basename(f), contentType: 'text/csv; charset=utf-8', institution: inst, bytes: new TextEncoder().encode(`\uFEFF${[headerLine, ...list.map((r) => r.map(cellOut).join(','))].join('\r\n')}\r\n`) });
    }
  }
  // XLSX workbooks (first sheet, like the table pipeline reads them): uploaded as they are when
  // every row is one institution's, else one workbook per institution with its rows only.
  for (const f of tables.filter((t) => /\.xlsx$/i.test(t))) {
    const bytes = await readFile(f);
    const [header, ...rows] = await new ExcelJsSpreadsheetReader().readFirstSheet(bytes, { maxRows: 200_000, maxColumns: 200 });
    const groups = byInstitution(basename(f), header, rows);
    for (const [inst, list] of groups) {
      if (!want(inst)) continue;
      const out = groups.size === 1 ? new Uint8Array(bytes) : await workbookOf(header ?? [], list);
      plan.push({ phase: 'tables', label: `tables/${basename(f)} [${inst}]`, fileName: basename(f), contentType: XLSX_CONTENT_TYPE, institution: inst, bytes: out });
    }
  }
  return plan;
}

/** A one-sheet workbook of text cells (what the table pipeline reads back from any workbook). */
async function workbookOf(header: string[], rows: string[][]): Promise<Uint8Array> {
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('Sheet1');
  sheet.addRow(header);
  for (const r of rows) sheet.addRow(r);
  return new Uint8Array(await wb.xlsx.writeBuffer());
}

async function api(opts: IngestExportOptions, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(`${opts.apiUrl}${path}`, { method, headers: { authorization: `Bearer ${opts.token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function uploadOne(opts: IngestExportOptions, p: Planned): Promise<FileOutcome> {
  const sha256 = createHash('sha256').update(p.bytes).digest('hex');
  const fail = (code: string): FileOutcome => ({ label: p.label, status: 'rejected', accepted: 0, rejected: 1, codes: [code] });
  if (p.bytes.byteLength === 0) return fail('EMPTY_FILE');
  const created = await api(opts, 'POST', '/v1/ingest/uploads', { datasetId: opts.datasetId, fileName: p.fileName, contentType: p.contentType, sizeBytes: p.bytes.byteLength, sha256, sourceSystem: opts.sourceSystem ?? 'hospital-export', institution: p.institution, ...(p.patientRef ? { patientRef: p.patientRef } : {}) });
  if (created.status !== 201) return fail(created.json?.error?.code ?? `HTTP_${created.status}`);
  // s3rver occasionally answers 500 under concurrent PUTs: retry server errors a few times.
  let put = await fetch(created.json.url, { method: 'PUT', headers: created.json.headers, body: p.bytes });
  for (let attempt = 1; put.status >= 500 && attempt < 4; attempt++) {
    await new Promise((r) => setTimeout(r, 200 * attempt));
    put = await fetch(created.json.url, { method: 'PUT', headers: created.json.headers, body: p.bytes });
  }
  if (!put.ok) return fail(`PUT_${put.status}`);
  const uploadId = created.json.upload.uploadId as string;
  const deadline = Date.now() + 120_000;
  for (let wait = 100; Date.now() < deadline; wait = Math.min(wait * 1.5, 1000)) {
    await new Promise((r) => setTimeout(r, wait));
    const u = (await api(opts, 'GET', `/v1/ingest/uploads/${uploadId}`)).json;
    if (u?.status !== 'accepted' && u?.status !== 'rejected') continue;
    const job = u.jobId ? (await api(opts, 'GET', `/v1/ingest/jobs/${u.jobId}`)).json : undefined;
    const codes = [...new Set<string>([...(u.rejection ? [u.rejection.code] : []), ...((job?.rejected ?? []) as Array<{ code: string }>).map((r) => r.code)])];
    return { label: p.label, status: u.status, accepted: job?.counts?.accepted ?? 0, rejected: job?.counts?.rejected ?? (u.status === 'rejected' ? 1 : 0), codes };
  }
  return { label: p.label, status: 'timeout', accepted: 0, rejected: 0, codes: ['TIMEOUT'] };
}

/**
 * Uploads a hospital export folder through the platform's API (staging, presigned PUT, verify,
 * ingest), phase by phase, and reports per file. Returns the outcomes; `ok` is false when any file
 * or item was rejected.
 */
export async function ingestExport(opts: IngestExportOptions): Promise<{ ok: boolean; files: FileOutcome[]; totals: { files: number; accepted: number; rejected: number } }> {
  const log = opts.log ?? (() => undefined);
  const plan = await planExport(opts.dir, opts.institution);
  const files: FileOutcome[] = [];
  for (const phase of ['fhir', 'dicom', 'documents', 'tables'] as const) {
    const queue = plan.filter((p) => p.phase === phase);
    // FHIR and table files depend on each other's order (Patients first, mapping first).
    const workers = phase === 'fhir' || phase === 'tables' ? 1 : (opts.concurrency ?? 4);
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let p = queue.shift(); p; p = queue.shift()) {
          const o = await uploadOne(opts, p);
          files.push(o);
          log(`${o.status.padEnd(8)} ${o.label}: accepted ${o.accepted}, rejected ${o.rejected}${o.codes.length ? ` (${o.codes.join(', ')})` : ''}`);
        }
      }),
    );
  }
  const totals = { files: files.length, accepted: files.reduce((n, f) => n + f.accepted, 0), rejected: files.reduce((n, f) => n + f.rejected, 0) };
  log(`total: ${totals.files} files, ${totals.accepted} items accepted, ${totals.rejected} rejected, ${files.filter((f) => f.status !== 'accepted').length} files not accepted`);
  return { ok: files.every((f) => f.status === 'accepted' && f.rejected === 0), files, totals };
}

/** `npm run ingest -- <folder> [--dataset id] [--institution id] [--user data-manager]` */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
  };
  const datasetId = flag('dataset') ?? 'bc-nrt-io';
  const institution = flag('institution');
  const user = flag('user') ?? 'data-manager';
  const dir = args[0];
  if (!dir) throw new Error('usage: npm run ingest -- <export folder> [--dataset id] [--institution id] [--user name]');
  const root = join(import.meta.dirname, '..', '..');
  const stateFile = join(root, '.mdrp', 'local-state.json');
  if (!existsSync(stateFile)) throw new Error('no local platform state: run `npm start` first');
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { userPool: { userPoolClientId: string } };
  const { DEFAULT_DEMO_PASSWORD } = await import('./demo-accounts');
  const cognito = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${process.env.MDRP_COGNITO_PORT ?? 9229}`, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const auth = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: state.userPool.userPoolClientId, AuthParameters: { USERNAME: user, PASSWORD: process.env.MDRP_DEMO_PASSWORD ?? DEFAULT_DEMO_PASSWORD } }));
  const result = await ingestExport({ dir, apiUrl: process.env.MDRP_API_URL ?? `http://127.0.0.1:${process.env.MDRP_API_PORT ?? 4000}`, token: auth.AuthenticationResult!.IdToken!, datasetId, ...(institution ? { institution } : {}), log: (l) => console.log(l) });
  process.exitCode = result.ok ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
