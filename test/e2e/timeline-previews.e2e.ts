/**
 * Timeline curation and inline previews in a real browser (R-ANA-2, R-MPI-4, R-DEID-1, R-SEC-4):
 * a data manager finds a patient by pseudonymous id, adds and annotates an event; a researcher
 * with a grant opens a released patient, clicks events and sees a de-identified PDF rendition
 * (pdf.js canvas) and a DICOM frame (canvas) whose rendering follows window/level, and the
 * curated event with its scrubbed annotation. Screenshots in test-results/e2e/.
 * Prerequisite: `npx next build web` (web/out must exist).
 */
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { apiAs, eventually, idTokenFor } from '../support/api-client';
import { canvasStats, seriousViolations } from '../support/browser';
import { grantFor } from '../support/access-grants';
import { SCREENSHOT_DIR, usePortalSessions, type Locale } from '../support/portal-session';

const screenshotDir = SCREENSHOT_DIR;
const STAMP = `E2E follow-up ${Date.now().toString(36)}`;
// What a data manager might carelessly type: a phone number and a date (must not reach researchers as typed).
const NOTE = 'Called the patient on 13812345678 on 2024-06-01: no recurrence, margins clear.';

type ReleasedEvent = { eventId: string; type: string; source: string; title: { en: string }; files: Array<{ fileId: string; kind: string }>; annotations: Array<{ text: string }> };

