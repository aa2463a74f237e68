// Every backward kernel against float64 central differences (h = 1e-6) of its
// own float64 forward, on small shapes:
// - js: the whole check runs in float64; tolerance 1e-6·max|g| + 1e-9.
// - native (float32 kernels): analytic gradients in float32 against the same
//   float64 differences; tolerance 2e-4·max|g| (float32 accumulation).
// The scalar being differentiated is L = Σ r ⊙ f(inputs) for a fixed random r,
// so ∂L/∂y = r is the upstream gradient fed to the backward.
import test from 'ava';
import * as K from '../src/train/kernels.js';
import { jsTrainKernels, nativeBackwardAvailable, nativeTrainKernels, type TrainKernels } from '../src/train/backend.js';
import type { Arr, ConvGeom, PoolGeom } from '../src/train/kernels.js';
import { rng, type Rng } from './helpers/rng.js';
import { nativeBinding } from '../src/native.js';
import type { NativeBackwardBinding } from '../src/train/backend.js';

const H = 1e-6;
const JS_TOL = 1e-6;
const NATIVE_TOL = 2e-4;

const rand64 = (r: Rng, n: number, lo = -1, hi = 1): Float64Array => Float64Array.from({ length: n }, () => lo + (hi - lo) * r());
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!; return s; };
const f32 = (a: Arr): Float32Array => Float32Array.from(a);

/** Central differences of loss() with respect to every element of x (x is perturbed in place and restored). */
function numeric(x: Float64Array, loss: () => number): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    x[i] = v + H; const lp = loss();
    x[i] = v - H; const lm = loss();
    x[i] = v;
    g[i] = (lp - lm) / (2 * H);
  }
  return g;
}

function maxRelErr(got: ArrayLike<number>, want: Float64Array): number {
  let m = 0, e = 0;
  for (let i = 0; i < want.length; i++) { m = Math.max(m, Math.abs(want[i]!)); e = Math.max(e, Math.abs(got[i]! - want[i]!)); }
  return e / Math.max(m, 1e-12);
}

interface Backend { label: string; k: TrainKernels; f32: boolean; tol: number }
function backends(): Backend[] {
  const only = process.env.RESNODE_TEST_BACKENDS?.split(',').map((s) => s.trim());
  const list: Backend[] = [];
  if (!only || only.includes('js')) list.push({ label: 'js', k: jsTrainKernels, f32: false, tol: JS_TOL });
  if (!only || only.includes('native')) {
    const k = nativeTrainKernels();
    if (k) list.push({ label: 'native', k, f32: true, tol: NATIVE_TOL });
  }
  return list;
}

if (!process.env.RESNODE_TEST_BACKENDS || process.env.RESNODE_TEST_BACKENDS.includes('native')) {
  test('native addon exposes the backward kernels (conv2dBackwardSync, …)', (t) => {
    t.true(nativeBackwardAvailable(), 'build/Release/resnode.node lacks conv2dBackwardSync: run `npm run build:native` (or set RESNODE_TEST_BACKENDS=js)');
  });
}

const cast = (b: Backend, a: Float64Array): Arr => (b.f32 ? f32(a) : a);
const zeros = (b: Backend, n: number): Arr => (b.f32 ? new Float32Array(n) : new Float64Array(n));

interface ConvCase { name: string; x: [number, number, number, number]; cOut: number; k: [number, number]; strides: [number, number]; pads: [number, number, number, number]; dilations: [number, number]; groups: number; bias: boolean }
const convCases: ConvCase[] = [
  { name: '3×3 pad 1', x: [2, 3, 5, 5], cOut: 4, k: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], groups: 1, bias: true },
  { name: 'stride 2, asymmetric pads', x: [2, 2, 7, 6], cOut: 3, k: [3, 2], strides: [2, 2], pads: [1, 0, 2, 1], dilations: [1, 1], groups: 1, bias: true },
  { name: 'dilation 2, strides [1,2]', x: [1, 2, 7, 8], cOut: 5, k: [3, 3], strides: [1, 2], pads: [2, 1, 0, 2], dilations: [2, 2], groups: 1, bias: false },
  { name: 'groups 2', x: [2, 4, 5, 5], cOut: 6, k: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], groups: 2, bias: true },
  { name: 'depthwise stride 2', x: [2, 3, 6, 6], cOut: 3, k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], groups: 3, bias: true },
  { name: '1×1 stride 2 (projection shortcut)', x: [3, 4, 6, 6], cOut: 5, k: [1, 1], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], groups: 1, bias: false },
];

