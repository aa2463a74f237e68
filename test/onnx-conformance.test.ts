// ONNX's own backend test data (Debian's libonnx-testdata): every listed case
// that we support must match its stored outputs on both backends, and every case
// listed as unsupported must still be refused with a clear error.
import test from 'ava';
import { join } from 'node:path';
import { load, Tensor } from '../src/index.js';
import { compare } from '../src/validate.js';
import { loadCase, readCaseList, testdataAvailable, TESTDATA_ROOT } from './helpers/onnx-testdata.js';

const RTOL = 1e-3;
const ATOL = 1e-5;
const cases = readCaseList(join(import.meta.dirname, 'conformance', 'cases.txt'));

if (!testdataAvailable()) {
  test.skip(`ONNX conformance: ${TESTDATA_ROOT} is missing; install it with \`apt-get install libonnx-testdata\` (or set ONNX_TESTDATA)`, () => {});
} else {
  for (const c of cases) {
    if (c.expect === 'unsupported') {
      test(`${c.id} is refused with a clear error (${c.reason})`, async (t) => {
        const { bytes } = loadCase(c.id);
        const err = await t.throwsAsync(load(bytes, { backend: 'js' }));
        t.regex(err!.message, /\S/);
        t.log(err!.message.split('\n')[0]);
      });
      continue;
    }
    for (const backend of ['native', 'js'] as const) {
      test(`${c.id} (${backend})`, async (t) => {
        const { bytes, feeds, outputs } = loadCase(c.id);
        const model = await load(bytes, { backend, threads: 2 });
        const res = await model.run(Object.fromEntries(feeds.map((f) => [f.name, new Tensor('float32', f.data, f.dims)])));
        for (const o of outputs) {
          const got = res[o.name]!;
          t.deepEqual([...got.dims], o.dims, `${o.name} dims`);
          let worst = 0;
          for (let i = 0; i < o.data.length; i++) {
            worst = Math.max(worst, Math.abs(got.data[i]! - o.data[i]!) - (ATOL + RTOL * Math.abs(o.data[i]!)));
          }
          const c2 = compare(o.name, got.data, o.data, o.dims, RTOL, ATOL);
          t.true(worst <= 0, `${o.name}: max |err| ${c2.maxAbsError} exceeds ${ATOL} + ${RTOL}·|e| elementwise`);
        }
        await model.dispose();
      });
    }
  }
}
