import { beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { PdfJsDocumentParser } from '../../../functions/adapters/shared/pdfjs-document-parser';
import { CURRENT_AGREEMENT_VERSION } from '../../../functions/core/access/access-request-service';
import { readDicom } from '../../../functions/core/deid/deidentify-dicom';
import type { Actor } from '../../../functions/core/identity/actor';
import type { DemoPatient } from '../../../infra/local/demo/demo-model';
import { containerWith, demoCohort, patientIdOf, source } from '../ingestion/multimodal-fixture';

const researcher: Actor = { kind: 'user', id: 'alice', displayName: 'Alice', roles: ['researcher'], institution: 'demo-hospital-1', mfa: true, scopes: [] };
const other: Actor = { ...researcher, id: 'bob' };
const seed: Actor = { kind: 'system', id: 'system:test-seed', roles: [], mfa: false, scopes: [] };

/** Every value the identity vault holds for a demo patient (none may reach a researcher). */
function vaultValues(p: DemoPatient): string[] {
  const id = p.identity;
  return [id.fullName, id.residentId, id.mobilePhone, id.mrn, id.insuranceNumber, id.address.street, id.emergencyContact.name, id.emergencyContact.mobilePhone].filter((v): v is string => typeof v === 'string' && v.length >= 2);
}

const latin1 = (b: Uint8Array) => new TextDecoder('latin1').decode(b);
const utf8 = (b: Uint8Array) => new TextDecoder().decode(b);

function variance(png: Uint8Array): number {
  const img = PNG.sync.read(Buffer.from(png));
  let sum = 0;
  let sq = 0;
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    const v = img.data[i * 4]!;
    sum += v;
    sq += v * v;
  }
  return sq / n - (sum / n) ** 2;
}

