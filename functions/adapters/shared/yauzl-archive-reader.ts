import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { ArchiveRejected, type ArchiveEntry, type ArchiveLimits, type ArchiveReader } from '../../core/ports/archive-reader';

const RATIO_FLOOR_BYTES = 1024 * 1024;

/** Classifies a yauzl error without echoing it (its messages quote entry names). */
function classify(e: unknown): ArchiveRejected {
  if (e instanceof ArchiveRejected) return e;
  const m = e instanceof Error ? e.message : String(e);
  if (/absolute path|invalid relative path|invalid characters in fileName/.test(m)) return new ArchiveRejected('ZIP_PATH_TRAVERSAL', 'an entry name is absolute or leaves the archive root');
  if (/too many bytes|not enough bytes|expected uncompressed size|size mismatch/.test(m)) return new ArchiveRejected('ZIP_SIZE_MISMATCH', 'an entry inflates to a size other than the one declared');
  if (/encrypt/i.test(m)) return new ArchiveRejected('ZIP_ENCRYPTED', 'encrypted entries are not accepted');
  return new ArchiveRejected('INVALID_ZIP', 'the file is not a readable zip archive');
}

/**
 * Zip reading with yauzl 3 (validated file names, declared sizes checked against the inflated
 * stream). On top of what yauzl enforces, every limit of `ArchiveLimits` is checked on the
 * declared sizes of the central directory first, then again on the bytes actually inflated, so
 * neither a lying header nor a high-ratio entry gets further than the first limit.
 */
export class YauzlArchiveReader implements ArchiveReader {
  async readZip(bytes: Uint8Array, limits: ArchiveLimits): Promise<ArchiveEntry[]> {
    const zip = await new Promise<ZipFile>((resolve, reject) =>
      yauzl.fromBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: false }, (err, z) => (err ? reject(classify(err)) : resolve(z))),
    );
    try {
      const entries = await this.list(zip, limits);
      const out: ArchiveEntry[] = [];
      let total = 0;
      for (const { entry, index } of entries) {
        const data = await this.inflate(zip, entry, index, limits, limits.maxTotalBytes - total);
        total += data.byteLength;
        out.push({ index, path: entry.fileName, bytes: data });
      }
      return out;
    } finally {
      zip.close();
    }
  }

  /** The central directory, checked against the limits on declared sizes. */
  private list(zip: ZipFile, limits: ArchiveLimits): Promise<Array<{ entry: Entry; index: number }>> {
    return new Promise((resolve, reject) => {
      const out: Array<{ entry: Entry; index: number }> = [];
      let declared = 0;
      let index = 0;
      zip.on('error', (e) => reject(classify(e)));
      zip.on('entry', (entry: Entry) => {
        index += 1;
        const name = entry.fileName;
        // yauzl already refuses these; checked again because the whole point is not to trust the archive.
        if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.split('/').includes('..')) return reject(new ArchiveRejected('ZIP_PATH_TRAVERSAL', `entry ${index}: the name is absolute or leaves the archive root`));
        if (name.endsWith('/')) return zip.readEntry();
        if (entry.isEncrypted()) return reject(new ArchiveRejected('ZIP_ENCRYPTED', `entry ${index}: encrypted entries are not accepted`));
        if (out.length + 1 > limits.maxEntries) return reject(new ArchiveRejected('ZIP_ENTRY_LIMIT', `more than ${limits.maxEntries} entries`));
        if (entry.uncompressedSize > limits.maxEntryBytes) return reject(new ArchiveRejected('ZIP_SIZE_LIMIT', `entry ${index}: declares ${entry.uncompressedSize} bytes, over the ${limits.maxEntryBytes}-byte entry limit`));
        declared += entry.uncompressedSize;
        if (declared > limits.maxTotalBytes) return reject(new ArchiveRejected('ZIP_SIZE_LIMIT', `the entries declare more than ${limits.maxTotalBytes} bytes in total`));
        if (entry.uncompressedSize > RATIO_FLOOR_BYTES && entry.uncompressedSize > limits.maxRatio * Math.max(1, entry.compressedSize)) {
          return reject(new ArchiveRejected('ZIP_RATIO_LIMIT', `entry ${index}: compression ratio over ${limits.maxRatio}:1`));
        }
        out.push({ entry, index });
        zip.readEntry();
      });
      zip.on('end', () => resolve(out));
      zip.readEntry();
    });
  }

  /** Inflates one entry, stopping at the first byte over its declared size or the remaining budget. */
  private inflate(zip: ZipFile, entry: Entry, index: number, limits: ArchiveLimits, budget: number): Promise<Uint8Array> {
    const cap = Math.min(entry.uncompressedSize, limits.maxEntryBytes, budget);
    return new Promise((resolve, reject) => {
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(classify(err));
        const chunks: Buffer[] = [];
        let n = 0;
        stream.on('data', (c: Buffer) => {
          n += c.byteLength;
          if (n > cap) {
            stream.destroy();
            reject(new ArchiveRejected(n > entry.uncompressedSize ? 'ZIP_SIZE_MISMATCH' : 'ZIP_SIZE_LIMIT', `entry ${index}: inflates past its declared size or the archive limit`));
            return;
          }
          chunks.push(c);
        });
        stream.on('error', (e) => reject(classify(e)));
        stream.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
      });
    });
  }
}
