import { NotFoundError } from '../errors';
import type { DocumentStore, Item } from '../ports/document-store';
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

  /** Creates or replaces a dataset's catalogue entry. */
  async saveDataset(dataset: Dataset): Promise<void> {
    await this.store.put('main', { pk: 'DATASET', sk: dataset.datasetId, dataset });
  }
}
