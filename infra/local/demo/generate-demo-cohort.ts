import type {
  DiagnosticReport,
  DocumentReference,
  ImagingStudy,
  MedicationAdministration,
  Observation,
  Procedure,
  Condition,
} from '@medplum/fhirtypes';
import { createHash } from 'node:crypto';
import {
  absoluteDoseMg,
  generateClinical,
  planNeoadjuvantEpisode,
  planSecondOpinionEpisode,
  SYSTEMS,
  type PlannedEvent,
} from './clinical';
import type {
  DemoClinical,
  DemoCohort,
  DemoConsent,
  DemoDataset,
  DemoDuplicatePair,
  DemoFile,
  DemoIdentity,
  DemoInstitution,
  DemoNursingRow,
  DemoPatient,
  DemoTimelineEvent,
  DemoVitalRow,
  LocalizedText,
} from './demo-model';
import { addDays, addMinutes, daysBetween, nextWorkday, shanghaiToUtc, toShanghai } from './demo-time';
import {
  ctExtra,
  ctThoraxSlice,
  doseWashRgb,
  mrBreastSlice,
  mrExtra,
  SOP_CLASS,
  writeDicomInstance,
  type DicomStudyHeader,
  type LesionGeometry,
} from './dicom-builder';
import {
  bodyObservations,
  cc,
  consentResource,
  encounterResource,
  IDENTIFIER_SYSTEMS,
  labObservation,
  LABS,
  patientResource,
  PatientFhirBuilder,
  vitalObservations,
  type LabDef,
} from './fhir-builder';
import { buildResidentId, DIVISIONS, generateIdentity, mobilePhone } from './identity';
import { DemoRandom, deterministicUid } from './prng';
import { CJK_FONT_PATH, pathologyReportPdf, pdfCjkAvailable, radiotherapyPlanPdf, rgbToPng, textReport } from './report-builder';

/** Version of the generator; part of the manifest so consumers can tell exports apart. */
export const DEMO_GENERATOR_VERSION = '1.0.0';
/** Default seed (also the logical generation date 2026-11-24). */
export const DEFAULT_DEMO_SEED = 20261124;
/** Default number of source patient records. */
export const DEFAULT_DEMO_PATIENTS = 60;
/** Logical generation instant; no event is later than this. */
export const DEMO_GENERATED_AT = '2026-11-24T00:00:00Z';
/** Pooled demo dataset id. */
export const DEMO_DATASET_ID = 'BC-NRT-IO';

/** The two fictional contributing hospitals. */
export const DEMO_INSTITUTIONS: readonly DemoInstitution[] = [
  {
    institutionId: 'demo-hospital-1',
    name: { zh: '示范第一医院', en: 'Demo First Hospital' },
    mrnSystem: `${IDENTIFIER_SYSTEMS.mrnBase}/demo-hospital-1`,
    mrnPrefix: '10',
    timeZone: 'Asia/Shanghai',
    city: { zh: '上海市', en: 'Shanghai' },
    dicomInstitutionName: 'Demo First Hospital',
    dicomManufacturer: 'MDRP Synthetic Imaging',
  },
  {
    institutionId: 'demo-hospital-2',
    name: { zh: '示范肿瘤医院', en: 'Demo Cancer Hospital' },
    mrnSystem: `${IDENTIFIER_SYSTEMS.mrnBase}/demo-hospital-2`,
    mrnPrefix: '2',
    timeZone: 'Asia/Shanghai',
    city: { zh: '杭州市', en: 'Hangzhou' },
    dicomInstitutionName: 'Demo Cancer Hospital',
    dicomManufacturer: 'MDRP Synthetic Imaging',
  },
];

const BREAST_CANCER: DemoDataset['disease'] = { system: SYSTEMS.icd10, code: 'C50', display: { zh: '乳腺恶性肿瘤', en: 'Malignant neoplasm of breast' } };
const MONDO_BREAST_CANCER = { system: SYSTEMS.mondo, code: 'MONDO:0007254', display: { zh: '乳腺癌', en: 'breast cancer' } };

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
const round = (v: number, d: number): number => Number(v.toFixed(d));

interface Seeds {
  seed: number;
}

/** Everything needed to build one source record. */
interface RecordInput {
  index: number;
  institution: DemoInstitution;
  identity: DemoIdentity;
  clinical: DemoClinical;
  consent: DemoConsent;
  episode: DemoPatient['episode'];
  planned: PlannedEvent[];
  rng: DemoRandom;
}

const NURSES = ['N0137', 'N0221', 'N0348', 'N0412', 'N0509', 'N0633'];
const PHYSICIANS = ['李^建华', '陈^志明', '周^敏', '吴^海涛', '孙^丽', '赵^国强'];

function vitals(rng: DemoRandom, ctx: 'clinic' | 'infusion' | 'post-op' | 'rt', hoursAfterSurgery = 99) {
  const fever = ctx === 'post-op' && hoursAfterSurgery < 48 ? rng.normal(0.4, 0.3, 0, 1.2) : 0;
  return {
    heartRate: Math.round(rng.normal(ctx === 'post-op' ? 86 : 76, 8, 52, 125)),
    systolic: Math.round(rng.normal(ctx === 'post-op' ? 128 : 122, 11, 92, 175)),
    diastolic: Math.round(rng.normal(76, 8, 55, 105)),
    temperatureC: round(rng.normal(36.6, 0.25, 36, 37.4) + fever, 1),
    spo2: Math.round(rng.normal(98, 1, 93, 100)),
    respiratoryRate: Math.round(rng.normal(17, 2, 12, 24)),
  };
}

/** Lab value around the patient's baseline, shaped by the treatment phase. */
function labValue(rng: DemoRandom, key: keyof typeof LABS, phase: 'baseline' | 'cycle' | 'pre-op' | 'follow-up', cycle: number, hypothyroid: boolean, ca153High: boolean): number {
  const lab: LabDef = LABS[key];
  const mid = (lab.low + lab.high) / 2;
  const onChemo = phase === 'cycle' && cycle > 1;
  switch (key) {
    case 'wbc':
      return rng.normal(onChemo ? 4.2 : 6.2, onChemo ? 1.3 : 1.4, 1.2, 12);
    case 'neut':
      return rng.normal(onChemo ? 2.3 : 3.8, onChemo ? 1.0 : 1.0, 0.4, 9);
    case 'hgb':
      return rng.normal(phase === 'baseline' ? 128 : phase === 'follow-up' ? 122 : 128 - cycle * 3, 9, 78, 160);
    case 'plt':
      return rng.normal(onChemo ? 175 : 235, 45, 60, 420);
    case 'alt':
      return rng.normal(onChemo ? 32 : 21, onChemo ? 16 : 8, 6, 160);
    case 'ast':
      return rng.normal(onChemo ? 30 : 23, onChemo ? 12 : 6, 10, 130);
    case 'creat':
      return rng.normal(60, 9, 38, 105);
    case 'ca153':
      return phase === 'baseline' && ca153High ? rng.normal(42, 12, 26, 90) : rng.normal(14, 5, 3, 30);
    case 'tsh':
      return hypothyroid && (phase === 'follow-up' || cycle >= 3) ? rng.normal(8.5, 2.5, 4.5, 18) : rng.normal(2.1, 0.8, 0.4, 4.1);
    default:
      return mid;
  }
}

