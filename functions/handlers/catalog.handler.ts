import { makeApiHandler } from '../http/make-api-handler';
import type { OperationMap } from '../http/operation';
import { lambdaContainer, lambdaObservability } from './lambda-runtime';

/** The dataset catalogue (aggregate counts only). */
export const operations: OperationMap = {
  async listDatasets({ container, audit }) {
    const items = await container.catalog.listDatasets();
    audit.count = items.length;
    return { items };
  },
  async getDataset({ container, params, audit }) {
    audit.resources.push({ type: 'Dataset', id: params.datasetId });
    return container.catalog.getDataset(params.datasetId);
  },
};

export const handler = makeApiHandler('catalog', operations, lambdaContainer, lambdaObservability('catalog'));
