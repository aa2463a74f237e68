// Fair queuing (issue 17): the batcher takes work round-robin across clients, admission
// counts rows, a full queue sheds the biggest client's newest work for a client under its
// share, and a request may carry at most --max-batch rows.
import test from 'ava';
import http from 'node:http';
import sharp from 'sharp';
import { Batcher, QueueFullError } from '../src/serve/batcher.js';
import { FairGate, FairQueue } from '../src/serve/fair.js';
import { Tensor } from '../src/tensor.js';
import { toNpy } from '../src/npy.js';
import { seededTensor } from '../src/validate.js';
import type { Results } from '../src/model.js';
import { post, withServer } from './helpers/serve.js';

/** A tensor [rows, 1] whose values name its request: rows of request `id` hold id. */
const rowsOf = (rows: number, id: number) => new Tensor('float32', new Float32Array(rows).fill(id), [rows, 1]);

/** A runner that records each batch's request ids (in row order) and takes `ms` per run. */
function recorder(ms: number) {
  const batches: number[][] = [];
  const run = async (x: Tensor): Promise<Results> => {
    const ids: number[] = [];
    for (let i = 0; i < x.dims[0]!; i++) if (ids[ids.length - 1] !== x.data[i]) ids.push(x.data[i]!);
    batches.push(ids);
    await new Promise((r) => setTimeout(r, ms));
    return { output: new Tensor('float32', x.data.slice(), x.dims) };
  };
  return { batches, run };
}

