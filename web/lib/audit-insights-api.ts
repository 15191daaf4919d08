/**
 * Portal calls for issue 6: "who accessed my data" for data providers and owners (R-AUD-4,
 * R-GOV-6) and the quarterly audit report (R-AUD-6). Functions take the shared `ApiClient`; the
 * report PDF is fetched with the same bearer token.
 */
import { ApiError, toApiError, type ApiClient } from './api-client';
import { currentIdToken } from './auth';
import type { RuntimeConfig } from './runtime-config';

/** One access to the institution's data. */
export interface DataAccessEntry {
  eventId: string;
  time: string;
  operation: string;
  category: string;
  actor: { kind: string; id: string; roles: string[]; institution?: string };
  outcome: 'success' | 'failure' | 'denied';
  status: number;
  count?: number;
  via: 'dataset' | 'grant' | 'patient';
  grantId?: string;
  requestId?: string;
  datasetIds: string[];
  patientToken?: string;
}

/** A grant covering some of the institution's datasets. */
export interface CoveringGrant {
  grantId: string;
  requestId: string;
  holderId: string;
  holderName: string;
  holderInstitution: string;
  status: 'active' | 'revoked' | 'expired';
  startsAt: string;
  expiresAt: string;
  datasetIds: string[];
}

export interface DataAccessPage {
  items: DataAccessEntry[];
  grants: CoveringGrant[];
  cursor?: string;
}

/** `GET /v1/audit/data-access`: who accessed the caller's institution's data, newest first. */
export function institutionDataAccess(api: ApiClient, q: { from?: string; to?: string; limit?: number; cursor?: string }): Promise<DataAccessPage> {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  const qs = p.toString();
  return api.request<DataAccessPage>('GET', `/v1/audit/data-access${qs ? `?${qs}` : ''}`);
}

/** An archived quarterly report. */
export interface AuditReportRecord {
  reportId: string;
  period: string;
  periodStart: string;
  periodEnd: string;
  generatedAt: string;
  generatedBy: string;
  objectKey: string;
  bytes: number;
  sha256: string;
  totals: { events: number; actors: number; success: number; failure: number; denied: number };
  alertCount: number;
}

/** `GET /v1/audit/reports`. */
export function listAuditReports(api: ApiClient, cursor?: string): Promise<{ items: AuditReportRecord[]; cursor?: string }> {
  return api.request('GET', `/v1/audit/reports?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
}

/** `POST /v1/audit/reports`: generates and archives the report of a quarter (e.g. 2026-Q4). */
export function createAuditReport(api: ApiClient, period: string): Promise<AuditReportRecord> {
  return api.request<AuditReportRecord>('POST', '/v1/audit/reports', { period });
}

/** The archived PDF (`GET /v1/audit/reports/{id}/pdf`), as a Blob to save. */
export async function fetchAuditReportPdf(config: Pick<RuntimeConfig, 'apiUrl'>, reportId: string): Promise<Blob> {
  const token = await currentIdToken();
  let response: Response;
  try {
    response = await fetch(`${config.apiUrl}/v1/audit/reports/${encodeURIComponent(reportId)}/pdf`, {
      headers: token ? { Authorization: `Bearer ${token.token}` } : {},
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiError(0, 'NETWORK_ERROR', err instanceof Error ? err.message : String(err));
  }
  if (!response.ok) throw await toApiError(response);
  return response.blob();
}

/** Quarters from the current one back `count` quarters, newest first: `2026-Q4`, `2026-Q3`, … */
export function recentQuarters(now: Date, count = 8): string[] {
  const out: string[] = [];
  let y = now.getUTCFullYear();
  let q = Math.floor(now.getUTCMonth() / 3) + 1;
  for (let i = 0; i < count; i++) {
    out.push(`${y}-Q${q}`);
    q -= 1;
    if (q === 0) {
      q = 4;
      y -= 1;
    }
  }
  return out;
}
