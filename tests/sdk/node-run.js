// Drives the official Node SDK (@amplitude/analytics-node, pinned in package.json) against
// `streamscope listen`; run by scripts/sdk-tests.sh, which checks the outcome through the
// endpoint's query API (tests/sdk/check.py).
//
// Usage: NODE_PATH=<node_modules> node node-run.js SERVER_URL main|invalid RESULTS.json
//   main:    8 events (tracks, identify, revenue) for one user, flushQueueSize 3, one
//            explicit flush(): sent as 3 requests (3+3+2). Every callback must be 200.
//   invalid: 5 events queued together, one with a 2-character user_id (the endpoint's
//            min_id_length is 5), flushed by the timer (explicit flushes never retry):
//            the endpoint answers 400 with events_with_invalid_id_lengths, keeps the 4
//            valid events; the SDK drops the listed one (callback 400) and resends the
//            other 4, which the endpoint recognises by insert_id.
// Writes {sdk, library, mode, results: [{code, message, event}]} to RESULTS.json, where
// `event` is the event exactly as the SDK serialised it.
const amp = require('@amplitude/analytics-node');
const fs = require('fs');

const [url, mode, out] = process.argv.slice(2);
if (!url || !['main', 'invalid'].includes(mode) || !out) {
  console.error('usage: node node-run.js SERVER_URL main|invalid RESULTS.json');
  process.exit(2);
}

(async () => {
  const opts = { serverUrl: url, logLevel: amp.Types.LogLevel.Warn };
  if (mode === 'main') Object.assign(opts, { flushQueueSize: 3, flushIntervalMillis: 60000 });
  else Object.assign(opts, { flushIntervalMillis: 300, flushMaxRetries: 3 });
  await amp.init('0123456789abcdef0123456789abcdef', opts).promise;
  const p = [];
  if (mode === 'main') {
    const who = { user_id: 'node-user-1', device_id: 'node-device-1', session_id: 1700000000000 };
    p.push(amp.track('Page Viewed', { page: '/home' }, who).promise);
    p.push(amp.track('Item Viewed', { sku: 'a-1', price: 3.5 }, who).promise);
    p.push(amp.track('Item Viewed', { sku: 'b-2', price: 7 }, who).promise);
    p.push(amp.track('Item Viewed', { sku: 'c-3', nested: { list: [1, 2, 3], ok: true } }, who).promise);
    p.push(amp.track('Button Clicked', { button: 'buy', count: 3 }, { ...who, time: 1700000001000 }).promise);
    p.push(amp.track('Custom Insert Id', { unicode: 'héllo ✓' }, { ...who, insert_id: 'node-fixed-insert-id-0001' }).promise);
    const id = new amp.Identify().set('plan', 'pro').setOnce('first_seen', '2024-01-01').add('logins', 1).append('tags', 'a');
    p.push(amp.identify(id, who).promise);
    const rev = new amp.Revenue().setProductId('sku-1').setPrice(9.99).setQuantity(2).setRevenueType('purchase')
      .setEventProperties({ coupon: 'X' });
    p.push(amp.revenue(rev, who).promise);
    await amp.flush().promise;
  } else {
    const who = { user_id: 'node-user-2', device_id: 'node-device-2' };
    p.push(amp.track('Valid Before', { n: 1 }, who).promise);
    p.push(amp.track('Valid Before', { n: 2 }, who).promise);
    // Too short a user_id: rejected by the endpoint, listed in events_with_invalid_id_lengths.
    p.push(amp.track('Short User Id', { n: 3 }, { user_id: 'ab', device_id: 'node-bad-device' }).promise);
    p.push(amp.identify(new amp.Identify().set('plan', 'free'), who).promise);
    p.push(amp.track('Valid After', { n: 4 }, who).promise);
  }
  const res = await Promise.all(p);
  const results = res.map((r) => ({ code: r.code, message: r.message, event: JSON.parse(JSON.stringify(r.event)) }));
  for (const r of results) console.log(`  node ${mode}: ${r.event.event_type} -> ${r.code} ${String(r.message || '').replace(/\s+/g, ' ')}`);
  fs.writeFileSync(out, JSON.stringify({ sdk: 'node', library: 'amplitude-node-ts/1.5.73', mode, results }, null, 1));
  process.exit(0); // the SDK's interval timer would otherwise keep the process alive
})().catch((e) => { console.error(e); process.exit(1); });
