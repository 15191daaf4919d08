import type {
  CodeableConcept,
  Consent,
  Encounter,
  Observation,
  Organization,
  Patient,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { SYSTEMS } from './clinical';
import type { DemoConsent, DemoIdentity, DemoInstitution } from './demo-model';
import { deterministicUuid } from './prng';

/**
 * Identifier systems of the demo export.
 *
 * There is no HL7-registered NamingSystem for the PRC resident identity card number, so the
 * platform uses its own documented URI; the MPI reads the system from configuration (R-MPI-1).
 */
export const IDENTIFIER_SYSTEMS = {
  /** 18-digit PRC resident identity card number (GB 11643). */
  residentId: 'https://mdrp.example.org/fhir/sid/cn-resident-id',
  /** Basic medical insurance number. */
  insurance: 'https://mdrp.example.org/fhir/sid/cn-medical-insurance',
  /** Hospital MRN: `${mrnBase}/${institutionId}`. */
  mrnBase: 'https://mdrp.example.org/fhir/sid/mrn',
  /** Visit (encounter) number: `${visitBase}/${institutionId}`. */
  visitBase: 'https://mdrp.example.org/fhir/sid/visit',
  /** Institution identifiers used in logical references. */
  institution: 'https://mdrp.example.org/fhir/sid/institution',
  /** DICOM UIDs (FHIR convention). */
  dicomUid: 'urn:dicom:uid',
} as const;

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

/** Builds the resources of one patient record with deterministic ids. */
export class PatientFhirBuilder {
  readonly resources: Resource[] = [];
  readonly patientRef: Reference<Patient>;
  private counter = 0;

  constructor(
    private readonly seed: number,
    private readonly sourcePatientId: string,
    readonly institution: DemoInstitution,
  ) {
    this.patientRef = { reference: `Patient/${this.id('Patient')}` };
  }

  /** Deterministic id for the n-th resource of a type (or a named one). */
  id(label: string): string {
    return deterministicUuid(this.seed, `${this.sourcePatientId}/${label}`);
  }

  /** Adds a resource (assigning a deterministic id when absent) and returns its relative reference. */
  add<T extends Resource>(resource: T): string {
    if (!resource.id) resource.id = this.id(`${resource.resourceType}/${++this.counter}`);
    resource.meta = { source: `urn:mdrp:demo:${this.institution.institutionId}` };
    this.resources.push(resource);
    return `${resource.resourceType}/${resource.id}`;
  }

  /** Reference to the institution (logical reference; no Organization resource in the export). */
  orgRef(): Reference<Organization> {
    return { identifier: { system: IDENTIFIER_SYSTEMS.institution, value: this.institution.institutionId }, display: this.institution.name.zh };
  }
}

/** FHIR Patient with every identifier a hospital export carries. */
export function patientResource(b: PatientFhirBuilder, id: DemoIdentity): Patient {
  const marital: Record<string, string> = { 已婚: 'M', 未婚: 'S', 离异: 'D', 丧偶: 'W' };
  const telecom: Patient['telecom'] = [{ system: 'phone', value: id.mobilePhone, use: 'mobile' }];
  if (id.email) telecom.push({ system: 'email', value: id.email, use: 'home' });
  return {
    resourceType: 'Patient',
    id: b.patientRef.reference?.split('/')[1] ?? '',
    identifier: [
      { use: 'usual', type: { coding: [{ system: V2_0203, code: 'MR', display: 'Medical record number' }] }, system: `${IDENTIFIER_SYSTEMS.mrnBase}/${b.institution.institutionId}`, value: id.mrn, assigner: b.orgRef() },
      { use: 'official', type: { coding: [{ system: V2_0203, code: 'NI', display: 'National unique individual identifier' }], text: '居民身份证' }, system: IDENTIFIER_SYSTEMS.residentId, value: id.residentId },
      { use: 'secondary', type: { coding: [{ system: V2_0203, code: 'SN', display: 'Subscriber Number' }], text: id.insuranceType.zh }, system: IDENTIFIER_SYSTEMS.insurance, value: id.insuranceNumber },
    ],
    active: true,
    name: [{ use: 'official', text: id.fullName, family: id.familyName, given: [id.givenName] }],
    telecom,
    gender: id.sex,
    birthDate: id.birthDate,
    address: [{
      use: 'home',
      type: 'physical',
      text: id.address.text,
      line: [id.address.street, id.address.building],
      district: id.address.district,
      city: id.address.city,
      state: id.address.province,
      postalCode: id.address.postalCode,
      country: 'CN',
    }],
    maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: marital[id.maritalStatus.zh] ?? 'UNK' }], text: id.maritalStatus.zh },
    contact: [{
      relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'C', display: 'Emergency Contact' }], text: id.emergencyContact.relationship.zh }],
      name: { text: id.emergencyContact.name },
      telecom: [{ system: 'phone', value: id.emergencyContact.mobilePhone, use: 'mobile' }],
    }],
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'zh-CN' }], text: '中文' }, preferred: true }],
    managingOrganization: b.orgRef(),
  };
}