const NURSING_CATEGORIES = {
  admission: { zh: '入院评估', en: 'Admission assessment' },
  infusion: { zh: '输液护理', en: 'Infusion nursing' },
  postop: { zh: '术后护理', en: 'Post-operative nursing' },
  rtSkin: { zh: '放疗皮肤护理', en: 'Radiotherapy skin care' },
  education: { zh: '健康宣教', en: 'Health education' },
} as const satisfies Record<string, LocalizedText>;

/** Builds all FHIR resources, files and rows of one source record. */
function buildRecord(seeds: Seeds, input: RecordInput): DemoPatient {
  const { institution: inst, identity: id, clinical: c, consent, rng } = input;
  const spid = `${inst.institutionId}/${id.mrn}`;
  const b = new PatientFhirBuilder(seeds.seed, spid, inst);
  b.add(patientResource(b, id));
  const timeline: DemoTimelineEvent[] = [];
  const files: DemoFile[] = [];
  const nursing: DemoNursingRow[] = [];
  const vitalRows: DemoVitalRow[] = [];
  const ward = inst.institutionId === 'demo-hospital-1' ? rng.pick(['乳腺外科一病区', '乳腺外科二病区']) : rng.pick(['乳腺肿瘤内科病区', '放疗科病区']);
  const hypothyroid = rng.chance(0.15);
  const ca153High = rng.chance(0.3);
  const side = c.laterality === 'left' ? '左' : '右';
  const lesion: LesionGeometry = { laterality: c.laterality, radius: Math.max(3, Math.min(14, c.tumorSizeMm / 5)), dx: rng.int(-4, 4), dy: rng.int(-4, 4) };
  const uid = (label: string): string => deterministicUid(seeds.seed, `${spid}/${label}`);
  const implementationClassUid = deterministicUid(seeds.seed, 'implementation-class');
  const age = c.ageAtDiagnosis;
  let fileSeq = 0;
  let visitSeq = 0;
  let nursingSeq = 0;
  let vitalSeq = 0;
  let conditionRef = '';
  let studySeq = 0;

  const addFile = (f: Omit<DemoFile, 'fileId'>): string => {
    const fileId = `${spid}/file-${pad(++fileSeq, 3)}`;
    files.push({ fileId, ...f });
    return fileId;
  };
  const docName = (slug: string, ext: string): string => `${inst.institutionId}_${id.mrn}_${pad(fileSeq + 1, 3)}_${slug}.${ext}`;
  const addNursing = (at: string, category: LocalizedText, pain: number, note: string, scores?: Partial<DemoNursingRow>): void => {
    nursing.push({
      recordId: `${id.mrn}-N${pad(++nursingSeq, 4)}`,
      mrn: id.mrn,
      recordedAt: at,
      ward,
      category,
      painScore: pain,
      barthelIndex: scores?.barthelIndex ?? 100,
      bradenScore: scores?.bradenScore ?? rng.int(20, 23),
      fallRiskScore: scores?.fallRiskScore ?? rng.pick([0, 15, 20, 25]),
      note,
      nurseId: rng.pick(NURSES),
    });
  };
  const addVitalRow = (at: string, ctx: 'clinic' | 'infusion' | 'post-op' | 'rt', source: DemoVitalRow['source'], hoursAfterSurgery?: number) => {
    const v = vitals(rng, ctx, hoursAfterSurgery);
    vitalRows.push({ recordId: `${id.mrn}-V${pad(++vitalSeq, 4)}`, mrn: id.mrn, measuredAt: at, ...v, source });
    return v;
  };
  const encounter = (pe: PlannedEvent, cls: 'AMB' | 'IMP', type: string, start: string, end: string): string =>
    b.add(encounterResource(b, `${inst.mrnPrefix}V${toShanghai(start).dicomDate}${pad(++visitSeq, 3)}`, cls, type, start, end));
  const labs = (keys: (keyof typeof LABS)[], at: string, enc: string, phase: Parameters<typeof labValue>[2], cycle = 0): string[] =>
    keys.map((k) => b.add(labObservation(b, LABS[k], labValue(rng, k, phase, cycle, hypothyroid, ca153High), at, enc)));
  const vitalSet = (at: string, enc: string, ctx: 'clinic' | 'infusion' | 'post-op' | 'rt'): string[] => {
    const v = addVitalRow(at, ctx, 'manual');
    return vitalObservations(b, v, at, enc).map((o) => b.add(o));
  };
  const documentRef = (fileId: string, file: Omit<DemoFile, 'fileId'>, type: { code: string; display: string; zh: string }, at: string, enc: string): string => {
    const sha1 = createHash('sha1').update(file.bytes).digest('base64');
    const dr: DocumentReference = {
      resourceType: 'DocumentReference',
      identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:mdrp:demo-file:${fileId}` }],
      status: 'current',
      docStatus: 'final',
      type: cc(SYSTEMS.loinc, type.code, type.display, type.zh),
      category: [{ text: file.kind === 'pdf' ? 'PDF report' : file.kind === 'png' ? 'Image' : 'Text report' }],
      subject: b.patientRef,
      date: at,
      description: file.description.zh,
      content: [{ attachment: { contentType: file.contentType, url: `documents/${file.fileName}`, size: file.bytes.byteLength, hash: sha1, title: file.description.en, creation: at } }],
      context: { encounter: [{ reference: enc }], period: { start: at } },
    };
    return b.add(dr);
  };
  const textDoc = (pe: PlannedEvent, eventId: string, slug: string, title: string, body: string[], at: string, enc: string, type: { code: string; display: string; zh: string }, refs: string[], fileIds: string[]): void => {
    const f = { kind: 'text' as const, contentType: 'text/plain; charset=utf-8' as const, fileName: docName(slug, 'txt'), eventId, description: { zh: title, en: pe.title.en }, bytes: textReport(inst, id, title, at, body) };
    const fid = addFile(f);
    fileIds.push(fid);
    refs.push(documentRef(fid, f, type, at, enc));
  };

  /** Writes one DICOM study (series → instances), returns its ImagingStudy reference and file ids. */
  const dicomStudy = (
    eventId: string,
    at: string,
    enc: string,
    description: string,
    series: { description: string; modality: 'MR' | 'CT' | 'OT'; images: { pixels: Uint16Array | Uint8Array; extra?: Record<string, unknown>; slice: number; sopClass: string }[] }[],
  ): { ref: string; fileIds: string[]; studyUid: string } => {
    const sn = ++studySeq;
    const local = toShanghai(at);
    const studyUid = uid(`study-${sn}`);
    const header: DicomStudyHeader = {
      patientName: `${id.familyName}^${id.givenName}`,
      patientId: id.mrn,
      patientBirthDate: id.birthDate.replaceAll('-', ''),
      patientSex: id.sex === 'female' ? 'F' : 'M',
      patientAge: `${pad(Math.max(0, Number(local.date.slice(0, 4)) - Number(id.birthDate.slice(0, 4))), 3)}Y`,
      studyInstanceUid: studyUid,
      studyDate: local.dicomDate,
      studyTime: local.dicomTime,
      studyId: `${pad(sn, 2)}${local.dicomDate.slice(2)}`,
      accessionNumber: `${inst.mrnPrefix}A${local.dicomDate}${rng.digits(4)}`,
      studyDescription: description,
      referringPhysicianName: rng.pick(PHYSICIANS),
      institutionName: inst.dicomInstitutionName,
      manufacturer: inst.dicomManufacturer,
      stationName: series[0]?.modality === 'MR' ? 'MR3T01' : 'CTSIM01',
      frameOfReferenceUid: uid(`study-${sn}/for`),
      implementationClassUid,
    };
    const fileIds: string[] = [];
    const isSeries: NonNullable<ImagingStudy['series']> = [];
    let instances = 0;
    series.forEach((s, si) => {
      const seriesUid = uid(`study-${sn}/series-${si + 1}`);
      const inst2: NonNullable<NonNullable<ImagingStudy['series']>[number]['instance']> = [];
      s.images.forEach((img, ii) => {
        const sopUid = uid(`study-${sn}/series-${si + 1}/instance-${ii + 1}`);
        const bytes = writeDicomInstance(header, {
          sopClassUid: img.sopClass,
          sopInstanceUid: sopUid,
          seriesInstanceUid: seriesUid,
          seriesNumber: si + 1,
          seriesDescription: s.description,
          instanceNumber: ii + 1,
          laterality: c.laterality === 'left' ? 'L' : 'R',
          rows: 128,
          columns: 128,
          pixels: img.pixels,
          sliceLocation: img.slice,
          ...(img.extra ? { extra: img.extra } : {}),
        });
        fileIds.push(addFile({
          kind: 'dicom',
          contentType: 'application/dicom',
          fileName: `${sopUid}.dcm`,
          eventId,
          description: { zh: `${description} ${s.description} #${ii + 1}`, en: `${s.description} image ${ii + 1}` },
          bytes,
          dicom: { studyInstanceUid: studyUid, seriesInstanceUid: seriesUid, sopInstanceUid: sopUid, sopClassUid: img.sopClass, modality: s.modality },
        }));
        inst2.push({ uid: sopUid, sopClass: { system: 'urn:ietf:rfc:3986', code: `urn:oid:${img.sopClass}` }, number: ii + 1 });
        instances++;
      });
      isSeries.push({
        uid: seriesUid,
        number: si + 1,
        modality: { system: SYSTEMS.dicomDcm, code: s.modality },
        description: s.description,
        numberOfInstances: inst2.length,
        bodySite: { system: SYSTEMS.snomed, code: '76752008', display: 'Breast structure' },
        laterality: c.laterality === 'left' ? { system: SYSTEMS.snomed, code: '7771000', display: 'Left' } : { system: SYSTEMS.snomed, code: '24028007', display: 'Right' },
        started: at,
        instance: inst2,
      });
    });
    const study: ImagingStudy = {
      resourceType: 'ImagingStudy',
      identifier: [{ system: IDENTIFIER_SYSTEMS.dicomUid, value: `urn:oid:${studyUid}` }, { type: cc('http://terminology.hl7.org/CodeSystem/v2-0203', 'ACSN', 'Accession ID'), value: header.accessionNumber }],
      status: 'available',
      modality: [...new Set(series.map((s) => s.modality))].map((m) => ({ system: SYSTEMS.dicomDcm, code: m })),
      subject: b.patientRef,
      encounter: { reference: enc },
      started: at,
      numberOfSeries: series.length,
      numberOfInstances: instances,
      description,
      series: isSeries,
    };
    return { ref: b.add(study), fileIds, studyUid };
  };

  const surgeryAt = input.planned.find((p) => p.type === 'surgery')?.occurredAt;
  let ctSimPixels: Uint16Array | undefined;
  let ctSimStudy: { ref: string; studyUid: string } | undefined;

  // Builders plan some events out of order (radiotherapy starts between cycles); the timeline is chronological.
  const planned = [...input.planned].sort((x, y) => (x.occurredAt < y.occurredAt ? -1 : x.occurredAt > y.occurredAt ? 1 : 0));
  planned.forEach((pe, k) => {
    const eventId = `${spid}/evt-${pad(k + 1)}`;
    const refs: string[] = [];
    const fileIds: string[] = [];
    const at = pe.occurredAt;
    const day = toShanghai(at).date;
    switch (pe.type) {
      case 'first-visit': {
        const enc = encounter(pe, 'AMB', pe.title.zh, at, addMinutes(at, 30));
        refs.push(enc, ...vitalSet(addMinutes(at, 5), enc, 'clinic'));
        bodyObservations(b, c.heightCm, c.weightKg, addMinutes(at, 5), enc).forEach((o) => refs.push(b.add(o)));
        refs.push(...labs(input.episode === 'neoadjuvant-treatment' ? ['wbc', 'neut', 'hgb', 'plt', 'alt', 'ast', 'creat', 'ca153', 'tsh'] : ['wbc', 'hgb', 'plt', 'ca153'], addMinutes(at, 40), enc, 'baseline'));
        refs.push(b.add(consentResource(b, consent)));
        addNursing(addMinutes(at, 10), NURSING_CATEGORIES.admission, rng.int(0, 2), `患者${id.fullName}，${age}岁，因"发现${side}乳肿物${rng.int(1, 6)}月"就诊，神志清，精神可，生命体征平稳。`);
        const body = input.episode === 'neoadjuvant-treatment'
          ? [`主诉：发现${side}乳肿物${rng.int(1, 6)}月。`, `现病史：患者${rng.int(1, 6)}月前自检发现${side}乳${c.quadrant.zh}肿物，约${Math.round(c.tumorSizeMm / 10)}cm，无乳头溢液。`, `查体：${side}乳${c.quadrant.zh}可触及肿物，质硬，边界欠清，活动度差。`, `初步诊断：${side}乳肿物，乳腺癌待排。`, '处理：完善乳腺MRI、空芯针穿刺活检；签署科研数据使用知情同意书。', `联系电话：${id.mobilePhone}（患者本人）`]
          : [`主诉：${side}乳腺癌新辅助治疗及手术后，外院转诊寻求第二诊疗意见。`, `外院诊断：${c.pathologyType.display.zh}，${c.cTNM}，${c.molecularSubtype}。`, '处理：复查乳腺MRI及肿瘤标志物，定期随访。'];
        textDoc(pe, eventId, 'outpatient-note', '门诊病历', body, addMinutes(at, 30), enc, { code: '11488-4', display: 'Consult note', zh: '门诊病历' }, refs, fileIds);
        break;
      }
      case 'imaging': {
        const enc = encounter(pe, 'AMB', pe.title.zh, at, addMinutes(at, 40));
        refs.push(enc);
        const phaseShrink = pe.imagingPhase === 'baseline' ? 1 : c.response?.pCR ? 0 : 0.55;
        const l2 = { ...lesion, radius: lesion.radius * phaseShrink };
        const seedBase = studySeq * 100 + input.index * 10_000;
        const seriesList = pe.imagingPhase === 'baseline'
          ? [
              { description: 'Ax T2 FS', modality: 'MR' as const, images: [{ pixels: mrBreastSlice(128, l2, 't2', 0, 0, seedBase + 1), extra: mrExtra('t2', 0), slice: 0, sopClass: SOP_CLASS.mr }] },
              { description: 'Ax DCE T1 FS', modality: 'MR' as const, images: [1, 2].map((ph) => ({ pixels: mrBreastSlice(128, l2, 'dce', ph, 0, seedBase + 1 + ph), extra: mrExtra('dce', ph), slice: 0, sopClass: SOP_CLASS.mr })) },
            ]
          : [{ description: 'Ax DCE T1 FS', modality: 'MR' as const, images: [{ pixels: mrBreastSlice(128, l2, 'dce', 2, 0, seedBase + 5), extra: mrExtra('dce', 2), slice: 0, sopClass: SOP_CLASS.mr }] }];
        const st = dicomStudy(eventId, at, enc, pe.title.zh, seriesList);
        refs.push(st.ref);
        fileIds.push(...st.fileIds);
        const sizeNow = Math.round(c.tumorSizeMm * phaseShrink);
        const conclusion = pe.imagingPhase === 'baseline'
          ? `${side}乳${c.quadrant.zh}不规则强化肿块，大小约${c.tumorSizeMm}mm，TIC呈流出型，BI-RADS 5类。`
          : pe.imagingPhase === 'response'
            ? sizeNow === 0 ? `${side}乳原病灶未见明确异常强化，影像学完全缓解（rCR）。` : `${side}乳原病灶较前缩小，现约${sizeNow}mm，部分缓解（PR）。`
            : `${side}乳术后改变，未见明确复发征象，BI-RADS 2类。`;
        const dr: DiagnosticReport = {
          resourceType: 'DiagnosticReport',
          status: 'final',
          category: [cc('http://terminology.hl7.org/CodeSystem/v2-0074', 'RAD', 'Radiology')],
          code: cc(SYSTEMS.loinc, '18748-4', 'Diagnostic imaging study', pe.title.zh),
          subject: b.patientRef,
          encounter: { reference: enc },
          effectiveDateTime: at,
          issued: addMinutes(at, 180),
          imagingStudy: [{ reference: st.ref }],
          conclusion,
        };
        const drRef = b.add(dr);
        refs.push(drRef);
        textDoc(pe, eventId, 'mri-report', '乳腺MRI检查报告', [`检查项目：${pe.title.zh}`, '检查方法：俯卧位，3.0T，T2WI脂肪抑制及动态增强扫描。', `影像所见：${conclusion}`, `诊断意见：${conclusion}`, `报告医师：${rng.pick(PHYSICIANS).replace('^', '')}`], addMinutes(at, 180), enc, { code: '18748-4', display: 'Diagnostic imaging study', zh: '影像检查报告' }, refs, fileIds);
        if (pe.imagingPhase !== 'surveillance') addVitalRow(addMinutes(at, -10), 'clinic', 'manual');
        break;
      }
      case 'biopsy': {
        const enc = encounter(pe, 'AMB', pe.title.zh, at, addMinutes(at, 60));
        refs.push(enc);
        const proc: Procedure = {
          resourceType: 'Procedure',
          status: 'completed',
          code: cc(SYSTEMS.snomed, '122548005', 'Biopsy of breast', '超声引导下乳腺空芯针穿刺活检'),
          subject: b.patientRef,
          encounter: { reference: enc },
          performedDateTime: at,
          bodySite: [cc(SYSTEMS.snomed, c.laterality === 'left' ? '80248007' : '73056007', c.laterality === 'left' ? 'Left breast structure' : 'Right breast structure', `${side}乳`)],
        };
        refs.push(b.add(proc));
        const cond: Condition = {
          resourceType: 'Condition',
          clinicalStatus: cc('http://terminology.hl7.org/CodeSystem/condition-clinical', 'active', 'Active'),
          verificationStatus: cc('http://terminology.hl7.org/CodeSystem/condition-ver-status', 'confirmed', 'Confirmed'),
          category: [cc('http://terminology.hl7.org/CodeSystem/condition-category', 'encounter-diagnosis', 'Encounter Diagnosis')],
          code: { coding: [{ system: c.icd10.system, code: c.icd10.code, display: c.icd10.display.en }, { system: SYSTEMS.snomed, code: '254837009', display: 'Malignant neoplasm of breast' }], text: `${side}乳${c.pathologyType.display.zh}` },
          bodySite: proc.bodySite,
          subject: b.patientRef,
          encounter: { reference: enc },
          onsetDateTime: at,
          recordedDate: addMinutes(at, 3 * 24 * 60),
          stage: [{ summary: { text: `${c.cTNM} ${c.stageGroup}期` }, type: { text: 'Clinical TNM (AJCC 8th)' } }],
          note: [{ text: `${c.molecularSubtype}; ICD-O-3 ${c.pathologyType.code}` }],
        };
        conditionRef = b.add(cond);
        refs.push(conditionRef);
        const reportAt = shanghaiToUtc(nextWorkday(addDays(day, 3)), 16, 0);
        const pos = cc(SYSTEMS.snomed, '10828004', 'Positive', '阳性');
        const neg = cc(SYSTEMS.snomed, '260385009', 'Negative', '阴性');
        const path = (code: string, display: string, zh: string, value: Partial<Observation>): string => b.add({
          resourceType: 'Observation',
          status: 'final',
          category: [cc('http://terminology.hl7.org/CodeSystem/observation-category', 'laboratory', 'Laboratory')],
          code: { coding: [{ system: SYSTEMS.loinc, code, display }], text: zh },
          subject: b.patientRef,
          encounter: { reference: enc },
          effectiveDateTime: at,
          issued: reportAt,
          ...value,
        } as Observation);
        const pct = (v: number) => ({ value: v, unit: '%', system: SYSTEMS.ucum, code: '%' });
        const results = [
          path('85337-4', 'Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain', 'ER', { valueCodeableConcept: c.erPercent >= 1 ? pos : neg, component: [{ code: { text: '阳性细胞比例' }, valueQuantity: pct(c.erPercent) }] }),
          path('85339-0', 'Progesterone receptor Ag [Presence] in Breast cancer specimen by Immune stain', 'PR', { valueCodeableConcept: c.prPercent >= 1 ? pos : neg, component: [{ code: { text: '阳性细胞比例' }, valueQuantity: pct(c.prPercent) }] }),
          path('85319-2', 'HER2 [Presence] in Breast cancer specimen by Immune stain', 'HER2 (IHC)', { valueCodeableConcept: { text: c.her2Ihc } }),
          ...(c.her2Fish ? [path('85318-4', 'ERBB2 gene duplication [Presence] in Breast cancer specimen by FISH', 'HER2 (FISH)', { valueCodeableConcept: c.her2Fish === 'amplified' ? pos : neg })] : []),
          path('85330-9', 'Cells.Ki-67 nuclear Ag/100 cells in Breast cancer specimen by Immune stain', 'Ki-67', { valueQuantity: pct(c.ki67Percent) }),
        ];
        refs.push(...results);
        const pathologyNo = `${inst.mrnPrefix}P${day.slice(2, 4)}${rng.digits(5)}`;
        const pdf = { kind: 'pdf' as const, contentType: 'application/pdf' as const, fileName: docName('pathology-report', 'pdf'), eventId, description: { zh: '穿刺病理诊断报告', en: 'Core-needle biopsy pathology report' }, bytes: pathologyReportPdf(inst, id, c, reportAt, pathologyNo) };
        const fid = addFile(pdf);
        fileIds.push(fid);
        const docRef = documentRef(fid, pdf, { code: '11526-1', display: 'Pathology study', zh: '病理报告' }, reportAt, enc);
        refs.push(docRef);
        const dr: DiagnosticReport = {
          resourceType: 'DiagnosticReport',
          identifier: [{ system: `https://mdrp.example.org/fhir/sid/pathology-no/${inst.institutionId}`, value: pathologyNo }],
          status: 'final',
          category: [cc('http://terminology.hl7.org/CodeSystem/v2-0074', 'SP', 'Surgical Pathology')],
          code: cc(SYSTEMS.loinc, '11526-1', 'Pathology study', '穿刺病理'),
          subject: b.patientRef,
          encounter: { reference: enc },
          effectiveDateTime: at,
          issued: reportAt,
          result: results.map((r) => ({ reference: r })),
          conclusion: `${side}乳${c.pathologyType.display.zh}，${c.histologicGrade}级；${c.molecularSubtype}`,
          conclusionCode: [{ coding: [{ system: SYSTEMS.icdO3, code: c.pathologyType.code, display: c.pathologyType.display.en }] }],
          presentedForm: [{ contentType: 'application/pdf', url: `documents/${pdf.fileName}`, title: pdf.description.en }],
        };
        refs.push(b.add(dr));
        break;
      }
      case 'chemo-immunotherapy-cycle': {
        const cycle = pe.index ?? 1;
        const end = addMinutes(at, rng.int(300, 420));
        const enc = encounter(pe, 'AMB', `日间化疗 第${cycle}周期`, at, end);
        refs.push(enc);
        // Full chemistry + thyroid on odd cycles (immune-related thyroiditis watch), blood count every cycle.
        refs.push(...labs(cycle % 2 === 1 ? ['wbc', 'neut', 'hgb', 'plt', 'alt', 'ast', 'creat', 'tsh'] : ['wbc', 'neut', 'hgb', 'plt'], addMinutes(at, -60), enc, 'cycle', cycle));
        refs.push(...vitalSet(addMinutes(at, -10), enc, 'infusion'));
        let t = addMinutes(at, 10);
        for (const drug of c.regimen.drugs) {
          const dur = drug.name.en === 'Pembrolizumab' ? 30 : rng.int(60, 180);
          const ma: MedicationAdministration = {
            resourceType: 'MedicationAdministration',
            status: 'completed',
            medicationCodeableConcept: cc(SYSTEMS.rxnorm, drug.rxnorm, drug.name.en, drug.name.zh),
            subject: b.patientRef,
            context: { reference: enc },
            effectivePeriod: { start: t, end: addMinutes(t, dur) },
            ...(conditionRef ? { reasonReference: [{ reference: conditionRef }] } : {}),
            dosage: {
              text: `${drug.name.zh} ${drug.dose}${drug.unit === 'AUC' ? ' AUC' : ` ${drug.unit}`} 静脉滴注 第${cycle}周期`,
              route: cc(SYSTEMS.snomed, '47625008', 'Intravenous route', '静脉滴注'),
              dose: { value: absoluteDoseMg(drug, c.heightCm, c.weightKg, age), unit: 'mg', system: SYSTEMS.ucum, code: 'mg' },
            },
          };
          refs.push(b.add(ma));
          t = addMinutes(t, dur + 10);
        }
        addVitalRow(addMinutes(at, 60), 'infusion', 'monitor');
        addVitalRow(addMinutes(end, -15), 'infusion', 'monitor');
        addNursing(addMinutes(at, 20), NURSING_CATEGORIES.infusion, rng.int(0, 2), `第${cycle}周期${c.regimen.name.zh}，PICC置管通畅，输液前予抗过敏预处理，输注过程中无输液反应。`);
        if (cycle === 1 || rng.chance(0.3)) addNursing(addMinutes(end, -20), NURSING_CATEGORIES.education, 0, `向患者${id.fullName}及家属宣教免疫治疗相关不良反应（皮疹、腹泻、乏力、甲状腺功能异常）的观察要点。`);
        break;
      }
      case 'radiotherapy-simulation': {
        const enc = encounter(pe, 'AMB', pe.title.zh, at, addMinutes(at, 45));
        refs.push(enc);
        const seedBase = 50_000 + input.index * 10;
        const slices = [-1, 0].map((s) => ctThoraxSlice(128, s * 0.02, seedBase + s));
        ctSimPixels = slices[1];
        const st = dicomStudy(eventId, at, enc, '放疗CT模拟定位', [
          { description: 'CT SIM 5mm', modality: 'CT', images: slices.map((px, i) => ({ pixels: px, extra: ctExtra(), slice: (i - 1) * 5, sopClass: SOP_CLASS.ct })) },
        ]);
        ctSimStudy = st;
        refs.push(st.ref);
        fileIds.push(...st.fileIds);
        const proc: Procedure = {
          resourceType: 'Procedure',
          status: 'completed',
          code: cc(SYSTEMS.local, 'rt-ct-simulation', 'Radiotherapy CT simulation', '放疗CT模拟定位'),
          subject: b.patientRef,
          encounter: { reference: enc },
          performedDateTime: at,
        };
        refs.push(b.add(proc));
        break;
      }
      case 'radiotherapy-course': {
        const rt = c.radiotherapy;
        if (!rt) break;
        const enc = encounter(pe, 'AMB', pe.title.zh, rt.start, rt.end);
        refs.push(enc);
        const proc: Procedure = {
          resourceType: 'Procedure',
          identifier: [{ system: `https://mdrp.example.org/fhir/sid/rt-plan/${inst.institutionId}`, value: rt.planId }],
          status: 'completed',
          category: cc(SYSTEMS.snomed, '108290001', 'Radiation oncology AND/OR radiotherapy', '放射治疗'),
          code: { coding: [{ system: SYSTEMS.local, code: 'neoadjuvant-rt', display: 'Neoadjuvant breast radiotherapy' }], text: `${rt.technique.zh} ${rt.totalDoseGy} Gy/${rt.fractions} 次` },
          subject: b.patientRef,
          encounter: { reference: enc },
          performedPeriod: { start: rt.start, end: rt.end },
          bodySite: [cc(SYSTEMS.snomed, c.laterality === 'left' ? '80248007' : '73056007', c.laterality === 'left' ? 'Left breast structure' : 'Right breast structure', `${side}乳`)],
          ...(conditionRef ? { reasonReference: [{ reference: conditionRef }] } : {}),
          note: [{ text: `${rt.target.zh}；${rt.dosePerFractionGy} Gy/次` }],
        };
        const procRef = b.add(proc);
        refs.push(procRef);
        const doseObs = (code: string, display: string, zh: string, value: number, unit: string, bodySite?: string): string => b.add({
          resourceType: 'Observation',
          status: 'final',
          category: [cc('http://terminology.hl7.org/CodeSystem/observation-category', 'therapy', 'Therapy')],
          code: { coding: [{ system: SYSTEMS.local, code, display }], text: zh },
          subject: b.patientRef,
          encounter: { reference: enc },
          partOf: [{ reference: procRef }],
          effectiveDateTime: rt.start,
          ...(bodySite ? { bodySite: { text: bodySite } } : {}),
          valueQuantity: { value, unit, system: SYSTEMS.ucum, code: unit },
        });
        refs.push(doseObs('rt-prescribed-total-dose', 'Prescribed total dose', '处方总剂量', rt.totalDoseGy, 'Gy'));
        refs.push(doseObs('rt-fractions', 'Number of fractions', '分次数', rt.fractions, '1'));
        for (const o of rt.oarDoses) refs.push(doseObs(`oar-${o.metric.toLowerCase()}`, `${o.organ.en} ${o.metric}`, `${o.organ.zh} ${o.metric}（限值 ${o.constraint}）`, o.value, o.unit, o.organ.zh));
        const approvedAt = addMinutes(rt.start, -3 * 24 * 60);
        const pdf = { kind: 'pdf' as const, contentType: 'application/pdf' as const, fileName: docName('rt-plan-summary', 'pdf'), eventId, description: { zh: '放射治疗计划摘要（含危及器官剂量表）', en: 'Radiotherapy plan summary with organ-at-risk dose table' }, bytes: radiotherapyPlanPdf(inst, id, c, approvedAt) };
        const pdfId = addFile(pdf);
        fileIds.push(pdfId);
        refs.push(documentRef(pdfId, pdf, { code: '18776-5', display: 'Plan of care note', zh: '放疗计划' }, approvedAt, enc));
        const ct = ctSimPixels ?? ctThoraxSlice(128, 0, 7);
        const rgb = doseWashRgb(ct, 128, c.laterality, rt.fractions <= 5);
        const png = { kind: 'png' as const, contentType: 'image/png' as const, fileName: docName('dose-map', 'png'), eventId, description: { zh: '剂量分布图（轴位）', en: 'Dose distribution map (axial)' }, bytes: rgbToPng(rgb, 128, 128) };
        const pngId = addFile(png);
        fileIds.push(pngId);
        refs.push(documentRef(pngId, png, { code: '18776-5', display: 'Plan of care note', zh: '剂量分布图' }, approvedAt, enc));
        // Dose-distribution Secondary Capture goes into the simulation CT study as its own series, as TPS exports do.
        const st = dicomStudy(eventId, approvedAt, enc, '放疗计划剂量分布', [
          { description: 'RT Dose distribution (SC)', modality: 'OT', images: [{ pixels: rgb, slice: 0, sopClass: SOP_CLASS.secondaryCapture }] },
        ]);
        refs.push(st.ref);
        fileIds.push(...st.fileIds);
        // weekly skin assessment + vitals during the course
        const weeks = Math.max(1, Math.ceil(daysBetween(toShanghai(rt.start).date, toShanghai(rt.end).date) / 7));
        for (let w = 0; w < weeks; w++) {
          const wAt = addMinutes(rt.start, w * 7 * 24 * 60 + 30);
          const grade = Math.min(2, Math.floor((w / weeks) * 3 * rng.float(0.6, 1.1)));
          addNursing(wAt, NURSING_CATEGORIES.rtSkin, rng.int(0, 2 + grade), `放疗第${w + 1}周，照射野皮肤${grade === 0 ? '完整，无红斑' : grade === 1 ? '轻度红斑、干性脱皮（RTOG 1级）' : '明显红斑、片状湿性脱皮（RTOG 2级）'}，嘱穿柔软棉质衣物，避免摩擦。`, { fallRiskScore: 0 });
          addVitalRow(addMinutes(wAt, -5), 'rt', 'manual');
        }
        break;
      }
      case 'surgery': {
        const admit = addMinutes(at, -24 * 60);
        const discharge = addMinutes(at, rng.int(3, 5) * 24 * 60);
        const enc = encounter(pe, 'IMP', '住院手术', admit, discharge);
        refs.push(enc);
        refs.push(...labs(['wbc', 'neut', 'hgb', 'plt'], addMinutes(admit, 120), enc, 'pre-op'));
        refs.push(...vitalSet(addMinutes(admit, 60), enc, 'clinic'));
        const mastectomy = c.surgery?.type.en.startsWith('Modified') ?? false;
        const proc: Procedure = {
          resourceType: 'Procedure',
          status: 'completed',
          code: mastectomy ? cc(SYSTEMS.snomed, '70183006', 'Modified radical mastectomy', '乳腺癌改良根治术') : cc(SYSTEMS.snomed, '392021009', 'Lumpectomy of breast', '保乳手术 + 前哨淋巴结活检'),
          subject: b.patientRef,
          encounter: { reference: enc },
          performedPeriod: { start: at, end: addMinutes(at, rng.int(90, 180)) },
          bodySite: [cc(SYSTEMS.snomed, c.laterality === 'left' ? '80248007' : '73056007', c.laterality === 'left' ? 'Left breast structure' : 'Right breast structure', `${side}乳`)],
          ...(conditionRef ? { reasonReference: [{ reference: conditionRef }] } : {}),
        };
        refs.push(b.add(proc));
        textDoc(pe, eventId, 'operative-note', '手术记录', [`手术名称：${c.surgery?.type.zh ?? ''}`, `术前诊断：${side}乳腺癌新辅助治疗后（${c.cTNM}，${c.molecularSubtype}）`, '麻醉方式：全身麻醉', `手术经过：患者${id.fullName}取仰卧位，常规消毒铺巾……术中冰冻示切缘阴性，手术顺利，出血约${rng.int(20, 150)}ml。`, `主刀医师：${rng.pick(PHYSICIANS).replace('^', '')}`], addMinutes(at, 200), enc, { code: '11504-8', display: 'Surgical operation note', zh: '手术记录' }, refs, fileIds);
        // q4h vitals for 3 days, post-op nursing three times a day
        for (let h = 4; h <= 72; h += 4) addVitalRow(addMinutes(at, h * 60), 'post-op', 'monitor', h);
        for (let d = 0; d < 3; d++) {
          for (const hh of [8, 14, 20]) {
            const nAt = addMinutes(at, (d * 24 + hh - 6) * 60);
            const pain = Math.max(0, Math.round(rng.normal(5 - d * 1.6, 1, 0, 9)));
            addNursing(nAt, NURSING_CATEGORIES.postop, pain, d === 0 && hh === 8 ? `术后返回病房，${side}胸壁切口敷料干燥，引流管通畅，引流液淡血性约${rng.int(20, 80)}ml，NRS疼痛评分${pain}分，遵医嘱镇痛。` : `切口无渗血，引流通畅，疼痛评分${pain}分，指导患肢功能锻炼。`, { barthelIndex: d === 0 ? 55 : d === 1 ? 75 : 90, bradenScore: d === 0 ? 16 : 19, fallRiskScore: d === 0 ? 45 : 25 });
          }
        }
        break;
      }
      case 'pathology-response': {
        const enc = encounter(pe, 'AMB', pe.title.zh, at, addMinutes(at, 20));
        refs.push(enc);
        const r = c.response;
        const text = r ? `${r.ypT}${r.ypN}；${r.pCR ? '病理完全缓解（pCR）' : '非pCR'}；${r.rcb}` : '';
        const obs: Observation = {
          resourceType: 'Observation',
          status: 'final',
          category: [cc('http://terminology.hl7.org/CodeSystem/observation-category', 'laboratory', 'Laboratory')],
          code: { coding: [{ system: SYSTEMS.local, code: 'residual-cancer-burden', display: 'Residual cancer burden class after neoadjuvant therapy' }], text: '新辅助治疗后残余肿瘤负荷（RCB）' },
          subject: b.patientRef,
          encounter: { reference: enc },
          effectiveDateTime: surgeryAt ?? at,
          issued: at,
          valueCodeableConcept: { coding: [{ system: SYSTEMS.local, code: r?.rcb ?? 'unknown', display: r?.rcb ?? 'unknown' }], text },
          component: r ? [
            { code: { text: 'ypT' }, valueString: r.ypT },
            { code: { text: 'ypN' }, valueString: r.ypN },
            { code: { text: 'pCR' }, valueBoolean: r.pCR },
          ] : [],
        };
        const obsRef = b.add(obs);
        refs.push(obsRef);
        textDoc(pe, eventId, 'surgical-pathology', '术后病理诊断报告', [`标本：${side}乳${c.surgery?.type.zh.includes('保乳') ? '区段切除标本及前哨淋巴结' : '改良根治标本'}`, `病理诊断：${text}`, `（新辅助治疗后）Miller-Payne分级：${r?.pCR ? '5级' : `${rng.int(2, 4)}级`}`, '切缘：阴性', `诊断医师：${rng.pick(PHYSICIANS).replace('^', '')}`], at, enc, { code: '11526-1', display: 'Pathology study', zh: '病理报告' }, refs, fileIds);
        const dr: DiagnosticReport = {
          resourceType: 'DiagnosticReport',
          status: 'final',
          category: [cc('http://terminology.hl7.org/CodeSystem/v2-0074', 'SP', 'Surgical Pathology')],
          code: cc(SYSTEMS.loinc, '11526-1', 'Pathology study', '术后病理'),
          subject: b.patientRef,
          encounter: { reference: enc },
          effectiveDateTime: surgeryAt ?? at,
          issued: at,
          result: [{ reference: obsRef }],
          conclusion: text,
        };
        refs.push(b.add(dr));
        break;
      }
      case 'follow-up': {
        const enc = encounter(pe, 'AMB', pe.title.zh, at, addMinutes(at, 20));
        refs.push(enc);
        refs.push(...vitalSet(addMinutes(at, 5), enc, 'clinic'));
        refs.push(...labs(['wbc', 'hgb', 'plt', 'ca153', 'tsh'], addMinutes(at, -90), enc, 'follow-up'));
        addNursing(addMinutes(at, 10), NURSING_CATEGORIES.education, rng.int(0, 2), `随访：患肢活动${rng.pick(['良好', '轻度受限'])}，无明显淋巴水肿，嘱定期复查。`, { fallRiskScore: 0 });
        textDoc(pe, eventId, 'follow-up-note', '随访记录', [`随访日期：${day}`, `一般情况：${rng.pick(['良好', '可', '乏力较前好转'])}，ECOG ${c.ecog}分。`, `辅助治疗：${c.molecularSubtype.startsWith('HR+') ? '内分泌治疗中' : '帕博利珠单抗辅助治疗中'}${hypothyroid ? '；甲状腺功能减退，予左甲状腺素钠片替代治疗' : ''}。`, '结论：未见复发转移征象。'], addMinutes(at, 20), enc, { code: '11506-3', display: 'Progress note', zh: '随访记录' }, refs, fileIds);
        break;
      }
    }
    timeline.push({ eventId, type: pe.type, occurredAt: at, ...(pe.endedAt ? { endedAt: pe.endedAt } : {}), title: pe.title, fhirRefs: refs, fileIds });
  });
  void ctSimStudy;
  // Files produced by an event carry its id already; keep rows in time order.
  nursing.sort((x, y) => x.recordedAt.localeCompare(y.recordedAt));
  vitalRows.sort((x, y) => x.measuredAt.localeCompare(y.measuredAt));
  return {
    sourcePatientId: spid,
    institutionId: inst.institutionId,
    identity: id,
    clinical: c,
    consent,
    episode: input.episode,
    fhir: b.resources,
    timeline,
    files,
    nursing,
    vitals: vitalRows,
  };
}

