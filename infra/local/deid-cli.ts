/**
 * `npm run deid -- --policy <name> [--project <id>] [--key-file <file>] [--columns <tables.json>] <input> <output>`
 *
 * De-identifies a file or a folder (R-DEID-4, R-SEC-8: local de-identification before upload):
 * DICOM (`.dcm` or a `DICM` preamble), FHIR JSON (resource or Bundle) and NDJSON, `.txt`, and
 * JSON Lines with a `text` field, and CSV tables (`.csv`: per-column rules from `--columns`, the
 * metadata catalogue's table descriptions — `[{ table, patientColumn, columns: [{ column, action }] }]`,
 * matched by file name without extension; undescribed columns follow the policy, else are scrubbed). The input is never modified; nothing identifying is printed
 * (only counts — not even file names, which often carry MRNs); output files get keyed names.
 * Keys: `--key-file`, else `~/.mdrp/deid-keys.json` (created with mode 0600 on first use).
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import type { Bundle, Patient, Resource } from '@medplum/fhirtypes';
import { LocalKeyProvider, loadOrCreateLocalKeys } from '../../functions/adapters/local/local-key-provider';
import { getPolicy, type DeidPolicy } from '../../functions/core/deid/deid-policy';
import type { DeidReport } from '../../functions/core/deid/deid-report';
import { deidentifyDicom, readDicom } from '../../functions/core/deid/deidentify-dicom';
import { deidentifyResource, patientPseudonym } from '../../functions/core/deid/deidentify-resource';
import { Pseudonymizer } from '../../functions/core/deid/pseudonym';
import { scrubText, type PhiType } from '../../functions/core/deid/text-scrubber';
import { deidentifyTable } from '../../functions/core/deid/deidentify-table';
import { readCsvRows, writeCsvRows } from '../../functions/core/deid/table-csv';
import { tablesFromColumnMapping, type TableDescription } from '../../functions/core/catalog/table-columns';
import { z } from 'zod';

interface Args {
  policy: DeidPolicy;
  project: string;
  keyFile: string;
  input: string;
  output: string;
  tables: TableDescription[];
}

function usage(msg?: string): never {
  if (msg) console.error(`deid: ${msg}`);
  console.error('usage: npm run deid -- --policy <l2-research|l2-strict|l3-project> [--project <id>] [--key-file <file>] [--columns <tables.json>] <input> <output>');
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const pos: string[] = [];
  const opts: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a.startsWith('--')) {
      const v = argv[i + 1];
      if (v === undefined) usage(`${a} needs a value`);
      opts[a.slice(2)] = v;
      i++;
    } else pos.push(a);
  }
  if (pos.length !== 2) usage('need <input> and <output>');
  let policy: DeidPolicy;
  try {
    policy = getPolicy(opts.policy ?? usage('--policy is required'));
  } catch (err) {
    usage((err as Error).message);
  }
  let tables: TableDescription[] = [];
  if (opts.columns) {
    try {
      tables = TablesSchema.parse(JSON.parse(readFileSync(resolve(opts.columns), 'utf8')));
    } catch (err) {
      usage(`--columns: not a list of table descriptions (${(err as Error).name})`);
    }
  }
  return { tables, policy, project: opts.project ?? 'local', keyFile: opts['key-file'] ?? join(homedir(), '.mdrp', 'deid-keys.json'), input: resolve(pos[0]!), output: resolve(pos[1]!) };
}

type Kind = 'dicom' | 'fhir-json' | 'fhir-ndjson' | 'text' | 'jsonl' | 'csv' | 'skipped';

/** The catalogue's table descriptions (functions/core/catalog/table-columns.ts). */
const TablesSchema = z.array(
  z.object({
    table: z.string().min(1),
    patientColumn: z.string().min(1).optional(),
    columns: z.array(
      z.object({
        column: z.string().min(1),
        action: z.enum(['remove', 'mask', 'pseudonymize', 'generalize', 'shift', 'scrub', 'keep']).optional(),
        field: z.string().optional(),
        phi: z.boolean().optional(),
        generalize: z.enum(['age-band', 'year', 'year-month', 'region', 'icd10-category', 'postal-prefix']).optional(),
        description: z.string().optional(),
      }),
    ),
  }),
);

function kindOf(file: string, head: Buffer): Kind {
  const ext = extname(file).toLowerCase();
  if (ext === '.dcm' || (head.length > 132 && head.subarray(128, 132).toString('latin1') === 'DICM')) return 'dicom';
  if (ext === '.ndjson') return 'fhir-ndjson';
  if (ext === '.jsonl') return 'jsonl';
  if (ext === '.json') return 'fhir-json';
  if (ext === '.txt') return 'text';
  if (ext === '.csv') return 'csv';
  return 'skipped';
}

