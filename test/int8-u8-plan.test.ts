// u8 NHWC values in the plan (src/plan/formats.ts): a qconv output that only qconvs read stays as
// its quantized bytes in its slot, the qconv steps on either side skip the float32 conversions,
// and fetchIntermediates reads the value back as the dequantized float32 NCHW tensor. (That
// every such value then equals the JS backend's three-step integers bit for bit, on every ISA,
// and that the whole run matches ONNX Runtime, is test/int8-qconv.test.ts's check on models that
// have one.)
import test from 'ava';
import type { Graph, Node, QuantParams } from '../src/graph/graph.js';
import { nativeAvailable, nativeBinding } from '../src/native.js';
import { planFormats, readValue } from '../src/plan/formats.js';
import { rng } from './helpers/rng.js';
import { load, quantize, resnet, Tensor } from '../src/index.js';
import { qlinearAdd, qlinearAddBytes } from '../src/kernels-js/quantize.js';
import { qlinearAddParams } from '../src/quant/qlinear-add.js';

const u8: QuantParams = { scale: 0.05, zeroPoint: 7, qmin: 0, qmax: 255 };
const s8: QuantParams = { scale: 0.05, zeroPoint: 0, qmin: -128, qmax: 127 };
const qconv = (name: string, x: string, y: string, xq: QuantParams, yq: QuantParams): Node =>
  ({ name, op: 'Conv', inputs: [x, `${name}/w`, ''], outputs: [y], attrs: { int8: { x: xq, y: yq, multipliers: [1] } } }) as unknown as Node;
const graphWith = (outputs: string[]): Graph => ({ outputs: outputs.map((name) => ({ name })) }) as unknown as Graph;

test('planFormats keeps a value as u8 NHWC only where qconvs alone read it, in the same u8 domain, and it is no output', (t) => {
  const relu8 = { ...s8, qmin: 0 }; // a fused ReLU raised an int8 output's qmin to its zero point
  const nodes = [
    qconv('a', 'x', 'v1', u8, u8),
    qconv('b', 'v1', 'v2', u8, u8), // v1: read by b alone -> u8
    qconv('c', 'v2', 'v3', u8, u8), // v2: read by c and by the Relu below -> float32
    { name: 'r', op: 'Relu', inputs: ['v2'], outputs: ['v4'], attrs: {} } as unknown as Node,
    qconv('d', 'v3', 'v5', u8, s8), // v3: a graph output -> float32
    qconv('e', 'v5', 'v6', s8, relu8), // v5: read by e alone -> u8
    qconv('f', 'v6', 'v7', s8, s8), // v6: e writes unshifted bytes (qmin 0), f reads shifted ones -> float32
    qconv('g', 'v7', 'v8', s8, s8), // v7: int8 on both sides -> u8, zero point shifted by 128
  ];
  const f = planFormats(graphWith(['v3', 'v8', 'v4']), nodes, true);
  t.deepEqual([...f.keys()].sort(), ['v1', 'v5', 'v7']);
  t.deepEqual(f.get('v1'), { layout: 'nhwc', dtype: 'u8', scale: 0.05, zeroPoint: 7 });
  t.deepEqual(f.get('v7'), { layout: 'nhwc', dtype: 'u8', scale: 0.05, zeroPoint: 128 });
  t.is(planFormats(graphWith([]), nodes, false).size, 0, 'a backend without int8 convs keeps every value float32');
});

test('readValue turns u8 NHWC bytes into the dequantized float32 NCHW tensor, and copies a float32 value', (t) => {
  const r = rng(4);
  const [n, c, h, w] = [2, 5, 3, 4];
  const count = n * c * h * w;
  const slot = new Float32Array(count + 3); // slots may be larger than their value
  const bytes = new Uint8Array(slot.buffer, 0, count);
  for (let i = 0; i < count; i++) bytes[i] = Math.floor(r() * 256);
  const format = { layout: 'nhwc', dtype: 'u8', scale: 0.1, zeroPoint: 130 } as const;
  const got = readValue(format, slot, [n, c, h, w]);
  t.is(got.length, count);
  let bad = 0;
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const q = bytes[((b * h + y) * w + x) * c + ch]!;
          if (got[((b * c + ch) * h + y) * w + x] !== Math.fround((q - 130) * 0.1)) bad++;
        }
  t.is(bad, 0);
  const f32 = readValue(undefined, slot, [n, c, h, w]);
  t.deepEqual(f32, slot.slice(0, count));
  t.not(f32.buffer, slot.buffer, 'a copy');
});

