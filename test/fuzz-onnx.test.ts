// Hostile ONNX input: every case loads and runs, or throws a resnode error
// (ModelError, or a TypeError/RangeError of ours) — never a crash, a hang, a
// V8-internal error or an unbounded allocation. 500 fast-check cases here;
// `npm run fuzz` runs 10,000+ of the same generator (scripts/fuzz.ts).
import test from 'ava';
import fc from 'fast-check';
import { caseArb, caseBytes, corpus, describeCase, runCase } from '../scripts/fuzz.js';
import { encodeRawModel, floatTensor } from '../src/onnx/builder.js';
import { ModelProto } from '../src/onnx/proto.js';
import { nativeAvailable } from '../src/native.js';

const backend = nativeAvailable() ? 'native' : 'js';
const CASE_BOUND_MS = 5_000; // any one case; the slowest seen is ~200 ms

const RUNS = Number(process.env.FUZZ_RUNS ?? 500); // e.g. FUZZ_RUNS=5000 bash scripts/test-asan.sh test/fuzz-onnx.test.ts

test(`${RUNS} fuzzed models (generated, byte-mutated, structure-mutated) load+run or are rejected cleanly (${backend})`, async (t) => {
  const seed = Number(process.env.FUZZ_SEED ?? 20261129);
  const counts = { ran: 0, rejected: 0, slowest: 0 };
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      let bytes: Uint8Array;
      try { bytes = caseBytes(c); } catch { return; } // the mutation made an unencodable message
      const r = await runCase(bytes, { backend });
      counts[r.outcome]++;
      counts.slowest = Math.max(counts.slowest, r.ms);
      if (r.ms > CASE_BOUND_MS) throw new Error(`case took ${r.ms.toFixed(0)} ms (> ${CASE_BOUND_MS}): ${describeCase(c)}`);
    }),
    { numRuns: RUNS, seed, endOnFailure: false },
  );
  t.log(`seed ${seed}: ${counts.ran} ran, ${counts.rejected} rejected cleanly, slowest ${counts.slowest.toFixed(0)} ms`);
  t.true(counts.ran > RUNS / 25, 'the generator should produce models that load and run, not only garbage');
});

// ---------------------------------------------------------------------------
// The named mutations, each pinned to the error it must produce.

const conv = (attrs: Record<string, number | number[] | string>, dims: (number | string)[] = [1, 2, 8, 8], w = floatTensor('w', [2, 2, 3, 3], new Array(36).fill(0.1))) =>
  encodeRawModel({ inputs: [{ name: 'x', dims }], outputs: [{ name: 'y' }], nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs }], initializers: [w] });

async function rejects(t: import('ava').ExecutionContext, bytes: Uint8Array, pattern: RegExp): Promise<void> {
  const r = await runCase(bytes, { backend });
  t.is(r.outcome, 'rejected', 'should be rejected');
  t.regex(r.error ?? '', pattern);
}

const attrCases: [string, Record<string, number | number[] | string>, RegExp][] = [
  ['zero strides', { strides: [0, 0] }, /strides must be 2 integers in \[1, /],
  ['negative strides', { strides: [-1, 1] }, /strides must be/],
  ['huge strides', { strides: [2 ** 40, 1] }, /strides must be/],
  ['negative pads', { pads: [-1, 0, 0, 0] }, /pads must be 4 integers in \[0, /],
  ['huge pads', { pads: [2 ** 31, 0, 0, 0] }, /pads must be/],
  ['pads of the wrong length', { pads: [1, 1] }, /pads must be 4 integers/],
  ['zero dilations', { dilations: [0, 0] }, /dilations must be/],
  ['zero group', { group: 0 }, /group must be a positive integer/],
  ['negative group', { group: -2 }, /group must be a positive integer/],
  ['huge kernel_shape', { kernel_shape: [2 ** 30, 2 ** 30] }, /kernel_shape .* does not match weight/],
  ['unknown auto_pad', { auto_pad: 'SIDEWAYS' }, /unknown auto_pad "SIDEWAYS"/],
];
for (const [name, attrs, pattern] of attrCases) {
  test(`Conv with ${name} is rejected at load`, (t) => rejects(t, conv(attrs), pattern));
}

test('pools with zero kernel, zero stride or a window wholly in the padding are rejected at load', async (t) => {
  const pool = (attrs: Record<string, number[]>) => encodeRawModel({ inputs: [{ name: 'x', dims: [1, 2, 8, 8] }], outputs: [{ name: 'y' }], nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs }] });
  await rejects(t, pool({ kernel_shape: [0, 0] }), /kernel_shape must be/);
  await rejects(t, pool({ kernel_shape: [2, 2], strides: [0, 1] }), /strides must be/);
  await rejects(t, pool({ kernel_shape: [2, 2], pads: [5, 5, 5, 5] }), /smaller than the window extent 2/);
  await rejects(t, pool({ kernel_shape: [1e9, 1e9] }), /output would be empty/);
});

test('inputs declared with absurd shapes are rejected with the figures, before allocation', async (t) => {
  const relu = (dims: (number | string)[]) => encodeRawModel({ inputs: [{ name: 'x', dims }], outputs: [{ name: 'y' }], nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }] });
  await rejects(t, relu([1, 2 ** 20, 2 ** 20, 2 ** 20]), /MemoryLimitError: load: the model needs about 4\.0 EiB .*activations 4\.0 EiB.*maxMemoryBytes = 64\.0 MiB/);
  await rejects(t, relu([1, 3, Number.MAX_SAFE_INTEGER, 8]), /MemoryLimitError/);
  await rejects(t, relu([1, -5, 8, 8]), /input "x" has dim -5 at index 1; a stated dim must be a positive size/);
});

