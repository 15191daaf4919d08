import type { Grant } from '../access/grant';
import type { GrantService } from '../access/grant-service';
import { readDicom, type DicomDataset } from '../deid/deidentify-dicom';
import { DEID_WATERMARK_TAG_SYSTEM, DICOM_WATERMARK_PREFIX, GrantWatermark, log2Factorial, markedTokenBits, orderedNames, TABLE_RECORD_TYPE, uidToken } from '../deid/watermark';
import { parseCsv } from '../ingestion/table-ingestor';
import { ValidationError } from '../errors';
import type { LeakFormat } from './leak-format';
import type { DocumentStore, Item } from '../ports/document-store';
import type { KeyProvider } from '../ports/key-provider';

export { LEAK_FORMATS, type LeakFormat } from './leak-format';

/** Evidence for one candidate grant. */
export interface TraceCandidate {
  grantId: string;
  holderId: string;
  holderName: string;
  /** Records carrying the grant's watermark tag (FHIR `meta.tag`, DICOM (0012,0063)). */
  watermarkTags: number;
  /** Distinct patient pseudonyms of the grant's release found in the file. */
  pseudonymsMatched: number;
  /** Distinct 32-hex tokens (and `2.25.` UIDs of DICOM) carrying the grant's 16-bit mark, of those found. */
  markedTokens: number;
  tokensChecked: number;
  /** Records (or the CSV header) whose element order is the grant's keyed order, of those checked. */
  keyOrderMatched: number;
  keyOrderChecked: number;
  /** Log-likelihood ratio, in bits, of "from this grant" against "from elsewhere". */
  evidenceBits: number;
}

/** The answer of a trace. */
export interface TraceResult {
  traced: boolean;
  format: LeakFormat;
  records: number;
  grantsConsidered: number;
  /** The grant the file most likely came from (when traced). */
  grantId?: string;
  holderId?: string;
  holderName?: string;
  /**
   * 1 − (expected number of grants matching this well by chance): the probability that the
   * attribution is not a coincidence, given the keyed marks' false-match rates.
   */
  confidence: number;
  candidates: TraceCandidate[];
}

/** Bits of evidence required to name a grant (false attribution ≤ 2^-20 per grant considered). */
export const TRACE_THRESHOLD_BITS = 20;
/** Bits one matched watermark tag carries (64-bit keyed code; counted once per file). */
const TAG_BITS = 64;
/** Bits one matched grant-scoped pseudonym carries (128-bit keyed token; capped at 4 per file). */
const TOKEN_BITS = 128;
/** Probability that a record of a genuine leak lost its order (re-serialised with sorted keys…). */
const ORDER_LOSS = 0.05;
/** Records with fewer orderable elements than this are not weighed (too little to tell). */
const MIN_ORDER_NAMES = 3;

type ReleaseItem = Item & { patient: { token: string } };
type Rec = { type: string; names: string[]; tags: string[] };

/**
 * Traces a leaked file back to the grant it was released under (R-DEID-6). The file is parsed
 * as FHIR JSON (resource, array or Bundle), NDJSON (broken lines of an excerpt are skipped), CSV
 * or DICOM Part 10 (one record: its DeidentificationMethod values, and every `2.25.` UID and
 * 32-hex value as a token); each grant is then weighed on the keyed marks of `watermark.ts`:
 *
 * - a watermark tag equal to the grant's code: 64 bits (once);
 * - each distinct pseudonym of the grant's release found anywhere in the text: 128 bits (≤ 4);
 * - k of the n distinct tokens (UIDs) carrying the grant's 16-bit mark: −log2(C(n,k)·2^(−16k)) bits;
 * - each record whose element order equals the grant's keyed order: log2((1−ε)·n!) bits, and
 *   log2(ε) for one that does not (ε = 5 % for re-serialisation that lost the order).
 *
 * The best grant is named if its evidence reaches {@link TRACE_THRESHOLD_BITS}; the confidence is
 * 1 − 2^−bits × number of grants. Pure domain logic: the caller audits the call.
 */
export class LeakTracer {
  constructor(
    private readonly store: DocumentStore,
    private readonly grants: GrantService,
    private readonly keys: KeyProvider,
  ) {}