for (const b of backends()) {
  for (const c of convCases) {
    test(`conv2d backward · ${b.label}: ${c.name}: dX, dW${c.bias ? ', db' : ''} match finite differences`, (t) => {
      const r = rng(11);
      const wd = [c.cOut, c.x[1] / c.groups, c.k[0], c.k[1]];
      const g: ConvGeom = K.convGeom(c.x, wd, c);
      const x = rand64(r, c.x.reduce((a, v) => a * v, 1));
      const w = rand64(r, wd.reduce((a, v) => a * v, 1));
      const bias = c.bias ? rand64(r, c.cOut) : null;
      const ny = g.n * g.cOut * g.outH * g.outW;
      const rr = rand64(r, ny);
      const y = new Float64Array(ny);
      const loss = (): number => { K.conv2dForward(x, w, bias, g, y); return dot(rr, y); };
      const dx = zeros(b, x.length), dw = zeros(b, w.length), db = bias ? zeros(b, c.cOut) : null;
      b.k.conv2dBackward(cast(b, x), cast(b, w), cast(b, rr), g, { dx, dw, db });
      const ex = maxRelErr(dx, numeric(x, loss)), ew = maxRelErr(dw, numeric(w, loss));
      t.true(ex <= b.tol, `dX rel err ${ex}`);
      t.true(ew <= b.tol, `dW rel err ${ew}`);
      if (bias) { const eb = maxRelErr(db!, numeric(bias, loss)); t.true(eb <= b.tol, `db rel err ${eb}`); }
      t.log(`dX ${ex.toExponential(1)}, dW ${ew.toExponential(1)}`);
    });
  }

  test(`batchNormalization (training mode) backward · ${b.label}: dX, dγ, dβ match finite differences`, (t) => {
    const r = rng(5);
    const [n, c, hw] = [3, 4, 6];
    const x = rand64(r, n * c * hw, -2, 3), gamma = rand64(r, c, 0.5, 1.5), beta = rand64(r, c);
    const rr = rand64(r, x.length);
    const y = new Float64Array(x.length), m = new Float64Array(c), s = new Float64Array(c);
    const loss = (): number => { K.batchNormTrainForward(x, gamma, beta, 1e-5, n, c, hw, y, m, s); return dot(rr, y); };
    loss();
    const xb = cast(b, x), gb = cast(b, gamma), bb = cast(b, beta);
    const yb = zeros(b, x.length);
    const mb = new Float64Array(c), sb = new Float64Array(c);
    b.k.batchNormTrainForward(xb, gb, bb, 1e-5, n, c, hw, yb, mb, sb);
    t.true(maxRelErr(yb, y) <= b.tol, 'forward');
    const dx = zeros(b, x.length), dg = zeros(b, c), dbt = zeros(b, c);
    b.k.batchNormTrainBackward(xb, gb, cast(b, rr), mb, sb, n, c, hw, dx, dg, dbt);
    const ex = maxRelErr(dx, numeric(x, loss)), eg = maxRelErr(dg, numeric(gamma, loss)), eb = maxRelErr(dbt, numeric(beta, loss));
    t.true(ex <= b.tol && eg <= b.tol && eb <= b.tol, `dX ${ex}, dγ ${eg}, dβ ${eb}`);
    t.log(`dX ${ex.toExponential(1)}, dγ ${eg.toExponential(1)}, dβ ${eb.toExponential(1)}`);
  });

  test(`relu and add backward · ${b.label}: match finite differences`, (t) => {
    const r = rng(9);
    const a = rand64(r, 40), c = rand64(r, 40), rr = rand64(r, 40);
    for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! + c[i]!) < 1e-3) a[i] += 0.01; // keep away from the kink
    const y = new Float64Array(40);
    // L = Σ r·relu(a + c): exercises add (both operands get dy) and relu.
    const loss = (): number => { for (let i = 0; i < 40; i++) y[i] = Math.max(0, a[i]! + c[i]!); return dot(rr, y); };
    loss();
    const dz = zeros(b, 40);
    b.k.reluBackward(cast(b, y), cast(b, rr), dz);
    t.true(maxRelErr(dz, numeric(a, loss)) <= b.tol, 'd/da');
    t.true(maxRelErr(dz, numeric(c, loss)) <= b.tol, 'd/dc');
  });

  test(`maxPool backward · ${b.label}: 3×3 stride 2 pad [1,0,1,1] matches finite differences`, (t) => {
    const r = rng(3);
    const [n, c, h, w] = [2, 2, 7, 6];
    const pg: PoolGeom = { n, c, h, w, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, pads: [1, 0, 1, 1], outH: 4, outW: 3 };
    // Distinct values, so that every window has a unique maximum.
    const x = Float64Array.from({ length: n * c * h * w }, (_, i) => ((i * 37) % 101) / 50 - 1 + 0.001 * r());
    const ny = n * c * pg.outH * pg.outW;
    const rr = rand64(r, ny), y = new Float64Array(ny), am = new Int32Array(ny);
    const loss = (): number => { K.maxPoolForward(x, pg, y, am); return dot(rr, y); };
    loss();
    const yb = zeros(b, ny), amb = new Int32Array(ny);
    b.k.maxPoolForward(cast(b, x), pg, yb, amb);
    t.deepEqual([...amb], [...am], 'argmax');
    const dx = zeros(b, x.length);
    b.k.maxPoolBackward(cast(b, rr), amb, dx);
    const e = maxRelErr(dx, numeric(x, loss));
    t.true(e <= b.tol, `dX ${e}`);
  });

  test(`globalAveragePool backward · ${b.label}: matches finite differences`, (t) => {
    const r = rng(4);
    const planes = 6, hw = 10;
    const x = rand64(r, planes * hw), rr = rand64(r, planes), y = new Float64Array(planes);
    const loss = (): number => { K.globalAveragePoolForward(x, planes, hw, y); return dot(rr, y); };
    const dx = zeros(b, x.length);
    b.k.globalAveragePoolBackward(cast(b, rr), planes, hw, dx);
    const e = maxRelErr(dx, numeric(x, loss));
    t.true(e <= b.tol, `dX ${e}`);
  });

  test(`gemm backward · ${b.label}: dX, dW, db match finite differences`, (t) => {
    const r = rng(6);
    const [m, k, nOut] = [5, 7, 3];
    const x = rand64(r, m * k), w = rand64(r, nOut * k), bias = rand64(r, nOut), rr = rand64(r, m * nOut), y = new Float64Array(m * nOut);
    const loss = (): number => { K.gemmForward(x, w, bias, m, k, nOut, y); return dot(rr, y); };
    const yb = zeros(b, m * nOut);
    b.k.gemmForward(cast(b, x), cast(b, w), cast(b, bias), m, k, nOut, yb);
    loss();
    t.true(maxRelErr(yb, y) <= b.tol, 'forward');
    const dx = zeros(b, x.length), dw = zeros(b, w.length), db = zeros(b, nOut);
    b.k.gemmBackward(cast(b, x), cast(b, w), cast(b, rr), m, k, nOut, dx, dw, db);
    const ex = maxRelErr(dx, numeric(x, loss)), ew = maxRelErr(dw, numeric(w, loss)), eb = maxRelErr(db, numeric(bias, loss));
    t.true(ex <= b.tol && ew <= b.tol && eb <= b.tol, `dX ${ex}, dW ${ew}, db ${eb}`);
  });
}

