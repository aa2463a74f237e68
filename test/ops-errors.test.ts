// Bad input gets a TypeError or RangeError naming the argument, never a crash.
import test from 'ava';
import { ops, Tensor } from '../src/index.js';
import { MAX_OUTPUT_ELEMENTS } from '../src/ops.js';

const t4 = (dims: number[]) => Tensor.zeros(dims);

for (const backend of ['native', 'js'] as const) {
  test(`${backend}: conv2d names mismatched channels`, async (t) => {
    const err = await t.throwsAsync(ops.conv2d(t4([1, 32, 8, 8]), t4([16, 64, 3, 3]), { backend }), { instanceOf: RangeError });
    t.is(err?.message, 'conv2d: weight has 64 input channels (64 per group × 1 groups) but input has 32');
  });

  test(`${backend}: conv2d rejects groups that do not divide the channels`, async (t) => {
    await t.throwsAsync(ops.conv2d(t4([1, 6, 8, 8]), t4([4, 2, 3, 3]), { groups: 3, backend }), {
      instanceOf: RangeError,
      message: /groups \(3\) must divide the weight's 4 output channels/,
    });
    await t.throwsAsync(ops.conv2d(t4([1, 7, 8, 8]), t4([6, 2, 3, 3]), { groups: 3, backend }), {
      instanceOf: RangeError,
      message: /groups \(3\) must divide the input's 7 channels/,
    });
  });

  test(`${backend}: conv2d rejects zero, negative and non-integer sizes`, async (t) => {
    const x = t4([1, 3, 8, 8]);
    const w = t4([4, 3, 3, 3]);
    await t.throwsAsync(ops.conv2d(x, w, { stride: 0, backend }), { instanceOf: RangeError, message: 'conv2d: expected a positive integer for options.stride but received 0' });
    await t.throwsAsync(ops.conv2d(x, w, { stride: [1, -2], backend }), { instanceOf: RangeError, message: /options\.stride\[1\] but received -2/ });
    await t.throwsAsync(ops.conv2d(x, w, { dilation: 1.5, backend }), { instanceOf: RangeError, message: /options\.dilation but received 1\.5/ });
    await t.throwsAsync(ops.conv2d(x, w, { pads: [1, 1, -1, 1], backend }), { instanceOf: RangeError, message: /options\.pads\[2\]/ });
    await t.throwsAsync(ops.conv2d(x, w, { groups: 0, backend }), { instanceOf: RangeError, message: /options\.groups/ });
    await t.throwsAsync(ops.conv2d(x, t4([4, 3, 9, 9]), { backend }), { instanceOf: RangeError, message: /the kernel or padding does not fit the input/ });
    t.throws(() => new Tensor('float32', new Float32Array(6), [2, -3]), { instanceOf: RangeError, message: /dims\[1\]/ });
    t.throws(() => new Tensor('float32', new Float32Array(6), [2, 1.5]), { instanceOf: RangeError, message: /dims\[1\]/ });
    await t.throwsAsync(ops.conv2d(t4([1, 3, 0, 8]), w, { backend }), { instanceOf: RangeError, message: /every dimension must be at least 1/ });
  });

  test(`${backend}: conv2d refuses an absurdly large output before allocating it`, async (t) => {
    const x = t4([1, 1, 2, 2]);
    const w = t4([1, 1, 1, 1]);
    const pad = 40000;
    const err = await t.throwsAsync(ops.conv2d(x, w, { pads: pad, backend }), { instanceOf: RangeError });
    t.regex(err!.message, new RegExp(`more than the limit of ${MAX_OUTPUT_ELEMENTS}`));
  });

  test(`${backend}: residual and bias of the wrong shape are named`, async (t) => {
    const x = t4([1, 3, 8, 8]);
    const w = t4([4, 3, 3, 3]);
    await t.throwsAsync(ops.conv2d(x, w, { residual: t4([1, 4, 8, 8]), backend }), {
      instanceOf: RangeError,
      message: 'conv2d: residual has dims [1, 4, 8, 8] but the output has [1, 4, 6, 6]',
    });
    await t.throwsAsync(ops.conv2d(x, w, { bias: Tensor.zeros([5]), backend }), { instanceOf: RangeError, message: /bias has 5 elements but weight has 4 output channels/ });
  });

  test(`${backend}: gemm, pools and add name their arguments`, async (t) => {
    await t.throwsAsync(ops.gemm(Tensor.zeros([2, 8]), Tensor.zeros([4, 9]), { backend }), { instanceOf: RangeError, message: 'gemm: weight has 9 input features but input has 8' });
    await t.throwsAsync(ops.maxPool(t4([1, 2, 4, 4]), { kernel: 0, backend }), { instanceOf: RangeError, message: /options\.kernel/ });
    await t.throwsAsync(ops.maxPool(t4([1, 2, 4, 4]), { kernel: 2, pads: 2, backend }), { instanceOf: RangeError, message: /options\.pads\[0\]/ });
    await t.throwsAsync(ops.averagePool(t4([1, 2, 4, 4]), { kernel: 5, backend }), { instanceOf: RangeError, message: /does not fit the input/ });
    await t.throwsAsync(ops.add(t4([1, 2, 4, 4]), t4([1, 2, 4, 5]), { backend }), { instanceOf: RangeError, message: /a has dims \[1, 2, 4, 4\] but b has \[1, 2, 4, 5\]/ });
    await t.throwsAsync(ops.globalAveragePool(Tensor.zeros([2, 3]), { backend }), { instanceOf: RangeError, message: /rank-4/ });
  });
}

