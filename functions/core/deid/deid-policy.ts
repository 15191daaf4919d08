/**
 * De-identification policy: a versioned, declarative description of what happens to every field,
 * free-text passage and DICOM attribute before data leaves for researchers (R-DEID-2, R-DEID-4,
 * R-SEC-3). Built-in policies live in code so that a policy id + version in a report's lineage
 * always means the same rules.
 */

/** What a rule does to the value at its path. */
export type DeidAction =
  /** Drop the element. */
  | 'remove'
  /** Keep length and edges, hide the middle (`139****5678`). */
  | 'mask'
  /** Replace by a keyed HMAC token scoped to the project (D2). */
  | 'pseudonymize'
  /** Coarsen: birthDate → year, age → 5-year band, address → province/city, ICD-10 → category. */
  | 'generalize'
  /** Move dates by the patient's keyed offset (intervals preserved). */
  | 'shift'
  /** Run the free-text scrubber. */
  | 'scrub'
  /** Keep as is. */
  | 'keep';

/** One rule: a FHIR path (`Patient.address`, `*.identifier`) or a column name of a table. */
export interface FieldRule {
  /**
   * FHIR: `ResourceType.element.element` (arrays are traversed; `*` matches any resource type).
   * Tables: the column name.
   */
  path: string;
  action: DeidAction;
  /** Why (shown in the policy document). */
  reason?: string;
}

/** How DICOM headers are handled (PS3.15 Annex E, see `dicom-profile.ts`). */
export interface DicomPolicy {
  /** Annex E options applied on top of the Basic Profile. */
  options: {
    /** Retain Longitudinal Temporal Information with Modified Dates (113107): dates shifted. */
    retainLongitudinalModifiedDates: boolean;
    /** Clean Descriptors (113105): descriptions scrubbed rather than removed. */
    cleanDescriptors: boolean;
    /** Retain Patient Characteristics (113108): sex, age, size, weight kept. */
    retainPatientCharacteristics: boolean;
  };
  /**
   * Images with burned-in text: `refuse` = do not release when BurnedInAnnotation is YES and no
   * region can be blanked; `flag` = release but report; `blank-regions` = blank `regions` first.
   */
  burnedInAnnotation: 'refuse' | 'flag' | 'blank-regions';
  /** Pixel rectangles to blank (e.g. a vendor's header band), in pixel units. */
  regions?: { x: number; y: number; width: number; height: number }[];
}

/** How free text is scrubbed (see `text-scrubber.ts`). */
export interface TextPolicy {
  /** Placeholder (`[姓名]` / `[NAME]`) or surrogate replacement. */
  replacement: 'placeholder';
  /** Dates found in text: shifted by the patient's offset (when known) or replaced by a placeholder. */
  dates: 'shift' | 'redact' | 'keep';
}

/** k-anonymity requirement of released tables (R-DEID-5). */
export interface KAnonymityPolicy {
  k: number;
  quasiIdentifiers: string[];
  /** Sensitive attributes checked for l-diversity. */
  sensitive?: string[];
  l?: number;
}

/** A versioned de-identification policy. */
export interface DeidPolicy {
  /** Stable id, e.g. `l2-research`. */
  id: string;
  /** Semantic version; bumped whenever a rule changes. */
  version: string;
  /** Security level of the released data (R-SEC-2/3). */
  dataLevel: 1 | 2 | 3 | 4 | 5;
  purpose?: string;
  /** Ordered rules; the first rule matching a path wins. */
  fields: FieldRule[];
  /** Date shift window in days (offset ∈ [−maxDays, −minDays] ∪ [minDays, maxDays]). */
  dateShift: { minDays: number; maxDays: number };
  kAnonymity: KAnonymityPolicy;
  dicom: DicomPolicy;
  text: TextPolicy;
}

/** Direct identifiers of the Patient and identifying elements every policy removes (R-DEID-2). */
const PATIENT_DIRECT_IDENTIFIERS: FieldRule[] = [
  { path: 'Patient.name', action: 'remove', reason: 'direct identifier' },
  { path: 'Patient.identifier', action: 'remove', reason: 'resident ID, MRN, insurance number' },
  { path: 'Patient.telecom', action: 'remove', reason: 'direct identifier' },
  { path: 'Patient.contact', action: 'remove', reason: 'relatives are identifiers too' },
  { path: 'Patient.photo', action: 'remove', reason: 'face image' },
  { path: 'Patient.link', action: 'remove', reason: 'links to other identified records' },
  { path: 'Patient.generalPractitioner', action: 'remove', reason: 'care relationship narrows identity' },
  { path: 'RelatedPerson.name', action: 'remove' },
  { path: 'RelatedPerson.telecom', action: 'remove' },
  { path: 'RelatedPerson.address', action: 'remove' },
  { path: 'RelatedPerson.identifier', action: 'remove' },
  { path: 'RelatedPerson.photo', action: 'remove' },
  { path: '*.contained', action: 'remove', reason: 'contained resources are not walked by type rules' },
];