function allocateMrn(rng: DemoRandom, inst: DemoInstitution, used: Set<string>): string {
  for (;;) {
    const mrn = inst.institutionId === 'demo-hospital-1' ? `10${rng.digits(8)}` : `2${rng.digits(8)}`;
    if (!used.has(mrn)) {
      used.add(mrn);
      return mrn;
    }
  }
}

function consentFor(rng: DemoRandom, signedAt: string, kind: 'normal' | 'withdrawn' | 'refused', cutoff: string): DemoConsent {
  const gru = rng.chance(0.2);
  const base = {
    duoCode: gru ? ('DUO:0000042' as const) : ('DUO:0000007' as const),
    duoLabel: gru ? 'general research use' : 'disease specific research',
    ...(gru ? {} : { diseaseRestriction: MONDO_BREAST_CANCER }),
    signedAt,
  };
  if (kind === 'refused') return { ...base, status: 'rejected', excluded: true, note: { zh: '患者拒绝签署科研数据使用知情同意书', en: 'Patient declined research consent' } };
  if (kind === 'withdrawn') {
    const w = shanghaiToUtc(addDays(toShanghai(signedAt).date, rng.int(120, Math.max(121, Math.min(500, daysBetween(toShanghai(signedAt).date, cutoff) - 1)))), 10, 0);
    return { ...base, status: 'inactive', withdrawnAt: w, excluded: true, note: { zh: '患者书面撤回科研数据使用同意', en: 'Patient withdrew research consent in writing' } };
  }
  return { ...base, status: 'active', excluded: false, note: gru ? { zh: '同意用于一般医学研究', en: 'Consent for general research use' } : { zh: '同意用于乳腺癌相关研究', en: 'Consent limited to breast cancer research' } };
}

