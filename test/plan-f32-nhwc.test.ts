// float32 NHWC values in the plan (src/plan/formats.ts assignF32Nhwc): on the native backend in
// exact mode ResNet's stem reads the NCHW input and writes NHWC, its max pool and every later conv
// (the igemm) run on NHWC values, the global average pool reads them in place: no reorder step;
// elsewhere a reorder is its own step that profile() names; results match the JS backend (an independent NCHW implementation) within
// 1e-5·max, fetchIntermediates reads NHWC values back as NCHW, and RESNODE_LAYOUT=nchw, fast
// mode and the JS backend plan no NHWC at all.
import test from 'ava';
import { Graph, type Initializer, type Node } from '../src/graph/graph.js';
import { assignF32Nhwc, f32NhwcWanted, planFormats } from '../src/plan/formats.js';
import { nativeAvailable } from '../src/native.js';
import { load, resnet, Tensor, type Model } from '../src/index.js';
import { rng, randomF32 } from './helpers/rng.js';

const SIZE = 64;
const input = (n: number) => new Tensor('float32', randomF32(rng(5), n * 3 * SIZE * SIZE), [n, 3, SIZE, SIZE]);

const maxRel = (a: Float32Array, b: Float32Array): number => {
  let err = 0, mag = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    mag = Math.max(mag, Math.abs(b[i]!));
  }
  return err / mag;
};

const outputOf = async (m: Model, x: Tensor) => (await m.run({ [m.inputs[0]!.name]: x }))[m.outputs[0]!.name]!.data as Float32Array;

for (const depth of [18, 50] as const) {
  (nativeAvailable() ? test.serial : test.skip)(`ResNet-${depth}: NHWC from the stem's output to GAP with no reorder, matching the JS backend`, async (t) => {
    const graph = resnet({ depth, seed: depth, inputSize: SIZE, numClasses: 10 });
    const native = await withLayoutSync(undefined, () => load(graph, { backend: 'native' }));
    const js = await load(graph, { backend: 'js' });
    try {
      const x = input(2);
      const rows = native.profile({ [native.inputs[0]!.name]: x });
      const reorders = rows.filter((r) => r.op === 'Reorder');
      t.deepEqual(reorders, [], 'no reorder step');
      t.true(native.graph.nodes.some((n) => n.op === 'Conv' && n.attrs.nhwcOut === true), 'the stem reads NCHW and writes NHWC');
      t.regex(rows.find((r) => r.op === 'MaxPool')!.kernel ?? '', /^f32_maxpool__/, 'the max pool reads NHWC');
      t.regex(rows.find((r) => r.op === 'GlobalAveragePool')!.kernel ?? '', /^f32_avgpool__/, 'the global average pool reads NHWC');
      const convs = rows.filter((r) => r.op === 'Conv');
      t.notRegex(convs[0]!.kernel ?? '', /igemm/, 'the stem conv (3 input channels) is no igemm');
      for (const c of convs.slice(1)) t.regex(c.kernel ?? '', /^f32_igemm_/, c.name);
      t.true(convs.length === (depth === 18 ? 20 : 53));
      const want = await outputOf(js, x);
      const got = await outputOf(native, x);
      const rel = maxRel(got, want);
      t.true(rel <= 1e-5, `max error / max |y| = ${rel}`);
    } finally {
      await native.dispose();
      await js.dispose();
    }
  });
}