  /** `content`: the file as text, or its bytes (required for DICOM; text formats are read as UTF-8). */
  async trace(content: string | Uint8Array, opts: { format?: LeakFormat; minDataLevel?: number } = {}): Promise<TraceResult> {
    const bytes = typeof content === 'string' ? undefined : content;
    const format = opts.format ?? (bytes && isDicom(bytes) ? 'dicom' : detectFormat(textOf(content)));
    let records: Rec[];
    let hexTokens: Set<string>;
    if (format === 'dicom') {
      if (!bytes) throw new ValidationError('a DICOM file must be sent as bytes (contentBase64)', { field: 'content', format });
      ({ records, hexTokens } = parseDicomRecord(bytes));
    } else {
      const text = textOf(content);
      records = parseRecords(text, format);
      hexTokens = new Set(text.match(/\b[0-9a-f]{32}\b/g) ?? []);
    }
    if (!records.length) throw new ValidationError('no records could be read from the file', { field: 'content', format });
    const grants = (await this.grants.listAll()).filter((g) => g.dataLevel >= (opts.minDataLevel ?? 1));
    const candidates: TraceCandidate[] = [];
    for (const g of grants) candidates.push(await this.weigh(g, records, hexTokens));
    candidates.sort((a, b) => b.evidenceBits - a.evidenceBits);
    const best = candidates[0];
    const n = Math.max(1, grants.length);
    const traced = !!best && best.evidenceBits >= TRACE_THRESHOLD_BITS;
    const confidence = best && best.evidenceBits > 0 ? Math.max(0, 1 - n * 2 ** -best.evidenceBits) : 0;
    return {
      traced,
      format,
      records: records.length,
      grantsConsidered: grants.length,
      ...(traced ? { grantId: best.grantId, holderId: best.holderId, holderName: best.holderName } : {}),
      confidence: traced ? confidence : 0,
      candidates: candidates.filter((c) => c.evidenceBits > 0).slice(0, 3),
    };
  }

  private async weigh(g: Grant, records: Rec[], hexTokens: Set<string>): Promise<TraceCandidate> {
    const wm = new GrantWatermark(this.keys, g.grantId);
    const code = await wm.code();
    const watermarkTags = records.filter((r) => r.tags.includes(code)).length;
    let pseudonymsMatched = 0;
    if (hexTokens.size) {
      for (const t of await this.releaseTokens(g.grantId)) if (hexTokens.has(t)) pseudonymsMatched++;
    }
    let markedTokens = 0;
    for (const t of hexTokens) if (await wm.isMarked(t)) markedTokens++;
    let keyOrderMatched = 0;
    let keyOrderChecked = 0;
    let orderBits = 0;
    for (const r of records) {
      if (r.names.length < MIN_ORDER_NAMES) continue;
      keyOrderChecked++;
      const expected = await wm.order(r.type, r.names);
      if (expected.every((k, i) => r.names[i] === k)) {
        keyOrderMatched++;
        orderBits += Math.log2(1 - ORDER_LOSS) + log2Factorial(r.names.length);
      } else orderBits += Math.log2(ORDER_LOSS);
    }
    const evidenceBits = (watermarkTags ? TAG_BITS : 0) + Math.min(pseudonymsMatched, 4) * TOKEN_BITS + markedTokenBits(markedTokens, hexTokens.size) + orderBits;
    return { grantId: g.grantId, holderId: g.holderId, holderName: g.holderName, watermarkTags, pseudonymsMatched, markedTokens, tokensChecked: hexTokens.size, keyOrderMatched, keyOrderChecked, evidenceBits: Math.round(evidenceBits * 10) / 10 };
  }

  private async releaseTokens(grantId: string): Promise<string[]> {
    const out: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.query<ReleaseItem>('main', { pk: `RELEASE#${grantId}`, skPrefix: 'PT#', limit: 1000, cursor });
      out.push(...page.items.map((i) => i.patient.token));
      cursor = page.cursor;
    } while (cursor);
    return out;
  }
}

function textOf(content: string | Uint8Array): string {
  return (typeof content === 'string' ? content : new TextDecoder().decode(content)).replace(/^\uFEFF/, '');
}

