import { fhirServicesOf } from '../composition/fhir-services';
import { BulkExportService, EXPORT_TYPES } from '../core/fhir/bulk-export';
import { FHIR_RESOURCE_TYPES, includesOf, SEARCH_PARAMS } from '../core/fhir/fhir-search';
import { NotFoundError, ValidationError } from '../core/errors';
import { makeApiHandler } from '../http/make-api-handler';
import type { OperationContext, OperationMap } from '../http/operation';
import { HttpResult } from '../http/operation';
import { lambdaContainer, lambdaObservability } from './lambda-runtime';

type Ctx<P = Record<string, string>> = OperationContext<P>;

/** Bulk Data IG v2 group-level export (the operation the CapabilityStatement declares). */
const GROUP_EXPORT = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export';
/** Keys of the manifest `extension` object: lineage of the files. */
const MANIFEST_EXT = { policy: 'https://mdrp.example.org/fhir/bulk/deid-policy', grant: 'https://mdrp.example.org/fhir/bulk/grant' } as const;

/**
 * The service base of absolute FHIR URLs (fullUrl, paging links, Content-Location), from the
 * request's Host; https unless the front says otherwise or runs on the loopback interface.
 */
function baseUrl(headers: Record<string, string> | undefined): string {
  const host = headers?.host ?? '127.0.0.1';
  const proto = headers?.['x-forwarded-proto'] ?? (/^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host) ? 'http' : 'https');
  return `${proto}://${host}/fhir/R4`;
}

/** Names only (never values) of the parameters a call used, for its audit event. */
function parameterNames(query: Record<string, string[]>): string {
  return Object.keys(query).sort().join(',').slice(0, 256);
}

/**
 * The FHIR R4 facade (R-INT-1, R-DEID-1): read and search of de-identified data through the
 * caller's usable grants, and Bulk Data `$export` of a granted cohort. The CapabilityStatement
 * declares exactly what these operations serve.
 */