(nativeAvailable() ? test.serial : test.skip)('fetchIntermediates reads NHWC values back as NCHW; RESNODE_LAYOUT=nchw, fast mode and the JS backend plan no reorder', async (t) => {
  const graph = resnet({ depth: 18, seed: 3, inputSize: SIZE, numClasses: 10 });
  const nhwc = await withLayoutSync('nhwc', () => load(graph, { backend: 'native' }));
  const nchw = await withLayoutSync('nchw', () => load(graph, { backend: 'native' }));
  const fast = await withLayoutSync(undefined, () => load(graph, { backend: 'native', mode: 'fast' }));
  const js = await load(graph, { backend: 'js' });
  try {
    const x = input(1);
    const feeds = { [nhwc.inputs[0]!.name]: x };
    for (const m of [nchw, fast, js]) t.false(m.profile(feeds).some((r) => r.op === 'Reorder'));
    const a = await nhwc.run(feeds, { fetchIntermediates: true });
    const b = await nchw.run(feeds, { fetchIntermediates: true });
    const nhwcValues = nhwc.graph.nodes.filter((n) => (n.op === 'Conv' && (n.attrs.nhwc || n.attrs.nhwcOut)) || (n.op === 'MaxPool' && n.attrs.nhwc)).map((n) => n.outputs[0]!);
    t.true(nhwcValues.length > 10);
    for (const v of nhwcValues) {
      t.deepEqual([...a[v]!.dims], [...b[v]!.dims], v);
      t.true(maxRel(a[v]!.data as Float32Array, b[v]!.data as Float32Array) <= 1e-5, v);
    }
  } finally {
    for (const m of [nhwc, nchw, fast, js]) await m.dispose();
  }
});

test('assignF32Nhwc: graph outputs, grouped, int8 and activation convs stay NCHW; one reorder per value and direction', (t) => {
  const w = (name: string, c: number): [string, Initializer] => [name, { dims: [c, c, 1, 1], data: new Float32Array(c * c) }];
  const conv = (name: string, x: string, y: string, attrs: Record<string, unknown> = {}): Node =>
    ({ name, op: 'Conv', inputs: [x, `${name}/w`, ''], outputs: [y], attrs: { kernelShape: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], groups: 1, ...attrs } }) as unknown as Node;
  const nodes: Node[] = [
    { name: 'pool', op: 'MaxPool', inputs: ['x'], outputs: ['p'], attrs: {} } as unknown as Node,
    conv('a', 'p', 'v1'), // reads a pool's output, feeds b: NHWC (p reordered)
    conv('b', 'v1', 'u0', { residual: 'p' }), // its residual p: the same reorder as a's input
    ...[1, 2, 3, 4, 5].map((i) => conv(`k${i}`, `u${i - 1}`, i === 5 ? 'v2' : `u${i}`)), // a chain of 7 convs for 3 reorders
    conv('g', 'v2', 'v3', { groups: 2 }), // grouped: NCHW (v2 reordered back for it)
    conv('c', 'v2', 'v4'), // reads b: NHWC, but v4 is a graph output: stays NCHW
    { name: 'r', op: 'Relu', inputs: ['v2'], outputs: ['v5'], attrs: {} } as unknown as Node, // shares g's reorder
    conv('s', 'v1', 'v6', { act: { op: 'Sigmoid', alpha: 0, beta: 0 } }), // a fused activation: NCHW
    conv('q', 'v1', 'v7', { int8: { x: {}, y: {}, multipliers: [1] } }), // int8: NCHW, shares s's reorder
    { name: 'r2', op: 'Relu', inputs: ['v6'], outputs: ['v8'], attrs: {} } as unknown as Node,
    { name: 'r3', op: 'Relu', inputs: ['v7'], outputs: ['v9'], attrs: {} } as unknown as Node,
  ];
  (nodes[2] as unknown as { inputs: string[] }).inputs.push('p');
  const chain = ['a', 'b', 'k1', 'k2', 'k3', 'k4', 'k5'];
  const g = new Graph({ inputs: [{ name: 'x', dims: [1, 4, 8, 8] }], outputs: ['v3', 'v4', 'v5', 'v8', 'v9'].map((name) => ({ name, dims: [] })),
    initializers: new Map([...chain, 'g', 'c', 's', 'q'].map((n) => w(`${n}/w`, 4))), nodes });
  const out = assignF32Nhwc(g);
  const byName = new Map(out.nodes.map((n) => [n.name, n]));
  const nhwc = out.nodes.filter((n) => n.op === 'Conv' && n.attrs.nhwc).map((n) => n.name);
  t.deepEqual(nhwc, chain);
  const reorders = out.nodes.filter((n) => n.op === 'Reorder').map((n) => `${n.inputs[0]}->${n.op === 'Reorder' ? n.attrs.to : ''}`);
  t.deepEqual(reorders, ['p->nhwc', 'v2->nchw', 'v1->nchw']);
  t.is(byName.get('a')!.inputs[0], 'p#nhwc');
  const b = byName.get('b')!;
  t.deepEqual([b.inputs[0], b.inputs[3], b.op === 'Conv' ? b.attrs.residual : ''], ['v1', 'p#nhwc', 'p#nhwc']);
  t.is(byName.get('k1')!.inputs[0], 'u0');
  for (const n of ['g', 'c', 'r']) t.is(byName.get(n)!.inputs[0], 'v2#nchw', n);
  for (const n of ['s', 'q']) t.is(byName.get(n)!.inputs[0], 'v1#nchw', n);
  t.deepEqual(g.nodes.map((n) => n.inputs[0]), ['x', 'p', 'v1', 'u0', 'u1', 'u2', 'u3', 'u4', 'v2', 'v2', 'v2', 'v1', 'v1', 'v6', 'v7'], 'the input graph is unchanged');
  // The chain cut to a and b (2 convs, 3 reorders): too short to pay for its reorders.
  const short = new Graph({ ...g, nodes: g.nodes.filter((n) => !n.name.startsWith('k')).map((n) => (n.name === 'b' ? { ...n, outputs: ['v2'] } : n)) });
  t.is(assignF32Nhwc(short), short);
  t.throws(() => withLayoutSync('nchwc', () => f32NhwcWanted('load', true, 'exact')), { instanceOf: RangeError, message: /load: RESNODE_LAYOUT must be 'nchw' or 'nhwc'/ });
  t.false(withLayoutSync('nchw', () => f32NhwcWanted('load', true, 'exact')));
  t.true(withLayoutSync(undefined, () => f32NhwcWanted('load', true, 'exact')));
  t.false(withLayoutSync(undefined, () => f32NhwcWanted('load', true, 'fast')));
  t.false(withLayoutSync(undefined, () => f32NhwcWanted('load', false, 'exact')));
});

