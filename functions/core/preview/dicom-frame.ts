import { PNG } from 'pngjs';
import type { ParsedDicom } from '../ingestion/dicom-image';
import { ValidationError } from '../errors';

/** A rendered frame and the window it was rendered with (so a viewer can start from it). */
export interface RenderedFrame {
  png: Uint8Array;
  frame: number;
  frames: number;
  rows: number;
  columns: number;
  /** Window actually applied (grey images); absent for colour images, which ignore window/level. */
  window?: { center: number; width: number };
  /** The header's (or the frame's min/max) window: the viewer's "reset". */
  defaultWindow?: { center: number; width: number };
  /** Range of the modality values of the frame, for the viewer's sliders. */
  range?: { min: number; max: number };
}

const NATIVE = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99']);

const num = (v: unknown): number | undefined => {
  const x = Array.isArray(v) ? v[0] : v;
  const n = typeof x === 'number' ? x : typeof x === 'string' ? Number(x) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

/**
 * Renders one frame of a (de-identified) DICOM dataset to an 8-bit PNG with a chosen
 * window/level (PS3.3 C.11.2.1.2 linear VOI function after the modality LUT: RescaleSlope and
 * RescaleIntercept). Without a window the header's first window is used, else the frame's range.
 * MONOCHROME1 is inverted; 8-bit RGB is copied (window/level does not apply). Compressed
 * transfer syntaxes are refused (no codec is bundled).
 */
export function renderDicomFrame(parsed: ParsedDicom, opts: { frame?: number; center?: number; width?: number } = {}): RenderedFrame {
  const { summary: s, dataset: d } = parsed;
  if (!NATIVE.has(s.transferSyntaxUid) || (s.bitsAllocated !== 8 && s.bitsAllocated !== 16)) {
    throw new ValidationError('this image cannot be rendered (compressed or unsupported pixel data)', { transferSyntaxUid: s.transferSyntaxUid, bitsAllocated: s.bitsAllocated });
  }
  const frames = Math.max(1, s.frames);
  const frame = opts.frame ?? Math.floor(frames / 2);
  if (!Number.isInteger(frame) || frame < 0 || frame >= frames) throw new ValidationError('frame out of range', { in: 'query', field: 'frame', frames });
  const joined = concat(d.PixelData as ArrayBuffer[]);
  const px = s.rows * s.columns;
  const png = new PNG({ width: s.columns, height: s.rows });
  const base = { frame, frames, rows: s.rows, columns: s.columns };
  if (s.samplesPerPixel === 3) {
    if (s.bitsAllocated !== 8) throw new ValidationError('unsupported colour image', { bitsAllocated: s.bitsAllocated });
    const start = frame * px * 3;
    const planar = num(d.PlanarConfiguration) === 1;
    for (let i = 0; i < px; i++) {
      for (let c = 0; c < 3; c++) png.data[i * 4 + c] = joined[start + (planar ? c * px + i : i * 3 + c)] ?? 0;
      png.data[i * 4 + 3] = 255;
    }
    return { ...base, png: new Uint8Array(PNG.sync.write(png)) };
  }
  const bytesPer = s.bitsAllocated / 8;
  const view = new DataView(joined.buffer, joined.byteOffset + frame * px * bytesPer, px * bytesPer);
  const signed = num(d.PixelRepresentation) === 1;
  const slope = num(d.RescaleSlope) ?? 1;
  const intercept = num(d.RescaleIntercept) ?? 0;
  const mask = s.bitsStored < 16 ? (1 << s.bitsStored) - 1 : 0xffff;
  const bits = s.bitsAllocated === 8 ? 8 : s.bitsStored;
  const values = new Float64Array(px);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < px; i++) {
    let raw = s.bitsAllocated === 8 ? view.getUint8(i) : view.getUint16(i * 2, true) & mask;
    if (signed && raw & (1 << (bits - 1))) raw -= 1 << bits;
    const v = raw * slope + intercept;
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const hc = num(d.WindowCenter);
  const hw = num(d.WindowWidth);
  const defaultWindow = hc !== undefined && hw !== undefined && hw > 1 ? { center: hc, width: hw } : { center: (min + max) / 2, width: Math.max(max - min, 1) + 1 };
  const center = opts.center ?? defaultWindow.center;
  const width = Math.max(2, opts.width ?? defaultWindow.width);
  const invert = s.photometricInterpretation === 'MONOCHROME1';
  for (let i = 0; i < px; i++) {
    const y = ((values[i]! - (center - 0.5)) / (width - 1) + 0.5) * 255;
    const g = Math.max(0, Math.min(255, Math.round(y)));
    const out = invert ? 255 - g : g;
    png.data[i * 4] = out;
    png.data[i * 4 + 1] = out;
    png.data[i * 4 + 2] = out;
    png.data[i * 4 + 3] = 255;
  }
  return { ...base, png: new Uint8Array(PNG.sync.write(png)), window: { center, width }, defaultWindow, range: { min, max } };
}

function concat(parts: ArrayBuffer[]): Uint8Array {
  if (parts.length === 1) return new Uint8Array(parts[0]!);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), at);
    at += p.byteLength;
  }
  return out;
}
