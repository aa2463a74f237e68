// Single-conv timings on the ResNet-50 conv shapes: our NCHW conv step (with
// its per-run B-panel packing / padded-input copy; ops.conv2dSync on packed
// weights, and a whole one-conv model run) against ONNX Runtime's conv node
// (NCHW16c on AVX-512; its profile's kernel time, and its whole run) on the
// same one-node model, alternating run by run in one process, 2 threads.
// Usage: npx tsx scripts/layout-choice.ts [rounds]
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as ort from 'onnxruntime-node';

import { GraphBuilder, Tensor, load, ops } from '../src/index.js';
import { ortLayerTimes } from '../src/bench/ort-profile.js';

interface Shape { hw: number; cin: number; cout: number; k: number; s: number }
const SHAPES: Shape[] = [
  { hw: 56, cin: 64, cout: 64, k: 1, s: 1 }, { hw: 56, cin: 64, cout: 256, k: 1, s: 1 }, { hw: 56, cin: 256, cout: 64, k: 1, s: 1 },
  { hw: 28, cin: 128, cout: 512, k: 1, s: 1 }, { hw: 28, cin: 512, cout: 128, k: 1, s: 1 }, { hw: 14, cin: 256, cout: 1024, k: 1, s: 1 },
  { hw: 14, cin: 1024, cout: 256, k: 1, s: 1 }, { hw: 7, cin: 512, cout: 2048, k: 1, s: 1 }, { hw: 7, cin: 2048, cout: 512, k: 1, s: 1 },
  { hw: 56, cin: 256, cout: 512, k: 1, s: 2 },
  { hw: 56, cin: 64, cout: 64, k: 3, s: 1 }, { hw: 28, cin: 128, cout: 128, k: 3, s: 1 }, { hw: 14, cin: 256, cout: 256, k: 3, s: 1 },
  { hw: 7, cin: 512, cout: 512, k: 3, s: 1 }, { hw: 56, cin: 128, cout: 128, k: 3, s: 2 }, { hw: 28, cin: 256, cout: 256, k: 3, s: 2 },
  { hw: 14, cin: 512, cout: 512, k: 3, s: 2 }, { hw: 224, cin: 3, cout: 64, k: 7, s: 2 },
];
const rounds = Number(process.argv[2] ?? 20);
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

console.log('| shape (H×W, Cin→Cout, k, s) | ours conv step ms | ORT conv node ms | step/node | ours model run ms | ORT run ms | run/run |');
console.log('|---|---|---|---|---|---|---|');
for (const sh of SHAPES) {
  const b = new GraphBuilder({ seed: 1 });
  const x = b.input('x', [1, sh.cin, sh.hw, sh.hw]);
  const pad = (sh.k - 1) >> 1;
  b.output(b.relu(b.conv(x, { outChannels: sh.cout, kernel: [sh.k, sh.k], stride: [sh.s, sh.s], pad: [pad, pad, pad, pad], bias: true })), 'y');
  const bytes = b.build().toOnnx();
  const model = await load(bytes, { backend: 'native', threads: 2 });
  const dir = await mkdtemp(join(tmpdir(), 'layout-'));
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 2, interOpNumThreads: 1, enableProfiling: true, profileFilePrefix: join(dir, 'p') });
  const graph = b.build();
  const conv = graph.nodes.find((n) => n.op === 'Conv')!;
  const wInit = graph.initializers.get(conv.inputs[1]!)!, bInit = graph.initializers.get(conv.inputs[2]!)!;
  const packed = ops.packConv2d(new Tensor('float32', wInit.data, wInit.dims), { bias: new Tensor('float32', bInit.data, bInit.dims), backend: 'native' });
  const data = Float32Array.from({ length: sh.cin * sh.hw * sh.hw }, (_, i) => Math.sin(i));
  const feed = new Tensor('float32', data, [1, sh.cin, sh.hw, sh.hw]);
  const ortFeed = { x: new ort.Tensor('float32', data, [1, sh.cin, sh.hw, sh.hw]) };
  const ours: number[] = [], theirs: number[] = [], step: number[] = [];
  for (let r = 0; r < rounds + 3; r++) {
    let t0 = performance.now(); model.runSync({ x: feed }); const a = performance.now() - t0;
    t0 = performance.now(); await session.run(ortFeed); const o = performance.now() - t0;
    t0 = performance.now(); ops.conv2dSync(feed, packed, { stride: sh.s, pads: pad, relu: true, backend: 'native', threads: 2 }); const c = performance.now() - t0;
    if (r >= 3) { ours.push(a); theirs.push(o); step.push(c); }
  }
  session.endProfiling();
  const file = (await readdir(dir)).find((f) => f.startsWith('p'))!;
  const nodeTimes = [...ortLayerTimes(JSON.parse(await readFile(join(dir, file), 'utf8'))).values()];
  const ortNode = nodeTimes.reduce((p, q) => p + q, 0);
  await rm(dir, { recursive: true });
  const mo = median(ours), mt = median(theirs), ms = median(step);
  console.log(`| ${sh.hw}×${sh.hw}, ${sh.cin}→${sh.cout}, ${sh.k}×${sh.k}, s${sh.s} | ${ms.toFixed(3)} | ${ortNode.toFixed(3)} | ${(ms / ortNode).toFixed(2)} | ${mo.toFixed(3)} | ${mt.toFixed(3)} | ${(mo / mt).toFixed(2)} |`);
  await session.release();
  model.dispose?.();
}
