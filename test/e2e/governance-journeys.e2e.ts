/**
 * Governance journeys in a real browser (issue 5): a researcher attaches a protocol PDF to a request
 * and the ethics reviewer reads it in the page (pdf.js canvas), while a security admin, who has no
 * step on this L3 request, is told the documents are not theirs (R-GOV-9); a grant holder requests
 * a renewal that is approved and extends the grant (R-GOV-5, R-GOV-8); a security admin changes a
 * policy at run time from /policies/ and rolls it back (R-GOV-7). Screenshots in test-results/e2e/.
 * Prerequisite: `npx next build web` (web/out must exist).
 */
import path from 'node:path';
import PDFDocument from 'pdfkit';
import { describe, expect, inject, it } from 'vitest';
import { apiAs, eventually, idTokenFor } from '../support/api-client';
import { canvasStats, seriousViolations } from '../support/browser';
import { approveStep, grantFor, L3_STEPS } from '../support/access-grants';
import { SCREENSHOT_DIR, usePortalSessions } from '../support/portal-session';

const screenshotDir = SCREENSHOT_DIR;
const shot = (name: string) => path.join(screenshotDir, `governance-${name}.png`);

/** A one-page protocol PDF with real text (pdfkit), so the rendered canvas has something to show. */
function protocolPdf(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 56, info: { Title: 'Study protocol' } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.fontSize(22).text('Study protocol v1', { underline: true });
    doc.moveDown().fontSize(12).text('Neoadjuvant radiotherapy plus immunotherapy in triple-negative breast cancer: predictors of pathological complete response. Retrospective cohort, de-identified data only, aggregate results.');
    doc.rect(56, 300, 480, 120).fill('#1f4e79');
    doc.end();
  });
}

