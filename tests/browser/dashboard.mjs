// Drives the dashboard in headless Chromium: sign in, submit a fixture site, watch it complete
// live, read the report, come back to the list, take a screenshot; cancel a job and retry it.
// Usage: node dashboard.mjs BASE_URL API_KEY SITE_URL SCREENSHOT.png   (CHROMIUM: its path)
import { launch } from './launch.mjs';

const [base, key, site, screenshot] = process.argv.slice(2);
const { browser, fail } = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));
  await page.goto(base + '/');

  // A wrong key is refused with a message; the right one signs in.
  await page.fill('#key', 'kr_wrong_key_0000000000');
  await page.click('#signin-form button');
  await page.waitForSelector('#signin-error:text("invalid or revoked API key")', { timeout: 5000 });
  await page.fill('#key', key);
  await page.click('#signin-form button');
  await page.waitForSelector('#home:not([hidden])', { timeout: 5000 });

  // Submit: the job page follows the stages live, then shows the report.
  await page.fill('#url', site);
  await page.click('#submit-form button');
  await page.waitForURL(/#\/job\//, { timeout: 5000 });
  const seen = new Set();
  const poll = setInterval(async () => {
    const text = await page.textContent('#job-status').catch(() => '');
    if (text) seen.add(text);
  }, 50);
  await page.waitForSelector('#company-name', { timeout: 30000 });
  clearInterval(poll);
  const name = await page.textContent('#company-name');
  if (name !== 'Acme Rockets') await fail(`company card shows ${name}`);
  // The headquarters in parts, read as one line.
  const card = await page.textContent('#company-card');
  if (!card.includes('Austin, TX, US')) await fail(`company card: ${card}`);
  const status = await page.textContent('#job-status');
  if (!status.startsWith('completed')) await fail(`job status shows ${status}`);
  for (const part of ['#financials', '#funding', '#news', '#technologies']) {
    if (!(await page.$(part))) await fail(`the report has no ${part}`);
  }
  const revenue = await page.textContent('#financials');
  if (!/revenue/i.test(revenue)) await fail(`financial table: ${revenue}`);
  // Amounts exact, not rounded to "$20M".
  const funding = await page.textContent('#funding');
  if (!funding.includes('$20,000,000')) await fail(`funding: ${funding}`);
  // Every stage applied to this listed company: none is marked not applicable.
  if (await page.$('#job-stages span.na')) await fail('a stage of a listed company is marked not applicable');
  await page.screenshot({ path: screenshot, fullPage: true });

  // The list shows the job, completed, and the queue's health.
  await page.click('header h1 a');
  await page.waitForSelector('#jobs tbody tr td.status.completed', { timeout: 10000 });
  // The list names the company, once known, above its address.
  const row = await page.textContent('#jobs tbody tr:has(td.status.completed)');
  if (!row.includes('Acme Rockets')) await fail(`the job list shows ${row}`);
  await page.waitForSelector('#queue tbody tr', { timeout: 10000 });

  // Cancel a job from its page, then retry it there: it runs again, under the same id, to its report.
  await page.fill('#url', site + '?again');
  await page.click('#submit-form button');
  await page.waitForURL(/#\/job\//, { timeout: 5000 });
  const again = page.url();
  await page.click('#job-cancel', { timeout: 10000 });
  await page.waitForSelector('#job-status.cancelled', { timeout: 10000 });
  await page.click('#job-retry', { timeout: 5000 });
  await page.waitForSelector('#company-name', { timeout: 30000 });
  if (page.url() !== again) await fail(`the retried job moved from ${again} to ${page.url()}`);
  if (!(await page.isHidden('#job-retry'))) await fail('a completed job offers a retry');
  if (errors.length) await fail('page errors: ' + errors.join('; '));
  console.log(JSON.stringify({ ok: true, company: name, stages_seen: [...seen].filter(Boolean) }));
} catch (e) {
  await fail(e.stack || String(e));
}
await browser.close();
