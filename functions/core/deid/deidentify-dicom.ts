import * as dcmjsModule from 'dcmjs';
import type { KeyProvider } from '../ports/key-provider';
import { shiftDicomDate } from './date-shift';
import type { DeidPolicy } from './deid-policy';
import { ReportBuilder, type DeidReport } from './deid-report';
import { ANNEX_E_BY_TAG, DEID_METHOD_CODES, resolveAction, type AnnexEAction } from './dicom-profile';
import { Pseudonymizer } from './pseudonym';
import { scrubText } from './text-scrubber';
import { DICOM_WATERMARK_PREFIX, type GrantWatermark } from './watermark';

/** A dcmjs data element in dictionary (denaturalized) form. */
export interface DicomElement {
  vr: string;
  Value?: unknown[];
  _rawValue?: unknown;
}
/** A dcmjs dataset in dictionary form: `GGGGEEEE` → element. */
export type DicomDataset = Record<string, DicomElement>;

interface DcmjsWriteStream {
  size: number;
  getBuffer(): ArrayBuffer;
}
interface DcmjsApi {
  data: {
    DicomMessage: {
      readFile(buf: ArrayBuffer, options?: unknown): { meta: DicomDataset; dict: DicomDataset; write(options?: unknown): ArrayBuffer };
      write(dict: DicomDataset, stream: DcmjsWriteStream, syntax: string, options?: unknown): number;
    };
    DicomDict: new (meta: DicomDataset) => { dict: DicomDataset; write(options?: unknown): ArrayBuffer };
    WriteBufferStream: new (defaultSize: number, littleEndian: boolean) => DcmjsWriteStream;
  };
}
const dcmjs = ((dcmjsModule as unknown as { default?: DcmjsApi }).default ?? dcmjsModule) as unknown as DcmjsApi;

/** Context of a DICOM de-identification. */
export interface DicomDeidContext {
  policy: DeidPolicy;
  projectId: string;
  /** The patient's project pseudonym: becomes PatientID and PatientName. */
  patientToken: string;
  keys: KeyProvider;
  /** Vault names (besides the header's own PatientName) to scrub from descriptors. */
  knownNames?: readonly string[];
  /** Must carry `watermark` when both are given (it makes the UIDs). */
  pseudonymizer?: Pseudonymizer;
  /**
   * Level-3 releases (R-DEID-6): the grant's keyed watermark — its code as a second value of
   * DeidentificationMethod (0012,0063) and marked replacement UIDs (see `watermark.ts`).
   */
  watermark?: GrantWatermark;
}

/** Result of {@link deidentifyDicom}: no bytes when the object was refused. */
export interface DicomDeidResult {
  bytes?: Uint8Array;
  report: DeidReport;
}

const TAG = {
  PatientName: '00100010',
  PatientID: '00100020',
  PatientIdentityRemoved: '00120062',
  DeidentificationMethod: '00120063',
  DeidentificationMethodCodeSequence: '00120064',
  LongitudinalTemporalInformationModified: '00280303',
  BurnedInAnnotation: '00280301',
  SOPClassUID: '00080016',
  Modality: '00080060',
  PixelData: '7FE00010',
  Rows: '00280010',
  Columns: '00280011',
  BitsAllocated: '00280100',
  SamplesPerPixel: '00280002',
  MediaStorageSOPInstanceUID: '00020003',
  TransferSyntaxUID: '00020010',
} as const;

const TEXT_VRS = new Set(['LO', 'SH', 'LT', 'ST', 'UT', 'UC']);
const UNCOMPRESSED = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);
/** Image types where text is often burned into the pixels even when the header does not say so. */
const AT_RISK_SOP_PREFIXES = ['1.2.840.10008.5.1.4.1.1.7', '1.2.840.10008.5.1.4.1.1.6.', '1.2.840.10008.5.1.4.1.1.3.1', '1.2.840.10008.5.1.4.1.1.104.'];
const AT_RISK_MODALITIES = new Set(['US', 'SC', 'XC', 'ES', 'DOC', 'OT']);

