import type { Resource } from '@medplum/fhirtypes';

/**
 * Data model of the synthetic hospital export used as MDRP demo data (SPEC §14: breast cancer,
 * neoadjuvant radiotherapy + immunotherapy). Everything here is fictional and generated from a seed.
 *
 * Identifiers (name, resident ID, phone, address, MRN, insurance number) live ONLY in
 * {@link DemoIdentity} and in the raw artefacts derived from it (FHIR Patient, DICOM headers, PDF/text
 * report headers, CSV MRN column) — exactly the places a real hospital export would carry them,
 * so the platform's de-identification has something to remove.
 */

/** Bilingual label (Chinese first, as the hospital system shows it). */
export interface LocalizedText {
  zh: string;
  en: string;
}

/** Institution id of the two fictional demo hospitals. */
export type DemoInstitutionId = 'demo-hospital-1' | 'demo-hospital-2';

/** A fictional contributing hospital. */
export interface DemoInstitution {
  institutionId: DemoInstitutionId;
  name: LocalizedText;
  /** FHIR identifier system of this hospital's medical record numbers. */
  mrnSystem: string;
  /** Prefix of MRNs issued by this hospital (MRNs are unique per hospital only). */
  mrnPrefix: string;
  /** IANA time zone of the hospital's wall clock (China: fixed UTC+08:00, no DST since 1991). */
  timeZone: 'Asia/Shanghai';
  city: LocalizedText;
  /** DICOM InstitutionName (ASCII, as many modalities write it). */
  dicomInstitutionName: string;
  /** Vendor names written in DICOM Manufacturer (fictional). */
  dicomManufacturer: string;
}

/** Postal address in Chinese administrative order. */
export interface DemoAddress {
  province: string;
  city: string;
  district: string;
  street: string;
  /** Building / unit / room, e.g. "12号楼3单元502室". */
  building: string;
  postalCode: string;
  /** 6-digit administrative division code of the district (GB/T 2260). */
  divisionCode: string;
  /** Full one-line address as written on forms. */
  text: string;
}

/** Emergency contact (also PHI). */
export interface DemoContact {
  name: string;
  relationship: LocalizedText;
  mobilePhone: string;
}

/** Direct identifiers of one source patient record. The only place identifiers exist. */
export interface DemoIdentity {
  familyName: string;
  givenName: string;
  /** Family name + given name without separator, e.g. "王秀英". */
  fullName: string;
  sex: 'female' | 'male';
  /** YYYY-MM-DD. */
  birthDate: string;
  /** 18-digit resident identity card number (GB 11643 check digit valid, consistent with birthDate and sex). */
  residentId: string;
  /** 11-digit mainland mobile number. */
  mobilePhone: string;
  email?: string;
  address: DemoAddress;
  /** Hospital medical record number (unique within the institution). */
  mrn: string;
  /** Basic medical insurance number. */
  insuranceNumber: string;
  insuranceType: LocalizedText;
  ethnicity: string;
  maritalStatus: LocalizedText;
  emergencyContact: DemoContact;
}

/** Molecular subtype (surrogate, from IHC/FISH). */
export type DemoMolecularSubtype = 'TNBC' | 'HR+/HER2-' | 'HR+/HER2+' | 'HR-/HER2+';

/** A coded concept with bilingual display. */
export interface DemoCode {
  system: string;
  code: string;
  display: LocalizedText;
}

/** One organ-at-risk dose row of a radiotherapy plan. */
export interface DemoOarDose {
  organ: LocalizedText;
  /** e.g. "Dmean", "V20", "Dmax". */
  metric: string;
  value: number;
  unit: 'Gy' | '%';
  /** Constraint as written in the plan, e.g. "< 30%". */
  constraint: string;
  met: boolean;
}

/** Neoadjuvant radiotherapy course. */
export interface DemoRadiotherapy {
  technique: LocalizedText;
  target: LocalizedText;
  totalDoseGy: number;
  fractions: number;
  dosePerFractionGy: number;
  /** UTC ISO instants of first and last fraction. */
  start: string;
  end: string;
  oarDoses: DemoOarDose[];
  planId: string;
}

