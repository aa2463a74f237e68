// The quantized residual Add (DQ → Add → Q) in ONNX Runtime's QLinearAdd
// arithmetic (src/quant/qlinear-add.ts, src/graph/integer-adds.ts): single-Add
// models built with the onnx Python package (models/make_qadd.py) over every
// (qA, qB) pair of the type, for random scales and zero points, uint8 and int8,
// with and without a fused Relu, give ORT's output bit for bit on every backend.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, Tensor } from '../src/index.js';
import { nativeAvailable, nativeBinding } from '../src/native.js';
import { roundHalfEven } from '../src/quant/linear.js';
import { fmaf32, qlinearAddParams, qlinearAddValue } from '../src/quant/qlinear-add.js';
import { ortRun } from './helpers/ort.js';
import { rng } from './helpers/rng.js';

const PYTHON = '/usr/bin/python3';
const f32 = Math.fround;

test('fmaf32 rounds once, where a double sum would round twice', (t) => {
  // a·b = 1 + 2^-11 + 2^-24 lies exactly halfway between two float32s; + 2^-60 puts it just above.
  const a = f32(1 + 2 ** -12);
  t.is(fmaf32(a, a, 2 ** -60), 1 + 2 ** -11 + 2 ** -23);
  t.is(f32(a * a + 2 ** -60), 1 + 2 ** -11, 'the double sum rounds to the tie, then to even');
  t.is(fmaf32(a, a, -(2 ** -60)), 1 + 2 ** -11);
  t.is(fmaf32(a, a, 0), 1 + 2 ** -11, 'an exact tie rounds to even');
  const r = rng(3);
  for (let i = 0; i < 1000; i++) {
    const [x, y, z] = [f32(r() * 300 - 150), f32(r()), f32(r() * 10 - 5)];
    t.is(fmaf32(x, y, z), f32(x * y + z)); // exact in double here: no second rounding to avoid
  }
});

interface Case { sa: number; za: number; sb: number; zb: number; sc: number; zc: number; n: number; int8: boolean; relu: boolean }

/** The integer ORT's formula gives for (qA, qB), and two near neighbours of it that differ only in rounding. */
function formulas(c: Case): ((qa: number, qb: number) => number)[] {
  const lo = c.int8 ? -128 : 0;
  const p = qlinearAddParams({ scale: c.sa, zeroPoint: c.za, qmin: lo, qmax: lo + 255 }, { scale: c.sb, zeroPoint: c.zb, qmin: lo, qmax: lo + 255 }, { scale: c.sc, zeroPoint: c.zc, qmin: lo, qmax: lo + 255 }, c.relu);
  const sat = (v: number) => Math.min(p.y.qmax, Math.max(p.y.qmin, roundHalfEven(v) - p.shift));
  const s = p.shift;
  return [
    (qa, qb) => sat(fmaf32(qa + s, p.ratioA, fmaf32(qb + s, p.ratioB, p.fixed))),
    (qa, qb) => sat(fmaf32(qb + s, p.ratioB, fmaf32(qa + s, p.ratioA, p.fixed))), // the other order
    (qa, qb) => sat(f32(f32((qa + s) * p.ratioA) + f32(f32((qb + s) * p.ratioB) + p.fixed))), // unfused
  ];
}

/**
 * Random configurations, and among many more, those where the formula's neighbours disagree with it on
 * some (qA, qB) pair (ties are rare: about one pair in a million): there ORT's output tells them apart.
 */
