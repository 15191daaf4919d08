import type {
  DemoClinical,
  DemoEventType,
  DemoMolecularSubtype,
  DemoOarDose,
  DemoRadiotherapy,
  DemoRegimen,
  LocalizedText,
} from './demo-model';
import { addDays, nextWorkday, shanghaiToUtc, weekday } from './demo-time';
import type { DemoRandom } from './prng';

/** Code systems used by the demo data. */
export const SYSTEMS = {
  icd10: 'http://hl7.org/fhir/sid/icd-10',
  icdO3: 'http://terminology.hl7.org/CodeSystem/icd-o-3',
  snomed: 'http://snomed.info/sct',
  loinc: 'http://loinc.org',
  ucum: 'http://unitsofmeasure.org',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  duo: 'http://purl.obolibrary.org/obo/duo',
  mondo: 'http://purl.obolibrary.org/obo/mondo',
  dicomDcm: 'http://dicom.nema.org/resources/ontology/DCM',
  /** Project code system for items without a standard code (dose metrics, local procedures). */
  local: 'https://mdrp.example.org/fhir/CodeSystem/demo-local',
} as const;

const PATHOLOGY: readonly (readonly [{ code: string; zh: string; en: string; tnbcOnly?: boolean }, number])[] = [
  [{ code: '8500/3', zh: '浸润性导管癌（非特殊类型）', en: 'Invasive ductal carcinoma, NST' }, 84],
  [{ code: '8520/3', zh: '浸润性小叶癌', en: 'Invasive lobular carcinoma' }, 5],
  [{ code: '8522/3', zh: '浸润性导管癌伴小叶癌', en: 'Mixed ductal and lobular carcinoma' }, 3],
  [{ code: '8480/3', zh: '黏液癌', en: 'Mucinous carcinoma' }, 3],
  [{ code: '8575/3', zh: '化生性癌', en: 'Metaplastic carcinoma', tnbcOnly: true }, 5],
];

const QUADRANTS: readonly (readonly [LocalizedText & { icd: string }, number])[] = [
  [{ zh: '外上象限', en: 'upper-outer quadrant', icd: 'C50.4' }, 50],
  [{ zh: '内上象限', en: 'upper-inner quadrant', icd: 'C50.2' }, 15],
  [{ zh: '外下象限', en: 'lower-outer quadrant', icd: 'C50.5' }, 12],
  [{ zh: '内下象限', en: 'lower-inner quadrant', icd: 'C50.3' }, 8],
  [{ zh: '中央区', en: 'central portion', icd: 'C50.1' }, 15],
];

const DRUGS = {
  pembrolizumab: { name: { zh: '帕博利珠单抗', en: 'Pembrolizumab' }, rxnorm: '1547545' },
  paclitaxel: { name: { zh: '紫杉醇', en: 'Paclitaxel' }, rxnorm: '56946' },
  carboplatin: { name: { zh: '卡铂', en: 'Carboplatin' }, rxnorm: '40048' },
  docetaxel: { name: { zh: '多西他赛', en: 'Docetaxel' }, rxnorm: '72962' },
  cyclophosphamide: { name: { zh: '环磷酰胺', en: 'Cyclophosphamide' }, rxnorm: '3002' },
  trastuzumab: { name: { zh: '曲妥珠单抗', en: 'Trastuzumab' }, rxnorm: '224905' },
  pertuzumab: { name: { zh: '帕妥珠单抗', en: 'Pertuzumab' }, rxnorm: '1298944' },
} as const;

function stageGroup(t: string, n: string): string {
  if (t === 'T4b') return 'IIIB';
  if (n === 'N2') return 'IIIA';
  if (t === 'T3') return n === 'N0' ? 'IIB' : 'IIIA';
  if (t === 'T2') return n === 'N0' ? 'IIA' : 'IIB';
  return n === 'N0' ? 'IA' : 'IIA';
}

