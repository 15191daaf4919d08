import { CHINESE_SURNAMES, CITIES, DISTRICTS, PROVINCES } from './chinese-gazetteer';
import { addDaysYmd, isValidYmd } from './date-shift';
import type { DeidPolicy } from './deid-policy';
import { isResidentId } from './resident-id';

/** Kinds of protected health information the scrubber finds in free text. */
export type PhiType = 'NAME' | 'RESIDENT_ID' | 'PHONE' | 'EMAIL' | 'ADDRESS' | 'DATE' | 'AGE' | 'RECORD_NUMBER' | 'URL' | 'IP';

/** All PHI types, in report order. */
export const PHI_TYPES: readonly PhiType[] = ['NAME', 'RESIDENT_ID', 'PHONE', 'EMAIL', 'ADDRESS', 'DATE', 'AGE', 'RECORD_NUMBER', 'URL', 'IP'];

/** A found PHI span, as UTF-16 offsets into the INPUT text (`end` exclusive). */
export interface PhiSpan {
  start: number;
  end: number;
  type: PhiType;
}

/** Options of {@link scrubText}. */
export interface ScrubOptions {
  /** Names known from the identity vault (patient, relatives), in any script. */
  knownNames?: readonly string[];
  /** Identifiers known from the vault (MRN, insurance number …): removed wherever they occur. */
  knownIdentifiers?: readonly string[];
  /** The policy (its `text` section decides how dates are replaced). */
  policy?: Pick<DeidPolicy, 'text'>;
  /** The patient's keyed date offset; dates are shifted by it when the policy says `shift`. */
  dateShiftDays?: number;
}

/** Result of {@link scrubText}. */
export interface ScrubResult {
  text: string;
  spans: PhiSpan[];
}

const LABELS: Record<PhiType, { zh: string; en: string }> = {
  NAME: { zh: '[姓名]', en: '[NAME]' },
  RESIDENT_ID: { zh: '[身份证号]', en: '[ID]' },
  PHONE: { zh: '[电话]', en: '[PHONE]' },
  EMAIL: { zh: '[邮箱]', en: '[EMAIL]' },
  ADDRESS: { zh: '[地址]', en: '[ADDRESS]' },
  DATE: { zh: '[日期]', en: '[DATE]' },
  AGE: { zh: '[90岁以上]', en: '[AGE 90+]' },
  RECORD_NUMBER: { zh: '[编号]', en: '[RECORD-NO]' },
  URL: { zh: '[网址]', en: '[URL]' },
  IP: { zh: '[IP]', en: '[IP]' },
};

/** Overlap winner order: a cue-based record number beats a phone-shaped number, etc. */
const PRIORITY: Record<PhiType, number> = { RESIDENT_ID: 10, EMAIL: 9, URL: 8, RECORD_NUMBER: 7, PHONE: 6, IP: 5, ADDRESS: 4, NAME: 3, DATE: 2, AGE: 1 };

interface Candidate extends PhiSpan {
  /** Date parts for shifting, when parsed. */
  date?: DateParts;
  /** Known-vault or cue-backed detections win ties. */
  strong?: boolean;
}

interface DateParts {
  y?: number;
  m: number;
  d?: number;
  /** Rebuilds the text of the date in its original format. */
  format: (y: number, m: number, d: number) => string;
}

const CJK = '\\u4e00-\\u9fa5';
const HAS_CJK = /[\u4e00-\u9fa5]/;
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---------------------------------------------------------------------------------------------
// Identifiers with structure
// ---------------------------------------------------------------------------------------------