test('assignF32Nhwc looks through float32 pools: a conv before a pool joins the chain after it, the pool runs NHWC, GAP reads NHWC; int8 pools and pool outputs stay NCHW', (t) => {
  const w = (name: string, c: number): [string, Initializer] => [name, { dims: [c, c, 1, 1], data: new Float32Array(c * c) }];
  const conv = (name: string, x: string, y: string): Node =>
    ({ name, op: 'Conv', inputs: [x, `${name}/w`, ''], outputs: [y], attrs: { kernelShape: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], groups: 1 } }) as unknown as Node;
  const POOL = { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], ceilMode: false };
  const pool = (name: string, op: string, x: string, y: string, extra: Record<string, unknown> = {}): Node => ({ name, op, inputs: [x], outputs: [y], attrs: { ...POOL, ...extra } }) as unknown as Node;
  const chain = ['stem', 'a', 'b', 'c', 'd', 'e', 'f']; // 7 convs for 3 reorders
  const nodes: Node[] = [
    conv('stem', 'x', 's'),
    pool('mp', 'MaxPool', 's', 'p'), // between the stem and a: NHWC, and the stem joins a's chain
    conv('a', 'p', 'v1'),
    pool('ap', 'AveragePool', 'v1', 'q', { countIncludePad: true }), // an average pool between convs: NHWC too
    conv('b', 'q', 'v2'), conv('c', 'v2', 'v3'), conv('d', 'v3', 'v4'), conv('e', 'v4', 'v5'), conv('f', 'v5', 'v6'),
    { name: 'gap', op: 'GlobalAveragePool', inputs: ['v6'], outputs: ['g'], attrs: {} } as unknown as Node, // reads v6 in place
    pool('out', 'MaxPool', 'v6', 'o'), // a graph output: NCHW, v6 reordered for it
    pool('i8', 'MaxPool', 'v3', 'z', { int8: { scale: 1, zeroPoint: 0, qmin: 0, qmax: 255 } }), // int8: NCHW
  ];
  const g = new Graph({ inputs: [{ name: 'x', dims: [1, 16, 16, 16] }], outputs: ['g', 'o', 'z'].map((name) => ({ name, dims: [] })),
    initializers: new Map(chain.map((n) => w(`${n}/w`, 16))), nodes });
  const out = assignF32Nhwc(g);
  const byName = new Map(out.nodes.map((n) => [n.name, n]));
  const nhwcOf = (name: string) => { const n = byName.get(name)!; return n.op !== 'Reorder' && 'nhwc' in n.attrs && n.attrs.nhwc === true; };
  t.deepEqual(out.nodes.filter((n) => n.op === 'Conv' && n.attrs.nhwc).map((n) => n.name), chain);
  for (const n of ['mp', 'ap', 'gap']) t.true(nhwcOf(n), n);
  for (const n of ['out', 'i8']) t.false(nhwcOf(n), n);
  t.deepEqual(out.nodes.filter((n) => n.op === 'Reorder').map((n) => `${n.inputs[0]}->${n.op === 'Reorder' ? n.attrs.to : ''}`), ['x->nhwc', 'v6->nchw', 'v3->nchw']);
  t.deepEqual(['stem', 'mp', 'a', 'ap', 'b', 'gap', 'out', 'i8'].map((n) => byName.get(n)!.inputs[0]), ['x#nhwc', 's', 'p', 'v1', 'q', 'v6', 'v6#nchw', 'v3#nchw']);
  const formats = planFormats(out, out.nodes, false);
  t.deepEqual(['s', 'p', 'v1', 'q', 'g', 'o'].map((v) => formats.get(v)?.layout ?? 'nchw'), ['nhwc', 'nhwc', 'nhwc', 'nhwc', 'nchw', 'nchw']);
  // A stem on a 3-channel graph input joins no chain as an igemm conv: it reads NCHW and writes NHWC, so
  // nothing reorders before the chain (the int8 pool left out).
  const rgb = new Graph({ ...g, nodes: nodes.filter((n) => n.name !== 'i8'), outputs: g.outputs.filter((o) => o.name !== 'z'), inputs: [{ name: 'x', dims: [1, 3, 16, 16] }], initializers: new Map([...g.initializers, ['stem/w', { dims: [16, 3, 1, 1], data: new Float32Array(48) }]]) });
  const out3 = assignF32Nhwc(rgb);
  const byName3 = new Map(out3.nodes.map((n) => [n.name, n]));
  t.deepEqual(out3.nodes.filter((n) => n.op === 'Conv' && n.attrs.nhwc).map((n) => n.name), chain.slice(1));
  const stem = byName3.get('stem')!, mp = byName3.get('mp')!;
  t.true(stem.op === 'Conv' && stem.attrs.nhwcOut === true && !stem.attrs.nhwc && stem.inputs[0] === 'x', 'the stem reads x as it is');
  t.true(mp.op === 'MaxPool' && mp.attrs.nhwc === true && mp.inputs[0] === 's');
  t.is(byName3.get('a')!.inputs[0], 'p');
  t.deepEqual(out3.nodes.filter((n) => n.op === 'Reorder').map((n) => n.inputs[0]), ['v6'], 'only the graph-output pool reorders');
  t.is(planFormats(out3, out3.nodes, false).get('s')?.layout, 'nhwc');
});

/** f() with RESNODE_LAYOUT set (load() reads it before its first await for a Graph source). */
function withLayoutSync<T>(layout: string | undefined, f: () => T): T {
  const before = process.env.RESNODE_LAYOUT;
  if (layout === undefined) delete process.env.RESNODE_LAYOUT;
  else process.env.RESNODE_LAYOUT = layout;
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env.RESNODE_LAYOUT;
    else process.env.RESNODE_LAYOUT = before;
  }
}
