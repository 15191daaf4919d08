import type { Resource } from '@medplum/fhirtypes';
import { EXT_SOURCE_LOCAL_TIME, EXT_TABLE_FREE_TEXT, sourceValueOf, tableFieldOf } from '../fhir/platform-extensions';
import type { KeyProvider } from '../ports/key-provider';
import { generalizeBirthDate, isFhirDateLike, shiftFhirDate } from './date-shift';
import { findRule, type DeidPolicy, type FieldRule } from './deid-policy';
import { ReportBuilder, type DeidReport } from './deid-report';
import { Pseudonymizer } from './pseudonym';
import { generalizeCell, inferGeneralization, shiftTableDate } from './table-cell';
import { scrubText } from './text-scrubber';
import { DEID_WATERMARK_TAG_SYSTEM, type GrantWatermark } from './watermark';

/** Context of one de-identification call. */
export interface DeidContext {
  policy: DeidPolicy;
  /** Project (or grant) the output is released to: pseudonyms are scoped to it (D2). */
  projectId: string;
  /** The patient's project pseudonym (see {@link patientPseudonym}). */
  patientToken: string;
  keys: KeyProvider;
  /** Names from the identity vault (patient, contacts), removed from free text wherever they occur. */
  knownNames?: readonly string[];
  /** Identifiers from the vault (MRN, insurance, resident ID, phone …), removed from free text. */
  knownIdentifiers?: readonly string[];
  /** Share one instance across calls of a batch to reuse its HMAC cache. */
  pseudonymizer?: Pseudonymizer;
  /**
   * Level-3 releases (R-DEID-6): the grant's keyed watermark — a `meta.tag` code and a keyed
   * element order (see `watermark.ts`). Must belong to the same grant as `projectId`.
   */
  watermark?: GrantWatermark;
}

/** Result of {@link deidentifyResource}. */
export interface DeidResourceResult<T extends Resource = Resource> {
  resource: T;
  report: DeidReport;
}

/** Security label on every output (HL7 v3 ObservationValue: pseudonymized). */
export const PSEUDONYMIZED_LABEL = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'PSEUDED', display: 'pseudonymized' } as const;
/** Tag system of the lineage tag `<policy id>@<version>`. */
export const DEID_POLICY_TAG_SYSTEM = 'https://mdrp.example.org/fhir/CodeSystem/deid-policy';
/** Tag system of the project the pseudonyms are scoped to. */
export const DEID_PROJECT_TAG_SYSTEM = 'https://mdrp.example.org/fhir/CodeSystem/deid-project';

const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
/** String elements holding human-written text: always scrubbed. */
const FREE_TEXT_KEYS = new Set(['div', 'text', 'description', 'conclusion', 'valueString', 'comment', 'title', 'summary', 'valueMarkdown', 'patientInstruction', 'authorString', 'display']);
/** String elements that never hold dates even if they look like one. */
/**
 * Instance UIDs of an ImagingStudy: FHIR `uid` (series, instances) and the study record the DICOM
 * ingestor writes (`studyInstanceUid`, `seriesInstanceUid`, `sopInstanceUid`). Replaced as in the
 * files (PS3.15 action U), so records and released files keep naming the same objects. SOP class
 * UIDs name a standard object type and are kept.
 */
const IMAGING_UID_KEYS = new Set(['uid', 'studyInstanceUid', 'seriesInstanceUid', 'sopInstanceUid']);
const NOT_DATE_KEYS = new Set(['id', 'code', 'system', 'version', 'value', 'reference', 'url', 'uid']);
/** Identifier systems of organizations, kept: an institution is not a person (SPEC §6 targets patients). */
const KEPT_IDENTIFIER_SYSTEM = /\/institution$/;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/**
 * The project pseudonym of a source patient: HMAC under the KMS `pseudonym` key, scoped to the
 * project, so two projects get unlinkable tokens for the same person (D2, R-DEID-3).
 *
 * @example
 * const token = await patientPseudonym(keys, 'proj-42', 'demo-hospital-1/1040352567');
 */
export async function patientPseudonym(keys: KeyProvider, projectId: string, sourcePatientId: string): Promise<string> {
  return new Pseudonymizer(keys, projectId).token('patient', sourcePatientId);
}