const fmtTag = (t: string): string => `(${t.slice(0, 4)},${t.slice(4)})`;
/** Odd group number: a private attribute. */
const isPrivate = (tag: string): boolean => Number.parseInt(tag.slice(3, 4), 16) % 2 === 1;
/** Curves (50xx,xxxx) and overlay data/comments (60xx,3000 / 60xx,4000): removed (X). */
const isCurveOrOverlay = (tag: string): boolean => tag.startsWith('50') || (tag.startsWith('60') && (tag.endsWith('3000') || tag.endsWith('4000')));
const str = (el: DicomElement | undefined): string => {
  const v = el?.Value?.[0];
  if (v && typeof v === 'object' && 'Alphabetic' in (v as object)) return String((v as { Alphabetic?: string }).Alphabetic ?? '');
  return v === undefined || v === null ? '' : String(v);
};

/** Dummy value of a VR for action D (PS3.15 E.1.1: "a non-zero length value … consistent with the VR"). */
function dummy(vr: string, token: string): unknown[] {
  switch (vr) {
    case 'PN':
      return [{ Alphabetic: token }];
    case 'DA':
      return ['19000101'];
    case 'TM':
      return ['000000'];
    case 'DT':
      return ['19000101000000'];
    case 'AS':
      return ['000Y'];
    case 'UR':
      return ['urn:mdrp:removed'];
    case 'US':
    case 'SS':
    case 'UL':
    case 'SL':
    case 'FL':
    case 'FD':
    case 'IS':
    case 'DS':
      return [0];
    case 'CS':
    case 'AE':
      return ['ANONYMIZED'];
    default:
      return ['ANONYMIZED'];
  }
}

/** Resolved Annex E action by tag, compiled once per option set (not per element of every file). */
const ACTIONS_BY_OPTIONS = new WeakMap<DeidPolicy['dicom']['options'], ReadonlyMap<string, AnnexEAction>>();
function actionsFor(options: DeidPolicy['dicom']['options']): ReadonlyMap<string, AnnexEAction> {
  let m = ACTIONS_BY_OPTIONS.get(options);
  if (!m) {
    m = new Map([...ANNEX_E_BY_TAG].map(([tag, row]) => [tag, resolveAction(row, options)]));
    ACTIONS_BY_OPTIONS.set(options, m);
  }
  return m;
}

/** Same keys, every element the very same object: nothing in the item changed. */
function sameDataset(a: DicomDataset, b: DicomDataset): boolean {
  let n = 0;
  for (const k in b) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  return n === Object.keys(a).length;
}

class DicomWalker {
  knownNames: string[] = [];
  datesShifted = false;
  private readonly actions: ReadonlyMap<string, AnnexEAction>;

  constructor(
    private readonly ctx: DicomDeidContext,
    private readonly p: Pseudonymizer,
    private readonly report: ReportBuilder,
    private readonly offset: number,
  ) {
    this.actions = actionsFor(ctx.policy.dicom.options);
  }

  /** Applies the profile to a dataset (recursively into sequences); returns a new dataset. */
  async dataset(ds: DicomDataset, path: string): Promise<DicomDataset> {
    const out: DicomDataset = {};
    for (const rawTag in ds) {
      const el = ds[rawTag]!;
      const tag = rawTag.toUpperCase();
      const action = this.actions.get(tag);
      // Most elements of an image (pixel module, geometry) are in no row and not private: kept as
      // they are, without building their report path (the hot path of large studies).
      if (!action && !isPrivate(tag) && !isCurveOrOverlay(tag)) {
        out[tag] = el.vr === 'SQ' ? await this.sequence(el, `${path}${fmtTag(tag)}`) : el;
        continue;
      }
      const shown = `${path}${fmtTag(tag)}`;
      if (isPrivate(tag)) {
        // PS3.15 E.1-1 "(GGGG,EEEE) where GGGG is odd": private attributes removed (X).
        this.report.add(shown, 'remove', 'X private');
        continue;
      }
      if (isCurveOrOverlay(tag)) {
        this.report.add(shown, 'remove', 'X curve/overlay');
        continue;
      }
      const r = await this.apply(action!, tag, el, shown);
      if (r) out[tag] = r;
    }
    return out;
  }

