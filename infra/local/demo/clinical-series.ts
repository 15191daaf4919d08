import type { DemoPatient } from './demo-model';
import { SOP_CLASS, writeDicomInstance } from './dicom-builder';
import { deterministicUid } from './prng';

/**
 * A clinical-size CT series of one demo patient: `slices` axial slices of `size`² 16-bit pixels
 * (512² is what CT scanners write, ~512 KB a slice). The demo cohort's imaging is 1–3 slices of
 * 128² per series, enough for the portal but not for throughput: a real study is tens to hundreds
 * of such slices, and what it costs to ingest is dominated by bytes, not by per-file overhead.
 * Pixels are a water phantom with a denser insert and noise, so they are not constant.
 */
export function clinicalCtSeries(patient: Pick<DemoPatient, 'identity'>, opts: { seed: number; slices: number; size?: number; studyDate?: string }): Uint8Array[] {
  const size = opts.size ?? 512;
  const uid = (label: string) => deterministicUid(opts.seed, `clinical-ct/${patient.identity.mrn}/${label}`);
  const id = patient.identity;
  const studyDate = opts.studyDate ?? '20260105';
  const header = {
    patientName: `${id.familyName}^${id.givenName}`,
    patientId: id.mrn,
    patientBirthDate: id.birthDate.replaceAll('-', ''),
    patientSex: id.sex === 'female' ? ('F' as const) : ('M' as const),
    patientAge: `${String(Number(studyDate.slice(0, 4)) - Number(id.birthDate.slice(0, 4))).padStart(3, '0')}Y`,
    studyInstanceUid: uid('study'),
    studyDate,
    studyTime: '093000',
    studyId: '1',
    accessionNumber: `CT${studyDate}${String(opts.seed % 10_000).padStart(4, '0')}`,
    studyDescription: 'CT Chest',
    referringPhysicianName: 'Demo^Physician',
    institutionName: 'Demo Hospital',
    manufacturer: 'MDRP',
    stationName: 'CT01',
    frameOfReferenceUid: uid('for'),
    implementationClassUid: uid('implementation'),
  };
  const seriesInstanceUid = uid('series-1');
  let state = (opts.seed * 2654435761) >>> 0;
  const noise = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state >>> 24) - 128;
  };
  const out: Uint8Array[] = [];
  for (let n = 0; n < opts.slices; n++) {
    const pixels = new Uint16Array(size * size);
    const c = size / 2;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const body = ((x - c) / (0.42 * size)) ** 2 + ((y - c) / (0.3 * size)) ** 2 <= 1;
        const insert = (x - c * 0.8) ** 2 + (y - c * 1.05) ** 2 <= (0.06 * size) ** 2;
        // Stored values with RescaleIntercept -1024: air ~0, water ~1024, the insert ~1300.
        pixels[y * size + x] = Math.max(0, (body ? (insert ? 1300 : 1024) : 24) + (body ? noise() >> 2 : 0));
      }
    }
    out.push(
      writeDicomInstance(header, {
        sopClassUid: SOP_CLASS.ct,
        sopInstanceUid: uid(`instance-${n + 1}`),
        seriesInstanceUid,
        seriesNumber: 1,
        seriesDescription: 'CT Chest 5mm',
        instanceNumber: n + 1,
        laterality: 'L',
        rows: size,
        columns: size,
        pixels,
        sliceLocation: n * 5,
        extra: { RescaleIntercept: -1024, RescaleSlope: 1, KVP: 120, WindowCenter: 40, WindowWidth: 400 },
      }),
    );
  }
  return out;
}
