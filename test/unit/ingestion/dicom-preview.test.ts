import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { SOP_CLASS, writeDicomInstance, type DicomStudyHeader } from '../../../infra/local/demo/dicom-builder';
import { parseDicom, renderPreview } from '../../../functions/core/ingestion/dicom-image';

const study: DicomStudyHeader = {
  patientName: 'TEST^PREVIEW',
  patientId: 'MRN-1',
  patientBirthDate: '19700101',
  patientSex: 'F',
  patientAge: '056Y',
  studyInstanceUid: '2.25.1',
  studyDate: '20260105',
  studyTime: '101500',
  studyId: '1',
  accessionNumber: 'A1',
  studyDescription: 'preview test',
  referringPhysicianName: '',
  institutionName: 'test',
  manufacturer: 'test',
  stationName: 'test',
  frameOfReferenceUid: '2.25.2',
  implementationClassUid: '2.25.3',
};
const W = 4;
const H = 2;
const image = (sopClassUid: string, pixels: Uint8Array | Uint16Array, extra?: Record<string, unknown>) =>
  writeDicomInstance(study, { sopClassUid, sopInstanceUid: `2.25.9${pixels.length}`, seriesInstanceUid: '2.25.4', seriesNumber: 1, seriesDescription: 's', instanceNumber: 1, laterality: 'L', rows: H, columns: W, pixels, sliceLocation: 0, ...(extra ? { extra } : {}) });
const decoded = (bytes: Uint8Array) => {
  const png = PNG.sync.read(Buffer.from(renderPreview(parseDicom(bytes))!));
  // RGBA as pngjs decodes it: [r, g, b] per pixel.
  return { width: png.width, height: png.height, rgb: [...Array(png.width * png.height).keys()].map((i) => [png.data[i * 4]!, png.data[i * 4 + 1]!, png.data[i * 4 + 2]!]) };
};

describe('DICOM preview rendition (renderPreview)', () => {
  const colours = [...Array(W * H).keys()].map((i) => [i * 30, 255 - i * 30, (i * 67) % 256]);

  it('R-ING-5: RGB keeps every pixel colour, interleaved or colour-by-plane', () => {
    const interleaved = new Uint8Array(colours.flat());
    const planar = new Uint8Array([0, 1, 2].flatMap((c) => colours.map((px) => px[c]!)));
    const a = decoded(image(SOP_CLASS.secondaryCapture, interleaved));
    const b = decoded(image(SOP_CLASS.secondaryCapture, planar, { PlanarConfiguration: 1 }));
    expect([a.width, a.height]).toEqual([W, H]);
    expect(a.rgb).toEqual(colours);
    expect(b.rgb).toEqual(colours);
  });

  it('R-ING-5: grey frames use the header window (PS3.3 linear VOI), MONOCHROME1 inverted', () => {
    // 12-bit values around a window of centre 1000, width 400: below, edges, centre, above.
    const values = new Uint16Array([0, 800, 900, 1000, 1100, 1199, 1200, 4095]);
    const window = { WindowCenter: 1000, WindowWidth: 400 };
    const grey = decoded(image(SOP_CLASS.ct, values, window)).rgb.map(([r, g, b]) => (r === g && g === b ? r : -1));
    const expected = [...values].map((v) => Math.max(0, Math.min(255, Math.round(((v - 999.5) / 399 + 0.5) * 255))));
    expect(grey).toEqual(expected);
    expect(grey[0]).toBe(0);
    expect(grey[7]).toBe(255);
    const inverted = decoded(image(SOP_CLASS.ct, values, { ...window, PhotometricInterpretation: 'MONOCHROME1' })).rgb.map(([r]) => r);
    expect(inverted).toEqual(expected.map((g) => 255 - g));
  });

  it('R-ING-5: without a window in the header the frame spans its own min to max', () => {
    const grey = decoded(image(SOP_CLASS.ct, new Uint16Array([100, 100, 300, 300, 500, 500, 100, 500]))).rgb.map(([r]) => r!);
    expect(Math.min(...grey)).toBe(0);
    expect(Math.max(...grey)).toBe(255);
    expect(grey[2]).toBeGreaterThan(100);
    expect(grey[2]).toBeLessThan(155);
  });
});