/** Part 10: a 128-byte preamble, then `DICM`. */
function isDicom(bytes: Uint8Array): boolean {
  return bytes.byteLength > 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

/**
 * A DICOM file as one record: the watermark codes of its DeidentificationMethod (0012,0063), and
 * as tokens every `2.25.` UID (as its 32-hex integer) and every 32-hex value (the patient
 * pseudonym in PatientID), file meta and nested sequences included.
 */
function parseDicomRecord(bytes: Uint8Array): { records: Rec[]; hexTokens: Set<string> } {
  let file: { meta: DicomDataset; dict: DicomDataset };
  try {
    file = readDicom(bytes);
  } catch {
    throw new ValidationError('the file is not a readable DICOM Part 10 file', { field: 'content', format: 'dicom' });
  }
  const tags: string[] = [];
  const hexTokens = new Set<string>();
  const visit = (ds: DicomDataset): void => {
    for (const [tag, el] of Object.entries(ds)) {
      for (const v of el.Value ?? []) {
        if (el.vr === 'SQ') visit(v as DicomDataset);
        else if (typeof v === 'string') {
          if (tag.toUpperCase() === '00120063' && v.startsWith(DICOM_WATERMARK_PREFIX)) tags.push(v.slice(DICOM_WATERMARK_PREFIX.length).trim());
          const t = el.vr === 'UI' ? uidToken(v) : /^[0-9a-f]{32}$/.test(v.trim()) ? v.trim() : undefined;
          if (t) hexTokens.add(t);
        }
      }
    }
  };
  visit(file.meta);
  visit(file.dict);
  return { records: [{ type: 'dicom', names: [], tags }], hexTokens };
}

function detectFormat(text: string): LeakFormat {
  const t = text.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      JSON.parse(t);
      return 'fhir-json';
    } catch {
      return 'fhir-ndjson';
    }
  }
  // An excerpt may start mid-record: JSON lines further down still make it NDJSON.
  const lines = t.split(/\r?\n/).slice(0, 50);
  if (lines.filter((l) => l.trimStart().startsWith('{')).length >= Math.max(1, Math.floor(lines.length / 2))) return 'fhir-ndjson';
  return 'csv';
}

function parseRecords(text: string, format: Exclude<LeakFormat, 'dicom'>): Rec[] {
  if (format === 'csv') {
    const rows = parseCsv(text).filter((r) => r.cells.some((c) => c !== ''));
    const header = rows[0]?.cells ?? [];
    if (header.length < 2) return [];
    // One record: the header's column order (the rows themselves carry pseudonyms, found in the text).
    return [{ type: TABLE_RECORD_TYPE, names: header.filter((h) => !['resourceType', 'id', 'meta'].includes(h)), tags: [] }];
  }
  const objects: unknown[] = [];
  if (format === 'fhir-json') {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw new ValidationError('the file is not valid JSON', { field: 'content' });
    }
    collect(v, objects);
  } else {
    for (const line of text.split(/\r?\n/)) {
      if (!line.trim()) continue;
      try {
        collect(JSON.parse(line), objects);
      } catch {
        // An excerpt may start or end mid-record: skip the broken lines.
      }
    }
  }
  return objects.map((o) => {
    const r = o as Record<string, unknown>;
    const meta = r.meta as { tag?: Array<{ system?: string; code?: string }> } | undefined;
    const tags = (meta?.tag ?? []).filter((t) => t.system === DEID_WATERMARK_TAG_SYSTEM && typeof t.code === 'string').map((t) => t.code!);
    return { type: String(r.resourceType), names: orderedNames(r), tags };
  });
}

function collect(v: unknown, out: unknown[]): void {
  if (Array.isArray(v)) {
    for (const x of v) collect(x, out);
    return;
  }
  if (!v || typeof v !== 'object') return;
  const o = v as Record<string, unknown>;
  if (o.resourceType === 'Bundle' && Array.isArray(o.entry)) {
    for (const e of o.entry as Array<{ resource?: unknown }>) collect(e?.resource, out);
    return;
  }
  if (typeof o.resourceType === 'string') out.push(o);
  else if (Array.isArray(o.records)) collect(o.records, out); // a saved API answer ({ patient, records, … })
}
