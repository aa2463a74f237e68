// `resnode serve` under hostile traffic (issue 17): requests that crashed the process,
// stalled uploads, slow headers, image bombs, deep JSON, and the health and metrics
// fixes. Each test here failed on the server before the fix.
import test from 'ava';
import fc from 'fast-check';
import sharp from 'sharp';
import { toNpy } from '../src/npy.js';
import { seededTensor } from '../src/validate.js';
import { modelBytes, post, raw, statusOf, until, withServer } from './helpers/serve.js';
import { serve } from '../src/serve/server.js';

const healthy = async (url: string) => (await fetch(`${url}/healthz`)).status === 200;

test.serial('request targets that are not paths answer 400, and the server lives on', async (t) => {
  await withServer({}, async (s) => {
    for (const target of ['//[', '//x:99999/healthz', 'http://[::1', '*', '/%', '/v2/models/%zz/ready']) {
      const r = await raw(s.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      t.true([400, 404].includes(statusOf(r)), `${target}: ${r.text.slice(0, 80)}`);
    }
    t.regex((await raw(s.port, 'GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).text, /is not a path/);
    t.true(await healthy(s.url));
  });
});

test.serial('fuzz: generated request lines, headers and bodies on raw sockets never end the process', async (t) => {
  await withServer({ maxBodyBytes: 65536, timeoutMs: 2000 }, async (s) => {
    const token = fc.stringMatching(/^[\x21-\x7e]{0,12}$/);
    const bytes = fc.uint8Array({ maxLength: 96 });
    const path = fc.oneof(
      { arbitrary: fc.constantFrom('//[', '//x:99999/healthz', '/%', '/v2/models/%', '/v2/models/%zz/infer'), weight: 1 },
      fc.constantFrom('/v1/infer', '/v1/classify', '/healthz', '/metrics', '/v2/models/model/infer', '/v2/health/ready', '//', '//[', '/%', '/v2/models/%'),
      token.map((x) => `/${x}`),
      token,
    );
    const request = fc.record({
      method: fc.oneof(fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'OPTIONS'), token),
      path,
      version: fc.oneof({ arbitrary: fc.constant('HTTP/1.1'), weight: 4 }, fc.constantFrom('HTTP/1.0', 'HTTP/9.9', '')),
      host: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, fc.constant(false)),
      headers: fc.array(fc.tuple(fc.oneof(fc.constantFrom('Content-Length', 'Transfer-Encoding', 'Content-Type', 'Inference-Header-Content-Length', 'Host'), token), token), { maxLength: 3 }),
      body: fc.oneof(bytes, fc.constant(toNpy(seededTensor([1, 3, 2, 2], 1))), fc.json().map((j) => new TextEncoder().encode(j))),
    });
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        // A Host header first: without one Node itself answers 400 before the server sees the request.
        const head = `${r.method} ${r.path} ${r.version}\r\n${r.host ? 'Host: x\r\n' : ''}${r.headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
        const msg = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(r.body)]);
        await raw(s.port, msg, 150, true);
        sent++;
      }),
      { numRuns: 300, seed: 17 },
    );
    t.is(sent, 300);
    t.true(await healthy(s.url));
    const ok = await post(s, '/v1/infer', toNpy(seededTensor([1, 3, 64, 64], 2)));
    t.is(ok.status, 200);
  });
});

test.serial('a stalled upload gets its 504 and its socket is closed at once', async (t) => {
  await withServer({ timeoutMs: 300 }, async (s) => {
    const r = await raw(s.port, 'POST /v1/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc', 5000);
    t.is(statusOf(r), 504);
    t.true(r.closed, 'the server closed the connection');
    t.true(r.ms < 2000, `closed after ${r.ms.toFixed(0)} ms`);
  });
});

test.serial('bodies held at once are capped: past --max-inflight-bytes, 503 at once', async (t) => {
  await withServer({ maxInflightBytes: 1_000_000, maxBodyBytes: 600_000, timeoutMs: 3000 }, async (s) => {
    // The first stalled upload declares 600 kB and holds it; the second would take the total past 1 MB.
    const first = raw(s.port, 'POST /v1/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 600000\r\n\r\nab', 4000);
    await until(async () => /resnode_body_bytes_in_flight 600000/.test(await (await fetch(`${s.url}/metrics`)).text()));
    const second = await raw(s.port, 'POST /v1/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\nab', 1000);
    t.is(statusOf(second), 503);
    t.regex(second.text, /max-inflight-bytes/);
    // A chunked upload is counted as it arrives.
    const chunk = 'x'.repeat(450_000);
    const third = await raw(s.port, `POST /v1/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n`, 1000);
    t.is(statusOf(third), 503);
    t.is(statusOf(await first), 504);
    await until(async () => /resnode_body_bytes_in_flight 0\n/.test(await (await fetch(`${s.url}/metrics`)).text()));
    t.is((await post(s, '/v1/infer', toNpy(seededTensor([1, 3, 64, 64], 3)))).status, 200);
  });
});

test.serial('a client that never finishes its headers is cut off after headersTimeoutMs; connections are capped', async (t) => {
  await withServer({ headersTimeoutMs: 400, maxConnections: 5 }, async (s) => {
    t.is(s.http.headersTimeout, 400);
    t.is(s.http.maxConnections, 5);
    t.true(s.http.requestTimeout > 0);
    const slow = await raw(s.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', 5000);
    t.true(slow.closed);
    t.true(slow.ms < 3000, `cut after ${slow.ms.toFixed(0)} ms`);
    // Five idle connections fill the server; a sixth is closed on arrival without an answer.
    const idle = Array.from({ length: 5 }, () => raw(s.port, '', 1500));
    await new Promise((r) => setTimeout(r, 200));
    const sixth = await raw(s.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 1000);
    t.true(sixth.closed);
    t.is(statusOf(sixth), 0);
    await Promise.all(idle);
    t.true(await healthy(s.url));
  });
});

test.serial('an image over maxPixels is refused from its header', async (t) => {
  const big = await sharp({ create: { width: 2000, height: 1500, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png().toBuffer();
  await withServer({ maxPixels: 1_000_000 }, async (s) => {
    const start = performance.now();
    const r = await post(s, '/v1/classify', big, 'image/png');
    t.is(r.status, 400);
    t.regex(((await r.json()) as { error: string }).error, /pixel limit/);
    t.true(performance.now() - start < 2000);
    const small = await sharp({ create: { width: 100, height: 80, channels: 3, background: { r: 9, g: 9, b: 9 } } }).png().toBuffer();
    t.is((await post(s, '/v1/classify', small, 'image/png')).status, 200);
  });
});

test.serial('deeply nested JSON dims and data answer 400 with a message, not a stack overflow', async (t) => {
  await withServer({}, async (s) => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    for (const body of [`{"dims": ${deep}, "data": []}`, `{"dims": [1, 3, 64, 64], "data": ${deep}}`]) {
      const r = await post(s, '/v1/infer', body, 'application/json');
      t.is(r.status, 400);
      const { error } = (await r.json()) as { error: string };
      t.notRegex(error, /call stack/);
      t.regex(error, /deeper than 32 levels/);
    }
  });
});

test.serial('/healthz answers 503 while draining (the listener stays open) and 200 never after', async (t) => {
  const s = await serve(modelBytes, { threads: 1, timeoutMs: 2000 });
  // A stalled upload keeps the drain going until its 504.
  const stalled = raw(s.port, 'POST /v1/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab', 5000);
  await until(async () => /resnode_body_bytes_in_flight 1000\n/.test(await (await fetch(`${s.url}/metrics`)).text()));
  const closing = s.close();
  const h = await fetch(`${s.url}/healthz`);
  t.is(h.status, 503);
  t.is(((await h.json()) as { status: string }).status, 'shutting down');
  t.is((await fetch(`${s.url}/v2/health/ready`)).status, 503);
  t.is((await fetch(`${s.url}/v2/health/live`)).status, 200);
  const late = await post(s, '/v1/infer', toNpy(seededTensor([1, 3, 64, 64], 5)));
  t.is(late.status, 503);
  t.regex(((await late.json()) as { error: string }).error, /shutting down/);
  t.is(statusOf(await stalled), 504);
  await closing;
  await t.throwsAsync(fetch(`${s.url}/healthz`));
});

test.serial('/healthz answers 503 while no worker is alive', async (t) => {
  await withServer({ workers: 1 }, async (s) => {
    t.is((await fetch(`${s.url}/healthz`)).status, 200);
    await s.pool!.workers[0]!.terminate();
    const h = await fetch(`${s.url}/healthz`);
    t.is(h.status, 503);
    t.is(((await h.json()) as { status: string }).status, 'no live worker');
    t.is((await fetch(`${s.url}/v2/health/ready`)).status, 503);
    await until(async () => (await fetch(`${s.url}/healthz`)).status === 200, 30_000); // the replacement loads
  });
});

test.serial('/metrics labels a request cut off mid-body by what the client received, not 200', async (t) => {
  await withServer({}, async (s) => {
    await raw(s.port, 'POST /v1/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc', 200); // then the client hangs up
    await until(async () => /status="aborted"/.test(await (await fetch(`${s.url}/metrics`)).text()));
    const text = await (await fetch(`${s.url}/metrics`)).text();
    t.regex(text, /resnode_http_requests_total\{route="\/v1\/infer",status="aborted"\} 1/);
    t.notRegex(text, /route="\/v1\/infer",status="200"/);
  });
});

test('serve() refuses limits that contradict each other, naming the options', async (t) => {
  await t.throwsAsync(serve(modelBytes, { maxInflightBytes: 1000, maxBodyBytes: 2000 }), { instanceOf: TypeError, message: /serve: expected at least options\.maxBodyBytes \(2000\) for options\.maxInflightBytes but received 1000/ });
  await t.throwsAsync(serve(modelBytes, { headersTimeoutMs: 9000, requestTimeoutMs: 5000 }), { instanceOf: TypeError, message: /serve: expected at most options\.requestTimeoutMs \(5000\) for options\.headersTimeoutMs/ });
  await t.throwsAsync(serve(modelBytes, { maxConnections: 0 }), { instanceOf: TypeError, message: /options\.maxConnections/ });
});

test.serial('a full queue answers 503 before reading the body, and a refused upload that stalls loses its socket', async (t) => {
  await withServer({ queue: 1, batchWindowMs: 3000, maxBodyBytes: 100_000 }, async (s) => {
    const first = post(s, '/v1/infer', toNpy(seededTensor([1, 3, 64, 64], 6)));
    await until(async () => ((await (await fetch(`${s.url}/healthz`)).json()) as { queue: number }).queue === 1);
    // The body never arrives: the answer cannot wait for it.
    const refused = await raw(s.port, 'POST /v1/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\nab', 5000);
    t.is(statusOf(refused), 503);
    t.regex(refused.text, /queue is full/);
    t.true(refused.closed && refused.ms < 2500, `closed after ${refused.ms.toFixed(0)} ms`);
    t.is((await first).status, 200);
    // The same for a 413 on a declared length: the stalled rest is not waited for.
    const big = await raw(s.port, 'POST /v1/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\nab', 5000);
    t.is(statusOf(big), 413);
    t.true(big.closed && big.ms < 2500, `closed after ${big.ms.toFixed(0)} ms`);
  });
});