function cases(): Case[] {
  const r = rng(21);
  const draw = (k: number): Case => {
    const int8 = k % 3 === 2, relu = k % 4 === 3;
    const lo = int8 ? -128 : 0;
    const z = () => lo + Math.floor(r() * 256);
    const zc = relu ? lo : k === 0 ? lo : k === 1 ? lo + 255 : z(); // zero points at both edges too
    return { sa: f32(0.001 + r() * 0.1), za: z(), sb: f32(0.001 + r() * 0.1), zb: z(), sc: f32(0.002 + r() * 0.15), zc, n: 65536, int8, relu };
  };
  const out = Array.from({ length: 8 }, (_, k) => draw(k));
  for (let k = 8; k < 400 && out.length < 16; k++) {
    const c = draw(k);
    const [ours, ...others] = formulas(c);
    const lo = c.int8 ? -128 : 0;
    let split = false;
    for (let j = 0; j < 65536 && !split; j++) {
      const q = ours!(lo + (j & 255), lo + (j >> 8));
      split = others.some((f) => f(lo + (j & 255), lo + (j >> 8)) !== q);
    }
    if (split) out.push(c);
  }
  return out;
}

const missing = existsSync(PYTHON) ? undefined : `${PYTHON} is missing`;
(missing ? test.skip : test)('QLinearAdd: resnode gives ORT\'s integers for every operand pair (uint8, int8, fused Relu)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'resnode-qadd-'));
  try {
    const all = cases();
    execFileSync(PYTHON, [join(import.meta.dirname, '..', 'models', 'make_qadd.py'), '--out-dir', dir, '--cases', JSON.stringify(all)], { timeout: 60_000 });
    let floatMisses = 0;
    const neighbourMisses = [0, 0];
    for (const [i, c] of all.entries()) {
      const lo = c.int8 ? -128 : 0;
      // Every (qA, qB) pair: A and B hold exactly the values their QuantizeLinear maps to qA and qB.
      const A = Float32Array.from({ length: c.n }, (_, j) => f32((lo + (j & 255) - c.za) * c.sa));
      const B = Float32Array.from({ length: c.n }, (_, j) => f32((lo + (j >> 8) - c.zb) * c.sb));
      const bytes = new Uint8Array(readFileSync(join(dir, `case${i}.onnx`)));
      const feeds = { A: new Tensor('float32', A, [c.n]), B: new Tensor('float32', B, [c.n]) };
      const theirs = (await ortRun(bytes, feeds, 1)).C!;
      for (const backend of ['native', 'js'] as const) {
        const model = await load(bytes, { backend, threads: 1 });
        t.deepEqual(model.profile(feeds).map((l) => l.op), ['QuantizeDequantize', 'QuantizeDequantize', 'QLinearAdd'], 'the Add and its QuantizeLinear run as one step');
        const ours = (await model.run(feeds)).C!.data;
        await model.dispose();
        let diff = 0;
        for (let j = 0; j < c.n; j++) if (ours[j] !== theirs[j]) diff++;
        t.is(diff, 0, `${backend} case ${i} ${JSON.stringify(c)}: ${diff} of ${c.n} differ from ORT`);
      }
      // ORT's output is the formula's, not a neighbour's: the cases were chosen so that this can fail.
      const [, ...others] = formulas(c);
      for (let j = 0; j < c.n; j++) {
        others.forEach((fn, k) => {
          if (f32((fn(lo + (j & 255), lo + (j >> 8)) - c.zc) * c.sc) !== theirs[j]) neighbourMisses[k]!++;
        });
      }
      // The float32 Add + QuantizeLinear that ran before: it misses ORT somewhere, so the test can tell them apart.
      for (let j = 0; j < c.n; j++) {
        let q = Math.round(f32(f32(A[j]! + B[j]!) / c.sc)) + c.zc;
        q = Math.min(lo + 255, Math.max(c.relu ? c.zc : lo, q));
        if (f32((q - c.zc) * c.sc) !== theirs[j]) floatMisses++;
      }
    }
    t.log(`${all.length} cases; ORT differs on ${floatMisses} elements from a float32 Add then QuantizeLinear, on ${neighbourMisses.join(' and ')} from the formula's other order and its unfused form`);
    t.true(floatMisses > 0);
    t.true(neighbourMisses[0]! > 0 && neighbourMisses[1]! > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

(nativeAvailable() ? test : test.skip)('createPlan checks a qlinearAdd step\'s parameters, naming them', (t) => {
  const b = nativeBinding();
  const q = qlinearAddParams({ scale: 0.02, zeroPoint: 3, qmin: 0, qmax: 255 }, { scale: 0.03, zeroPoint: 250, qmin: 0, qmax: 255 }, { scale: 0.04, zeroPoint: 0, qmin: 0, qmax: 255 }, true);
  const step = (over: object) => [{ op: 'qlinearAdd', inputs: [0, 1], output: 2, count: 4, q: { ...q, ...over } }] as never;
  const plan = b.createPlan(step({}));
  const [x, y, out] = [Float32Array.of(-0.06, 0, 1, 5.04), Float32Array.of(0, -7.5, 0.03, 0.15), new Float32Array(4)];
  b.runPlanSync(plan, [x, y, out]);
  t.deepEqual([...out], [...x].map((v, i) => qlinearAddValue(v, y[i]!, q)));
  t.true(out[0]! === 0 && out[3]! > 5, 'clamped below at zero (relu), and a sum past the operands kept');
  t.throws(() => b.createPlan(step({ aScale: 0 })), { instanceOf: RangeError, message: /createPlan: steps\[0\] \(qlinearAdd\): expected a positive finite float32 for q\.aScale/ });
  t.throws(() => b.createPlan(step({ shift: 64 })), { instanceOf: RangeError, message: /steps\[0\] \(qlinearAdd\): expected 0 or 128 for q\.shift/ });
  t.throws(() => b.createPlan(step({ y: { ...q.y, zeroPoint: 300 } })), { instanceOf: RangeError, message: /steps\[0\] \(qlinearAdd\).*zeroPoint/ });
  t.throws(() => b.createPlan([{ op: 'qlinearAdd', inputs: [0], output: 2, count: 4, q }] as never), { instanceOf: TypeError, message: /steps\[0\] \(qlinearAdd\): expected an array of 2 buffer indices for inputs/ });
});

(nativeAvailable() ? test.serial : test.skip)('the qlinearAdd kernel of every ISA (full vectors and tails) gives the JS reference\'s bits', (t) => {
  const b = nativeBinding();
  t.teardown(() => b.setIsa('auto'));
  const r = rng(8);
  // A configuration where the formula's neighbours disagree with it on some pair (see cases()).
  const k = cases().slice(8).find((m) => !m.int8 && !m.relu)!;
  const a = { scale: k.sa, zeroPoint: k.za, qmin: 0, qmax: 255 }, c = { scale: k.sb, zeroPoint: k.zb, qmin: 0, qmax: 255 };
  const q = qlinearAddParams(a, c, { scale: k.sc, zeroPoint: k.zc, qmin: 0, qmax: 255 }, false);
  const n = 65536 + 13; // every (qA, qB) pair in vectors of 8 and 16 lanes, then a random tail
  const qOf = (j: number, hi: boolean) => (j < 65536 ? (hi ? j >> 8 : j & 255) : Math.floor(r() * 256));
  const xa = Float32Array.from({ length: n }, (_, j) => f32((qOf(j, false) - a.zeroPoint) * a.scale));
  const xb = Float32Array.from({ length: n }, (_, j) => f32((qOf(j, true) - c.zeroPoint) * c.scale));
  const expected = Array.from(xa, (v, i) => qlinearAddValue(v, xb[i]!, q));
  const isas = (['avx512f', 'avx2', 'scalar'] as const).filter((isa) => {
    try { b.setIsa(isa); return true; } catch { return false; }
  });
  for (const isa of isas) {
    b.setIsa(isa); // the step takes the ISA active when its plan is created
    const plan = b.createPlan([{ op: 'qlinearAdd', inputs: [0, 1], output: 2, count: n, q }] as never);
    const out = new Float32Array(n);
    b.runPlanSync(plan, [xa, xb, out]);
    let diff = 0;
    for (let i = 0; i < n; i++) if (out[i] !== expected[i]) diff++;
    t.is(diff, 0, `${isa}: ${diff} of ${n} differ`);
  }
  t.true(isas.includes('scalar') && isas.length >= 1, isas.join(', '));
  t.log(`checked on ${isas.join(', ')}`);
});
