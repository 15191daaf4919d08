/**
 * Builds `clinical-phi.jsonl`, the labelled free-text corpus of the scrubber tests (R-DEID-4).
 *
 * Sentences are hand-written clinical templates (Chinese and English); slots are filled with
 * synthetic identities from the demo generator, and every slot and every `[[TYPE:literal]]` marker
 * becomes a gold span, so annotations never depend on the detector under test.
 *
 * Run: `npx tsx test/unit/deid/corpus/build-corpus.ts` (deterministic; the JSONL is committed).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDemoCohort } from '../../../../infra/local/demo/generate-demo-cohort';
import { chineseName, mobilePhone } from '../../../../infra/local/demo/identity';
import { DemoRandom } from '../../../../infra/local/demo/prng';
import type { PhiType } from '../../../../functions/core/deid/text-scrubber';

type Slots = Record<string, [string, PhiType]>;

const ZH = [
  // Admission / history
  '患者{name}，女，{age}岁，因"发现右乳肿物2月"于{date_zh}入院。',
  '姓名：{name}  性别：女  出生日期：{birth_iso}  病案号：{mrn}',
  '身份证号：{id}  联系电话：{phone}',
  '住址：{addr}',
  '患者{name}自述3月前洗澡时无意中发现左乳肿物，约蚕豆大小，无疼痛。',
  '紧急联系人：{contact}（配偶），手机{phone2}。',
  '家属{contact}代诉患者近一周食欲差，夜间睡眠欠佳。',
  '患者现住{addr}，独居，由女儿照顾。',
  '{name}女士今日来院复查，诉乏力较前好转。',
  '住院号：{mrn}，医保卡号：{ins}。',
  '患者本人电话{phone_spaced}，家属电话{phone2}，均已核实。',
  '患者邮箱{email}，已同意接收随访问卷。',
  '主治医师[[NAME:{doc}]]查房后指示：继续当前方案，监测血常规。',
  '责任护士[[NAME:{nurse}]]于{date_iso} 14:30完成PICC维护。',
  '由[[NAME:{doc_sur}]]医生行超声引导下空芯针穿刺活检，过程顺利。',
  '向患者{name}及其家属交代病情及治疗风险，家属表示理解并签字。',
  '{date_zh}行第2周期帕博利珠单抗+紫杉醇/卡铂治疗，输注过程顺利。',
  '报告时间：{date_iso_time}',
  '患者于{date_md}出现Ⅱ度骨髓抑制，予升白治疗后好转。',
  '放疗计划于{date_slash}开始，总剂量50Gy/25次。',
  '患者母亲{contact}，[[AGE:{age_old}岁]]，既往体健。',
  '外院病理号：[[RECORD_NUMBER:{path_no}]]，会诊意见同意原诊断。',
  '影像号[[RECORD_NUMBER:{img_no}]]，乳腺MRI示右乳外上象限不规则肿块。',
  '患者户籍地址：{addr}，现居杭州。',
  '随访电话：[[PHONE:{landline}]]（家中座机）。',
  '复诊预约已通过短信发送至{phone}。',
  '患者{name}，身份证{id}，办理入院手续。',
  '家住[[ADDRESS:{road_addr}]]，距医院约30分钟车程。',
  '患者配偶{contact}陪同就诊，电话{phone2}。',
  '签名：[[NAME:{doc}]]    日期：{date_iso}',
  '病人{name}情绪稳定，对治疗有信心。',
  '{date_zh}术后第1天，切口敷料干燥，引流通畅。',
  '患者，[[AGE:{age_old}岁]]，因乳腺癌术后复查入院。',
  '门诊号[[RECORD_NUMBER:{opd_no}]]，已预约下周二复查。',
  '检查报告已上传至 [[URL:https://pacs.example-hospital.cn/viewer?study={img_no}]] 供会诊。',
  '工作站IP [[IP:10.12.{ip3}.{ip4}]] 上传影像失败，已重试。',
  '患者{name}的电子邮箱为{email}，手机号为{phone}。',
  '护士[[NAME:{nurse}]]为患者进行放疗皮肤护理宣教。',
  '记录人：[[NAME:{nurse}]]',
  '患者女儿{contact}表示会按时陪同复诊。',
  // Negatives: clinical values that look like PHI but are not
  '血常规：WBC 3.2×10^9/L，NEUT 1.6×10^9/L，HGB 112 g/L，PLT 135×10^9/L。',
  'HBV-DNA 13812345678 copies/mL，建议感染科会诊。',
  '肿物大小约42mm×35mm，BI-RADS 5类，cT2N1M0，IIB期。',
  'ER 90%，PR 60%，HER2 2+，FISH未扩增，Ki-67 30%。',
  '第3周期化疗后第7天复查血常规，白细胞计数降至2.1×10^9/L。',
  '放疗剂量50Gy/25次，每次2Gy，每周5次。',
  '帕博利珠单抗200mg静脉滴注，每3周1次，共8周期。',
  '患者4月前自检发现左乳肿物，约3cm，无乳头溢液。',
  '示范第一医院乳腺外科一病区收治，入院后完善相关检查。',
  'CA15-3 42.6 U/mL，较前升高，建议密切随访。',
  '夜班护士巡视病房，患者安静入睡，无特殊不适。',
  '主任医师查房：同意目前诊断，继续新辅助治疗。',
  '患者于今日行第4周期化疗，化疗前查血常规正常。',
  '术后病理：ypT1cN0，RCB-I，未达pCR。',
  '心电图示窦性心律，心率76次/分，QTc 428ms。',
  '上海市和杭州市的两家医院联合开展本研究。',
  '2024年共收治乳腺癌新辅助治疗患者128例。',
  'TSH 8.52 mIU/L，FT4 正常，考虑免疫相关甲状腺功能减退。',
  '左乳V20 12%，心脏Dmean 3.2Gy，均满足剂量限值。',
  '患者年龄45岁，绝经前，ECOG 0分。',
  // Harder cases, written after the detectors (not tuned for): no cue, nicknames, relative dates.
  '今天{name}按时来放疗，皮肤无明显红斑。',
  '隔壁床的[[NAME:{doc_sur}]]阿姨帮忙照看。',
  '患者89岁高龄，家属要求保守治疗。',
  '1月前开始出现咳嗽，3天前加重。',
  '请于下周一上午8:00空腹抽血。',
  '患者来自[[ADDRESS:浙江省宁波市海曙区]]，医保异地结算。',
  '病区电话[[PHONE:0571-8765{ip3}]]转护士站。',
];

const EN = [
  'Patient {pname}, a {age}-year-old woman, was admitted on {date_en} for a right breast mass.',
  'Name: {pname}   DOB: {birth_us}   MRN: {mrn}',
  'Resident ID {id}; mobile {phone}.',
  'Home address: [[ADDRESS:{en_addr}]].',
  'Mrs. {psur} reports improved appetite since the second cycle.',
  'Seen by Dr. [[NAME:{en_doc}]] on {date_en2}; plan unchanged.',
  'Her husband, [[NAME:{en_contact}]], can be reached at {phone2}.',
  'The patient lives at [[ADDRESS:{en_addr2}]] with her daughter.',
  'Contact e-mail: {email}.',
  'Medical record number {mrn}, insurance number {ins}.',
  'Dictated by [[NAME:{en_doc_full}]], MD, on {date_us}.',
  'Pathology No. [[RECORD_NUMBER:{path_no}]] was reviewed at the tumour board on {date_en}.',
  'Images are available at [[URL:https://pacs.example-hospital.org/study/{img_no}]] for review.',
  'Upload from workstation [[IP:192.168.{ip3}.{ip4}]] failed and was retried.',
  'Ms. {psur} is a [[AGE:{age_old}-year-old]] woman with a history of hypertension.',
  'Follow-up call to {phone} on {date_en2}: no new complaints.',
  'Next of kin: [[NAME:{en_contact}]] (spouse), phone [[PHONE:{intl_phone}]].',
  'Signed by Nurse [[NAME:{en_nurse}]] at 14:30 after PICC care.',
  '{pname} tolerated pembrolizumab and paclitaxel without infusion reaction.',
  'Accession number [[RECORD_NUMBER:{acc_no}]]; MRI of both breasts with contrast.',
  'Surgery was performed on {date_en} by Dr. [[NAME:{en_doc}]] without complication.',
  'She was referred by [[NAME:{en_doc_full}]] from the Demo Cancer Hospital.',
  'Last menstrual period [[DATE:March 2024]]; postmenopausal since then.',
  'The patient, aged [[AGE:{age_old}]], declined further chemotherapy.',
  'Office phone [[PHONE:{landline}]], ext. 2301.',
  'Telephone consent obtained from {pname} on {date_us}.',
  'Report e-mailed to {email} and to the referring clinic.',
  'Patient ID {mrn} was merged with a duplicate record.',
  'Ms. {psur} lives in [[ADDRESS:{en_district}]] and commutes by metro.',
  'Radiotherapy started on {date_en2} and ended five weeks later.',
  // Negatives
  'WBC 3.2 x10^9/L, ANC 1.6 x10^9/L, hemoglobin 112 g/L, platelets 135 x10^9/L.',
  'Tumour measured 42 x 35 mm on MRI, BI-RADS 5, cT2N1M0, stage IIB.',
  'ER 90%, PR 60%, HER2 2+, FISH not amplified, Ki-67 30%.',
  'Pembrolizumab 200 mg IV every 3 weeks for 8 cycles.',
  'Whole-breast radiotherapy 50 Gy in 25 fractions, 2 Gy per fraction.',
  'HBV DNA 13812345678 copies/mL; hepatology consulted.',
  'Blood pressure 128/76 mmHg, heart rate 76/min, SpO2 98%.',
  'The study enrolled 128 patients in 2024 across two hospitals.',
  'Breast cancer stage II, neoadjuvant therapy, post-operative pathology ypT1cN0.',
  'The patient denies fever, chills, or night sweats.',
  'Mean heart dose 3.2 Gy, lung V20 12%, all constraints met.',
  'Patient is a 45-year-old premenopausal woman, ECOG 0.',
  'Tumour board recommended surgery after cycle 8.',
  'TSH 8.52 mIU/L with normal FT4, consistent with immune-related hypothyroidism.',
  'Follow-up every 3 months for 2 years, then every 6 months.',
  // Harder cases, written after the detectors (not tuned for).
  '{pname} came back today; her daughter drove her.',
  'Discussed with the family of [[NAME:{en_doc_full}]] by telephone.',
  'Chemotherapy day 1 was 3/21 and day 8 was 3/28.',
  'An 89-year-old woman with no known allergies.',
  'Call the ward on [[PHONE:021 6417 5590]] if fever develops.',
];

const PINYIN = ['Zhang Yun', 'Wang Xiuying', 'Li Juan', 'Chen Mei', 'Liu Fang', 'Zhao Lili', 'Huang Min', 'Zhou Jing', 'Wu Xia', 'Xu Ting', 'Sun Li', 'Zhu Hong'];
const EN_DOCTORS = ['Chen', 'Li', 'Wang', 'Miller', 'Zhou', 'Carter', 'Sun'];
const EN_DOCTORS_FULL = ['Li Jianhua', 'Emily Carter', 'Chen Zhiming', 'Robert Miller', 'Zhou Min', 'Sun Haitao'];
const EN_NURSES = ['Sarah Jones', 'Wu Yan', 'Liu Ting', 'Anna Lee'];
const EN_ADDR = [
  'Room 1405, Building 21, 235 Heping Road, Minhang District, Shanghai',
  '188 Wensan Road, Xihu District, Hangzhou 310013',
  'No. 12 Jiefang Road, Gongshu District, Hangzhou',
  '46 Zhongshan Road, Gulou District, Nanjing',
];
const EN_DISTRICTS = ['Minhang District, Shanghai', 'Xihu District, Hangzhou', 'Pudong New Area, Shanghai', 'Binjiang District, Hangzhou'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTHS_LONG = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const here = dirname(fileURLToPath(import.meta.url));

function slots(rng: DemoRandom, i: number): Slots {
  const cohort = cohortCache();
  const p = cohort.patients[i % cohort.patients.length]!;
  const id = p.identity;
  const doc = chineseName(rng, rng.chance(0.5) ? 'male' : 'female');
  const nurse = chineseName(rng, 'female');
  const y = rng.int(2023, 2025);
  const m = rng.int(1, 12);
  const d = rng.int(1, 28);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const phone = id.mobilePhone;
  const pinyin = PINYIN[i % PINYIN.length]!;
  const roads = ['人民路', '解放路', '文三路', '中山路', '延安路', '天目山路'];
  const communities = ['阳光花园', '翠湖小区', '金桥新村', '锦绣苑'];
  const road = `${rng.pick(roads)}${rng.int(1, 999)}号${rng.pick(communities)}${rng.int(1, 30)}号楼${rng.int(1, 6)}单元${rng.int(1, 28)}0${rng.int(1, 6)}室`;
  const area = rng.pick(['021', '0571', '025', '010']);
  return {
    name: [id.fullName, 'NAME'],
    pname: [pinyin, 'NAME'],
    psur: [pinyin.split(' ')[0]!, 'NAME'],
    contact: [id.emergencyContact.name, 'NAME'],
    en_contact: [PINYIN[(i + 5) % PINYIN.length]!, 'NAME'],
    id: [id.residentId, 'RESIDENT_ID'],
    phone: [phone, 'PHONE'],
    phone_spaced: [`${phone.slice(0, 3)} ${phone.slice(3, 7)} ${phone.slice(7)}`, 'PHONE'],
    phone2: [id.emergencyContact.mobilePhone, 'PHONE'],
    intl_phone: [`+86 ${mobilePhone(rng).replace(/^(\d{3})(\d{4})(\d{4})$/, '$1-$2-$3')}`, 'PHONE'],
    landline: [area === '021' || area === '010' ? `${area}-${rng.digits(8)}` : `(${area}) ${rng.digits(8)}`, 'PHONE'],
    email: [id.email ?? `mei${rng.digits(6)}@example.com`, 'EMAIL'],
    addr: [id.address.text, 'ADDRESS'],
    road_addr: [road, 'ADDRESS'],
    en_addr: [EN_ADDR[i % EN_ADDR.length]!, 'ADDRESS'],
    en_addr2: [EN_ADDR[(i + 1) % EN_ADDR.length]!, 'ADDRESS'],
    en_district: [EN_DISTRICTS[i % EN_DISTRICTS.length]!, 'ADDRESS'],
    mrn: [id.mrn, 'RECORD_NUMBER'],
    ins: [id.insuranceNumber, 'RECORD_NUMBER'],
    date_zh: [`${y}年${m}月${d}日`, 'DATE'],
    date_iso: [`${y}-${p2(m)}-${p2(d)}`, 'DATE'],
    date_iso_time: [`${y}-${p2(m)}-${p2(d)} ${p2(rng.int(8, 17))}:${p2(rng.int(0, 59))}`, 'DATE'],
    date_slash: [`${y}/${p2(m)}/${p2(d)}`, 'DATE'],
    date_md: [`${m}月${d}日`, 'DATE'],
    date_en: [`${MONTHS[m - 1]} ${d}, ${y}`, 'DATE'],
    date_en2: [`${d} ${MONTHS_LONG[m - 1]} ${y}`, 'DATE'],
    date_us: [`${p2(m)}/${p2(d)}/${y}`, 'DATE'],
    birth_iso: [id.birthDate, 'DATE'],
    birth_us: [`${id.birthDate.slice(5, 7)}/${id.birthDate.slice(8, 10)}/${id.birthDate.slice(0, 4)}`, 'DATE'],
    // Literal-only values (used inside [[TYPE:...]] markers; the type comes from the marker).
    age: [String(p.clinical.ageAtDiagnosis), 'AGE'],
    age_old: [String(rng.int(90, 99)), 'AGE'],
    doc: [`${doc.familyName}${doc.givenName}`, 'NAME'],
    doc_sur: [doc.familyName, 'NAME'],
    nurse: [`${nurse.familyName}${nurse.givenName}`, 'NAME'],
    en_doc: [EN_DOCTORS[i % EN_DOCTORS.length]!, 'NAME'],
    en_doc_full: [EN_DOCTORS_FULL[i % EN_DOCTORS_FULL.length]!, 'NAME'],
    en_nurse: [EN_NURSES[i % EN_NURSES.length]!, 'NAME'],
    path_no: [`P${y}-${rng.digits(5)}`, 'RECORD_NUMBER'],
    img_no: [`MR${y}${rng.digits(6)}`, 'RECORD_NUMBER'],
    opd_no: [`MZ${rng.digits(8)}`, 'RECORD_NUMBER'],
    acc_no: [`10A${y}${rng.digits(7)}`, 'RECORD_NUMBER'],
    ip3: [String(rng.int(1, 254)), 'IP'],
    ip4: [String(rng.int(1, 254)), 'IP'],
  };
}

/** Slots that are annotated when used bare (others only inside a `[[TYPE:...]]` marker). */
const BARE_ANNOTATED = new Set(['name', 'pname', 'psur', 'contact', 'id', 'phone', 'phone_spaced', 'phone2', 'email', 'addr', 'mrn', 'ins', 'date_zh', 'date_iso', 'date_iso_time', 'date_slash', 'date_md', 'date_en', 'date_en2', 'date_us', 'birth_iso', 'birth_us']);

