import { ConflictError, NotFoundError } from '../errors';
import type { DocumentStore, Item, TransactOperation } from '../ports/document-store';
import type { Dataset } from './dataset';

type DatasetItem = Item & { dataset: Dataset };

/**
 * The dataset catalogue. Counts are aggregate figures maintained by ingestion; the catalogue never
 * exposes records, so every signed-in role may read it (R-GOV-1).
 */
export class CatalogService {
  constructor(private readonly store: DocumentStore) {}

  async listDatasets(): Promise<Dataset[]> {
    const page = await this.store.query<DatasetItem>('main', { pk: 'DATASET', limit: 500 });
    return page.items.map((i) => i.dataset);
  }

  async getDataset(datasetId: string): Promise<Dataset> {
    const item = await this.store.get<DatasetItem>('main', { pk: 'DATASET', sk: datasetId });
    if (!item) throw new NotFoundError('dataset', { datasetId });
    return item.dataset;
  }

  /**
   * Updates a dataset's aggregate counts after an ingest job (optimistic, retried). The patient
   * count is either recounted by the caller (`patientCount`), or moved by the patients the job
   * added to the dataset (`newPatients`), or left as it is: a job should not have to scan the
   * dataset's whole membership to report one file (R-GOV-1 counts, ingest benchmark).
   */
  async recordIngest(datasetId: string, delta: { records: number; patientCount?: number; newPatients?: number; files?: number; at: string }): Promise<void> {
    if (delta.patientCount === undefined) {
      // Only moved by deltas: one atomic in-place update, no read (concurrent jobs add up).
      const op = this.ingestOperation(datasetId, delta);
      try {
        await this.store.update(op.table, op.key, op.changes);
      } catch (e) {
        if (e instanceof ConflictError) throw new NotFoundError('dataset', { datasetId });
        throw e;
      }
      return;
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const item = await this.store.get<DatasetItem>('main', { pk: 'DATASET', sk: datasetId });
      if (!item) throw new NotFoundError('dataset', { datasetId });
      const d = item.dataset;
      const next: Dataset = { ...d, recordCount: d.recordCount + delta.records, fileCount: d.fileCount + (delta.files ?? 0), patientCount: delta.patientCount ?? d.patientCount + (delta.newPatients ?? 0), updatedAt: delta.at };
      try {
        await this.store.put('main', { pk: 'DATASET', sk: datasetId, dataset: next, version: ((item.version as number | undefined) ?? 0) + 1 }, { expectedVersion: (item.version as number | undefined) ?? undefined });
        return;
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
      }
    }
  }

  /**
   * The counts an ingest job moves, as one atomic update for the job's own transaction: the counts
   * change with the job report and its content marker or not at all, so a resumed or repeated job
   * never counts twice. The version moves too (an editor holding the old one must re-read).
   */
  ingestOperation(datasetId: string, delta: { records: number; newPatients?: number; files?: number; at: string }): Extract<TransactOperation, { kind: 'update' }> {
    return {
      kind: 'update',
      table: 'main',
      key: { pk: 'DATASET', sk: datasetId },
      changes: {
        add: { 'dataset.recordCount': delta.records, 'dataset.fileCount': delta.files ?? 0, 'dataset.patientCount': delta.newPatients ?? 0, version: 1 },
        set: { 'dataset.updatedAt': delta.at },
      },
    };
  }

  /** Creates or replaces a dataset's catalogue entry. */
  async saveDataset(dataset: Dataset): Promise<void> {
    await this.store.put('main', { pk: 'DATASET', sk: dataset.datasetId, dataset, version: 1 });
  }
}