test('softmax cross-entropy · js: dlogits match finite differences; loss and accuracy are right', (t) => {
  const r = rng(8);
  const [m, classes] = [4, 5];
  const logits = rand64(r, m * classes, -3, 3);
  const labels = [0, 3, 4, 1];
  const loss = (): number => K.softmaxCrossEntropy(logits, labels, m, classes, null).loss;
  const d = new Float64Array(m * classes);
  const res = K.softmaxCrossEntropy(logits, labels, m, classes, d);
  const e = maxRelErr(d, numeric(logits, loss));
  t.true(e <= JS_TOL, `dlogits ${e}`);
  // Uniform logits: loss = log(classes).
  t.true(Math.abs(K.softmaxCrossEntropy(new Float64Array(10), [0, 1], 2, 5, null).loss - Math.log(5)) < 1e-12);
  let ok = 0;
  for (let i = 0; i < m; i++) { const row = [...logits.subarray(i * classes, (i + 1) * classes)]; if (row.indexOf(Math.max(...row)) === labels[i]) ok++; }
  t.is(res.correct, ok);
});

test('softmax cross-entropy · native: matches the js kernel (loss, accuracy, dlogits)', (t) => {
  const only = process.env.RESNODE_TEST_BACKENDS;
  if (only && !only.includes('native')) { t.pass(); return; }
  const nb = nativeTrainKernels();
  if (!nb || !nativeBackwardAvailable()) { t.fail('native backward kernels are not built'); return; }
  const r = rng(8);
  const [m, classes] = [6, 10];
  const logits = Float32Array.from(rand64(r, m * classes, -3, 3));
  const labels = Int32Array.from([0, 3, 9, 1, 1, 7]);
  const want = new Float64Array(m * classes);
  const ref = K.softmaxCrossEntropy(logits, labels, m, classes, want);
  const got = new Float32Array(m * classes);
  const [loss, correct] = nativeSoftmax(logits, labels, m, classes, got);
  t.true(Math.abs(loss - ref.loss) <= 1e-6 * Math.max(1, ref.loss), `loss ${loss} vs ${ref.loss}`);
  t.is(correct, ref.correct);
  t.true(maxRelErr(got, want) <= 1e-6);
});

function nativeSoftmax(l: Float32Array, labels: Int32Array, m: number, c: number, d: Float32Array): number[] {
  return (nativeBinding() as unknown as NativeBackwardBinding).softmaxCrossEntropySync(l, labels, m, c, d);
}
