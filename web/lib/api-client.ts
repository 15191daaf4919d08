import type { RuntimeConfig } from './runtime-config';

/** `GET /v1/me` response. */
export interface Me {
  userId: string;
  username: string;
  displayName: string;
  roles: string[];
  institution: string;
  mfaEnabled: boolean;
}

/** One entry of the aggregate dataset catalogue (`GET /v1/datasets`). */
export interface DatasetSummary {
  datasetId: string;
  title: string;
  description: string;
  disease: string;
  /** Security level 1 (public) … 5 (strictly restricted) [R-SEC-2]. */
  securityLevel: number;
  modalities: string[];
  patientCount: number;
  recordCount: number;
}

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
}
