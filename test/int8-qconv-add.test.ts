// A residual QLinearAdd fused into the int8 conv's epilogue (src/graph/integer-residuals.ts,
// Qu8TileAdd in native/cpu/qgemm): the fused qconv step writes the same bytes as the qconv step
// followed by the qlinearAdd step, for every format of x, y and the residual, either operand
// order, in place, on the 1x1 GEMM path and the gathered K x K path, on every ISA. (That a whole
// quantized ResNet with its adds fused still equals the JS backend and ONNX Runtime is
// test/int8-qu8-pool.test.ts's and test/int8-u8-plan.test.ts's check.)
import test from 'ava';
import type { Graph, Node, QuantParams } from '../src/graph/graph.js';
import { Graph as GraphClass } from '../src/graph/graph.js';
import { fuseQConvAdds } from '../src/graph/integer-residuals.js';
import { nativeAvailable, nativeBinding } from '../src/native.js';
import { qlinearAddParams } from '../src/quant/qlinear-add.js';
import { rng } from './helpers/rng.js';

const u8q: QuantParams = { scale: 0.05, zeroPoint: 7, qmin: 0, qmax: 255 };
const conv = (name: string, x: string, y: string): Node =>
  ({ name, op: 'Conv', inputs: [x, `${name}/w`, ''], outputs: [y], attrs: { int8: { x: u8q, y: u8q, multipliers: [1] } } }) as unknown as Node;
const add = (a: string, b: string, y: string): Node => ({ name: 'add', op: 'QLinearAdd', inputs: [a, b], outputs: [y], attrs: { shift: 0, y: u8q } }) as unknown as Node;
const graphOf = (nodes: Node[], outputs = ['z']) =>
  new GraphClass({ inputs: [{ name: 'x', dims: [1, 4, 8, 8] }], outputs: outputs.map((name) => ({ name })), initializers: new Map(), nodes } as unknown as Graph);

test('fuseQConvAdds folds a QLinearAdd into the later of its int8 convs, keeping the operand order, and only where the conv output has no other reader', (t) => {
  const g = fuseQConvAdds(graphOf([conv('c1', 'x', 'a'), conv('c2', 'x', 'b'), add('a', 'b', 'z')]));
  t.deepEqual(g.nodes.map((n) => n.name), ['c1', 'c2']);
  const fused = g.nodes[1]!;
  t.true(fused.op === 'Conv' && fused.attrs.int8?.add?.convIsA === false, 'c2 wrote operand b');
  t.deepEqual(fused.op === 'Conv' && [fused.attrs.residual, fused.inputs[3], fused.outputs[0]], ['a', 'a', 'z']);
  const first = fuseQConvAdds(graphOf([conv('c2', 'x', 'b'), conv('c1', 'x', 'a'), add('a', 'b', 'z')]));
  t.true(first.nodes[1]!.op === 'Conv' && first.nodes[1]!.name === 'c1' && first.nodes[1]!.attrs.int8?.add?.convIsA === true, 'operand a when its conv runs later');
  const shared = fuseQConvAdds(graphOf([conv('c1', 'x', 'a'), add('a', 'x', 'z'), conv('c3', 'a', 'w')], ['z', 'w']));
  t.deepEqual(shared.nodes.map((n) => n.op), ['Conv', 'QLinearAdd', 'Conv'], 'a conv output read twice stays');
});

