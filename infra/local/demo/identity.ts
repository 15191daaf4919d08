import type { DemoAddress, DemoContact, DemoIdentity, DemoInstitution, LocalizedText } from './demo-model';
import type { DemoRandom } from './prng';

/** GB 11643-1999 weights of the first 17 digits. */
const RESIDENT_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const RESIDENT_ID_CHECK = '10X98765432';

/**
 * GB 11643 check character for the first 17 digits of a resident ID.
 * @param first17 - 6-digit division code + YYYYMMDD + 3-digit sequence.
 */
export function residentIdCheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new Error('resident id body must be 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17.charAt(i)) * (RESIDENT_ID_WEIGHTS[i] ?? 0);
  return RESIDENT_ID_CHECK.charAt(sum % 11);
}

/**
 * Builds a valid 18-digit resident ID: sequence digit 17 is odd for men and even for women.
 * @param divisionCode - real 6-digit administrative division code.
 * @param birthDate - YYYY-MM-DD.
 */
export function buildResidentId(rng: DemoRandom, divisionCode: string, birthDate: string, sex: 'female' | 'male'): string {
  const seqHead = rng.digits(2);
  const sexDigit = sex === 'male' ? rng.pick([1, 3, 5, 7, 9]) : rng.pick([0, 2, 4, 6, 8]);
  const body = `${divisionCode}${birthDate.replaceAll('-', '')}${seqHead}${sexDigit}`;
  return body + residentIdCheckChar(body);
}

/** Real district-level divisions (GB/T 2260 codes) with postal-code prefixes; all verified against `idcard`. */
export const DIVISIONS: readonly {
  code: string;
  province: string;
  city: string;
  district: string;
  postal: string;
  /** Hospital this division is near (patients mostly come from nearby). */
  near: 1 | 2 | 0;
}[] = [
  { code: '310104', province: '上海市', city: '上海市', district: '徐汇区', postal: '200030', near: 1 },
  { code: '310105', province: '上海市', city: '上海市', district: '长宁区', postal: '200050', near: 1 },
  { code: '310106', province: '上海市', city: '上海市', district: '静安区', postal: '200040', near: 1 },
  { code: '310107', province: '上海市', city: '上海市', district: '普陀区', postal: '200333', near: 1 },
  { code: '310110', province: '上海市', city: '上海市', district: '杨浦区', postal: '200082', near: 1 },
  { code: '310112', province: '上海市', city: '上海市', district: '闵行区', postal: '201100', near: 1 },
  { code: '310113', province: '上海市', city: '上海市', district: '宝山区', postal: '201900', near: 1 },
  { code: '310115', province: '上海市', city: '上海市', district: '浦东新区', postal: '200120', near: 1 },
  { code: '320505', province: '江苏省', city: '苏州市', district: '虎丘区', postal: '215011', near: 1 },
  { code: '320506', province: '江苏省', city: '苏州市', district: '吴中区', postal: '215128', near: 1 },
  { code: '330102', province: '浙江省', city: '杭州市', district: '上城区', postal: '310002', near: 2 },
  { code: '330105', province: '浙江省', city: '杭州市', district: '拱墅区', postal: '310011', near: 2 },
  { code: '330106', province: '浙江省', city: '杭州市', district: '西湖区', postal: '310013', near: 2 },
  { code: '330108', province: '浙江省', city: '杭州市', district: '滨江区', postal: '310051', near: 2 },
  { code: '330203', province: '浙江省', city: '宁波市', district: '海曙区', postal: '315000', near: 2 },
  { code: '320102', province: '江苏省', city: '南京市', district: '玄武区', postal: '210018', near: 0 },
  { code: '320106', province: '江苏省', city: '南京市', district: '鼓楼区', postal: '210009', near: 0 },
  { code: '340104', province: '安徽省', city: '合肥市', district: '蜀山区', postal: '230031', near: 0 },
  { code: '110105', province: '北京市', city: '北京市', district: '朝阳区', postal: '100020', near: 0 },
  { code: '110108', province: '北京市', city: '北京市', district: '海淀区', postal: '100080', near: 0 },
  { code: '420106', province: '湖北省', city: '武汉市', district: '武昌区', postal: '430061', near: 0 },
  { code: '440106', province: '广东省', city: '广州市', district: '天河区', postal: '510620', near: 0 },
  { code: '510104', province: '四川省', city: '成都市', district: '锦江区', postal: '610021', near: 0 },
];