  /** A sequence with every item walked; the input element itself when no item changed (its bytes can then be copied). */
  private async sequence(el: DicomElement, shown: string): Promise<DicomElement> {
    const items: DicomDataset[] = [];
    let changed = false;
    for (const [i, item] of (el.Value ?? []).entries()) {
      const out = await this.dataset(item as DicomDataset, `${shown}[${i}]`);
      changed ||= !sameDataset(item as DicomDataset, out);
      items.push(out);
    }
    return changed ? { vr: 'SQ', Value: items } : el;
  }

  async apply(action: AnnexEAction, tag: string, el: DicomElement, shown: string): Promise<DicomElement | undefined> {
    const vr = el.vr;
    switch (action) {
      case 'X':
        this.report.add(shown, 'remove', 'X');
        return undefined;
      case 'Z':
        this.report.add(shown, 'empty', 'Z');
        return { vr, Value: [] };
      case 'K':
        return vr === 'SQ' ? this.sequence(el, shown) : el;
      case 'U':
        // "X/Z/U*" on a sequence: keep the references, with every UID inside replaced (E.3.9).
        return vr === 'SQ' ? this.sequence(el, shown) : this.uids(el, shown);
      case 'D':
        if (vr === 'SQ') return this.sequence(el, shown);
        if (vr === 'UI') return this.uids(el, shown);
        if (vr === 'OB' || vr === 'OW' || vr === 'UN') {
          this.report.add(shown, 'empty', 'D binary');
          return { vr, Value: [] };
        }
        this.report.add(shown, 'dummy', 'D');
        return { vr, Value: dummy(vr, 'ANONYMIZED') };
      case 'C':
        return this.clean(tag, el, shown);
    }
  }

  private async uids(el: DicomElement, shown: string): Promise<DicomElement> {
    const values: unknown[] = [];
    for (const v of el.Value ?? []) values.push(typeof v === 'string' && v ? await this.p.uid(v) : v);
    this.report.add(shown, 'replace-uid', 'U');
    return { vr: el.vr, Value: values };
  }

  private async clean(tag: string, el: DicomElement, shown: string): Promise<DicomElement | undefined> {
    const vr = el.vr;
    if (vr === 'DA' || vr === 'DT') {
      this.datesShifted = true;
      this.report.add(shown, 'shift', 'C');
      return { vr, Value: (el.Value ?? []).map((v) => (typeof v === 'string' && v ? shiftDicomDate(v, this.offset) : v)) };
    }
    // Times of day carry no identity once the date has moved: kept (Modified Dates option).
    if (vr === 'TM') return el;
    if (vr === 'SQ') return this.sequence(el, shown);
    if (TEXT_VRS.has(vr)) {
      const values = (el.Value ?? []).map((v) => {
        if (typeof v !== 'string' || !v) return v;
        const r = scrubText(v, { knownNames: this.knownNames, policy: this.ctx.policy, dateShiftDays: this.offset });
        this.report.spans(r.spans.map((s) => s.type));
        return r.text;
      });
      this.report.add(shown, 'scrub', 'C');
      return { vr, Value: values };
    }
    // Nothing safe to "clean" generically for other VRs: fall back to removal.
    this.report.add(shown, 'remove', `C→X ${vr}`);
    void tag;
    return undefined;
  }
}

function codeItem(c: { code: string; meaning: string }): DicomDataset {
  return {
    '00080100': { vr: 'SH', Value: [c.code] },
    '00080102': { vr: 'SH', Value: ['DCM'] },
    '00080104': { vr: 'LO', Value: [c.meaning] },
  };
}

