/**
 * The browser the console tests and bench/console.ts drive: Debian's Chromium through
 * playwright-core (`CHROMIUM_PATH` says where it is when not at /usr/bin/chromium), headless, with
 * its background traffic off.
 */
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A desktop-sized page that prints the page's uncaught errors in the test's output. */
export async function consolePage(browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, ...options });
  page.on('pageerror', (err) => console.error('page error:', err.message));
  return page;
}
