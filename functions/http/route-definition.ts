import type { z } from 'zod';
import type { AuthzResource } from '../core/authz/authorizer';

/** The Lambda (one per domain module) that serves a route. File: `functions/handlers/<module>.handler.ts`. */
export type HandlerModule = 'platform' | 'catalog' | 'ingestion' | 'access' | 'audit' | 'partners' | 'fhir' | 'integrations';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route at the edge:
 * - `none`: no credentials (health, OpenAPI, FHIR CapabilityStatement);
 * - `user`: a Cognito ID token (API Gateway Cognito authorizer);
 * - `partner`: an API key (usage plan) plus a client-credentials access token;
 * - `user-or-partner`: either.
 */
export type RouteAuth = 'none' | 'user' | 'partner' | 'user-or-partner';

/** Parsed request parts handed to the authorization resource resolver. */
export interface RouteInput {
  params: Record<string, string>;
  query: Record<string, string | string[] | undefined>;
}

/**
 * One row of the route table: the single source for API Gateway (CDK), the local HTTP front,
 * the OpenAPI document and the authorization-matrix test.
 */
export interface RouteDefinition {
  operationId: string;
  method: HttpMethod;
  /** API Gateway style path, e.g. `/v1/datasets/{datasetId}`. */
  path: string;
  module: HandlerModule;
  auth: RouteAuth;
  /** Cedar action checked for every call before the operation runs. */
  action: string;
  /** The resource the route-level decision is about (defaults to the platform). */
  resource?: (input: RouteInput) => AuthzResource;
  summary: string;
  description?: string;
  tags: string[];
  /** Audit category of the call. */
  auditCategory: 'auth' | 'data-access' | 'data-change' | 'permission' | 'audit' | 'system' | 'security';
  request?: {
    params?: z.ZodObject;
    query?: z.ZodObject;
    body?: z.ZodType;
    /** Largest accepted body in bytes (enforced at the edge and in the handler). */
    maxBodyBytes?: number;
  };
  response: z.ZodType;
  successStatus?: 200 | 201 | 202 | 204;
  /** Response media type when not JSON (e.g. FHIR `application/fhir+json`). */
  contentType?: string;
  /**
   * OpenAPI examples where the one derived from the schemas (functions/http/openapi-examples.ts)
   * would not be realistic (open FHIR resources, path values such as `$export`). Each one must
   * validate against its schema (test/unit/http/openapi-examples.test.ts).
   */
  examples?: { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown; response?: unknown };
}

export const PLATFORM_RESOURCE: AuthzResource = { type: 'Platform', id: 'mdrp' };
