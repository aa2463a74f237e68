// `npm start`: build a ResNet with the facade, export it, check ours against
// ONNX Runtime, and time native, JS and ONNX Runtime side by side.
import { loadOrt } from './optional-deps.js';
import { resnet, type ResNetDepth } from './graph/resnet.js';
import { load } from './model.js';
import { compare, seededTensor } from './validate.js';
import { formatTable } from './table.js';
import { currentThreads } from './threads.js';
import { info } from './info.js';

export interface DemoOptions {
  depth?: ResNetDepth;
  threads?: number;
  /** Timed runs per backend (JS gets at most 2: it is slow). */
  repeats?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function runDemo(options: DemoOptions = {}): Promise<boolean> {
  const depth = options.depth ?? 50;
  const threads = options.threads ?? currentThreads();
  const repeats = options.repeats ?? 10;
  const ort = await loadOrt('demo');
  const i = info();
  console.log(`resnode demo: ResNet-${depth}, batch 1, ${threads} threads, isa ${i.isa ?? 'none'}`);
  console.log('its weights are random (seed 0), not trained: this checks speed and agreement with ONNX Runtime, not accuracy\n');

  let t0 = performance.now();
  const graph = resnet({ depth, seed: 0, batch: 1 });
  const bytes = graph.toOnnx();
  console.log(`built and exported in ${(performance.now() - t0).toFixed(0)} ms (${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB ONNX)`);

  const x = seededTensor([1, 3, 224, 224], 1);
  t0 = performance.now();
  // No spinning: ORT's idle workers would otherwise steal the cores from the next contender.
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, extra: { session: { intra_op: { allow_spinning: '0' } } } });
  const ortLoadMs = performance.now() - t0;
  const feeds = { input: new ort.Tensor('float32', x.data, [1, 3, 224, 224]) };
  const expected = (await session.run(feeds)).output!.data as Float32Array;

  const rows: string[][] = [];
  let ok = true;
  const ortTimes: number[] = [];
  const timed: Record<string, number[]> = { native: [], js: [] };
  const models = {
    native: i.native ? await load(bytes, { backend: 'native', threads }) : undefined,
    js: await load(bytes, { backend: 'js' }),
  };
  const errors: Record<string, ReturnType<typeof compare>> = {};
  for (const [name, model] of Object.entries(models)) {
    if (!model) continue;
    const y = (await model.run({ input: x })).output!;
    errors[name] = compare('output', y.data, expected, [...y.dims], 1e-4, 1e-6);
    ok &&= errors[name].ok;
  }
  // Interleave the timed runs so that machine noise hits every backend alike.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 30));
  for (let r = 0; r < repeats; r++) {
    await settle();
    let s = performance.now();
    await session.run(feeds);
    ortTimes.push(performance.now() - s);
    if (models.native) {
      await settle();
      s = performance.now();
      await models.native.run({ input: x });
      timed.native!.push(performance.now() - s);
    }
    if (r < 2) {
      s = performance.now();
      await models.js.run({ input: x });
      timed.js!.push(performance.now() - s);
    }
  }
  const ortMs = median(ortTimes);
  for (const name of ['native', 'js'] as const) {
    if (!timed[name]!.length) continue;
    const ms = median(timed[name]!);
    const e = errors[name]!;
    rows.push([name, e.maxAbsError.toExponential(2), e.relError.toExponential(2), e.ok ? 'ok' : 'MISMATCH', ms.toFixed(1), (ms / ortMs).toFixed(2)]);
  }
  rows.push(['onnxruntime-node', '-', '-', 'reference', ortMs.toFixed(1), '1.00']);
  console.log(`ONNX Runtime session created in ${ortLoadMs.toFixed(0)} ms\n`);
  console.log(formatTable(['backend', 'max |err|', 'err / max|e|', 'vs ORT', 'median ms', '× ORT latency'], rows));
  const jsMs = timed.js!.length ? median(timed.js!) : NaN;
  if (timed.native!.length) console.log(`\nnative is ${(jsMs / median(timed.native!)).toFixed(0)}× faster than the JS kernels.`);
  console.log(ok ? '\nPASS: every backend matches ONNX Runtime within 1e-4·max|e|' : '\nFAIL: a backend disagrees with ONNX Runtime');
  await session.release();
  for (const m of Object.values(models)) await m?.dispose();
  return ok;
}
