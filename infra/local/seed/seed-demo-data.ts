import type { Container } from '../../../functions/composition/container';
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

/**
 * Loads the demo cohort (SPEC §14) on first start, through the ingestion pipelines: each
 * patient's FHIR export (validation, master patient index and identity vault, pseudonymized
 * records, lineage, timeline), then their DICOM files and documents (encrypted originals,
 * previews, extracted text). Returns undefined when the data is already there.
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
  const research = c.research;
  const datasetsOf = (p: DemoPatient) => cohort.datasets.filter((d) => d.sourcePatientIds.includes(p.sourcePatientId)).map(datasetIdOf);
  const counts = new Map<string, { patients: Set<string>; records: number; files: number }>();
  let records = 0;
  let files = 0;

  const now = new Date(c.clock.now()).toISOString();
  // Catalogue entries first: ingestion fills their counts.
  for (const d of cohort.datasets) {
    const existing = await c.catalog.getDataset(datasetIdOf(d)).catch(() => undefined);
    if (existing) continue;
    await c.catalog.saveDataset({
      datasetId: datasetIdOf(d),
      title: `${d.name.zh} / ${d.name.en}`,
      description: d.description.en,
      disease: `${d.disease.code} ${d.disease.display.en}`,
      institution: d.institutionIds.length > 1 ? 'multi-institution' : d.institutionIds[0]!,
      securityLevel: d.securityLevel,
      modalities: modalitiesOf(d),
      patientCount: 0,
      recordCount: 0,
      fileCount: 0,
      createdAt: now,
      updatedAt: now,
    });
  }
  const pooled = cohort.datasets.find((d) => d.institutionIds.length > 1);

  const load = async (p: DemoPatient) => {
    // Clinical data goes through the ingestion pipeline, as a hospital's FHIR bulk export would.
    const home = datasetsOf(p).find((d) => d !== (pooled ? datasetIdOf(pooled) : undefined)) ?? datasetsOf(p)[0]!;
    const ndjson = new TextEncoder().encode(p.fhir.map((r) => JSON.stringify(r)).join('\n'));
    const job = await c.ingest.ingest({ datasetId: home, institution: p.institutionId, sourceSystem: 'demo-emr', fileName: `${p.institutionId}-patient.ndjson`, contentType: 'application/fhir+ndjson', bytes: ndjson, operator: 'system:demo-seed' });
    if (job.counts.rejected > 0) throw new Error(`demo export rejected ${job.counts.rejected} items (${job.rejected[0]?.code})`);
    const patientId = (await c.patientIndex.lookupSource(`${p.institutionId}/${p.fhir[0]!.id}`))!;
    // The pooled cohort is curated from both hospitals' datasets.
    const profile = (await research.getProfile(patientId))!;
    if (pooled) await research.saveProfile({ ...profile, datasetIds: [...new Set([...profile.datasetIds, datasetIdOf(pooled)])], molecularSubtype: p.clinical.molecularSubtype, pathologyType: p.clinical.pathologyType.display.en, ageAtDiagnosis: p.clinical.ageAtDiagnosis, stage: profile.stage ?? p.clinical.cTNM });
    // Imaging and documents go through their pipelines too (DICOM matched by MRN; documents name
    // their patient as an uploader would).
    let fileRejections = 0;
    for (const f of p.files) {
      const fileJob = await c.ingestRouter.ingest({ datasetId: home, institution: p.institutionId, sourceSystem: f.kind === 'dicom' ? 'demo-pacs' : 'demo-documents', fileName: f.fileName, contentType: f.contentType, bytes: f.bytes, operator: 'system:demo-seed', ...(f.kind === 'dicom' ? {} : { patientRef: p.identity.mrn }) });
      fileRejections += fileJob.counts.rejected;
    }
    if (fileRejections > 0) opts.log(`demo files: ${fileRejections} rejected for patient ${patientId}`);
    // The curation step a data manager would do: documents join the timeline event of the encounter
    // their DocumentReference names (versioned edits by the seed, R-MPI-5).
    await c.timeline.linkDocuments({ kind: 'system', id: 'system:demo-seed', roles: [], mfa: false, scopes: [] }, patientId);
    records += job.counts.accepted;
    files += p.files.length;
    for (const d of datasetsOf(p)) {
      const n = counts.get(d) ?? { patients: new Set(), records: 0, files: 0 };
      n.patients.add(patientId);
      n.records += job.counts.accepted;
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
  for (const d of cohort.datasets) {
    const id = datasetIdOf(d);
    const n = counts.get(id);
    const current = await c.catalog.getDataset(id);
    await c.catalog.saveDataset({ ...current, patientCount: n?.patients.size ?? 0, recordCount: n?.records ?? 0, fileCount: n?.files ?? 0, updatedAt: new Date(c.clock.now()).toISOString() });
  }
  await c.documents.put('main', { ...SEED_MARKER, at: now, patients: cohort.patients.length });
  opts.log(`demo data loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { patients: cohort.patients.length, records, files };
}
