import type { PartnerScope } from '../core/partners/partner-service';
import type { RouteDefinition } from './route-definition';

/**
 * OAuth scopes of which a partner token needs one for a route (R-SEC-6): the route's declared
 * `partnerScopes`, else derived from its module and method; `undefined` when none is known (the
 * edge then refuses partners). One rule for CDK (`infra/constructs/route-mapping.ts`), the AWS
 * partner authorizer and the local front.
 */
export function derivePartnerScopes(route: RouteDefinition): PartnerScope[] | undefined {
  const declared = (route as RouteDefinition & { partnerScopes?: PartnerScope[] }).partnerScopes;
  if (declared?.length) return declared;
  const read = route.method === 'GET';
  switch (route.module) {
    case 'catalog':
      return ['catalog.read'];
    case 'fhir':
      return ['fhir.read'];
    case 'ingestion':
      return ['ingest.write'];
    case 'access':
      if (/\/grants(\/|$)/.test(route.path)) return ['grants.read'];
      return read ? ['access-requests.read'] : ['access-requests.write'];
    default:
      return undefined;
  }
}
