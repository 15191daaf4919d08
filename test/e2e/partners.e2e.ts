/**
 * Partner administration journey (R-INT-1, R-SEC-7): a security admin onboards a partner system
 * (API key and OAuth client secret shown once, with copy buttons and a "store it now" warning),
 * rotates and revokes its keys, and registers a webhook endpoint whose signing secret is shown
 * once; a researcher opening /partners/ is refused. Real browser, real sign-in, real API.
 * Prerequisite: `npm run build:web` (web/out must exist).
 */
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { apiAs, idTokenFor } from '../support/api-client';
import { seriousViolations } from '../support/browser';
import { SCREENSHOT_DIR, usePortalSessions, type Locale } from '../support/portal-session';

const screenshotDir = SCREENSHOT_DIR;

describe('partner administration in the portal (R-INT-1, R-SEC-7)', () => {
  const platform = inject('platform');
  const sessions = usePortalSessions(platform, 'index.html');
  /** Wider than the default (the keys table), with clipboard access for the copy buttons. */
  const signedIn = (username: string, pathname: string, locale: Locale) => sessions.signIn(username, pathname, locale, { viewport: { width: 1360, height: 900 }, clipboard: true });

  it('R-SEC-7: a security admin onboards a partner, copies its secrets, rotates and revokes keys, and registers a webhook', async () => {
    const page = await signedIn('security-admin', '/', 'en');
    await page.getByTestId('nav-partners').click();
    await page.getByRole('heading', { name: 'Partner systems' }).waitFor();
    await page.getByTestId('partners-status').filter({ hasText: /partner/ }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    // Client-side validation first: nothing is sent while the form is incomplete.
    await page.getByTestId('onboard-submit').click();
    expect(await page.getByText('Enter a name of at least 2 characters.').count()).toBe(1);
    expect(await page.getByText('Enter at least one valid IPv4 CIDR range.').count()).toBe(1);

    const name = `E2E research portal ${Date.now().toString(36)}`;
    await page.getByLabel('System name').fill(name);
    await page.getByLabel('Institution', { exact: true }).fill('demo-hospital-2');
    await page.getByLabel('Technical contact e-mail').fill('it@demo-hospital-2.example');
    await page.getByLabel('Allowed source IP ranges (CIDR)').fill('127.0.0.0/8, 203.0.113.0/24');
    await page.getByLabel(/access-requests\.read/).check();
    await page.getByLabel(/grants\.read/).check();
    const onboarded = page.waitForResponse((r) => r.url().endsWith('/v1/partners') && r.request().method() === 'POST');
    await page.getByTestId('onboard-submit').click();
    const res = await onboarded;
    expect(res.status()).toBe(201);
    const out = (await res.json()) as { partner: { partnerId: string; keys: Array<{ keyId: string }> }; apiKey: string; oauthClient: { clientId: string; clientSecret: string } };

    const reveal = page.getByTestId('secret-reveal');
    await reveal.waitFor();
    expect(await page.getByTestId('secret-warning').textContent()).toContain('Store it now.');
    const shown = await reveal.getByTestId('secret-value').allTextContents();
    expect(shown).toEqual(expect.arrayContaining([out.apiKey, out.oauthClient.clientId, out.oauthClient.clientSecret]));
    await reveal.getByRole('button', { name: 'Copy API key' }).click();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(out.apiKey);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'partners-onboarded-en.png'), fullPage: true });

    // Dismissed, the secrets are gone from the page; the list shows the partner and its key.
    await page.getByTestId('secret-dismiss').click();
    expect(await page.getByText(out.apiKey).count()).toBe(0);
    const row = page.locator(`tr[data-partner-id="${out.partner.partnerId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain(name);
    expect(await row.locator(`[data-key-id="${out.partner.keys[0]!.keyId}"]`).getAttribute('data-key-status')).toBe('active');

    // Rotation: a new key shown once; the old one retires.
    const rotated = page.waitForResponse((r) => /\/v1\/partners\/[^/]+\/api-keys$/.test(r.url()) && r.request().method() === 'POST');
    await row.getByTestId('rotate-key').click();
    const rot = (await (await rotated).json()) as { keyId: string; apiKey: string };
    await page.getByTestId('secret-reveal').waitFor();
    expect(await page.getByTestId('secret-value').first().textContent()).toBe(rot.apiKey);
    await page.getByTestId('secret-dismiss').click();
    expect(await row.locator(`[data-key-id="${out.partner.keys[0]!.keyId}"]`).getAttribute('data-key-status')).toBe('retiring');
    expect(await row.locator(`[data-key-id="${rot.keyId}"]`).getAttribute('data-key-status')).toBe('active');

    // Revocation of the retiring key, confirmed.
    await row.locator(`[data-key-id="${out.partner.keys[0]!.keyId}"]`).getByTestId('revoke-key').click();
    await row.getByTestId('confirm-revoke').click();
    await page.getByTestId('partners-notice').waitFor();
    await expect.poll(() => row.locator(`[data-key-id="${out.partner.keys[0]!.keyId}"]`).getAttribute('data-key-status')).toBe('revoked');

    // Webhooks of the partner: register an endpoint (loopback http is allowed on the local runtime).
    await row.getByTestId('toggle-webhooks').click();
    const panel = page.getByTestId('partner-webhooks');
    await panel.waitFor();
    await panel.getByText('No webhook endpoints.').waitFor();
    await panel.getByLabel('Endpoint URL').fill('http://127.0.0.1:9/mdrp/events');
    await panel.getByLabel('review decision').uncheck();
    const registered = page.waitForResponse((r) => r.url().includes('/webhooks') && r.request().method() === 'POST');
    await panel.getByTestId('webhook-submit').click();
    const hook = (await (await registered).json()) as { endpoint: { endpointId: string }; secret: string };
    await page.getByTestId('secret-reveal').waitFor();
    expect(await page.getByTestId('secret-value').first().textContent()).toBe(hook.secret);
    const hookRow = panel.locator(`tr[data-endpoint-id="${hook.endpoint.endpointId}"]`);
    await hookRow.waitFor();
    expect(await hookRow.textContent()).not.toContain('review decision');
    expect(await hookRow.textContent()).toContain(`…${hook.secret.slice(-4)}`);
    await hookRow.getByTestId('show-deliveries').click();
    await panel.getByTestId('deliveries').getByText('Nothing delivered yet.').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'partners-webhooks-en.png'), fullPage: true });

    // The API agrees with what the page shows.
    const admin = apiAs(platform, await idTokenFor(platform, 'security-admin'));
    const listed = (await admin.get(`/v1/partners/${out.partner.partnerId}/webhooks`)).json as { items: Array<{ endpointId: string; eventTypes: string[] }> };
    expect(listed.items).toEqual([expect.objectContaining({ endpointId: hook.endpoint.endpointId, eventTypes: expect.not.arrayContaining(['access-request.decision']) })]);

    // And the Chinese UI.
    await page.getByTestId('secret-dismiss').click();
    await page.getByTestId('locale-select').selectOption('zh-CN');
    await page.getByRole('heading', { name: '合作方系统', exact: true }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'partners-zh.png'), fullPage: true });
    expect(sessions.problems).toEqual([]);
  }, 180_000);

  it('R-SEC-7: a researcher opening /partners/ is refused and sees no partner data', async () => {
    const page = await signedIn('researcher', '/partners/', 'zh-CN');
    expect(await page.getByTestId('nav-partners').count()).toBe(0);
    const refusal = page.getByTestId('partners-forbidden');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('无权访问');
    expect(await refusal.locator('code').textContent()).toBe('FORBIDDEN');
    expect(await page.getByTestId('partners-table').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDir, 'partners-forbidden-zh.png'), fullPage: true });
    expect(sessions.problems).toEqual([]);
  }, 60_000);
});