function regimenFor(rng: DemoRandom, subtype: DemoMolecularSubtype): DemoRegimen {
  const cycles = rng.weighted([[6, 60], [8, 25], [4, 15]] as const);
  if (subtype === 'TNBC') {
    return {
      code: 'PEMBRO-TCb',
      name: { zh: '帕博利珠单抗 + 紫杉醇/卡铂', en: 'Pembrolizumab + paclitaxel/carboplatin' },
      drugs: [
        { ...DRUGS.pembrolizumab, dose: 200, unit: 'mg' },
        { ...DRUGS.paclitaxel, dose: 175, unit: 'mg/m2' },
        { ...DRUGS.carboplatin, dose: 5, unit: 'AUC' },
      ],
      cycles,
      intervalDays: 21,
    };
  }
  if (subtype === 'HR+/HER2-') {
    return {
      code: 'PEMBRO-TC',
      name: { zh: '帕博利珠单抗 + 多西他赛/环磷酰胺', en: 'Pembrolizumab + docetaxel/cyclophosphamide' },
      drugs: [
        { ...DRUGS.pembrolizumab, dose: 200, unit: 'mg' },
        { ...DRUGS.docetaxel, dose: 75, unit: 'mg/m2' },
        { ...DRUGS.cyclophosphamide, dose: 600, unit: 'mg/m2' },
      ],
      cycles,
      intervalDays: 21,
    };
  }
  return {
    code: 'PEMBRO-TCbHP',
    name: { zh: '帕博利珠单抗 + 多西他赛/卡铂 + 曲妥珠单抗/帕妥珠单抗', en: 'Pembrolizumab + docetaxel/carboplatin + trastuzumab/pertuzumab' },
    drugs: [
      { ...DRUGS.pembrolizumab, dose: 200, unit: 'mg' },
      { ...DRUGS.docetaxel, dose: 75, unit: 'mg/m2' },
      { ...DRUGS.carboplatin, dose: 6, unit: 'AUC' },
      { ...DRUGS.trastuzumab, dose: 6, unit: 'mg/kg' },
      { ...DRUGS.pertuzumab, dose: 420, unit: 'mg' },
    ],
    cycles: Math.min(cycles, 6),
    intervalDays: 21,
  };
}

/** Absolute dose in mg of one regimen drug for this patient (BSA by Mosteller; Calvert for AUC). */
export function absoluteDoseMg(drug: DemoRegimen['drugs'][number], heightCm: number, weightKg: number, age: number): number {
  const bsa = Math.sqrt((heightCm * weightKg) / 3600);
  switch (drug.unit) {
    case 'mg':
      return drug.dose;
    case 'mg/m2':
      return Math.round(drug.dose * bsa);
    case 'mg/kg':
      return Math.round(drug.dose * weightKg);
    case 'AUC': {
      // Cockcroft–Gault (female factor 0.85) with an assumed serum creatinine of 0.8 mg/dL.
      const gfr = Math.min(125, ((140 - age) * weightKg * 0.85) / (72 * 0.8));
      return Math.round((drug.dose * (gfr + 25)) / 10) * 10;
    }
  }
}

function oarTable(rng: DemoRandom, laterality: 'left' | 'right', totalDose: number, sbrt: boolean, nodal: boolean): DemoOarDose[] {
  const scale = sbrt ? 0.35 : totalDose / 50;
  const rows: DemoOarDose[] = [];
  const gy = (organ: LocalizedText, metric: string, value: number, limit: number): void => {
    const v = Math.round(value * 100) / 100;
    rows.push({ organ, metric, value: v, unit: 'Gy', constraint: `< ${limit} Gy`, met: v < limit });
  };
  const pct = (organ: LocalizedText, metric: string, value: number, limit: number): void => {
    const v = Math.round(value * 10) / 10;
    rows.push({ organ, metric, value: v, unit: '%', constraint: `< ${limit}%`, met: v < limit });
  };
  const lung = laterality === 'left' ? { zh: '左肺（同侧）', en: 'Ipsilateral lung (left)' } : { zh: '右肺（同侧）', en: 'Ipsilateral lung (right)' };
  pct(lung, 'V20', rng.normal(sbrt ? 4 : 17, sbrt ? 2 : 5, 1, 34), sbrt ? 15 : 30);
  gy(lung, 'Dmean', rng.normal(11, 2.5, 4, 17) * scale, sbrt ? 8 : 15 * (totalDose / 50));
  const heartMean = laterality === 'left' ? rng.normal(3.4, 1.1, 0.8, 6.5) : rng.normal(1.1, 0.4, 0.3, 2.5);
  gy({ zh: '心脏', en: 'Heart' }, 'Dmean', heartMean * scale, sbrt ? 3 : 5);
  if (laterality === 'left') gy({ zh: '左前降支', en: 'LAD coronary artery' }, 'Dmax', rng.normal(18, 7, 4, 42) * scale, sbrt ? 15 : 40);
  gy({ zh: '对侧乳腺', en: 'Contralateral breast' }, 'Dmean', rng.normal(1.4, 0.6, 0.2, 3.6) * scale, 3);
  gy({ zh: '脊髓', en: 'Spinal cord' }, 'Dmax', rng.normal(8, 4, 1, 30) * scale, sbrt ? 18 : 45);
  if (nodal) gy({ zh: '甲状腺', en: 'Thyroid' }, 'Dmean', rng.normal(18, 6, 3, 34) * scale, 30);
  return rows;
}