/** Common surnames, roughly by frequency (weights). */
const SURNAMES: readonly (readonly [string, number])[] = [
  ['王', 72], ['李', 70], ['张', 68], ['刘', 53], ['陈', 45], ['杨', 31], ['黄', 23], ['赵', 20],
  ['吴', 20], ['周', 19], ['徐', 15], ['孙', 15], ['马', 12], ['朱', 12], ['胡', 11], ['郭', 11],
  ['何', 10], ['林', 10], ['高', 10], ['罗', 9], ['郑', 9], ['梁', 8], ['谢', 7], ['宋', 7], ['唐', 7],
  ['许', 6], ['韩', 6], ['冯', 6], ['邓', 6], ['曹', 6], ['彭', 5], ['曾', 5], ['肖', 5], ['田', 5],
  ['董', 5], ['潘', 4], ['袁', 4], ['蔡', 4], ['蒋', 4], ['余', 4], ['于', 4], ['杜', 4], ['叶', 4],
  ['程', 3], ['魏', 3], ['苏', 3], ['吕', 3], ['丁', 3], ['任', 3], ['沈', 3], ['姚', 3], ['卢', 3],
  ['钱', 2], ['陆', 2], ['顾', 2], ['金', 2], ['戴', 2], ['方', 2], ['欧阳', 1], ['司马', 0.3],
];

const FEMALE_GIVEN = [
  '秀英', '桂英', '秀兰', '玉兰', '桂兰', '秀珍', '凤英', '玉梅', '丽华', '美玲', '淑芬', '红梅',
  '丽', '静', '敏', '燕', '艳', '娟', '霞', '芳', '洁', '琳', '婷', '雪', '颖', '倩', '萍', '慧',
  '晓燕', '海燕', '丽娟', '春梅', '雪梅', '丽萍', '晓红', '建华', '玉珍', '文静', '晓丽', '佳慧',
  '雅琴', '慧敏', '欣怡', '思琪', '梦瑶', '雨婷', '佳怡', '婉清', '若曦', '诗涵', '晶晶', '丹丹',
  '莉莉', '露', '蕾', '薇', '莹', '琴', '凤', '兰', '梅', '云', '月华', '素琴', '爱华', '金凤',
];

const MALE_GIVEN = ['伟', '强', '磊', '军', '勇', '杰', '涛', '斌', '建国', '志强', '国华', '建军', '海波', '文斌'];

const ROADS = ['人民路', '解放路', '中山路', '建设路', '和平路', '文化路', '新华路', '长江路', '延安路', '复兴路',
  '光明路', '学院路', '青年路', '胜利路', '园林路', '湖滨路', '滨江大道', '东方路', '枫林路', '天目山路'];
const COMMUNITIES = ['阳光花园', '锦绣苑', '翠湖小区', '金桥新村', '和平里', '东方名苑', '绿城小区', '景园',
  '春晖苑', '梅林新村', '银杏公寓', '御景湾'];

const ETHNICITIES: readonly (readonly [string, number])[] = [['汉族', 92], ['回族', 2], ['满族', 2], ['壮族', 1], ['土家族', 1], ['蒙古族', 1]];

const MOBILE_PREFIXES = ['130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151', '152', '153',
  '155', '156', '157', '158', '159', '177', '180', '181', '182', '183', '186', '187', '188', '189', '199'];

/** Random mainland mobile number (passes `validator.isMobilePhone(s, 'zh-CN')`). */
export function mobilePhone(rng: DemoRandom): string {
  return rng.pick(MOBILE_PREFIXES) + rng.digits(8);
}

/** Random Chinese name of the given sex. */
export function chineseName(rng: DemoRandom, sex: 'female' | 'male'): { familyName: string; givenName: string } {
  return { familyName: rng.weighted(SURNAMES), givenName: rng.pick(sex === 'female' ? FEMALE_GIVEN : MALE_GIVEN) };
}

