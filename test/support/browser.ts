import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

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

/** axe-core findings of impact serious or critical on the current page, one line each. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** Pixel statistics of a canvas (e.g. a pdf.js page or a DICOM frame): luminance variance and a checksum. */
export async function canvasStats(canvas: Locator): Promise<{ variance: number; checksum: number; width: number }> {
  return canvas.evaluate((el) => {
    // The test project compiles without DOM types: the canvas is described by what is used.
    const c = el as unknown as { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    let sq = 0;
    let checksum = 0;
    const n = data.length / 4;
    for (let i = 0; i < n; i++) {
      const v = (data[i * 4]! + data[i * 4 + 1]! + data[i * 4 + 2]!) / 3;
      sum += v;
      sq += v * v;
      checksum = (checksum * 31 + data[i * 4]!) % 1_000_000_007;
    }
    return { variance: n ? sq / n - (sum / n) ** 2 : 0, checksum, width: c.width };
  });
}