(nativeAvailable() ? test.serial : test.skip)('a qconv step with a fused add writes the bytes of the qconv step then the qlinearAdd step, in every format, on every ISA', (t) => {
  const b = nativeBinding();
  t.teardown(() => b.setIsa('auto'));
  const isas = (['avx512f', 'avx2', 'scalar'] as const).filter((isa) => {
    try { b.setIsa(isa); return true; } catch { return false; }
  });
  const r = rng(21);
  const U8 = { layout: 'nhwc', dtype: 'u8' } as const, F32 = { layout: 'nchw', dtype: 'f32' } as const;
  const shapes = [
    { n: 2, c: 24, h: 6, w: 5, cOut: 40, k: 1, s: 1, pad: 0 }, // the 1x1 GEMM path, a channel tail
    { n: 1, c: 8, h: 9, w: 9, cOut: 136, k: 3, s: 2, pad: 1 }, // gathered panels, more than one task of channel blocks
  ];
  let checked = 0;
  for (const signed of [false, true]) {
    const shift = signed ? 128 : 0;
    const type = (scale: number, zeroPoint: number): QuantParams => ({ scale: Math.fround(scale), zeroPoint, qmin: signed ? -128 : 0, qmax: signed ? 127 : 255 });
    const xq = type(0.03, signed ? -3 : 120), yq = type(0.04, signed ? 5 : 100), rq = type(0.035, signed ? -9 : 90), oq = type(0.06, signed ? 1 : 110);
    for (const sh of shapes) {
      const oh = Math.floor((sh.h + 2 * sh.pad - sh.k) / sh.s) + 1, ow = Math.floor((sh.w + 2 * sh.pad - sh.k) / sh.s) + 1;
      const yCount = sh.n * oh * ow * sh.cOut, xCount = sh.n * sh.h * sh.w * sh.c;
      const weight = Float32Array.from({ length: sh.cOut * sh.c * sh.k * sh.k }, () => Math.floor(r() * 255) - 127);
      const bias = Float32Array.from({ length: sh.cOut }, () => Math.floor(r() * 2000) - 1000);
      const mult = Float32Array.from({ length: sh.cOut }, () => Math.fround(0.0005 + r() * 0.001));
      const packed = b.packQConv2d(weight, bias, mult, sh.cOut, sh.c, sh.k, sh.k,
        { xScale: xq.scale, xZeroPoint: xq.zeroPoint, xQmin: xq.qmin, xQmax: xq.qmax, yScale: yq.scale, yZeroPoint: yq.zeroPoint, yQmin: yq.qmin, yQmax: yq.qmax });
      const p = { inputDims: [sh.n, sh.c, sh.h, sh.w], cOut: sh.cOut, kh: sh.k, kw: sh.k, groups: 1, strides: [sh.s, sh.s], pads: [sh.pad, sh.pad, sh.pad, sh.pad], dilations: [1, 1], outDims: [oh, ow], relu: false, threads: 2 };
      const bytes = (count: number) => Uint8Array.from({ length: count }, () => Math.floor(r() * 256));
      const slot = (v: Uint8Array) => { const f = new Float32Array(Math.ceil(v.length / 4)); new Uint8Array(f.buffer).set(v); return f; };
      // NHWC bytes [n, hw, c] -> dequantized float32 NCHW (the plan's float32 form of a value).
      const f32Of = (v: Uint8Array, c: number, hw: number, q: QuantParams) => {
        const out = new Float32Array(v.length);
        for (let i = 0; i < v.length; i++) { const bb = Math.floor(i / (hw * c)), px = Math.floor(i / c) % hw, ch = i % c; out[(bb * c + ch) * hw + px] = Math.fround((v[i]! - shift - q.zeroPoint) * q.scale); }
        return out;
      };
      const xb = bytes(xCount), rb = bytes(yCount);
      for (const convIsA of [true, false]) {
        const q = convIsA ? qlinearAddParams(yq, rq, oq, false) : qlinearAddParams(rq, yq, oq, false);
        // The reference: the unfused steps on bytes.
        const isaWant = new Map<string, Uint8Array>();
        for (const isa of isas) {
          b.setIsa(isa);
          const two = b.createPlan([
            { op: 'qconv', inputs: [0], output: 2, packed, p, io: { x: U8, y: U8 } },
            { op: 'qlinearAdd', inputs: convIsA ? [2, 1] : [1, 2], output: 3, count: yCount, q, u8: true },
          ] as never);
          const ref = new Float32Array(Math.ceil(yCount / 4));
          b.runPlanSync(two, [slot(xb), slot(rb), new Float32Array(Math.ceil(yCount / 4)), ref]);
          isaWant.set(isa, new Uint8Array(ref.buffer, 0, yCount).slice());
        }
        for (const isa of isas) {
          b.setIsa(isa);
          const want = isaWant.get(isa)!;
          t.deepEqual(want, isaWant.get(isas.at(-1)!)!, `${isa}: the unfused steps agree across ISAs`);
          for (const xf of [U8, F32]) for (const yf of [U8, F32]) for (const rf of [U8, F32]) for (const inPlace of rf === yf ? [false, true] : [false]) {
            const step = { op: 'qconv', inputs: [0, inPlace ? 1 : 2], output: 1, packed, p, io: { x: xf, y: yf, r: rf }, add: { q, convIsA } };
            const plan = b.createPlan([step] as never);
            const x = xf === U8 ? slot(xb) : f32Of(xb, sh.c, sh.h * sh.w, xq);
            const res = rf === U8 ? slot(rb) : f32Of(rb, sh.cOut, oh * ow, rq);
            const y = inPlace ? res : new Float32Array(yf === U8 ? Math.ceil(yCount / 4) : yCount);
            b.runPlanSync(plan, inPlace ? [x, y] : [x, y, res]);
            const what = `${isa} ${signed ? 's8' : 'u8'} ${sh.k}x${sh.k} convIsA ${convIsA} x ${xf.dtype} y ${yf.dtype} r ${rf.dtype}${inPlace ? ' in place' : ''}`;
            if (yf === U8) t.deepEqual(new Uint8Array(y.buffer, 0, yCount), want, what);
            else t.deepEqual(y, f32Of(want, sh.cOut, oh * ow, oq), what);
            t.regex(b.planKernels(plan)[0]!, /^qu8s8_i?gemm_.*\+qu8_qlinear_vadd__/);
            checked++;
          }
        }
      }
    }
  }
  t.log(`${checked} fused steps checked on ${isas.join(', ')}`);
  // The add must read the conv's bytes in the conv's own quantization.
  const packed = b.packQConv2d(new Float32Array(4).fill(1), null, new Float32Array([0.01]), 1, 4, 1, 1, { xScale: 0.1, xZeroPoint: 0, xQmin: 0, xQmax: 255, yScale: 0.2, yZeroPoint: 3, yQmin: 0, yQmax: 255 });
  const p = { inputDims: [1, 4, 2, 2], cOut: 1, kh: 1, kw: 1, groups: 1, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], outDims: [2, 2], relu: false, threads: 1 };
  const other = qlinearAddParams({ scale: 0.3, zeroPoint: 3, qmin: 0, qmax: 255 }, { scale: 0.1, zeroPoint: 0, qmin: 0, qmax: 255 }, { scale: 0.2, zeroPoint: 0, qmin: 0, qmax: 255 }, false);
  t.throws(() => b.createPlan([{ op: 'qconv', inputs: [0, 2], output: 1, packed, p, io: { x: U8, y: U8, r: U8 }, add: { q: other, convIsA: true } }] as never),
    { instanceOf: RangeError, message: /createPlan: steps\[0\] \(qconv\).*add\.q/ });
  const own = qlinearAddParams({ scale: Math.fround(0.2), zeroPoint: 3, qmin: 0, qmax: 255 }, { scale: 0.1, zeroPoint: 0, qmin: 0, qmax: 255 }, { scale: 0.2, zeroPoint: 0, qmin: 0, qmax: 255 }, false);
  t.truthy(b.createPlan([{ op: 'qconv', inputs: [0, 2], output: 1, packed, p, io: { x: U8, y: U8, r: U8 }, add: { q: own, convIsA: true } }] as never));
  t.throws(() => b.createPlan([{ op: 'qconv', inputs: [0], output: 1, packed, p, io: { x: U8, y: U8, r: U8 }, add: { q: own, convIsA: true } }] as never),
    { instanceOf: TypeError, message: /inputs/ });
});
