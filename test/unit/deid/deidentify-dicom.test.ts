import { beforeAll, describe, expect, it } from 'vitest';
import { shiftDicomDate } from '../../../functions/core/deid/date-shift';
import { L2_RESEARCH, L3_PROJECT, type DeidPolicy } from '../../../functions/core/deid/deid-policy';
import { patientPseudonym } from '../../../functions/core/deid/deidentify-resource';
import { deidentifyDicom, deidentifyDicomDataset, readDicom, type DicomDataset, type DicomElement } from '../../../functions/core/deid/deidentify-dicom';
import { ANNEX_E_TABLE, resolveAction, type AnnexERow } from '../../../functions/core/deid/dicom-profile';
import { Pseudonymizer } from '../../../functions/core/deid/pseudonym';
import { demoCohort, localKeys } from './deid-fixtures';

const keys = localKeys();
const projectId = 'proj-dicom';
const token = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const ctx = { policy: L2_RESEARCH, projectId, patientToken: token, keys, knownNames: ['Zhang Yun'] };

function sample(vr: string, i: number): unknown[] {
  switch (vr) {
    case 'PN':
      return [{ Alphabetic: 'Zhang^Yun' }];
    case 'DA':
      return ['20240926'];
    case 'TM':
      return ['101500'];
    case 'DT':
      return ['20240926101500'];
    case 'UI':
      return [`1.2.826.0.1.3680043.2.1125.1.${i}`];
    case 'SQ':
      return [{ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Zhang^Yun' }] }, '00080100': { vr: 'SH', Value: ['CODE1'] } }];
    case 'AS':
      return ['045Y'];
    case 'CS':
      return ['ABC'];
    case 'AE':
      return ['AET1'];
    case 'UR':
      return ['http://pacs.example.org/x'];
    case 'US':
    case 'SS':
    case 'UL':
    case 'SL':
    case 'FL':
    case 'FD':
    case 'IS':
    case 'DS':
      return [7];
    case 'OB':
    case 'OW':
    case 'UN':
      return [new Uint8Array([1, 2, 3, 4]).buffer];
    default:
      return ['Zhang Yun, tel 13912345678'];
  }
}

const singleRows = ANNEX_E_TABLE.filter((r) => /^[0-9A-F]{8}$/.test(r.tag) && r.vr);
const OVERRIDDEN = new Set(['00100010', '00100020']);
let offset = 0;

describe('DICOM PS3.15 Annex E Basic Profile + Modified Dates + Clean Descriptors (R-DEID-4)', () => {
  beforeAll(async () => {
    offset = await new Pseudonymizer(keys, projectId).dateOffsetDays(token, L2_RESEARCH.dateShift);
  });

  it('R-DEID-4: the derived table has all 621 rows of Table E.1-1 (2024b) with valid action codes', () => {
    expect(ANNEX_E_TABLE).toHaveLength(621);
    expect(singleRows.length).toBe(617);
    for (const r of ANNEX_E_TABLE) expect(r.basic).toMatch(/^[DZXKCU](\/[DZXKCU]\*?)*$/);
  });

  it.each(singleRows.map((r, i) => [`${r.tag} ${r.name}`, r, i] as [string, AnnexERow, number]))('R-DEID-4: Annex E row %s', async (_label, row, i) => {
    const vr = row.vr ?? 'LO';
    const original: DicomElement = { vr, Value: sample(vr, i) };
    const { dict, report } = await deidentifyDicomDataset({ dict: { [row.tag]: original } }, ctx);
    expect(report.refused).toBeUndefined();
    const el = dict?.[row.tag];
    if (OVERRIDDEN.has(row.tag)) {
      expect(JSON.stringify(el?.Value)).toContain(token);
      return;
    }
    const action = resolveAction(row, L2_RESEARCH.dicom.options);
    switch (action) {
      case 'X':
        expect(el).toBeUndefined();
        break;
      case 'Z':
        expect(el?.Value).toEqual([]);
        break;
      case 'K':
        expect(el?.Value).toEqual(original.Value);
        break;
      case 'U':
        if (vr === 'SQ') {
          expect(JSON.stringify(el?.Value)).not.toContain('Zhang');
          break;
        }
        expect(el?.Value?.[0]).toMatch(/^2\.25\.\d+$/);
        expect(el?.Value?.[0]).not.toBe(original.Value?.[0]);
        break;
      case 'D':
        if (vr === 'UI') expect(el?.Value?.[0]).toMatch(/^2\.25\.\d+$/);
        else if (vr === 'SQ') expect(JSON.stringify(el?.Value)).not.toContain('Zhang');
        else if (['OB', 'OW', 'UN'].includes(vr)) expect(el?.Value).toEqual([]);
        else {
          expect(el?.Value?.length).toBeGreaterThan(0);
          expect(JSON.stringify(el?.Value)).not.toBe(JSON.stringify(original.Value));
        }
        break;
      case 'C':
        if (vr === 'DA' || vr === 'DT') expect(el?.Value?.[0]).toBe(shiftDicomDate(String(original.Value?.[0]), offset));
        else if (vr === 'TM') expect(el?.Value).toEqual(original.Value);
        else if (vr === 'SQ') expect(JSON.stringify(el?.Value)).not.toContain('Zhang');
        else if (el) {
          expect(String(el.Value?.[0])).not.toContain('Zhang');
          expect(String(el.Value?.[0])).not.toContain('13912345678');
        }
        break;
    }
  });

  it('R-DEID-4: private attributes, curves and overlays are removed; identity-removed attributes are added', async () => {
    const ds: DicomDataset = {
      '00091010': { vr: 'LO', Value: ['private vendor data'] },
      '00290010': { vr: 'LO', Value: ['SIEMENS CSA HEADER'] },
      '50000010': { vr: 'US', Value: [1] },
      '60003000': { vr: 'OW', Value: [new Uint8Array([1]).buffer] },
      '00080060': { vr: 'CS', Value: ['MR'] },
    };
    const { dict } = await deidentifyDicomDataset({ dict: ds }, ctx);
    expect(Object.keys(dict!)).not.toContain('00091010');
    expect(Object.keys(dict!)).not.toContain('00290010');
    expect(Object.keys(dict!)).not.toContain('50000010');
    expect(Object.keys(dict!)).not.toContain('60003000');
    expect(dict!['00080060']?.Value).toEqual(['MR']);
    expect(dict!['00120062']?.Value).toEqual(['YES']);
    const codes = (dict!['00120064']?.Value as DicomDataset[]).map((i) => i['00080100']?.Value?.[0]);
    expect(codes).toEqual(['113100', '113107', '113105']);
    expect(dict!['00280303']?.Value).toEqual(['MODIFIED']);
  });

  it('R-DEID-4: burned-in annotation is refused (l2), flagged (l3) or blanked when the policy gives regions', async () => {
    const pixels = new Uint8Array(16 * 16).fill(200);
    const ds: DicomDataset = {
      '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.7'] },
      '00280301': { vr: 'CS', Value: ['YES'] },
      '00280002': { vr: 'US', Value: [1] },
      '00280010': { vr: 'US', Value: [16] },
      '00280011': { vr: 'US', Value: [16] },
      '00280100': { vr: 'US', Value: [8] },
      '7FE00010': { vr: 'OB', Value: [pixels.buffer] },
    };
    const refused = await deidentifyDicomDataset({ dict: ds }, ctx);
    expect(refused.dict).toBeUndefined();
    expect(refused.report.refused).toMatch(/BurnedInAnnotation/);
    const flagged = await deidentifyDicomDataset({ dict: ds }, { ...ctx, policy: L3_PROJECT });
    expect(flagged.dict).toBeDefined();
    expect(flagged.report.warnings.join(' ')).toMatch(/BurnedInAnnotation/);
    const blanking: DeidPolicy = { ...L2_RESEARCH, dicom: { ...L2_RESEARCH.dicom, burnedInAnnotation: 'blank-regions', regions: [{ x: 0, y: 0, width: 16, height: 4 }] } };
    const blanked = await deidentifyDicomDataset({ dict: ds }, { ...ctx, policy: blanking });
    const out = new Uint8Array(blanked.dict!['7FE00010']!.Value![0] as ArrayBuffer);
    expect(out.slice(0, 64).every((v) => v === 0)).toBe(true);
    expect(out.slice(64).every((v) => v === 200)).toBe(true);
    expect(pixels[0]).toBe(200); // input untouched
    expect(blanked.dict!['00280301']?.Value).toEqual(['NO']);
    expect((blanked.dict!['00120064']?.Value as DicomDataset[]).map((i) => i['00080100']?.Value?.[0])).toContain('113101');
  });

  it('R-DEID-4: demo DICOM files round-trip — output parses, Chinese name and MRN gone, UIDs consistent within a study', async () => {
    for (const p of demoCohort().patients.slice(0, 3)) {
      const patientToken = await patientPseudonym(keys, projectId, p.sourcePatientId);
      const pseudonymizer = new Pseudonymizer(keys, projectId);
      const studies = new Map<string, Set<string>>();
      const sops = new Set<string>();
      for (const f of p.files.filter((x) => x.kind === 'dicom')) {
        const { bytes, report } = await deidentifyDicom(f.bytes, { policy: L2_RESEARCH, projectId, patientToken, keys, pseudonymizer });
        expect(bytes, report.refused).toBeDefined();
        const raw = Buffer.from(bytes!).toString('utf8');
        for (const v of [p.identity.fullName, `${p.identity.familyName}^${p.identity.givenName}`, p.identity.mrn, f.dicom!.studyInstanceUid, f.dicom!.sopInstanceUid]) expect(raw).not.toContain(v);
        const { meta, dict } = readDicom(bytes!);
        expect(dict['00100010']?.Value).toEqual([{ Alphabetic: patientToken }]);
        expect(dict['00100020']?.Value).toEqual([patientToken]);
        expect(dict['00120062']?.Value).toEqual(['YES']);
        const study = String(dict['0020000D']?.Value?.[0]);
        const sop = String(dict['00080018']?.Value?.[0]);
        expect(meta['00020003']?.Value?.[0]).toBe(sop);
        expect(sop).toMatch(/^2\.25\.\d+$/);
        expect(study).toBe(await pseudonymizer.uid(f.dicom!.studyInstanceUid));
        if (!studies.has(f.dicom!.studyInstanceUid)) studies.set(f.dicom!.studyInstanceUid, new Set());
        studies.get(f.dicom!.studyInstanceUid)!.add(study);
        sops.add(sop);
        expect(dict['00080020']?.Value?.[0]).not.toBe(undefined);
        expect(report.counts['replace-uid']).toBeGreaterThan(0);
      }
      for (const s of studies.values()) expect(s.size).toBe(1);
      expect(sops.size).toBe(p.files.filter((x) => x.kind === 'dicom').length);
    }
  });
});