test('a wrong dtype or a non-typed array is a TypeError naming the argument', async (t) => {
  t.throws(() => new Tensor('float64' as 'float32', new Float32Array(1), [1]), { instanceOf: TypeError, message: "Tensor: expected 'float32' or 'float16' for type but received \"float64\"" });
  t.throws(() => new Tensor('float32', new Float64Array(4) as unknown as Float32Array, [4]), { instanceOf: TypeError, message: 'Tensor: expected a Float32Array for data but received a Float64Array of length 4' });
  t.throws(() => new Tensor('float32', 'abc' as unknown as Float32Array, [3]), { instanceOf: TypeError, message: /for data/ });
  await t.throwsAsync(ops.conv2d({ data: new Float32Array(4), dims: [1, 1, 2, 2] } as unknown as Tensor, Tensor.zeros([1, 1, 1, 1])), {
    instanceOf: TypeError,
    message: 'conv2d: expected a Tensor for input but received an object of type Object',
  });
  await t.throwsAsync(ops.conv2d(Tensor.zeros([1, 1, 2, 2]), Tensor.zeros([1, 1, 1, 1]), { backend: 'tpu' as 'js' }), {
    instanceOf: TypeError,
    message: /expected one of 'native', 'js', 'cuda' for backend but received "tpu"/,
  });
  await t.throwsAsync(ops.conv2d(Tensor.zeros([1, 1, 2, 2]), Tensor.zeros([1, 1, 1, 1]), { relu: 1 as unknown as boolean }), { instanceOf: TypeError, message: /options\.relu/ });
});

test('a buffer shorter than its dims is refused', (t) => {
  t.throws(() => new Tensor('float32', new Float32Array(10), [1, 3, 2, 2]), {
    instanceOf: RangeError,
    message: 'Tensor: data has 10 elements but dims [1, 3, 2, 2] need 12',
  });
});

test('a detached buffer is refused, not read', async (t) => {
  const x = Tensor.zeros([1, 2, 4, 4]);
  structuredClone(x.data.buffer, { transfer: [x.data.buffer as ArrayBuffer] });
  for (const backend of ['native', 'js'] as const) {
    await t.throwsAsync(ops.conv2d(x, Tensor.zeros([2, 2, 1, 1]), { backend }), {
      instanceOf: TypeError,
      message: 'conv2d: input has a detached buffer (was it transferred to a worker?)',
    });
  }
});