describe('timeline curation and inline previews (R-ANA-2)', () => {
  const platform = inject('platform');
  const sessions = usePortalSessions(platform, 'timeline/index.html');

  /** A grant for the researcher through the API (every step approved as it opens). */
  const grantThroughApi = async (): Promise<string> =>
    (await grantFor(platform, 'researcher', { title: 'Timeline previews e2e', purpose: 'Radiotherapy dose and pathological response after neoadjuvant treatment.' })).grantId;

  /** A fresh browser session signed in as `username`, left on `pathname`. */
  const signedIn = (username: string, pathname: string, locale: Locale) => sessions.signIn(username, pathname, locale);

  it('R-MPI-4, R-ANA-2, R-DEID-1: a data manager adds and annotates an event; the researcher sees it de-identified beside PDF and DICOM previews', async () => {
    const grantId = await grantThroughApi();

    // 1. Data manager: find a patient by pseudonymous id, add an event, annotate it (in the portal).
    const dm = await signedIn('data-manager', '/timeline/', 'en');
    await dm.getByTestId('nav-timeline').waitFor();
    await dm.getByTestId('curation-patients').waitFor({ timeout: 30_000 });
    const firstId = (await dm.locator('[data-testid="curation-patients"] tbody tr').first().getAttribute('data-patient-id'))!;
    expect(firstId).toMatch(/^PT-/);
    expect(await seriousViolations(dm)).toEqual([]);
    await dm.getByTestId('patient-id').fill(firstId);
    await dm.getByTestId('find-patient').click();
    await dm.getByTestId('curation-events').waitFor({ timeout: 30_000 });
    await dm.getByTestId('event-type').selectOption('follow-up');
    await dm.getByTestId('event-at').fill('2024-06-01T10:00');
    await dm.getByTestId('event-title-zh').fill('随访');
    await dm.getByTestId('event-title-en').fill(STAMP);
    await dm.getByTestId('add-event').click();
    await expect.poll(async () => dm.getByTestId('curation-status').textContent(), { timeout: 15_000 }).toContain(STAMP);
    const row = dm.locator('[data-testid="curation-event"][data-source="manual"]', { hasText: STAMP });
    await row.waitFor();
    await row.getByTestId('open-event').click();
    await dm.getByTestId('annotation-text').fill(NOTE);
    await dm.getByTestId('add-annotation').click();
    await expect.poll(async () => dm.getByTestId('curation-status').textContent(), { timeout: 15_000 }).toContain('Annotation added');
    await expect.poll(async () => row.textContent(), { timeout: 15_000 }).toContain('v2');
    expect(await seriousViolations(dm)).toEqual([]);
    await dm.screenshot({ path: path.join(screenshotDir, 'timeline-curation-en.png'), fullPage: true });

    // The same curation, through the API, for the institution's other patients: the grant only
    // releases those whose consent covers the purpose, and the researcher cannot tell which
    // pseudonymous id is which released patient (by design).
    const dmApi = apiAs(platform, await idTokenFor(platform, 'data-manager'));
    const patients = (await dmApi.get('/v1/patients?limit=500')).json.items as Array<{ patientId: string }>;
    for (const p of patients.filter((x) => x.patientId !== firstId)) {
      const added = await dmApi.post(`/v1/patients/${p.patientId}/timeline/events`, { type: 'follow-up', occurredAt: '2024-06-01T02:00:00Z', title: { zh: '随访', en: STAMP } });
      expect(added.status, added.text).toBe(201);
      const noted = await dmApi.post(`/v1/patients/${p.patientId}/timeline/events/${added.json.eventId as string}/annotations`, { text: NOTE });
      expect(noted.status, noted.text).toBe(201);
    }

    // 2. Researcher: a released patient with the curated event, a PDF and a DICOM file.
    const rApi = apiAs(platform, await idTokenFor(platform, 'researcher'));
    const released = await eventually(async () => {
      const r = await rApi.get(`/v1/grants/${grantId}/patients?limit=500`);
      return r.status === 200 && (r.json.items as unknown[]).length > 0 ? (r.json.items as Array<{ token: string }>) : undefined;
    }, 30_000);
    let token: string | undefined;
    for (const p of released) {
      const view = await rApi.get(`/v1/grants/${grantId}/patients/${p.token}`);
      const tl = view.json.timeline as ReleasedEvent[];
      const files = tl.flatMap((e) => e.files);
      if (tl.some((e) => e.source === 'manual' && e.title.en === STAMP) && files.some((f) => f.kind === 'pdf') && files.some((f) => f.kind === 'dicom')) {
        token = p.token;
        break;
      }
    }
    expect(token, 'a released patient with a curated event, a PDF and a DICOM file').toBeDefined();

    const page = await signedIn('researcher', `/patients/view/?grant=${grantId}&token=${token}`, 'en');
    await page.getByTestId('timeline').waitFor({ timeout: 30_000 });

    // The curated event and its annotation, scrubbed (the phone number and the typed date are gone).
    const curated = page.locator('[data-testid="timeline-event"][data-source="manual"]', { hasText: STAMP });
    await curated.click();
    await page.getByTestId('event-annotations').waitFor();
    const note = (await page.getByTestId('event-annotations').textContent())!;
    expect(note).toContain('no recurrence');
    expect(note).not.toContain('13812345678');
    expect(note).not.toContain('2024-06-01');

    // An event with a PDF: the de-identified rendition drawn by pdf.js, beside the event's records.
    const withPdf = page.locator('[data-testid="timeline-event"][data-files*="pdf"]').first();
    await withPdf.click();
    await page.locator('[data-testid="preview-file"][data-kind="pdf"]').first().click();
    const pdfCanvas = page.locator('[data-testid="pdf-canvas"]').first();
    await pdfCanvas.waitFor({ timeout: 30_000 });
    await expect.poll(async () => (await canvasStats(pdfCanvas)).variance, { timeout: 15_000 }).toBeGreaterThan(20);
    expect(await page.locator('[data-testid="event-detail"] a[download]').count()).toBe(0);
    await page.getByTestId('event-records').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'timeline-preview-pdf-en.png'), fullPage: false });

    // An event with DICOM: a frame on a canvas; window/level changes the rendering.
    const withDicom = page.locator('[data-testid="timeline-event"][data-files*="dicom"]').first();
    await withDicom.click();
    await page.locator('[data-testid="preview-file"][data-kind="dicom"]').first().click();
    const dicomCanvas = page.getByTestId('dicom-canvas');
    await dicomCanvas.waitFor();
    await expect.poll(async () => (await canvasStats(dicomCanvas)).variance, { timeout: 30_000 }).toBeGreaterThan(20);
    const before = await canvasStats(dicomCanvas);
    const windowBefore = await dicomCanvas.getAttribute('data-window');
    await page.getByTestId('window-width').waitFor();
    const min = Number(await page.getByTestId('window-width').getAttribute('min'));
    await page.getByTestId('window-width').fill(String(Math.max(min, 20)));
    await expect.poll(async () => dicomCanvas.getAttribute('data-window'), { timeout: 15_000 }).not.toBe(windowBefore);
    await expect.poll(async () => (await canvasStats(dicomCanvas)).checksum, { timeout: 15_000 }).not.toBe(before.checksum);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'timeline-preview-dicom-en.png'), fullPage: false });

    expect(sessions.problems).toEqual([]);
  }, 420_000);
});
