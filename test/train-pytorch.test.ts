// Our backward against PyTorch's: models/export_gradients.py (run with
// /usr/bin/python3) wrote a small network's input, weights, loss and every
// parameter and input gradient (float64, computed from the float32 weights).
// Tolerance: |ours − torch| ≤ 1e-4·max|g_torch| per tensor, for each backend.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder } from '../src/graph/layers.js';
import { TrainableGraph } from '../src/train/autograd.js';
import { nativeBackwardAvailable } from '../src/train/backend.js';

const DIR = join(import.meta.dirname, '..', 'models', 'gradients');

function readNpy(name: string): { data: Float64Array; dims: number[] } {
  const buf = readFileSync(join(DIR, `${name}.npy`));
  const hlen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + hlen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)![1]!;
  const dims = /'shape':\s*\(([^)]*)\)/.exec(header)![1]!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const body = buf.subarray(10 + hlen);
  const ab = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
  const data = descr === '<f8' ? new Float64Array(ab) : descr === '<f4' ? Float64Array.from(new Float32Array(ab)) : null;
  if (!data) throw new Error(`${name}.npy: unsupported dtype ${descr}`);
  return { data, dims };
}

function buildGraph() {
  const w = (n: string): Float32Array => Float32Array.from(readNpy(n).data);
  const b = new GraphBuilder({ seed: 0 });
  let x = b.input('input', [4, 3, 8, 8]);
  const a = b.relu(b.batchNorm(b.conv(x, { name: 'conv1', outChannels: 4, kernel: 3, pad: 1, weight: w('conv1.weight') }), { name: 'bn1' }));
  x = b.batchNorm(b.conv(a, { name: 'conv2', outChannels: 4, kernel: 3, pad: 1, weight: w('conv2.weight') }), { name: 'bn2' });
  x = b.relu(b.add(x, a));
  x = b.relu(b.conv(x, { name: 'conv3', outChannels: 6, kernel: 3, stride: 2, pad: [1, 0, 1, 1], weight: w('conv3.weight'), biasData: w('conv3.bias') }));
  x = b.maxPool(x, { kernel: 2, stride: 1 });
  x = b.flatten(b.globalAveragePool(x));
  b.output(b.gemm(x, { name: 'fc', outFeatures: 5, weight: w('fc.weight'), biasData: w('fc.bias') }), 'output');
  const g = b.build('torch_check');
  for (const n of ['bn1.weight', 'bn1.bias', 'bn2.weight', 'bn2.bias']) g.initializers.get(n)!.data.set(w(n));
  return g;
}

const PARAMS = ['conv1.weight', 'bn1.weight', 'bn1.bias', 'conv2.weight', 'bn2.weight', 'bn2.bias', 'conv3.weight', 'conv3.bias', 'fc.weight', 'fc.bias'];

const cases: { label: string; backend: 'js' | 'native'; dtype: 'float32' | 'float64' }[] = [
  { label: 'js float64', backend: 'js', dtype: 'float64' },
  { label: 'js float32', backend: 'js', dtype: 'float32' },
];
const only = process.env.RESNODE_TEST_BACKENDS;
if (!only || only.includes('native')) cases.push({ label: 'native float32', backend: 'native', dtype: 'float32' });

for (const c of cases) {
  test(`gradients match PyTorch within 1e-4·max|g| · ${c.label}`, (t) => {
    if (c.backend === 'native' && !nativeBackwardAvailable()) { t.fail('native backward kernels are not built (npm run build:native)'); return; }
    const g = buildGraph();
    const tg = new TrainableGraph(g, { backend: c.backend, dtype: c.dtype });
    const x = tg.cast(readNpy('input').data);
    const labels = Array.from(readNpy('labels').data);
    const { loss, grads } = tg.lossAndGrad(x, labels, 4);
    const lossRef = readNpy('loss').data[0]!;
    t.true(Math.abs(loss - lossRef) <= 1e-4 * Math.abs(lossRef), `loss ${loss} vs ${lossRef}`);
    const report: string[] = [];
    const check = (name: string, got: ArrayLike<number>): void => {
      const want = readNpy(`grad.${name}`).data;
      t.is(got.length, want.length, name);
      let m = 0, e = 0;
      for (let i = 0; i < want.length; i++) { m = Math.max(m, Math.abs(want[i]!)); e = Math.max(e, Math.abs(got[i]! - want[i]!)); }
      report.push(`${name} ${(e / m).toExponential(1)}`);
      t.true(e <= 1e-4 * m, `${name}: max |err| ${e} > 1e-4·${m}`);
    };
    for (const p of PARAMS) check(p, grads.params.get(p)!);
    check('input', grads.values.get('input')!);
    t.log(`err/max|g|: ${report.join(', ')}`);
  });
}
