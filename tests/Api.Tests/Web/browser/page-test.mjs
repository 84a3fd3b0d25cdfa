// Drives the service's web page in the system Chromium (playwright-core; it never downloads a browser):
// uploads a video through the file input, waits until it is ready, checks the cluster picture loaded,
// asks a question and reads the streamed answer and the final `done` response the page shows, then asks
// again with the evidence box ticked and checks the heat picture under the answer loaded.
// Prints one JSON line with what it saw; exits 1 (with {"ok": false, ...}) when a step fails.
// Usage: node page-test.mjs <baseUrl> <video> <screenshot.png> <chromium> <userDataDir> <question> <maxNewTokens> [apiKey]
import { runPageTest } from './loopback-browser.mjs';

const [baseUrl, video, screenshot, executablePath, userDataDir, question, maxNewTokens, apiKey] = process.argv.slice(2);
if (!maxNewTokens) {
  console.error('usage: node page-test.mjs <baseUrl> <video> <screenshot.png> <chromium> <userDataDir> <question> <maxNewTokens>');
  process.exit(2);
}

const result = { ok: false, step: 'launch', blocked: [], pageErrors: [], consoleErrors: [] };
await runPageTest({ executablePath, userDataDir, screenshot, result, screenshotOnFailure: true }, async (page) => {
  page.on('console', (message) => { if (message.type() === 'error') result.consoleErrors.push(message.text()); });

  result.step = 'open the page';
  await page.goto(baseUrl);
  if (apiKey) {
    result.step = 'api key';
    await page.getByLabel('API key').fill(apiKey);
    await page.getByLabel('API key').press('Tab');   // 'change' stores it
    result.storedKey = await page.evaluate(() => localStorage.getItem('vqtoken.apiKey'));
  }

  result.step = 'upload';
  await page.getByLabel('Video file').setInputFiles(video);
  await page.getByRole('button', { name: 'Add video', exact: true }).click();
  await page.waitForFunction(() => ['ready', 'failed'].includes(document.getElementById('status')?.dataset.status));
  result.videoId = (await page.locator('#video-id').textContent()).trim();
  result.status = await page.locator('#status').getAttribute('data-status');
  if (result.status !== 'ready') throw new Error(`the video is ${result.status}: ${await page.locator('#stage').textContent()}`);

  result.step = 'clusters';
  await page.locator('#clusters[data-loaded="true"]').waitFor({ state: 'visible' });
  result.clusters = await page.locator('#clusters').evaluate((img) => ({ complete: img.complete, width: img.naturalWidth, height: img.naturalHeight }));

  result.step = 'ask';
  await page.getByLabel('Question').fill(question);
  await page.getByLabel('Max new tokens').fill(maxNewTokens);
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('answer')?.dataset.state));
  result.answerState = await page.locator('#answer').getAttribute('data-state');
  result.streamed = await page.locator('#answer').textContent();
  const shown = await page.locator('#answer-json').textContent();
  result.done = shown ? JSON.parse(shown) : null;

  result.step = 'evidence';
  await page.getByLabel('Evidence (where the answer looked)').check();
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  await page.locator('#evidence-picture[data-loaded="true"]').waitFor({ state: 'visible' });
  result.evidence = await page.locator('#evidence-picture').evaluate((img) => ({ complete: img.complete, width: img.naturalWidth, height: img.naturalHeight }));
  result.evidenceCaption = await page.locator('#evidence-caption').textContent();
  const withEvidence = await page.locator('#answer-json').textContent();
  result.evidenceDone = withEvidence ? JSON.parse(withEvidence) : null;

  result.step = 'list';
  await page.locator(`#videos li[data-id="${result.videoId}"]`).waitFor();
  result.listedStatus = await page.locator(`#videos li[data-id="${result.videoId}"]`).getAttribute('data-status');
  result.errorBox = await page.locator('#error').isVisible() ? await page.locator('#error').textContent() : null;
});
