import { z } from 'zod';
import type { RouteDefinition } from '../route-definition';

export const DatasetSummarySchema = z
  .object({
    datasetId: z.string(),
    title: z.string(),
    description: z.string(),
    disease: z.string(),
    institution: z.string(),
    securityLevel: z.number().int().min(1).max(5).describe('R-SEC-2: 1 public … 5 strictly restricted'),
    modalities: z.array(z.string()),
    patientCount: z.number().int().nonnegative(),
    recordCount: z.number().int().nonnegative(),
    fileCount: z.number().int().nonnegative(),
    updatedAt: z.string(),
  })
  .meta({ id: 'DatasetSummary' });

const DatasetParams = z.object({ datasetId: z.string().regex(/^[a-z0-9-]{3,64}$/) });

/** R-GOV-1, R-ANA-3: the dataset catalogue, at an aggregate level (counts, never data). */
export const catalogRoutes: RouteDefinition[] = [
  {
    operationId: 'listDatasets',
    method: 'GET',
    path: '/v1/datasets',
    module: 'catalog',
    auth: 'user-or-partner',
    action: 'ReadCatalog',
    summary: 'List the datasets in the catalogue with aggregate counts',
    tags: ['catalog'],
    auditCategory: 'data-access',
    response: z.object({ items: z.array(DatasetSummarySchema) }).meta({ id: 'DatasetList' }),
  },
  {
    operationId: 'getDataset',
    method: 'GET',
    path: '/v1/datasets/{datasetId}',
    module: 'catalog',
    auth: 'user-or-partner',
    action: 'ReadCatalog',
    summary: 'One dataset of the catalogue with aggregate counts',
    tags: ['catalog'],
    auditCategory: 'data-access',
    request: { params: DatasetParams },
    response: DatasetSummarySchema,
  },
];
