/**
 * Examples for the OpenAPI document (R-INT-2), derived from the JSON Schemas the route table's
 * zod schemas generate: every request body, parameter and response gets an example built from
 * its own schema, so an example can never describe a field the schema does not have. Values come
 * from the schema first (`examples`, `example`, `default`, `const`, `enum`), then from a table of
 * realistic values keyed by property name (several candidates where one name has several formats,
 * e.g. access-request and re-identification request ids; the first one the schema's `pattern`
 * accepts wins), then from the format and bounds of the schema. test/unit/http/openapi-examples
 * validates every example against its schema with ajv.
 */

type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  minItems?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  example?: unknown;
  examples?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  contentMediaType?: string;
};

const AT = '2026-03-14T09:30:00.000Z';

/** Realistic values by property (or parameter) name; the first candidate the schema accepts is used. */
const BY_NAME: Record<string, readonly unknown[]> = {
  datasetId: ['breast-cancer-cohort-2024'],
  title: ['Breast cancer multimodal cohort 2019-2024'],
  description: ['Pseudonymised pathology, imaging and follow-up data of breast cancer patients treated 2019-2024'],
  disease: ['breast-cancer'],
  institution: ['hospital-north', 'Hospital North'],
  holderInstitution: ['university-east'],
  modalities: [['pathology', 'imaging', 'clinical']],
  partnerId: ['ptn_7Hq2LmX9aB3c'],
  keyId: ['key_4f9K2mQ8xL'],
  apiKeyId: ['key_4f9K2mQ8xL'],
  apiKey: ['mdrp_live_q9X2v7Lm4Tz8Rk1Wc6Np3Hs5'],
  oauthClientId: ['3k1l9f7d2m8q4r6s0t5u'],
  clientId: ['3k1l9f7d2m8q4r6s0t5u'],
  clientSecret: ['cs_5Yb8Qe2Rt7Uw1Io4Pa9Sd3Fg6Hj0Kl'],
  tokenEndpoint: ['https://auth.mdrp.example.org/oauth2/token'],
  contactEmail: ['research-it@university-east.example.org'],
  email: ['m.lin@university-east.example.org'],
  allowedCidrs: [['203.0.113.0/24']],
  requestId: ['AR-2026-000142', 'rid_8k2m4q7x1z0p'],
  renewsGrantId: ['grt_5m8q2x7k1z9w'],
  grantId: ['grt_5m8q2x7k1z9w'],
  uploadId: ['upl_Xb7Qm2Lk9Pz4'],
  jobId: ['job_R8t2Wq6Lm4Zx', 'exp_9Lk2Qm7Xb4Tz'],
  reviewId: ['rvw_hospital-north_PT-7QK2M9XA'],
  mergeId: ['mrg-7qk2m9xa_4lp3'],
  reportId: ['rpt_2026-Q1_hospital-north'],
  endpointId: ['whk_Q2w8Er4Ty6Ui'],
  deliveryId: ['dlv_Z3x9Cv5Bn1Mq'],
  eventId: ['evt_01HV7Q2M9XAK3P', 'ev-2024-03-14-biopsy'],
  alertId: ['alr_01HV7Q2M9XAK3P'],
  digestId: ['dig_2026-03-14'],
  documentId: ['AR-2026-000142-data-use-agreement-v1'],
  patientId: ['PT-7QK2M9XA'],
  survivorPatientId: ['PT-7QK2M9XA'],
  survivorId: ['PT-7QK2M9XA'],
  mergedId: ['PT-3LM8N2QB'],
  mergedInto: ['PT-7QK2M9XA'],
  patientRef: ['HN-000123'],
  sourcePatientReference: ['HN-000123'],
  sourceSystem: ['hospital-north-his'],
  mrn: ['HN-000123'],
  patientToken: ['p_Jx7Kq2Lm9Vb4'],
  token: ['p_Jx7Kq2Lm9Vb4'],
  fileId: ['9f86d081884c7d659a2feaa0c55ad015'],
  sha256: ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
  fileName: ['data-use-agreement.pdf', 'Observation-1.ndjson'],
  file: ['policies/partner.cedar'],
  objectKey: ['staging/hospital-north/upl_Xb7Qm2Lk9Pz4/pathology.csv'],
  contentBase64: ['JVBERi0xLjcKJcfs'],
  userId: ['c3f1a2b4-5d6e-4f70-8a9b-0c1d2e3f4a5b'],
  actorId: ['c3f1a2b4-5d6e-4f70-8a9b-0c1d2e3f4a5b'],
  holderId: ['c3f1a2b4-5d6e-4f70-8a9b-0c1d2e3f4a5b'],
  applicantId: ['c3f1a2b4-5d6e-4f70-8a9b-0c1d2e3f4a5b'],
  requesterId: ['c3f1a2b4-5d6e-4f70-8a9b-0c1d2e3f4a5b'],
  authorId: ['c3f1a2b4-5d6e-4f70-8a9b-0c1d2e3f4a5b'],
  username: ['m.lin'],
  name: ['University East oncology data platform'],
  displayName: ['Dr. Mei Lin'],
  label: ['Core needle biopsy'],
  purpose: ['Train and validate a model predicting response to neoadjuvant chemotherapy'],
  justification: ['Needed to contact the patient about an incidental finding (ethics approval EC-2026-031)'],
  academicStatement: ['Retrospective study approved by the ethics committee of University East (EC-2026-031)'],
  comment: ['Approved for the stated purpose; fields limited to the study protocol'],
  summary: ['Core needle biopsy, left breast'],
  text: ['Reviewed with the tumour board'],
  content: ['Reviewed with the tumour board'],
  message: ['access request AR-2026-000142 approved'],
  correlationId: ['c0a8012e-6f1d-4b8e-9a3c-2d5e7f9a1b3c'],
  url: ['https://partner.university-east.example.org/hooks/mdrp'],
  ip: ['203.0.113.24'],
  sourceIp: ['203.0.113.24'],
  userAgent: ['university-east-sync/2.3'],
  period: ['2026-Q1'],
  version: ['2026-03-14.1', 1],
  agreementVersion: ['dua-2026-01'],
  loadedVersion: ['2026-03-14.1'],
  policyId: ['deid-standard'],
  secretHint: ['…9f2a'],
  secret: ['whsec_3Ng8Lq2Xv7Tz1Wk5'],
  resourceType: ['Observation'],
  method: ['GET'],
  operation: ['$export', 'searchFhirResources'],
  cursor: ['eyJrIjoiZXZ0XzAxSFY3UTJNOVhBSzNQIn0'],
  _cursor: ['eyJrIjoiZXZ0XzAxSFY3UTJNOVhBSzNQIn0'],
  q: ['PT-7QK'],
  _id: ['obs-4k2m9x'],
  id: ['obs-4k2m9x'],
  patient: ['Patient/p_Jx7Kq2Lm9Vb4'],
  subject: ['Patient/p_Jx7Kq2Lm9Vb4'],
  code: ['http://loinc.org|85319-2', 'VALIDATION_FAILED'],
  date: ['ge2024-01'],
  _count: ['20'],
  _include: ['Observation:patient'],
  _type: ['Patient,Observation'],
  _since: ['2026-01-01T00:00:00Z'],
  _outputFormat: ['application/fhir+ndjson'],
  diagnosis: ['Invasive ductal carcinoma'],
  molecularSubtype: ['HER2-positive'],
  ageBand: ['50-59'],
  maskedName: ['M*** L**'],
  category: ['pathology', 'data-access'],
  stage: ['IIA'],
  revokeReason: ['Study closed'],
  errorCode: ['FORBIDDEN'],
  detail: ['grant grt_5m8q2x7k1z9w expired'],
  notice: ['Data may be used for the approved purpose only'],
  en: ['Core needle biopsy'],
  zh: ['空心针穿刺活检'],
  reference: ['Observation/obs-4k2m9x'],
  recordRef: ['Observation/obs-4k2m9x'],
  kind: ['data-use-agreement'],
  actorName: ['Dr. Mei Lin'],
  applicantName: ['Dr. Mei Lin'],
  authorName: ['Dr. Mei Lin'],
  requesterName: ['Dr. Mei Lin'],
  holderName: ['Dr. Mei Lin'],
  decidedByName: ['Prof. Jonas Berg'],
  byName: ['Prof. Jonas Berg'],
  uploadedByName: ['Dr. Mei Lin'],
  action: ['submitted', 'ReadFhirData'],
  contentType: ['text/csv', 'application/pdf'],
  dataset: ['breast-cancer-cohort-2024'],
  error: ['HTTP 503 from the receiver'],
  field: ['stage'],
  issue: ['Observation.status: missing required element'],
  lock: ['forbid-unreviewed-reidentification'],
  locked: [['forbid-unreviewed-reidentification']],
  operator: ['c3f1a2b4-5d6e-4f70-8a9b-0c1d2e3f4a5b'],
  plan: ['default'],
  purposeCode: ['DUO:0000042'],
  reason: ['incidental-finding', 'same-name-and-birth-date'],
  role: ['researcher', 'ethics-reviewer'],
  roles: [['researcher']],
  sex: ['female'],
  step: ['ethics'],
  type: ['pathology'],
  changedFile: ['policies/partner.cedar'],
  overriddenFile: ['policies/partner.cedar'],
  headers: [{ 'content-type': 'text/csv', 'x-amz-checksum-sha256': 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=' }],
  parameters: [{ resourceType: 'Observation', _count: 20 }],
  checks: [{ database: 'ok', storage: 'ok', audit: 'ok' }],
  patientCount: [1240],
  recordCount: [48210],
  fileCount: [3712],
  count: [20],
  total: [20],
  limit: [50],
  securityLevel: [3],
  sizeBytes: [182044],
};

const ID_LIKE = /(By|Id|^by)$/;
const TIME_LIKE = /(At|Until|Through|Start|End|^time|Time|^from|^to|^at)$/;

function resolve(schema: JsonSchema, components: Record<string, JsonSchema>): JsonSchema {
  let s = schema;
  for (let i = 0; s.$ref && i < 20; i++) s = components[s.$ref.replace('#/components/schemas/', '')] ?? {};
  return s;
}

function typeOf(s: JsonSchema): string | undefined {
  return Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
}

function fits(value: unknown, s: JsonSchema): boolean {
  const t = typeOf(s);
  if (s.enum && !s.enum.includes(value)) return false;
  if (t === 'string') {
    if (typeof value !== 'string') return false;
    if (s.pattern && !new RegExp(s.pattern, 'u').test(value)) return false;
    if (s.minLength !== undefined && value.length < s.minLength) return false;
    if (s.maxLength !== undefined && value.length > s.maxLength) return false;
    return true;
  }
  if (t === 'integer' || t === 'number') {
    if (typeof value !== 'number' || (t === 'integer' && !Number.isInteger(value))) return false;
    return (s.minimum === undefined || value >= s.minimum) && (s.maximum === undefined || value <= s.maximum) && (s.exclusiveMinimum === undefined || value > s.exclusiveMinimum);
  }
  if (t === 'array') return Array.isArray(value);
  if (t === 'boolean') return typeof value === 'boolean';
  if (t === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
  return t === undefined;
}

function stringFor(s: JsonSchema, key: string): string {
  if (s.format === 'date-time' || TIME_LIKE.test(key)) return AT;
  if (s.format === 'date') return '2026-03-14';
  if (s.format === 'email') return 'm.lin@university-east.example.org';
  if (s.format === 'uri' || s.format === 'url') return 'https://partner.university-east.example.org/hooks/mdrp';
  if (s.format === 'uuid') return 'c3f1a2b4-5d6e-4f70-8a9b-0c1d2e3f4a5b';
  if (s.contentMediaType) return `<${s.contentMediaType} bytes>`;
  if (ID_LIKE.test(key)) return 'c3f1a2b4-5d6e-4f70-8a9b-0c1d2e3f4a5b';
  if (/Name$/.test(key)) return 'Dr. Mei Lin';
  const base = key ? key.replace(/([A-Z])/g, ' $1').toLowerCase().trim() : 'text';
  return s.minLength && base.length < s.minLength ? base.padEnd(s.minLength, ' example') : base;
}

function numberFor(s: JsonSchema, integer: boolean): number {
  const lo = s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : s.minimum;
  let v = 3;
  if (lo !== undefined && v < lo) v = lo;
  if (s.maximum !== undefined && v > s.maximum) v = s.maximum;
  return integer ? Math.ceil(v) : v;
}

/**
 * An example value for `schema` (a JSON Schema of the OpenAPI document; `$ref`s are resolved
 * against `components`). `key` is the property or parameter name the value is for.
 *
 * @example exampleFor({ type: 'string', pattern: '^grt_[a-z0-9]{10,40}$' }, {}, 'grantId') // 'grt_5m8q2x7k1z9w'
 */
export function exampleFor(schema: JsonSchema, components: Record<string, JsonSchema>, key = '', depth = 0): unknown {
  const s = resolve(schema, components);
  if (s.examples?.length) return s.examples[0];
  if (s.example !== undefined) return s.example;
  if (s.const !== undefined) return s.const;
  if (s.default !== undefined) return s.default;
  const union = s.anyOf ?? s.oneOf;
  if (union) {
    const branch = union.find((b) => typeOf(resolve(b, components)) !== 'null') ?? union[0]!;
    return exampleFor(branch, components, key, depth + 1);
  }
  if (s.allOf?.length) return Object.assign({}, ...s.allOf.map((b) => exampleFor(b, components, key, depth + 1)));
  const named = BY_NAME[key]?.find((v) => fits(v, s));
  if (named !== undefined) return named;
  if (s.enum) return s.enum[0];
  const t = typeOf(s) ?? (s.properties ? 'object' : undefined);
  switch (t) {
    case 'string':
      return stringFor(s, key);
    case 'integer':
      return numberFor(s, true);
    case 'number':
      return numberFor(s, false);
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array': {
      if (s.prefixItems) return s.prefixItems.map((p) => exampleFor(p, components, key, depth + 1));
      if (depth > 8 || !s.items) return [];
      const itemKey = key.endsWith('ies') ? `${key.slice(0, -3)}y` : key.endsWith('s') ? key.slice(0, -1) : key;
      return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => exampleFor(s.items!, components, itemKey, depth + 1));
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      if (depth > 8) return out;
      for (const [k, p] of Object.entries(s.properties ?? {})) out[k] = exampleFor(p, components, k, depth + 1);
      if (!s.properties && s.additionalProperties && typeof s.additionalProperties === 'object') {
        const names = s.propertyNames ? resolve(s.propertyNames, components) : undefined;
        const k = (names?.enum?.[0] as string | undefined) ?? 'example';
        const v = exampleFor(s.additionalProperties, components, k, depth + 1);
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
    default:
      return key ? (BY_NAME[key]?.[0] ?? 'example') : {};
  }
}