/** The attributes every file gets under one policy (E.1.1 items 6–7), built once per policy. */
interface PolicyConstants {
  identityRemoved: DicomElement;
  method: DicomElement;
  longitudinal: DicomElement;
  codes: DicomElement;
  /** The same with the Clean Pixel Data Option (113101), for files whose regions were blanked. */
  codesWithPixel: DicomElement;
}
const POLICY_CONSTANTS = new WeakMap<DeidPolicy, PolicyConstants>();
/** Elements shared by every output of a policy: frozen, and encoded once by the writer. */
const CONSTANT_ELEMENTS = new WeakSet<DicomElement>();
const ENCODED_CONSTANTS = new WeakMap<DicomElement, { tag: string; bytes: Uint8Array }>();

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

function policyConstants(policy: DeidPolicy): PolicyConstants {
  let c = POLICY_CONSTANTS.get(policy);
  if (c) return c;
  const opts = policy.dicom.options;
  const codes: DicomDataset[] = [codeItem(DEID_METHOD_CODES.basic)];
  if (opts.retainLongitudinalModifiedDates) codes.push(codeItem(DEID_METHOD_CODES.retainModifiedDates));
  if (opts.cleanDescriptors) codes.push(codeItem(DEID_METHOD_CODES.cleanDescriptors));
  if (opts.retainPatientCharacteristics) codes.push(codeItem(DEID_METHOD_CODES.retainPatientCharacteristics));
  c = {
    identityRemoved: { vr: 'CS', Value: ['YES'] },
    method: { vr: 'LO', Value: [`MDRP ${policy.id} ${policy.version}; PS3.15 E.1-1 2024b`] },
    longitudinal: { vr: 'CS', Value: ['MODIFIED'] },
    codes: { vr: 'SQ', Value: codes },
    codesWithPixel: { vr: 'SQ', Value: [...codes, codeItem(DEID_METHOD_CODES.cleanPixelData)] },
  };
  for (const el of Object.values(c)) CONSTANT_ELEMENTS.add(deepFreeze(el));
  POLICY_CONSTANTS.set(policy, c);
  return c;
}

/** Reads `{ meta, dict }` from Part 10 bytes (dcmjs). */
export function readDicom(bytes: Uint8Array): { meta: DicomDataset; dict: DicomDataset } {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const d = dcmjs.data.DicomMessage.readFile(ab);
  return { meta: d.meta, dict: d.dict };
}

/** Writes Part 10 bytes from `{ meta, dict }` (dcmjs). */
export function writeDicom(meta: DicomDataset, dict: DicomDataset): Uint8Array {
  const out = new dcmjs.data.DicomDict(meta);
  out.dict = dict;
  return new Uint8Array(out.write());
}

/**
 * Applies the PS3.15 Annex E Basic Application Level Confidentiality Profile, with the options the
 * policy selects (Retain Longitudinal Temporal Information with Modified Dates, Clean Descriptors,
 * optionally Retain Patient Characteristics), to a dataset in dcmjs dictionary form. Private
 * attributes, curves and overlays are removed; UIDs are replaced by keyed `2.25.` UIDs stable
 * within the project; PatientName/PatientID become the pseudonym; PatientIdentityRemoved,
 * DeidentificationMethod(CodeSequence) and LongitudinalTemporalInformationModified are written.
 * With a watermark (level-3 grants) the method carries the grant's code and the UIDs its mark.
 * Returns the new dataset and meta (inputs are not mutated) or a refusal.
 */