describe('governance journeys: request documents, grant renewal, runtime policy change', () => {
  const platform = inject('platform');
  const sessions = usePortalSessions(platform, 'policies/index.html');

  it('R-GOV-9: the researcher attaches a protocol PDF; the ethics reviewer reads it inline (pdf.js canvas); a security admin off the chain is refused', async () => {
    // A request submitted through the API (the form itself is the access journey's subject).
    const researcherApi = apiAs(platform, await idTokenFor(platform, 'researcher'));
    const submitted = await researcherApi.post('/v1/access-requests', {
      title: 'Documents e2e: protocol for the ethics committee',
      purposeCode: 'DUO:0000007',
      purpose: 'Pathological complete response after neoadjuvant RT plus IO.',
      academicStatement: 'Retrospective cohort study with multivariable logistic regression on de-identified data; aggregate results only.',
      scope: { datasetIds: ['bc-nrt-io'], modalities: [], fields: [] },
      requestedDurationDays: 30,
      agreementVersion: 'DSA-2026.1',
      agreementAccepted: true,
    });
    expect(submitted.status, submitted.text).toBe(201);
    const requestId = submitted.json.requestId as string;

    // --- Researcher attaches the protocol on the request page ---
    const researcher = await sessions.signIn('researcher', `/access-requests/view/?id=${encodeURIComponent(requestId)}`, 'en');
    const upload = researcher.getByTestId('document-upload');
    await upload.waitFor();
    await upload.locator('#ar-doc-kind').selectOption('protocol');
    await upload.getByTestId('document-file').setInputFiles({ name: 'protocol-v1.pdf', mimeType: 'application/pdf', buffer: await protocolPdf() });
    await researcher.getByTestId('picked-documents').waitFor();
    await researcher.getByTestId('upload-documents').click();
    const row = researcher.locator(`[data-testid="documents-table"] tr[data-document-id="${requestId}-protocol-v1"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('protocol-v1.pdf');
    expect(await seriousViolations(researcher)).toEqual([]);
    await researcher.screenshot({ path: shot('documents-attached-en'), fullPage: true });

    // --- The ethics reviewer opens the request from the queue and reads the PDF in the page ---
    const reviewer = await sessions.signIn('ethics-reviewer', `/review-queue/view/?id=${encodeURIComponent(requestId)}`, 'zh-CN');
    const reviewerRow = reviewer.locator(`[data-testid="documents-table"] tr[data-document-id="${requestId}-protocol-v1"]`);
    await reviewerRow.waitFor();
    await reviewerRow.getByTestId('view-document').click();
    const pdf = reviewer.locator('[data-testid="document-pdf"][data-pages="1"]');
    await pdf.waitFor({ timeout: 20_000 });
    const canvas = pdf.locator('canvas');
    expect(await canvas.count()).toBe(1);
    const stats = await canvasStats(canvas.first());
    // Text and a filled rectangle on white: a rendered page, not a blank canvas.
    expect(stats.width).toBeGreaterThan(300);
    expect(stats.variance).toBeGreaterThan(100);
    // The viewer hands nothing to the downloader: no link to the bytes.
    expect(await reviewer.locator('[data-testid="document-viewer"] a[href^="blob:"], [data-testid="document-viewer"] a[download]').count()).toBe(0);
    expect(await seriousViolations(reviewer)).toEqual([]);
    await reviewer.screenshot({ path: shot('document-viewed-zh'), fullPage: true });

    // --- A security admin may read the request (governance role) but has no step on an L3 request ---
    const admin = await sessions.signIn('security-admin', `/review-queue/view/?id=${encodeURIComponent(requestId)}`, 'en');
    await admin.getByTestId('documents-not-yours').waitFor();
    expect(await admin.locator('[data-testid="documents-table"]').count()).toBe(0);
    // The history names the attachment in words, not as an internal action code.
    expect(await admin.locator('.timeline__action', { hasText: 'Document attached' }).count()).toBe(1);
    await admin.screenshot({ path: shot('documents-not-yours-en'), fullPage: true });

    // Every view is in the audit trail, naming the document.
    const auditor = apiAs(platform, await idTokenFor(platform, 'auditor'));
    await eventually(async () => {
      const r = await auditor.get(`/v1/audit/events?resourceType=RequestDocument&resourceId=${encodeURIComponent(`${requestId}-protocol-v1`)}`);
      return r.status === 200 && (r.json.items as Array<{ operation: string }>).some((e) => e.operation === 'getRequestDocumentContent');
    });
  }, 180_000);

  it('R-GOV-5, R-GOV-8: the grant holder requests a renewal in the portal; after ethics and approvals the grant runs longer', async () => {
    const { grantId } = await grantFor(platform, 'researcher', { title: 'Renewal e2e: cohort follow-up', requestedDurationDays: 30 });
    const researcherApi = apiAs(platform, await idTokenFor(platform, 'researcher'));
    const before = (await researcherApi.get('/v1/grants')).json.items.find((g: { grantId: string }) => g.grantId === grantId) as { expiresAt: string };

    const page = await sessions.signIn('researcher', '/grants/', 'en');
    const row = page.locator(`tr[data-grant-id="${grantId}"]`);
    await row.waitFor();
    await row.getByTestId('request-renewal').click();
    const form = row.getByTestId('renewal-form');
    await form.waitFor();
    // Too short a justification and no agreement: refused on the page, nothing sent.
    await form.getByTestId('renewal-justification').fill('Need more time.');
    await form.getByTestId('submit-renewal').click();
    await form.locator(`#renew-${grantId}-why-error`).waitFor();
    await form.locator(`#renew-${grantId}-dsa-error`).waitFor();
    await form.getByTestId('renewal-justification').fill('Follow-up data for the 24-month pCR endpoint arrive in the next quarter; the analysis plan is unchanged.');
    await form.locator(`#renew-${grantId}-dsa`).check();
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: shot('renewal-form-en'), fullPage: true });
    await form.getByTestId('submit-renewal').click();
    const done = row.getByTestId('renewal-submitted');
    await done.waitFor();
    const renewalId = (await done.getByRole('link').textContent())!.trim();
    expect(renewalId).toMatch(/\S/);

    // The ethics reviewer sees it is a renewal of this grant; each step approves.
    const ethics = await sessions.signIn('ethics-reviewer', `/review-queue/view/?id=${encodeURIComponent(renewalId)}`, 'en');
    await ethics.getByTestId('request-title').waitFor();
    for (const [username, step] of L3_STEPS) await approveStep(platform, username, renewalId, step);

    // The holder sees the renewal on the grant, and the grant's end moved later.
    const after = await eventually(async () => {
      const g = (await researcherApi.get('/v1/grants')).json.items.find((x: { grantId: string }) => x.grantId === grantId) as { expiresAt: string; renewals?: unknown[] };
      return g.renewals?.length ? g : undefined;
    });
    expect(Date.parse(after.expiresAt)).toBeGreaterThan(Date.parse(before.expiresAt));
    await page.reload();
    const renewals = page.locator(`tr[data-grant-id="${grantId}"] [data-testid="grant-renewals"]`);
    await renewals.waitFor();
    expect(await renewals.textContent()).toContain(renewalId);
    // The renewal line wraps inside the table: the page does not scroll sideways at 1280 px.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement.scrollWidth <= (globalThis as unknown as { document: { documentElement: { clientWidth: number } } }).document.documentElement.clientWidth)).toBe(true);
    await page.screenshot({ path: shot('renewal-approved-en'), fullPage: true });
  }, 180_000);

  it('R-GOV-7: a security admin changes a policy at run time in /policies/ (invalid text refused), the decision changes, and rolls it back', async () => {
    const reviewerApi = apiAs(platform, await idTokenFor(platform, 'reviewer'));
    expect((await reviewerApi.get('/v1/datasets')).status).toBe(200);

    const page = await sessions.signIn('security-admin', '/policies/', 'en');
    await page.getByTestId('policy-versions').waitFor();
    const base = (await page.getByTestId('policy-version').textContent())!;
    const baseNumber = Number(/Version (\d+)/.exec(base)?.[1] ?? 'NaN');
    expect(Number.isInteger(baseNumber), base).toBe(true);
    await page.locator('#pol-file').selectOption('platform.cedar');
    const text = page.getByTestId('policy-text');
    const shipped = await text.inputValue();
    const rule = '\n// Temporary: reviewers are kept out of the catalogue during the data audit.\n@id("maintenance-reviewers-no-catalog")\nforbid (principal in MDRP::Role::"reviewer", action == MDRP::Action::"ReadCatalog", resource);\n';

    // A typo in the action is refused with the validator's message; nothing is stored.
    await text.fill(shipped + rule.replace('"ReadCatalog"', '"ReadCatalogs"'));
    await page.getByTestId('policy-validate').click();
    const messages = page.getByTestId('policy-messages');
    await messages.waitFor();
    expect(await messages.textContent()).toMatch(/ReadCatalogs/);
    await page.screenshot({ path: shot('policy-invalid-en'), fullPage: true });

    await text.fill(shipped + rule);
    await page.getByTestId('policy-reason').fill('data audit in progress');
    await page.getByTestId('policy-save').click();
    await expect.poll(async () => page.getByTestId('policy-version').textContent(), { timeout: 10_000 }).toContain(`Version ${baseNumber + 1} `);
    expect((await reviewerApi.get('/v1/datasets')).status).toBe(403);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: shot('policy-changed-en'), fullPage: true });

    // Rollback to the version before the change, from the history table.
    try {
      await page.getByTestId('policy-reason').fill('data audit finished');
      await page.getByTestId('policy-versions').getByRole('button', { name: `Restore v${baseNumber}`, exact: true }).click();
      await expect.poll(async () => page.getByTestId('policy-version').textContent(), { timeout: 10_000 }).toContain(`Version ${baseNumber + 2} `);
    } finally {
      // Whatever happened in the page, the next suites must not run with the maintenance rule.
      const now = (await apiAs(platform, await idTokenFor(platform, 'security-admin')).get('/v1/policies')).json;
      if (now.files.find((f: { file: string }) => f.file === 'platform.cedar')?.text.includes('maintenance-reviewers-no-catalog')) {
        await apiAs(platform, await idTokenFor(platform, 'security-admin')).post('/v1/policies/rollbacks', { toVersion: baseNumber, reason: 'e2e cleanup' });
      }
    }
    expect((await reviewerApi.get('/v1/datasets')).status).toBe(200);
    // The file in view stays the one that was changed, now with the restored text.
    expect(await page.locator('#pol-file').inputValue()).toBe('platform.cedar');
    expect(await page.getByTestId('policy-text').inputValue()).toBe(shipped);
    const versions = page.getByTestId('policy-versions');
    expect(await versions.textContent()).toContain('data audit finished');
    await page.screenshot({ path: shot('policy-rolled-back-en'), fullPage: true });
    expect(sessions.problems).toEqual([]);
  }, 180_000);
});