test('cyclic graphs are rejected, including Identity/Sum alias loops (which used to hang the importer)', async (t) => {
  const two = encodeRawModel({
    inputs: [{ name: 'x', dims: [1, 2, 4, 4] }], outputs: [{ name: 'b' }],
    nodes: [{ op: 'Add', inputs: ['x', 'b'], outputs: ['a'] }, { op: 'Relu', inputs: ['a'], outputs: ['b'] }],
  });
  await rejects(t, two, /cycle/);
  const self = encodeRawModel({ inputs: [{ name: 'x', dims: [1, 2, 4, 4] }], outputs: [{ name: 'y' }], nodes: [{ op: 'Identity', inputs: ['v'], outputs: ['v'] }, { op: 'Relu', inputs: ['v'], outputs: ['y'] }] });
  await rejects(t, self, /defined through itself/);
  const pair = encodeRawModel({ inputs: [{ name: 'x', dims: [1, 2, 4, 4] }], outputs: [{ name: 'y' }], nodes: [{ op: 'Identity', inputs: ['q'], outputs: ['p'] }, { op: 'Sum', inputs: ['p'], outputs: ['q'] }, { op: 'Relu', inputs: ['q'], outputs: ['y'] }] });
  await rejects(t, pair, /defined through itself|cycle|no node/);
});

test('missing initializers and initializers whose byte size disagrees with their dims are rejected', async (t) => {
  const noW = encodeRawModel({ inputs: [{ name: 'x', dims: [1, 2, 8, 8] }], outputs: [{ name: 'y' }], nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'] }] });
  await rejects(t, noW, /weight \(input 1 "w"\) must be a constant float initializer/);
  const short = floatTensor('w', [2, 2, 3, 3], new Array(36).fill(0.1));
  short.rawData = short.rawData!.subarray(0, 100);
  await rejects(t, conv({}, undefined, short), /raw_data has 100 bytes but dims \[2, 2, 3, 3\] need 144/);
  await rejects(t, conv({}, undefined, { ...floatTensor('w', [2, 2, 3, 3], new Array(36).fill(0.1)), dims: [2 ** 40, 2, 3, 3] }), /need/);
  await rejects(t, conv({}, undefined, { ...floatTensor('w', [2, 2, 3, 3], new Array(36).fill(0.1)), dims: [-2, 2, 3, 3] }), /need/);
  await rejects(t, conv({}, undefined, floatTensor('w', [2, 2, 3, 3], new Array(35).fill(0.1), 'float_data')), /has 35 values but dims \[2, 2, 3, 3\] need 36/);
});

test('every truncation of a small real model is rejected cleanly (or loads, if the cut is harmless)', async (t) => {
  const bytes = corpus().find((c) => c.name === 'resnet18-w8')!.bytes;
  // Every byte of the first 2 KiB (the graph structure) and 200 cuts spread over the rest.
  const cuts = [...Array(2048).keys(), ...Array.from({ length: 200 }, (_, i) => Math.floor((bytes.length * i) / 200))];
  let rejected = 0;
  for (const n of cuts) if ((await runCase(bytes.subarray(0, n), { backend })).outcome === 'rejected') rejected++;
  t.log(`${cuts.length} truncations of ${bytes.length} bytes: ${rejected} rejected`);
  t.true(rejected >= cuts.length - 2);
});

test('a model with its structure intact still decodes after re-encoding (the struct mutator is sound)', (t) => {
  const { bytes } = corpus()[0]!;
  t.notThrows(() => ModelProto.decode(ModelProto.encode(ModelProto.decode(bytes)).finish()));
});

test('the QOperator seed runs, and every node removal, dropped initializer or changed data type of it is rejected cleanly (or runs)', async (t) => {
  const bytes = corpus().find((c) => c.name === 'qoperator')!.bytes;
  t.is((await runCase(bytes, { backend })).outcome, 'ran');
  /* eslint-disable @typescript-eslint/no-explicit-any */
  const edit = (f: (g: any) => void): Uint8Array => { const m: any = ModelProto.decode(bytes); f(m.graph); return ModelProto.encode(m).finish(); };
  const g0: any = ModelProto.decode(bytes);
  const cases: Uint8Array[] = [];
  for (let i = 0; i < g0.graph.node.length; i++) cases.push(edit((g) => { g.node.splice(i, 1); }));
  for (let i = 0; i < g0.graph.initializer.length; i++) {
    cases.push(edit((g) => { g.initializer.splice(i, 1); }));
    for (const dataType of [1, 2, 3, 6, 7]) cases.push(edit((g) => { g.initializer[i].dataType = dataType; }));
  }
  /* eslint-enable @typescript-eslint/no-explicit-any */
  const counts = { ran: 0, rejected: 0 };
  for (const c of cases) counts[(await runCase(c, { backend })).outcome]++;
  t.log(`${cases.length} edits: ${counts.ran} ran, ${counts.rejected} rejected cleanly`);
  t.true(counts.rejected > cases.length / 2, 'most edits break the model and must be reported');
});