/**
 * Generates the synthetic breast-cancer neoadjuvant radiotherapy + immunotherapy cohort (SPEC §14).
 *
 * Pure and deterministic: the same options give byte-identical output (seeded PRNG, fixed
 * `generatedAt`, DICOM UIDs and FHIR ids derived from the seed). `patients` counts source patient
 * records; a few of them are deliberate duplicates of a person at the other hospital.
 *
 * @param opts.seed - PRNG seed, default {@link DEFAULT_DEMO_SEED}.
 * @param opts.patients - number of source patient records, default {@link DEFAULT_DEMO_PATIENTS} (minimum 4).
 */
export function generateDemoCohort(opts: { seed?: number; patients?: number } = {}): DemoCohort {
  const seed = opts.seed ?? DEFAULT_DEMO_SEED;
  const total = Math.max(4, Math.floor(opts.patients ?? DEFAULT_DEMO_PATIENTS));
  const rng = new DemoRandom(seed, 'cohort');
  const cutoff = toShanghai(DEMO_GENERATED_AT).date;
  const numProbable = Math.min(3, Math.max(1, Math.floor(total / 20)));
  const numSame = Math.min(2, Math.floor(total / 25));
  const base = total - numProbable - numSame;
  const usedMrn: Record<string, Set<string>> = { 'demo-hospital-1': new Set(), 'demo-hospital-2': new Set() };
  const [h1, h2] = DEMO_INSTITUTIONS as [DemoInstitution, DemoInstitution];
  // Exclusions (withdrawn / refused consent) are fixed counts so every seed exercises R-DSR-2.
  const excludedPick = new Map<number, 'withdrawn' | 'refused'>();
  const pickable = Array.from({ length: base }, (_, i) => i).filter((i) => i >= numProbable + numSame);
  for (const kind of ['withdrawn', 'withdrawn', 'withdrawn', 'refused'] as const) {
    if (pickable.length === 0) break;
    const at = rng.int(0, pickable.length - 1);
    excludedPick.set(pickable[at]!, kind);
    pickable.splice(at, 1);
  }
  const maleIndex = base >= 20 ? rng.int(numProbable + numSame, base - 1) : -1;

  const patients: DemoPatient[] = [];
  const originals: DemoPatient[] = [];
  for (let i = 0; i < base; i++) {
    const prng = new DemoRandom(seed, `patient:${i}`);
    // The first records (the ones that get a duplicate at hospital 2) are at hospital 1.
    const inst = i < numProbable + numSame ? h1 : prng.chance(0.55) ? h1 : h2;
    const sex = i === maleIndex ? 'male' : 'female';
    const age = Math.round(prng.normal(49, 10, 28, 75));
    const diagnosisDate = nextWorkday(addDays('2023-02-01', prng.int(0, daysBetween('2023-02-01', '2025-09-30'))));
    const birthDate = addDays(diagnosisDate, -(age * 365.25 + prng.int(10, 350)));
    const mrn = allocateMrn(prng, inst, usedMrn[inst.institutionId]!);
    const identity = generateIdentity(prng, inst, sex, birthDate, mrn);
    const realAge = Number(diagnosisDate.slice(0, 4)) - Number(birthDate.slice(0, 4)) - (diagnosisDate.slice(5) < birthDate.slice(5) ? 1 : 0);
    const clinical = generateClinical(prng, realAge, sex, diagnosisDate);
    const firstVisit = nextWorkday(addDays(diagnosisDate, -prng.int(5, 12)));
    const planned = planNeoadjuvantEpisode(prng, clinical, firstVisit, cutoff);
    const consent = consentFor(prng, addMinutes(planned[0]!.occurredAt, 25), excludedPick.get(i) ?? 'normal', cutoff);
    const rec = buildRecord({ seed }, { index: i, institution: inst, identity, clinical, consent, episode: 'neoadjuvant-treatment', planned, rng: prng });
    patients.push(rec);
    if (i < numProbable + numSame) originals.push(rec);
  }

  const duplicatePairs: DemoDuplicatePair[] = [];
  originals.forEach((orig, k) => {
    const kind: DemoDuplicatePair['kind'] = k < numProbable ? 'probable' : 'same-resident-id';
    const prng = new DemoRandom(seed, `duplicate:${k}`);
    const inst = h2;
    const mrn = allocateMrn(prng, inst, usedMrn[inst.institutionId]!);
    const o = orig.identity;
    const fresh = generateIdentity(prng, inst, o.sex, o.birthDate, mrn);
    let residentId = o.residentId;
    if (kind === 'probable') {
      // A different (still checksum-valid) ID: typical of a registration error or a re-issued card.
      const other = DIVISIONS.filter((d) => d.code !== o.residentId.slice(0, 6));
      residentId = buildResidentId(prng, prng.pick(other).code, o.birthDate, o.sex);
    }
    const identity: DemoIdentity = {
      ...fresh,
      familyName: o.familyName,
      givenName: o.givenName,
      fullName: o.fullName,
      residentId,
      mobilePhone: prng.chance(0.5) ? o.mobilePhone : mobilePhone(prng),
      address: prng.chance(0.5) ? o.address : fresh.address,
    };
    const clinical: DemoClinical = structuredClone(orig.clinical);
    const surgery = clinical.surgery?.date ?? addDays(clinical.diagnosisDate, 200);
    const firstVisit = nextWorkday(addDays(surgery, prng.int(25, 60)));
    const planned = planSecondOpinionEpisode(prng, firstVisit, cutoff);
    const consent = consentFor(prng, addMinutes(planned[0]!.occurredAt, 25), 'normal', cutoff);
    const rec = buildRecord({ seed }, { index: base + k, institution: inst, identity, clinical, consent, episode: 'second-opinion-follow-up', planned, rng: prng });
    patients.push(rec);
    duplicatePairs.push({
      pairId: `dup-${pad(k + 1)}`,
      kind,
      a: orig.sourcePatientId,
      b: rec.sourcePatientId,
      matchOn: kind === 'probable' ? ['fullName', 'birthDate', 'sex'] : ['fullName', 'birthDate', 'sex', 'residentId'],
      note: kind === 'probable'
        ? 'Same name, birth date and sex at both hospitals but different resident IDs: probable duplicate for operator review (R-MPI-2).'
        : 'Same resident ID at both hospitals: the same person; must be linked to one master-index entry (R-MPI-1).',
    });
  });

  const datasets: DemoDataset[] = [
    {
      datasetId: DEMO_DATASET_ID,
      name: { zh: '乳腺癌新辅助放疗联合免疫治疗队列', en: 'Breast cancer neoadjuvant radiotherapy + immunotherapy cohort' },
      description: {
        zh: '两家示范医院乳腺癌患者的病历、FHIR资源、影像（MR/CT/剂量分布）、病理与放疗计划报告、护理记录及生命体征时间序列（合成数据）。',
        en: 'Synthetic EMR, FHIR, imaging (MR/CT/dose distribution), pathology and radiotherapy plan reports, nursing records and vital-sign series of breast cancer patients from two demo hospitals.',
      },
      disease: BREAST_CANCER,
      securityLevel: 3,
      modalities: ['clinical', 'fhir', 'dicom', 'pdf', 'text', 'image', 'nursing', 'vital-signs'],
      institutionIds: ['demo-hospital-1', 'demo-hospital-2'],
      sourcePatientIds: patients.map((p) => p.sourcePatientId),
    },
    ...DEMO_INSTITUTIONS.map((inst): DemoDataset => ({
      datasetId: `${DEMO_DATASET_ID}-${inst.institutionId}`,
      name: { zh: `${inst.name.zh}乳腺癌放疗免疫治疗数据`, en: `${inst.name.en} breast cancer RT + IO data` },
      description: { zh: `${inst.name.zh}贡献的源数据（合成）。`, en: `Source data contributed by ${inst.name.en} (synthetic).` },
      disease: BREAST_CANCER,
      securityLevel: 3,
      modalities: ['clinical', 'fhir', 'dicom', 'pdf', 'text', 'image', 'nursing', 'vital-signs'],
      institutionIds: [inst.institutionId],
      sourcePatientIds: patients.filter((p) => p.institutionId === inst.institutionId).map((p) => p.sourcePatientId),
    })),
  ];

  const cjk = pdfCjkAvailable();
  return {
    generatorVersion: DEMO_GENERATOR_VERSION,
    seed,
    generatedAt: DEMO_GENERATED_AT,
    institutions: DEMO_INSTITUTIONS.map((i) => ({ ...i })),
    patients,
    duplicatePairs,
    datasets,
    pdfText: cjk
      ? { cjkFont: true, fontPath: CJK_FONT_PATH, note: 'PDF reports contain Chinese and English text (WenQuanYi Micro Hei subset embedded).' }
      : { cjkFont: false, note: `CJK font ${CJK_FONT_PATH} not found (apt-get install fonts-wqy-microhei): PDF reports contain English text only.` },
  };
}
