import { makeApiHandler } from '../http/make-api-handler';
import type { OperationMap } from '../http/operation';
import { HttpResult } from '../http/operation';
import { lambdaContainer, lambdaObservability } from './lambda-runtime';

/**
 * The FHIR R4 facade. The CapabilityStatement declares exactly what the facade serves today:
 * resource read/search interactions are added as they become available (permission-filtered and
 * de-identified), so partners can rely on this document.
 */
export const operations: OperationMap = {
  async getFhirCapabilityStatement({ container }) {
    return new HttpResult(200, {
      resourceType: 'CapabilityStatement',
      status: 'active',
      date: '2026-11-24',
      publisher: 'MDRP',
      kind: 'instance',
      software: { name: 'MDRP FHIR facade', version: container.config.version },
      implementation: { description: 'De-identified, permission-filtered FHIR R4 view of the research data platform' },
      fhirVersion: '4.0.1',
      format: ['json'],
      rest: [
        {
          mode: 'server',
          documentation: 'Every interaction requires an API key (x-api-key) and an OAuth 2.0 client-credentials token with the fhir.read scope; results only contain de-identified data the caller holds a grant for.',
          security: {
            cors: true,
            service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth', display: 'OAuth' }] }],
          },
          resource: [],
        },
      ],
    });
  },
};

export const handler = makeApiHandler('fhir', operations, lambdaContainer, lambdaObservability('fhir'));
