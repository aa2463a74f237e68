// The native quantizeDequantize step (eltwise/f32_vquantize_dequantize__*: scalar, AVX2, AVX-512)
// against the JS kernel, bit for bit, on every ISA this CPU runs: values on rounding ties
// (k + 0.5 steps), just beside them, past both clamps, ±Infinity and NaN, in full vectors and
// tails, for uint8, int8 and a fused ReLU's raised qmin.
import test from 'ava';
import { nativeAvailable, nativeBinding } from '../src/native.js';
import { quantizeDequantize } from '../src/kernels-js/quantize.js';
import { rng } from './helpers/rng.js';

(nativeAvailable() ? test.serial : test.skip)('the quantizeDequantize kernel of every ISA gives the JS kernel\'s bits', (t) => {
  const b = nativeBinding();
  t.teardown(() => b.setIsa('auto'));
  const r = rng(21);
  // float32 scales, as the models store them.
  const params = [
    { scale: Math.fround(0.0173), zeroPoint: 113, qmin: 0, qmax: 255 },
    { scale: 0.25, zeroPoint: -3, qmin: -128, qmax: 127 },
    { scale: Math.fround(1 / 3), zeroPoint: 0, qmin: 0, qmax: 255 },
    { scale: Math.fround(0.04), zeroPoint: 40, qmin: 40, qmax: 255 },
  ];
  const isas = (['avx512f', 'avx2', 'scalar'] as const).filter((isa) => {
    try { b.setIsa(isa); return true; } catch { return false; }
  });
  for (const q of params) {
    const n = 4096 + 13;
    const x = Float32Array.from({ length: n }, (_, i) => {
      const k = Math.floor(r() * 700) - 350;
      switch (i % 8) {
        case 0: return (k + 0.5) * q.scale;
        case 1: return Math.fround((k + 0.5) * q.scale) + (r() < 0.5 ? -1e-6 : 1e-6);
        case 2: return i % 3 === 0 ? NaN : i % 3 === 1 ? Infinity : -Infinity;
        default: return (r() - 0.5) * 400 * q.scale;
      }
    });
    const expected = new Float32Array(n);
    quantizeDequantize(x, expected, n, q);
    for (const isa of isas) {
      b.setIsa(isa); // the step takes the ISA active when its plan is created
      const plan = b.createPlan([{ op: 'quantizeDequantize', inputs: [0], output: 1, count: n, q }] as never);
      const out = new Float32Array(n);
      b.runPlanSync(plan, [x, out]);
      let diff = 0;
      for (let i = 0; i < n; i++) if (!Object.is(out[i], expected[i])) diff++;
      t.is(diff, 0, `${isa} ${JSON.stringify(q)}: ${diff} of ${n} differ`);
    }
  }
  t.true(isas.includes('scalar'), isas.join(', '));
  t.log(`checked on ${isas.join(', ')}`);
});
