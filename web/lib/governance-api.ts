/**
 * Portal calls for issue 5 governance features: request documents (R-GOV-9), grant renewal
 * (R-GOV-5 continuing review) and the policy console (R-GOV-7). Functions take the shared
 * `ApiClient` (JSON calls); document bytes are fetched with the same bearer token.
 */
import { ApiError, toApiError, type AccessRequest, type ApiClient, type Grant } from './api-client';
import { currentIdToken } from './auth';
import type { RuntimeConfig } from './runtime-config';

/** Kinds of request documents (API enum order). */
export const DOCUMENT_KINDS = ['protocol', 'ethics-approval', 'data-sharing-agreement', 'consent-form', 'other'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** Media types the API accepts for documents, by file extension. */
export const DOCUMENT_TYPES: Record<string, string> = { pdf: 'application/pdf', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', txt: 'text/plain' };
/** Largest document the API accepts (bytes). */
export const MAX_DOCUMENT_BYTES = 5 * 1024 * 1024;

export interface RequestDocument {
  documentId: string;
  requestId: string;
  kind: DocumentKind;
  version: number;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  uploadedBy: string;
  uploadedByName?: string;
  uploadedAt: string;
}

/** A grant with its approved renewals (the API adds them once a renewal was approved). */
export type GrantWithRenewals = Grant & {
  renewals?: Array<{ requestId: string; previousExpiresAt: string; expiresAt: string; renewedAt: string }>;
};

/** An access request that may be a renewal of a grant. */
export type RequestWithRenewal = AccessRequest & { renewsGrantId?: string };

/** The media type for a file name, or undefined when the type is not accepted. */
export function documentTypeOf(fileName: string): string | undefined {
  const ext = /\.([A-Za-z0-9]+)$/.exec(fileName)?.[1]?.toLowerCase();
  return ext ? DOCUMENT_TYPES[ext] : undefined;
}

/** Versions grouped by kind, newest first (the API already sorts them so). */
export function groupDocuments(docs: readonly RequestDocument[]): Array<{ kind: DocumentKind; versions: RequestDocument[] }> {
  return DOCUMENT_KINDS.map((kind) => ({ kind, versions: docs.filter((d) => d.kind === kind).sort((a, b) => b.version - a.version) })).filter((g) => g.versions.length > 0);
}

export async function listRequestDocuments(api: ApiClient, requestId: string): Promise<RequestDocument[]> {
  const r = await api.request<{ items: RequestDocument[] }>('GET', `/v1/access-requests/${encodeURIComponent(requestId)}/documents`);
  return r.items;
}

/** Uploads a file (checked for type and size first), with its SHA-256 computed in the browser. */
export async function uploadRequestDocument(api: ApiClient, requestId: string, kind: DocumentKind, file: File): Promise<RequestDocument> {
  const contentType = documentTypeOf(file.name) ?? (Object.values(DOCUMENT_TYPES).includes(file.type) ? file.type : undefined);
  if (!contentType) throw new ApiError(0, 'UNSUPPORTED_MEDIA_TYPE', 'PDF, PNG, JPEG or plain text only');
  if (file.size > MAX_DOCUMENT_BYTES) throw new ApiError(0, 'PAYLOAD_TOO_LARGE', `at most ${MAX_DOCUMENT_BYTES} bytes`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  return api.request<RequestDocument>('POST', `/v1/access-requests/${encodeURIComponent(requestId)}/documents`, {
    kind,
    fileName: file.name,
    contentType,
    sha256,
    contentBase64: toBase64(bytes),
  });
}

/** The bytes of one document version as a Blob (for an inline viewer; never cached). */
export async function fetchRequestDocument(config: Pick<RuntimeConfig, 'apiUrl'>, requestId: string, documentId: string): Promise<Blob> {
  const token = await currentIdToken();
  let response: Response;
  try {
    response = await fetch(`${config.apiUrl}/v1/access-requests/${encodeURIComponent(requestId)}/documents/${encodeURIComponent(documentId)}`, {
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

/** `POST /v1/grants/{id}/renewals`: a renewal request (continuing review). */
export function requestGrantRenewal(api: ApiClient, grantId: string, body: { expiresAt: string; justification: string; agreementVersion: string; agreementAccepted: true }): Promise<RequestWithRenewal> {
  return api.request<RequestWithRenewal>('POST', `/v1/grants/${encodeURIComponent(grantId)}/renewals`, body);
}

export interface PolicyVersion {
  number: number;
  label: string;
  action: 'shipped' | 'change' | 'rollback';
  changedFile?: string;
  rolledBackTo?: number;
  reason: string;
  authorId: string;
  authorName?: string;
  at: string;
  sha256: string;
  overriddenFiles: string[];
}

export interface PolicySet {
  version: PolicyVersion;
  loadedVersion: string;
  locked: string[];
  files: Array<{ file: string; text: string; overridden: boolean; policyIds: string[] }>;
}

export function getPolicySet(api: ApiClient): Promise<PolicySet> {
  return api.request<PolicySet>('GET', '/v1/policies');
}

export function listPolicyVersions(api: ApiClient): Promise<{ current: number; items: PolicyVersion[] }> {
  return api.request('GET', '/v1/policies/versions');
}

export function changePolicy(api: ApiClient, body: { file: string; text: string; reason: string; baseVersion?: number; dryRun?: boolean }): Promise<{ valid: boolean; messages: string[]; version?: PolicyVersion }> {
  return api.request('POST', '/v1/policies/versions', body);
}

export function rollbackPolicies(api: ApiClient, body: { toVersion: number; reason: string }): Promise<PolicyVersion> {
  return api.request('POST', '/v1/policies/rollbacks', body);
}

/** Validator messages of a refused policy change, if the error is one. */
export function policyMessages(err: unknown): string[] | undefined {
  if (!(err instanceof ApiError)) return undefined;
  const d = err.details as { messages?: unknown } | undefined;
  return Array.isArray(d?.messages) ? d.messages.map(String) : undefined;
}

/** True when an API error says the action needs an MFA session (R-SEC-6). */
export function isMfaRequired(err: unknown): boolean {
  return err instanceof ApiError && (err.details as { reason?: unknown } | undefined)?.reason === 'MFA_REQUIRED';
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
