// Pooling on quantized bytes (native/cpu/qpool, src/kernels-js/qu8-pool.ts): an int8 max pool
// (DQ → MaxPool → Q of one grid, src/graph/integer-pools.ts) runs on u8 NHWC bytes between the
// int8 convs and adds around it, and an int8 global average pool is ONNX Runtime's
// QLinearGlobalAveragePool read straight from the bytes. Checked kernel by kernel against
// independent loops on every ISA, and on a whole quantized ImageNet-style ResNet against the JS
// backend (bit for bit, every value) and ONNX Runtime (the agreement target).
import test from 'ava';
import type { Graph, Node, QuantParams } from '../src/graph/graph.js';
import { Graph as GraphClass } from '../src/graph/graph.js';
import { integerMaxPools } from '../src/graph/integer-pools.js';
import { nativeAvailable, nativeBinding } from '../src/native.js';
import { planFormats } from '../src/plan/formats.js';
import { qGlobalAveragePool, qu8MaxPoolNhwc } from '../src/kernels-js/qu8-pool.js';
import { load, quantize, resnet, Tensor } from '../src/index.js';
import { fromOnnx } from '../src/onnx/import.js';
import { agreement } from './helpers/quant-agreement.js';
import { ortRun } from './helpers/ort.js';
import { rng } from './helpers/rng.js';

const u8: QuantParams = { scale: 0.05, zeroPoint: 7, qmin: 0, qmax: 255 };
const qconv = (name: string, x: string, y: string, q: QuantParams): Node =>
  ({ name, op: 'Conv', inputs: [x, `${name}/w`, ''], outputs: [y], attrs: { int8: { x: q, y: q, multipliers: [1] } } }) as unknown as Node;
const POOL = { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], ceilMode: false };

const isasOf = (b: ReturnType<typeof nativeBinding>) =>
  (['avx512f', 'avx2', 'scalar'] as const).filter((isa) => {
    try { b.setIsa(isa); return true; } catch { return false; }
  });
const slotOf = (bytes: Uint8Array): Float32Array => {
  const f = new Float32Array(Math.ceil(bytes.length / 4) + 1);
  new Uint8Array(f.buffer).set(bytes);
  return f;
};

test('integerMaxPools marks a MaxPool between one grid and a QuantizeLinear of the same grid, and drops that QuantizeLinear', (t) => {
  const graphOf = (qScale: number) => new GraphClass({
    inputs: [{ name: 'x', dims: [1, 4, 8, 8] }], outputs: [{ name: 'z' }], initializers: new Map(),
    nodes: [
      qconv('c', 'x', 'v', u8),
      { name: 'p', op: 'MaxPool', inputs: ['v'], outputs: ['m'], attrs: POOL },
      { name: 'q', op: 'QuantizeDequantize', inputs: ['m'], outputs: ['mq'], attrs: { ...u8, scale: qScale } },
      qconv('d', 'mq', 'z', u8),
    ] as unknown as Node[],
  } as unknown as Graph);
  const same = integerMaxPools(graphOf(u8.scale));
  t.deepEqual(same.nodes.map((n) => n.op), ['Conv', 'MaxPool', 'Conv']);
  const pool = same.nodes[1]!;
  t.deepEqual(pool.outputs, ['mq'], 'the pool writes what the QuantizeLinear wrote');
  t.deepEqual(pool.op === 'MaxPool' && pool.attrs.int8, u8);
  const other = integerMaxPools(graphOf(0.06));
  t.deepEqual(other.nodes.map((n) => n.op), ['Conv', 'MaxPool', 'QuantizeDequantize', 'Conv'], 'another scale: left in float32');
});

