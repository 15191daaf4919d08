import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium, headless, with every background network feature off (nothing may call out;
 * never a downloaded browser).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
