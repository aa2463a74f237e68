// QLinearAdd's results carry no -0. A sum that rounds up to 0 from below gave -0 in the JS and
// scalar kernels (their clamp keeps it) but +0 in the AVX2/AVX-512 ones (x86's max returns its
// second operand on equal zeros): a whole native run then differed from the JS backend in the
// sign of a few zeros (9 of 3072 values of test/int8-qconv's model), while each step compared
// with !== matched. ONNX Runtime dequantizes the integer, so +0; every kernel now gives that.
import test from 'ava';
import { nativeAvailable, nativeBinding } from '../src/native.js';
import { qlinearAdd } from '../src/kernels-js/quantize.js';
import { qlinearAddParams } from '../src/quant/qlinear-add.js';

const f32 = Math.fround;

(nativeAvailable() ? test.serial : test.skip)('qlinearAdd gives +0, never -0, on every ISA and in JS, for every operand pair', (t) => {
  const b = nativeBinding();
  t.teardown(() => b.setIsa('auto'));
  // test/int8-qconv's residual add: a's zero point 130 makes many sums slightly negative.
  const cases = [
    { a: { scale: f32(0.00321749784052372), zeroPoint: 130, qmin: 0, qmax: 255 }, b: { scale: f32(0.010976939462125301), zeroPoint: 0, qmin: 0, qmax: 255 }, y: { scale: f32(0.011227747425436974), zeroPoint: 0, qmin: 0, qmax: 255 } },
    { a: { scale: f32(0.02), zeroPoint: 5, qmin: -128, qmax: 127 }, b: { scale: f32(0.03), zeroPoint: -7, qmin: -128, qmax: 127 }, y: { scale: f32(0.04), zeroPoint: 0, qmin: -128, qmax: 127 } },
  ];
  const isas = (['avx512f', 'avx2', 'scalar'] as const).filter((isa) => {
    try { b.setIsa(isa); return true; } catch { return false; }
  });
  for (const c of cases) {
    const q = qlinearAddParams(c.a, c.b, c.y, false);
    const n = 65536; // every (qa, qb) pair
    const lo = c.a.qmin;
    const xa = Float32Array.from({ length: n }, (_, j) => f32((lo + (j & 255) - c.a.zeroPoint) * c.a.scale));
    const xb = Float32Array.from({ length: n }, (_, j) => f32((lo + (j >> 8) - c.b.zeroPoint) * c.b.scale));
    const js = new Float32Array(n);
    qlinearAdd(xa, xb, js, n, q);
    const zeros = js.filter((v) => v === 0).length;
    t.true(zeros > 100, `the case has zero results (${zeros})`);
    t.is(js.filter((v) => Object.is(v, -0)).length, 0, 'JS: no -0');
    for (const isa of isas) {
      b.setIsa(isa);
      const plan = b.createPlan([{ op: 'qlinearAdd', inputs: [0, 1], output: 2, count: n, q }] as never);
      const out = new Float32Array(n);
      b.runPlanSync(plan, [xa, xb, out]);
      let diff = 0;
      for (let i = 0; i < n; i++) if (!Object.is(out[i], js[i])) diff++;
      t.is(diff, 0, `${isa}: ${diff} of ${n} differ from JS (sign of zero included)`);
    }
  }
  t.log(`checked on ${isas.join(', ')} and JS`);
});