test('planFormats keeps an int8 max pool\'s input and output as bytes only together, and lets an int8 global average pool read bytes', (t) => {
  const pool = (name: string, x: string, y: string, q: QuantParams | undefined): Node => ({ name, op: 'MaxPool', inputs: [x], outputs: [y], attrs: { ...POOL, ...(q ? { int8: q } : {}) } }) as unknown as Node;
  const gap = (x: string, y: string): Node => ({ name: 'g', op: 'GlobalAveragePool', inputs: [x], outputs: [y], attrs: { int8: { x: u8, y: u8, multiplier: 0.1 } } }) as unknown as Node;
  const nodes = [
    qconv('a', 'x', 'v1', u8),
    pool('p1', 'v1', 'v2', u8), // v1, v2: bytes
    qconv('b', 'v2', 'v3', u8),
    pool('p2', 'v3', 'v4', undefined), // a float32 max pool: v3 stays float32
    qconv('c', 'v4', 'v5', u8),
    pool('p3', 'v5', 'v6', u8), // v6 is read by a Relu: float32, and so is v5 (p3 writes bytes only from bytes)
    { name: 'r', op: 'Relu', inputs: ['v6'], outputs: ['v7'], attrs: {} } as unknown as Node,
    qconv('d', 'v7', 'v8', u8),
    gap('v8', 'v9'), // v8: bytes, read by the int8 pool
  ];
  const f = planFormats({ outputs: [{ name: 'v9' }] } as unknown as Graph, nodes, true);
  t.deepEqual([...f.keys()].sort(), ['v1', 'v2', 'v8']);
});

(nativeAvailable() ? test.serial : test.skip)('the qu8MaxPool step equals an independent max over each window, on every ISA and in the JS kernel', (t) => {
  const b = nativeBinding();
  t.teardown(() => b.setIsa('auto'));
  const r = rng(11);
  const isas = isasOf(b);
  const cases = [
    { n: 1, c: 64, h: 12, w: 12, k: [3, 3], s: [2, 2], pads: [1, 1, 1, 1], d: [1, 1] }, // ResNet's stem pool
    { n: 2, c: 131, h: 7, w: 9, k: [2, 3], s: [1, 2], pads: [0, 1, 1, 2], d: [1, 1] }, // channel tails past 64 and 32
    { n: 1, c: 5, h: 10, w: 6, k: [3, 2], s: [3, 1], pads: [2, 0, 2, 1], d: [2, 3] },
  ];
  for (const c of cases) {
    const outH = Math.floor((c.h + c.pads[0]! + c.pads[2]! - (c.d[0]! * (c.k[0]! - 1) + 1)) / c.s[0]!) + 1;
    const outW = Math.floor((c.w + c.pads[1]! + c.pads[3]! - (c.d[1]! * (c.k[1]! - 1) + 1)) / c.s[1]!) + 1;
    const x = Uint8Array.from({ length: c.n * c.h * c.w * c.c }, () => Math.floor(r() * 256));
    const want = new Uint8Array(c.n * outH * outW * c.c);
    for (let bb = 0; bb < c.n; bb++)
      for (let oy = 0; oy < outH; oy++)
        for (let ox = 0; ox < outW; ox++)
          for (let ch = 0; ch < c.c; ch++) {
            const vals: number[] = [];
            for (let ky = 0; ky < c.k[0]!; ky++)
              for (let kx = 0; kx < c.k[1]!; kx++) {
                const iy = oy * c.s[0]! - c.pads[0]! + ky * c.d[0]!, ix = ox * c.s[1]! - c.pads[1]! + kx * c.d[1]!;
                if (iy >= 0 && iy < c.h && ix >= 0 && ix < c.w) vals.push(x[((bb * c.h + iy) * c.w + ix) * c.c + ch]!);
              }
            want[((bb * outH + oy) * outW + ox) * c.c + ch] = Math.max(...vals);
          }
    const p = { inputDims: [c.n, c.c, c.h, c.w], kernel: c.k, strides: c.s, pads: c.pads, dilations: c.d, outDims: [outH, outW], threads: 2 };
    const js = new Uint8Array(want.length);
    qu8MaxPoolNhwc(x, js, p);
    t.deepEqual(js, want, `JS ${JSON.stringify(c)}`);
    for (const isa of isas) {
      b.setIsa(isa);
      const plan = b.createPlan([{ op: 'qu8MaxPool', inputs: [0], output: 1, p }] as never);
      const out = new Float32Array(Math.ceil(want.length / 4));
      b.runPlanSync(plan, [slotOf(x), out]);
      t.deepEqual(new Uint8Array(out.buffer, 0, want.length), want, `${isa} ${JSON.stringify(c)}`);
      t.regex(b.planKernels(plan)[0]!, /^qu8_maxpool__/);
    }
  }
  t.log(`checked on ${isas.join(', ')}`);
  // Pads that leave a window with no tap inside the input: a RangeError naming them, not a crash.
  const bad = { inputDims: [1, 4, 2, 2], kernel: [2, 2], strides: [1, 1], pads: [2, 2, 0, 0], dilations: [1, 1], outDims: [2, 2], threads: 1 };
  t.throws(() => b.createPlan([{ op: 'qu8MaxPool', inputs: [0], output: 1, p: bad }] as never), { instanceOf: RangeError, message: /createPlan: steps\[0\] \(qu8MaxPool\).*p\.pads/ });
});

