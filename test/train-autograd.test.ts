// The autograd over whole graphs: float64 central differences of the mean
// cross-entropy loss with respect to every parameter and the input, on graphs
// that use each trainable op, fused forms included (Conv with residual + relu,
// Add with relu, Gemm with relu, Reshape, MaxPool). Also: BN running statistics
// follow PyTorch's update, and the float32 backends agree with float64.
import test from 'ava';
import { Graph } from '../src/graph/graph.js';
import { GraphBuilder } from '../src/graph/layers.js';
import { TrainableGraph } from '../src/train/autograd.js';
import { nativeBackwardAvailable } from '../src/train/backend.js';

function smallGraph(fused: boolean): Graph {
  const b = new GraphBuilder({ seed: 3 });
  let x = b.input('input', [3, 2, 6, 6]);
  const a = b.relu(b.batchNorm(b.conv(x, { name: 'c1', outChannels: 4, kernel: 3, pad: 1, bias: true }), { name: 'bn1' }));
  x = b.batchNorm(b.conv(a, { name: 'c2', outChannels: 4, kernel: 3, pad: [1, 1, 1, 1] }), { name: 'bn2' });
  x = fused ? b.node({ name: 'addrelu', op: 'Add', inputs: [x, a], attrs: { relu: true } }) : b.relu(b.add(x, a));
  x = b.maxPool(x, { kernel: 2, stride: 2 });
  // A conv with a fused residual and relu, as the fusion pass writes it.
  const r = x;
  const w4 = b.initializer('c4.weight', [4, 4, 1, 1], Float32Array.from({ length: 16 }, (_, i) => Math.cos(i) * 0.7));
  const b4 = b.initializer('c4.bias', [4], Float32Array.from([0.1, -0.2, 0.3, 0.05]));
  x = b.node({ name: 'c4', op: 'Conv', inputs: [x, w4, b4, r], attrs: { kernelShape: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], groups: 1, residual: r, relu: true } });
  x = b.reshape(b.globalAveragePool(x), [0, -1]);
  x = b.node({ name: 'fc1', op: 'Gemm', inputs: [x, b.initializer('fc1.w', [5, 4], Float32Array.from({ length: 20 }, (_, i) => Math.sin(i + 1))), ''], attrs: { relu: true } });
  b.output(b.gemm(x, { name: 'fc', outFeatures: 3 }), 'output');
  return b.build('autograd_check');
}

function fdCheck(t: import('ava').ExecutionContext, g: Graph): void {
  const tg = new TrainableGraph(g, { dtype: 'float64' });
  const n = 3;
  const x = Float64Array.from({ length: n * 2 * 36 }, (_, i) => Math.sin(0.7 * i) + 0.1 * Math.cos(3.1 * i));
  const labels = [0, 2, 1];
  // Freeze the BN running statistics: training-mode forward updates them, but the loss does not depend on them.
  const { grads } = tg.lossAndGrad(x, labels, n);
  const lossAt = (): number => tg.lossAndGrad(x, labels, n).loss;
  const h = 1e-6;
  let worst = 0, worstName = '';
  const check = (name: string, arr: Float64Array, analytic: ArrayLike<number>): void => {
    let m = 0, e = 0;
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i]!;
      arr[i] = v + h; const lp = lossAt();
      arr[i] = v - h; const lm = lossAt();
      arr[i] = v;
      const num = (lp - lm) / (2 * h);
      m = Math.max(m, Math.abs(num)); e = Math.max(e, Math.abs(num - analytic[i]!));
    }
    // A conv bias followed by training-mode BN has a zero gradient: hence the absolute floor.
    const rel = e / Math.max(m, 1e-3);
    if (rel > worst) { worst = rel; worstName = name; }
    t.true(rel <= 1e-5, `${name}: err ${e}, max |g| ${m}`);
  };
  for (const [name, p] of tg.params) check(name, p as Float64Array, grads.params.get(name)!);
  check('input', x, grads.values.get('input')!);
  t.log(`worst rel err ${worst.toExponential(1)} (${worstName}) over ${tg.params.size} parameters and the input`);
}

test('autograd: every parameter and the input match float64 finite differences (separate Add + Relu)', (t) => fdCheck(t, smallGraph(false)));
test('autograd: fused Add+relu, Conv+residual+relu, Gemm+relu, Reshape match finite differences', (t) => fdCheck(t, smallGraph(true)));

test('autograd: BN running statistics follow PyTorch (momentum 0.1, unbiased variance)', (t) => {
  const b = new GraphBuilder({ seed: 1 });
  const x = b.input('input', [2, 1, 1, 2]);
  b.output(b.batchNorm(x, { name: 'bn' }), 'output');
  const g = b.build();
  const tg = new TrainableGraph(g, { dtype: 'float64' });
  const rm0 = tg.buffers.get('bn.running_mean')![0]!, rv0 = tg.buffers.get('bn.running_var')![0]!;
  tg.forward(Float64Array.from([1, 2, 3, 6]), 2, true);
  t.true(Math.abs(tg.buffers.get('bn.running_mean')![0]! - (0.9 * rm0 + 0.1 * 3)) < 1e-12);
  t.true(Math.abs(tg.buffers.get('bn.running_var')![0]! - (0.9 * rv0 + 0.1 * (14 / 3))) < 1e-9);
});

for (const backend of ['js', 'native'] as const) {
  test(`autograd: float32 ${backend} gradients agree with float64 (1e-4·max|g|)`, (t) => {
    if (backend === 'native' && (process.env.RESNODE_TEST_BACKENDS ?? 'native').includes('native') === false) { t.pass(); return; }
    if (backend === 'native' && !nativeBackwardAvailable()) { t.fail('native backward kernels are not built'); return; }
    const g = smallGraph(true);
    const x = Float64Array.from({ length: 3 * 2 * 36 }, (_, i) => Math.sin(0.7 * i));
    const ref = new TrainableGraph(g, { dtype: 'float64' }).lossAndGrad(x, [0, 2, 1], 3).grads;
    const tg = new TrainableGraph(g, { backend, dtype: 'float32' });
    t.is(tg.kernels.name, backend);
    const got = tg.lossAndGrad(Float32Array.from(x), [0, 2, 1], 3).grads;
    for (const [name, want] of ref.params) {
      const a = got.params.get(name)!;
      let m = 0, e = 0;
      for (let i = 0; i < want.length; i++) { m = Math.max(m, Math.abs(want[i]!)); e = Math.max(e, Math.abs(a[i]! - want[i]!)); }
      t.true(e <= 1e-4 * m + 1e-7, `${name}: ${e} vs max ${m}`);
    }
  });
}
