import * as dcmjsModule from 'dcmjs';

/** The part of the dcmjs API this file uses. */
interface DcmjsApi {
  data: {
    DicomDict: new (meta: unknown) => { dict: unknown; write(options?: unknown): ArrayBuffer };
    DicomMetaDictionary: { denaturalizeDataset(dataset: unknown): unknown };
  };
}
const dcmjs = ((dcmjsModule as unknown as { default?: DcmjsApi }).default ?? dcmjsModule) as unknown as DcmjsApi;

/** SOP classes written by the demo generator. */
export const SOP_CLASS = {
  mr: '1.2.840.10008.5.1.4.1.1.4',
  ct: '1.2.840.10008.5.1.4.1.1.2',
  secondaryCapture: '1.2.840.10008.5.1.4.1.1.7',
} as const;

/** Explicit VR little endian. */
export const TRANSFER_SYNTAX_EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** Patient/study level header values shared by all instances of one study. */
export interface DicomStudyHeader {
  patientName: string;
  patientId: string;
  /** DICOM DA (YYYYMMDD). */
  patientBirthDate: string;
  patientSex: 'F' | 'M';
  patientAge: string;
  studyInstanceUid: string;
  studyDate: string;
  studyTime: string;
  studyId: string;
  accessionNumber: string;
  studyDescription: string;
  referringPhysicianName: string;
  institutionName: string;
  manufacturer: string;
  stationName: string;
  frameOfReferenceUid: string;
  implementationClassUid: string;
}

/** Series/instance level values of one image. */
export interface DicomImageSpec {
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  seriesNumber: number;
  seriesDescription: string;
  instanceNumber: number;
  laterality: 'L' | 'R';
  rows: number;
  columns: number;
  /** MR/CT: 16-bit unsigned pixels; SC: 8-bit RGB interleaved. */
  pixels: Uint16Array | Uint8Array;
  sliceLocation: number;
  /** Extra modality-specific attributes (naturalized dcmjs names). */
  extra?: Record<string, unknown>;
}

const PIXEL_SPACING_MM = 2.5;

/**
 * Serializes one Part 10 file (explicit VR little endian) with the type 1/2 attributes `dciodvfy`
 * checks for MR, CT and Secondary Capture. Identifying attributes are kept on purpose: these are
 * the raw hospital files the platform must de-identify (R-DEID-4).
 */
export function writeDicomInstance(study: DicomStudyHeader, image: DicomImageSpec): Uint8Array {
  const isSc = image.sopClassUid === SOP_CLASS.secondaryCapture;
  const modality = image.sopClassUid === SOP_CLASS.mr ? 'MR' : image.sopClassUid === SOP_CLASS.ct ? 'CT' : 'OT';
  const half = (image.columns * PIXEL_SPACING_MM) / 2;
  const dataset: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 192',
    ImageType: isSc ? ['DERIVED', 'SECONDARY'] : modality === 'MR' ? ['ORIGINAL', 'PRIMARY', 'OTHER'] : ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    InstanceCreationDate: study.studyDate,
    InstanceCreationTime: study.studyTime,
    SOPClassUID: image.sopClassUid,
    SOPInstanceUID: image.sopInstanceUid,
    StudyDate: study.studyDate,
    SeriesDate: study.studyDate,
    ContentDate: study.studyDate,
    StudyTime: study.studyTime,
    SeriesTime: study.studyTime,
    ContentTime: study.studyTime,
    AccessionNumber: study.accessionNumber,
    Modality: modality,
    Manufacturer: study.manufacturer,
    InstitutionName: study.institutionName,
    ReferringPhysicianName: study.referringPhysicianName,
    StationName: study.stationName,
    StudyDescription: study.studyDescription,
    SeriesDescription: image.seriesDescription,
    ManufacturerModelName: 'MDRP Synthetic',
    PatientName: study.patientName,
    PatientID: study.patientId,
    PatientBirthDate: study.patientBirthDate,
    PatientSex: study.patientSex,
    PatientAge: study.patientAge,
    BodyPartExamined: 'BREAST',
    SoftwareVersions: 'mdrp-demo-1',
    StudyInstanceUID: study.studyInstanceUid,
    SeriesInstanceUID: image.seriesInstanceUid,
    StudyID: study.studyId,
    SeriesNumber: image.seriesNumber,
    InstanceNumber: image.instanceNumber,
    PatientOrientation: ['L', 'P'],
    ImageLaterality: image.laterality,
    Rows: image.rows,
    Columns: image.columns,
    PixelRepresentation: 0,
  };
  if (isSc) {
    Object.assign(dataset, {
      ConversionType: 'WSD',
      SamplesPerPixel: 3,
      PhotometricInterpretation: 'RGB',
      PlanarConfiguration: 0,
      BitsAllocated: 8,
      BitsStored: 8,
      HighBit: 7,
      BurnedInAnnotation: 'NO',
    });
  } else {
    Object.assign(dataset, {
      AcquisitionDate: study.studyDate,
      AcquisitionTime: study.studyTime,
      AcquisitionNumber: 1,
      PatientPosition: modality === 'MR' ? 'FFP' : 'HFS',
      FrameOfReferenceUID: study.frameOfReferenceUid,
      PositionReferenceIndicator: '',
      ImagePositionPatient: [-half, -half, image.sliceLocation],
      ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
      SliceLocation: image.sliceLocation,
      SliceThickness: 5,
      PixelSpacing: [PIXEL_SPACING_MM, PIXEL_SPACING_MM],
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      BitsAllocated: 16,
      BitsStored: 12,
      HighBit: 11,
    });
  }
  if (image.extra) Object.assign(dataset, image.extra);
  const pixelBuffer = image.pixels.buffer.slice(image.pixels.byteOffset, image.pixels.byteOffset + image.pixels.byteLength);
  dataset.PixelData = pixelBuffer;
  dataset._vrMap = { PixelData: isSc ? 'OB' : 'OW' };

  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: image.sopClassUid,
    MediaStorageSOPInstanceUID: image.sopInstanceUid,
    TransferSyntaxUID: TRANSFER_SYNTAX_EXPLICIT_LE,
    ImplementationClassUID: study.implementationClassUid,
    ImplementationVersionName: 'MDRP_DEMO_1',
  };
  const dict = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}