/** Planned event of the timeline with the details the builders need. */
export interface PlannedEvent {
  type: DemoEventType;
  occurredAt: string;
  endedAt?: string;
  title: LocalizedText;
  /** 1-based cycle number (chemo-immunotherapy cycles) or follow-up number. */
  index?: number;
  /** For imaging events: baseline or response assessment. */
  imagingPhase?: 'baseline' | 'response' | 'surveillance';
}

/**
 * Generates the clinical summary of one patient record.
 * @param diagnosisDate - YYYY-MM-DD of the diagnostic core-needle biopsy.
 */
export function generateClinical(rng: DemoRandom, age: number, sex: 'female' | 'male', diagnosisDate: string): DemoClinical {
  const subtype: DemoMolecularSubtype = rng.weighted([['TNBC', 55], ['HR+/HER2-', 20], ['HR+/HER2+', 13], ['HR-/HER2+', 12]] as const);
  const pathology = rng.weighted(PATHOLOGY.filter(([p]) => !p.tnbcOnly || subtype === 'TNBC'));
  const quadrant = rng.weighted(QUADRANTS);
  const laterality = rng.chance(0.52) ? 'left' : 'right';
  const cT = rng.weighted([['T1c', 12], ['T2', 62], ['T3', 20], ['T4b', 6]] as const);
  const cN = rng.weighted([['N0', 52], ['N1', 38], ['N2', 10]] as const);
  const tumorSizeMm = cT === 'T1c' ? rng.int(11, 20) : cT === 'T2' ? rng.int(21, 50) : rng.int(51, 80);
  const hr = subtype.startsWith('HR+');
  const her2pos = subtype.endsWith('HER2+');
  const erPercent = hr ? rng.pick([10, 30, 50, 60, 70, 80, 90, 95]) : 0;
  const prPercent = hr ? rng.pick([0, 1, 5, 10, 20, 40, 60, 80]) : 0;
  let her2Ihc: DemoClinical['her2Ihc'];
  let her2Fish: DemoClinical['her2Fish'];
  if (her2pos) {
    her2Ihc = rng.chance(0.75) ? '3+' : '2+';
    if (her2Ihc === '2+') her2Fish = 'amplified';
  } else {
    her2Ihc = rng.weighted([['0', 50], ['1+', 35], ['2+', 15]] as const);
    if (her2Ihc === '2+') her2Fish = 'not amplified';
  }
  const ki67Percent = subtype === 'TNBC' ? rng.pick([40, 50, 60, 70, 80, 90]) : rng.pick([15, 20, 30, 40, 50, 60]);
  const heightCm = Math.round(rng.normal(sex === 'female' ? 159 : 170, 5, 145, 185));
  const weightKg = Math.round(rng.normal(sex === 'female' ? 58 : 70, 8, 40, 95) * 10) / 10;
  const regimen = regimenFor(rng, subtype);
  const menopausal: LocalizedText =
    sex === 'male'
      ? { zh: '不适用', en: 'Not applicable' }
      : age < 45 || (age < 55 && rng.chance(0.5))
        ? { zh: '绝经前', en: 'Premenopausal' }
        : { zh: '绝经后', en: 'Postmenopausal' };
  const pCR = rng.chance(subtype === 'TNBC' || her2pos ? 0.62 : 0.25);
  const ypT = pCR ? 'ypT0' : rng.pick(['ypT1a', 'ypT1b', 'ypT1c', 'ypT2']);
  const ypN = pCR ? 'ypN0' : rng.weighted([['ypN0', 60], ['ypN1a', 35], ['ypN2a', 5]] as const);
  const rcb = pCR ? 'RCB-0' : ypN === 'ypN2a' ? 'RCB-III' : ypT === 'ypT2' || ypN !== 'ypN0' ? 'RCB-II' : 'RCB-I';
  return {
    ageAtDiagnosis: age,
    diagnosisDate,
    icd10: { system: SYSTEMS.icd10, code: quadrant.icd, display: { zh: `乳房${quadrant.zh}恶性肿瘤`, en: `Malignant neoplasm of ${quadrant.en} of breast` } },
    pathologyType: { system: SYSTEMS.icdO3, code: pathology.code, display: { zh: pathology.zh, en: pathology.en } },
    histologicGrade: subtype === 'TNBC' ? rng.weighted([[3, 80], [2, 20]] as const) : rng.weighted([[2, 60], [3, 30], [1, 10]] as const),
    laterality,
    quadrant: { zh: quadrant.zh, en: quadrant.en },
    tumorSizeMm,
    cT,
    cN,
    cM: 'M0',
    cTNM: `c${cT}${cN}M0`,
    stageGroup: stageGroup(cT, cN),
    molecularSubtype: subtype,
    erPercent,
    prPercent,
    her2Ihc,
    ...(her2Fish ? { her2Fish } : {}),
    ki67Percent,
    pdl1Cps: subtype === 'TNBC' ? rng.pick([0, 1, 5, 10, 15, 20, 30, 50]) : rng.pick([0, 1, 3, 5, 10]),
    menopausalStatus: menopausal,
    ecog: rng.chance(0.8) ? 0 : 1,
    heightCm,
    weightKg,
    regimen,
    response: { ypT, ypN, pCR, rcb },
  };
}