export async function deidentifyDicomDataset(
  input: { meta?: DicomDataset; dict: DicomDataset },
  ctx: DicomDeidContext,
): Promise<{ meta?: DicomDataset; dict?: DicomDataset; report: DeidReport }> {
  const p = ctx.pseudonymizer ?? new Pseudonymizer(ctx.keys, ctx.projectId, ctx.watermark);
  if (p.projectId !== ctx.projectId) throw new Error('pseudonymizer belongs to another project');
  if (ctx.watermark && p.watermark?.grantId !== ctx.watermark.grantId) throw new Error('the pseudonymizer does not carry the watermark of the context');
  const watermark = p.watermark;
  const report = new ReportBuilder(ctx.policy, 'dicom');
  const offset = await p.dateOffsetDays(ctx.patientToken, ctx.policy.dateShift);
  const w = new DicomWalker(ctx, p, report, offset);
  const src = input.dict;
  const originalName = str(src[TAG.PatientName]);
  w.knownNames = [...(ctx.knownNames ?? []), originalName.replace(/\^/g, ''), ...originalName.split('^').filter((s) => s.length >= 2)].filter(Boolean);

  // Burned-in annotation (R-DEID-4: pixel burn-in flagged).
  const burnedIn = str(src[TAG.BurnedInAnnotation]).toUpperCase();
  const sopClass = str(src[TAG.SOPClassUID]);
  const modality = str(src[TAG.Modality]).toUpperCase();
  const atRisk = burnedIn !== 'NO' && (AT_RISK_SOP_PREFIXES.some((p2) => sopClass.startsWith(p2)) || AT_RISK_MODALITIES.has(modality));
  const regions = ctx.policy.dicom.regions ?? [];
  const canBlank = ctx.policy.dicom.burnedInAnnotation === 'blank-regions' && regions.length > 0;
  if (burnedIn === 'YES' && !canBlank) {
    if (ctx.policy.dicom.burnedInAnnotation !== 'flag') {
      report.report.refused = 'BurnedInAnnotation is YES and the policy has no pixel regions to blank';
      return { report: report.report };
    }
    report.warn('BurnedInAnnotation is YES: pixel data released unchanged under a flag-only policy');
  } else if (atRisk && !canBlank) {
    report.warn(`possible burned-in annotation (SOP class ${sopClass}, modality ${modality || 'unknown'}): review the pixels`);
  }

  const dict = await w.dataset(src, '');
  dict[TAG.PatientName] = { vr: 'PN', Value: [{ Alphabetic: ctx.patientToken }] };
  dict[TAG.PatientID] = { vr: 'LO', Value: [ctx.patientToken] };
  report.add(`${fmtTag(TAG.PatientName)}`, 'pseudonymize');
  report.add(`${fmtTag(TAG.PatientID)}`, 'pseudonymize');

  const constants = policyConstants(ctx.policy);
  const opts = ctx.policy.dicom.options;
  let codes = constants.codes;

  if (canBlank && (burnedIn === 'YES' || atRisk)) {
    const ok = blankRegions(dict, input.meta, regions);
    if (ok) {
      codes = constants.codesWithPixel;
      dict[TAG.BurnedInAnnotation] = { vr: 'CS', Value: ['NO'] };
      report.add(fmtTag(TAG.PixelData), 'mask', `${regions.length} region(s) blanked`);
    } else {
      report.report.refused = 'pixel regions cannot be blanked (compressed or unsupported pixel data)';
      return { report: report.report };
    }
  }

  dict[TAG.PatientIdentityRemoved] = constants.identityRemoved;
  dict[TAG.DeidentificationMethod] = watermark ? { vr: 'LO', Value: [...constants.method.Value!, `${DICOM_WATERMARK_PREFIX}${await watermark.code()}`] } : constants.method;
  dict[TAG.DeidentificationMethodCodeSequence] = codes;
  if (opts.retainLongitudinalModifiedDates) dict[TAG.LongitudinalTemporalInformationModified] = constants.longitudinal;
  for (const t of [TAG.PatientIdentityRemoved, TAG.DeidentificationMethod, TAG.DeidentificationMethodCodeSequence]) report.add(fmtTag(t), 'add');
  if (watermark) report.add(fmtTag(TAG.DeidentificationMethod), 'watermark', 'grant code; marked UIDs');

  let meta: DicomDataset | undefined;
  if (input.meta) {
    meta = { ...input.meta };
    const ms = meta[TAG.MediaStorageSOPInstanceUID];
    if (ms) meta[TAG.MediaStorageSOPInstanceUID] = { vr: 'UI', Value: [await p.uid(str(ms))] };
    // The source's implementation UID/name identify the hospital's software, not the patient: kept.
  }
  // No sorting here: dcmjs writes elements in tag order.
  return { meta, dict, report: report.report };
}

