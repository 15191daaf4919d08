/**
 * Audit console journey: an auditor searches a researcher's audit events, opens one event's
 * details, verifies the signed chain and opens the alerts; a researcher opening /audit/ is refused.
 * Real browser, real sign-in, real API. Prerequisite: `npm run build:web` (web/out must exist).
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { apiAs, eventually, idTokenFor } from '../support/api-client';
import { seriousViolations } from '../support/browser';
import { SCREENSHOT_DIR, usePortalSessions, type Locale } from '../support/portal-session';

const screenshotDir = SCREENSHOT_DIR;

describe('audit console (R-AUD-2, R-AUD-4, R-AUD-5)', () => {
  // The platform is started once for all platform tests (test/support/platform-setup.ts).
  const platform = inject('platform');
  const sessions = usePortalSessions(platform, 'index.html');

  /** A fresh browser session signed in as `username`, left on `pathname`. */
  const signedIn = (username: string, pathname: string, locale: Locale): Promise<Page> => sessions.signIn(username, pathname, locale);

  it('R-AUD-4: auditor searches a researcher’s events, opens one, verifies the chain (R-AUD-2) and lists alerts (R-AUD-5)', async () => {
    // The researcher acts through the API so there are events to find.
    const researcher = apiAs(platform, await idTokenFor(platform, 'researcher'));
    const me = await researcher.get('/v1/me');
    expect(me.status).toBe(200);
    const researcherId = (me.json as { userId: string }).userId;
    expect((await researcher.get('/v1/datasets')).status).toBe(200);
    // Unauthenticated calls from one source raise a failed-logins alert (R-AUD-5), so the alert list has content.
    const anonymous = apiAs(platform);
    for (let i = 0; i < 6; i++) expect((await anonymous.get('/v1/me')).status).toBe(401);
    // Audit events may land asynchronously; wait until the auditor's API sees them.
    const auditor = apiAs(platform, await idTokenFor(platform, 'auditor'));
    await eventually(async () => {
      const res = await auditor.get(`/v1/audit/events?actorId=${encodeURIComponent(researcherId)}&limit=5`);
      return res.status === 200 && (res.json as { items: unknown[] }).items.length > 0;
    });
    await eventually(async () => {
      const res = await auditor.get('/v1/audit/alerts?limit=5');
      return res.status === 200 && (res.json as { items: unknown[] }).items.length > 0;
    });

    const page = await signedIn('auditor', '/', 'en');
    await page.getByTestId('nav-audit').click();
    await page.getByRole('heading', { name: 'Audit console' }).waitFor();
    await page.getByTestId('audit-console').waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    // Search by user id over the default range (last 7 days).
    await page.getByRole('textbox', { name: 'User id' }).fill(researcherId);
    const eventsResponse = page.waitForResponse((r) => r.url().includes('/v1/audit/events?') && r.request().method() === 'GET');
    await page.getByTestId('audit-search-submit').click();
    const response = await eventsResponse;
    expect(response.status()).toBe(200);
    const requested = new URL(response.url());
    expect(requested.searchParams.get('actorId')).toBe(researcherId);
    const fromParam = Date.parse(requested.searchParams.get('from') ?? '');
    expect(Date.now() - fromParam).toBeGreaterThan(6.9 * 86_400_000);
    expect(Date.now() - fromParam).toBeLessThan(7.1 * 86_400_000);
    const body = (await response.json()) as { items: Array<{ eventId: string; operation: string; actor: { id: string } }> };
    expect(body.items.length).toBeGreaterThan(0);
    expect(body.items.every((e) => e.actor.id === researcherId)).toBe(true);

    const rows = page.getByTestId('audit-events').locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(body.items.length);
    expect(await rows.first().getAttribute('data-event-id')).toBe(body.items[0]!.eventId);
    expect(await page.getByTestId('audit-result-status').textContent()).toMatch(/event/);
    await page.screenshot({ path: path.join(screenshotDir, 'audit-search-en.png'), fullPage: true });

    // Event detail of the researcher's catalogue call.
    const datasetsEvent = body.items.find((e) => e.operation === 'listDatasets') ?? body.items[0]!;
    await page.locator(`tr[data-event-id="${datasetsEvent.eventId}"]`).getByTestId('audit-event-open').click();
    const detail = page.getByTestId('audit-event-detail');
    await detail.waitFor();
    expect(await detail.getByTestId('detail-event-id').textContent()).toBe(datasetsEvent.eventId);
    expect(await detail.getByTestId('detail-actor-id').textContent()).toBe(researcherId);
    expect(await detail.getByTestId('detail-operation').textContent()).toBe(datasetsEvent.operation);
    expect(await seriousViolations(page)).toEqual([]);
    await detail.screenshot({ path: path.join(screenshotDir, 'audit-event-detail-en.png') });

    // Chain verification.
    await page.getByTestId('audit-tab-verification').click();
    await page.getByTestId('audit-verify').click();
    await page.getByTestId('audit-verification-verdict').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('audit-verification-result').locator('[data-ok]').getAttribute('data-ok')).toBe('true');
    expect(await page.getByTestId('audit-verification-verdict').textContent()).toContain('OK');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'audit-verification-en.png'), fullPage: true });

    // Alerts, newest first.
    const alertsResponse = page.waitForResponse((r) => r.url().includes('/v1/audit/alerts') && r.request().method() === 'GET');
    await page.getByTestId('audit-tab-alerts').click();
    const alerts = await alertsResponse;
    expect(alerts.status()).toBe(200);
    const alertItems = ((await alerts.json()) as { items: Array<{ alertId: string; time: string }> }).items;
    expect(alertItems.length).toBeGreaterThan(0);
    const alertRows = page.getByTestId('audit-alerts').locator('tbody tr');
    await alertRows.first().waitFor();
    expect(await alertRows.count()).toBe(alertItems.length);
    expect(await alertRows.first().getAttribute('data-alert-id')).toBe(alertItems[0]!.alertId);
    const times = alertItems.map((a) => a.time);
    expect([...times].sort().reverse()).toEqual(times);
    expect(await page.getByTestId('audit-alerts').textContent()).toContain('Repeated failed sign-ins');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'audit-alerts-en.png'), fullPage: true });

    // The Chinese UI renders too (the search panel keeps its results across tabs).
    await page.getByTestId('locale-select').selectOption('zh-CN');
    await page.getByTestId('audit-tab-search').click();
    await page.getByRole('heading', { name: '审计控制台' }).waitFor();
    expect(await page.getByTestId('audit-events').locator('tbody tr').count()).toBe(body.items.length);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'audit-search-zh.png'), fullPage: true });

    expect(sessions.problems).toEqual([]);
  }, 120_000);

  it('R-AUD-2: a researcher opening /audit/ is refused and sees no audit data', async () => {
    const page = await signedIn('researcher', '/audit/', 'zh-CN');
    expect(await page.getByTestId('nav-audit').count()).toBe(0);
    const refusal = page.getByTestId('audit-forbidden');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('无权访问');
    expect(await refusal.locator('code').textContent()).toBe('FORBIDDEN');
    expect(await page.getByTestId('audit-console').count()).toBe(0);
    expect(await page.getByTestId('audit-events').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'audit-forbidden-zh.png'), fullPage: true });
    expect(sessions.problems).toEqual([]);
  }, 60_000);
});