(nativeAvailable() ? test : test.skip)('createPlan checks a qconv step\'s io formats, naming them', (t) => {
  const b = nativeBinding();
  const q = { xScale: 0.1, xZeroPoint: 0, xQmin: 0, xQmax: 255, yScale: 0.2, yZeroPoint: 3, yQmin: 0, yQmax: 255 };
  const packed = b.packQConv2d(new Float32Array(2 * 3 * 9).fill(1), null, new Float32Array([0.5, 0.25]), 2, 3, 3, 3, q);
  const p = { inputDims: [1, 3, 5, 5], cOut: 2, kh: 3, kw: 3, groups: 1, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], outDims: [5, 5], relu: false, threads: 1 };
  const step = (io: unknown) => [{ op: 'qconv', inputs: [0], output: 1, packed, p, io }] as never;
  const U8 = { layout: 'nhwc', dtype: 'u8' }, F32 = { layout: 'nchw', dtype: 'f32' };
  t.truthy(b.createPlan(step({ x: U8, y: F32 })));
  t.throws(() => b.createPlan(step({ x: { layout: 'nhwc', dtype: 'f32' }, y: F32 })), { instanceOf: RangeError, message: /createPlan: steps\[0\] \(qconv\): expected .* for io\.x/ });
  t.throws(() => b.createPlan(step({ x: U8 })), { message: /io\.y/ });
  // A u8 input needs a quarter of the floats: a 75-byte value fits 19 floats, not 18.
  const plan = b.createPlan(step({ x: U8, y: F32 }));
  t.notThrows(() => b.runPlanSync(plan, [new Float32Array(19), new Float32Array(50)]));
  t.throws(() => b.runPlanSync(plan, [new Float32Array(18), new Float32Array(50)]), { instanceOf: RangeError });
});

test('planFormats keeps a QLinearAdd\'s operands and result as u8 only together, and drops a chain that reaches a float32 reader', (t) => {
  const add = (name: string, a: string, b: string, y: string, shift = 0): Node =>
    ({ name, op: 'QLinearAdd', inputs: [a, b], outputs: [y], attrs: { shift, y: { ...u8, zeroPoint: 3 } } }) as unknown as Node;
  const nodes = [
    qconv('a', 'x', 'v1', u8, u8),
    qconv('b', 'v1', 'v2', u8, u8),
    add('s1', 'v2', 'v1', 'v3'), // v1 (read by b and s1), v2, v3: all bytes
    qconv('c', 'v3', 'v4', u8, u8),
    add('s2', 'v4', 'x', 'v5'), // x is no int8 step's output: s2 stays float32, so v4 and v5 do
    qconv('d', 'v5', 'v6', u8, u8),
    add('s3', 'v6', 'v6', 'v7', 128), // the add's domain is shifted, d's bytes are not: float32
    { name: 'g', op: 'GlobalAveragePool', inputs: ['v7'], outputs: ['v8'], attrs: {} } as unknown as Node,
  ];
  const f = planFormats(graphWith(['v8']), nodes, true);
  t.deepEqual([...f.keys()].sort(), ['v1', 'v2', 'v3']);
  t.deepEqual(f.get('v3'), { layout: 'nhwc', dtype: 'u8', scale: 0.05, zeroPoint: 3 });
});