/** Zeroes rectangles of uncompressed 8/16-bit pixel data; false if the pixel data is not supported. */
function blankRegions(dict: DicomDataset, meta: DicomDataset | undefined, regions: NonNullable<DeidPolicy['dicom']['regions']>): boolean {
  const ts = str(meta?.[TAG.TransferSyntaxUID]) || '1.2.840.10008.1.2.1';
  const px = dict[TAG.PixelData]?.Value?.[0];
  if (!UNCOMPRESSED.has(ts) || !(px instanceof ArrayBuffer)) return false;
  const rows = Number(dict[TAG.Rows]?.Value?.[0]);
  const cols = Number(dict[TAG.Columns]?.Value?.[0]);
  const bits = Number(dict[TAG.BitsAllocated]?.Value?.[0]);
  const spp = Number(dict[TAG.SamplesPerPixel]?.Value?.[0] ?? 1);
  if (!(bits === 8 || bits === 16) || !rows || !cols) return false;
  const copy = px.slice(0);
  const arr = bits === 8 ? new Uint8Array(copy) : new Uint16Array(copy);
  const frames = Math.floor(arr.length / (rows * cols * spp));
  for (let f = 0; f < frames; f++) {
    for (const r of regions) {
      for (let y = Math.max(0, r.y); y < Math.min(rows, r.y + r.height); y++) {
        for (let x = Math.max(0, r.x); x < Math.min(cols, r.x + r.width); x++) {
          for (let s = 0; s < spp; s++) arr[f * rows * cols * spp + (y * cols + x) * spp + s] = 0;
        }
      }
    }
  }
  dict[TAG.PixelData] = { ...dict[TAG.PixelData], vr: dict[TAG.PixelData]?.vr ?? 'OW', Value: [copy] };
  return true;
}

/**
 * De-identifies one Part 10 DICOM object (R-DEID-4) under the policy's Annex E profile and options.
 *
 * @example
 * const { bytes, report } = await deidentifyDicom(fileBytes, { policy: getPolicy('l2-research'), projectId, patientToken, keys });
 * if (!bytes) console.warn(report.refused);
 */
export async function deidentifyDicom(bytes: Uint8Array, ctx: DicomDeidContext): Promise<DicomDeidResult> {
  const { meta, dict } = readDicom(bytes);
  const r = await deidentifyDicomDataset({ meta, dict }, ctx);
  if (!r.dict || !r.meta) return { report: r.report };
  return { bytes: writeDicomReusing(bytes, dict, r.meta, r.dict), report: r.report };
}

/** Transfer syntaxes whose dataset is not Explicit VR Little Endian as stored (dcmjs re-encodes those). */
const NOT_EXPLICIT_LE = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99']);
/** Explicit VR with a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
const UNDEFINED = 0xffffffff;

/**
 * Byte range `[start, end)` of every top-level element of a Part 10 file whose dataset is Explicit
 * VR Little Endian, by `GGGGEEEE` tag; undefined when the layout is anything else or malformed.
 * Only lengths are read (values are left to dcmjs); undefined-length sequences and encapsulated
 * pixel data are skipped item by item to their delimiters (PS3.5 7.5).
 */
