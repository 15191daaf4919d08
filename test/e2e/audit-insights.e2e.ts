/**
 * Issue 6 portal journeys: the auditor generates and downloads the quarterly report from the
 * audit console; a data provider opens "who accessed my data" and sees a researcher's read of its
 * dataset; a researcher is refused there. Real browser, real sign-in (through the audited Cognito
 * proxy), real API. Prerequisite: `npm run build:web` (web/out must exist).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiAs, idTokenFor } from '../support/api-client';
import { launchChromium, seriousViolations } from '../support/browser';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const screenshotDir = path.join(repoRoot, 'test-results', 'e2e');

describe('audit reports and "who accessed my data" in the portal (R-AUD-4, R-AUD-6, R-GOV-6)', () => {
  const platform = inject('platform');
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(path.join(repoRoot, 'web', 'out', 'index.html'))) throw new Error('web/out is missing: run `npm run build:web` before the e2e tests');
    mkdirSync(screenshotDir, { recursive: true });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
  }, 60_000);

  async function signedIn(username: string, pathname: string, locale: 'zh-CN' | 'en'): Promise<Page> {
    const account = platform.accounts.find((a) => a.username === username)!;
    const context = await browser!.newContext({ locale, timezoneId: 'UTC', viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => problems.push(`${username} pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /MISSING_MESSAGE|FORMATTING_ERROR|INVALID_KEY|Content Security Policy|Refused to/i.test(msg.text())) problems.push(`${username}: ${msg.text()}`);
    });
    await page.goto(`${platform.webUrl}${pathname}`);
    await page.locator('#username').waitFor();
    await page.locator('#username').fill(account.username);
    await page.locator('#password').fill(account.password);
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('user-menu').waitFor();
    return page;
  }

  it('R-AUD-6: the auditor generates the quarterly report in the audit console and downloads the archived PDF', async () => {
    const page = await signedIn('auditor', '/audit/', 'en');
    await page.getByTestId('audit-console').waitFor();
    await page.getByTestId('audit-tab-reports').click();
    const created = page.waitForResponse((r) => r.url().endsWith('/v1/audit/reports') && r.request().method() === 'POST');
    await page.getByTestId('audit-report-generate').click();
    const res = await created;
    expect(res.status()).toBe(201);
    const record = (await res.json()) as { reportId: string; sha256: string; period: string };
    const row = page.locator(`tr[data-report-id="${record.reportId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain(record.sha256);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'audit-reports-en.png'), fullPage: true });
    const download = page.waitForEvent('download');
    await row.getByRole('button').click();
    const file = await download;
    expect(file.suggestedFilename()).toBe(`mdrp-audit-report-${record.period}-${record.reportId}.pdf`);
    const bytes = readFileSync((await file.path())!);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(record.sha256);
    await page.getByTestId('audit-reports-status').getByText(/downloaded/).waitFor();
    expect(problems).toEqual([]);
  }, 120_000);

  it("R-AUD-4, R-GOV-6: a data provider sees who read its institution's dataset; a researcher is refused", async () => {
    // The researcher reads one dataset of the provider's hospital through the API.
    const researcher = apiAs(platform, await idTokenFor(platform, 'researcher'));
    const datasets = (await researcher.get('/v1/datasets')).json.items as Array<{ datasetId: string; institution: string }>;
    const mine = datasets.find((d) => d.institution === 'demo-hospital-2')!;
    expect((await researcher.get(`/v1/datasets/${mine.datasetId}`)).status).toBe(200);

    const page = await signedIn('data-provider', '/', 'zh-CN');
    const loaded = page.waitForResponse((r) => r.url().includes('/v1/audit/data-access') && r.request().method() === 'GET');
    await page.getByTestId('nav-dataAccess').click();
    const res = await loaded;
    expect(res.status()).toBe(200);
    const body = (await res.json()) as { items: Array<{ eventId: string; operation: string; datasetIds: string[] }> };
    const read = body.items.find((e) => e.operation === 'getDataset' && e.datasetIds.includes(mine.datasetId));
    expect(read).toBeTruthy();
    await page.getByRole('heading', { name: '谁访问了我的数据' }).waitFor();
    const row = page.locator(`tr[data-event-id="${read!.eventId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain(mine.datasetId);
    expect(await page.getByTestId('data-access-events').locator('tbody tr').count()).toBe(body.items.length);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'data-access-zh.png'), fullPage: true });

    const refused = await signedIn('researcher', '/data-access/', 'en');
    expect(await refused.getByTestId('nav-dataAccess').count()).toBe(0);
    const notice = refused.getByTestId('data-access-forbidden');
    await notice.waitFor();
    expect(await notice.locator('code').textContent()).toBe('FORBIDDEN');
    expect(await refused.getByTestId('data-access-events').count()).toBe(0);
    expect(await seriousViolations(refused)).toEqual([]);
    expect(problems).toEqual([]);
  }, 120_000);
});