/**
 * De-identifies one FHIR R4 resource under a policy (R-DEID-2/3/4): direct identifiers removed,
 * identifiers and ids pseudonymized per project, references re-pointed, dates shifted by the
 * patient's keyed offset, quasi-identifiers generalized, free text scrubbed, and lineage added
 * (`meta.security` PSEUDED, `meta.tag` policy id@version). The input is never mutated.
 *
 * @example
 * const { resource, report } = await deidentifyResource(patient, { policy: getPolicy('l2-research'), projectId, patientToken, keys });
 */
export async function deidentifyResource<T extends Resource>(resource: T, ctx: DeidContext): Promise<DeidResourceResult<T>> {
  const rt = resource.resourceType;
  const p = ctx.pseudonymizer ?? new Pseudonymizer(ctx.keys, ctx.projectId);
  if (p.projectId !== ctx.projectId) throw new Error('pseudonymizer belongs to another project');
  const report = new ReportBuilder(ctx.policy, rt);
  const offset = await p.dateOffsetDays(ctx.patientToken, ctx.policy.dateShift);
  const w = new Walker(ctx, p, report, rt, offset);
  const src = JSON.parse(JSON.stringify(resource)) as JsonObject;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(src)) {
    if (k === 'meta') continue;
    if (k === 'id' && typeof v === 'string') {
      out.id = rt === 'Patient' ? ctx.patientToken : await p.token(`res:${rt}`, v);
      report.add(`${rt}.id`, 'pseudonymize');
      continue;
    }
    const r = await w.element(v, [k], `${rt}.${k}`, out, k);
    if (r !== undefined) out[k] = r;
  }
  out.meta = lineage(src.meta, ctx);
  if (ctx.watermark) {
    if (ctx.watermark.grantId !== ctx.projectId) throw new Error('watermark belongs to another grant');
    (out.meta.tag as Json[]).push({ system: DEID_WATERMARK_TAG_SYSTEM, code: await ctx.watermark.code() });
    report.add(`${rt}.meta.tag`, 'watermark');
    return { resource: (await ctx.watermark.reorder(rt, out)) as unknown as T, report: report.report };
  }
  return { resource: out as unknown as T, report: report.report };
}

function lineage(meta: Json | undefined, ctx: DeidContext): JsonObject {
  const m = meta && typeof meta === 'object' && !Array.isArray(meta) ? meta : {};
  const keepCodings = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
  // meta.source / versionId / lastUpdated describe the source system: not carried over.
  return {
    ...(Array.isArray(m.profile) ? { profile: m.profile } : {}),
    security: [...keepCodings(m.security).filter((c) => !(c && typeof c === 'object' && !Array.isArray(c) && c.code === 'PSEUDED')), { ...PSEUDONYMIZED_LABEL }],
    tag: [
      ...keepCodings(m.tag).filter((c) => !(c && typeof c === 'object' && !Array.isArray(c) && (c.system === DEID_POLICY_TAG_SYSTEM || c.system === DEID_PROJECT_TAG_SYSTEM || c.system === DEID_WATERMARK_TAG_SYSTEM))),
      { system: DEID_POLICY_TAG_SYSTEM, code: `${ctx.policy.id}@${ctx.policy.version}`, display: `de-identified under ${ctx.policy.id} v${ctx.policy.version} (data level ${ctx.policy.dataLevel})` },
      { system: DEID_PROJECT_TAG_SYSTEM, code: ctx.projectId },
    ],
  };
}

const isObj = (v: Json | undefined): v is JsonObject => !!v && typeof v === 'object' && !Array.isArray(v);

class Walker {
  constructor(
    private readonly ctx: DeidContext,
    private readonly p: Pseudonymizer,
    private readonly report: ReportBuilder,
    private readonly rt: string,
    private readonly offset: number,
  ) {}

  /** Processes one element; returns the new value or `undefined` to drop it. */
  async element(v: Json, segs: string[], shown: string, parent: JsonObject, key: string): Promise<Json | undefined> {
    const rule = findRule(this.ctx.policy, this.rt, segs.join('.'));
    if (rule) return this.applyRule(rule, v, segs, shown);
    if (key === 'extension' && Array.isArray(v)) return this.extensions(v, segs, shown, parent);
    if (Array.isArray(v)) {
      const arr: Json[] = [];
      for (let i = 0; i < v.length; i++) {
        const r = await this.element(v[i] as Json, segs, `${shown}[${i}]`, parent, key);
        if (r !== undefined) arr.push(r);
      }
      return arr.length ? arr : undefined;
    }
    if (isObj(v)) return this.object(v, segs, shown, key);
    if (typeof v === 'string') return this.string(v, segs, shown, parent, key);
    return v;
  }

