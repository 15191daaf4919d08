/** Why an item of a source file was not accepted (machine-readable, R-ING-5). */
export type RejectionCode =
  | 'INVALID_JSON'
  | 'INVALID_FHIR'
  | 'UNSUPPORTED_RESOURCE_TYPE'
  | 'UNKNOWN_PATIENT'
  | 'INVALID_RESIDENT_ID'
  | 'MISSING_PATIENT_IDENTITY'
  | 'UNSUPPORTED_CONTENT_TYPE'
  | 'EMPTY_FILE'
  | 'INVALID_DICOM'
  | 'NO_PIXEL_DATA'
  | 'INVALID_DOCUMENT'
  | 'MISSING_PATIENT_LINK'
  | 'INVALID_ROW'
  | 'MISSING_COLUMN_MAPPING'
  | 'INVALID_COLUMN_MAPPING'
  | 'INVALID_SPREADSHEET'
  | 'INVALID_ZIP'
  | 'ZIP_PATH_TRAVERSAL'
  | 'ZIP_ENTRY_LIMIT'
  | 'ZIP_SIZE_LIMIT'
  | 'ZIP_RATIO_LIMIT'
  | 'ZIP_SIZE_MISMATCH'
  | 'ZIP_ENCRYPTED';

export interface RejectedItem {
  /** 1-based line (NDJSON, CSV incl. header), entry index (Bundle), 0 for the whole file. */
  line: number;
  resourceType?: string;
  /** The offending column of a table row (its header name), when one is to blame. */
  column?: string;
  code: RejectionCode;
  /** Paths and rules, never values. */
  issues: string[];
}

/** One run of the pipeline over one source file: what was accepted, rejected, and why. */
export interface IngestJob {
  jobId: string;
  datasetId: string;
  institution: string;
  sourceSystem: string;
  uploadId?: string;
  fileName: string;
  contentType: string;
  sha256: string;
  status: 'completed' | 'failed';
  startedAt: string;
  finishedAt: string;
  operator: string;
  counts: { accepted: number; rejected: number; patients: number; newPatients: number; probableDuplicates: number; timelineEvents: number };
  rejected: RejectedItem[];
}

/** A transformation applied to a record, with its version (R-ING-6 lineage). */
export interface Transformation {
  name: string;
  version: string;
}

/** Where a record came from and what was done to it (R-ING-6). */
export interface Lineage {
  sourceSystem: string;
  institution: string;
  /** `<ResourceType>/<id>` in the source system. */
  sourceId: string;
  fileName: string;
  fileSha256: string;
  uploadId?: string;
  jobId: string;
  transformations: Transformation[];
  operator: string;
  at: string;
}

/** The lineage all records of one job share: everything but each record's source id. */
export type JobLineage = Omit<Lineage, 'sourceId'>;
