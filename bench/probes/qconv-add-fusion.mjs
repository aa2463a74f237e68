// Probe (not part of npm test): node bench/probes/qconv-add-fusion.mjs after npm run build.
// One process, alternating: [qconv, qlinearAdd] (two steps) vs the fused qconv step, u8 NHWC everywhere.
import { nativeBinding } from '../../dist/native.js';
import { qlinearAddParams } from '../../dist/quant/qlinear-add.js';
const b = nativeBinding();
const U8 = { layout: 'nhwc', dtype: 'u8' };
const shapes = [[64, 256, 56, 1], [128, 512, 28, 1], [256, 1024, 14, 1], [512, 2048, 7, 1], [64, 64, 56, 3], [512, 512, 7, 3]];
const q = (s, z) => ({ scale: Math.fround(s), zeroPoint: z, qmin: 0, qmax: 255 });
const yq = q(0.04, 100), rq = q(0.035, 90), oq = q(0.06, 0);
for (const [cin, cout, hw, k] of shapes) {
  const w = Float32Array.from({ length: cout * cin * k * k }, () => Math.floor(Math.random() * 255) - 127);
  const packed = b.packQConv2d(w, null, new Float32Array(cout).fill(0.0003), cout, cin, k, k, { xScale: 0.03, xZeroPoint: 120, xQmin: 0, xQmax: 255, yScale: yq.scale, yZeroPoint: yq.zeroPoint, yQmin: 0, yQmax: 255 });
  const pad = (k - 1) / 2;
  const p = { inputDims: [1, cin, hw, hw], cOut: cout, kh: k, kw: k, groups: 1, strides: [1, 1], pads: [pad, pad, pad, pad], dilations: [1, 1], outDims: [hw, hw], relu: false, threads: 2 };
  const addq = qlinearAddParams(yq, rq, oq, true);
  const count = hw * hw * cout;
  const two = b.createPlan([{ op: 'qconv', inputs: [0], output: 2, packed, p, io: { x: U8, y: U8 } }, { op: 'qlinearAdd', inputs: [2, 1], output: 3, count, q: addq, u8: true }]);
  const one = b.createPlan([{ op: 'qconv', inputs: [0, 1], output: 3, packed, p, io: { x: U8, y: U8, r: U8 }, add: { q: addq, convIsA: true } }]);
  const f = (n) => Float32Array.from({ length: Math.ceil(n / 4) }, () => Math.random() * 1e-30);
  const bufs = [f(hw * hw * cin), f(count), f(count), f(count)];
  const t = { two: [], one: [] };
  for (let i = 0; i < 3; i++) { b.runPlanSync(two, bufs); b.runPlanSync(one, bufs); }
  for (let r = 0; r < 40; r++) for (const [name, plan] of (r % 2 ? [['two', two], ['one', one]] : [['one', one], ['two', two]])) {
    const t0 = process.hrtime.bigint(); b.runPlanSync(plan, bufs); t[name].push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const med = (a) => a.sort((x, y) => x - y)[a.length >> 1], min = (a) => Math.min(...a);
  console.log(`${k}x${k} ${cin}->${cout} @${hw}: two steps median ${med(t.two).toFixed(3)} ms (min ${min(t.two).toFixed(3)}), fused ${med(t.one).toFixed(3)} (min ${min(t.one).toFixed(3)}): fused/two median ${(med(t.one) / med(t.two)).toFixed(3)}, min ${(min(t.one) / min(t.two)).toFixed(3)}`);
}