/** Attributes of the MR Image module for a breast DCE / T2 series. */
export function mrExtra(kind: 't2' | 'dce', phase: number): Record<string, unknown> {
  return {
    ScanningSequence: kind === 't2' ? 'SE' : 'GR',
    SequenceVariant: kind === 't2' ? 'SK' : 'SP',
    ScanOptions: kind === 't2' ? 'FS' : '',
    MRAcquisitionType: kind === 't2' ? '2D' : '3D',
    RepetitionTime: kind === 't2' ? 4000 : 4.5,
    EchoTime: kind === 't2' ? 85 : 1.8,
    EchoTrainLength: kind === 't2' ? 16 : 1,
    MagneticFieldStrength: 3,
    ImagedNucleus: '1H',
    WindowCenter: 1200,
    WindowWidth: 2400,
    ...(kind === 'dce' ? { ContrastBolusAgent: 'Gadobutrol', TemporalPositionIdentifier: phase, NumberOfTemporalPositions: 3 } : {}),
  };
}

/** Attributes of the CT Image module for a simulation CT. */
export function ctExtra(): Record<string, unknown> {
  return { KVP: 120, RescaleIntercept: -1024, RescaleSlope: 1, RescaleType: 'HU', WindowCenter: 40, WindowWidth: 400 };
}

/** Cheap deterministic pixel noise in [-1, 1) from integer coordinates (no PRNG calls per pixel). */
function hashNoise(x: number, y: number, s: number): number {
  let h = (x * 374761393 + y * 668265263 + s * 2147483647) | 0;
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  h ^= h >>> 16;
  return ((h >>> 0) / 4294967296) * 2 - 1;
}

/** Geometry of the synthetic lesion, in pixel units of a `size`×`size` image. */
export interface LesionGeometry {
  laterality: 'left' | 'right';
  /** Radius in pixels. */
  radius: number;
  /** Offset of lesion centre from breast centre (pixels). */
  dx: number;
  dy: number;
}

const templateCache = new Map<string, Float32Array>();

/** Noise-free background of a breast MR slice (two prone breasts + chest wall), cached per kind/slice. */
function mrTemplate(size: number, kind: 't2' | 'dce', slice: number): Float32Array {
  const key = `mr:${size}:${kind}:${slice}`;
  const hit = templateCache.get(key);
  if (hit) return hit;
  const px = new Float32Array(size * size);
  const cy = size * 0.38;
  const rx = size * 0.2;
  const ry = size * 0.42;
  const centres = [size * 0.27, size * 0.73];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let v = 0;
      if (y < size * 0.22) {
        v = 500 + 150 * Math.sin(x * 0.2); // chest wall / pectoral muscle band
      } else {
        for (const cx of centres) {
          const nx = (x - cx) / rx;
          const ny = (y - cy) / ry;
          if (ny > 0 && nx * nx + ny * ny <= 1) {
            const fat = kind === 't2' ? 1800 : 1100;
            const gland = 0.5 + 0.5 * Math.sin(x * 0.55 + y * 0.31 + slice) * Math.cos(y * 0.27 - x * 0.12);
            v = fat - gland * 500;
          }
        }
      }
      px[y * size + x] = v;
    }
  }
  templateCache.set(key, px);
  return px;
}

/**
 * Prone axial breast MR slice: two breasts hanging down (image bottom = anterior), fibroglandular
 * texture and an enhancing lesion (DCE phase 1–3 brightens it). 12-bit values.
 */