let cohortMemo: ReturnType<typeof generateDemoCohort> | undefined;
function cohortCache(): ReturnType<typeof generateDemoCohort> {
  cohortMemo ??= generateDemoCohort({ patients: 12 });
  return cohortMemo;
}

interface Example {
  text: string;
  spans: { start: number; end: number; type: PhiType }[];
  lang: 'zh' | 'en';
  /** Names the identity vault knows for this record (patient, emergency contact); clinicians are not in it. */
  knownNames: string[];
}

/** Renders one template with gold spans. */
export function render(template: string, s: Slots, lang: 'zh' | 'en'): Example {
  let text = '';
  const spans: Example['spans'] = [];
  const fill = (t: string): string => t.replace(/\{(\w+)\}/g, (_m, k: string) => s[k]?.[0] ?? `{${k}}`);
  const re = /\[\[([A-Z_]+):(.*?)\]\]|\{(\w+)\}/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(template)) !== null) {
    text += template.slice(last, m.index);
    if (m[1]) {
      const value = fill(m[2] ?? '');
      spans.push({ start: text.length, end: text.length + value.length, type: m[1] as PhiType });
      text += value;
    } else {
      const key = m[3] ?? '';
      const slot = s[key];
      if (!slot) throw new Error(`unknown slot ${key}`);
      if (BARE_ANNOTATED.has(key)) spans.push({ start: text.length, end: text.length + slot[0].length, type: slot[1] });
      text += slot[0];
    }
    last = m.index + m[0].length;
  }
  text += template.slice(last);
  return { text, spans, lang, knownNames: [s.name?.[0], s.contact?.[0], s.pname?.[0], s.en_contact?.[0]].filter((n): n is string => !!n) };
}

function build(): Example[] {
  const rng = new DemoRandom(20261124, 'deid-corpus');
  const out: Example[] = [];
  for (let round = 0; round < 2; round++) {
    ZH.forEach((t, i) => out.push(render(t, slots(rng, i + round * 61), 'zh')));
    EN.forEach((t, i) => out.push(render(t, slots(rng, i + round * 47), 'en')));
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = build();
  writeFileSync(join(here, 'clinical-phi.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  console.log(`wrote ${rows.length} examples`);
}
