/**
 * The platform's own FHIR R4 extension URLs and code systems, defined once. Records built by the
 * platform itself (table rows of nursing and vital-sign exports) use them to keep what FHIR has no
 * element for — the source cell as the hospital wrote it, the hospital's wall-clock time, the
 * pointer to encrypted free text — so every stored and released record is a valid R4 resource
 * (R-ING-2, R-INT-1). The de-identification engine treats each of them explicitly
 * (`deidentify-resource.ts`).
 */

const BASE = 'https://mdrp.example.org/fhir';

/**
 * Complex extension on a component (or an Observation): the source cell before normalization.
 * Sub-extensions `value` (valueString, the cell as written) and `unit` (valueString, the declared
 * source unit, when there is one).
 */
export const EXT_SOURCE_VALUE = `${BASE}/StructureDefinition/source-value`;

/**
 * Complex extension on an Observation: the source system's wall-clock time of `effective[x]`.
 * Sub-extensions `localDateTime` (valueString, `YYYY-MM-DD HH:mm:ss` without offset: not a FHIR
 * dateTime, which needs a zone once it has a time) and `timeZone` (valueCode, IANA zone).
 */
export const EXT_SOURCE_LOCAL_TIME = `${BASE}/StructureDefinition/source-local-time`;

/**
 * Complex extension on an Observation: the row's free-text cells are not in the record but in one
 * envelope-encrypted object per patient. Sub-extensions `file` (valueIdentifier in
 * {@link FILE_ID_SYSTEM}) and one `field` (valueString) per free-text column of the row.
 * Internal: the de-identification engine never releases it.
 */
export const EXT_TABLE_FREE_TEXT = `${BASE}/StructureDefinition/table-free-text`;

/** Identifier system of the platform's stored files (`f-…`). */
export const FILE_ID_SYSTEM = `${BASE}/sid/file`;

/** Code system of table targets (`vital-sign-series`, `nursing-record`): `Observation.code` of a table row. */
export const TABLE_TARGET_SYSTEM = `${BASE}/CodeSystem/table-target`;

/** Code system of the platform fields columns map to (`heartRate`, `ward` …): `component.code` of a table row. */
export const TABLE_FIELD_SYSTEM = `${BASE}/CodeSystem/table-field`;

/** Code system of a declared enumeration of one field: `${TABLE_VALUE_SYSTEM}/<field>`. */
export const TABLE_VALUE_SYSTEM = `${BASE}/CodeSystem/table-value`;

/** LOINC. */
export const LOINC_SYSTEM = 'http://loinc.org';

/** HL7 Observation category codes. */
export const OBSERVATION_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/observation-category';

type Json = unknown;
type Extension = { url?: unknown; extension?: unknown; [k: string]: unknown };

function asObject(v: Json): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The first extension with `url` on an element, if any. */
export function extensionOf(element: Json, url: string): Extension | undefined {
  const list = asObject(element)?.extension;
  return Array.isArray(list) ? (list.find((e) => asObject(e)?.url === url) as Extension | undefined) : undefined;
}

/** The `value[x]` of the first sub-extension `name` of a complex extension. */
export function subExtensionValue(ext: Json, name: string): unknown {
  const sub = extensionOf(ext, name);
  if (!sub) return undefined;
  const key = Object.keys(sub).find((k) => k.startsWith('value'));
  return key ? sub[key] : undefined;
}

/** The platform field of a table-row component (its {@link TABLE_FIELD_SYSTEM} code), if it is one. */
export function tableFieldOf(component: Json): string | undefined {
  const coding = asObject(asObject(component)?.code)?.coding;
  if (!Array.isArray(coding)) return undefined;
  const c = coding.map(asObject).find((x) => x?.system === TABLE_FIELD_SYSTEM);
  return typeof c?.code === 'string' ? c.code : undefined;
}

/** The source wall-clock time of an Observation ({@link EXT_SOURCE_LOCAL_TIME}), if recorded. */
export function sourceLocalTimeOf(resource: Json): { localDateTime: string; timeZone: string } | undefined {
  const ext = extensionOf(resource, EXT_SOURCE_LOCAL_TIME);
  const localDateTime = subExtensionValue(ext, 'localDateTime');
  const timeZone = subExtensionValue(ext, 'timeZone');
  return typeof localDateTime === 'string' && typeof timeZone === 'string' ? { localDateTime, timeZone } : undefined;
}

/** The source cell of a component ({@link EXT_SOURCE_VALUE}), if recorded. */
export function sourceValueOf(component: Json): { value: string; unit?: string } | undefined {
  const ext = extensionOf(component, EXT_SOURCE_VALUE);
  const value = subExtensionValue(ext, 'value');
  const unit = subExtensionValue(ext, 'unit');
  return typeof value === 'string' ? { value, ...(typeof unit === 'string' ? { unit } : {}) } : undefined;
}

/** The encrypted free-text file of a table row ({@link EXT_TABLE_FREE_TEXT}), if the row had any. */
export function tableFreeTextOf(resource: Json): { fileId: string; fields: string[] } | undefined {
  const ext = extensionOf(resource, EXT_TABLE_FREE_TEXT);
  const file = asObject(subExtensionValue(ext, 'file'));
  if (typeof file?.value !== 'string') return undefined;
  const subs = asObject(ext)?.extension;
  const fields = (Array.isArray(subs) ? subs : []).map(asObject).filter((s) => s?.url === 'field' && typeof s.valueString === 'string').map((s) => s!.valueString as string);
  return { fileId: file.value, fields };
}
