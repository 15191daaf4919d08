import type { RuntimeConfig } from './runtime-config';

import type { components, operations } from './api-schema';

/*
 * Request and response types are aliases of the components generated from the OpenAPI document
 * (`web/lib/api-schema.ts`, `npm run gen:api`; R-INT-2), so the portal cannot drift from the API.
 */
type Schemas = components['schemas'];

/** `GET /v1/me` response. */
export type Me = Schemas['Profile'];

/** One entry of the aggregate dataset catalogue (`GET /v1/datasets`). */
export type DatasetSummary = Schemas['DatasetSummary'];

/** Steps of an access request's review: ethics first, then the approval chain (R-GOV-3, R-GOV-4). */
export type ReviewStep = Schemas['AccessRequest']['approvalChain'][number];

/** Status of an access request as the API reports it. */
export type RequestStatus = Schemas['AccessRequest']['status'];

/** A reviewer's outcome at a step. */
export type DecisionOutcome = Schemas['Decision']['outcome'];

/** Data scope of a request or grant. */
export type RequestScope = Schemas['RequestScope'];

/** `POST /v1/access-requests` body (R-GOV-2). */
export type SubmitAccessRequest = Schemas['SubmitAccessRequest'];

/** One entry of a request's history. */
export type HistoryEntry = Schemas['AccessRequest']['history'][number];

/** An access request (`AccessRequest` in the OpenAPI document). */
export type AccessRequest = Schemas['AccessRequest'];

/** `POST /v1/access-requests/{id}/responses` body. */
export type ApplicantResponse = Schemas['ApplicantResponse'];

/** A time-limited permission issued on final approval (R-GOV-5). */
export type Grant = Schemas['Grant'];

/** One audit event (`AuditEvent` in the OpenAPI document, R-AUD-1). */
export type AuditEvent = Schemas['AuditEvent'];

/** `GET /v1/audit/events` query: by actor, or by resource type and id, over a time range (R-AUD-4). */
export type AuditEventQuery = NonNullable<operations['queryAuditEvents']['parameters']['query']>;

/** A page of results with the cursor of the next page, if any. */
export interface CursorPage<T> {
  items: T[];
  cursor?: string;
}

/** `GET /v1/audit/verification`: result of re-checking the signed digest chain (R-AUD-2). */
export type AuditChainVerification = Schemas['AuditChainVerification'];

/** A security alert raised from the audit trail (`AuditAlert`, R-AUD-5). */
export type AuditAlert = Schemas['AuditAlert'];