/** Encounter of one timeline event. */
export function encounterResource(b: PatientFhirBuilder, visitNo: string, cls: 'AMB' | 'IMP', type: string, start: string, end: string): Encounter {
  return {
    resourceType: 'Encounter',
    identifier: [{ system: `${IDENTIFIER_SYSTEMS.visitBase}/${b.institution.institutionId}`, value: visitNo }],
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: cls, display: cls === 'AMB' ? 'ambulatory' : 'inpatient encounter' },
    type: [{ text: type }],
    subject: b.patientRef,
    period: { start, end },
    serviceProvider: b.orgRef(),
  };
}

/** Laboratory analyte definition (LOINC + UCUM, reference interval of the demo labs). */
export interface LabDef {
  loinc: string;
  display: string;
  zh: string;
  unit: string;
  low: number;
  high: number;
  decimals: number;
}

/** Lab analytes used by the demo (units as Chinese labs report them). */
export const LABS = {
  wbc: { loinc: '6690-2', display: 'Leukocytes [#/volume] in Blood by Automated count', zh: '白细胞计数', unit: '10*9/L', low: 3.5, high: 9.5, decimals: 2 },
  neut: { loinc: '751-8', display: 'Neutrophils [#/volume] in Blood by Automated count', zh: '中性粒细胞绝对值', unit: '10*9/L', low: 1.8, high: 6.3, decimals: 2 },
  hgb: { loinc: '718-7', display: 'Hemoglobin [Mass/volume] in Blood', zh: '血红蛋白', unit: 'g/L', low: 115, high: 150, decimals: 0 },
  plt: { loinc: '777-3', display: 'Platelets [#/volume] in Blood by Automated count', zh: '血小板计数', unit: '10*9/L', low: 125, high: 350, decimals: 0 },
  alt: { loinc: '1742-6', display: 'Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma', zh: '丙氨酸氨基转移酶', unit: 'U/L', low: 7, high: 40, decimals: 0 },
  ast: { loinc: '1920-8', display: 'Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma', zh: '天门冬氨酸氨基转移酶', unit: 'U/L', low: 13, high: 35, decimals: 0 },
  creat: { loinc: '14682-9', display: 'Creatinine [Moles/volume] in Serum or Plasma', zh: '肌酐', unit: 'umol/L', low: 41, high: 73, decimals: 0 },
  ca153: { loinc: '6875-9', display: 'Cancer Ag 15-3 [Units/volume] in Serum or Plasma', zh: '糖类抗原15-3', unit: 'U/mL', low: 0, high: 25, decimals: 1 },
  tsh: { loinc: '3016-3', display: 'Thyrotropin [Units/volume] in Serum or Plasma', zh: '促甲状腺激素', unit: 'm[IU]/L', low: 0.27, high: 4.2, decimals: 2 },
} as const satisfies Record<string, LabDef>;

const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

/** Laboratory Observation with reference range and H/L interpretation. */
export function labObservation(b: PatientFhirBuilder, lab: LabDef, value: number, at: string, encounter: string): Observation {
  const v = Number(value.toFixed(lab.decimals));
  const flag = v > lab.high ? 'H' : v < lab.low ? 'L' : 'N';
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: OBS_CATEGORY, code: 'laboratory', display: 'Laboratory' }] }],
    code: { coding: [{ system: SYSTEMS.loinc, code: lab.loinc, display: lab.display }], text: lab.zh },
    subject: b.patientRef,
    encounter: { reference: encounter },
    effectiveDateTime: at,
    issued: new Date(Date.parse(at) + 2 * 3_600_000).toISOString(),
    valueQuantity: { value: v, unit: lab.unit, system: SYSTEMS.ucum, code: lab.unit },
    interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: flag }] }],
    referenceRange: [{ low: { value: lab.low, unit: lab.unit, system: SYSTEMS.ucum, code: lab.unit }, high: { value: lab.high, unit: lab.unit, system: SYSTEMS.ucum, code: lab.unit } }],
  };
}

