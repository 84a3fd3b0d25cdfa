// Drives the page's library search in the system Chromium (playwright-core): types a yes/no question, submits,
// waits for the ranked list and its thumbnails. Prints one JSON line with what it saw; exits 1 when a step fails.
// Usage: node search-page-test.mjs <baseUrl> <screenshot.png> <chromium> <userDataDir> <question> [apiKey]
import { runPageTest } from './loopback-browser.mjs';

const [baseUrl, screenshot, executablePath, userDataDir, question, apiKey] = process.argv.slice(2);
if (!question) {
  console.error('usage: node search-page-test.mjs <baseUrl> <screenshot.png> <chromium> <userDataDir> <question> [apiKey]');
  process.exit(2);
}

const result = { ok: false, step: 'launch', blocked: [], pageErrors: [], searchRequests: 0 };
await runPageTest({ executablePath, userDataDir, screenshot, result, onRequest: (url) => { if (url.pathname === '/videos/search') result.searchRequests++; } },
  async (page) => {
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
  });