export function topLevelRanges(bytes: Uint8Array): Map<string, [number, number]> | undefined {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength;
  const ascii = (o: number, len: number): string => String.fromCharCode(...bytes.subarray(o, o + len));
  if (n < 144 || ascii(128, 4) !== 'DICM' || v.getUint32(132, true) !== 0x00000002 || ascii(136, 2) !== 'UL') return undefined;
  const start = 144 + v.getUint32(140, true);
  const need = (o: number): number => {
    if (o > n) throw new RangeError('truncated');
    return o;
  };
  /** End of the items of an undefined-length value starting at `o` (after its sequence delimiter). */
  const skipItems = (o: number): number => {
    for (;;) {
      need(o + 8);
      const g = v.getUint16(o, true);
      const e = v.getUint16(o + 2, true);
      const len = v.getUint32(o + 4, true);
      if (g !== 0xfffe) throw new RangeError('expected an item');
      if (e === 0xe0dd) return o + 8;
      if (e !== 0xe000) throw new RangeError('expected an item');
      if (len !== UNDEFINED) o = need(o + 8 + len);
      else {
        o += 8;
        for (;;) {
          need(o + 8);
          if (v.getUint16(o, true) === 0xfffe && v.getUint16(o + 2, true) === 0xe00d) {
            o += 8;
            break;
          }
          o = element(o);
        }
      }
    }
  };
  /** End of the element starting at `o`. */
  const element = (o: number): number => {
    need(o + 8);
    const vr = ascii(o + 4, 2);
    if (!/^[A-Z]{2}$/.test(vr)) throw new RangeError('not explicit VR');
    if (!LONG_VRS.has(vr)) return need(o + 8 + v.getUint16(o + 6, true));
    need(o + 12);
    const len = v.getUint32(o + 8, true);
    // Undefined-length UN holds an Implicit VR sequence (PS3.5 6.2.2): not scanned here.
    if (len === UNDEFINED && vr === 'UN') throw new RangeError('undefined-length UN');
    return len === UNDEFINED ? skipItems(o + 12) : need(o + 12 + len);
  };
  const ranges = new Map<string, [number, number]>();
  try {
    for (let o = need(start); o < n; ) {
      need(o + 8);
      const tag = ((v.getUint16(o, true) << 16) | v.getUint16(o + 2, true)) >>> 0;
      const end = element(o);
      ranges.set(tag.toString(16).toUpperCase().padStart(8, '0'), [o, end]);
      o = end;
    }
  } catch {
    return undefined;
  }
  return ranges;
}

/**
 * Writes the de-identified dataset, copying the source bytes of every top-level element the
 * profile left untouched (the very same element object, e.g. pixel data, geometry, unchanged
 * sequences) and encoding only the changed or added ones, and the file meta, with dcmjs. This is
 * lossless for the kept elements and avoids dcmjs re-encoding them one write stream each. Falls
 * back to {@link writeDicom} when the source is not Explicit VR Little Endian or its element
 * layout does not match what dcmjs read.
 */
export function writeDicomReusing(source: Uint8Array, input: DicomDataset, meta: DicomDataset, dict: DicomDataset): Uint8Array {
  const syntax = str(meta[TAG.TransferSyntaxUID]);
  const ranges = syntax && !NOT_EXPLICIT_LE.has(syntax) ? topLevelRanges(source) : undefined;
  const inputTags = Object.keys(input);
  if (!ranges || ranges.size !== inputTags.length || inputTags.some((t) => !ranges.has(t))) return writeDicom(meta, dict);
  const parts: Uint8Array[] = [writeDicom(meta, {})];
  let pending: DicomDataset | undefined;
  const encode = (ds: DicomDataset): Uint8Array => {
    const stream = new dcmjs.data.WriteBufferStream(1024, true);
    dcmjs.data.DicomMessage.write(ds, stream, syntax, { allowInvalidVRLength: false });
    return new Uint8Array(stream.getBuffer());
  };
  const flush = (): void => {
    if (pending) parts.push(encode(pending));
    pending = undefined;
  };
  for (const tag of Object.keys(dict).sort()) {
    const el = dict[tag]!;
    const range = el === input[tag] ? ranges.get(tag) : undefined;
    let bytes = range ? source.subarray(range[0], range[1]) : undefined;
    if (!bytes && CONSTANT_ELEMENTS.has(el)) {
      // Explicit VR Little Endian is the only encoding this path writes, so one encoding per element.
      let enc = ENCODED_CONSTANTS.get(el);
      if (!enc) ENCODED_CONSTANTS.set(el, (enc = { tag, bytes: encode({ [tag]: el }) }));
      if (enc.tag === tag) bytes = enc.bytes;
    }
    if (bytes) {
      flush();
      parts.push(bytes);
    } else (pending ??= {})[tag] = el;
  }
  flush();
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
