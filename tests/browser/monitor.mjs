// Drives the dashboard's monitor pages in headless Chromium: sign in, find the monitor in the
// list, open it, read its timeline of changes; print what it shows as JSON.
// Usage: node monitor.mjs BASE_URL API_KEY MONITOR_ID SCREENSHOT.png   (CHROMIUM: its path)
import { launch } from './launch.mjs';

const [base, key, monitor, screenshot] = process.argv.slice(2);
const { browser, fail } = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));
  await page.goto(base + '/');
  await page.fill('#key', key);
  await page.click('#signin-form button');
  await page.waitForSelector(`#monitors tr[data-monitor="${monitor}"] a`, { timeout: 10000 });
  await page.click(`#monitors tr[data-monitor="${monitor}"] a`);
  await page.waitForURL(new RegExp('#/monitor/' + monitor), { timeout: 5000 });
  await page.waitForSelector('#changes [data-change]', { timeout: 10000 });
  const status = await page.textContent('#monitor-status');
  const changes = await page.$$eval('#changes [data-change]', divs => divs.map(d => ({
    id: d.getAttribute('data-change'),
    entries: [...d.querySelectorAll('li')].map(li => ({ path: li.getAttribute('data-path'), text: li.textContent })),
  })));
  await page.screenshot({ path: screenshot, fullPage: true });
  // A change links to the run that found it.
  await page.click('#changes [data-change] a:last-of-type');
  await page.waitForSelector('#job-title:not(:empty)', { timeout: 10000 });
  if (errors.length) await fail('page errors: ' + errors.join('; '));
  console.log(JSON.stringify({ status, changes }));
} catch (e) {
  await fail(e.stack || String(e));
}
await browser.close();
