/**
 * Controlled re-identification in a real browser (R-DEID-3): the researcher asks from the
 * de-identified patient view, an ethics reviewer and a security administrator approve from their
 * queue, the researcher views the result once; a second view is refused (410) and every page
 * passes axe. Prerequisite: `npx next build web` (web/out must exist).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiAs, eventually, idTokenFor } from '../support/api-client';
import { launchChromium, seriousViolations } from '../support/browser';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const screenshotDir = path.join(repoRoot, 'test-results', 'e2e');
const DATASET = 'bc-nrt-io';

describe('re-identification: request, two approvals, one view (R-DEID-3)', () => {
  const platform = inject('platform');
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(path.join(repoRoot, 'web', 'out', 'reidentification', 'index.html'))) {
      throw new Error('web/out is missing or stale: run `npx next build web` before the e2e tests');
    }
    mkdirSync(screenshotDir, { recursive: true });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
  }, 60_000);

  async function grantThroughApi(): Promise<string> {
    const researcher = apiAs(platform, await idTokenFor(platform, 'researcher'));
    const submitted = await researcher.post('/v1/access-requests', {
      title: 'Re-identification e2e',
      purposeCode: 'DUO:0000007',
      purpose: 'Pathological complete response after neoadjuvant RT plus IO.',
      academicStatement: 'Retrospective cohort study with multivariable logistic regression on de-identified data; aggregate results only.',
      scope: { datasetIds: [DATASET], modalities: [], fields: [] },
      requestedDurationDays: 30,
      agreementVersion: 'DSA-2026.1',
      agreementAccepted: true,
    });
    expect(submitted.status, submitted.text).toBe(201);
    const requestId = submitted.json.requestId as string;
    for (const [username, step] of [
      ['ethics-reviewer', 'ethics'],
      ['approver', 'approver'],
      ['data-owner', 'data-owner'],
    ] as const) {
      const reviewer = apiAs(platform, await idTokenFor(platform, username));
      await eventually(async () => {
        const queue = await reviewer.get('/v1/access-requests?view=queue');
        return (queue.json?.items as Array<{ requestId: string; pending?: { step: string } }> | undefined)?.some((r) => r.requestId === requestId && r.pending?.step === step);
      });
      const decided = await reviewer.post(`/v1/access-requests/${requestId}/decisions`, { step, outcome: 'approved' });
      expect(decided.status, decided.text).toBe(200);
    }
    const grant = await eventually(async () => {
      const list = await researcher.get('/v1/grants');
      return (list.json?.items as Array<{ grantId: string; requestId: string; status: string }> | undefined)?.find((g) => g.requestId === requestId && g.status === 'active');
    });
    return grant.grantId;
  }

  async function signedIn(username: string, pathname: string, locale: 'zh-CN' | 'en'): Promise<Page> {
    const account = platform.accounts.find((a) => a.username === username);
    expect(account, `demo account ${username}`).toBeDefined();
    const context = await browser!.newContext({ locale, timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => problems.push(`${username} pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /MISSING_MESSAGE|FORMATTING_ERROR|INVALID_KEY|Content Security Policy|Refused to/i.test(msg.text())) problems.push(`${username}: ${msg.text()}`);
    });
    await page.goto(`${platform.webUrl}${pathname}`);
    await page.locator('#username').waitFor();
    await page.locator('#username').fill(account!.username);
    await page.locator('#password').fill(account!.password);
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('user-menu').waitFor();
    return page;
  }

  it('R-DEID-3: researcher requests from the patient view; ethics reviewer and security admin approve; the result is shown once', async () => {
    const grantId = await grantThroughApi();
    const researcherApi = apiAs(platform, await idTokenFor(platform, 'researcher'));
    const token = await eventually(async () => {
      const page = await researcherApi.get(`/v1/grants/${grantId}/patients?limit=1`);
      return (page.json?.items as Array<{ token: string }> | undefined)?.[0]?.token;
    });

    // 1. The request, from the de-identified patient view.
    const researcher = await signedIn('researcher', `/patients/view/?grant=${grantId}&token=${token}`, 'en');
    await researcher.getByTestId('reid-panel').waitFor({ timeout: 30_000 });
    await researcher.getByTestId('reid-open').click();
    await researcher.getByTestId('reid-submit').click();
    await researcher.locator('.field__error').waitFor(); // the justification is required
    await researcher.getByTestId('reid-justification').fill('Incidental finding: suspicious pulmonary nodule on the staging CT; the treating hospital must be told.');
    expect(await seriousViolations(researcher)).toEqual([]);
    await researcher.screenshot({ path: path.join(screenshotDir, 'reid-request-form-en.png'), fullPage: false });
    await researcher.getByTestId('reid-submit').click();
    const submitted = researcher.getByTestId('reid-submitted');
    await submitted.waitFor();
    const requestId = /rid_[a-z0-9]+/.exec((await submitted.textContent()) ?? '')![0];

    // 2. Two approvals, each from its own queue (zh-CN for one of them).
    for (const [username, locale] of [
      ['ethics-reviewer', 'zh-CN'],
      ['security-admin', 'en'],
    ] as const) {
      const approver = await signedIn(username, '/reidentification/', locale);
      await approver.getByTestId('nav-reidentification').waitFor();
      const item = approver.locator('[data-testid="reid-queue-item"]', { hasText: requestId });
      await item.waitFor({ timeout: 30_000 });
      expect(await seriousViolations(approver)).toEqual([]);
      await approver.screenshot({ path: path.join(screenshotDir, `reid-queue-${username}-${locale}.png`), fullPage: true });
      await item.getByTestId('reid-approve').click();
      await item.locator('.notice--success').waitFor();
    }

    // 3. The one-time view.
    await researcher.goto(`${platform.webUrl}/reidentification/`);
    const mine = researcher.locator('[data-testid="reid-mine-item"]', { hasText: requestId });
    await mine.waitFor({ timeout: 30_000 });
    await mine.getByTestId('reid-view').click();
    await mine.getByTestId('reid-confirm-view').click();
    const result = mine.getByTestId('reid-result');
    await result.waitFor();
    expect(await result.locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await result.textContent()).toMatch(/demo-hospital-\d/);
    expect(await seriousViolations(researcher)).toEqual([]);
    await researcher.screenshot({ path: path.join(screenshotDir, 'reid-result-en.png'), fullPage: false });

    // Gone for good.
    const again = await researcherApi.post(`/v1/reidentification-requests/${requestId}/result`, {});
    expect(again.status).toBe(410);
    expect(again.json.error.code).toBe('GONE');
    await researcher.reload();
    await researcher.locator('[data-testid="reid-mine-item"]', { hasText: requestId }).waitFor();
    expect(await researcher.locator('[data-testid="reid-mine-item"]', { hasText: requestId }).getByTestId('reid-view').count()).toBe(0);
    expect(problems).toEqual([]);
  }, 600_000);
});
