import { z } from 'zod';
import type { RouteDefinition } from '../route-definition';

export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    version: z.string(),
    time: z.string().describe('ISO-8601 UTC'),
    checks: z.record(z.string(), z.enum(['ok', 'unavailable'])),
  })
  .meta({ id: 'Health' });

export const ProfileSchema = z
  .object({
    userId: z.string(),
    username: z.string(),
    displayName: z.string(),
    roles: z.array(z.string()),
    institution: z.string(),
    mfaEnabled: z.boolean(),
  })
  .meta({ id: 'Profile' });

/** Health, API description and the caller's own profile. */
export const platformRoutes: RouteDefinition[] = [
  {
    operationId: 'getHealth',
    method: 'GET',
    path: '/v1/health',
    module: 'platform',
    auth: 'none',
    action: 'ReadHealth',
    summary: 'Liveness and dependency health',
    tags: ['platform'],
    auditCategory: 'system',
    response: HealthSchema,
  },
  {
    operationId: 'getOpenApiDocument',
    method: 'GET',
    path: '/v1/openapi.json',
    module: 'platform',
    auth: 'none',
    action: 'ReadOpenApi',
    summary: 'This API described in OpenAPI 3.1',
    tags: ['platform'],
    auditCategory: 'system',
    response: z.record(z.string(), z.unknown()),
    examples: { response: { openapi: '3.1.0', info: { title: 'MDRP API', version: '1.4.0' }, paths: { '/v1/health': { get: { operationId: 'getHealth' } } } } },
  },
  {
    operationId: 'getMyProfile',
    method: 'GET',
    path: '/v1/me',
    module: 'platform',
    auth: 'user',
    action: 'ReadOwnProfile',
    summary: "The signed-in user's identity, roles and institution",
    tags: ['platform'],
    auditCategory: 'auth',
    response: ProfileSchema,
  },
];
