// Drives the legacy browser SDK, amplitude-js 8.x (its prebuilt bundle), in headless Chromium
// (playwright-core, pinned in package.json) against `streamscope listen`'s POST /;
// scripts/sdk-tests.sh checks the outcome with check.py.
//
// Usage: NODE_PATH=<node_modules> node legacy-run.js PAGE_URL ENDPOINT_URL VERSION MODE USER_ID RESULTS.json
//   PAGE_URL      legacy-index.html, served from another port than ENDPOINT_URL (real CORS:
//                 the SDK's Cross-Origin-Resource-Policy header makes every upload preflighted)
//   ENDPOINT_URL  http://127.0.0.1:PORT; the SDK gets `apiEndpoint: '127.0.0.1:PORT'`
//   MODE          basic | beacon | batched | lost | left | shortid (legacy-index.html says what each does)
// `lost` and `left` put a small proxy (in this process, no Playwright interception, which
// would answer CORS preflights itself) between the page and the endpoint. It forwards every
// request and its answer, except for the first upload:
//   lost  forwarded, then the connection is closed without an answer: the answer is lost.
//         Chromium resends such a request by itself (once, on a new connection); that copy
//         is treated the same, so that the SDK sees the failure and resends what it kept queued;
//   left  forwarded, the answer held back; meanwhile the page is left (about:blank) with that
//         upload in flight, then loaded again: the SDK sends what localStorage kept.
// Every upload is observed (not intercepted): its form body's events (`e`), status and answer.
// Writes {sdk, library, version, mode, user, loads, uploads, proxy, nonlocal, console} to RESULTS.json.
const { chromium } = require('playwright-core');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');

const MODES = ['basic', 'beacon', 'batched', 'lost', 'left', 'shortid'];
const [pageUrl, endpoint, version, mode, user, out] = process.argv.slice(2);
if (!pageUrl || !endpoint || !version || !MODES.includes(mode) || !user || !out) {
  console.error(`usage: node legacy-run.js PAGE_URL ENDPOINT_URL VERSION ${MODES.join('|')} USER_ID RESULTS.json`);
  process.exit(2);
}
const tag = `amplitude-js ${version} ${mode}`;
const watchdog = setTimeout(() => { console.error(`${tag}: no result within 90 s`); process.exit(1); }, 90000);

// The proxy of `lost` and `left`; resolves to {ep, stats, firstDone, close}.
function startProxy(target) {
  const t = new URL(target);
  const stats = { posts: 0, dropped: 0, held: 0, requests: [] };
  let firstDone;
  let firstBody = null;
  const first = new Promise((r) => { firstDone = r; });
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const n = req.method === 'POST' ? ++stats.posts : 0;
      if (n === 1) firstBody = body;
      // The first upload, and Chromium's own resend of it (same body: same upload_time and
      // checksum), so that the loss reaches the SDK.
      const isFirst = n > 0 && body.equals(firstBody);
      const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url,
        headers: { ...req.headers, host: t.host } }, (ur) => {
        const got = [];
        ur.on('data', (c) => got.push(c));
        ur.on('end', () => {
          const answer = Buffer.concat(got);
          const rec = { method: req.method, status: ur.statusCode, answer: answer.toString('utf8').slice(0, 200), action: 'answered' };
          stats.requests.push(rec);
          if (isFirst && mode === 'lost') {
            rec.action = 'dropped';
            stats.dropped++;
            req.socket.destroy();
          } else if (isFirst && mode === 'left') {
            rec.action = 'held';
            stats.held++;
          } else {
            res.writeHead(ur.statusCode, ur.headers);
            res.end(answer);
          }
          if (n === 1) firstDone();
        });
      });
      up.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
      up.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    ep: `127.0.0.1:${server.address().port}`, stats, first,
    close: () => { server.closeAllConnections(); server.close(); },
  })));
}

(async () => {
  const proxy = mode === 'lost' || mode === 'left' ? await startProxy(endpoint) : null;
  const ep = proxy ? proxy.ep : new URL(endpoint).host;
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
  const uploads = [];
  const pending = [];
  const consoleLines = [];
  ctx.on('request', (r) => {
    if (new URL(r.url()).hostname !== '127.0.0.1') nonlocal.push(r.url());
    if (!r.url().startsWith(`http://${ep}/`)) return;
    const rec = { method: r.method(), type: r.resourceType(), events: null, status: null, answer: null, failure: null };
    uploads.push(rec);
    if (r.method() === 'POST') {
      const form = new URLSearchParams(r.postData() || '');
      try { rec.events = JSON.parse(form.get('e')); } catch (e) { rec.events = `unreadable: ${e.message}`; }
    }
    pending.push((async () => {
      const headers = await r.allHeaders().catch(() => r.headers());
      rec.content_type = headers['content-type'] || null;
      const resp = await r.response().catch(() => null);
      if (resp) {
        rec.status = resp.status();
        rec.answer = await resp.text().catch(() => null);
      } else {
        rec.failure = (r.failure() || {}).errorText || 'no response';
      }
    })());
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  const url = (phase) => `${pageUrl}?v=${encodeURIComponent(version)}&ep=${encodeURIComponent(ep)}` +
    `&mode=${mode}&user=${encodeURIComponent(user)}&phase=${phase}`;
  const loads = [];
  await page.goto(url('first'));
  loads.push(await page.evaluate(() => window.runScenario()));
  if (mode === 'left') {
    // Leave while the first upload is in flight (stored by the endpoint, its answer held).
    await Promise.race([proxy.first, new Promise((r) => setTimeout(r, 10000))]);
    loads[0].left_with_upload_in_flight = proxy.stats.held === 1;
    await page.goto('about:blank');
    await page.goto(url('resume'));
    loads.push(await page.evaluate(() => window.runScenario()));
  }
  await page.waitForTimeout(mode === 'beacon' ? 1000 : 200); // let beacons leave before closing
  await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 3000))]);
  await ctx.close();
  if (proxy) proxy.close();
  fs.rmSync(dir, { recursive: true, force: true });
  for (const load of loads) {
    for (const r of load.logged) {
      const cb = (l) => l.map((c) => `${c.status} ${JSON.stringify(c.response.slice(0, 60))}`).join(', ');
      console.log(`  ${tag} (${load.phase}): ${r.type} #${r.event_id} -> ok [${cb(r.ok)}] err [${cb(r.err)}]`);
    }
  }
  for (const u of uploads) {
    const n = Array.isArray(u.events) ? `${u.events.length} events` : '';
    console.log(`  ${tag}: ${u.method} ${u.type} ${n} -> ${u.status ?? u.failure} ${JSON.stringify(u.answer || '').slice(0, 40)}`);
  }
  for (const l of consoleLines) console.log(`  ${tag} console ${l}`);
  fs.writeFileSync(out, JSON.stringify({ sdk: 'amplitude-js', library: `amplitude-js/${version}`, version, mode, user,
    loads, uploads, proxy: proxy ? proxy.stats : null, nonlocal, console: consoleLines }, null, 1));
  clearTimeout(watchdog);
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
