import type { Resource } from '@medplum/fhirtypes';
import type { Container } from '../../../functions/composition/container';
import type { Dataset } from '../../../functions/core/catalog/dataset';
import { PatientIndex } from '../../../functions/core/patients/patient-index';
import { ResearchRecords, type PatientProfile } from '../../../functions/core/patients/research-records';
import { generateDemoCohort } from '../demo/generate-demo-cohort';
import type { DemoDataset, DemoPatient } from '../demo/demo-model';

const SEED_MARKER = { pk: 'SYSTEM', sk: 'DEMO-SEED' };

/** Dataset ids in the catalogue are lower-case slugs. */
const datasetIdOf = (d: DemoDataset) => d.datasetId.toLowerCase();

/** The catalogue's modality vocabulary, from the generator's source formats. */
function modalitiesOf(d: DemoDataset): string[] {
  const m = new Set<string>();
  for (const x of d.modalities) {
    if (x === 'clinical' || x === 'fhir') m.add('clinical').add('labs');
    if (x === 'dicom' || x === 'image') m.add('imaging');
    if (x === 'pdf' || x === 'text') m.add('documents');
    if (x === 'nursing') m.add('nursing');
    if (x === 'vital-signs') m.add('vital-signs');
  }
  return [...m];
}

/** Points every `Patient/…` reference at the pseudonymous id. */
function pseudonymizeReferences<T>(value: T, patientId: string): T {
  if (Array.isArray(value)) return value.map((v) => pseudonymizeReferences(v, patientId)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = k === 'reference' && typeof v === 'string' && v.startsWith('Patient/') ? `Patient/${patientId}` : pseudonymizeReferences(v, patientId);
    return out as T;
  }
  return value;
}

/**
 * Loads the demo cohort (SPEC §14) on first start: identities into the vault through the master
 * patient index, pseudonymous profiles, clinical records, timelines and encrypted files into the
 * research store, and the catalogue. Returns undefined when the data is already there.
 *
 * Loading is idempotent (keyed by source ids and content), so an interrupted load is redone on
 * the next start and the marker is written last.
 *
 * Free-text nursing notes are not loaded: they name patients, and text de-identification is not
 * in place yet (issue 4). Raw DICOM/PDF originals are stored encrypted and never served as-is.
 */
export async function seedDemoData(c: Container, opts: { patients: number; log: (l: string) => void; signal?: AbortSignal }): Promise<{ patients: number; records: number; files: number } | undefined> {
  if (await c.documents.get('main', SEED_MARKER)) return undefined;
  const t0 = Date.now();
  const cohort = generateDemoCohort({ patients: opts.patients });
  opts.log(`generated demo cohort: ${cohort.patients.length} source records in ${Date.now() - t0} ms; loading…`);
  const index = new PatientIndex(c.documents, c.keys, c.clock, c.ids);
  const research = new ResearchRecords(c.documents, c.objects, c.keys, c.clock);
  const datasetsOf = (p: DemoPatient) => cohort.datasets.filter((d) => d.sourcePatientIds.includes(p.sourcePatientId)).map(datasetIdOf);
  const counts = new Map<string, { patients: Set<string>; records: number; files: number }>();
  let records = 0;
  let files = 0;

  const load = async (p: DemoPatient) => {
    const { patientId } = await index.register({
      sourcePatientId: p.sourcePatientId,
      institution: p.institutionId,
      identity: {
        fullName: p.identity.fullName,
        sex: p.identity.sex,
        birthDate: p.identity.birthDate,
        residentId: p.identity.residentId,
        mrn: p.identity.mrn,
        phone: p.identity.mobilePhone,
        address: p.identity.address.text,
        insuranceNumber: p.identity.insuranceNumber,
      },
    });
    const datasetIds = datasetsOf(p);
    const existing = await research.getProfile(patientId);
    const profile: PatientProfile = {
      patientId,
      datasetIds: [...new Set([...(existing?.datasetIds ?? []), ...datasetIds])],
      institutions: [...new Set([...(existing?.institutions ?? []), p.institutionId])],
      sex: p.identity.sex,
      birthYear: Number(p.identity.birthDate.slice(0, 4)),
      ageAtDiagnosis: p.clinical.ageAtDiagnosis,
      diagnosis: { system: 'http://hl7.org/fhir/sid/icd-10', code: 'C50.9', display: 'Malignant neoplasm of breast' },
      pathologyType: p.clinical.pathologyType.display.en,
      stage: p.clinical.cTNM,
      molecularSubtype: p.clinical.molecularSubtype,
      consent: { duoCode: p.consent.duoCode, status: p.consent.status === 'active' ? 'active' : p.consent.status === 'rejected' ? 'rejected' : 'withdrawn' },
      updatedAt: research.now(),
    };
    await research.saveProfile(profile);
    const resources = p.fhir.filter((r: Resource) => r.resourceType !== 'Patient').map((r) => pseudonymizeReferences(r, patientId));
    await research.saveRecords(patientId, resources as Array<{ resourceType: string; id?: string }>);
    await research.saveTimeline(
      p.timeline.map((e) => ({
        eventId: e.eventId,
        patientId,
        type: e.type,
        occurredAt: e.occurredAt,
        ...(e.endedAt ? { endedAt: e.endedAt } : {}),
        title: e.title,
        recordRefs: e.fhirRefs,
        fileIds: e.fileIds,
        source: 'ingested' as const,
        annotations: [],
      })),
    );
    await research.saveFiles(
      p.files.map((f) => ({
        meta: { fileId: f.fileId, patientId, kind: f.kind, contentType: f.contentType, fileName: f.fileName, ...(f.eventId ? { eventId: f.eventId } : {}), description: f.description, datasetId: datasetIds[0] ?? '' },
        bytes: f.bytes,
      })),
    );
    records += resources.length;
    files += p.files.length;
    for (const d of datasetIds) {
      const n = counts.get(d) ?? { patients: new Set(), records: 0, files: 0 };
      n.patients.add(patientId);
      n.records += resources.length;
      n.files += p.files.length;
      counts.set(d, n);
    }
  };

  // A few patients at a time: DynamoDB Local and the JVM are the bottleneck, not Node.
  const queue = [...cohort.patients];
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      for (let p = queue.shift(); p && !opts.signal?.aborted; p = queue.shift()) await load(p);
    }),
  );

  // Stopped half-way: every step above is idempotent, so the next start simply loads again.
  if (opts.signal?.aborted) return undefined;
  const now = new Date(c.clock.now()).toISOString();
  for (const d of cohort.datasets) {
    const n = counts.get(datasetIdOf(d));
    const dataset: Dataset = {
      datasetId: datasetIdOf(d),
      title: `${d.name.zh} / ${d.name.en}`,
      description: d.description.en,
      disease: `${d.disease.code} ${d.disease.display.en}`,
      institution: d.institutionIds.length > 1 ? 'multi-institution' : d.institutionIds[0]!,
      securityLevel: d.securityLevel,
      modalities: modalitiesOf(d),
      patientCount: n?.patients.size ?? 0,
      recordCount: n?.records ?? 0,
      fileCount: n?.files ?? 0,
      createdAt: now,
      updatedAt: now,
    };
    await c.catalog.saveDataset(dataset);
  }
  await c.documents.put('main', { ...SEED_MARKER, at: now, patients: cohort.patients.length });
  opts.log(`demo data loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { patients: cohort.patients.length, records, files };
}
