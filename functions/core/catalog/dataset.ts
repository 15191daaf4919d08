import type { TableDescription } from './table-columns';

/** A dataset of the catalogue: what exists, described at an aggregate level (R-ANA-3, R-GOV-1). */
export interface Dataset {
  datasetId: string;
  title: string;
  description: string;
  disease: string;
  /** Institution that provides the data. */
  institution: string;
  /** R-SEC-2 security level, 1 (public) … 5 (strictly restricted). */
  securityLevel: 1 | 2 | 3 | 4 | 5;
  modalities: string[];
  patientCount: number;
  recordCount: number;
  fileCount: number;
  /** Tables of the dataset with per-column de-identification rules (applied by `deidentifyTable`). */
  tables?: TableDescription[];
  createdAt: string;
  updatedAt: string;
}