export const operations: OperationMap = {
  async getFhirCapabilityStatement({ container }) {
    return new HttpResult(200, {
      resourceType: 'CapabilityStatement',
      status: 'active',
      date: '2026-11-24',
      publisher: 'MDRP',
      kind: 'instance',
      software: { name: 'MDRP FHIR facade', version: container.config.version },
      implementation: { description: 'De-identified, permission-filtered FHIR R4 view of the research data platform' },
      fhirVersion: '4.0.1',
      format: ['json'],
      instantiates: ['http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data'],
      rest: [
        {
          mode: 'server',
          documentation:
            'Researchers call with their Cognito ID token; partner systems with an API key (x-api-key) and an OAuth 2.0 client-credentials token with the fhir.read scope. ' +
            'Results only contain data released to the caller by a usable grant, de-identified by the grant\'s data-level policy: patient and record ids are grant-scoped pseudonyms and dates are shifted per patient. ' +
            'Group and ResearchStudy ids are grant ids (one approved project and its released cohort per grant). Unknown search parameters are refused (400).',
          security: {
            cors: true,
            service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth', display: 'OAuth' }] }],
          },
          resource: FHIR_RESOURCE_TYPES.map((type) => ({
            type,
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            versioning: 'no-version',
            readHistory: false,
            updateCreate: false,
            ...(includesOf(type).length ? { searchInclude: includesOf(type) } : {}),
            searchParam: [
              { name: '_id', type: 'token', documentation: 'Resource id' },
              ...Object.entries(SEARCH_PARAMS[type]).map(([name, d]) => ({ name, type: d.type, documentation: d.documentation })),
            ],
            ...(type === 'Group' ? { operation: [{ name: 'export', definition: GROUP_EXPORT, documentation: `Bulk Data export of the released cohort (types: ${EXPORT_TYPES.join(', ')}; _type, _since)` }] } : {}),
          })),
          searchParam: [
            { name: '_count', type: 'number', documentation: 'Page size (default 20, at most 100)' },
            { name: '_summary', type: 'token', documentation: '`count`: the total only' },
          ],
        },
      ],
    });
  },

  async searchFhirResources({ actor, params, multiQuery, headers, container, audit }: Ctx<{ resourceType: string }>) {
    const query = multiQuery ?? {};
    const { bundle, grantIds } = await fhirServicesOf(container).facade.search(actor, params.resourceType, query, { base: baseUrl(headers) });
    audit.resources.push(...grantIds.map((id) => ({ type: 'Grant', id })));
    audit.parameters = { resourceType: params.resourceType, parameters: parameterNames(query), total: bundle.total };
    audit.count = bundle.entry?.length ?? 0;
    return bundle;
  },

  async readFhirResource({ actor, params, container, audit }: Ctx<{ resourceType: string; id: string }>) {
    audit.parameters = { resourceType: params.resourceType };
    const { grantId, resource } = await fhirServicesOf(container).facade.read(actor, params.resourceType, params.id);
    audit.resources.push({ type: 'Grant', id: grantId }, { type: params.resourceType, id: params.id });
    audit.count = 1;
    return resource;
  },

  async startFhirBulkExport({ actor, params, multiQuery, headers, container, audit }: Ctx<{ resourceType: string; id: string; operation: string }>) {
    if (params.operation !== '$export') throw new NotFoundError(`operation ${params.operation.slice(0, 32)}`, { resourceType: params.resourceType });
    if (params.resourceType !== 'Group') throw new ValidationError('only Group-level $export is served (Group id = grant id)', { in: 'path', parameter: 'resourceType', fhirCode: 'FHIR_UNSUPPORTED_OPERATION' });
    if (!/\brespond-async\b/.test(headers?.prefer ?? '')) throw new ValidationError('$export needs the header Prefer: respond-async', { in: 'header', parameter: 'Prefer', fhirCode: 'FHIR_PREFER_ASYNC_REQUIRED' });
    const query = multiQuery ?? {};
    const parsed = BulkExportService.parseParameters(query);
    const base = baseUrl(headers);
    const requestUrl = `${base}/Group/${params.id}/$export${Object.keys(query).length ? `?${new URLSearchParams(Object.entries(query).flatMap(([k, vs]) => vs.map((v): [string, string] => [k, v]))).toString()}` : ''}`;
    const job = await fhirServicesOf(container).exports.start(actor, params.id, parsed, requestUrl);
    audit.resources.push({ type: 'Grant', id: job.grantId }, { type: 'BulkExport', id: job.jobId });
    audit.parameters = { types: job.types.join(','), since: Boolean(job.since) };
    return new HttpResult(
      202,
      { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: `export ${job.jobId} accepted` }] },
      { 'content-location': `${base}/bulk-export/${job.jobId}`, 'access-control-expose-headers': 'x-correlation-id,retry-after,content-location,x-progress' },
    );
  },

  async getFhirBulkJobStatus({ actor, params, headers, container, audit }: Ctx<{ jobId: string }>) {
    const job = await fhirServicesOf(container).exports.status(actor, params.jobId);
    audit.resources.push({ type: 'Grant', id: job.grantId }, { type: 'BulkExport', id: job.jobId });
    audit.parameters = { status: job.status };
    const expose = { 'access-control-expose-headers': 'x-correlation-id,retry-after,content-location,x-progress' };
    if (job.status === 'queued' || job.status === 'running') {
      const progress = job.progress ? `${job.progress.done}/${job.progress.total} patients` : 'queued';
      return new HttpResult(202, '', { ...expose, 'x-progress': progress, 'retry-after': '2' });
    }
    if (job.status === 'failed') {
      return new HttpResult(500, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: `export failed: ${job.error ?? 'unknown error'}` }] }, expose);
    }
    const base = baseUrl(headers);
    audit.count = job.output.length;
    return new HttpResult(
      200,
      {
        transactionTime: job.transactionTime,
        request: job.request,
        requiresAccessToken: true,
        output: job.output.map((f) => ({ type: f.type, url: `${base}/bulk-export/${job.jobId}/${f.name}`, count: f.count })),
        error: [],
        extension: { [MANIFEST_EXT.policy]: { id: job.policy.id, version: job.policy.version }, [MANIFEST_EXT.grant]: job.grantId },
      },
      { ...expose, 'content-type': 'application/json' },
    );
  },

  async downloadFhirBulkFile({ actor, params, container, audit }: Ctx<{ jobId: string; fileName: string }>) {
    audit.resources.push({ type: 'BulkExport', id: params.jobId });
    const { job, file, body } = await fhirServicesOf(container).exports.download(actor, params.jobId, params.fileName);
    audit.resources.push({ type: 'Grant', id: job.grantId });
    audit.parameters = { file: file.name, type: file.type, policy: `${job.policy.id}@${job.policy.version}` };
    audit.count = file.count;
    return new HttpResult(200, new TextDecoder().decode(body), { 'content-type': 'application/fhir+ndjson' });
  },
};

export const handler = makeApiHandler('fhir', operations, lambdaContainer, lambdaObservability('fhir'));
