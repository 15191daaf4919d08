import { BulkExportService } from '../core/fhir/bulk-export';
import { FhirFacade } from '../core/fhir/fhir-facade';
import type { Container } from './container';

/** The FHIR facade's services over one container. */
export interface FhirServices {
  facade: FhirFacade;
  exports: BulkExportService;
}

const cache = new WeakMap<Container, FhirServices>();

/**
 * Builds (once per container) the FHIR facade and Bulk Data export services from the container's
 * ports and services: same de-identification, grants and stores as the rest of the platform. Kept
 * beside the composition root so the FHIR module wires itself without widening `Container`.
 */
export function fhirServicesOf(container: Container): FhirServices {
  let s = cache.get(container);
  if (!s) {
    const facade = new FhirFacade(container.researchAccess, container.grants, container.keys, {
      // The project title comes from the approved request, if the caller may read it.
      titleOf: async (actor, grant) => (await container.accessRequests.get(actor, grant.requestId)).title,
    });
    s = { facade, exports: new BulkExportService(facade, container.documents, container.objects, container.research, container.keys, container.scheduler, container.clock, container.ids) };
    cache.set(container, s);
  }
  return s;
}
