/** Limits an archive must stay within before any entry is used (zip bombs, R-ING-5). */
export interface ArchiveLimits {
  /** Most file entries. */
  maxEntries: number;
  /** Largest uncompressed size of one entry, in bytes. */
  maxEntryBytes: number;
  /** Largest uncompressed size of all entries together, in bytes. */
  maxTotalBytes: number;
  /** Largest uncompressed/compressed ratio of an entry (applies to entries over 1 MiB). */
  maxRatio: number;
}

/** Why an archive was refused as a whole (machine-readable; becomes the job report's code). */
export type ArchiveRejectionCode = 'INVALID_ZIP' | 'ZIP_PATH_TRAVERSAL' | 'ZIP_ENTRY_LIMIT' | 'ZIP_SIZE_LIMIT' | 'ZIP_RATIO_LIMIT' | 'ZIP_SIZE_MISMATCH' | 'ZIP_ENCRYPTED';

/** An archive refused as a whole; the message names limits and entry indexes, never entry names. */
export class ArchiveRejected extends Error {
  constructor(
    readonly code: ArchiveRejectionCode,
    message: string,
  ) {
    super(message);
    this.name = 'ArchiveRejected';
  }
}

/** One file of an archive (directories are not listed). */
export interface ArchiveEntry {
  /** 1-based position among the archive's entries. */
  index: number;
  /** Relative path inside the archive (validated: no `..`, not absolute). */
  path: string;
  bytes: Uint8Array;
}

/**
 * Reads archives (zip) safely: every entry name is checked for path traversal and every size
 * against its declaration and the limits, before and while inflating. Throws `ArchiveRejected`.
 */
export interface ArchiveReader {
  readZip(bytes: Uint8Array, limits: ArchiveLimits): Promise<ArchiveEntry[]>;
}
