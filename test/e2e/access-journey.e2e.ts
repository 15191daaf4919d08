/**
 * Access-governance journey in a real browser (R-GOV-1..5): a researcher applies for the L3
 * breast-cancer cohort from the catalogue, the ethics reviewer, the approver and the data owner
 * each approve from their review queue (separate browser contexts = separate sessions), and the
 * researcher then sees the request approved and the active, time-limited grant.
 * Prerequisite: `npm run build:web` (web/out must exist).
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { seriousViolations } from '../support/browser';
import { SCREENSHOT_DIR, usePortalSessions, type Locale } from '../support/portal-session';

const screenshotDir = SCREENSHOT_DIR;
const DATASET = 'bc-nrt-io';

describe('access request journey (R-GOV-1..5)', () => {
  const platform = inject('platform');
  const sessions = usePortalSessions(platform, 'access-requests/new/index.html');

  /** A fresh browser session signed in as `username`, left on `pathname`. */
  const signedIn = (username: string, pathname: string, locale: Locale): Promise<Page> => sessions.signIn(username, pathname, locale);

  /** Opens the request from the caller's review queue (reloading while the step opens) and approves it. */
  async function approveFromQueue(username: string, requestId: string, step: string, locale: 'zh-CN' | 'en', runAxe: boolean): Promise<Page> {
    const page = await signedIn(username, '/review-queue/', locale);
    const row = page.locator(`[data-testid="review-queue"] tr[data-request-id="${requestId}"]`);
    // The workflow opens the next step a few hundred ms after the previous decision.
    await expect
      .poll(
        async () => {
          if (await row.count()) return true;
          await page.locator('section[aria-labelledby="review-queue-title"] .section-head button').click();
          await page.waitForTimeout(300);
          return (await row.count()) > 0;
        },
        { timeout: 15_000, interval: 200 },
      )
      .toBe(true);
    if (runAxe) await page.screenshot({ path: path.join(screenshotDir, `access-queue-${step}-${locale}.png`), fullPage: true });
    await row.getByRole('link', { name: requestId }).click();
    await page.getByTestId('decision-form').waitFor();
    expect(await page.locator('[data-testid="approval-chain"] [aria-current="step"]').getAttribute('data-step')).toBe(step);
    expect(await page.getByTestId('request-facts').textContent()).toContain(DATASET);
    if (runAxe) {
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: path.join(screenshotDir, `access-review-${step}-${locale}.png`), fullPage: true });
    }
    // A reason is required for anything but approval: rejecting without one is refused client-side.
    await page.locator('#decision-rejected').check();
    await page.getByTestId('submit-decision').click();
    await page.locator('#decision-comment-error').waitFor();
    await page.locator('#decision-approved').check();
    await page.locator('#decision-comment').fill(`Approved at the ${step} step: scope and duration are proportionate.`);
    await page.getByTestId('submit-decision').click();
    await page.getByTestId('decision-recorded').waitFor();
    // Focus moves to the confirmation.
    expect(await page.locator(':focus').getAttribute('data-testid')).toBe('decision-recorded');
    // The page follows the workflow to the next step (or the end).
    await expect
      .poll(async () => page.locator(`[data-testid="approval-chain"] [data-step="${step}"]`).getAttribute('data-state'), { timeout: 15_000 })
      .toBe('done');
    return page;
  }

  it('R-GOV-2..5: researcher applies, ethics → approver → data owner approve, researcher holds an active grant, admin revokes it', async () => {
    const t0 = Date.now();

    // --- Researcher: catalogue "apply" entry pre-selects the dataset (R-GOV-1), form (R-GOV-2) ---
    const researcher = await signedIn('researcher', '/', 'zh-CN');
    await researcher.getByTestId(`apply-${DATASET}`).waitFor();
    await researcher.screenshot({ path: path.join(screenshotDir, 'access-home-apply-zh.png'), fullPage: true });
    await researcher.getByTestId(`apply-${DATASET}`).click();
    await researcher.waitForURL(/\/access-requests\/new\/\?dataset=/);
    const datasetBox = researcher.locator(`[data-testid="dataset-choices"] input[value="${DATASET}"]`);
    await datasetBox.waitFor();
    expect(await datasetBox.isChecked()).toBe(true);

    // Client-side validation mirrors the server: an empty submit lists the problems and takes focus there.
    await researcher.getByTestId('submit-request').click();
    await researcher.getByTestId('form-errors').waitFor();
    expect(await researcher.locator(':focus').getAttribute('data-testid')).toBe('form-errors');
    expect(await researcher.locator('#ar-agreementAccepted-error').isVisible()).toBe(true);

    await researcher.locator('#ar-title').fill('新辅助放疗联合免疫治疗疗效相关因素研究');
    await researcher.locator('#ar-purposeCode').selectOption('DUO:0000007');
    await researcher.locator('#ar-purpose').fill('评估乳腺癌新辅助放疗联合免疫治疗的病理完全缓解率及其影响因素。');
    await researcher
      .locator('#ar-academicStatement')
      .fill(
        'Retrospective cohort study: pathological complete response after neoadjuvant RT + IO, stratified by subtype and dose; ' +
          'multivariable logistic regression on de-identified clinical, imaging and nursing data. Results are published in aggregate only.',
      );
    // Modalities offered are those of the chosen datasets only: none without a dataset.
    const modalityBoxes = researcher.locator('[data-testid="modality-choices"] input');
    expect(await modalityBoxes.evaluateAll((els) => els.map((e) => e.getAttribute('value')))).toContain('imaging');
    await datasetBox.uncheck();
    expect(await modalityBoxes.count()).toBe(0);
    await datasetBox.check();
    await researcher.locator('[data-testid="modality-choices"] input[value="clinical"]').check();
    await researcher.locator('[data-testid="modality-choices"] input[value="imaging"]').check();
    await researcher.locator('#ar-scope-fields').fill('age_band, tnm_stage, pcr');
    await researcher.locator('#ar-requestedDurationDays').fill('90');
    await researcher.locator('#ar-agreementAccepted').check();
    expect(await seriousViolations(researcher)).toEqual([]);
    await researcher.screenshot({ path: path.join(screenshotDir, 'access-form-zh.png'), fullPage: true });

    const submitted = researcher.waitForResponse((r) => r.url().endsWith('/v1/access-requests') && r.request().method() === 'POST');
    await researcher.getByTestId('submit-request').click();
    const response = await submitted;
    expect(response.status()).toBe(201);
    const created = (await response.json()) as { requestId: string; securityLevel: number; approvalChain: string[] };
    expect(created.requestId).toMatch(/^AR-\d{4}-\d{6}$/);
    expect(created.securityLevel).toBe(3);
    expect(created.approvalChain).toEqual(['approver', 'data-owner']);
    await researcher.waitForURL(/\/access-requests\/view\/\?id=AR-/);
    await researcher.getByTestId('submitted-notice').waitFor();
    expect(await researcher.getByTestId('request-number').textContent()).toBe(created.requestId);
    // Ethics review opens first (R-GOV-3).
    await expect
      .poll(async () => researcher.locator('[data-testid="approval-chain"] [aria-current="step"]').getAttribute('data-step'), { timeout: 15_000 })
      .toBe('ethics');
    expect(await researcher.locator('[data-testid="approval-chain"] li').evaluateAll((els) => els.map((e) => e.getAttribute('data-step')))).toEqual([
      'ethics',
      'approver',
      'data-owner',
    ]);
    await researcher.screenshot({ path: path.join(screenshotDir, 'access-request-submitted-zh.png'), fullPage: true });

    // --- Ethics committee, then the approval chain for L3 data (R-GOV-3, R-GOV-4) ---
    await approveFromQueue('ethics-reviewer', created.requestId, 'ethics', 'en', true);
    await approveFromQueue('approver', created.requestId, 'approver', 'zh-CN', true);
    const owner = await approveFromQueue('data-owner', created.requestId, 'data-owner', 'en', false);
    await owner.screenshot({ path: path.join(screenshotDir, 'access-review-done-en.png'), fullPage: true });

    // --- Researcher: approved, with an active, time-limited grant (R-GOV-5) ---
    await researcher.goto(`${platform.webUrl}/access-requests/view/?id=${created.requestId}`);
    await expect
      .poll(
        async () => {
          const status = await researcher.locator('[data-testid="request-status"] [data-testid="status-badge"]').getAttribute('data-status').catch(() => null);
          if (status !== 'approved') await researcher.getByTestId('refresh').click().catch(() => undefined);
          return status;
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe('approved');
    await researcher.getByTestId('grant-link').waitFor();
    const history = await researcher.getByTestId('history').textContent();
    expect(history).toContain('已签发授权');
    await researcher.screenshot({ path: path.join(screenshotDir, 'access-request-approved-zh.png'), fullPage: true });

    await researcher.getByTestId('nav-grants').click();
    const grantRow = researcher.locator(`[data-testid="my-grants"] tr[data-request-id="${created.requestId}"]`);
    await grantRow.waitFor();
    expect(await grantRow.getByTestId('grant-status').getAttribute('data-status')).toBe('active');
    expect(await grantRow.getByTestId('countdown').textContent()).toMatch(/\d+ 天后到期/);
    expect(await seriousViolations(researcher)).toEqual([]);
    await researcher.screenshot({ path: path.join(screenshotDir, 'access-grants-zh.png'), fullPage: true });

    // The request list shows the number, title and final status.
    await researcher.getByTestId('nav-accessRequests').click();
    const listRow = researcher.locator(`[data-testid="my-requests"] tr[data-request-id="${created.requestId}"]`);
    await listRow.waitFor();
    expect(await listRow.getByTestId('status-badge').getAttribute('data-status')).toBe('approved');
    await researcher.screenshot({ path: path.join(screenshotDir, 'access-requests-list-zh.png'), fullPage: true });

    // --- Security administrator revokes the grant early, with a reason (R-GOV-5) ---
    const admin = await signedIn('security-admin', '/grants/', 'en');
    const adminRow = admin.locator(`[data-testid="all-grants"] tr[data-request-id="${created.requestId}"]`);
    await adminRow.waitFor();
    await adminRow.getByRole('button', { name: /Revoke/ }).click();
    await adminRow.getByRole('textbox').fill('Study closed early by the sponsor.');
    await adminRow.getByRole('button', { name: 'Revoke now' }).click();
    await expect.poll(async () => adminRow.getByTestId('grant-status').getAttribute('data-status'), { timeout: 10_000 }).toBe('revoked');
    await admin.screenshot({ path: path.join(screenshotDir, 'access-grants-admin-en.png'), fullPage: true });

    expect(sessions.problems).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(90_000);
  }, 120_000);
});
