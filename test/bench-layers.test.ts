// `resnode bench --layers`: the micro-kernel each layer ran (from the native
// backend) and the report's per-kernel breakdown against ORT.
import test from 'ava';
import { GraphBuilder } from '../src/graph/layers.js';
import { info, load, Tensor } from '../src/index.js';
import { toMarkdown } from '../src/bench/report.js';
import { nativeBinding } from '../src/native.js';
import type { BenchReport, LayerRow } from '../src/bench/run.js';

const isa = info().isa;

function net(batch: number) {
  const b = new GraphBuilder({ seed: 3 });
  const x = b.input('x', [batch, 64, 56, 56]);
  const a = b.relu(b.conv(x, { outChannels: 64, kernel: 3, pad: 1, name: 'c3' }));
  const p = b.conv(a, { outChannels: 128, kernel: 1, name: 'c1' });
  b.output(b.gemm(b.flatten(b.globalAveragePool(p)), { outFeatures: 10, name: 'fc' }));
  return b.build();
}

/** The kernels this build should pick for net()'s layers on the active ISA. */
function expected(mode: 'exact' | 'fast', batch: number): Record<string, string> {
  if (isa === 'avx512f') {
    return {
      c3: mode === 'fast' ? 'f32_winograd_4x4_3x3__avx512f' : 'f32_dconv_14x32s1__avx512f',
      c1: 'f32_gemm_8x32__avx512f', // 128 rows: 8-row tiles pad none, 14-row ones 12
      fc: batch === 1 ? 'f32_gemm_1x32__avx512f' : 'f32_gemm_8x32__avx512f',
    };
  }
  const gemm = isa === 'avx2' ? 'f32_gemm_6x16__avx2' : 'f32_gemm_4x8__scalar';
  return { c3: gemm, c1: gemm, fc: gemm };
}

for (const [mode, batch] of [['exact', 1], ['fast', 1], ['exact', 2]] as const) {
  (isa ? test : test.skip)(`profile names the micro-kernel of every conv and gemm (${mode}, batch ${batch})`, async (t) => {
    const model = await load(net(batch), { backend: 'native', threads: 2, mode });
    const x = new Tensor('float32', new Float32Array(batch * 64 * 56 * 56).fill(0.5), [batch, 64, 56, 56]);
    const steps = model.profile({ [model.inputs[0]!.name]: x });
    // The conv and gemm kernels; the global average pool names its plane-sum kernel (test/profile-native-steps.test.ts).
    const named = Object.fromEntries(steps.filter((s) => s.kernel && s.op !== 'GlobalAveragePool').map((s) => [s.name, s.kernel]));
    t.deepEqual(named, expected(mode, batch));
    t.is(steps.find((s) => s.op === 'GlobalAveragePool')!.kernel, `f32_gavgpool_cw__${isa}`);
    t.true(steps.filter((s) => !s.kernel).every((s) => s.op !== 'Conv' && s.op !== 'Gemm'));
    await model.dispose();
  });
}

test('profile names no kernel for the JS backend', async (t) => {
  const model = await load(net(1), { backend: 'js', threads: 1 });
  const x = new Tensor('float32', new Float32Array(64 * 56 * 56).fill(0.5), [1, 64, 56, 56]);
  t.true(model.profile({ [model.inputs[0]!.name]: x }).every((s) => s.kernel === undefined));
});

test('the report groups layers by kernel, biggest loss to ORT first, with the reasons for the kernels present', (t) => {
  const rows: LayerRow[] = [
    { name: 'a', op: 'Conv', kernel: 'f32_dconv_14x32s1__avx512f', oursMs: 1.0, ortMs: 0.8 },
    { name: 'b', op: 'Conv', kernel: 'f32_dconv_14x32s1__avx512f', oursMs: 2.0, ortMs: 1.7 },
    { name: 'c', op: 'Conv', kernel: 'f32_gemm_8x32__avx512f', oursMs: 0.5, ortMs: 0.6 },
    { name: 'd', op: 'Gemm', kernel: 'f32_gemm_1x32__avx512f', oursMs: 0.3, ortMs: 0.1 },
    { name: 'e', op: 'MaxPool', oursMs: 0.2 },
  ];
  const report: BenchReport = {
    model: 'm', batches: [1], date: 'd', threads: 2, isa: 'avx512f', peakGflops: 300, flopsPerImage: 1e9,
    results: [
      { label: 'native', kind: 'native', batch: 1, latency: { median: 4, min: 4, p90: 4, spread: 0, n: 1 }, imagesPerSecond: 250, gflops: 250, percentOfPeak: 83, latencyVsOrt: 1.2 },
      { label: 'onnxruntime-node', kind: 'ort', batch: 1, latency: { median: 3.3, min: 3.3, p90: 3.3, spread: 0, n: 1 }, imagesPerSecond: 300, gflops: 300, percentOfPeak: 100, latencyVsOrt: 1 },
    ],
    layers: [{ batch: 1, label: 'native', rows }],
  };
  const md = toMarkdown(report);
  const table = md.slice(md.indexOf('### By kernel'), md.indexOf('What each kernel'));
  const lines = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| our kernel'));
  t.deepEqual(lines, [
    '| f32_dconv_14x32s1__avx512f | Conv | 2 | 3.00 | 2.50 | 1.20 | 0.50 |',
    '| f32_gemm_1x32__avx512f | Gemm | 1 | 0.30 | 0.10 | 3.00 | 0.20 |',
    '| – | MaxPool | 1 | 0.20 | – | – | – |',
    '| f32_gemm_8x32__avx512f | Conv | 1 | 0.50 | 0.60 | 0.83 | -0.10 |',
  ]);
  t.regex(md, /Summed over all layers: ours 4\.0 ms \(run median 4\.0\), ORT 3\.2 ms \(run median 3\.3\)/);
  const why = md.split('\n').filter((l) => l.startsWith('- `'));
  t.deepEqual(why.map((l) => l.slice(0, l.indexOf(':'))), ['- `f32_dconv_*` (Conv)', '- `f32_gemm_*` (Conv)', '- `f32_gemm_*` (Gemm)']);
});

(isa ? test : test.skip)('convKernel and gemmKernel reject bad input with errors that name the argument', (t) => {
  const b = nativeBinding();
  const conv = b.packConv2d(new Float32Array(4 * 4 * 9), null, 4, 4, 3, 3, 1);
  const p = { inputDims: [1, 3, 8, 8], cOut: 4, kh: 3, kw: 3, groups: 1, strides: [1, 1] as [number, number], pads: [1, 1, 1, 1] as [number, number, number, number], dilations: [1, 1] as [number, number], outDims: [8, 8] as [number, number], relu: false, threads: 1 };
  t.throws(() => b.convKernel(conv, p), { instanceOf: RangeError, message: /convKernel: .*p\.inputDims\[1\]/ });
  t.throws(() => b.convKernel({} as never, { ...p, inputDims: [1, 4, 8, 8] }), { instanceOf: TypeError, message: /convKernel: .*packed/ });
  const fc = b.packGemm(new Float32Array(10 * 4), null, 10, 4);
  t.throws(() => b.gemmKernel(fc, 0), { instanceOf: RangeError, message: /gemmKernel: .* m but received 0/ });
  t.is(typeof b.convKernel(conv, { ...p, inputDims: [1, 4, 8, 8] }), 'string');
});