/** Systemic neoadjuvant therapy regimen. */
export interface DemoRegimen {
  code: string;
  name: LocalizedText;
  drugs: { name: LocalizedText; rxnorm: string; dose: number; unit: 'mg' | 'mg/m2' | 'mg/kg' | 'AUC' }[];
  cycles: number;
  intervalDays: number;
}

/** Clinical summary of one source patient record (no identifiers). */
export interface DemoClinical {
  ageAtDiagnosis: number;
  /** YYYY-MM-DD (date of the diagnostic biopsy). */
  diagnosisDate: string;
  icd10: DemoCode;
  pathologyType: DemoCode;
  histologicGrade: 1 | 2 | 3;
  laterality: 'left' | 'right';
  quadrant: LocalizedText;
  tumorSizeMm: number;
  cT: string;
  cN: string;
  cM: string;
  /** Compact clinical TNM, e.g. "cT2N0M0". */
  cTNM: string;
  /** AJCC 8th anatomic stage group, e.g. "IIA". */
  stageGroup: string;
  molecularSubtype: DemoMolecularSubtype;
  erPercent: number;
  prPercent: number;
  her2Ihc: '0' | '1+' | '2+' | '3+';
  her2Fish?: 'amplified' | 'not amplified';
  ki67Percent: number;
  pdl1Cps: number;
  menopausalStatus: LocalizedText;
  ecog: 0 | 1;
  heightCm: number;
  weightKg: number;
  regimen: DemoRegimen;
  radiotherapy?: DemoRadiotherapy;
  surgery?: { type: LocalizedText; date: string };
  /** Post-neoadjuvant pathology: ypTNM, pCR, residual cancer burden class. */
  response?: { ypT: string; ypN: string; pCR: boolean; rcb: 'RCB-0' | 'RCB-I' | 'RCB-II' | 'RCB-III' };
}

/** GA4GH Data Use Ontology code on the consent. */
export type DemoDuoCode = 'DUO:0000007' | 'DUO:0000042';

/** Research consent of the patient. */
export interface DemoConsent {
  /** FHIR Consent.status vocabulary. */
  status: 'active' | 'inactive' | 'rejected';
  duoCode: DemoDuoCode;
  duoLabel: string;
  /** For DUO:0000007: the disease the use is restricted to (MONDO). */
  diseaseRestriction?: DemoCode;
  /** UTC ISO instant the consent was signed (or refused). */
  signedAt: string;
  /** UTC ISO instant consent was withdrawn (status "inactive"). */
  withdrawnAt?: string;
  /** True when the patient must be excluded from grants and exports (withdrawn or refused). */
  excluded: boolean;
  note: LocalizedText;
}

/** Lifecycle event types on the patient timeline (R-MPI-4). */
export type DemoEventType =
  | 'first-visit'
  | 'biopsy'
  | 'imaging'
  | 'chemo-immunotherapy-cycle'
  | 'radiotherapy-simulation'
  | 'radiotherapy-course'
  | 'surgery'
  | 'pathology-response'
  | 'follow-up';

/** One event on the patient timeline; links its FHIR resources and files (R-MPI-4/5). */
export interface DemoTimelineEvent {
  /** Stable id, unique in the cohort, e.g. "demo-hospital-1/MRN…/evt-03". */
  eventId: string;
  type: DemoEventType;
  /** UTC ISO instant. */
  occurredAt: string;
  /** UTC ISO instant for events with a duration (radiotherapy course). */
  endedAt?: string;
  title: LocalizedText;
  /** Relative references, e.g. "Procedure/1b2c…". */
  fhirRefs: string[];
  fileIds: string[];
}

/** DICOM identifiers of a DICOM file. */
export interface DemoDicomRef {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
  modality: 'MR' | 'CT' | 'OT';
}

/** One raw file of the hospital export. */
export interface DemoFile {
  /** Stable id, unique in the cohort. */
  fileId: string;
  kind: 'dicom' | 'pdf' | 'text' | 'png';
  contentType: 'application/dicom' | 'application/pdf' | 'text/plain; charset=utf-8' | 'image/png';
  /** File name under the export folder (dicom: SOPInstanceUID.dcm; others: unique in documents/). */
  fileName: string;
  eventId?: string;
  description: LocalizedText;
  bytes: Uint8Array;
  dicom?: DemoDicomRef;
}

