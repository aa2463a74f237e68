// validate(): ours against ONNX Runtime, and naming the first layer that diverges.
import test from 'ava';
import { resnet, validate } from '../src/index.js';
import { jsBackend } from '../src/backend/js.js';

const small = () => resnet({ depth: 18, seed: 3, inputSize: 64, numClasses: 10 });

test.serial('a correct model validates, output by output and layer by layer', async (t) => {
  const report = await validate(small(), { backend: 'native', layers: true, batch: 2 });
  t.true(report.ok);
  t.is(report.outputs.length, 1);
  t.true(report.outputs[0]!.relError < 1e-5);
  t.true(report.layers!.length >= 10, `compared ${report.layers!.length} layers`);
  t.is(report.firstDivergence, undefined);
});

test.serial('a layer that computes the wrong thing is named as the first divergence', async (t) => {
  // Fault injection: corrupt the first 3×3 conv with 128 output channels (layer2.0's first conv).
  const original = jsBackend.conv2d;
  let corrupted = false;
  jsBackend.conv2d = async (packed, x, residual, y, p) => {
    await original(packed, x, residual, y, p);
    if (!corrupted && p.cOut === 128 && p.kh === 3) {
      corrupted = true;
      y[0] = y[0]! + 10;
    }
  };
  try {
    const report = await validate(small(), { backend: 'js', layers: true });
    t.true(corrupted);
    t.false(report.ok);
    const d = report.firstDivergence!;
    t.is(d.op, 'Conv');
    t.is(d.dims[1], 128);
    const index = report.layers!.indexOf(d);
    t.true(index > 0);
    t.true(report.layers!.slice(0, index).every((c) => c.ok), 'every layer before it agrees');
    t.false(report.outputs[0]!.ok, 'and the error reaches the logits');
  } finally {
    jsBackend.conv2d = original;
  }
});

test('tolerance options are validated', async (t) => {
  await t.throwsAsync(validate(small(), { rtol: -1 }), { instanceOf: TypeError, message: /options\.rtol/ });
  await t.throwsAsync(validate(42 as unknown as Uint8Array), { instanceOf: TypeError, message: /for model/ });
});