export function mrBreastSlice(size: number, lesion: LesionGeometry, kind: 't2' | 'dce', phase: number, slice: number, seed: number): Uint16Array {
  const tpl = mrTemplate(size, kind, slice);
  const px = new Uint16Array(size * size);
  const cy = size * 0.38;
  const ry = size * 0.42;
  // Image left = patient right (radiological convention).
  const lesionCx = (lesion.laterality === 'right' ? size * 0.27 : size * 0.73) + lesion.dx;
  const lesionCy = cy + ry * 0.45 + lesion.dy;
  const r = lesion.radius * (1 - Math.abs(slice) * 0.18);
  const r2 = r * r;
  const lesionBright = kind === 't2' ? 1500 : 900 + phase * 700;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      let v = tpl[i] ?? 0;
      const dx = x - lesionCx;
      const dy = y - lesionCy;
      const d2 = dx * dx + dy * dy;
      if (r > 0 && d2 < r2) v = lesionBright - (Math.sqrt(d2) / r) * 200;
      if (v > 0) v += hashNoise(x, y, seed) * 60;
      px[i] = v < 0 ? 0 : v > 4095 ? 4095 : Math.round(v);
    }
  }
  return px;
}

function ctTemplate(size: number, slice: number): Float32Array {
  const key = `ct:${size}:${slice}`;
  const hit = templateCache.get(key);
  if (hit) return hit;
  const px = new Float32Array(size * size);
  const c = size / 2;
  const inEllipse = (x: number, y: number, cx: number, cy: number, ax: number, ay: number): boolean => {
    const nx = (x - cx) / ax;
    const ny = (y - cy) / ay;
    return nx * nx + ny * ny <= 1;
  };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let hu = -1000;
      const inBody = inEllipse(x, y, c, c * 1.05, size * 0.45, size * 0.3);
      // Breasts: anterior bumps (image top = anterior for supine).
      const breast = inEllipse(x, y, size * 0.3, size * 0.3, size * 0.14, size * 0.1) || inEllipse(x, y, size * 0.7, size * 0.3, size * 0.14, size * 0.1);
      if (inBody || breast) hu = breast ? -60 : 40;
      if (inEllipse(x, y, size * 0.32, size * 0.55, size * 0.13, size * 0.17 - slice) || inEllipse(x, y, size * 0.68, size * 0.55, size * 0.13, size * 0.17 - slice)) hu = -820;
      if (inEllipse(x, y, c, size * 0.78, size * 0.05, size * 0.05)) hu = 700; // vertebra
      if (inEllipse(x, y, size * 0.56, size * 0.52, size * 0.09, size * 0.08)) hu = 45; // heart
      px[y * size + x] = hu;
    }
  }
  templateCache.set(key, px);
  return px;
}

/** Supine axial CT simulation slice of the thorax, stored value = HU + 1024 (12-bit). */
export function ctThoraxSlice(size: number, slice: number, seed: number): Uint16Array {
  const tpl = ctTemplate(size, slice);
  const px = new Uint16Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      let hu = tpl[i] ?? -1000;
      if (hu > -1000) hu += hashNoise(x, y, seed) * 15;
      const v = Math.round(hu + 1024);
      px[i] = v < 0 ? 0 : v > 4095 ? 4095 : v;
    }
  }
  return px;
}

/**
 * Dose-distribution image: the CT slice in grey with a colour wash of a tangential breast dose
 * (or a small spherical boost for SBRT). Returns 8-bit RGB interleaved pixels.
 */
export function doseWashRgb(ct: Uint16Array, size: number, laterality: 'left' | 'right', sbrt: boolean): Uint8Array {
  const rgb = new Uint8Array(size * size * 3);
  // Image left = patient right.
  const cx = laterality === 'right' ? size * 0.3 : size * 0.7;
  const cy = size * 0.32;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const hu = (ct[i] ?? 0) - 1024;
      const grey = Math.max(0, Math.min(255, Math.round(((hu + 160) / 400) * 255)));
      const ax = sbrt ? size * 0.06 : size * 0.2;
      const ay = sbrt ? size * 0.06 : size * 0.16;
      const d2 = ((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2;
      const dose = Math.max(0, Math.min(1.05, 1.1 - d2 * 0.55));
      let r = grey;
      let g = grey;
      let b = grey;
      if (dose > 0.2 && hu > -950) {
        // jet-like colour map, 40% opacity
        const t = Math.min(1, dose);
        const cr = Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - 3))));
        const cg = Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - 2))));
        const cb = Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - 1))));
        r = Math.round(grey * 0.6 + cr * 0.4);
        g = Math.round(grey * 0.6 + cg * 0.4);
        b = Math.round(grey * 0.6 + cb * 0.4);
      }
      rgb[i * 3] = r;
      rgb[i * 3 + 1] = g;
      rgb[i * 3 + 2] = b;
    }
  }
  return rgb;
}
