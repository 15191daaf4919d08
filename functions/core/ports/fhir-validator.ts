/** Structural validation of FHIR R4 resources against the base definitions (R-ING-1). */
export interface FhirValidator {
  /** Issues found (empty when valid): `path: message`, never values. */
  validate(resource: unknown): string[];
}