describe('timeline curation and inline previews (R-ANA-2, R-MPI-4, R-DEID-1, R-SEC-4)', () => {
  let c: Awaited<ReturnType<typeof containerWith>>;
  let p: DemoPatient;
  let patientId: string;
  let grantId: string;
  let token: string;
  const dm: Actor = { kind: 'user', id: 'dm-1', displayName: 'Dora Manager', roles: ['data-manager'], institution: 'demo-hospital-1', mfa: true, scopes: [] };

  beforeAll(async () => {
    p = demoCohort().patients.find((x) => x.institutionId === 'demo-hospital-1')!;
    c = await containerWith([p]);
    await c.catalog.saveDataset({ ...(await c.catalog.getDataset('bc-test')), modalities: ['clinical', 'imaging', 'documents'] });
    for (const f of p.files) {
      const job = await c.ingestRouter.ingest(source(p, f.fileName, f.contentType, f.bytes, f.kind === 'dicom' ? {} : { patientRef: p.identity.mrn }));
      expect(job.counts.rejected).toBe(0);
    }
    patientId = await patientIdOf(c, p);
    await c.timeline.linkDocuments(seed, patientId);
    const r = await c.accessRequests.submit(researcher, {
      title: 'Dose and response',
      purposeCode: 'DUO:0000007',
      purpose: 'Disease-specific research on breast cancer radiotherapy',
      academicStatement: 'A detailed academic statement that is long enough to pass the fifty character rule.',
      scope: { datasetIds: ['bc-test'], modalities: ['clinical', 'imaging', 'documents'], fields: [] },
      requestedDurationDays: 30,
      agreementVersion: CURRENT_AGREEMENT_VERSION,
      agreementAccepted: true,
    });
    grantId = (await c.accessRequests.runWorkflowTask({ task: 'issueGrant', requestId: r.requestId })).grantId as string;
    const found = await c.researchAccess.search(researcher, grantId, undefined, 10);
    expect(found.total).toBe(1);
    token = found.items[0]!.token;
  }, 180_000);

  it('R-MPI-4: a data manager adds an event with linked records and files; edits are versioned and a stale version gets 409 CONFLICT', async () => {
    const { events, files } = await c.timeline.timeline(dm, patientId);
    const procedure = events.find((e) => e.type === 'procedure')!;
    const file = files.find((f) => f.kind === 'pdf')!;
    const added = await c.timeline.add(dm, patientId, { type: 'radiotherapy-cycle', occurredAt: '2023-11-13T06:00:00Z', endedAt: '2023-12-01T06:00:00Z', title: { zh: '放疗第1周期', en: 'Radiotherapy cycle 1' }, recordRefs: procedure.recordRefs, fileIds: [file.fileId] });
    expect(added).toMatchObject({ source: 'manual', version: 1, type: 'radiotherapy-cycle', recordRefs: procedure.recordRefs, fileIds: [file.fileId] });

    const edited = await c.timeline.edit(dm, patientId, added.eventId, { expectedVersion: 1, title: { zh: '放疗第1周期（调整）', en: 'Radiotherapy cycle 1 (adjusted)' }, endedAt: null });
    expect(edited.version).toBe(2);
    expect(edited.endedAt).toBeUndefined();
    expect(edited.history.map((h) => h.change)).toEqual(['created', 'edited']);
    // Someone still holding version 1 loses: nothing is overwritten silently.
    await expect(c.timeline.edit(dm, patientId, added.eventId, { expectedVersion: 1, title: { zh: 'x', en: 'stale' } })).rejects.toMatchObject({ code: 'CONFLICT', details: { currentVersion: 2, expectedVersion: 1 } });
    const versions = await c.timeline.versions(dm, patientId, added.eventId);
    expect(versions.map((v) => [v.version, v.title.en])).toEqual([
      [1, 'Radiotherapy cycle 1'],
      [2, 'Radiotherapy cycle 1 (adjusted)'],
    ]);

    // Ingested events can be curated too (version 0 → 1), with the same concurrency rule.
    const ingested = events.find((e) => e.source === 'ingested' && e.version === 0 && e.type === 'visit')!;
    const first = await c.timeline.edit(dm, patientId, ingested.eventId, { expectedVersion: 0, type: 'first-visit' });
    expect(first.version).toBe(1);
    await expect(c.timeline.edit(dm, patientId, ingested.eventId, { expectedVersion: 0, type: 'visit' })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('R-MPI-4: links must be the patient’s own, times consistent, and only the patient’s institution curates', async () => {
    const base = { type: 'follow-up' as const, occurredAt: '2024-05-01T02:00:00Z', title: { zh: '随访', en: 'Follow-up' } };
    await expect(c.timeline.add(dm, patientId, { ...base, fileIds: ['f-000000000000000000000000'] })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'fileIds' } });
    await expect(c.timeline.add(dm, patientId, { ...base, recordRefs: ['Procedure/r-doesnotexist'] })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'recordRefs' } });
    await expect(c.timeline.add(dm, patientId, { ...base, endedAt: '2024-04-01T00:00:00Z' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'endedAt' } });
    await expect(c.timeline.add({ ...dm, institution: 'demo-hospital-2' }, patientId, base)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(c.timeline.add(dm, 'PT-NOPATIENT0', base)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('R-ANA-2, R-DEID-1: researchers see curated events with dates shifted and annotations scrubbed of PHI, with author and time', async () => {
    const ev = await c.timeline.add(dm, patientId, { type: 'follow-up', occurredAt: '2024-06-01T02:00:00Z', title: { zh: '电话随访', en: 'Phone follow-up' } });
    const secret = `患者${p.identity.fullName}（身份证 ${p.identity.residentId}，电话 ${p.identity.mobilePhone}）于2024年6月1日复诊，无复发。`;
    const annotated = await c.timeline.annotate(dm, patientId, ev.eventId, { text: secret });
    expect(annotated.annotations.at(-1)).toMatchObject({ by: 'dm-1', byName: 'Dora Manager', text: secret });
    expect(annotated.version).toBe(2);

    const view = await c.researchAccess.patient(researcher, grantId, token);
    const released = view.timeline.find((e) => e.source === 'manual' && e.title.en === 'Phone follow-up')!;
    expect(released).toBeDefined();
    expect(released.occurredAt).not.toBe('2024-06-01T02:00:00.000Z');
    const shift = Math.round((Date.parse(released.occurredAt) - Date.parse('2024-06-01T02:00:00Z')) / 86_400_000);
    expect(Math.abs(shift)).toBeGreaterThan(0);
    expect(released.annotations).toHaveLength(1);
    expect(released.annotations[0]!.byName).toBe('Dora Manager');
    const text = released.annotations[0]!.text;
    expect(text).toContain('无复发');
    for (const v of vaultValues(p)) expect(text).not.toContain(v);
    expect(text).not.toContain('2024年6月1日');
    // The internal event id never reaches the researcher.
    expect(JSON.stringify(view)).not.toContain(ev.eventId);
    expect(JSON.stringify(view)).not.toContain(patientId);
  });

  it('R-MPI-5: the radiotherapy visit shows its plan PDF and dose map beside its dose records, under grant-scoped file ids', async () => {
    const view = await c.researchAccess.patient(researcher, grantId, token);
    const withPdf = view.timeline.filter((e) => e.files.some((f) => f.kind === 'pdf'));
    expect(withPdf.length).toBeGreaterThanOrEqual(2);
    const rt = view.timeline.find((e) => e.files.some((f) => f.kind === 'pdf') && e.files.some((f) => f.kind === 'image'))!;
    expect(rt).toBeDefined();
    expect(rt.recordRefs.some((r) => r.startsWith('DocumentReference/'))).toBe(true);
    const dicom = view.timeline.flatMap((e) => e.files).filter((f) => f.kind === 'dicom');
    expect(dicom.length).toBeGreaterThan(0);
    for (const f of view.timeline.flatMap((e) => e.files)) {
      expect(f.fileId).toMatch(/^[a-f0-9]{32}$/);
      expect(f.title.en).not.toContain(patientId);
    }
    // DICOM previews rendered at ingest and PDF text extracts are not released beside the originals.
    expect(view.timeline.flatMap((e) => e.files).some((f) => f.title.en.endsWith('.pdf.txt') || f.title.en.endsWith('.png') && f.kind === 'dicom')).toBe(false);
  });

  it('R-DEID-1, R-ANA-2: the served DICOM is de-identified (PatientIdentityRemoved YES, no vault value) and frames render with window/level', async () => {
    const view = await c.researchAccess.patient(researcher, grantId, token);
    const file = view.timeline.flatMap((e) => e.files).find((f) => f.kind === 'dicom')!;
    const ds = await c.previews.preview(researcher, grantId, token, file.fileId, { format: 'dicom' });
    expect(ds.contentType).toBe('application/dicom');
    expect(ds.rendition).toBe('deidentified-dicom');
    const { dict } = readDicom(ds.bytes);
    expect(dict['00120062']?.Value?.[0]).toBe('YES');
    expect(dict['00100020']?.Value?.[0]).toBe(token);
    for (const v of vaultValues(p)) {
      expect(latin1(ds.bytes)).not.toContain(v);
      expect(utf8(ds.bytes)).not.toContain(v);
    }

    const frame = await c.previews.preview(researcher, grantId, token, file.fileId);
    expect(frame.contentType).toBe('image/png');
    expect(variance(frame.bytes)).toBeGreaterThan(10);
    const dw = frame.dicom!.defaultWindow!;
    const narrow = await c.previews.preview(researcher, grantId, token, file.fileId, { wc: dw.center, ww: Math.max(2, dw.width / 8) });
    expect(narrow.dicom!.window).toEqual({ center: dw.center, width: Math.max(2, dw.width / 8) });
    expect(Buffer.from(narrow.bytes).equals(Buffer.from(frame.bytes))).toBe(false);
    await expect(c.previews.preview(researcher, grantId, token, file.fileId, { frame: 999 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('R-DEID-1, R-ANA-2: a PDF is served as a new de-identified rendition whose text holds no vault value', async () => {
    const view = await c.researchAccess.patient(researcher, grantId, token);
    const parser = new PdfJsDocumentParser();
    const pdfs = view.timeline.flatMap((e) => e.files).filter((f) => f.kind === 'pdf');
    expect(pdfs.length).toBeGreaterThanOrEqual(2);
    let sawDoseTable = false;
    for (const f of pdfs) {
      const out = await c.previews.preview(researcher, grantId, token, f.fileId);
      expect(out.contentType).toBe('application/pdf');
      expect(out.rendition).toBe('text-rendition-pdf');
      expect(out.removedSpans).toBeGreaterThan(0);
      const { text } = await parser.parsePdf(out.bytes);
      expect(text).toContain('De-identified');
      for (const v of vaultValues(p)) expect(text).not.toContain(v);
      if (/V20|Dmean/.test(text)) sawDoseTable = true;
    }
    // The clinical content survives: the organ-at-risk dose table of the plan summary.
    expect(sawDoseTable).toBe(true);
    await expect(c.previews.preview(researcher, grantId, token, pdfs[0]!.fileId, { format: 'dicom' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('R-DEID-1, R-GOV-5: previews need the grant holder, a released file and a usable grant', async () => {
    const view = await c.researchAccess.patient(researcher, grantId, token);
    const file = view.timeline.flatMap((e) => e.files)[0]!;
    await expect(c.previews.preview(other, grantId, token, file.fileId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(c.previews.preview(researcher, grantId, token, '0'.repeat(32))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const image = view.timeline.flatMap((e) => e.files).find((f) => f.kind === 'image');
    if (image) {
      const png = await c.previews.preview(researcher, grantId, token, image.fileId);
      expect(png.rendition).toBe('reencoded-png');
      expect(variance(png.bytes)).toBeGreaterThan(10);
    }
    c.clock.advance(31 * 86_400_000);
    await expect(c.previews.preview(researcher, grantId, token, file.fileId)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    c.clock.advance(-31 * 86_400_000);
  });
});
