import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LocalDigestSigner } from '../../../functions/adapters/local/local-digest-signer';
import { AuditChain } from '../../../functions/core/audit/audit-chain';
import { quarterRange } from '../../../functions/core/audit/audit-report';
import type { Actor } from '../../../functions/core/identity/actor';
import { auditAlertFeedOf } from '../../../functions/handlers/audit-alerts.handler';
import { operations } from '../../../functions/handlers/audit.handler';
import { HttpResult, type AuditNotes, type OperationContext } from '../../../functions/http/operation';
import { testContainer } from '../../support/test-container';
import { auditEvent, newSigningKeyPem } from './audit-fixtures';
import { MemoryObjectStore } from './memory-object-store';

const auditor: Actor = { kind: 'user', id: 'auditor-1', roles: ['auditor'], institution: 'demo-hospital-1', mfa: true, scopes: [] };

function rig() {
  const objects = new MemoryObjectStore();
  const c = testContainer({ objects });
  const auditChain = new AuditChain({ store: c.documents, objects, signer: new LocalDigestSigner(newSigningKeyPem()), clock: c.clock, sealer: { chainStart: '2026-10-01T00:00:00.000Z' } });
  const container = Object.assign(c, { auditChain });
  const call = async (op: string, input: { query?: unknown; body?: unknown; params?: unknown }) => {
    const audit: AuditNotes = { resources: [], parameters: {} };
    const out = await operations[op]!({ container, actor: auditor, query: input.query ?? {}, body: input.body, params: input.params ?? {}, audit } as unknown as OperationContext);
    return { out, audit };
  };
  return { container, objects, call };
}

/** Text of every page, items separated by spaces (table cells stay apart). */
async function pdfText(bytes: Uint8Array): Promise<string> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await pdfjs.getDocument({ data: new Uint8Array(bytes), isEvalSupported: false, useSystemFonts: false, disableFontFace: true, verbosity: 0 }).promise;
  const out: string[] = [];
  for (let n = 1; n <= doc.numPages; n++) {
    const content = await (await doc.getPage(n)).getTextContent();
    out.push(content.items.map((i) => ('str' in i ? i.str : '')).join(' '));
  }
  await doc.destroy();
  return out.join('\n').replace(/\s+/g, ' ');
}

