import type { Resource } from '@medplum/fhirtypes';
import { LocalKeyProvider } from '../../../functions/adapters/local/local-key-provider';
import type { DemoCohort, DemoPatient } from '../../../infra/local/demo/demo-model';
import { generateDemoCohort } from '../../../infra/local/demo/generate-demo-cohort';
import { testKeys } from '../../support/test-container';

let cached: DemoCohort | undefined;

/** A small demo cohort shared by the de-identification tests (generation takes ~0.5 s). */
export function demoCohort(): DemoCohort {
  cached ??= generateDemoCohort({ patients: 6 });
  return cached;
}

/** Fresh local keys (random per test file). */
export function localKeys(): LocalKeyProvider {
  return new LocalKeyProvider(testKeys());
}

/** Every identity-vault value of a patient that must never survive de-identification. */
export function vaultValues(p: DemoPatient): string[] {
  const id = p.identity;
  const values = [
    id.fullName,
    id.residentId,
    id.mobilePhone,
    id.mrn,
    id.insuranceNumber,
    id.address.text,
    id.address.street,
    id.address.building,
    id.emergencyContact.name,
    id.emergencyContact.mobilePhone,
  ];
  if (id.email) values.push(id.email);
  if (id.givenName.length >= 2) values.push(id.givenName);
  return values;
}

/** Names and identifiers the vault hands to the de-identifier for a patient. */
export function vaultHints(p: DemoPatient): { knownNames: string[]; knownIdentifiers: string[] } {
  const id = p.identity;
  return {
    knownNames: [id.fullName, id.emergencyContact.name],
    knownIdentifiers: [id.mrn, id.insuranceNumber, id.residentId, id.mobilePhone, id.emergencyContact.mobilePhone, ...(id.email ? [id.email] : [])],
  };
}

export type { Resource };