(nativeAvailable() ? test.serial : test.skip)('the qGlobalAveragePool step is QLinearGlobalAveragePool\'s integers from bytes and from float32 values, on every ISA and in the JS kernel', (t) => {
  const b = nativeBinding();
  t.teardown(() => b.setIsa('auto'));
  const r = rng(12);
  const isas = isasOf(b);
  for (const [n, c, hw, qmin] of [[2, 70, 49, 0], [1, 17, 3, -128], [3, 512, 1, 0]] as const) {
    const xScale = Math.fround(0.02), yScale = Math.fround(0.013), xZero = qmin < 0 ? 3 : 9, yZero = qmin < 0 ? -5 : 4;
    const shift = qmin < 0 ? 128 : 0;
    const multiplier = Math.fround(xScale / Math.fround(yScale * hw));
    const q = { xScale, xZeroPoint: xZero + shift, multiplier, yScale, yZeroPoint: yZero, qmin, qmax: qmin + 255 };
    const bytes = Uint8Array.from({ length: n * hw * c }, () => Math.floor(r() * 256)); // u8 NHWC, shifted domain
    const f32 = new Float32Array(n * c * hw); // the same values dequantized, NCHW
    for (let bb = 0; bb < n; bb++) for (let i = 0; i < hw; i++) for (let ch = 0; ch < c; ch++) f32[(bb * c + ch) * hw + i] = Math.fround((bytes[(bb * hw + i) * c + ch]! - shift - xZero) * xScale);
    // Independent: the exact integer sum, then ORT's float32 requantization with ties to even.
    const want = new Float32Array(n * c);
    for (let bb = 0; bb < n; bb++)
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = 0; i < hw; i++) s += bytes[(bb * hw + i) * c + ch]! - shift - xZero;
        const v = Math.fround(s * multiplier), fl = Math.floor(v);
        const rounded = v - fl === 0.5 ? (fl % 2 === 0 ? fl : fl + 1) : Math.round(v);
        const qv = Math.min(qmin + 255, Math.max(qmin, rounded + yZero));
        want[bb * c + ch] = Math.fround((qv - yZero) * yScale);
      }
    for (const [what, x, u8in] of [['bytes', bytes, true], ['float32', f32, false]] as const) {
      const js = new Float32Array(n * c);
      qGlobalAveragePool(x, js, n, c, hw, q);
      t.deepEqual(js, want, `JS from ${what}`);
      for (const isa of isas) {
        b.setIsa(isa);
        const plan = b.createPlan([{ op: 'qGlobalAveragePool', inputs: [0], output: 1, n, c, hw, u8: u8in, q }] as never);
        const out = new Float32Array(n * c);
        b.runPlanSync(plan, [u8in ? slotOf(bytes) : f32, out]);
        t.deepEqual(out, want, `${isa} from ${what} [${n}, ${c}, ${hw}]`);
      }
    }
  }
  t.throws(() => b.createPlan([{ op: 'qGlobalAveragePool', inputs: [0], output: 1, n: 1, c: 1, hw: 1, u8: true, q: { xScale: 0, xZeroPoint: 0, multiplier: 1, yScale: 1, yZeroPoint: 0, qmin: 0, qmax: 255 } }] as never),
    { instanceOf: RangeError, message: /qGlobalAveragePool.*q\.xScale/ });
});