describe('quarterly audit report (R-AUD-6)', () => {
  it('R-AUD-6: a quarter is [first day, first day of the next quarter); anything else is refused', () => {
    expect(quarterRange('2026-Q4')).toEqual({ start: '2026-10-01T00:00:00.000Z', end: '2027-01-01T00:00:00.000Z' });
    expect(quarterRange('2027-Q1')).toEqual({ start: '2027-01-01T00:00:00.000Z', end: '2027-04-01T00:00:00.000Z' });
    expect(() => quarterRange('2026-Q5')).toThrow(/period/);
  });

  it('R-AUD-6: the report counts the period by category, outcome and operation, lists alert findings and risky users and items, and is archived as a PDF with its SHA-256', async () => {
    // Prepare: 7 catalogue reads, 6 failed sign-ins from one source (alert), 2 denied reads by one user, 1 export; one event outside the quarter.
    const { container, objects, call } = rig();
    for (let i = 0; i < 7; i++) await container.audit.write(auditEvent(`2026-11-24T07:0${i}:00.000Z`));
    for (let i = 0; i < 6; i++)
      await container.audit.write(
        auditEvent(`2026-11-24T07:1${i}:00.000Z`, { category: 'auth', operation: 'auth.signIn', actor: { kind: 'user', id: 'uname:ab12', roles: [] }, resources: [], source: { ip: '10.9.9.9' }, result: { outcome: 'failure', status: 400, errorCode: 'NotAuthorizedException' } }),
      );
    for (let i = 0; i < 2; i++)
      await container.audit.write(
        auditEvent(`2026-11-24T07:2${i}:00.000Z`, { actor: { kind: 'user', id: 'curious-1', roles: ['researcher'] }, resources: [{ type: 'Dataset', id: 'bc-secret' }], result: { outcome: 'denied', status: 403, errorCode: 'FORBIDDEN' } }),
      );
    await container.audit.write(auditEvent('2026-11-24T07:30:00.000Z', { operation: 'exportGrantData', resources: [{ type: 'Grant', id: 'grt_1' }] }));
    await container.audit.write(auditEvent('2026-09-30T23:59:59.000Z'));
    await auditAlertFeedOf(container).run(); // the alert rules, as the local runtime runs them
    await container.auditChain.seal();
    // Act
    const created = await call('createAuditReport', { body: { period: '2026-Q4' } });
    const record = created.out as { reportId: string; objectKey: string; sha256: string; bytes: number; totals: Record<string, number>; alertCount: number };
    const listed = (await call('listAuditReports', { query: { limit: 20 } })).out as { items: Array<{ reportId: string }> };
    const dl = await call('downloadAuditReport', { params: { reportId: record.reportId } });
    // Assess: the record, the archive and the download agree.
    expect(record.totals).toEqual({ events: 16, actors: 3, success: 8, failure: 6, denied: 2 });
    expect(record.alertCount).toBeGreaterThanOrEqual(2);
    expect(created.audit).toMatchObject({ resources: [{ type: 'AuditReport', id: record.reportId }], parameters: { period: '2026-Q4', sha256: record.sha256 }, count: 16 });
    const archived = objects.buckets.get('archive')!.get(record.objectKey)!;
    expect(record.objectKey).toMatch(/^audit-reports\/2026-Q4\/rpt_/);
    expect(createHash('sha256').update(archived.body).digest('hex')).toBe(record.sha256);
    expect(archived.contentType).toBe('application/pdf');
    expect(listed.items.map((r) => r.reportId)).toEqual([record.reportId]);
    expect(dl.out).toBeInstanceOf(HttpResult);
    const res = dl.out as HttpResult;
    expect(res.headers['content-disposition']).toBe(`attachment; filename="mdrp-audit-report-2026-Q4-${record.reportId}.pdf"`);
    expect(createHash('sha256').update(res.body as Uint8Array).digest('hex')).toBe(record.sha256);
    // The PDF parses and states the figures.
    const text = await pdfText(res.body as Uint8Array);
    expect(text).toContain('MDRP audit report 2026-Q4');
    expect(text).toMatch(/Events Actors Success Failure Denied 16 3 8 6 2/);
    expect(text).toMatch(/Category Events data-access 10 auth 6/);
    expect(text).toMatch(/Outcome Events success 8 failure 6 denied 2/);
    expect(text).toMatch(/getDataset 9/);
    expect(text).toMatch(/auth\.signIn 6/);
    expect(text).toMatch(/Alerts raised in the period: 3/);
    expect(text).toMatch(/failed-logins 2/);
    expect(text).toMatch(/export-download 1/);
    expect(text).toMatch(/uname:ab12 user 6 0 6 2 16/);
    expect(text).toMatch(/curious-1 researcher 2 2 0 0 2/);
    expect(text).toContain('Dataset bc-secret 2 1 2 0 9');
    expect(text).toContain('INTACT');
    expect(text).toContain('7. Recommendations');
    expect(text).toContain('To be completed by the auditor');
  });

  it('R-AUD-6: an archived report altered after the fact is refused, not served', async () => {
    // Prepare
    const { container, objects, call } = rig();
    await container.audit.write(auditEvent('2026-11-24T07:00:00.000Z'));
    const { out } = await call('createAuditReport', { body: { period: '2026-Q4' } });
    const record = out as { reportId: string; objectKey: string };
    const obj = objects.buckets.get('archive')!.get(record.objectKey)!;
    const at = obj.body.length - 10;
    obj.body[at] = (obj.body[at] ?? 0) ^ 0xff;
    // Act / Assess
    await expect(call('downloadAuditReport', { params: { reportId: record.reportId } })).rejects.toThrow(/SHA-256/);
    await expect(call('downloadAuditReport', { params: { reportId: 'rpt_missing' } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(call('createAuditReport', { body: { period: '2027-Q2' } })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
