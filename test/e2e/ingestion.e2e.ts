/**
 * Ingestion in a real browser (R-ING-1, R-ING-4, R-ING-5, R-MPI-2): a data manager uploads a FHIR
 * Bundle (two patients with the same name, birth date and sex but different resident IDs, and an
 * observation), a PDF report for one of them and a bad file through the portal. The browser
 * hashes each file (WebCrypto), PUTs it to the presigned staging URL (s3rver, CORS for the portal
 * origin) and shows each job report with its reasons. The duplicate pair then appears in the MPI
 * review, masked; the data manager merges it and undoes the merge.
 * Prerequisite: `npx next build web` (web/out must exist).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDemoCohort } from '../../infra/local/demo/generate-demo-cohort';
import { apiAs, idTokenFor } from '../support/api-client';
import { launchChromium, seriousViolations } from '../support/browser';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const screenshotDir = path.join(repoRoot, 'test-results', 'e2e');

/** A GB 11643-valid resident ID (Beijing Dongcheng, the given birth date and sequence). */
function residentId(birth: string, seq: string): string {
  const body = `110101${birth.replaceAll('-', '')}${seq}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((s, d, i) => s + Number(d) * weights[i]!, 0);
  return body + '10X98765432'[sum % 11]!;
}

describe('portal ingestion: upload, job report, MPI review (R-ING-4, R-ING-5, R-MPI-2)', () => {
  const platform = inject('platform');
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'mdrp-e2e-ingest-'));
  const run = Date.now().toString(36).slice(-6);
  const birth = '1980-05-06';
  const ids = [residentId(birth, '123'), residentId(birth, '124')];

  beforeAll(async () => {
    if (!existsSync(path.join(repoRoot, 'web', 'out', 'ingestion', 'index.html'))) throw new Error('web/out is missing: run `npx next build web` before the e2e tests');
    mkdirSync(screenshotDir, { recursive: true });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
    expect(problems).toEqual([]);
  }, 60_000);

  async function signedIn(username: string, pathname: string, locale: 'zh-CN' | 'en'): Promise<Page> {
    const account = platform.accounts.find((a) => a.username === username)!;
    const context = await browser!.newContext({ locale, timezoneId: 'UTC', viewport: { width: 1280, height: 1000 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => problems.push(`${username} pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /MISSING_MESSAGE|FORMATTING_ERROR|INVALID_KEY|Content Security Policy|Refused to|CORS/i.test(msg.text())) problems.push(`${username}: ${msg.text()}`);
    });
    await page.goto(`${platform.webUrl}${pathname}`);
    await page.locator('#username').waitFor();
    await page.locator('#username').fill(account.username);
    await page.locator('#password').fill(account.password);
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('user-menu').waitFor();
    return page;
  }

  it('R-ING-4/R-ING-5: a FHIR bundle, a PDF and a bad file are hashed, uploaded to staging and reported item by item', async () => {
    const patient = (n: number) => ({
      resourceType: 'Patient',
      id: `e2e-${run}-${n}`,
      name: [{ text: 'Zed Ingest' }],
      gender: 'female',
      birthDate: birth,
      identifier: [
        { system: 'urn:oid:1.2.156.112604.1.2.1', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'NI' }] }, value: ids[n]! },
        { system: 'https://demo-hospital-1.example.cn/mrn/demo-hospital-1', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, value: `E2E${run}${n}` },
      ],
    });
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { resource: patient(0) },
        { resource: patient(1) },
        { resource: { resourceType: 'Observation', id: `e2e-${run}-obs`, status: 'final', code: { text: 'Hb' }, subject: { reference: `Patient/e2e-${run}-0` }, effectiveDateTime: '2026-01-05T08:00:00+08:00', valueQuantity: { value: 128, unit: 'g/L' } } },
      ],
    };
    writeFileSync(path.join(dir, 'e2e-bundle.json'), JSON.stringify(bundle));
    const pdf = generateDemoCohort({ patients: 1, seed: 7 }).patients[0]!.files.find((f) => f.contentType === 'application/pdf')!;
    writeFileSync(path.join(dir, 'report.pdf'), pdf.bytes);
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Spaceship', id: 'x1' } }] }));

    const page = await signedIn('data-manager', '/ingestion/', 'en');
    await page.getByTestId('upload-form').waitFor();
    await page.getByTestId('upload-files').setInputFiles([path.join(dir, 'e2e-bundle.json'), path.join(dir, 'report.pdf'), path.join(dir, 'bad.json')]);
    await page.getByTestId('upload-row').nth(2).waitFor();
    // The PDF has no patient header: the data manager names the patient (source id).
    await page.getByTestId('patient-ref').fill(`e2e-${run}-0`);
    await page.screenshot({ path: path.join(screenshotDir, 'ingestion-upload-selected-en.png'), fullPage: true });
    await page.getByTestId('upload-submit').click();
    const done = async () => (await page.locator('[data-testid="upload-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-phase')))).join(',');
    await expect.poll(done, { timeout: 90_000, interval: 1000 }).toBe('accepted,accepted,rejected');

    const reports = page.getByTestId('job-report');
    await expect.poll(() => reports.count(), { timeout: 10_000 }).toBe(3);
    expect(await reports.nth(0).getByTestId('job-counts').textContent()).toContain('3 accepted, 0 rejected');
    expect(await reports.nth(0).getByTestId('job-counts').textContent()).toContain('1 probable duplicates');
    expect(await reports.nth(1).getByTestId('job-counts').textContent()).toContain('1 accepted');
    expect(await reports.nth(2).getByTestId('job-rejected').textContent()).toContain('UNSUPPORTED_RESOURCE_TYPE');
    expect(await page.getByTestId('upload-reason').first().textContent()).toBe('UNSUPPORTED_RESOURCE_TYPE');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'ingestion-reports-en.png'), fullPage: true });

    // R-ING-6: lineage per job (the records it wrote) and per record, from the report.
    await reports.nth(0).getByTestId('lineage-open').click();
    const records = reports.nth(0).getByTestId('lineage-records');
    await records.waitFor();
    // Records carry platform ids; the lineage names the source's.
    expect(await records.getByTestId('lineage-show').count()).toBe(1);
    expect(await records.textContent()).toMatch(/Observation\//);
    await records.getByTestId('lineage-show').click();
    const detail = reports.nth(0).getByTestId('lineage-detail');
    await detail.getByTestId('lineage-transformations').waitFor();
    const text = (await detail.textContent()) ?? '';
    expect(text).toContain(`Observation/e2e-${run}-obs`);
    expect(text).toContain('e2e-bundle.json');
    expect(text).toContain('validate-fhir-r4');
    expect(text).not.toContain('Zed Ingest');
    expect(await seriousViolations(page)).toEqual([]);
    await detail.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(screenshotDir, 'ingestion-lineage-en.png'), fullPage: true });
  }, 180_000);

  it('R-MPI-2: the duplicate pair is shown masked (never the resident ID), merged into the chosen patient, and the merge undone', async () => {
    const dm = apiAs(platform, await idTokenFor(platform, 'data-manager'));
    const listed = await dm.get('/v1/mpi/reviews');
    expect(listed.status, listed.text).toBe(200);
    for (const id of ids) expect(listed.text).not.toContain(id);
    expect(listed.text).not.toContain('Zed Ingest');
    const mine = (listed.json.cases as Array<{ reviewId: string; patient: { patientId: string; sources: Array<{ maskedName: string }> }; candidate: { patientId: string } }>).find((c) => c.patient.sources[0]?.maskedName === 'Z**');
    expect(mine).toBeDefined();

    const page = await signedIn('data-manager', '/ingestion/', 'zh-CN');
    const card = page.locator('[data-testid="mpi-case"]', { hasText: mine!.patient.patientId });
    await card.waitFor();
    const text = (await page.getByTestId('mpi-review').textContent()) ?? '';
    expect(text).not.toMatch(/\d{17}[\dX]/);
    expect(text).toContain('Z**');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'ingestion-mpi-queue-zh.png'), fullPage: true });

    await card.getByTestId('mpi-merge').first().click();
    const row = page.locator('[data-testid="mpi-merge-row"]', { hasText: mine!.candidate.patientId });
    await expect.poll(() => row.first().getAttribute('data-status'), { timeout: 30_000 }).toBe('merged');
    expect(await page.locator('[data-testid="mpi-case"]', { hasText: mine!.patient.patientId }).count()).toBe(0);
    await page.screenshot({ path: path.join(screenshotDir, 'ingestion-mpi-merged-zh.png'), fullPage: true });

    await row.first().getByTestId('mpi-unmerge').click();
    await expect.poll(() => row.first().getAttribute('data-status'), { timeout: 30_000 }).toBe('unmerged');
    await page.locator('[data-testid="mpi-case"]', { hasText: mine!.patient.patientId }).waitFor();
    await page.screenshot({ path: path.join(screenshotDir, 'ingestion-mpi-unmerged-zh.png'), fullPage: true });
  }, 120_000);
});