for (const depth of [18, 50] as const) test.serial(`a quantized ImageNet-style ResNet-${depth} runs its pools on bytes and its residual adds in its convs, equal to the JS backend value by value and to ONNX Runtime`, async (t) => {
  if (!nativeAvailable()) return t.pass();
  const g = resnet({ depth, width: 8, numClasses: 10, inputSize: 64, seed: 3 });
  const r = rng(4);
  const batch = (n: number) => new Tensor('float32', Float32Array.from({ length: n * 3 * 64 * 64 }, () => r() * 2 - 1), [n, 3, 64, 64]);
  const bytes = await quantize(g, { calibration: [batch(4)], perChannel: true });
  const x = batch(2);
  const model = await load(bytes, { backend: 'native', threads: 2 });
  const kernels = model.profile({ input: x }).map((l) => `${l.op}:${l.kernel ?? '-'}`);
  t.true(kernels.some((k) => /^MaxPool:qu8_maxpool__/.test(k)), kernels.join(' '));
  t.true(kernels.some((k) => /^GlobalAveragePool:qu8_gavgpool_sum__/.test(k)), kernels.join(' '));
  // Every residual add is fused into a conv's epilogue (src/graph/integer-residuals.ts): no add step is left.
  t.false(kernels.some((k) => k.startsWith('QLinearAdd:')), 'no separate add step');
  t.is(kernels.filter((k) => /^Conv:.*\+qu8_qlinear_vadd__/.test(k)).length, depth === 18 ? 8 : 16, 'one fused conv per residual block');
  const got = await model.run({ input: x }, { fetchIntermediates: true });
  const whole = await model.run({ input: x });
  await model.dispose();
  const js = await load(bytes, { backend: 'js', threads: 1 });
  const want = await js.run({ input: x }, { fetchIntermediates: true });
  await js.dispose();
  let values = 0;
  for (const [name, tensor] of Object.entries(want)) {
    const mine = got[name];
    if (!mine || name.includes('fc') || name === 'output') continue;
    values++;
    let same = 0;
    for (let i = 0; i < tensor.data.length; i++) if (Object.is(tensor.data[i], mine.data[i])) same++;
    t.is(same, tensor.data.length, `${name}: ${same}/${tensor.data.length} bit-identical`);
  }
  t.true(values > 20, `${values} values compared`);
  const step = (() => { const n = fromOnnx(bytes).nodes.find((m) => m.outputs[0] === 'output'); return n?.op === 'QuantizeDequantize' ? n.attrs.scale : NaN; })();
  const theirs = (await ortRun(bytes, { input: x })).output!;
  for (const [what, run] of [['run', whole], ['fetchIntermediates', got]] as const) {
    const a = agreement(run.output!.data as Float32Array, theirs, step);
    t.log(`${what}: ${(a.identical * 100).toFixed(2)}% identical to ORT, max ${a.maxSteps.toFixed(2)} steps`);
    t.true(a.identical >= 0.999, `${what}: ${a.identical} identical`);
    t.true(a.maxSteps <= 1 + 1e-4, `${what}: ${a.maxSteps} steps apart`);
  }
});