(nativeAvailable() ? test.serial : test.skip)('the qlinearAdd step on u8 bytes gives the float kernel\'s integers, on every ISA, and the JS bytes kernel\'s', (t) => {
  const b = nativeBinding();
  t.teardown(() => b.setIsa('auto'));
  const cases = [
    { a: { scale: 0.0032, zeroPoint: 130, qmin: 0, qmax: 255 }, b: { scale: 0.011, zeroPoint: 0, qmin: 0, qmax: 255 }, y: { scale: 0.0112, zeroPoint: 0, qmin: 0, qmax: 255 }, relu: false },
    { a: { scale: 0.02, zeroPoint: 5, qmin: -128, qmax: 127 }, b: { scale: 0.03, zeroPoint: -7, qmin: -128, qmax: 127 }, y: { scale: 0.04, zeroPoint: -128, qmin: -128, qmax: 127 }, relu: true },
  ].map((c) => ({ ...c, a: { ...c.a, scale: Math.fround(c.a.scale) }, b: { ...c.b, scale: Math.fround(c.b.scale) }, y: { ...c.y, scale: Math.fround(c.y.scale) } }));
  const isas = (['avx512f', 'avx2', 'scalar'] as const).filter((isa) => {
    try { b.setIsa(isa); return true; } catch { return false; }
  });
  for (const c of cases) {
    const q = qlinearAddParams(c.a, c.b, c.y, c.relu);
    const n = 65536 + 7; // every byte pair, then a tail
    const ba = Uint8Array.from({ length: n }, (_, j) => j & 255), bb = Uint8Array.from({ length: n }, (_, j) => (j >> 8) & 255);
    // The independent route: dequantize the bytes, the float kernel, quantize its result back to a byte.
    const shift = q.shift;
    const fa = Float32Array.from(ba, (v) => Math.fround((v - shift - c.a.zeroPoint) * c.a.scale));
    const fb = Float32Array.from(bb, (v) => Math.fround((v - shift - c.b.zeroPoint) * c.b.scale));
    const fy = new Float32Array(n);
    qlinearAdd(fa, fb, fy, n, q);
    const want = Uint8Array.from(fy, (v) => Math.round(v / c.y.scale) + c.y.zeroPoint + shift);
    const js = new Uint8Array(n);
    qlinearAddBytes(ba, bb, js, n, q);
    t.deepEqual(js, want, 'JS bytes kernel');
    const slot = (bytes: Uint8Array) => { const f = new Float32Array(Math.ceil(n / 4)); new Uint8Array(f.buffer).set(bytes); return f; };
    for (const isa of isas) {
      b.setIsa(isa);
      const plan = b.createPlan([{ op: 'qlinearAdd', inputs: [0, 1], output: 2, count: n, q, u8: true }] as never);
      const out = new Float32Array(Math.ceil(n / 4));
      b.runPlanSync(plan, [slot(ba), slot(bb), out]);
      const got = new Uint8Array(out.buffer, 0, n);
      let diff = 0;
      for (let i = 0; i < n; i++) if (got[i] !== want[i]) diff++;
      t.is(diff, 0, `${isa} ${JSON.stringify(q)}: ${diff} of ${n} differ`);
    }
  }
  t.log(`checked on ${isas.join(', ')}`);
});

test.serial('a quantized ResNet-20 keeps its conv and residual-add values as u8 on the native backend, and each equals the JS backend\'s, as does the output', async (t) => {
  if (!nativeAvailable()) return t.pass();
  const g = resnet({ depth: 20, variant: 'cifar', seed: 5, width: 4 });
  const r = rng(2);
  const batch = (n: number) => new Tensor('float32', Float32Array.from({ length: n * 3 * 32 * 32 }, () => r() * 2 - 1), [n, 3, 32, 32]);
  const bytes = await quantize(g, { calibration: [batch(4)], perChannel: true });
  const x = batch(2);
  const js = await load(bytes, { backend: 'js', threads: 1 });
  const want = await js.run({ input: x }, { fetchIntermediates: true });
  await js.dispose();
  const model = await load(bytes, { backend: 'native', threads: 2 });
  const prof = model.profile({ input: x });
  // Fused into its conv's epilogue (src/graph/integer-residuals.ts), the add names its kernel after the conv's.
  const u8Adds = prof.filter((l) => (l.op === 'QLinearAdd' && l.kernel?.startsWith('qu8_qlinear_vadd')) || (l.op === 'Conv' && l.kernel?.includes('+qu8_qlinear_vadd')));
  t.true(u8Adds.length >= 1, `a residual add runs on bytes (${prof.map((l) => `${l.op}:${l.kernel ?? '-'}`).join(' ')})`);
  const got = await model.run({ input: x }, { fetchIntermediates: true });
  const whole = await model.run({ input: x });
  await model.dispose();
  let values = 0;
  for (const [name, tensor] of Object.entries(want)) {
    const b = got[name];
    if (!b || name === 'output') continue;
    values++;
    let same = 0;
    for (let i = 0; i < tensor.data.length; i++) if (Object.is(tensor.data[i], b.data[i])) same++;
    if (!name.includes('fc')) t.is(same, tensor.data.length, `${name}: ${same}/${tensor.data.length} bit-identical`);
  }
  t.true(values > 10, `${values} values compared`);
  for (const run of [got, whole]) {
    const a = want.output!.data, o = run.output!.data;
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - o[i]!));
    t.true(maxDiff <= 1e-4 * Math.max(...Array.from(a, Math.abs)), `output within float32 rounding of the JS backend's (${maxDiff})`);
  }
});