/**
 * Plans the neoadjuvant episode (first visit → biopsy → cycles with radiotherapy after cycle 2 →
 * response MR → surgery → pathology response → follow-ups before `cutoff`) and fills
 * `clinical.radiotherapy` and `clinical.surgery`.
 */
export function planNeoadjuvantEpisode(rng: DemoRandom, clinical: DemoClinical, firstVisit: string, cutoff: string): PlannedEvent[] {
  const ev: PlannedEvent[] = [];
  const at = (date: string, h0: number, h1: number): string => shanghaiToUtc(date, rng.int(h0, h1), rng.pick([0, 10, 15, 20, 30, 40, 45, 50]));
  ev.push({ type: 'first-visit', occurredAt: at(firstVisit, 8, 11), title: { zh: '乳腺外科初诊', en: 'First visit, breast surgery clinic' } });
  const mrDate = nextWorkday(addDays(firstVisit, rng.int(1, 4)));
  ev.push({ type: 'imaging', imagingPhase: 'baseline', occurredAt: at(mrDate, 8, 16), title: { zh: '乳腺增强MRI（基线）', en: 'Breast contrast MRI (baseline)' } });
  const biopsyDate = clinical.diagnosisDate;
  ev.push({ type: 'biopsy', occurredAt: at(biopsyDate, 9, 15), title: { zh: '超声引导下空芯针穿刺活检', en: 'Ultrasound-guided core-needle biopsy' } });
  const c1 = nextWorkday(addDays(biopsyDate, rng.int(12, 20)));
  let cycleDate = c1;
  let rtStart = '';
  let rtEnd = '';
  for (let c = 1; c <= clinical.regimen.cycles; c++) {
    ev.push({ type: 'chemo-immunotherapy-cycle', index: c, occurredAt: at(cycleDate, 8, 10), title: { zh: `新辅助化疗联合免疫治疗 第${c}周期`, en: `Neoadjuvant chemo-immunotherapy cycle ${c}` } });
    if (c === 2) {
      const simDate = nextWorkday(addDays(cycleDate, 2));
      ev.push({ type: 'radiotherapy-simulation', occurredAt: at(simDate, 9, 15), title: { zh: '放疗CT模拟定位', en: 'Radiotherapy CT simulation' } });
      rtStart = nextWorkday(addDays(simDate, rng.int(5, 8)));
    }
    cycleDate = nextWorkday(addDays(cycleDate, clinical.regimen.intervalDays));
  }
  const lastCycle = addDays(cycleDate, -clinical.regimen.intervalDays);
  // Radiotherapy: conventional 50 Gy/25 fx, hypofractionated 40.05 Gy/15 fx, or a 24 Gy/3 fx tumour-bed boost.
  const scheme = rng.weighted([['conv', 60], ['hypo', 25], ['sbrt', 15]] as const);
  const fractions = scheme === 'conv' ? 25 : scheme === 'hypo' ? 15 : 3;
  const total = scheme === 'conv' ? 50 : scheme === 'hypo' ? 40.05 : 24;
  let d = rtStart;
  for (let f = 1; f <= fractions; f++) {
    rtEnd = d;
    d = nextWorkday(addDays(d, scheme === 'sbrt' ? 2 : 1));
  }
  const rtStartAt = shanghaiToUtc(rtStart, 14, 0);
  const rtEndAt = shanghaiToUtc(rtEnd, 14, 20);
  const radiotherapy: DemoRadiotherapy = {
    technique: scheme === 'sbrt' ? { zh: '立体定向放疗（SBRT）', en: 'Stereotactic body radiotherapy (SBRT)' } : rng.chance(0.5) ? { zh: '调强放疗（IMRT）', en: 'Intensity-modulated radiotherapy (IMRT)' } : { zh: '容积旋转调强（VMAT）', en: 'Volumetric modulated arc therapy (VMAT)' },
    target: scheme === 'sbrt' ? { zh: '原发肿瘤（GTV+3mm）', en: 'Primary tumour (GTV + 3 mm)' } : clinical.cN === 'N0' ? { zh: '全乳腺', en: 'Whole breast' } : { zh: '全乳腺 + 区域淋巴结', en: 'Whole breast + regional nodes' },
    totalDoseGy: total,
    fractions,
    dosePerFractionGy: Math.round((total / fractions) * 100) / 100,
    start: rtStartAt,
    end: rtEndAt,
    oarDoses: oarTable(rng, clinical.laterality, total, scheme === 'sbrt', clinical.cN !== 'N0' && scheme !== 'sbrt'),
    planId: `RTP-${rtStart.replaceAll('-', '')}-${rng.digits(4)}`,
  };
  clinical.radiotherapy = radiotherapy;
  ev.push({ type: 'radiotherapy-course', occurredAt: rtStartAt, endedAt: rtEndAt, title: { zh: `新辅助放疗 ${total} Gy/${fractions} 次`, en: `Neoadjuvant radiotherapy ${total} Gy in ${fractions} fractions` } });
  const respMr = nextWorkday(addDays(lastCycle, rng.int(14, 20)));
  ev.push({ type: 'imaging', imagingPhase: 'response', occurredAt: at(respMr, 8, 16), title: { zh: '乳腺增强MRI（疗效评估）', en: 'Breast contrast MRI (response assessment)' } });
  const surgeryDate = nextWorkday(addDays(lastCycle, rng.int(24, 38)));
  const mastectomy = clinical.cT === 'T3' || clinical.cT === 'T4b' || clinical.cN === 'N2' ? rng.chance(0.8) : rng.chance(0.3);
  const surgeryType = mastectomy
    ? { zh: '乳腺癌改良根治术', en: 'Modified radical mastectomy' }
    : { zh: '保乳手术 + 前哨淋巴结活检', en: 'Breast-conserving surgery + sentinel lymph node biopsy' };
  clinical.surgery = { type: surgeryType, date: surgeryDate };
  ev.push({ type: 'surgery', occurredAt: at(surgeryDate, 8, 10), title: { zh: surgeryType.zh, en: surgeryType.en } });
  ev.push({ type: 'pathology-response', occurredAt: at(nextWorkday(addDays(surgeryDate, rng.int(5, 8))), 10, 16), title: { zh: '术后病理疗效评估', en: 'Surgical pathology response assessment' } });
  let n = 0;
  for (const offset of [30, 90, 180, 365, 540]) {
    const fu = nextWorkday(addDays(surgeryDate, offset + rng.int(-5, 10)));
    if (fu >= cutoff) break;
    n++;
    ev.push({ type: 'follow-up', index: n, occurredAt: at(fu, 8, 16), title: { zh: `术后随访 第${n}次`, en: `Post-operative follow-up ${n}` } });
  }
  return ev;
}

