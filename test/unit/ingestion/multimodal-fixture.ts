import { generateDemoCohort } from '../../../infra/local/demo/generate-demo-cohort';
import type { DemoCohort, DemoPatient } from '../../../infra/local/demo/demo-model';
import { testContainer } from '../../support/test-container';
import { MemoryObjectStore } from '../audit/memory-object-store';

let cohort: DemoCohort | undefined;
/** A small demo cohort (generated once per test file). */
export function demoCohort(): DemoCohort {
  cohort ??= generateDemoCohort({ patients: 2, seed: 4242 });
  return cohort;
}

/** A memory container with an object store, a dataset, and the given patients' FHIR ingested. */
export async function containerWith(patients: DemoPatient[]) {
  const c = testContainer({ objects: new MemoryObjectStore() });
  await c.catalog.saveDataset({ datasetId: 'bc-test', title: 't', description: 'd', disease: 'C50', institution: 'multi', securityLevel: 3, modalities: ['imaging'], patientCount: 0, recordCount: 0, fileCount: 0, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
  for (const p of patients) {
    const bytes = new TextEncoder().encode(p.fhir.map((r) => JSON.stringify(r)).join('\n'));
    await c.ingest.ingest({ datasetId: 'bc-test', institution: p.institutionId, sourceSystem: 'EMR', fileName: 'p.ndjson', contentType: 'application/fhir+ndjson', bytes, operator: 'dm-1' });
  }
  return c;
}

/** The platform id of an ingested demo patient. */
export async function patientIdOf(c: Awaited<ReturnType<typeof containerWith>>, p: DemoPatient): Promise<string> {
  return (await c.patientIndex.lookupMrn(p.institutionId, p.identity.mrn))!;
}

export const source = (p: DemoPatient, fileName: string, contentType: string, bytes: Uint8Array, extra: { patientRef?: string } = {}) => ({
  datasetId: 'bc-test',
  institution: p.institutionId,
  sourceSystem: 'PACS',
  fileName,
  contentType,
  bytes,
  operator: 'dm-1',
  ...extra,
});
