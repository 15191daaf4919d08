/**
 * Portal smoke test: real browser (Debian chromium via playwright-core), real sign-in against the
 * local Cognito emulator, real API, built static export served by infra/local/portal-server.ts.
 * Prerequisite: `npm run build:web` (web/out must exist).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium, seriousViolations } from '../support/browser';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const screenshotDir = path.join(repoRoot, 'test-results', 'e2e');

describe('portal smoke (R-SEC-6, R-ANA-3, R-GOV-1)', () => {
  // The platform is started once for all platform tests (test/support/platform-setup.ts).
  const platform = inject('platform');
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!existsSync(path.join(repoRoot, 'web', 'out', 'index.html'))) {
      throw new Error('web/out is missing: run `npm run build:web` before the e2e tests');
    }
    mkdirSync(screenshotDir, { recursive: true });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  }, 60_000);

  it('R-SEC-6: researcher signs in, sees role-aware home and catalogue, accessible in zh-CN and en', async () => {
    const account = platform.accounts.find((a: { username: string }) => a.username === 'researcher');
    expect(account, 'demo researcher account').toBeDefined();

    // Browser in UTC with a Chinese UI language: times must still be shown in the institution's zone.
    const context = await browser!.newContext({ locale: 'zh-CN', timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
    });

    await page.goto(`${platform.webUrl}/`);
    await page.getByLabel('用户名').waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await page.screenshot({ path: path.join(screenshotDir, 'sign-in-zh.png') });
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByLabel('用户名').fill(account!.username);
    await page.getByLabel('密码').fill(account!.password);
    const meResponse = page.waitForResponse((r) => r.url().endsWith('/v1/me') && r.request().method() === 'GET');
    const datasetsResponse = page.waitForResponse((r) => r.url().endsWith('/v1/datasets') && r.request().method() === 'GET');
    await page.getByTestId('sign-in-submit').click();

    const me = (await (await meResponse).json()) as { displayName: string; roles: string[]; institution: string };
    expect(me.roles).toContain('researcher');
    await expect.poll(() => page.getByTestId('greeting').textContent()).toContain(me.displayName);
    expect(await page.getByTestId('institution').textContent()).toBe(me.institution);

    const datasets = (await (await datasetsResponse).json()) as { items: Array<{ title: string }> };
    const rows = page.getByTestId('catalogue').locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(datasets.items.length);
    expect(await rows.first().locator('th').textContent()).toContain(datasets.items[0]!.title);

    // Researcher tasks and role-filtered navigation; auditor-only entries stay hidden.
    await expect.poll(() => page.getByTestId('nav-accessRequests').isVisible()).toBe(true);
    expect(await page.getByTestId('nav-audit').count()).toBe(0);
    expect(await page.getByTestId('tasks').locator('a').count()).toBeGreaterThan(0);

    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'home-zh.png'), fullPage: true });

    await page.getByTestId('locale-select').selectOption('en');
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('en');
    await expect.poll(() => page.getByTestId('greeting').textContent()).toContain('Hello');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'home-en.png'), fullPage: true });

    await page.getByTestId('locale-select').selectOption('zh-CN');
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await expect.poll(() => page.getByTestId('greeting').textContent()).toContain('您好');

    // The access-requests area opens from the navigation with its "new request" entry.
    await page.getByTestId('nav-accessRequests').click();
    await page.getByRole('heading', { name: '访问申请' }).waitFor();
    await page.getByTestId('new-request').waitFor();

    await page.getByTestId('user-menu').click();
    await page.getByTestId('sign-out').click();
    await page.getByLabel('用户名').waitFor();

    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);
});
