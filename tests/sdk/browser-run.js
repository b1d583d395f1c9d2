// Drives the official browser SDK in headless Chromium (playwright-core, pinned in
// package.json) against `streamscope listen`; scripts/sdk-tests.sh checks the outcome.
//
// Usage: NODE_PATH=<node_modules> node browser-run.js PAGE_URL SERVER_URL sessions|gzip|beacon RESULTS.json
// PAGE_URL serves browser-index.html from another port than SERVER_URL, so the browser
// makes real cross-origin requests (CORS preflights included). Chromium gets a fresh
// profile, and resolver/proxy flags that make anything but 127.0.0.1 unreachable; any
// attempt is recorded as `nonlocal`. No page.route/context.route on purpose: Playwright's
// interception would answer CORS preflights itself and hide a missing CORS answer.
// Writes {sdk, mode, s1, s2, deviceId, results, requests, nonlocal, console} to RESULTS.json.
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [pageUrl, serverUrl, mode, out] = process.argv.slice(2);
if (!pageUrl || !serverUrl || !['sessions', 'gzip', 'beacon'].includes(mode) || !out) {
  console.error('usage: node browser-run.js PAGE_URL SERVER_URL sessions|gzip|beacon RESULTS.json');
  process.exit(2);
}
const watchdog = setTimeout(() => { console.error(`browser ${mode}: no result within 90 s`); process.exit(1); }, 90000);

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamscope-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      '--proxy-server=http://127.0.0.1:9', '--proxy-bypass-list=127.0.0.1'],
  });
  const nonlocal = [];
  const requests = [];
  const consoleLines = [];
  const pending = [];
  ctx.on('request', (r) => {
    if (new URL(r.url()).hostname !== '127.0.0.1') nonlocal.push(r.url());
    if (!r.url().startsWith(serverUrl)) return;
    // Observed only (no interception): method, resource type and the headers really sent.
    pending.push((async () => {
      const headers = await r.allHeaders().catch(() => r.headers());
      const resp = await r.response().catch(() => null);
      requests.push({
        method: r.method(), type: r.resourceType(),
        content_type: headers['content-type'] || null, content_encoding: headers['content-encoding'] || null,
        status: resp ? resp.status() : null,
      });
    })());
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  await page.goto(`${pageUrl}?url=${encodeURIComponent(serverUrl)}&mode=${mode}`);
  const res = await page.evaluate(() => window.runScenario());
  await page.waitForTimeout(mode === 'beacon' ? 1500 : 500); // let beacons leave before closing
  await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 3000))]);
  await ctx.close();
  fs.rmSync(dir, { recursive: true, force: true });
  for (const r of res.results) console.log(`  browser ${mode}: ${r.event.event_type} -> ${r.code} ${String(r.message || '').replace(/\s+/g, ' ')}`);
  for (const l of consoleLines) console.log(`  browser ${mode} console ${l}`);
  fs.writeFileSync(out, JSON.stringify({ sdk: 'browser', library: 'amplitude-ts/2.48.1', mode, ...res,
    requests, nonlocal, console: consoleLines }, null, 1));
  clearTimeout(watchdog);
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
