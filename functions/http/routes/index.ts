import type { RouteDefinition } from '../route-definition';
import { accessRoutes } from './access.routes';
import { auditRoutes } from './audit.routes';
import { catalogRoutes } from './catalog.routes';
import { ingestionRoutes } from './ingestion.routes';
import { fhirRoutes } from './fhir.routes';
import { partnerRoutes } from './partners.routes';
import { platformRoutes } from './platform.routes';

/**
 * The route table: drives API Gateway (CDK), the local HTTP front, the OpenAPI document and the
 * authorization-matrix test. Add a route here and everything else follows.
 */
export const routes: readonly RouteDefinition[] = [...platformRoutes, ...catalogRoutes, ...ingestionRoutes, ...accessRoutes, ...auditRoutes, ...partnerRoutes, ...fhirRoutes];

/** Routes served by one handler module. */
export function routesOf(module: RouteDefinition['module']): RouteDefinition[] {
  return routes.filter((r) => r.module === module);
}
