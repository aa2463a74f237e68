// mode 'bf16' (issue 20) through WorkerPool and serve(), in the main thread and in workers:
// the same bits as load({ mode: 'bf16' }) in this thread, and not exact's (bf16 rounds).
// Where AVX512_BF16 is missing both refuse, naming the CPU feature, instead of running fp32.
import test from 'ava';
import { info } from '../src/info.js';
import { load } from '../src/model.js';
import { parseNpy, toNpy } from '../src/npy.js';
import { seededTensor } from '../src/validate.js';
import { WorkerPool } from '../src/workers/pool.js';
import { modelBytes, post, withServer } from './helpers/serve.js';

const x = seededTensor([2, 3, 64, 64], 32);
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

if (!info().bf16) {
  test.serial('WorkerPool and serve() refuse mode bf16 where AVX512_BF16 is missing', async (t) => {
    await t.throwsAsync(WorkerPool.create(modelBytes, { size: 1, threads: 1, mode: 'bf16' }), { message: /AVX512_BF16/ });
    await t.throwsAsync(withServer({ mode: 'bf16' }, async () => {}), { message: /AVX512_BF16/ });
  });
} else {
  const reference = (async () => {
    const [exact, bf16] = await Promise.all([load(modelBytes, { threads: 1 }), load(modelBytes, { threads: 1, mode: 'bf16' })]);
    return { exact: (await exact.run({ input: x })).output!.data, bf16: (await bf16.run({ input: x })).output!.data };
  })();

  test.serial("WorkerPool.create({ mode: 'bf16' }) runs the bf16 kernels in its workers", async (t) => {
    const { exact, bf16 } = await reference;
    t.false(same(exact, bf16), 'bf16 rounds, so its logits differ from exact');
    const pool = await WorkerPool.create(modelBytes, { size: 1, threads: 1, mode: 'bf16' });
    try {
      t.is(pool.mode, 'bf16');
      t.true(same((await pool.run({ input: x })).output!.data, bf16), "bit for bit load({ mode: 'bf16' })'s");
    } finally {
      await pool.close();
    }
  });

  test.serial("serve({ mode: 'bf16' }) runs the bf16 kernels, in the main thread and in workers", async (t) => {
    const { bf16 } = await reference;
    for (const workers of [0, 1]) {
      await withServer({ mode: 'bf16', workers }, async (s) => {
        const r = await post(s, '/v1/infer', toNpy(x));
        t.is(r.status, 200);
        t.true(same(parseNpy(new Uint8Array(await r.arrayBuffer())).data, bf16), `workers: ${workers}`);
      });
    }
  });
}
