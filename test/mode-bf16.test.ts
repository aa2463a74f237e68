// mode 'bf16' from load(): a whole ResNet runs through the bf16 kernels (the
// profile names them; the stem stays float32), stays near the exact mode, and is refused, naming the
// missing CPU feature, where AVX512_BF16 is absent or capped off (RESNODE_ISA,
// forced in a child process) or on a backend without bf16 kernels.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { info, load, resnet, Tensor } from '../src/index.js';
import { MODES } from '../src/modes.js';
import { rng, randomF32 } from './helpers/rng.js';
import { relativeToMax } from './helpers/ort.js';

const bf16Test = info().bf16 ? test : test.skip;

bf16Test("load(mode 'bf16'): ResNet-18 runs its convolutions on the bf16 kernels, within the bound of exact", async (t) => {
  const graph = resnet({ depth: 18, seed: 3, inputSize: 64, numClasses: 10 });
  const x = new Tensor('float32', randomF32(rng(5), 2 * 3 * 64 * 64), [2, 3, 64, 64]);
  const exact = await load(graph, { threads: 2 });
  const bf16 = await load(graph, { threads: 2, mode: 'bf16' });
  t.teardown(async () => {
    await exact.dispose();
    await bf16.dispose();
  });
  const name = exact.inputs[0]!.name;
  const ye = (await exact.run({ [name]: x }))[exact.outputs[0]!.name]!.data;
  const yb = (await bf16.run({ [name]: x }))[bf16.outputs[0]!.name]!.data;
  const rel = relativeToMax(yb, ye);
  t.log(`bf16 vs exact, max|err|/max|y|: ${rel.toExponential(2)}`);
  t.true(rel > 0, 'bf16 must differ from exact (the inputs are rounded)');
  t.true(rel < MODES.bf16.relToMax, `${rel} within ${MODES.bf16.relToMax}`);
  // Every conv but the stem (3 input channels, kept float32: src/modes.ts) runs a bf16 kernel.
  const convs = bf16.profile({ [name]: x }).filter((l) => l.op === 'Conv');
  const f32 = convs.filter((l) => !l.kernel?.startsWith('bf16_gemm_'));
  t.true(convs.length > 10);
  t.is(f32.length, 1, `float32 convs: ${f32.map((l) => `${l.name} (${l.kernel})`).join(', ')}`);
  t.regex(f32[0]!.kernel ?? '', /^f32_/);
});

test("load(mode 'bf16') on the js and cuda backends throws instead of running float32", async (t) => {
  const graph = resnet({ depth: 18, seed: 3, inputSize: 32, numClasses: 10 });
  await t.throwsAsync(load(graph, { backend: 'js', mode: 'bf16' }), { instanceOf: RangeError, message: /load: mode 'bf16' is not available on backend 'js' \(it is on 'native'\)/ });
  await t.throwsAsync(load(graph, { backend: 'cuda', mode: 'bf16' }), { instanceOf: RangeError, message: /load: mode 'bf16' is not available on backend 'cuda' \(it is on 'native'\)/ });
});

// A child process whose RESNODE_ISA caps the ISA: info().bf16, load() and ops.packConv2d.
function underIsa(cap: string): { bf16: boolean; missing: string | null; load: string; pack: string } {
  const script = `
    import { info, load, ops, resnet, Tensor } from './src/index.js';
    import { bf16Missing } from './src/mode-support.js';
    const g = resnet({ depth: 18, seed: 1, inputSize: 32, numClasses: 10 });
    let loadErr = 'loaded', packErr = 'packed';
    try { await load(g, { mode: 'bf16' }); } catch (e) { loadErr = String(e); }
    try { ops.packConv2d(Tensor.zeros([4, 4, 1, 1]), { mode: 'bf16' }); } catch (e) { packErr = String(e); }
    console.log(JSON.stringify({ bf16: info().bf16, missing: bf16Missing(), load: loadErr, pack: packErr }));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, RESNODE_ISA: cap },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

for (const cap of ['avx512', 'avx2', 'scalar']) {
  test(`RESNODE_ISA=${cap}: info().bf16 is false and mode 'bf16' throws, naming AVX512_BF16`, (t) => {
    const r = underIsa(cap);
    t.false(r.bf16);
    t.regex(r.missing ?? '', /AVX512_BF16/);
    t.regex(r.load, /^Error: load: mode 'bf16' is not available: .*AVX512_BF16/);
    t.regex(r.pack, /^Error: packConv2d: mode 'bf16' is not available: .*AVX512_BF16/);
  });
}

bf16Test("RESNODE_ISA=avx512bf16 leaves mode 'bf16' on", (t) => {
  const r = underIsa('avx512bf16');
  t.true(r.bf16);
  t.is(r.load, 'loaded');
  t.is(r.pack, 'packed');
});
