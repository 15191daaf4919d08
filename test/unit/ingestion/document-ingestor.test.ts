import { describe, expect, it } from 'vitest';
import { containerWith, demoCohort, patientIdOf, source } from './multimodal-fixture';

describe('Document ingestion (R-ING-1, R-ING-3, R-ING-5)', () => {
  it('R-ING-3: a PDF is linked through the declared patientRef (MRN); page count in the record, text stored encrypted only', async () => {
    const p = demoCohort().patients[0]!;
    const c = await containerWith([p]);
    const pdf = p.files.find((f) => f.contentType === 'application/pdf')!;
    const job = await c.ingestRouter.ingest(source(p, pdf.fileName, 'application/pdf', pdf.bytes, { patientRef: p.identity.mrn }));
    expect(job.counts).toMatchObject({ accepted: 1, rejected: 0 });
    const patientId = await patientIdOf(c, p);
    const [doc] = (await c.research.records(patientId, 'DocumentReference')).filter((r) => String(r.id).startsWith('r-') && JSON.stringify(r).includes('pageCount'));
    const content = (doc!.content as Array<{ pageCount: number; extractedText: { fileId: string } }>)[0]!;
    expect(content.pageCount).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(doc)).not.toContain(p.identity.fullName);
    const text = new TextDecoder().decode((await c.research.readFile(patientId, content.extractedText.fileId))!.bytes);
    expect(text).toContain(p.identity.fullName); // PHI: only in the encrypted object
    const stored = await c.research.getFile(patientId, content.extractedText.fileId);
    expect(stored!.fileName).not.toContain(p.identity.mrn);
  });

  it('R-ING-1: text reports and PNG images are accepted with their dimensions', async () => {
    const p = demoCohort().patients[0]!;
    const c = await containerWith([p]);
    const txt = p.files.find((f) => f.kind === 'text')!;
    const png = p.files.find((f) => f.contentType === 'image/png')!;
    expect((await c.ingestRouter.ingest(source(p, txt.fileName, 'text/plain; charset=utf-8', txt.bytes, { patientRef: p.identity.mrn }))).counts.accepted).toBe(1);
    expect((await c.ingestRouter.ingest(source(p, png.fileName, 'image/png', png.bytes, { patientRef: p.identity.mrn }))).counts.accepted).toBe(1);
    const docs = await c.research.records(await patientIdOf(c, p), 'DocumentReference');
    expect(docs.some((d) => JSON.stringify(d).includes('"width"'))).toBe(true);
  });

  it('R-ING-5: missing or unknown patient link, broken PDF, non-UTF-8 text and empty files are rejected', async () => {
    const p = demoCohort().patients[0]!;
    const c = await containerWith([p]);
    const pdf = p.files.find((f) => f.contentType === 'application/pdf')!.bytes;
    const cases: Array<[Uint8Array, string, string | undefined, string]> = [
      [pdf, 'application/pdf', undefined, 'MISSING_PATIENT_LINK'],
      [pdf, 'application/pdf', '999999999', 'UNKNOWN_PATIENT'],
      [pdf.subarray(0, 300), 'application/pdf', p.identity.mrn, 'INVALID_DOCUMENT'],
      [new Uint8Array([0xff, 0xfe, 0xc3, 0x28]), 'text/plain', p.identity.mrn, 'INVALID_DOCUMENT'],
      [new Uint8Array([0xff, 0xd8, 0xff]), 'image/jpeg', p.identity.mrn, 'INVALID_DOCUMENT'],
      [new Uint8Array(0), 'application/pdf', p.identity.mrn, 'EMPTY_FILE'],
    ];
    for (const [bytes, type, ref, code] of cases) {
      const job = await c.ingestRouter.ingest(source(p, 'd', type, bytes, ref ? { patientRef: ref } : {}));
      expect(job.rejected[0]?.code, code).toBe(code);
      expect(job.counts.accepted).toBe(0);
    }
  });
});
