/**
 * Controlled re-identification in a real browser (R-DEID-3): the researcher asks from the
 * de-identified patient view, an ethics reviewer and a security administrator approve from their
 * queue, the researcher views the result once; a second view is refused (410) and every page
 * passes axe. Prerequisite: `npx next build web` (web/out must exist).
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { apiAs, eventually, idTokenFor } from '../support/api-client';
import { seriousViolations } from '../support/browser';
import { grantFor } from '../support/access-grants';
import { SCREENSHOT_DIR, usePortalSessions, type Locale } from '../support/portal-session';

const screenshotDir = SCREENSHOT_DIR;

describe('re-identification: request, two approvals, one view (R-DEID-3)', () => {
  const platform = inject('platform');
  const sessions = usePortalSessions(platform, 'reidentification/index.html');

  /** A grant for the researcher through the API (every step approved as it opens). */
  const grantThroughApi = async (): Promise<string> => (await grantFor(platform, 'researcher', { title: 'Re-identification e2e' })).grantId;

  /** A fresh browser session signed in as `username`, left on `pathname`. */
  const signedIn = (username: string, pathname: string, locale: Locale): Promise<Page> => sessions.signIn(username, pathname, locale);

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
    expect(sessions.problems).toEqual([]);
  }, 600_000);
});
