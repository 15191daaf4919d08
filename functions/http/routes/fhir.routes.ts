import { z } from 'zod';
import type { RouteDefinition } from '../route-definition';

/** FHIR R4 facade (R-INT-1): the server's CapabilityStatement. */
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
    contentType: 'application/fhir+json',
  },
];