/** Rules on columns of tabular exports (nursing rows, vitals) shared by the built-ins. */
const TABLE_COLUMNS: FieldRule[] = [
  { path: 'name', action: 'remove' },
  { path: 'residentId', action: 'remove' },
  { path: 'phone', action: 'remove' },
  { path: 'mrn', action: 'pseudonymize' },
  { path: 'recordId', action: 'pseudonymize' },
  { path: 'nurseId', action: 'pseudonymize' },
  { path: 'note', action: 'scrub' },
  { path: 'text', action: 'scrub' },
  { path: 'recordedAt', action: 'shift' },
  { path: 'measuredAt', action: 'shift' },
];

const STANDARD_DICOM: DicomPolicy = {
  options: { retainLongitudinalModifiedDates: true, cleanDescriptors: true, retainPatientCharacteristics: false },
  burnedInAnnotation: 'refuse',
};

const QUASI_IDENTIFIERS = ['ageBand', 'sex', 'province', 'city', 'ethnicity'];

/**
 * Level 2 (R-SEC-3: fully de-identified): direct identifiers removed, birth date → year,
 * address → province/city, dates shifted, identifiers pseudonymized per project, text scrubbed.
 */
export const L2_RESEARCH: DeidPolicy = {
  id: 'l2-research',
  version: '1.0.0',
  dataLevel: 2,
  purpose: 'Approved research projects; fully de-identified data',
  fields: [
    ...PATIENT_DIRECT_IDENTIFIERS,
    { path: 'Patient.birthDate', action: 'generalize', reason: 'year only' },
    { path: 'Patient.address', action: 'generalize', reason: 'province/city level' },
    { path: 'Patient.extension', action: 'remove', reason: 'unknown extensions may hold identifiers' },
    { path: 'Patient.managingOrganization', action: 'keep' },
    { path: '*.identifier', action: 'pseudonymize', reason: 'record, visit and accession numbers' },
    ...TABLE_COLUMNS,
    { path: 'age', action: 'generalize' },
    { path: 'birthDate', action: 'generalize' },
  ],
  dateShift: { minDays: 1, maxDays: 180 },
  kAnonymity: { k: 5, quasiIdentifiers: QUASI_IDENTIFIERS, sensitive: ['diagnosis'], l: 2 },
  dicom: STANDARD_DICOM,
  text: { replacement: 'placeholder', dates: 'shift' },
};

/**
 * Level 2, strict (public or wide sharing): additionally ICD-10 codes coarsened to categories and
 * k = 10.
 */
export const L2_STRICT: DeidPolicy = {
  ...L2_RESEARCH,
  id: 'l2-strict',
  version: '1.0.0',
  purpose: 'Wide sharing; rare codes coarsened, larger equivalence classes',
  fields: [
    { path: 'Condition.code', action: 'generalize', reason: 'rare codes → parent category' },
    { path: 'Patient.maritalStatus', action: 'remove' },
    { path: 'Patient.communication', action: 'remove' },
    ...L2_RESEARCH.fields,
  ],
  kAnonymity: { ...L2_RESEARCH.kAnonymity, k: 10 },
  dicom: { ...STANDARD_DICOM, burnedInAnnotation: 'refuse' },
};

/**
 * Level 3 (R-SEC-3: project-scoped, masked): direct identifiers removed all the same; quasi
 * identifiers kept with more detail (birth year-month, postal code masked) because L3 data only
 * reaches a named project inside the controlled environment.
 */
export const L3_PROJECT: DeidPolicy = {
  ...L2_RESEARCH,
  id: 'l3-project',
  version: '1.0.0',
  dataLevel: 3,
  purpose: 'A named project in the controlled environment; masked, project-scoped pseudonyms',
  fields: [
    ...PATIENT_DIRECT_IDENTIFIERS,
    { path: 'Patient.birthDate', action: 'generalize' },
    { path: 'Patient.address', action: 'generalize' },
    { path: 'Patient.extension', action: 'remove' },
    { path: '*.identifier', action: 'pseudonymize' },
    ...TABLE_COLUMNS,
    { path: 'postalCode', action: 'mask' },
    { path: 'age', action: 'keep' },
  ],
  dicom: { ...STANDARD_DICOM, options: { ...STANDARD_DICOM.options, retainPatientCharacteristics: true }, burnedInAnnotation: 'flag' },
};

/** Built-in policies by id. */
export const BUILTIN_POLICIES: Readonly<Record<string, DeidPolicy>> = {
  [L2_RESEARCH.id]: L2_RESEARCH,
  [L2_STRICT.id]: L2_STRICT,
  [L3_PROJECT.id]: L3_PROJECT,
};

/**
 * Looks up a built-in policy.
 *
 * @example
 * const policy = getPolicy('l2-research');
 */
export function getPolicy(id: string): DeidPolicy {
  const p = BUILTIN_POLICIES[id];
  if (!p) throw new Error(`unknown de-identification policy: ${id} (known: ${Object.keys(BUILTIN_POLICIES).join(', ')})`);
  return p;
}

/** Finds the first rule for a FHIR path (`Type.a.b`) or a table column. */
export function findRule(policy: DeidPolicy, resourceType: string | undefined, path: string): FieldRule | undefined {
  for (const r of policy.fields) {
    if (resourceType === undefined) {
      if (r.path === path) return r;
      continue;
    }
    const dot = r.path.indexOf('.');
    if (dot < 0) continue;
    const type = r.path.slice(0, dot);
    const rest = r.path.slice(dot + 1);
    if ((type === resourceType || type === '*') && rest === path) return r;
  }
  return undefined;
}
