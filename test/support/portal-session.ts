import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { launchChromium } from './browser';
import type { PlatformInfo } from './platform-setup';

export type Locale = 'zh-CN' | 'en';

/** How a {@link PortalSessions.signIn} browser context differs from the default. */
export interface SignInOptions {
  viewport?: { width: number; height: number };
  clipboard?: boolean;
  /** Signs in an account the test created itself (not a demo account) with this password. */
  password?: string;
}

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

  /**
   * A fresh browser session signed in as `username` through the portal's form, left on `pathname`.
   * `options.viewport` overrides the 1280×900 default; `options.clipboard` lets the page read and
   * write the clipboard (copy buttons of one-time secrets).
   */
  async signIn(username: string, pathname: string, locale: Locale, options: SignInOptions = {}): Promise<Page> {
    const account = options.password !== undefined ? { username, password: options.password } : this.platform.accounts.find((a) => a.username === username);
    expect(account, `demo account ${username}`).toBeDefined();
    const context = await this.browser.newContext({ locale, timezoneId: 'UTC', viewport: options.viewport ?? { width: 1280, height: 900 } });
    if (options.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: this.platform.webUrl });
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

const repoRoot = path.resolve(import.meta.dirname, '../..');

/** Where the journeys keep their screenshots (looked at by a person, not compared). */
export const SCREENSHOT_DIR = path.join(repoRoot, 'test-results', 'e2e');

/**
 * Registers a journey's browser lifecycle in the enclosing `describe`: before it, checks that the
 * portal is built (`builtPage`, a file under web/out), starts Debian Chromium and opens a
 * {@link PortalSessions}; after it, closes every session and the browser.
 *
 * @example
 * const sessions = usePortalSessions(platform, 'policies/index.html');
 * it('…', async () => { const page = await sessions.signIn('security-admin', '/policies/', 'en'); });
 */
export function usePortalSessions(platform: PlatformInfo, builtPage: string): Pick<PortalSessions, 'signIn' | 'problems'> {
  let browser: Browser | undefined;
  let sessions: PortalSessions | undefined;
  beforeAll(async () => {
    if (!existsSync(path.join(repoRoot, 'web', 'out', builtPage))) {
      throw new Error('web/out is missing or stale: run `npx next build web` before the e2e tests');
    }
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    browser = await launchChromium();
    sessions = new PortalSessions(platform, browser);
  }, 60_000);
  afterAll(async () => {
    await sessions?.closeAll();
    await browser?.close();
  }, 60_000);
  return {
    signIn: (username, pathname, locale, options) => sessions!.signIn(username, pathname, locale, options),
    get problems() {
      return sessions!.problems;
    },
  };
}