/**
 * An API failure carrying the platform's error envelope
 * (`{ error: { code, message, details } }`) or a synthetic code for transport failures,
 * so the UI can always show a message and a code instead of a blank page.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    /** HTTP status; 0 when the request never got a response. */
    readonly status: number,
    /** Machine code such as `FORBIDDEN`, or `NETWORK_ERROR` / `HTTP_<status>`. */
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Supplies the ID token sent as `Authorization: Bearer` (API Gateway's Cognito authorizer validates ID tokens). */
export type TokenProvider = () => Promise<string | undefined>;

/** Converts a non-2xx response into an {@link ApiError}, tolerating non-JSON bodies. */
export async function toApiError(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const envelope = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  const code = typeof envelope?.code === 'string' ? envelope.code : `HTTP_${response.status}`;
  const message =
    typeof envelope?.message === 'string' && envelope.message !== ''
      ? envelope.message
      : response.statusText || `HTTP ${response.status}`;
  return new ApiError(response.status, code, message, envelope?.details);
}

/** `GET /v1/grants/{id}/release`: who a grant releases, and who consent leaves out and why (R-DSR-2). */
export type ReleaseSummary = Schemas['ReleaseSummary'];

/** A released, de-identified patient: grant-scoped pseudonym and coarse facts only. */
export type ReleasedPatient = Schemas['ReleasedPatient'];

/** One event of a released patient's timeline; dates are shifted per patient by the de-identification. */
export type TimelineEvent = Schemas['ReleasedPatientRecord']['timeline'][number];

/** A de-identified FHIR R4 resource (only `resourceType` is guaranteed). */
export type FhirResource = { resourceType: string; id?: string } & Record<string, unknown>;

/** `GET /v1/grants/{id}/patients/{token}`: one released patient with records and timeline. */
export type ReleasedPatientRecord = Omit<Schemas['ReleasedPatientRecord'], 'records'> & { records: FhirResource[] };

/** Minimal typed client for the MDRP REST API. */
export class ApiClient {
  constructor(
    private readonly config: Pick<RuntimeConfig, 'apiUrl'>,
    private readonly getToken: TokenProvider,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  /** Performs a JSON request and returns the parsed body, throwing {@link ApiError} on failure. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = await this.getToken();
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      const init: RequestInit = {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
      };
      // Responses may hold personal data; keep them out of the HTTP cache. (Assigned separately
      // because Node's RequestInit typing lacks `cache`; browsers honour it.)
      Object.assign(init, { cache: 'no-store' });
      response = await this.fetchImpl(`${this.config.apiUrl}${path}`, init);
    } catch (err) {
      throw new ApiError(0, 'NETWORK_ERROR', err instanceof Error ? err.message : String(err));
    }
    if (!response.ok) throw await toApiError(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  /** `GET /v1/me`: the signed-in user's profile and roles. */
  me(): Promise<Me> {
    return this.request<Me>('GET', '/v1/me');
  }

  /** `GET /v1/datasets`: the aggregate catalogue visible to every signed-in role. */
  async datasets(): Promise<DatasetSummary[]> {
    const result = await this.request<{ items: DatasetSummary[] }>('GET', '/v1/datasets');
    return result.items;
  }
  /** `GET /v1/access-requests?view=…`: own requests, the caller's review queue, or all (governance roles). */
  async accessRequests(view: 'mine' | 'queue' | 'all'): Promise<AccessRequest[]> {
    const result = await this.request<{ items: AccessRequest[] }>('GET', `/v1/access-requests?view=${view}`);
    return result.items;
  }

  /** `GET /v1/access-requests/{id}`: one request with its full history. */
  accessRequest(requestId: string): Promise<AccessRequest> {
    return this.request<AccessRequest>('GET', `/v1/access-requests/${encodeURIComponent(requestId)}`);
  }

  /** `POST /v1/access-requests`: submits a request; the workflow starts with ethics review. */
  submitAccessRequest(body: SubmitAccessRequest): Promise<AccessRequest> {
    return this.request<AccessRequest>('POST', '/v1/access-requests', body);
  }

  /** `POST /v1/access-requests/{id}/decisions`: the decision of the open review step. */
  decideAccessRequest(requestId: string, body: { step: ReviewStep; outcome: DecisionOutcome; comment?: string }): Promise<AccessRequest> {
    return this.request<AccessRequest>('POST', `/v1/access-requests/${encodeURIComponent(requestId)}/decisions`, body);
  }

  /** `POST /v1/access-requests/{id}/responses`: the applicant's answer, optionally amending the request. */
  respondToAccessRequest(requestId: string, body: ApplicantResponse): Promise<AccessRequest> {
    return this.request<AccessRequest>('POST', `/v1/access-requests/${encodeURIComponent(requestId)}/responses`, body);
  }

  /** `GET /v1/grants?view=…`: the caller's grants, or every grant (approvers, security admins, auditors). */
  async grants(view: 'mine' | 'all'): Promise<Grant[]> {
    const result = await this.request<{ items: Grant[] }>('GET', `/v1/grants?view=${view}`);
    return result.items;
  }

  /** `GET /v1/grants/{id}/release`: the release summary of a usable grant (404 while it is being built). */
  grantRelease(grantId: string): Promise<ReleaseSummary> {
    return this.request<ReleaseSummary>('GET', `/v1/grants/${encodeURIComponent(grantId)}/release`);
  }

  /** `GET /v1/grants/{id}/patients?q=&limit=`: fuzzy search over the patients a grant releases. */
  grantPatients(grantId: string, q: string, limit: number): Promise<{ items: ReleasedPatient[]; total: number }> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (q.trim()) query.set('q', q.trim());
    return this.request('GET', `/v1/grants/${encodeURIComponent(grantId)}/patients?${query.toString()}`);
  }

  /** `GET /v1/grants/{id}/patients/{token}`: one released patient, de-identified for the grant. */
  grantPatient(grantId: string, token: string): Promise<ReleasedPatientRecord> {
    return this.request<ReleasedPatientRecord>('GET', `/v1/grants/${encodeURIComponent(grantId)}/patients/${encodeURIComponent(token)}`);
  }

  /** `POST /v1/grants/{id}/revocation`: early revocation with a reason (R-GOV-5). */
  revokeGrant(grantId: string, reason: string): Promise<Grant> {
    return this.request<Grant>('POST', `/v1/grants/${encodeURIComponent(grantId)}/revocation`, { reason });
  }

  /** `GET /v1/audit/events`: audit events by actor or by data item, newest first (R-AUD-4). */
  auditEvents(queryString: string): Promise<CursorPage<AuditEvent>> {
    return this.request<CursorPage<AuditEvent>>('GET', `/v1/audit/events?${queryString}`);
  }

  /** `GET /v1/audit/verification`: verifies the signed digest chain over an optional range (R-AUD-2). */
  auditVerification(range: { from?: string; to?: string } = {}): Promise<AuditChainVerification> {
    const query = new URLSearchParams();
    if (range.from) query.set('from', range.from);
    if (range.to) query.set('to', range.to);
    const qs = query.toString();
    return this.request<AuditChainVerification>('GET', `/v1/audit/verification${qs ? `?${qs}` : ''}`);
  }

  /** `GET /v1/audit/alerts`: security alerts, newest first (R-AUD-5). */
  auditAlerts(limit: number, cursor?: string): Promise<CursorPage<AuditAlert>> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set('cursor', cursor);
    return this.request<CursorPage<AuditAlert>>('GET', `/v1/audit/alerts?${query.toString()}`);
  }
}
