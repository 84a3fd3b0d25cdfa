// The page tests' harness: the system Chromium (playwright-core; it never downloads a browser) reaching only the
// service on the loopback (anything else is refused and listed in result.blocked), page errors collected, then the
// test's steps. Prints one JSON line with the result; exits 0 when the steps finished, 1 (with "ok": false) otherwise.
import { chromium } from 'playwright-core';

/**
 * @param {object} options
 * @param {string} options.executablePath  the system Chromium
 * @param {string} options.userDataDir     a fresh profile folder
 * @param {string} options.screenshot      where the page is saved after the steps (and after a failure, with screenshotOnFailure)
 * @param {object} options.result          the reported object: ok, step, blocked, pageErrors, error, errorBox are set here
 * @param {(url: URL) => void} [options.onRequest]  sees every request allowed through
 * @param {boolean} [options.screenshotOnFailure]
 * @param {(page: import('playwright-core').Page) => Promise<void>} steps
 */
export async function runPageTest({ executablePath, userDataDir, screenshot, result, onRequest, screenshotOnFailure = false }, steps) {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-proxy-server'],
    timeout: 60_000,
  });
  try {
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname !== '127.0.0.1') {
        result.blocked.push(url.href);
        return route.abort();
      }
      onRequest?.(url);
      return route.continue();
    });
    const page = context.pages()[0] ?? await context.newPage();
    page.setDefaultTimeout(120_000);
    page.on('pageerror', (error) => result.pageErrors.push(String(error)));

    await steps(page);

    result.step = 'screenshot';
    await page.screenshot({ path: screenshot, fullPage: true });
    result.ok = true;
  } catch (error) {
    result.error = String(error?.message ?? error);
    try {
      const page = context.pages()[0];
      result.errorBox = page ? await page.locator('#error').textContent({ timeout: 1000 }) : null;
      if (page && screenshotOnFailure) await page.screenshot({ path: screenshot, fullPage: true, timeout: 5000 });
    } catch { /* the failure itself is what matters */ }
  } finally {
    await context.close();
  }
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
}
