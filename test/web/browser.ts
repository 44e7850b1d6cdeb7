import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll } from 'vitest';

/**
 * Debian's Chromium, driven by playwright-core (which downloads no browser of its own). `.ci/run` installs it; locally
 * `apt-get install -y chromium`, or point TEAM_TABLE_CHROMIUM at another build.
 */
export const CHROMIUM = process.env.TEAM_TABLE_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = resolve(import.meta.dirname, '../../test-results/web');

const browsers: Browser[] = [];
afterAll(async () => {
  for (const browser of browsers.splice(0)) await browser.close();
});

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set TEAM_TABLE_CHROMIUM)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  browsers.push(browser);
  return browser;
}

/** Saves what the page shows as test-results/web/<name>.png (kept by CI as an artifact). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: resolve(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Opens the dashboard and signs in with `token`; resolves once the board is drawn and the event stream is live. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#board').waitFor();
  await page.waitForFunction(() => document.getElementById('live')?.textContent === 'live');
}

/** A REST call with `token`, as any other client makes it: to check what the page did, or did not, change. */
export async function rest(url: string, token: string, path: string): Promise<any> {
  const response = await fetch(`${url}/api/v1${path}`, { headers: { Authorization: `Bearer ${token}` } });
  return response.json();
}
