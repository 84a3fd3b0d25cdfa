// Drives the page's library search in the system Chromium (playwright-core): types a yes/no question, submits,
// waits for the ranked list and its thumbnails. Prints one JSON line with what it saw; exits 1 when a step fails.
// Usage: node search-page-test.mjs <baseUrl> <screenshot.png> <chromium> <userDataDir> <question> [apiKey]
import { chromium } from 'playwright-core';

const [baseUrl, screenshot, executablePath, userDataDir, question, apiKey] = process.argv.slice(2);
if (!question) {
  console.error('usage: node search-page-test.mjs <baseUrl> <screenshot.png> <chromium> <userDataDir> <question> [apiKey]');
  process.exit(2);
}

const result = { ok: false, step: 'launch', blocked: [], pageErrors: [], searchRequests: 0 };
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
    if (url.pathname === '/videos/search') result.searchRequests++;
    return route.continue();
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(120_000);
  page.on('pageerror', (error) => result.pageErrors.push(String(error)));

  result.step = 'open the page';
  await page.goto(baseUrl);
  if (apiKey) {
    await page.getByLabel('API key').fill(apiKey);
    await page.getByLabel('API key').press('Tab');
  }

  result.step = 'search';
  await page.getByLabel('Find videos where').fill(question);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('search-summary')?.dataset.state));
  result.searchState = await page.locator('#search-summary').getAttribute('data-state');
  result.summary = await page.locator('#search-summary').textContent();
  result.ids = await page.locator('#search-results li').evaluateAll((items) => items.map((i) => i.dataset.id));
  result.scores = await page.locator('#search-results li').evaluateAll((items) => items.map((i) => Number(i.dataset.score)));
  result.texts = await page.locator('#search-results li .name').allTextContents();

  result.step = 'thumbnails';
  await page.waitForFunction(() => [...document.querySelectorAll('#search-results img.thumb')].every((img) => !img.hidden && img.complete && img.naturalWidth > 0));
  result.thumbnails = await page.locator('#search-results img.thumb').evaluateAll((images) => images.map((img) => img.naturalWidth));
  result.errorBox = await page.locator('#error').isVisible() ? await page.locator('#error').textContent() : null;

  result.step = 'screenshot';
  await page.screenshot({ path: screenshot, fullPage: true });
  result.ok = true;
} catch (error) {
  result.error = String(error?.message ?? error);
  try {
    const page = context.pages()[0];
    result.errorBox = page ? await page.locator('#error').textContent({ timeout: 1000 }) : null;
  } catch { /* the failure itself is what matters */ }
} finally {
  await context.close();
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
