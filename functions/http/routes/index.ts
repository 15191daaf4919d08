import type { RouteDefinition } from '../route-definition';
import { accessRoutes } from './access.routes';
import { auditRoutes } from './audit.routes';
import { catalogRoutes } from './catalog.routes';
import { deidRoutes } from './deid.routes';
import { ingestionRoutes } from './ingestion.routes';
import { mpiRoutes } from './mpi.routes';
import { fhirRoutes } from './fhir.routes';
import { governanceRoutes } from './governance.routes';
import { integrationRoutes } from './integrations.routes';
import { partnerRoutes } from './partners.routes';
import { platformRoutes } from './platform.routes';
import { timelineRoutes } from './timeline.routes';

/**
 * The route table: drives API Gateway (CDK), the local HTTP front, the OpenAPI document and the
 * authorization-matrix test. Add a route here and everything else follows.
 */
export const routes: readonly RouteDefinition[] = [...platformRoutes, ...catalogRoutes, ...ingestionRoutes, ...mpiRoutes, ...accessRoutes, ...deidRoutes, ...governanceRoutes, ...auditRoutes, ...partnerRoutes, ...integrationRoutes, ...fhirRoutes, ...timelineRoutes];

/** Routes served by one handler module. */
export function routesOf(module: RouteDefinition['module']): RouteDefinition[] {
  return routes.filter((r) => r.module === module);
}