function listFiles(root: string): string[] {
  const st = statSync(root);
  if (st.isFile()) return [root];
  const out: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** Totals printed at the end (counts only). */
class Summary {
  files: Partial<Record<Kind, number>> = {};
  actions: Record<string, number> = {};
  spans: Partial<Record<PhiType, number>> = {};
  refusals: Record<string, number> = {};
  warnings: Record<string, number> = {};
  errors = 0;
  add(r: DeidReport): void {
    for (const [a, n] of Object.entries(r.counts)) this.actions[a] = (this.actions[a] ?? 0) + (n ?? 0);
    for (const [t, n] of Object.entries(r.textSpans)) this.spans[t as PhiType] = (this.spans[t as PhiType] ?? 0) + (n ?? 0);
    if (r.refused) this.refusals[r.refused] = (this.refusals[r.refused] ?? 0) + 1;
    for (const w of r.warnings) {
      const generic = w.replace(/\(.*\)/, '(…)');
      this.warnings[generic] = (this.warnings[generic] ?? 0) + 1;
    }
  }
}

/** Patient context gathered from the input's FHIR Patient resources (first pass). */
interface PatientHints {
  names: string[];
  identifiers: string[];
}

function collectHints(resources: Resource[], hints: Map<string, PatientHints>): void {
  for (const r of resources) {
    if (r.resourceType !== 'Patient' || !r.id) continue;
    const p = r as Patient;
    const names = [...(p.name ?? []).flatMap((n) => [n.text, [n.family, ...(n.given ?? [])].filter(Boolean).join('')]), ...(p.contact ?? []).map((c) => c.name?.text)].filter((s): s is string => !!s);
    const identifiers = [...(p.identifier ?? []).map((i) => i.value), ...(p.telecom ?? []).map((t) => t.value), ...(p.contact ?? []).flatMap((c) => (c.telecom ?? []).map((t) => t.value))].filter((s): s is string => !!s);
    hints.set(r.id, { names, identifiers });
  }
}

function resourcesOf(json: unknown): Resource[] {
  const r = json as Resource;
  if (r?.resourceType === 'Bundle') return ((r as Bundle).entry ?? []).map((e) => e.resource).filter((x): x is Resource => !!x);
  return r?.resourceType ? [r] : [];
}

function patientIdOf(r: Resource): string | undefined {
  if (r.resourceType === 'Patient') return r.id;
  const m = /"reference":"Patient\/([^"]+)"/.exec(JSON.stringify(r));
  return m?.[1];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const inRoot = args.input;
  const inputIsDir = statSync(inRoot).isDirectory();
  if (args.output === inRoot || args.output.startsWith(inRoot + sep)) usage('output must be outside the input (the input is never modified)');
  const keys = new LocalKeyProvider(loadOrCreateLocalKeys(args.keyFile));
  const p = new Pseudonymizer(keys, args.project);
  const files = listFiles(inRoot);
  const summary = new Summary();
  const hints = new Map<string, PatientHints>();
  const loaded = new Map<string, { kind: Kind; bytes: Buffer }>();
  for (const f of files) {
    const bytes = readFileSync(f);
    const kind = kindOf(f, bytes.subarray(0, 132));
    loaded.set(f, { kind, bytes });
    try {
      if (kind === 'fhir-json') collectHints(resourcesOf(JSON.parse(bytes.toString('utf8'))), hints);
      if (kind === 'fhir-ndjson') collectHints(bytes.toString('utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Resource), hints);
    } catch {
      // Reported in the second pass.
    }
  }
  // Column mappings shipped with table exports (tables/column-mapping.json) describe their columns.
  const mappedTables: TableDescription[] = [];
  for (const f of files) {
    if (basename(f) !== 'column-mapping.json') continue;
    try {
      mappedTables.push(...tablesFromColumnMapping(JSON.parse(readFileSync(f, 'utf8'))));
    } catch {
      summary.errors++;
    }
  }
  const tokenFor = async (source: string, id: string) => patientPseudonym(keys, args.project, `${source}:${id}`);
  const outName = async (f: string, ext: string): Promise<string> => {
    // Source names often embed MRNs: the output name is a keyed token of the relative path.
    // Folder names too (DICOM exports nest by study/series UID): the output is flat.
    const rel = inputIsDir ? relative(inRoot, f) : basename(f);
    const name = `${(await p.token('file-name', rel)).slice(0, 20)}${ext}`;
    return inputIsDir || !/\.[a-z]+$/i.test(args.output) ? join(args.output, name) : args.output;
  };
  const write = (file: string, data: string | Uint8Array) => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, data);
  };
  const deidFhir = async (resources: Resource[]): Promise<Resource[]> => {
    const out: Resource[] = [];
    for (const r of resources) {
      const pid = patientIdOf(r) ?? 'unknown';
      const h = hints.get(pid);
      const res = await deidentifyResource(r, { policy: args.policy, projectId: args.project, patientToken: await tokenFor('fhir', pid), keys, pseudonymizer: p, knownNames: h?.names, knownIdentifiers: h?.identifiers });
      summary.add(res.report);
      out.push(res.resource);
    }
    return out;
  };

  for (const [index, f] of files.entries()) {
    const { kind, bytes } = loaded.get(f)!;
    summary.files[kind] = (summary.files[kind] ?? 0) + 1;
    try {
      switch (kind) {
        case 'dicom': {
          const patientId = String(readDicom(new Uint8Array(bytes)).dict['00100020']?.Value?.[0] ?? 'unknown');
          const r = await deidentifyDicom(new Uint8Array(bytes), { policy: args.policy, projectId: args.project, patientToken: await tokenFor('dicom', patientId), keys, pseudonymizer: p });
          summary.add(r.report);
          if (r.bytes) write(await outName(f, '.dcm'), r.bytes);
          break;
        }
        case 'fhir-json': {
          const json = JSON.parse(bytes.toString('utf8')) as Resource;
          if (!resourcesOf(json).length) {
            // Not FHIR (e.g. a manifest): unknown structure, never copied.
            summary.files[kind] = (summary.files[kind] ?? 1) - 1;
            summary.files.skipped = (summary.files.skipped ?? 0) + 1;
            break;
          }
          const out = await deidFhir(resourcesOf(json));
          const body = json.resourceType === 'Bundle' ? { resourceType: 'Bundle', type: (json as Bundle).type ?? 'collection', entry: out.map((resource) => ({ resource })) } : out[0];
          write(await outName(f, '.json'), JSON.stringify(body, null, 2) + '\n');
          break;
        }
        case 'fhir-ndjson': {
          const lines = bytes.toString('utf8').split('\n').filter((l) => l.trim());
          const out = await deidFhir(lines.map((l) => JSON.parse(l) as Resource));
          write(await outName(f, '.ndjson'), out.map((r) => JSON.stringify(r)).join('\n') + '\n');
          break;
        }
        case 'text': {
          const r = scrubText(bytes.toString('utf8'), { policy: args.policy });
          summary.add({ policyId: args.policy.id, policyVersion: args.policy.version, target: 'text', entries: [], counts: { scrub: r.spans.length }, textSpans: countTypes(r.spans.map((s) => s.type)), warnings: [] });
          const out = await outName(f, '.txt');
          write(out, r.text);
          write(out.replace(/\.txt$/, '.spans.json'), JSON.stringify({ policy: `${args.policy.id}@${args.policy.version}`, spans: r.spans }) + '\n');
          break;
        }
        case 'jsonl': {
          const lines = bytes.toString('utf8').split('\n').filter((l) => l.trim());
          const out: string[] = [];
          for (const l of lines) {
            const row = JSON.parse(l) as Record<string, unknown>;
            if (typeof row.text !== 'string') {
              summary.errors++;
              continue;
            }
            const r = scrubText(row.text, { policy: args.policy });
            summary.add({ policyId: args.policy.id, policyVersion: args.policy.version, target: 'text', entries: [], counts: { scrub: r.spans.length }, textSpans: countTypes(r.spans.map((s) => s.type)), warnings: [] });
            // Only the scrubbed text and the spans are written: other fields are unknown and may be identifying.
            out.push(JSON.stringify({ text: r.text, spans: r.spans }));
          }
          write(await outName(f, '.jsonl'), out.join('\n') + '\n');
          break;
        }
        case 'csv': {
          const { rows } = readCsvRows(bytes.toString('utf8'));
          const name = basename(f, extname(f));
          const table = args.tables.find((t) => t.table === name) ?? mappedTables.find((t) => t.table === name);
          // Tables carry no FHIR patient ids: every name and identifier of the input is removed from their text.
          const r = await deidentifyTable(rows, { policy: args.policy, projectId: args.project, keys, ...(table ? { table } : {}), knownNames: [...hints.values()].flatMap((h) => h.names), knownIdentifiers: [...hints.values()].flatMap((h) => h.identifiers) });
          summary.add(r.report);
          write(await outName(f, '.csv'), writeCsvRows(r.columns, r.rows));
          break;
        }
        case 'skipped':
          break;
      }
    } catch (err) {
      summary.errors++;
      console.error(`deid: file #${index + 1} (${kind}) failed: ${(err as Error).name}`);
    }
  }

  console.log(`policy ${args.policy.id}@${args.policy.version}, project ${args.project}`);
  console.log(`files: ${JSON.stringify(summary.files)}`);
  console.log(`actions: ${JSON.stringify(summary.actions)}`);
  console.log(`free-text PHI spans: ${JSON.stringify(summary.spans)}`);
  console.log(`refused: ${Object.keys(summary.refusals).length ? JSON.stringify(summary.refusals) : 'none'}`);
  if (Object.keys(summary.warnings).length) console.log(`warnings: ${JSON.stringify(summary.warnings)}`);
  console.log(`errors: ${summary.errors}`);
  if (summary.errors) process.exitCode = 1;
}

function countTypes(types: PhiType[]): Partial<Record<PhiType, number>> {
  const out: Partial<Record<PhiType, number>> = {};
  for (const t of types) out[t] = (out[t] ?? 0) + 1;
  return out;
}

main().catch((err: unknown) => {
  console.error(`deid: ${(err as Error).name}: failed`);
  process.exit(1);
});
