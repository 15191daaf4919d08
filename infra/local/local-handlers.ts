import { Logger } from '@aws-lambda-powertools/logger';
import type { Container } from '../../functions/composition/container';
import { makeApiHandler, type ApiHandler } from '../../functions/http/make-api-handler';
import type { OperationMap } from '../../functions/http/operation';
import type { HandlerModule } from '../../functions/http/route-definition';
import { operations as access } from '../../functions/handlers/access.handler';
import { operations as audit } from '../../functions/handlers/audit.handler';
import { operations as catalog } from '../../functions/handlers/catalog.handler';
import { operations as fhir } from '../../functions/handlers/fhir.handler';
import { operations as ingestion } from '../../functions/handlers/ingestion.handler';
import { operations as integrations } from '../../functions/handlers/integrations.handler';
import { operations as partners } from '../../functions/handlers/partners.handler';
import { operations as platform } from '../../functions/handlers/platform.handler';

/** Every module's operations: the same maps the Lambda handler files export. */
export const OPERATIONS: Partial<Record<HandlerModule, OperationMap>> = { platform, catalog, ingestion, access, audit, partners, fhir, integrations };

/**
 * Builds the module handlers for the local front with the same `makeApiHandler` Lambda uses,
 * bound to the local container. Logs go through Powertools at WARN unless MDRP_LOG_LEVEL says otherwise.
 */
export function localHandlers(container: Container, logLevel: string): Record<string, ApiHandler> {
  const out: Record<string, ApiHandler> = {};
  for (const [module, ops] of Object.entries(OPERATIONS)) {
    const logger = new Logger({ serviceName: module, logLevel: logLevel as 'WARN' });
    out[module] = makeApiHandler(module as HandlerModule, ops!, async () => container, { logger });
  }
  return out;
}
