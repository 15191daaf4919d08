import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { PlatformInfo } from './platform-setup';

export type Locale = 'zh-CN' | 'en';

/**
 * Signed-in portal sessions of one e2e suite: each {@link PortalSessions.signIn} is a fresh browser
 * context (a separate session, as four different people use the portal), browsers in UTC (the portal
 * must still show the institution's time zone). Page errors and next-intl / CSP console errors are
 * collected in `problems`, which a suite asserts to be empty at the end.
 *
 * @example
 * const sessions = new PortalSessions(platform, browser);
 * const page = await sessions.signIn('researcher', '/grants/', 'en');
 */
export class PortalSessions {
  readonly problems: string[] = [];
  private readonly contexts: BrowserContext[] = [];

  constructor(
    private readonly platform: PlatformInfo,
    private readonly browser: Browser,
  ) {}

  /** A fresh browser session signed in as `username` through the portal's form, left on `pathname`. */
  async signIn(username: string, pathname: string, locale: Locale): Promise<Page> {
    const account = this.platform.accounts.find((a) => a.username === username);
    expect(account, `demo account ${username}`).toBeDefined();
    const context = await this.browser.newContext({ locale, timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
    this.contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => this.problems.push(`${username} pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /MISSING_MESSAGE|FORMATTING_ERROR|INVALID_KEY|Content Security Policy|Refused to/i.test(msg.text())) {
        this.problems.push(`${username}: ${msg.text()}`);
      }
    });
    await page.goto(`${this.platform.webUrl}${pathname}`);
    await page.locator('#username').waitFor();
    await page.locator('#username').fill(account!.username);
    await page.locator('#password').fill(account!.password);
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('user-menu').waitFor();
    return page;
  }

  async closeAll(): Promise<void> {
    for (const c of this.contexts) await c.close().catch(() => undefined);
  }
}
