import { describe, expect, it } from 'vitest';
import { L2_RESEARCH } from '../../../functions/core/deid/deid-policy';
import { deidentifyDicom, deidentifyDicomDataset, readDicom, topLevelRanges, writeDicom, type DicomDataset, type DicomElement } from '../../../functions/core/deid/deidentify-dicom';
import { ANNEX_E_TABLE } from '../../../functions/core/deid/dicom-profile';
import { Pseudonymizer } from '../../../functions/core/deid/pseudonym';
import { demoCohort, localKeys } from './deid-fixtures';

const keys = localKeys();
const projectId = 'proj-dicom-writer';
const token = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

/** Binary values compare by content (JSON.stringify renders every ArrayBuffer as `{}`). */
const binary = (_k: string, v: unknown): unknown => (v instanceof ArrayBuffer ? `bin:${Buffer.from(v).toString('base64')}` : ArrayBuffer.isView(v) ? `bin:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}` : v);
const parsed = (bytes: Uint8Array): string => {
  const { meta, dict } = readDicom(bytes);
  return JSON.stringify([meta, dict], binary);
};

const demoFiles = (): Uint8Array[] =>
  demoCohort()
    .patients.slice(0, 3)
    .flatMap((p) => p.files.filter((f) => f.kind === 'dicom').map((f) => f.bytes));

/** A demo file with every single-tag Table E.1-1 row present (as the bench's annex-e-full set) and a private element. */
function withWholeTable(bytes: Uint8Array): Uint8Array {
  const { meta, dict } = readDicom(bytes);
  const structural = new Set(['00080016', '00080018', '7FE00010', '00280010', '00280011', '00280100', '00280101', '00280102', '00280103', '00280002', '00280004']);
  for (const r of ANNEX_E_TABLE) {
    if (!/^[0-9A-F]{8}$/.test(r.tag) || !r.vr || r.vr.includes(' ') || structural.has(r.tag) || dict[r.tag]) continue;
    const value: Record<string, unknown[]> = { PN: [{ Alphabetic: 'Zhang^Yun' }], DA: ['20240926'], TM: ['101500'], DT: ['20240926101500'], UI: ['1.2.826.0.1.3680043.2.1125.1.7'], AS: ['045Y'], CS: ['ABC'], AE: ['AET1'] };
    const numeric = ['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'IS', 'DS'].includes(r.vr);
    const bin = ['OB', 'OW', 'UN'].includes(r.vr);
    dict[r.tag] = {
      vr: r.vr,
      Value: r.vr === 'SQ' ? [{ '00080100': { vr: 'SH', Value: ['CODE1'] }, '00080104': { vr: 'LO', Value: ['Zhang Yun'] } }] : (value[r.vr] ?? (numeric ? [7] : bin ? [new Uint8Array([1, 2, 3, 4]).buffer] : ['Zhang Yun, tel 13912345678'])),
    } as DicomElement;
  }
  dict['00091010'] = { vr: 'LO', Value: ['private vendor data'] };
  return writeDicom(meta, dict);
}

/** What a full dcmjs re-encode of the de-identified dataset gives (the writer's reference). */
async function reference(bytes: Uint8Array, p: Pseudonymizer): Promise<Uint8Array> {
  const r = await deidentifyDicomDataset(readDicom(bytes), { policy: L2_RESEARCH, projectId, patientToken: token, keys, pseudonymizer: p });
  return writeDicom(r.meta!, r.dict!);
}

describe('DICOM writer that copies the bytes of kept elements (R-DEID-4)', () => {
  it('R-DEID-4: demo files — released bytes are identical to a full dcmjs re-encode of the de-identified dataset', async () => {
    const p = new Pseudonymizer(keys, projectId);
    const files = demoFiles();
    expect(files.length).toBeGreaterThan(5);
    for (const bytes of files) {
      const { bytes: out } = await deidentifyDicom(bytes, { policy: L2_RESEARCH, projectId, patientToken: token, keys, pseudonymizer: p });
      expect(Buffer.from(out!).equals(Buffer.from(await reference(bytes, p)))).toBe(true);
    }
  });

  it('R-DEID-4: files carrying every Table E.1-1 row — the released dataset parses exactly as the dataset-level profile output', async () => {
    const p = new Pseudonymizer(keys, projectId);
    for (const bytes of demoFiles().slice(0, 4).map(withWholeTable)) {
      expect(topLevelRanges(bytes)).toBeDefined();
      const { bytes: out } = await deidentifyDicom(bytes, { policy: L2_RESEARCH, projectId, patientToken: token, keys, pseudonymizer: p });
      expect(parsed(out!)).toBe(parsed(await reference(bytes, p)));
      const dict = readDicom(out!).dict;
      expect(dict['00091010']).toBeUndefined();
    }
  });

  it('R-DEID-4: the source preamble is never copied (it can hold anything); the output preamble is zeros', async () => {
    const src = Uint8Array.from(demoFiles()[0]!);
    src.set(Buffer.from('Zhang Yun 13912345678', 'latin1'), 0);
    const { bytes: out } = await deidentifyDicom(src, { policy: L2_RESEARCH, projectId, patientToken: token, keys });
    expect(out!.subarray(0, 128).every((b) => b === 0)).toBe(true);
  });

  it('R-DEID-4: Implicit VR input falls back to a full dcmjs re-encode with the same result', async () => {
    const { meta, dict } = readDicom(demoFiles()[0]!);
    const implicitMeta: DicomDataset = { ...meta, '00020010': { vr: 'UI', Value: ['1.2.840.10008.1.2'] } };
    const implicit = writeDicom(implicitMeta, dict);
    const p = new Pseudonymizer(keys, projectId);
    const { bytes: out } = await deidentifyDicom(implicit, { policy: L2_RESEARCH, projectId, patientToken: token, keys, pseudonymizer: p });
    expect(Buffer.from(out!).equals(Buffer.from(await reference(implicit, p)))).toBe(true);
  });

  it('R-DEID-4: a truncated or non-Part-10 input has no element layout (the writer then re-encodes everything)', () => {
    const bytes = demoFiles()[0]!;
    const ranges = topLevelRanges(bytes)!;
    expect(ranges.get('7FE00010')?.[1]).toBe(bytes.byteLength);
    expect(topLevelRanges(bytes.subarray(0, bytes.byteLength - 3))).toBeUndefined();
    expect(topLevelRanges(new Uint8Array(200))).toBeUndefined();
  });
});