/** One nursing record row (as the nursing information system exports it). */
export interface DemoNursingRow {
  recordId: string;
  mrn: string;
  /** UTC ISO instant. */
  recordedAt: string;
  ward: string;
  category: LocalizedText;
  /** NRS 0–10. */
  painScore: number;
  /** Activities of daily living, Barthel index 0–100. */
  barthelIndex: number;
  /** Braden pressure-ulcer risk 6–23. */
  bradenScore: number;
  /** Morse fall risk 0–125. */
  fallRiskScore: number;
  /** Free-text note in Chinese (may mention the patient by name, as real notes do). */
  note: string;
  nurseId: string;
}

/** One vital-sign measurement row (monitor / nursing system time series). */
export interface DemoVitalRow {
  recordId: string;
  mrn: string;
  /** UTC ISO instant. */
  measuredAt: string;
  heartRate: number;
  systolic: number;
  diastolic: number;
  temperatureC: number;
  spo2: number;
  respiratoryRate: number;
  source: 'monitor' | 'manual';
}

/** One source patient record of one institution. */
export interface DemoPatient {
  /** Institution-scoped stable id: `<institutionId>/<MRN>`. */
  sourcePatientId: string;
  institutionId: DemoInstitutionId;
  identity: DemoIdentity;
  clinical: DemoClinical;
  consent: DemoConsent;
  /** Which care episode this record covers at this institution. */
  episode: 'neoadjuvant-treatment' | 'second-opinion-follow-up';
  /** All FHIR R4 resources of this patient record (Patient first). */
  fhir: Resource[];
  timeline: DemoTimelineEvent[];
  files: DemoFile[];
  nursing: DemoNursingRow[];
  vitals: DemoVitalRow[];
}

/** Pair of source records that the master patient index should detect (R-MPI-1/2). */
export interface DemoDuplicatePair {
  pairId: string;
  /**
   * `probable`: same name + birth date + sex, different resident IDs (operator must decide);
   * `same-resident-id`: the same person at both hospitals with the same resident ID (certain match).
   */
  kind: 'probable' | 'same-resident-id';
  a: string;
  b: string;
  matchOn: ('fullName' | 'birthDate' | 'sex' | 'residentId')[];
  note: string;
}

/** Catalogue entry of a demo dataset (R-ANA-3, R-SEC-2). */
export interface DemoDataset {
  datasetId: string;
  name: LocalizedText;
  description: LocalizedText;
  disease: DemoCode;
  /** Security level 1–5 (R-SEC-2). */
  securityLevel: 1 | 2 | 3 | 4 | 5;
  modalities: ('clinical' | 'fhir' | 'dicom' | 'pdf' | 'text' | 'image' | 'nursing' | 'vital-signs')[];
  institutionIds: DemoInstitutionId[];
  sourcePatientIds: string[];
}

/** The whole generated cohort. */
export interface DemoCohort {
  generatorVersion: string;
  seed: number;
  /** Fixed logical generation instant (not the wall clock), UTC ISO. */
  generatedAt: string;
  institutions: DemoInstitution[];
  patients: DemoPatient[];
  duplicatePairs: DemoDuplicatePair[];
  datasets: DemoDataset[];
  /** Whether PDFs contain Chinese text (the CJK font was found) or English only. */
  pdfText: { cjkFont: boolean; fontPath?: string; note: string };
}

/** One written file in the export manifest. */
export interface ExportManifestFile {
  path: string;
  bytes: number;
  sha256: string;
  contentType: string;
  sourcePatientId?: string;
  fileId?: string;
}

/** `manifest.json` of a written hospital export. */
export interface ExportManifest {
  format: 'mdrp-demo-hospital-export';
  formatVersion: 1;
  generatorVersion: string;
  seed: number;
  generatedAt: string;
  institutions: { institutionId: DemoInstitutionId; name: LocalizedText; patients: number }[];
  counts: {
    patients: number;
    fhirResources: Record<string, number>;
    dicomFiles: number;
    dicomStudies: number;
    documents: number;
    nursingRows: number;
    vitalRows: number;
  };
  probableDuplicatePairs: DemoDuplicatePair[];
  datasets: Omit<DemoDataset, 'sourcePatientIds'>[];
  consentExcluded: string[];
  pdfText: DemoCohort['pdfText'];
  timeZone: 'Asia/Shanghai';
  files: ExportManifestFile[];
}
