/**
 * Research-data journey in a real browser (R-DSR-2, R-GOV-1, R-GOV-5): two grants are set up
 * quickly through the API (researcher submits, ethics reviewer, approver and data owner approve
 * once each step opens), then the researcher opens Patients, sees what the grant releases and who
 * consent leaves out, searches, opens a de-identified patient and follows the timeline to the
 * records beside it.
 * Prerequisite: `npm run build:web` (web/out must exist).
 */
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { apiAs, idTokenFor } from '../support/api-client';
import { seriousViolations } from '../support/browser';
import { grantFor } from '../support/access-grants';
import { SCREENSHOT_DIR, usePortalSessions, type Locale } from '../support/portal-session';

const screenshotDir = SCREENSHOT_DIR;
const DATASET = 'bc-nrt-io';

describe('research data: release, search, de-identified patient (R-DSR-2)', () => {
  const platform = inject('platform');
  const sessions = usePortalSessions(platform, 'patients/view/index.html');

  /** A grant for the researcher through the API (every step approved as it opens). */
  const grantThroughApi = async (purposeCode: string): Promise<string> => (await grantFor(platform, 'researcher', { title: `Research data e2e (${purposeCode})`, purposeCode })).grantId;

  /** A fresh browser session signed in as `username`, left on `pathname`. */
  const signedIn = (username: string, pathname: string, locale: Locale) => sessions.signIn(username, pathname, locale);

  it('R-GOV-1: without a usable grant the page says so and shows only aggregate counts with "apply" links', async () => {
    const researcher = await signedIn('researcher', '/patients/', 'en');
    const researcherApi = apiAs(platform, await idTokenFor(platform, 'researcher'));
    const mine = await researcherApi.get('/v1/grants');
    const now = Date.now();
    const usable = (mine.json.items as Array<{ status: string; startsAt: string; expiresAt: string }>).filter((g) => g.status === 'active' && Date.parse(g.startsAt) <= now && Date.parse(g.expiresAt) > now);
    if (usable.length > 0) return; // Another file already issued a grant in this platform run.
    await researcher.getByTestId('no-grant').waitFor();
    await researcher.getByTestId(`apply-${DATASET}`).waitFor();
    expect(await researcher.getByTestId('patient-results').count()).toBe(0);
    expect(await seriousViolations(researcher)).toEqual([]);
    await researcher.screenshot({ path: path.join(screenshotDir, 'research-no-grant-en.png'), fullPage: true });
  }, 60_000);

  it('R-DSR-2: researcher sees the release and who consent leaves out, searches, opens a patient and its timeline records', async () => {
    const t0 = Date.now();
    // General research use: patients whose consent is disease-specific are left out.
    const generalGrant = await grantThroughApi('DUO:0000042');
    // Disease-specific research: the latest grant, chosen by default.
    const grantId = await grantThroughApi('DUO:0000007');

    const page = await signedIn('researcher', '/patients/', 'zh-CN');
    await page.getByTestId('nav-patients').waitFor();
    expect(await page.getByTestId('nav-patients').getAttribute('aria-current')).toBe('page');
    await page.getByTestId('grant-facts').waitFor();
    expect(await page.getByTestId('grant-facts').getAttribute('data-grant-id')).toBe(grantId);
    expect(await page.getByTestId('grant-countdown').textContent()).toMatch(/\d+ 天后到期/);

    // The release is built asynchronously after the grant is issued; the page waits for it.
    const summary = page.getByTestId('release-summary');
    await summary.waitFor({ timeout: 30_000 });
    const included = Number(await summary.getAttribute('data-included'));
    expect(included).toBeGreaterThan(0);
    expect(await summary.textContent()).toContain(`已发布 ${included} 名患者`);
    expect(await summary.textContent()).toContain('l3-project');
    await page.getByTestId('patient-results').waitFor();
    expect(await page.locator('[data-testid="patient-results"] tbody tr').count()).toBe(Math.min(20, included));
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'research-patients-zh.png'), fullPage: true });

    // The general-use grant: consent limited to disease-specific research does not cover it (R-DSR-2).
    await page.getByTestId('grant-select').selectOption(generalGrant);
    await expect.poll(async () => page.getByTestId('grant-facts').getAttribute('data-grant-id')).toBe(generalGrant);
    await page.locator('[data-testid="release-reasons"] li[data-reason="DUO:0000007 does not cover DUO:0000042"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('release-reasons').textContent()).toContain('不涵盖 DUO:0000042');
    await page.screenshot({ path: path.join(screenshotDir, 'research-release-general-zh.png'), fullPage: false });
    await page.getByTestId('grant-select').selectOption(grantId);
    await page.getByTestId('patient-results').waitFor();

    // Debounced search; the count is announced (aria-live) and names the query.
    await page.getByTestId('patient-search').fill('C50');
    await expect.poll(async () => page.getByTestId('result-count').textContent(), { timeout: 10_000 }).toContain('C50');
    expect(await page.getByTestId('result-count').getAttribute('aria-live')).toBe('polite');
    const rows = page.locator('[data-testid="patient-results"] tbody tr');
    expect(await rows.count()).toBeGreaterThan(0);
    for (const text of await rows.locator('td:nth-child(5)').allTextContents()) expect(text).toContain('C50');
    await page.screenshot({ path: path.join(screenshotDir, 'research-search-c50-zh.png'), fullPage: true });

    // Open the first patient.
    const token = (await rows.first().getAttribute('data-token'))!;
    await rows.first().getByTestId('open-patient').click();
    await page.waitForURL(/\/patients\/view\/\?grant=grt_.*&token=/);
    await page.getByTestId('timeline').waitFor();
    expect(await page.getByTestId('patient-token').textContent()).toBe(token);
    expect(await page.getByTestId('deid-banner').textContent()).toMatch(/策略 l3-project@\d+\.\d+\.\d+；日期已按患者偏移/);
    expect(await page.locator('[data-testid="timeline"] .tl-day').count()).toBeGreaterThan(1);

    // Click an event: its record appears beside the timeline.
    const procedure = page.locator('[data-testid="timeline-event"][data-type="procedure"]').first();
    await procedure.click();
    expect(await procedure.getAttribute('aria-pressed')).toBe('true');
    const record = page.locator('[data-testid="event-records"] [data-testid="fhir-record"]').first();
    await record.waitFor();
    expect(await record.getAttribute('data-resource-type')).toBe('Procedure');
    const eventBox = await procedure.boundingBox();
    const detailBox = await page.getByTestId('event-detail').boundingBox();
    expect(detailBox!.x).toBeGreaterThan(eventBox!.x + eventBox!.width - 1);
    // Raw JSON behind a disclosure, de-identified (pseudonymized security label).
    await record.locator('summary').click();
    expect(await record.locator('pre').textContent()).toContain('PSEUDED');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'research-patient-event-zh.png'), fullPage: false });

    // Keyboard: ↓ moves between events, Enter selects.
    const diagnosis = page.locator('[data-testid="timeline-event"][data-type="diagnosis"]').first();
    await diagnosis.focus();
    await page.keyboard.press('ArrowDown');
    const focusedId = await page.locator(':focus').getAttribute('data-event-id');
    expect(focusedId).toBeTruthy();
    expect(focusedId).not.toBe(await diagnosis.getAttribute('data-event-id'));
    await diagnosis.focus();
    await page.keyboard.press('Enter');
    await expect.poll(async () => page.locator('[data-testid="event-records"] [data-testid="fhir-record"]').first().getAttribute('data-resource-type')).toBe('Condition');
    expect(await page.getByTestId('event-records').textContent()).toMatch(/C50/);

    // Records by type with counts.
    await page.getByTestId('tab-records').click();
    await page.getByTestId('records-by-type').waitFor();
    expect(await page.locator('[data-testid="records-by-type"] details[data-resource-type]').count()).toBeGreaterThan(3);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'research-patient-records-zh.png'), fullPage: false });

    // Same page in English.
    await page.getByTestId('locale-select').selectOption('en');
    await page.getByTestId('tab-timeline').click();
    await page.locator('[data-testid="timeline-event"][data-type="medication"]').first().click();
    await page.locator('[data-testid="event-records"] [data-resource-type="MedicationAdministration"]').waitFor();
    expect(await page.getByTestId('deid-banner').textContent()).toContain('dates shifted per patient');
    await page.screenshot({ path: path.join(screenshotDir, 'research-patient-event-en.png'), fullPage: false });

    expect(sessions.problems).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(100_000);
  }, 120_000);
});