function vitalBase(b: PatientFhirBuilder, code: string, display: string, zh: string, at: string, encounter: string): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: OBS_CATEGORY, code: 'vital-signs', display: 'Vital Signs' }] }],
    code: { coding: [{ system: SYSTEMS.loinc, code, display }], text: zh },
    subject: b.patientRef,
    encounter: { reference: encounter },
    effectiveDateTime: at,
  };
}

const q = (value: number, unit: string) => ({ value, unit, system: SYSTEMS.ucum, code: unit });

/**
 * One set of vital signs as a single panel Observation (LOINC 85353-1) with one component per
 * measurement (HR, SBP, DBP, temperature, SpO2, RR). One resource per set keeps the export small;
 * the full time series is in `tables/vital-signs.csv`.
 */
export function vitalObservations(
  b: PatientFhirBuilder,
  v: { heartRate: number; systolic: number; diastolic: number; temperatureC: number; spo2: number; respiratoryRate: number },
  at: string,
  encounter: string,
): Observation[] {
  const comp = (code: string, display: string, value: number, unit: string) => ({ code: { coding: [{ system: SYSTEMS.loinc, code, display }] }, valueQuantity: q(value, unit) });
  return [
    {
      ...vitalBase(b, '85353-1', 'Vital signs, weight, height, head circumference, oxygen saturation and BMI panel', '生命体征', at, encounter),
      component: [
        comp('8867-4', 'Heart rate', v.heartRate, '/min'),
        comp('8480-6', 'Systolic blood pressure', v.systolic, 'mm[Hg]'),
        comp('8462-4', 'Diastolic blood pressure', v.diastolic, 'mm[Hg]'),
        comp('8310-5', 'Body temperature', v.temperatureC, 'Cel'),
        comp('59408-5', 'Oxygen saturation in Arterial blood by Pulse oximetry', v.spo2, '%'),
        comp('9279-1', 'Respiratory rate', v.respiratoryRate, '/min'),
      ],
    },
  ];
}

/** Body height and weight Observations (first visit). */
export function bodyObservations(b: PatientFhirBuilder, heightCm: number, weightKg: number, at: string, encounter: string): Observation[] {
  return [
    { ...vitalBase(b, '8302-2', 'Body height', '身高', at, encounter), valueQuantity: q(heightCm, 'cm') },
    { ...vitalBase(b, '29463-7', 'Body weight', '体重', at, encounter), valueQuantity: q(weightKg, 'kg') },
  ];
}

/** CodeableConcept helper. */
export function cc(system: string, code: string, display: string, text?: string): CodeableConcept {
  return { coding: [{ system, code, display }], ...(text ? { text } : {}) };
}

/** Research Consent with a GA4GH DUO code (and MONDO disease restriction for DUO:0000007). */
export function consentResource(b: PatientFhirBuilder, c: DemoConsent): Consent {
  const codes: CodeableConcept[] = [{ coding: [{ system: SYSTEMS.duo, code: c.duoCode, display: c.duoLabel }] }];
  if (c.diseaseRestriction) codes.push({ coding: [{ system: c.diseaseRestriction.system, code: c.diseaseRestriction.code, display: c.diseaseRestriction.display.en }], text: c.diseaseRestriction.display.zh });
  return {
    resourceType: 'Consent',
    status: c.status,
    scope: cc('http://terminology.hl7.org/CodeSystem/consentscope', 'research', 'Research'),
    category: [cc(SYSTEMS.loinc, '59284-0', 'Patient Consent', '科研数据使用知情同意书')],
    patient: b.patientRef,
    dateTime: c.signedAt,
    organization: [b.orgRef()],
    policyRule: cc('http://terminology.hl7.org/CodeSystem/v3-ActCode', c.status === 'rejected' ? 'OPTOUT' : 'OPTIN', c.status === 'rejected' ? 'opt-out' : 'opt-in'),
    provision: {
      type: c.status === 'rejected' ? 'deny' : 'permit',
      period: { start: c.signedAt, ...(c.withdrawnAt ? { end: c.withdrawnAt } : {}) },
      purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HRESCH', display: 'healthcare research' }],
      code: codes,
    },
  };
}