const RE_ID18 = /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g;
const RE_ID15 = /(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])/g;
const RE_ID_CUE = /(?:身份证(?:号码|号)?|公民身份号码|证件号(?:码)?|ID\s?(?:card|No\.?|number)|resident ID(?: number)?)\s*(?:[:：#]|is|为|是)?\s*(\d{15}|\d{17}[\dXx])(?![0-9A-Za-z])/gi;

const UNIT_AFTER = /^\s*(?:[×xX*]\s*10|copies|IU|U\/|mg|g\/|μg|ug|ng|pg|ml|mL|mmol|μmol|umol|拷贝|个\/|cells|\/L|\/μL|\/uL|%|Gy|cGy|mm|cm|次)/;
const RE_MOBILE = /(?<![\d.])(?:(?:\+|00)86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d|\.\d)/g;
const RE_LANDLINE = /(?<![\d.])(?:\(0\d{2,3}\)\s?|0\d{2,3}[- ])(?:\d{7,8}|\d{3,4}[- ]\d{4})(?:\s*(?:转|ext\.?|x)\s*\d{1,5})?(?!\d|\.\d)/g;
const RE_LANDLINE_BARE = /(?<![\d.])0(?:10|2\d|[3-9]\d{2})\d{7,8}(?!\d|\.\d)/g;
const RE_INTL_PHONE = /(?<![\d.])(?:\+\d{1,3}[- ])?\(?\d{3}\)?[- .]\d{3}[- .]\d{4}(?!\d|\.\d)/g;
const RE_PHONE_CUE = /(?:联系电话|电话号码|电话|手机号码|手机号|手机|联系方式|座机|Tel(?:ephone)?\.?|Phone|Mobile|Cell)\s*(?:[:：]|is|为|是)?\s*(\+?[\d(][\d\s()-]{5,18}\d)/gi;
const RE_EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const RE_URL = /\b(?:https?:\/\/|www\.)[^\s<>"'，。；、）)]+/gi;
const RE_IP = /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\d|\.\d)/g;
const RE_UID = /(?<![\d.])[012](?:\.(?:0|[1-9]\d*)){5,}(?!\d|\.\d)/g;
const RE_RECORD_CUE = new RegExp(
  '(?:住院号|病案号|病历号|门诊号|就诊号|就诊卡号|诊疗卡号|ID号|登记号|影像号|检查号|病理号|放疗号|医保卡号|医保号|医保编号|社保卡号|社保号|保险号|档案号|条码号|' +
    'MRN|MR\\s?(?:No\\.?|#)|Medical Record (?:Number|No\\.?)|Record (?:Number|No\\.?)|Hospital (?:Number|No\\.?)|Patient ID|Inpatient (?:Number|No\\.?)|' +
    'Outpatient (?:Number|No\\.?)|Accession (?:Number|No\\.?)|Insurance (?:Number|No\\.?)|Policy (?:Number|No\\.?)|Pathology (?:Number|No\\.?)|Specimen (?:Number|No\\.?)|Visit (?:Number|No\\.?))' +
    '\\s*(?:[:：#]|is|为|是)?\\s*([A-Za-z]{0,4}-?\\d[A-Za-z0-9-]{3,24})',
  'gi',
);

// ---------------------------------------------------------------------------------------------
// Dates and ages
// ---------------------------------------------------------------------------------------------

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const MON = '(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\\.?';
const monthIndex = (s: string): number => MONTHS.indexOf(s.slice(0, 3).toLowerCase()) + 1;
const p2 = (n: number): string => String(n).padStart(2, '0');

const RE_DATE_ZH = /(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*[日号])?/g;
const RE_DATE_ZH_MD = /(?<![\d年])(\d{1,2})月(\d{1,2})[日号]/g;
const RE_DATE_NUM = /(?<![\d.\/-])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:([ T])(\d{1,2}):(\d{2})(?::(\d{2}))?)?(?![\d\/-])/g;
const RE_DATE_COMPACT = /(?<![\d.])((?:19|20)\d{2})(\d{2})(\d{2})(?!\d|\.\d)/g;
const RE_DATE_DMY = /(?<![\d.\/])(\d{1,2})\/(\d{1,2})\/(\d{4}|\d{2})(?![\d\/])/g;
const RE_DATE_EN_MDY = new RegExp(`\\b${MON}\\s+(\\d{1,2})(?:st|nd|rd|th)?(?:,?\\s+(\\d{4}))?\\b`, 'g');
const RE_DATE_EN_DMY = new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?(?:\\s+of)?[\\s-]+${MON}(?:,?[\\s-]+(\\d{4}))?\\b`, 'g');
const RE_DATE_EN_MY = new RegExp(`\\b${MON}\\s+(\\d{4})\\b`, 'g');

const RE_AGE = /(?<![\d.])(\d{2,3})\s*(?:周岁|岁)|年龄\s*[:：]?\s*(\d{2,3})(?![\d.])|(?<![\d.])(\d{2,3})[- ](?:years?|yrs?)[- ]old\b|\baged\s+(\d{2,3})\b|\bage[:\s]+(\d{2,3})\b|(?<![\d.])(\d{2,3})\s?(?:yo|y\/o|y\.o\.)(?![A-Za-z])/gi;

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

const SURNAME_ALT = [...CHINESE_SURNAMES].sort((a, b) => b.length - a.length).map(esc).join('|');
/** Characters that end a name or cannot start a given name (function words, clinical words). */
const GIVEN_STOP = new Set(Array.from('因于在自诉述今昨的已行经无有出及和与等称主现既为是到被将把对说岁年月日次术后前时入住院科医护一二三体情精神病腹胸乳左右双本人家属女男子来去请予给行查示诊治疗状况况性无未再均约'));
const NAME_PRE_CUES = [
  '紧急联系人', '联系人', '患者姓名', '姓名', '患者', '病人', '患儿', '受检者', '家属', '配偶', '丈夫', '妻子', '爱人', '女儿', '儿子', '之女', '之子',
  '母亲', '父亲', '其夫', '其妻', '其女', '其子', '主治医师', '主治医生', '主管医生', '管床医生', '经治医师', '责任护士', '主管护士', '护士长', '医生', '医师',
  '护士', '主任', '教授', '签名', '记录人', '记录者', '审核人', '审核医师', '报告医师', '报告人', '操作者', '执行人', '术者', '主刀', '助手', '麻醉师', '签字',
];
const NAME_TITLES = ['护士长', '女士', '先生', '小姐', '医生', '医师', '大夫', '护士', '主任', '教授', '老师', '阿姨', '叔叔', '同志', '药师', '技师'];
/**
 * English labels of bilingual forms ("姓名 Name: 谢燕", "Contact: 何文斌"): after a Chinese cue, or on
 * their own before a colon, they introduce a Chinese name just as the Chinese cue does.
 */
const NAME_EN_LABELS = ['Patient name', 'Patient Name', 'Name', 'Contact person', 'Contact', 'Emergency contact', 'Next of kin', 'Spouse', 'Family', 'Relative', 'Physician', 'Doctor', 'Nurse', 'Signature', 'Signed by', 'Reported by', 'Reviewed by'];
const EN_LABEL_ALT = NAME_EN_LABELS.map(esc).join('|');
const RE_NAME_PRE = new RegExp(
  `(?:(?:${NAME_PRE_CUES.map(esc).join('|')})(?:\\s*(?:${EN_LABEL_ALT}))?|\\b(?:${EN_LABEL_ALT})(?=\\s*[:：]))\\s*[:：]?\\s*(${SURNAME_ALT})([${CJK}]{1,2})`,
  'g',
);
const RE_NAME_POST = new RegExp(`(${SURNAME_ALT})([${CJK}]{0,2}?)(?=${NAME_TITLES.map(esc).join('|')})`, 'g');
/** Two-character words that start with a surname character but are not names. */
const NOT_NAMES = new Set([
  '查房', '查体', '查看', '查血', '高热', '高危', '方案', '周期', '周后', '周内', '常规', '明显', '平稳', '安静', '白班', '夜班', '余下', '时间', '应用',
  '何时', '许多', '主任', '责任', '信任', '担任', '前任', '继任', '和蔼', '金属', '江边', '同意', '管理', '管床', '单位', '全科', '专科', '宣教', '康复',
  '向其', '向患', '于今', '于次', '于本', '于我', '于门', '于术', '于外', '于当', '于入', '于出', '于放', '于化', '王牌', '文书', '路径', '车床', '齐全',
]);
const PREV_NOT_NAME = new Set(['主任', '责任', '信任', '担任', '前任', '继任', '专任', '对于', '由于', '关于', '至于', '等于', '属于', '处方', '对方', '双方', '药房', '病房', '房', '夜班', '白班']);

const EN_TITLES = /\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Doctor|Nurse)\.?\s+([A-Z][a-z]+(?:[- ][A-Z][a-z]+)?)/g;
const EN_CUES = /\b(?:[Pp]atient(?: name)?|[Nn]ame|[Ss]igned by|[Dd]ictated by|[Rr]eviewed by|[Ss]een by|[Ee]xamined by|[Rr]eferred by|[Rr]eported by|[Cc]ontact(?: person)?|[Ss]pouse|[Hh]usband|[Ww]ife|[Dd]aughter|[Ss]on|[Mm]other|[Ff]ather|[Aa]ttending|[Pp]hysician|[Ss]urgeon|[Rr]adiologist|[Pp]athologist|[Nn]ext of kin)\s*[:,]?\s+(?:is\s+|was\s+)?(?:(?:Dr|Mr|Mrs|Ms|Prof|Nurse)\.?\s+)?([A-Z][a-z]+(?:[- ][A-Z][a-z]+){0,2})/g;
const EN_DEGREE = /\b([A-Z][a-z]+(?: [A-Z]\.)?(?: [A-Z][a-z]+){1,2}),? (?:MD|M\.D\.|RN|PhD|DO|MBBS)\b/g;
const PINYIN_SURNAMES = ['Wang', 'Li', 'Zhang', 'Liu', 'Chen', 'Yang', 'Huang', 'Zhao', 'Wu', 'Zhou', 'Xu', 'Sun', 'Zhu', 'Hu', 'Guo', 'He', 'Lin', 'Gao', 'Luo', 'Zheng', 'Liang', 'Xie', 'Song', 'Tang', 'Han', 'Feng', 'Deng', 'Cao', 'Peng', 'Zeng', 'Xiao', 'Tian', 'Dong', 'Pan', 'Yuan', 'Cai', 'Jiang', 'Yu', 'Du', 'Ye', 'Cheng', 'Wei', 'Su', 'Lu', 'Ding', 'Ren', 'Shen', 'Yao', 'Qian', 'Gu', 'Jin', 'Dai', 'Fang', 'Ouyang', 'Sima'];
const RE_PINYIN = new RegExp(`\\b(?:${PINYIN_SURNAMES.join('|')})\\s[A-Z][a-z]{1,10}(?:-?[a-z]+)?\\b`, 'g');
/** Capitalized English words that follow cues but are not names. */
const EN_STOP = new Set([
  'The', 'A', 'An', 'Is', 'Was', 'Has', 'Had', 'Reports', 'Denies', 'With', 'Without', 'Presented', 'Presents', 'Underwent', 'Name', 'ID', 'No', 'Number',
  'Consent', 'Signed', 'Record', 'Care', 'Education', 'Declined', 'Agreed', 'Tolerated', 'Received', 'Completed', 'Status', 'History', 'Information', 'Reported',
  'Female', 'Male', 'Left', 'Right', 'Breast', 'Cancer', 'Tumor', 'Pathology', 'Radiology', 'Surgery', 'Oncology', 'Department', 'Hospital', 'Clinic', 'Demo',
  'Ki', 'Her', 'His', 'They', 'She', 'He', 'And', 'Or', 'Of', 'On', 'In', 'At', 'For', 'To', 'By', 'Not', 'No', 'Yes', 'Today', 'Tomorrow', 'Team', 'Review',
]);

// ---------------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------------

const PROV = `(?:${PROVINCES.map(esc).join('|')})`;
const CITY = `(?:(?:${CITIES.map(esc).join('|')})市)`;
const DIST_GEN = `(?:[${CJK}]{1,4}?(?:新区|区|县|旗))`;
const DIST_GAZ = `(?:${DISTRICTS.map(esc).join('|')})`;
const NUM = '(?:\\d+|[一二三四五六七八九十百]+)';
const TOWN = `(?:[${CJK}]{1,6}?(?:街道|镇|乡))`;
const ROAD = `(?:[${CJK}A-Za-z0-9]{1,8}?(?:大道|大街|路|街|巷|胡同))`;
const HOUSE = `(?:${NUM}(?:号院|号|弄))`;
const COMMUNITY = `(?:[${CJK}]{2,6}?(?:小区|花园|新村|公寓|大厦|家园|花苑|苑|社区|村))`;
const UNIT = `(?:${NUM}(?:号楼|幢|栋|号|弄|单元|室|层|楼|座)|\\d+-\\d+(?:-\\d+)?室?)`;
const TAIL = `(?:${TOWN})?(?:${ROAD})?(?:${HOUSE})*(?:${COMMUNITY})?(?:${UNIT})*`;
const RE_ADDR_ADMIN = new RegExp(`(?:${PROV}(?:${CITY})?(?:${DIST_GEN})?|${CITY}(?:${DIST_GEN})?|${DIST_GAZ})${TAIL}`, 'g');
const RE_ADDR_ROAD = new RegExp(`([${CJK}A-Za-z0-9]{1,8})(?:大道|大街|路|街|巷|胡同)${HOUSE}(?:${COMMUNITY})?(?:${UNIT})*`, 'g');
const RE_ADDR_COMMUNITY = new RegExp(`([${CJK}]{2,8})(?:小区|花园|新村|公寓|大厦|家园|花苑|社区)(?:${UNIT})+`, 'g');
const RE_ADDR_CUE = /(?:家庭住址|现住址|户籍地址|通讯地址|联系地址|居住地址|住址|地址|Address|Home address)\s*[:：]\s*([^，。；;,\n]{4,60})/gi;
const EN_STREET = '(?:Street|St\\.?|Road|Rd\\.?|Avenue|Ave\\.?|Lane|Ln\\.?|Drive|Boulevard|Blvd\\.?|Lu|Jie|Dadao|Way|Court|Ct\\.?)';
const RE_ADDR_EN = new RegExp(
  `(?:(?:Room|Rm\\.?|Apt\\.?|Apartment|Unit|Flat)\\s*[\\dA-Z-]+,?\\s+(?:(?:Building|Bldg\\.?|Block)\\s*\\d+,?\\s+)?)?` +
    `(?:No\\.\\s?)?\\d{1,5}[A-Z]?,?\\s+(?:[A-Z][a-z]+\\s){1,3}${EN_STREET}` +
    `(?:,?\\s*(?:Apt\\.?|Apartment|Unit|Room|Suite|Building|Bldg\\.?)\\s*[\\dA-Z-]+)*` +
    `(?:,\\s*[A-Z][a-z]+(?:\\s[A-Z][a-z]+)?\\s(?:District|County|New Area))?(?:,\\s*(?:${citiesPinyin()})(?: City)?)?(?:,?\\s*\\d{6})?`,
  'g',
);
const RE_ADDR_EN_DISTRICT = new RegExp(`\\b[A-Z][a-z]+(?:\\s[A-Z][a-z]+)?\\s(?:District|County|New Area),\\s*(?:${citiesPinyin()})\\b`, 'g');

function citiesPinyin(): string {
  return ['Shanghai', 'Beijing', 'Hangzhou', 'Suzhou', 'Nanjing', 'Ningbo', 'Hefei', 'Wuhan', 'Guangzhou', 'Chengdu', 'Shenzhen', 'Tianjin', 'Chongqing', 'Boston', 'London', 'New York'].join('|');
}

/** Characters after which a road name cannot continue to the left (verbs, cues, punctuation). */
const ADDR_LEFT_STOP = /[住在于址是到自从的，,：:\s家现位居为搬往来。；、（(）)]/;

// ---------------------------------------------------------------------------------------------

function* matches(re: RegExp, text: string): Generator<RegExpExecArray> {
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[0].length === 0) re.lastIndex++;
    yield m;
  }
}

/** Offset of capture group `g` inside match `m` (first occurrence after the match start). */
function groupSpan(m: RegExpExecArray, g: number): { start: number; end: number } | undefined {
  const v = m[g];
  if (v === undefined) return undefined;
  const rel = m[0].lastIndexOf(v);
  const start = m.index + (rel < 0 ? 0 : rel);
  return { start, end: start + v.length };
}

function detectIdentifiers(text: string, out: Candidate[]): void {
  for (const m of matches(RE_ID18, text)) if (isResidentId(m[0])) out.push({ start: m.index, end: m.index + m[0].length, type: 'RESIDENT_ID' });
  for (const m of matches(RE_ID15, text)) if (isResidentId(m[0])) out.push({ start: m.index, end: m.index + m[0].length, type: 'RESIDENT_ID' });
  for (const m of matches(RE_ID_CUE, text)) {
    const s = groupSpan(m, 1);
    if (s) out.push({ ...s, type: 'RESIDENT_ID', strong: true });
  }
  for (const re of [RE_MOBILE, RE_LANDLINE, RE_LANDLINE_BARE, RE_INTL_PHONE]) {
    for (const m of matches(re, text)) {
      // A value followed by a unit is a measurement, not a phone number (e.g. a viral load).
      if (UNIT_AFTER.test(text.slice(m.index + m[0].length, m.index + m[0].length + 8))) continue;
      out.push({ start: m.index, end: m.index + m[0].length, type: 'PHONE' });
    }
  }
  for (const m of matches(RE_PHONE_CUE, text)) {
    const s = groupSpan(m, 1);
    if (s && (m[1] ?? '').replace(/\D/g, '').length >= 7) out.push({ ...s, type: 'PHONE' });
  }
  for (const m of matches(RE_EMAIL, text)) out.push({ start: m.index, end: m.index + m[0].length, type: 'EMAIL' });
  for (const m of matches(RE_URL, text)) out.push({ start: m.index, end: m.index + m[0].length, type: 'URL' });
  for (const m of matches(RE_IP, text)) out.push({ start: m.index, end: m.index + m[0].length, type: 'IP' });
  for (const m of matches(RE_UID, text)) if (m[0].length >= 16) out.push({ start: m.index, end: m.index + m[0].length, type: 'RECORD_NUMBER' });
  for (const m of matches(RE_RECORD_CUE, text)) {
    const s = groupSpan(m, 1);
    if (s) out.push({ ...s, type: 'RECORD_NUMBER', strong: true });
  }
}

function detectDates(text: string, out: Candidate[]): void {
  for (const m of matches(RE_DATE_ZH, text)) {
    const y = Number(m[1]);
    const mo = Number(m[2]);
    const d = m[3] ? Number(m[3]) : undefined;
    if (mo < 1 || mo > 12 || (d !== undefined && !isValidYmd(y, mo, d))) continue;
    const spaced = /\s/.test(m[0]);
    out.push({
      start: m.index,
      end: m.index + m[0].length,
      type: 'DATE',
      date: { y, m: mo, d, format: (yy, mm, dd) => (d === undefined ? `${yy}年${mm}月` : spaced ? `${yy} 年 ${mm} 月 ${dd} 日` : `${yy}年${mm}月${dd}日`) },
    });
  }
  for (const m of matches(RE_DATE_ZH_MD, text)) {
    const mo = Number(m[1]);
    const d = Number(m[2]);
    if (!isValidYmd(2000, mo, d)) continue;
    out.push({ start: m.index, end: m.index + m[0].length, type: 'DATE', date: { m: mo, d, format: (_y, mm, dd) => `${mm}月${dd}日` } });
  }
  for (const m of matches(RE_DATE_NUM, text)) {
    const y = Number(m[1]);
    const mo = Number(m[3]);
    const d = Number(m[4]);
    if (!isValidYmd(y, mo, d) || y < 1900 || y > 2100) continue;
    const sep = m[2] ?? '-';
    const pad = (m[3] ?? '').length === 2;
    const rest = m[0].slice(m[0].indexOf(m[4] ?? '', (m[1] ?? '').length + 2) + (m[4] ?? '').length);
    out.push({
      start: m.index,
      end: m.index + m[0].length,
      type: 'DATE',
      date: { y, m: mo, d, format: (yy, mm, dd) => `${yy}${sep}${pad ? p2(mm) : mm}${sep}${pad ? p2(dd) : dd}${rest}` },
    });
  }
  for (const m of matches(RE_DATE_COMPACT, text)) {
    const y = Number(m[1]);
    const mo = Number(m[2]);
    const d = Number(m[3]);
    if (!isValidYmd(y, mo, d)) continue;
    out.push({ start: m.index, end: m.index + m[0].length, type: 'DATE', date: { y, m: mo, d, format: (yy, mm, dd) => `${yy}${p2(mm)}${p2(dd)}` } });
  }
  for (const m of matches(RE_DATE_DMY, text)) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    const yRaw = m[3] ?? '';
    const y = yRaw.length === 2 ? 2000 + Number(yRaw) : Number(yRaw);
    // Ambiguous m/d vs d/m: treat as month/day when possible (US style), else day/month.
    const [mo, d, us] = a <= 12 ? [a, b, true] : [b, a, false];
    if (!isValidYmd(y, mo, d)) continue;
    out.push({
      start: m.index,
      end: m.index + m[0].length,
      type: 'DATE',
      date: { y, m: mo, d, format: (yy, mm, dd) => (us ? `${mm}/${dd}/${yRaw.length === 2 ? p2(yy % 100) : yy}` : `${dd}/${mm}/${yy}`) },
    });
  }
  for (const m of matches(RE_DATE_EN_MDY, text)) {
    const mo = monthIndex(m[1] ?? '');
    const d = Number(m[2]);
    const y = m[3] ? Number(m[3]) : undefined;
    if (mo < 1 || !isValidYmd(y ?? 2000, mo, d)) continue;
    out.push({ start: m.index, end: m.index + m[0].length, type: 'DATE', date: { y, m: mo, d, format: (yy, mm, dd) => `${MONTH_NAMES[mm - 1]} ${dd}${y === undefined ? '' : `, ${yy}`}` } });
  }
  for (const m of matches(RE_DATE_EN_DMY, text)) {
    const d = Number(m[1]);
    const mo = monthIndex(m[2] ?? '');
    const y = m[3] ? Number(m[3]) : undefined;
    if (mo < 1 || !isValidYmd(y ?? 2000, mo, d)) continue;
    out.push({ start: m.index, end: m.index + m[0].length, type: 'DATE', date: { y, m: mo, d, format: (yy, mm, dd) => `${dd} ${MONTH_NAMES[mm - 1]}${y === undefined ? '' : ` ${yy}`}` } });
  }
  for (const m of matches(RE_DATE_EN_MY, text)) {
    const mo = monthIndex(m[1] ?? '');
    const y = Number(m[2]);
    if (mo < 1) continue;
    out.push({ start: m.index, end: m.index + m[0].length, type: 'DATE', date: { y, m: mo, format: (yy, mm) => `${MONTH_NAMES[mm - 1]} ${yy}` } });
  }
}

function detectAges(text: string, out: Candidate[]): void {
  for (const m of matches(RE_AGE, text)) {
    const v = Number(m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5] ?? m[6]);
    if (v >= 90 && v < 130) out.push({ start: m.index, end: m.index + m[0].length, type: 'AGE' });
  }
}

/** Variants of a known name: the name itself, surname + title, given name alone (2+ chars). */
function nameVariants(name: string): string[] {
  const n = name.replace(/\^/g, '').trim();
  if (!n) return [];
  const out = new Set<string>([n]);
  if (HAS_CJK.test(n) && !/\s/.test(n)) {
    const surname = CHINESE_SURNAMES.find((s) => s.length === 2 && n.startsWith(s)) ?? n.charAt(0);
    const given = n.slice(surname.length);
    for (const t of ['女士', '先生', '阿姨', '老师', '大夫', '医生', '护士', '奶奶', '爷爷']) out.add(`${surname}${t}`);
    if (given.length >= 2) out.add(given);
  } else if (/\s/.test(n)) {
    const parts = n.split(/\s+/);
    out.add(parts.slice().reverse().join(' '));
  }
  return [...out];
}

function detectNames(text: string, knownNames: readonly string[], out: Candidate[]): void {
  for (const name of knownNames) {
    for (const v of nameVariants(name)) {
      const cjk = HAS_CJK.test(v);
      const re = new RegExp(cjk ? esc(v) : `\\b${esc(v)}\\b`, cjk ? 'g' : 'gi');
      for (const m of matches(re, text)) {
        // For "张女士" variants report only the surname part (titles are not PHI).
        const title = cjk ? ['女士', '先生', '阿姨', '老师', '大夫', '医生', '护士', '奶奶', '爷爷'].find((t) => v.endsWith(t) && v !== name) : undefined;
        out.push({ start: m.index, end: m.index + m[0].length - (title?.length ?? 0), type: 'NAME', strong: true });
      }
    }
  }
  for (const m of matches(RE_NAME_PRE, text)) {
    const surname = m[1] ?? '';
    let given = m[2] ?? '';
    if (GIVEN_STOP.has(given.charAt(0))) continue;
    if (given.length === 2 && GIVEN_STOP.has(given.charAt(1))) given = given.charAt(0);
    if (NOT_NAMES.has(surname + given) || NOT_NAMES.has(surname + given.charAt(0))) continue;
    const start = m.index + m[0].length - (m[1] ?? '').length - (m[2] ?? '').length;
    out.push({ start, end: start + surname.length + given.length, type: 'NAME' });
  }
  for (const m of matches(RE_NAME_POST, text)) {
    const surname = m[1] ?? '';
    const given = m[2] ?? '';
    if ([...given].some((c) => GIVEN_STOP.has(c))) continue;
    const prev = text.slice(Math.max(0, m.index - 2), m.index);
    if (PREV_NOT_NAME.has(prev.slice(-1) + surname) || PREV_NOT_NAME.has(prev + surname) || PREV_NOT_NAME.has(prev.slice(-1))) continue;
    if (NOT_NAMES.has(surname + given) || (given && NOT_NAMES.has(surname + given.charAt(0)))) continue;
    // A surname character glued to a preceding Chinese word is usually part of that word.
    if (given === '' && /[\u4e00-\u9fa5]/.test(prev.slice(-1)) && !/[向由请经和与及给被让对问找叫是的]/.test(prev.slice(-1))) continue;
    out.push({ start: m.index, end: m.index + surname.length + given.length, type: 'NAME' });
  }
  for (const re of [EN_TITLES, EN_CUES, EN_DEGREE]) {
    for (const m of matches(re, text)) {
      const s = groupSpan(m, 1);
      if (!s) continue;
      const words = (m[1] ?? '').split(/[\s-]+/);
      if (EN_STOP.has(words[0] ?? '')) continue;
      // Trim trailing stop words ("Dr. Chen The ...").
      let value = m[1] ?? '';
      while (words.length > 1 && EN_STOP.has(words[words.length - 1] ?? '')) {
        const last = words.pop() ?? '';
        value = value.slice(0, value.length - last.length).replace(/[\s-]+$/, '');
      }
      out.push({ start: s.start, end: s.start + value.length, type: 'NAME' });
    }
  }
  for (const m of matches(RE_PINYIN, text)) {
    const words = m[0].split(/\s/);
    if (EN_STOP.has(words[1] ?? '')) continue;
    out.push({ start: m.index, end: m.index + m[0].length, type: 'NAME' });
  }
}

function trimLeft(text: string, start: number, end: number): number {
  // Walk back from the road keyword to the last stop character: "家住人民路12号" → "人民路12号".
  let s = start;
  for (let i = end - 1; i >= start; i--) {
    if (ADDR_LEFT_STOP.test(text.charAt(i))) {
      s = i + 1;
      break;
    }
  }
  return s;
}

function detectAddresses(text: string, out: Candidate[]): void {
  for (const m of matches(RE_ADDR_ADMIN, text)) {
    const v = m[0];
    // City- or province-level alone is kept (same granularity as structured address generalization).
    const sub = v.replace(new RegExp(`^${PROV}`), '').replace(new RegExp(`^${CITY}`), '');
    if (sub.length === 0) continue;
    out.push({ start: m.index, end: m.index + v.length, type: 'ADDRESS' });
  }
  for (const re of [RE_ADDR_ROAD, RE_ADDR_COMMUNITY]) {
    for (const m of matches(re, text)) {
      const head = m[1] ?? '';
      const start = trimLeft(text, m.index, m.index + head.length);
      if (start >= m.index + head.length) continue;
      out.push({ start, end: m.index + m[0].length, type: 'ADDRESS' });
    }
  }
  for (const m of matches(RE_ADDR_CUE, text)) {
    const s = groupSpan(m, 1);
    if (s) out.push({ ...s, type: 'ADDRESS', strong: true });
  }
  for (const re of [RE_ADDR_EN, RE_ADDR_EN_DISTRICT]) for (const m of matches(re, text)) out.push({ start: m.index, end: m.index + m[0].length, type: 'ADDRESS' });
}

function detectKnownIdentifiers(text: string, known: readonly string[], out: Candidate[]): void {
  for (const id of known) {
    if (!id || id.length < 4) continue;
    const re = new RegExp(`(?<![0-9A-Za-z])${esc(id)}(?![0-9A-Za-z])`, 'gi');
    for (const m of matches(re, text)) {
      const type: PhiType = isResidentId(m[0]) ? 'RESIDENT_ID' : /^1[3-9]\d{9}$/.test(m[0]) ? 'PHONE' : m[0].includes('@') ? 'EMAIL' : 'RECORD_NUMBER';
      out.push({ start: m.index, end: m.index + m[0].length, type, strong: true });
    }
  }
}

/** Picks non-overlapping spans: longest first, then strong (vault/cue) detections, then type priority. */
function resolve(cands: Candidate[]): Candidate[] {
  const sorted = [...cands].sort(
    (a, b) => b.end - b.start - (a.end - a.start) || Number(b.strong ?? false) - Number(a.strong ?? false) || PRIORITY[b.type] - PRIORITY[a.type] || a.start - b.start,
  );
  const kept: Candidate[] = [];
  for (const c of sorted) {
    if (c.end <= c.start) continue;
    if (kept.some((k) => c.start < k.end && k.start < c.end)) continue;
    kept.push(c);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/**
 * Finds PHI spans in Chinese or English clinical free text, without replacing anything.
 *
 * @example
 * findPhi('患者张云，电话13912345678', { knownNames: ['张云'] })
 * // [{ start: 2, end: 4, type: 'NAME' }, { start: 7, end: 18, type: 'PHONE' }]
 */
export function findPhi(text: string, opts: Omit<ScrubOptions, 'policy' | 'dateShiftDays'> = {}): PhiSpan[] {
  return resolve(collect(text, opts)).map(({ start, end, type }) => ({ start, end, type }));
}

function collect(text: string, opts: Omit<ScrubOptions, 'policy' | 'dateShiftDays'>): Candidate[] {
  const cands: Candidate[] = [];
  detectKnownIdentifiers(text, opts.knownIdentifiers ?? [], cands);
  detectIdentifiers(text, cands);
  detectDates(text, cands);
  detectAges(text, cands);
  detectAddresses(text, cands);
  detectNames(text, opts.knownNames ?? [], cands);
  return cands;
}

/**
 * Scrubs PHI from free text (R-DEID-4): names (vault-known and pattern-based), resident IDs
 * (GB 11643), phones, e-mails, addresses, dates, ages over 89, record numbers, URLs and IPs.
 * Each span is replaced by a placeholder in the text's language (`[姓名]` / `[NAME]`); dates are
 * shifted by the patient's offset when the policy says `shift` and an offset is given, so the
 * text stays consistent with the shifted structured dates.
 *
 * @returns the new text and the spans found, as offsets into the input text.
 * @example
 * scrubText('患者张云，32岁，电话13912345678', { knownNames: ['张云'] }).text
 * // '患者[姓名]，32岁，电话[电话]'
 */
export function scrubText(text: string, opts: ScrubOptions = {}): ScrubResult {
  if (!text) return { text, spans: [] };
  const spans = resolve(collect(text, opts));
  const zh = HAS_CJK.test(text);
  const dateMode = opts.policy?.text.dates ?? 'shift';
  let outText = '';
  let last = 0;
  for (const s of spans) {
    outText += text.slice(last, s.start);
    const original = text.slice(s.start, s.end);
    let replacement = zh ? LABELS[s.type].zh : LABELS[s.type].en;
    if (s.type === 'DATE') {
      if (dateMode === 'keep') replacement = original;
      else if (dateMode === 'shift' && opts.dateShiftDays !== undefined && s.date) replacement = shiftDateParts(s.date, opts.dateShiftDays);
    }
    outText += replacement;
    last = s.end;
  }
  outText += text.slice(last);
  return { text: outText, spans: spans.map(({ start, end, type }) => ({ start, end, type })) };
}

function shiftDateParts(d: DateParts, days: number): string {
  // Dates without a year use a non-leap reference year; year-month dates move with mid-month.
  const r = addDaysYmd(d.y ?? 2001, d.m, d.d ?? 15, days);
  return d.format(r.y, r.m, r.d);
}