function address(rng: DemoRandom, division: (typeof DIVISIONS)[number]): DemoAddress {
  const road = rng.pick(ROADS);
  const street = `${road}${rng.int(1, 1999)}号`;
  const building = rng.chance(0.5)
    ? `${rng.pick(COMMUNITIES)}${rng.int(1, 30)}号楼${rng.int(1, 6)}单元${rng.int(1, 28)}0${rng.int(1, 6)}室`
    : `${rng.int(1, 800)}弄${rng.int(1, 60)}号${rng.int(1, 6)}0${rng.int(1, 4)}室`;
  const cityPart = division.city === division.province ? division.city : `${division.province}${division.city}`;
  return {
    province: division.province,
    city: division.city,
    district: division.district,
    street,
    building,
    postalCode: division.postal,
    divisionCode: division.code,
    text: `${cityPart}${division.district}${street}${building}`,
  };
}

const INSURANCE_TYPES: readonly LocalizedText[] = [
  { zh: '城镇职工基本医疗保险', en: 'Urban employee basic medical insurance' },
  { zh: '城乡居民基本医疗保险', en: 'Urban and rural resident basic medical insurance' },
  { zh: '商业医疗保险', en: 'Commercial health insurance' },
];

const MARITAL: readonly LocalizedText[] = [
  { zh: '已婚', en: 'Married' },
  { zh: '未婚', en: 'Never married' },
  { zh: '离异', en: 'Divorced' },
  { zh: '丧偶', en: 'Widowed' },
];

/**
 * Generates the identity of one source patient record.
 * @param mrn - already allocated, unique within the institution.
 */
export function generateIdentity(
  rng: DemoRandom,
  institution: DemoInstitution,
  sex: 'female' | 'male',
  birthDate: string,
  mrn: string,
): DemoIdentity {
  const { familyName, givenName } = chineseName(rng, sex);
  const hospitalNo = institution.institutionId === 'demo-hospital-1' ? 1 : 2;
  const nearby = DIVISIONS.filter((d) => d.near === hospitalNo);
  const live = rng.chance(0.8) ? rng.pick(nearby) : rng.pick(DIVISIONS);
  // The ID's division is where the person was first registered; most still live there.
  const registered = rng.chance(0.7) ? live : rng.pick(DIVISIONS);
  const residentId = buildResidentId(rng, registered.code, birthDate, sex);
  const insuranceType = rng.weighted(INSURANCE_TYPES.map((t, i) => [t, [60, 35, 5][i] ?? 1] as const));
  const insuranceNumber = insuranceType.zh.startsWith('城镇职工')
    ? `${live.code.slice(0, 4)}${rng.digits(10)}`
    : `${live.code.slice(0, 4)}J${rng.digits(9)}`;
  const age = 2024 - Number(birthDate.slice(0, 4));
  const marital = age < 30 ? rng.weighted([[MARITAL[1]!, 6], [MARITAL[0]!, 4]]) : rng.weighted([[MARITAL[0]!, 85], [MARITAL[2]!, 8], [MARITAL[3]!, age > 60 ? 10 : 2], [MARITAL[1]!, 3]]);
  const contactSex = rng.chance(0.6) ? 'male' : 'female';
  const contactName = chineseName(rng, contactSex);
  const relationship: LocalizedText = marital.zh === '已婚' && contactSex === 'male'
    ? { zh: '配偶', en: 'Spouse' }
    : rng.pick([{ zh: '子女', en: 'Child' }, { zh: '兄弟姐妹', en: 'Sibling' }, { zh: '父母', en: 'Parent' }]);
  const emergencyContact: DemoContact = {
    name: relationship.zh === '配偶' || rng.chance(0.5) ? `${contactName.familyName}${contactName.givenName}` : `${familyName}${contactName.givenName}`,
    relationship,
    mobilePhone: mobilePhone(rng),
  };
  const identity: DemoIdentity = {
    familyName,
    givenName,
    fullName: `${familyName}${givenName}`,
    sex,
    birthDate,
    residentId,
    mobilePhone: mobilePhone(rng),
    address: address(rng, live),
    mrn,
    insuranceNumber,
    insuranceType,
    ethnicity: rng.weighted(ETHNICITIES),
    maritalStatus: marital,
    emergencyContact,
  };
  if (rng.chance(0.35)) {
    identity.email = `${rng.pick(['bc', 'lily', 'sun', 'mei', 'hz', 'sh', 'yun'])}${rng.digits(6)}@${rng.pick(['example.com', 'example.cn', 'example.net'])}`;
  }
  return identity;
}
