import { z } from 'zod';
import type { RouteDefinition } from '../route-definition';

const FHIR = 'application/fhir+json';
const resourceType = z.string().regex(/^[A-Za-z]{1,64}$/).meta({ description: 'FHIR resource type (Patient, Observation, Condition, Procedure, DiagnosticReport, ImagingStudy, DocumentReference, Consent, ResearchStudy, Group)', example: 'Observation' });
const fhirId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/).meta({ description: 'FHIR id (grant-scoped pseudonym for patients and records; the grant id for Group and ResearchStudy)' });
const jobId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const resource = z.looseObject({ resourceType: z.string() });
const bundle = z.looseObject({ resourceType: z.literal('Bundle'), type: z.literal('searchset'), total: z.number().int() }).meta({ id: 'FhirSearchBundle' });
/**
 * Documented search parameters. The schema is open (loose): each resource type has its own
 * parameters (see the CapabilityStatement), repeated parameters are ANDed, and the FHIR core
 * refuses unknown ones with a 400 OperationOutcome.
 */
const searchQuery = z.looseObject({
  _id: z.string().optional(),
  patient: z.string().optional().meta({ description: '`Patient/<id>` or `<id>` (also `subject`)' }),
  subject: z.string().optional(),
  code: z.string().optional().meta({ description: '`system|code`, `code` or `|code`; comma = OR' }),
  date: z.string().optional().meta({ description: 'eq/ne/lt/le/gt/ge prefix + (partial) date; repeat for a range', example: 'ge2024-01' }),
  _count: z.string().optional().meta({ description: 'page size (default 20, at most 100)' }),
  _cursor: z.string().optional().meta({ description: 'opaque paging cursor from a `next` link' }),
  _include: z.string().optional().meta({ description: '`<Type>:patient` / `<Type>:subject`' }),
  _summary: z.enum(['count', 'false']).optional(),
});

