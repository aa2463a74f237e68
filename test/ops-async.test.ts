// Async native ops run off the JS thread: the event loop keeps turning.
import test from 'ava';
import { ops, Tensor } from '../src/index.js';

function random(dims: number[], seed: number): Tensor {
  const t = Tensor.zeros(dims);
  let s = seed >>> 0;
  for (let i = 0; i < t.size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    t.data[i] = s / 2 ** 32 - 0.5;
  }
  return t;
}

// 1×256×56×56 through a 5×5 256→256 conv on one thread: about 10 GFLOP, long
// enough that a 1 ms timer must fire many times if the loop is free.
const x = random([1, 256, 56, 56], 1);
const w = random([256, 256, 5, 5], 2);

async function ticksDuring(work: () => Promise<unknown> | unknown): Promise<{ ticks: number; ms: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  await new Promise((r) => setTimeout(r, 5));
  ticks = 0;
  const start = performance.now();
  await work();
  const ms = performance.now() - start;
  clearInterval(timer);
  return { ticks, ms };
}

test.serial('an async conv on 1×256×56×56 leaves the event loop free', async (t) => {
  const packed = ops.packConv2d(w, { backend: 'native' });
  const { ticks, ms } = await ticksDuring(() => ops.conv2d(x, packed, { pads: 2, threads: 1 }));
  t.log(`async conv took ${ms.toFixed(1)} ms; a 1 ms timer fired ${ticks} times`);
  t.true(ms > 20, 'the conv must take long enough for the check to mean something');
  t.true(ticks >= Math.floor(ms / 10), `expected the timer to keep firing, got ${ticks} ticks in ${ms.toFixed(1)} ms`);
});

test.serial('the sync form blocks the loop (the check above can fail)', async (t) => {
  const packed = ops.packConv2d(w, { backend: 'native' });
  const { ticks, ms } = await ticksDuring(() => ops.conv2dSync(x, packed, { pads: 2, threads: 1 }));
  t.log(`sync conv took ${ms.toFixed(1)} ms; the timer fired ${ticks} times`);
  t.is(ticks, 0);
});

test.serial('concurrent async convs give the same result as serial sync ones', async (t) => {
  const xs = [random([1, 16, 20, 20], 3), random([2, 16, 20, 20], 4), random([1, 16, 20, 20], 5)];
  const wt = random([24, 16, 3, 3], 6);
  const packed = ops.packConv2d(wt, { backend: 'native' });
  const serial = xs.map((xi) => ops.conv2dSync(xi, packed, { pads: 1 }));
  const parallel = await Promise.all(xs.flatMap((xi) => [ops.conv2d(xi, packed, { pads: 1 }), ops.conv2d(xi, packed, { pads: 1, threads: 1 })]));
  parallel.forEach((p, i) => t.deepEqual(p.data, serial[Math.floor(i / 2)].data));
});