  private async object(o: JsonObject, segs: string[], shown: string, key: string): Promise<Json | undefined> {
    if (key === 'identifier' || (isObj(o) && 'system' in o && 'value' in o && segs[segs.length - 1] === 'identifier')) return this.identifier(o, shown);
    if (typeof o.contentType === 'string' && ('url' in o || 'data' in o)) return this.attachment(o, segs, shown);
    if (key === 'component') {
      const field = tableFieldOf(o);
      const fieldRule = field ? findRule(this.ctx.policy, undefined, field) : undefined;
      if (field && fieldRule && fieldRule.action !== 'keep') return this.tableComponent(o, field, fieldRule, segs, shown);
    }
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(o)) {
      if (k === 'identifier' && typeof o.reference === 'string' && o.reference.startsWith('Patient/')) {
        // A logical patient identifier next to a literal reference is redundant and identifying.
        this.report.add(`${shown}.identifier`, 'remove');
        continue;
      }
      if (k === 'display' && ('code' in o || 'system' in o) && !('reference' in o)) {
        out[k] = v; // Coding.display comes from the code system, not from a person.
        continue;
      }
      const r = await this.element(v, [...segs, k], `${shown}.${k}`, o, k);
      if (r !== undefined) out[k] = r;
    }
    return Object.keys(out).length ? out : undefined;
  }

  private async string(v: string, segs: string[], shown: string, parent: JsonObject, key: string): Promise<Json | undefined> {
    if (key === 'reference') return this.reference(v, shown);
    if (this.rt === 'ImagingStudy' && IMAGING_UID_KEYS.has(key)) {
      this.report.add(shown, 'replace-uid');
      return this.p.uid(v);
    }
    if (FREE_TEXT_KEYS.has(key) && !('code' in parent && key === 'display' && !('reference' in parent))) return this.scrub(v, shown);
    if (!NOT_DATE_KEYS.has(key) && isFhirDateLike(v)) {
      if (v.length < 7) return v;
      this.report.add(shown, 'shift');
      return shiftFhirDate(v, this.offset);
    }
    void segs;
    return v;
  }

  /**
   * The platform's own extensions (`platform-extensions.ts`) get the treatment of the table cell
   * they came from: the source wall-clock time is shifted by the patient's offset like every
   * date; the pointer to the encrypted free-text object is internal (the text is identified and
   * never released, and a stable file id would link releases of different projects), so it is
   * dropped. Other extensions are walked like any element.
   */
  private async extensions(list: Json[], segs: string[], shown: string, parent: JsonObject): Promise<Json | undefined> {
    const out: Json[] = [];
    for (let i = 0; i < list.length; i++) {
      const e = list[i] as Json;
      const at = `${shown}[${i}]`;
      if (isObj(e) && e.url === EXT_TABLE_FREE_TEXT) {
        this.report.add(at, 'remove', 'internal pointer to encrypted free text');
        continue;
      }
      if (isObj(e) && e.url === EXT_SOURCE_LOCAL_TIME) {
        const subs = (Array.isArray(e.extension) ? e.extension : []).filter(isObj);
        const local = subs.find((x) => x.url === 'localDateTime');
        const shifted = typeof local?.valueString === 'string' ? shiftTableDate(local.valueString, this.offset) : undefined;
        if (shifted === undefined) {
          // Not a date the shift understands: never passed through unshifted.
          this.report.add(at, 'remove', 'unshiftable local time');
          continue;
        }
        this.report.add(`${at}.localDateTime`, 'shift');
        out.push({ ...e, extension: subs.map((x) => (x === local ? { url: 'localDateTime', valueString: shifted } : x)) });
        continue;
      }
      const r = await this.element(e, segs, at, parent, 'extension-item');
      if (r !== undefined) out.push(r);
    }
    return out.length ? out : undefined;
  }

  /**
   * A component of a table-row Observation whose platform field has a table column rule in the
   * policy (e.g. `nurseId` → pseudonymize, `note` → scrub): the cell gets that rule, exactly as
   * in a released table (`deidentify-table.ts`). The result is a string value; the source-value
   * extension, which repeats the raw cell, goes.
   */
  private async tableComponent(o: JsonObject, field: string, rule: FieldRule, segs: string[], shown: string): Promise<Json | undefined> {
    if (rule.action === 'remove') {
      this.report.add(shown, 'remove', `field ${field}`);
      return undefined;
    }
    const action = rule.action;
    if (action === 'keep') return o;
    const cc = isObj(o.valueCodeableConcept) ? o.valueCodeableConcept : undefined;
    const firstCode = cc && Array.isArray(cc.coding) ? cc.coding.filter(isObj).map((c) => c.code).find((c) => typeof c === 'string') : undefined;
    const quantity = isObj(o.valueQuantity) && typeof o.valueQuantity.value === 'number' ? String(o.valueQuantity.value) : undefined;
    const cell = sourceValueOf(o)?.value ?? (typeof o.valueString === 'string' ? o.valueString : undefined) ?? (typeof firstCode === 'string' ? firstCode : undefined) ?? (typeof cc?.text === 'string' ? cc.text : undefined) ?? quantity;
    const code = await this.element(o.code as Json, [...segs, 'code'], `${shown}.code`, o, 'code');
    if (cell === undefined || code === undefined) {
      this.report.add(shown, 'remove', `field ${field}`);
      return undefined;
    }
    let value: string;
    switch (action) {
      case 'pseudonymize':
        value = await this.p.token(`field:${field}`, cell.trim());
        break;
      case 'mask':
        value = maskValue(cell);
        break;
      case 'generalize':
        value = generalizeCell(cell, inferGeneralization(field, cell));
        break;
      case 'shift':
        value = shiftTableDate(cell, this.offset) ?? this.scrub(cell, `${shown}.value`);
        break;
      default:
        value = this.scrub(cell, `${shown}.value`);
    }
    this.report.add(`${shown}.value`, action, `field ${field}`);
    if (!value) return undefined;
    return { code, valueString: value };
  }

  private scrub(v: string, shown: string): string {
    const r = scrubText(v, { knownNames: this.ctx.knownNames, knownIdentifiers: this.ctx.knownIdentifiers, policy: this.ctx.policy, dateShiftDays: this.offset });
    if (r.spans.length) {
      this.report.add(shown, 'scrub', [...new Set(r.spans.map((s) => s.type))].join(','));
      this.report.spans(r.spans.map((s) => s.type));
    }
    return r.text;
  }

  private async reference(ref: string, shown: string): Promise<string> {
    if (ref.startsWith('#')) return ref;
    const m = /^(?:(.*)\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/.*)?$/.exec(ref);
    this.report.add(shown, 'replace-reference');
    if (m) {
      const type = m[2] ?? '';
      const id = type === 'Patient' ? this.ctx.patientToken : await this.p.token(`res:${type}`, m[3] ?? '');
      return `${type}/${id}`;
    }
    const uuid = /^urn:uuid:(.+)$/.exec(ref);
    const t = await this.p.token('ref', uuid?.[1] ?? ref);
    return `urn:uuid:${t.slice(0, 8)}-${t.slice(8, 12)}-${t.slice(12, 16)}-${t.slice(16, 20)}-${t.slice(20, 32)}`;
  }

  private async identifier(o: JsonObject, shown: string): Promise<Json | undefined> {
    const system = typeof o.system === 'string' ? o.system : '';
    const value = typeof o.value === 'string' ? o.value : undefined;
    if (KEPT_IDENTIFIER_SYSTEM.test(system)) return o;
    if (value === undefined) return undefined;
    if (system === 'urn:dicom:uid') {
      this.report.add(`${shown}.value`, 'replace-uid');
      return { system, value: `urn:oid:${await this.p.uid(value.replace(/^urn:oid:/, ''))}` };
    }
    this.report.add(`${shown}.value`, 'pseudonymize');
    const out: JsonObject = { value: await this.p.token(`identifier:${system}`, value) };
    if (system) out.system = system;
    if (isObj(o.type)) out.type = o.type;
    if (typeof o.use === 'string') out.use = o.use;
    return out;
  }

  private async attachment(o: JsonObject, segs: string[], shown: string): Promise<Json> {
    const out: JsonObject = { contentType: o.contentType as string };
    if (typeof o.language === 'string') out.language = o.language;
    if (typeof o.url === 'string') {
      // Source file names carry MRNs; the released copy is addressed by a token.
      out.url = `urn:mdrp:deid:attachment:${await this.p.token('attachment', o.url)}`;
      this.report.add(`${shown}.url`, 'pseudonymize');
    }
    if (typeof o.data === 'string') {
      if (/^text\//.test(String(o.contentType))) {
        const text = Buffer.from(o.data, 'base64').toString('utf8');
        out.data = Buffer.from(this.scrub(text, `${shown}.data`), 'utf8').toString('base64');
      } else this.report.add(`${shown}.data`, 'remove', 'inline binary cannot be inspected');
    }
    if (typeof o.title === 'string') out.title = this.scrub(o.title, `${shown}.title`);
    if (typeof o.creation === 'string') {
      out.creation = shiftFhirDate(o.creation, this.offset);
      this.report.add(`${shown}.creation`, 'shift');
    }
    // size and hash describe the identified source file.
    for (const k of ['size', 'hash']) if (k in o) this.report.add(`${shown}.${k}`, 'remove');
    void segs;
    return out;
  }

  private async applyRule(rule: FieldRule, v: Json, segs: string[], shown: string): Promise<Json | undefined> {
    switch (rule.action) {
      case 'remove':
        this.report.add(shown, 'remove');
        return undefined;
      case 'keep':
        return v;
      case 'shift':
        if (typeof v === 'string' && isFhirDateLike(v)) {
          this.report.add(shown, 'shift');
          return shiftFhirDate(v, this.offset);
        }
        return v;
      case 'scrub':
        return typeof v === 'string' ? this.scrub(v, shown) : v;
      case 'mask':
        this.report.add(shown, 'mask');
        return typeof v === 'string' ? maskValue(v) : undefined;
      case 'pseudonymize': {
        if (Array.isArray(v)) {
          const arr: Json[] = [];
          for (let i = 0; i < v.length; i++) {
            const item = v[i] as Json;
            const r = isObj(item) ? await this.identifier(item, `${shown}[${i}]`) : typeof item === 'string' ? await this.p.token(segs.join('.'), item) : undefined;
            if (r !== undefined) arr.push(r);
          }
          return arr.length ? arr : undefined;
        }
        if (isObj(v)) return this.identifier(v, shown);
        this.report.add(shown, 'pseudonymize');
        return typeof v === 'string' ? this.p.token(segs.join('.'), v) : undefined;
      }
      case 'generalize':
        return this.generalize(v, segs, shown);
    }
  }

  private generalize(v: Json, segs: string[], shown: string): Json | undefined {
    const path = segs.join('.');
    this.report.add(shown, 'generalize');
    if (path === 'birthDate' && typeof v === 'string') return generalizeBirthDate(v);
    if (path === 'address' && Array.isArray(v)) {
      const out = v.filter(isObj).map((a) => {
        const g: JsonObject = {};
        for (const k of ['use', 'type', 'city', 'state', 'country'] as const) if (a[k] !== undefined) g[k] = a[k];
        return g;
      });
      return out.length ? out : undefined;
    }
    if (isObj(v) && Array.isArray(v.coding)) return generalizeCode(v);
    return undefined;
  }
}

/** ICD-10 → its 3-character category; more specific codings and text are dropped. */
function generalizeCode(cc: JsonObject): JsonObject {
  const codings = (cc.coding as Json[]).filter(isObj);
  const icd = codings.find((c) => c.system === ICD10 && typeof c.code === 'string');
  if (!icd) return cc;
  return { coding: [{ system: ICD10, code: String(icd.code).split('.')[0] ?? '' }] };
}

/**
 * Masks a value: keeps the first 3 and last 2 characters of long values (`139******55`), hides
 * everything of short ones.
 */
export function maskValue(v: string): string {
  const chars = [...v];
  if (chars.length <= 6) return '*'.repeat(chars.length);
  return chars.slice(0, 3).join('') + '*'.repeat(chars.length - 5) + chars.slice(-2).join('');
}