/** Plans a second-opinion / follow-up episode (the duplicate record at the other hospital). */
export function planSecondOpinionEpisode(rng: DemoRandom, firstVisit: string, cutoff: string): PlannedEvent[] {
  const at = (date: string): string => shanghaiToUtc(date, rng.int(8, 15), rng.pick([0, 15, 30, 45]));
  const ev: PlannedEvent[] = [
    { type: 'first-visit', occurredAt: at(firstVisit), title: { zh: '肿瘤内科初诊（外院转诊，第二诊疗意见）', en: 'First visit, oncology (referral for second opinion)' } },
    { type: 'imaging', imagingPhase: 'surveillance', occurredAt: at(nextWorkday(addDays(firstVisit, rng.int(2, 6)))), title: { zh: '乳腺增强MRI（复查）', en: 'Breast contrast MRI (surveillance)' } },
  ];
  let n = 0;
  for (const offset of [30, 120]) {
    const fu = nextWorkday(addDays(firstVisit, offset + rng.int(0, 10)));
    if (fu >= cutoff) break;
    n++;
    ev.push({ type: 'follow-up', index: n, occurredAt: at(fu), title: { zh: `肿瘤内科随访 第${n}次`, en: `Oncology follow-up ${n}` } });
  }
  return ev;
}

/** True for Saturday/Sunday (used to keep clinic events on workdays). */
export function isWeekend(date: string): boolean {
  const w = weekday(date);
  return w === 0 || w === 6;
}
