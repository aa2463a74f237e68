// Child process of test/input-lifetime.test.ts (a crash must fail that test,
// not kill its runner). Starts async runs and, while each is in flight,
// detaches its input buffer (structuredClone with transfer, then scribbles
// over and drops the clone) or mutates the input in place, 100 times; prints
// how many results differ from a serial run on an untouched copy.
// Usage: tsx input-lifetime-child.ts <model|conv|mutate> <native|js>
import { load } from '../../src/model.js';
import { conv2d, conv2dSync } from '../../src/ops.js';
import { resnet } from '../../src/graph/resnet.js';
import { Tensor } from '../../src/tensor.js';
import { seededTensor } from '../../src/validate.js';

const [what, backend] = process.argv.slice(2) as ['model' | 'conv' | 'mutate', 'native' | 'js'];
const RUNS = 100;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function detach(t: Tensor): void {
  const clone = structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] });
  new Float32Array(clone).fill(Number.NaN); // the freed-to-us memory now holds garbage
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

async function main(): Promise<void> {
  let mismatches = 0;
  if (what === 'model') {
    const model = await load(resnet({ depth: 18, seed: 3, inputSize: 32, numClasses: 10, width: 16 }), { backend, threads: 2 });
    const pending: [Promise<Float32Array>, Float32Array][] = [];
    for (let i = 0; i < RUNS; i++) {
      const x = seededTensor([2, 3, 32, 32], i);
      const expected = model.runSync({ input: new Tensor('float32', x.data.slice(), x.dims) }).output!.data;
      pending.push([model.run({ input: x }).then((r) => r.output!.data), expected]);
      detach(x);
      if (i % 10 === 0) gc();
    }
    for (const [p, e] of pending) if (!same(await p, e)) mismatches++;
    await model.dispose();
  } else {
    const w = seededTensor([64, 32, 3, 3], 1);
    const bias = seededTensor([64], 2);
    const pending: [Promise<Tensor>, Float32Array][] = [];
    for (let i = 0; i < RUNS; i++) {
      const x = seededTensor([2, 32, 40, 40], 10 + i);
      const r = seededTensor([2, 64, 40, 40], 500 + i);
      const opts = { bias, pads: 1, relu: true, backend, threads: 2 } as const;
      const expected = conv2dSync(new Tensor('float32', x.data.slice(), x.dims), w, { ...opts, residual: new Tensor('float32', r.data.slice(), r.dims) }).data;
      pending.push([conv2d(x, w, { ...opts, residual: r }), expected]);
      if (what === 'conv') {
        detach(x);
        detach(r);
      } else {
        x.data.fill(1000);
        r.data.fill(-1000);
      }
      if (i % 10 === 0) gc();
    }
    for (const [p, e] of pending) if (!same((await p).data, e)) mismatches++;
  }
  console.log(JSON.stringify({ what, backend, runs: RUNS, mismatches }));
}

await main();
