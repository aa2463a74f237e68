// CIFAR-style ResNets (6n+2 layers), the synthetic data set, SGD, gradient
// flow and a short training run.
import test from 'ava';
import { resnet } from '../src/graph/resnet.js';
import { mainPathLayers } from '../src/graph/cifar.js';
import { checkGraph } from '../src/graph/graph.js';
import { syntheticShapes } from '../src/train/dataset.js';
import { Sgd } from '../src/train/sgd.js';
import { gradientFlow } from '../src/train/gradflow.js';
import { train } from '../src/train/train.js';
import { lineChartSvg } from '../src/train/svg.js';

for (const depth of [20, 32, 44, 56, 110] as const) {
  test(`resnet({depth: ${depth}, variant: 'cifar'}): ${depth} weighted layers, 16/32/64 channels, [N,10] output`, (t) => {
    for (const plain of [false, true]) {
      const g = resnet({ depth, variant: 'cifar', plain });
      const shapes = checkGraph(g);
      t.is(mainPathLayers(g).length, depth);
      t.deepEqual(shapes.get('output'), [-1, 10]);
      const convs = g.nodes.filter((n) => n.op === 'Conv' && !n.name.includes('shortcut'));
      t.deepEqual([...new Set(convs.map((n) => g.initializers.get(n.inputs[1]!)!.dims[0]))], [16, 32, 64]);
      const adds = g.nodes.filter((n) => n.op === 'Add').length;
      const projections = g.nodes.filter((n) => n.name.includes('shortcut') && n.op === 'Conv').length;
      t.is(adds, plain ? 0 : (depth - 2) / 2, 'one shortcut per basic block');
      t.is(projections, plain ? 0 : 2, 'option B: projections where the shape changes');
    }
  });
}

test("resnet({variant: 'cifar'}): rejects other depths; ImageNet depths still work", (t) => {
  t.throws(() => resnet({ depth: 18 as 20, variant: 'cifar' }), { instanceOf: RangeError });
  t.is(resnet({ depth: 18, numClasses: 10, inputSize: 32 }).name, 'resnet18');
});

test('syntheticShapes: deterministic, balanced, normalised, train/test differ', (t) => {
  const a = syntheticShapes({ train: 200, test: 50, seed: 7 });
  const b = syntheticShapes({ train: 200, test: 50, seed: 7 });
  t.deepEqual(a.train.x.subarray(0, 5000), b.train.x.subarray(0, 5000));
  t.deepEqual(a.test.labels, b.test.labels);
  const counts = new Array(10).fill(0);
  for (const l of a.train.labels) counts[l]++;
  t.deepEqual(counts, new Array(10).fill(20));
  let s = 0;
  for (let i = 0; i < a.train.x.length; i++) s += a.train.x[i]!;
  t.true(Math.abs(s / a.train.x.length) < 1e-3);
  t.notDeepEqual(a.train.x.subarray(0, 3072), a.test.x.subarray(0, 3072));
  t.notDeepEqual(syntheticShapes({ train: 10, test: 1, seed: 8 }).train.x.subarray(0, 100), a.train.x.subarray(0, 100));
});

test('Sgd: momentum and weight decay follow PyTorch', (t) => {
  const p = new Map([['w', Float64Array.from([1, -2])]]);
  const opt = new Sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
  opt.step(p, new Map([['w', Float64Array.from([0.5, 0.5])]]));
  // v = g + λp = [0.51, 0.48]; p = p − 0.1·v
  t.true(Math.abs(p.get('w')![0]! - (1 - 0.051)) < 1e-12);
  opt.step(p, new Map([['w', Float64Array.from([0, 0])]]));
  const v1 = 0.9 * 0.51 + 0.01 * 0.949;
  t.true(Math.abs(p.get('w')![0]! - (0.949 - 0.1 * v1)) < 1e-12);
});

test('gradientFlow: one entry per weighted layer with finite, positive norms', (t) => {
  const g = resnet({ depth: 20, variant: 'cifar', inputSize: 16 });
  const f = gradientFlow(g, { batch: 4, seed: 1 });
  t.is(f.layers.length, 20);
  t.is(f.layers[0]!.name, 'conv1');
  t.is(f.layers[19]!.name, 'fc');
  t.true(f.layers.every((l) => l.weightGradNorm > 0 && Number.isFinite(l.weightGradNorm) && l.inputGradNorm > 0));
  t.true(Math.abs(f.loss - Math.log(10)) < 1.5);
});

test('train: a small net learns the synthetic shapes (training error falls), in float32 on the default backend', async (t) => {
  const data = syntheticShapes({ train: 320, test: 100, seed: 2, size: 16 });
  const g = resnet({ depth: 20, variant: 'cifar', inputSize: 16, width: 8 });
  const r = await train(g, data, { epochs: 4, lr: 0.05, batch: 32, progress: false });
  t.is(r.steps, 40);
  t.is(r.testErrorByEpoch.length, 4);
  const meanLoss = (from: number, to: number): number => { const h = r.history.filter((p) => p.epoch > from && p.epoch <= to); return h.reduce((a, p) => a + p.trainLoss, 0) / h.length; };
  const first = meanLoss(0, 1), last = meanLoss(3, 4);
  t.log(`mean training loss, epoch 1: ${first.toFixed(2)}, epoch 4: ${last.toFixed(2)}; final train error ${r.finalTrainError.toFixed(2)}, test ${r.finalTestError!.toFixed(2)}; ${r.seconds.toFixed(1)} s on ${r.backend}`);
  t.true(last < first - 0.1, 'training loss falls');
  t.true(r.finalTrainError < 0.85);
});

test('lineChartSvg: a well-formed SVG with one polyline per series and log ticks', (t) => {
  const svg = lineChartSvg([{ title: 'a<b', xLabel: 'x', yLabel: 'y', logY: true, series: [{ label: 's1', x: [1, 2, 3], y: [1e-3, 1, 1e2], color: '#f00' }, { label: 's2', x: [1, 2], y: [0.5, 5], color: '#00f', dash: true }] }]);
  t.true(svg.startsWith('<svg'));
  t.is(svg.match(/<polyline/g)!.length, 2);
  t.true(svg.includes('1e-3') && svg.includes('1e2'));
  t.true(svg.includes('a&lt;b'));
});