/** OpenAPI examples (R-INT-2): de-identified resources as the facade serves them (pseudonymous ids, no direct identifiers). */
const BASE = 'https://api.mdrp.example.org/fhir/R4';
const observation = {
  resourceType: 'Observation',
  id: 'obs-4k2m9x',
  meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'PSEUDED' }] },
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '85319-2', display: 'HER2 [Presence] in Breast cancer specimen by Immune stain' }] },
  subject: { reference: 'Patient/p_Jx7Kq2Lm9Vb4' },
  effectiveDateTime: '2024-03',
  valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '10828004', display: 'Positive' }] },
};
const examples = {
  capability: {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-03-14',
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [{ mode: 'server', security: { service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth' }] }] }, resource: [{ type: 'Observation', interaction: [{ code: 'read' }, { code: 'search-type' }], searchParam: [{ name: 'patient', type: 'reference' }, { name: 'code', type: 'token' }, { name: 'date', type: 'date' }] }] }],
  },
  manifest: {
    transactionTime: '2026-03-14T09:30:00.000Z',
    request: `${BASE}/Group/grt-5m8q2x7k1z9w/$export?_type=Patient,Observation`,
    requiresAccessToken: true,
    output: [
      { type: 'Patient', url: `${BASE}/bulk-export/exp_9Lk2Qm7Xb4Tz/Patient-1.ndjson`, count: 212 },
      { type: 'Observation', url: `${BASE}/bulk-export/exp_9Lk2Qm7Xb4Tz/Observation-1.ndjson`, count: 1000 },
    ],
    error: [],
  },
  accepted: { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: 'export exp_9Lk2Qm7Xb4Tz accepted; poll the Content-Location' }] },
  bundle: {
    resourceType: 'Bundle',
    type: 'searchset',
    total: 1,
    link: [{ relation: 'self', url: `${BASE}/Observation?patient=p_Jx7Kq2Lm9Vb4&code=http://loinc.org|85319-2` }],
    entry: [{ fullUrl: `${BASE}/Observation/obs-4k2m9x`, resource: observation, search: { mode: 'match' } }],
  },
};

/**
 * FHIR R4 facade (R-INT-1): CapabilityStatement, read and search of the de-identified data the
 * caller holds grants for, and Bulk Data `$export` of a granted cohort (Group = grant). Routes
 * with literal segments come before the `{resourceType}` ones (the local front matches in order;
 * API Gateway prefers literal path parts). `$export` is a path parameter value, not a literal
 * resource, so no `$` appears in an API Gateway resource path.
 */
export const fhirRoutes: RouteDefinition[] = [
  {
    operationId: 'getFhirCapabilityStatement',
    method: 'GET',
    path: '/fhir/R4/metadata',
    module: 'fhir',
    auth: 'none',
    action: 'ReadFhirMetadata',
    summary: 'FHIR R4 CapabilityStatement of the facade (what is supported, and how to authenticate)',
    tags: ['fhir'],
    auditCategory: 'data-access',
    response: z.looseObject({ resourceType: z.literal('CapabilityStatement') }).meta({ id: 'CapabilityStatement' }),
    examples: { response: examples.capability },
    contentType: FHIR,
  },
  {
    operationId: 'getFhirBulkJobStatus',
    method: 'GET',
    path: '/fhir/R4/bulk-export/{jobId}',
    module: 'fhir',
    auth: 'user-or-partner',
    action: 'ExportFhirData',
    summary: 'Status of a Bulk Data export: 202 with X-Progress while running, 200 with the manifest when complete',
    description: 'Only the caller who started the export may poll it. The manifest lists one NDJSON file per resource type (split every 1000 resources) and, in `extension`, the grant and the de-identification policy (id and version) that produced the files.',
    tags: ['fhir'],
    auditCategory: 'data-access',
    request: { params: z.object({ jobId }) },
    response: z.looseObject({ transactionTime: z.string(), output: z.array(z.object({ type: z.string(), url: z.string(), count: z.number().int() })) }).meta({ id: 'BulkDataManifest' }),
    examples: { params: { jobId: 'exp_9Lk2Qm7Xb4Tz' }, response: examples.manifest },
    contentType: FHIR,
  },
  {
    operationId: 'downloadFhirBulkFile',
    method: 'GET',
    path: '/fhir/R4/bulk-export/{jobId}/{fileName}',
    module: 'fhir',
    auth: 'user-or-partner',
    action: 'ExportFhirData',
    summary: 'Download one NDJSON file of a completed Bulk Data export (application/fhir+ndjson)',
    description: 'De-identified resources, one per line. The grant is re-checked at download time; every download is audited (and raises the export alert).',
    tags: ['fhir'],
    auditCategory: 'data-access',
    request: { params: z.object({ jobId, fileName: z.string().regex(/^[A-Za-z]{1,32}-\d{1,6}\.ndjson$/) }) },
    response: z.string().meta({ description: 'NDJSON: one FHIR resource per line' }),
    examples: { params: { jobId: 'exp_9Lk2Qm7Xb4Tz', fileName: 'Observation-1.ndjson' }, response: `${JSON.stringify(observation)}\n` },
    contentType: FHIR,
  },
  {
    operationId: 'startFhirBulkExport',
    method: 'GET',
    path: '/fhir/R4/{resourceType}/{id}/{operation}',
    module: 'fhir',
    auth: 'user-or-partner',
    action: 'ExportFhirData',
    summary: 'Bulk Data kick-off: `GET /fhir/R4/Group/{grantId}/$export` (Prefer: respond-async) → 202 + Content-Location',
    description: 'Exports the released cohort of one of the caller\'s usable grants (Group id = grant id), de-identified, as NDJSON per type. Parameters: `_type` (comma-separated), `_since` (instant; records ingested after it).',
    tags: ['fhir'],
    auditCategory: 'data-access',
    request: {
      params: z.object({ resourceType, id: fhirId, operation: z.string().max(32).meta({ description: '`$export`' }) }),
      query: z.looseObject({ _type: z.string().optional(), _since: z.string().optional(), _outputFormat: z.string().optional() }),
    },
    response: resource.meta({ id: 'FhirOperationOutcome' }),
    successStatus: 202,
    examples: { params: { resourceType: 'Group', id: 'grt-5m8q2x7k1z9w', operation: '$export' }, query: { _type: 'Patient,Observation', _since: '2026-01-01T00:00:00Z', _outputFormat: 'application/fhir+ndjson' }, response: examples.accepted },
    contentType: FHIR,
  },
  {
    operationId: 'readFhirResource',
    method: 'GET',
    path: '/fhir/R4/{resourceType}/{id}',
    module: 'fhir',
    auth: 'user-or-partner',
    action: 'ReadFhirData',
    summary: 'FHIR read of one de-identified resource the caller holds a grant for',
    tags: ['fhir'],
    auditCategory: 'data-access',
    request: { params: z.object({ resourceType, id: fhirId }) },
    response: resource.meta({ id: 'FhirResource' }),
    examples: { response: observation },
    contentType: FHIR,
  },
  {
    operationId: 'searchFhirResources',
    method: 'GET',
    path: '/fhir/R4/{resourceType}',
    module: 'fhir',
    auth: 'user-or-partner',
    action: 'ReadFhirData',
    summary: 'FHIR search (searchset Bundle with total and paging links) over the de-identified data of the caller\'s usable grants',
    tags: ['fhir'],
    auditCategory: 'data-access',
    request: { params: z.object({ resourceType }), query: searchQuery },
    response: bundle,
    examples: { query: { _id: 'obs-4k2m9x', subject: 'Patient/p_Jx7Kq2Lm9Vb4', _cursor: 'eyJrIjoib2JzLTRrMm05eCJ9', _summary: 'false' }, response: examples.bundle },
    contentType: FHIR,
  },
];
