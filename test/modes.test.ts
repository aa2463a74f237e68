// Every backend × every mode of the table in src/modes.ts: a backend that
// honours a mode computes within that mode's bound of the float64 reference;
// one that does not throws an error naming the mode and the backend, from
// ops.conv2d, ops.packConv2d, load() and validate() alike. Nothing runs in a mode it was not asked for.
import test from 'ava';
import { BACKEND_NAMES } from '../src/backend/name.js';
import { BackendUnavailableError } from '../src/errors.js';
import { resnet } from '../src/graph/resnet.js';
import { load } from '../src/model.js';
import { honours, MODE_NAMES, MODES } from '../src/modes.js';
import { conv2d, conv2dSync, packConv2d } from '../src/ops.js';
import { Tensor } from '../src/tensor.js';
import { validate } from '../src/validate.js';
import { info } from '../src/info.js';
import { relativeToMax } from './helpers/ort.js';
import { conv2dRef } from './helpers/reference.js';
import { randomF32, rng } from './helpers/rng.js';

const r = rng(16);
// 3×3 stride 1 groups 1: the conv that Winograd (native) and TF32 (cuda) take in fast mode.
const x = new Tensor('float32', randomF32(r, 2 * 16 * 12 * 12), [2, 16, 12, 12]);
const w = new Tensor('float32', randomF32(r, 32 * 16 * 9, -0.2, 0.2), [32, 16, 3, 3]);
const bias = new Tensor('float32', randomF32(r, 32), [32]);
const ref = conv2dRef(x.data, x.dims, w.data, w.dims, bias.data, null, true, { stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 1 });

test('the table names every backend it speaks of, and exact is honoured everywhere', (t) => {
  for (const m of MODE_NAMES) for (const b of Object.keys(MODES[m].backends)) t.true((BACKEND_NAMES as readonly string[]).includes(b), `${m}: ${b}`);
  for (const b of BACKEND_NAMES) t.true(honours('exact', b));
  t.false(honours('fast', 'js'));
});

for (const backend of BACKEND_NAMES) {
  for (const mode of MODE_NAMES) {
    test(`ops.conv2d on '${backend}' in mode '${mode}'`, async (t) => {
      if (backend === 'cuda' && !info().cuda.available) {
        // No device here: the backend itself is refused, before any mode is considered.
        t.throws(() => conv2dSync(x, w, { bias, pads: 1, relu: true, backend, mode }), { instanceOf: BackendUnavailableError });
        return;
      }
      const opts = { bias, pads: 1, relu: true, backend, mode } as const;
      if (!honours(mode, backend)) {
        const message = new RegExp(`^conv2d: mode '${mode}' is not available on backend '${backend}'`);
        t.throws(() => conv2dSync(x, w, opts), { instanceOf: RangeError, message });
        await t.throwsAsync(async () => conv2d(x, w, opts), { instanceOf: RangeError, message });
        t.throws(() => packConv2d(w, { backend, mode }), { instanceOf: RangeError, message: new RegExp(`^packConv2d: mode '${mode}' is not available on backend '${backend}'`) });
        return;
      }
      // The whole-output bound of the table (max|err| / max|e|), as the model tests use.
      const bound = MODES[mode].relToMax;
      for (const [how, y] of [['sync', conv2dSync(x, w, opts)], ['async', await conv2d(x, w, opts)]] as const) {
        const err = relativeToMax(y.data, Float32Array.from(ref.data));
        t.true(err <= bound, `${how}: ${err} > ${bound}`);
      }
    });
  }
}

test("load() and validate() refuse a mode the backend cannot honour, naming both", async (t) => {
  const g = resnet({ depth: 18, numClasses: 10, seed: 1 });
  await t.throwsAsync(load(g, { backend: 'js', mode: 'fast' }), { instanceOf: RangeError, message: /^load: mode 'fast' is not available on backend 'js' \(it is on 'native', 'cuda'\)/ });
  await t.throwsAsync(validate(g, { backend: 'js', mode: 'fast' }), { instanceOf: RangeError, message: /^validate: mode 'fast' is not available on backend 'js'/ });
  await t.throwsAsync(load(g, { mode: 'bf17' as never }), { instanceOf: TypeError, message: /^load: expected one of 'exact', 'fast', 'bf16' for options.mode but received "bf17"/ });
});

test('validate() takes its default tolerance from the mode, and reports the mode', async (t) => {
  const g = resnet({ depth: 18, numClasses: 10, seed: 2 });
  // bf16 needs AVX512_BF16 (its refusal elsewhere is tested in mode-bf16.test.ts).
  for (const mode of MODE_NAMES.filter((m) => m !== 'bf16' || info().bf16)) {
    const report = await validate(g, { backend: 'native', mode, threads: 2 });
    t.is(report.mode, mode);
    t.is(report.rtol, MODES[mode].validate.rtol);
    t.is(report.atol, MODES[mode].validate.atol);
    t.true(report.ok, `${mode}: ${JSON.stringify(report.outputs)}`);
  }
});