test('FairQueue serves one item per lane per round, starting after the lane served first last time', (t) => {
  const q = new FairQueue<string>();
  for (const x of ['a1', 'a2', 'a3']) q.push('a', x);
  q.push('b', 'b1');
  q.push('c', 'c1');
  q.push('c', 'c2');
  const order: string[] = [];
  while (q.size > 0) order.push(q.shift()!);
  t.deepEqual(order, ['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
  // takeRounds: rounds over lanes, each lane's head at most once per round.
  for (const x of ['a1', 'a2', 'a3']) q.push('a', x);
  q.push('b', 'b1');
  t.deepEqual(q.takeRounds((_, taken) => (taken.length + 1 >= 3 ? 'stop' : 'take')), ['a1', 'b1', 'a2']);
  t.deepEqual(q.takeRounds(() => 'take'), ['a3']);
  t.is(q.size, 0);
  // A lane that arrives after a take goes before the lane just served.
  q.push('a', 'a1');
  q.push('a', 'a2');
  t.is(q.shift(), 'a1');
  q.push('b', 'b1');
  t.is(q.shift(), 'b1');
  t.is(q.shift(), 'a2');
});

test('a client sending one request at a time waits behind at most one batch of each other client', async (t) => {
  const { batches, run } = recorder(5);
  const b = new Batcher(run, { maxBatch: 8, windowMs: 0, queueLimit: 10_000, concurrency: 1 });
  // Two aggressors queue 20 full batches each; then the victim sends one row.
  const work: Promise<unknown>[] = [];
  for (let i = 0; i < 20; i++) work.push(b.submit(rowsOf(8, 100 + i), undefined, 'aggressor-1'), b.submit(rowsOf(8, 200 + i), undefined, 'aggressor-2'));
  const victim = b.submit(rowsOf(1, 7), undefined, 'victim');
  await victim;
  const at = batches.findIndex((ids) => ids.includes(7));
  // The first batch had already left; then at most one batch of each aggressor.
  t.true(at >= 0 && at <= 3, `the victim ran in batch ${at} of ${batches.length}`);
  await Promise.all(work);
  t.is(batches.length, 41);
});

test('a batch is filled one request per client per round, with like shapes only', async (t) => {
  const { batches, run } = recorder(1);
  const b = new Batcher(run, { maxBatch: 5, windowMs: 50, queueLimit: 100, concurrency: 1 });
  const all = [
    b.submit(rowsOf(1, 1), undefined, 'a'),
    b.submit(rowsOf(1, 2), undefined, 'a'),
    b.submit(rowsOf(1, 3), undefined, 'a'),
    b.submit(rowsOf(1, 4), undefined, 'b'),
    b.submit(new Tensor('float32', new Float32Array(2).fill(9), [1, 2]), undefined, 'c'),
    b.submit(rowsOf(1, 5), undefined, 'b'),
  ];
  const got = await Promise.all(all);
  t.deepEqual(batches[0], [1, 4, 2, 5, 3]); // a, b, (c's shape differs), a, b, a
  t.deepEqual([...got[1]!.output!.data], [2]); // each request gets its own rows back
  t.deepEqual([...got[4]!.output!.data], [9, 9]);
  t.true(batches.some((ids) => ids.length === 1 && ids[0] === 9));
});

test('admission counts rows; a full queue sheds the biggest client for one under its share', async (t) => {
  const { run } = recorder(20);
  const b = new Batcher(run, { maxBatch: 16, windowMs: 10_000, queueLimit: 12, concurrency: 1 });
  const aggressor = [1, 2, 3].map((i) => b.submit(rowsOf(4, i), undefined, 'aggressor'));
  t.is(b.rows, 12);
  t.is(b.depth, 3);
  // The aggressor may not grow past the limit itself.
  await t.throwsAsync(b.submit(rowsOf(1, 4), undefined, 'aggressor'), { instanceOf: QueueFullError, message: /12 of 12 rows/ });
  // The victim holds nothing, under its share (6 of 12): the aggressor's newest request is shed.
  const victim = b.submit(rowsOf(2, 5), undefined, 'victim');
  await t.throwsAsync(aggressor[2]!, { instanceOf: QueueFullError, message: /shed/ });
  t.is(b.rows, 10);
  b.flush();
  await Promise.all([victim, aggressor[0], aggressor[1]]);
  t.is(b.rows, 0);
});

test('FairGate lets waiters in round-robin across clients', async (t) => {
  const gate = new FairGate(1);
  const signal = new AbortController().signal;
  const order: string[] = [];
  const first = await gate.acquire('a', signal);
  const waits = [['a', 'a2'], ['a', 'a3'], ['b', 'b1']].map(([client, name]) => gate.acquire(client!, signal).then((release) => { order.push(name!); release(); }));
  first();
  await Promise.all(waits);
  t.deepEqual(order, ['a2', 'b1', 'a3']);
  const ac = new AbortController();
  const held = await gate.acquire('a', signal);
  const waiting = gate.acquire('b', ac.signal);
  ac.abort(new Error('gone'));
  await t.throwsAsync(waiting, { message: 'gone' });
  held();
});

test.serial('server: a request with more rows than --max-batch is a 413 naming the limit', async (t) => {
  await withServer({ maxBatch: 4 }, async (s) => {
    const r = await post(s, '/v1/infer', toNpy(seededTensor([5, 3, 64, 64], 1)));
    t.is(r.status, 413);
    t.regex(((await r.json()) as { error: string }).error, /5 rows; the limit is 4 per request \(--max-batch\)/);
    const j = await post(s, '/v1/infer', JSON.stringify({ dims: [5, 3, 1, 1], data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] }), 'application/json');
    t.is(j.status, 400); // the shape is checked first
    t.is((await post(s, '/v1/infer', toNpy(seededTensor([4, 3, 64, 64], 1)))).status, 200);
  });
});

/** POST from a given local address (127.0.0.x), so the server sees distinct clients. */
function postFrom(localAddress: string, url: string, body: Buffer, type: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', localAddress, agent: false, headers: { 'content-type': type, 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test.serial('server: image decoding is shared round-robin, so one client\'s large images do not hold back another\'s', async (t) => {
  const bomb = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png({ compressionLevel: 9 }).toBuffer();
  const small = await sharp({ create: { width: 120, height: 90, channels: 3, background: { r: 9, g: 9, b: 9 } } }).jpeg().toBuffer();
  await withServer({ decodeConcurrency: 1 }, async (s) => {
    let done = 0;
    const n = 10;
    const bombs = Array.from({ length: n }, () => postFrom('127.0.0.2', `${s.url}/v1/classify`, bomb, 'image/png').then((st) => (done++, st)));
    while (done === 0) await new Promise((r) => setTimeout(r, 5)); // the other client's decoding is under way
    const sentAt = done;
    const victim = await postFrom('127.0.0.1', `${s.url}/v1/classify`, small, 'image/jpeg');
    const passed = done - sentAt;
    const statuses = await Promise.all(bombs);
    t.is(victim, 200);
    t.deepEqual(statuses, Array(n).fill(200));
    t.true(sentAt <= n - 4, `only ${n - sentAt} images were left when the victim came`);
    // Behind at most the image being decoded and the one whose turn came with the victim's.
    t.true(passed <= 2, `${passed} of the other client's images finished while the victim waited (${n - sentAt} were left)`);
  });
});
