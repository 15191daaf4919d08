/**
 * Two-factor sign-in in a real browser (R-SEC-6): a security administrator without a second factor
 * opens Sign-in security from the user menu, scans (reads) the authenticator key, confirms it with a
 * code, and the session becomes MFA-verified; after signing out, the next sign-in asks for the code
 * and a wrong code is refused. The local user pool runs the deployed pre-token-generation trigger,
 * so what the page shows is what the API decides on. Screenshots in test-results/e2e/.
 * Prerequisite: `npx next build web` (web/out must exist).
 */
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { generateSync } from 'otplib';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { seriousViolations } from '../support/browser';
import { SCREENSHOT_DIR, usePortalSessions } from '../support/portal-session';

const shot = (name: string) => path.join(SCREENSHOT_DIR, `account-security-${name}.png`);

describe('account security: authenticator enrolment and TOTP sign-in through the portal', () => {
  const platform = inject('platform');
  const sessions = usePortalSessions(platform, 'account/security/index.html');
  // An account of its own: enrolling TOTP must not change the demo accounts other suites sign in with.
  const username = `secadmin-${randomUUID().slice(0, 8)}`;
  const password = `Portal-${randomUUID()}!aA1`;

  beforeAll(async () => {
    const cognito = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: platform.cognito.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const pool = platform.cognito.userPoolId;
    await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: pool,
        Username: username,
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'name', Value: 'Second security admin' },
          { Name: 'custom:institution', Value: 'demo-hospital-1' },
        ],
      }),
    );
    await cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: pool, Username: username, Password: password, Permanent: true }));
    await cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: pool, Username: username, GroupName: 'security-admin' }));
  });

  it('R-SEC-6: enrol an authenticator from the user menu, then sign in again with a TOTP code', async () => {
    const page = await sessions.signIn(username, '/', 'en', { password });
    await page.getByTestId('user-menu').click();
    await page.getByTestId('account-security').click();
    await page.waitForURL(/\/account\/security\/$/);
    expect(await page.locator('details.user-menu').getAttribute('open')).toBeNull();
    await expect.poll(() => page.getByTestId('totp-status').textContent()).toBe('Not set up');
    expect(await page.getByTestId('session-mfa').textContent()).toBe('Signed in with password only');

    await page.getByTestId('totp-begin').click();
    await page.getByTestId('totp-qr').waitFor();
    const secret = (await page.getByTestId('totp-secret').textContent())!.replace(/\s+/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    // The QR code is drawn: a square SVG with dark modules.
    const qr = await page.getByTestId('totp-qr').evaluate((svg) => ({ viewBox: svg.getAttribute('viewBox'), modules: svg.querySelector('path')?.getAttribute('d')?.split('z').length ?? 0 }));
    expect(qr.viewBox).toMatch(/^0 0 (\d+) \1$/);
    expect(qr.modules).toBeGreaterThan(200);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: shot('1-setup'), fullPage: true });

    // A malformed code is held back by the form (six digits required); a wrong one is refused by Cognito.
    await page.locator('#totp-setup-code').fill('12ab');
    await page.getByTestId('totp-confirm').click();
    expect(await page.locator('#totp-setup-code').evaluate((el) => (el as unknown as { validity: { valid: boolean } }).validity.valid)).toBe(false);
    expect(await page.locator('.error-panel').count()).toBe(0);
    await page.locator('#totp-setup-code').fill(generateSync({ secret }) === '000000' ? '111111' : '000000');
    await page.getByTestId('totp-confirm').click();
    await page.locator('.error-panel').getByText('CodeMismatchException').waitFor();
    await page.locator('#totp-setup-code').fill(generateSync({ secret }));
    await page.getByTestId('totp-confirm').click();
    await expect.poll(() => page.getByTestId('totp-status').textContent()).toBe('On — every sign-in asks for a code');
    await expect.poll(() => page.getByTestId('session-mfa').textContent()).toBe('Signed in with a second factor');
    await page.screenshot({ path: shot('2-enabled'), fullPage: true });

    // Next sign-in: password, then the authenticator's code.
    await page.getByTestId('user-menu').click();
    await page.getByTestId('sign-out').click();
    await page.locator('#username').fill(username);
    await page.locator('#password').fill(password);
    await page.getByTestId('sign-in-submit').click();
    await page.locator('#totp-code').waitFor();
    await page.screenshot({ path: shot('3-code-asked'), fullPage: true });
    await page.locator('#totp-code').fill(generateSync({ secret }) === '000000' ? '111111' : '000000');
    await page.getByTestId('sign-in-submit').click();
    await page.locator('.error-panel').getByText('CodeMismatchException').waitFor();
    expect(await page.getByTestId('user-menu').count()).toBe(0);
    // A refused code ends Cognito's session: start over with the password, then the right code.
    await page.getByRole('button', { name: 'Start over' }).click();
    await page.locator('#username').fill(username);
    await page.locator('#password').fill(password);
    await page.getByTestId('sign-in-submit').click();
    await page.locator('#totp-code').fill(generateSync({ secret }));
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('user-menu').waitFor();
    await expect.poll(() => page.getByTestId('session-mfa').textContent()).toBe('Signed in with a second factor');
    await page.screenshot({ path: shot('4-mfa-session'), fullPage: true });
    expect(sessions.problems).toEqual([]);
  });
});
