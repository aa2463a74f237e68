// KServe's Open Inference Protocol (v2) REST routes, with requests and responses shaped
// as in the protocol's own examples (health, metadata, JSON inference, and the binary
// tensor data extension), checked against the model run in this process.
import test from 'ava';
import { load } from '../src/model.js';
import { seededTensor } from '../src/validate.js';
import { modelBytes, post, withServer } from './helpers/serve.js';

const reference = load(modelBytes, { threads: 1 });
const x = seededTensor([2, 3, 64, 64], 21);

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return a.length === b.length ? m : Infinity;
}

const float32Bytes = (a: Float32Array) => {
  const out = new Uint8Array(a.length * 4);
  const v = new DataView(out.buffer);
  a.forEach((f, i) => v.setFloat32(4 * i, f, true));
  return out;
};

test.serial('health, server metadata, model metadata and readiness', async (t) => {
  await withServer({ modelName: 'resnet18' }, async (s) => {
    const live = await fetch(`${s.url}/v2/health/live`);
    t.is(live.status, 200);
    t.deepEqual(await live.json(), { live: true });
    const ready = await fetch(`${s.url}/v2/health/ready`);
    t.is(ready.status, 200);
    t.deepEqual(await ready.json(), { ready: true });

    const server = (await (await fetch(`${s.url}/v2`)).json()) as { name: string; version: string; extensions: string[] };
    t.is(server.name, 'resnode');
    t.regex(server.version, /^\d+\.\d+\.\d+/);
    t.true(server.extensions.includes('binary_tensor_data'));

    const want = {
      name: 'resnet18',
      versions: ['1'],
      platform: 'onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3, 64, 64] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 10] }],
    };
    t.deepEqual(await (await fetch(`${s.url}/v2/models/resnet18`)).json(), want);
    t.deepEqual(await (await fetch(`${s.url}/v2/models/resnet18/versions/1`)).json(), want);
    const mr = await fetch(`${s.url}/v2/models/resnet18/ready`);
    t.is(mr.status, 200);
    t.deepEqual(await mr.json(), { name: 'resnet18', ready: true });

    const unknown = await fetch(`${s.url}/v2/models/mymodel`);
    t.is(unknown.status, 404);
    t.regex(((await unknown.json()) as { error: string }).error, /unknown model "mymodel"; this server serves "resnet18"/);
    t.is((await fetch(`${s.url}/v2/models/resnet18/versions/7`)).status, 404);
    const wrong = await fetch(`${s.url}/v2/models/resnet18/infer`);
    t.is(wrong.status, 405);
    t.is(wrong.headers.get('allow'), 'POST');
    t.is((await fetch(`${s.url}/v2/health/live`, { method: 'POST', body: 'x' })).status, 405);
  });
});

test.serial('JSON inference as in the protocol example: id echoed, outputs by name, flat or nested data', async (t) => {
  const want = (await (await reference).run({ input: x })).output!;
  await withServer({}, async (s) => {
    t.is(s.modelName, 'model');
    // The protocol's example request, with this model's tensor.
    const request = { id: '42', inputs: [{ name: 'input', shape: [2, 3, 64, 64], datatype: 'FP32', data: Array.from(x.data) }], outputs: [{ name: 'output' }] };
    const r = await post(s, '/v2/models/model/infer', JSON.stringify(request), 'application/json');
    t.is(r.status, 200);
    const body = (await r.json()) as { model_name: string; id: string; outputs: { name: string; shape: number[]; datatype: string; data: number[] }[] };
    t.is(body.model_name, 'model');
    t.is(body.id, '42');
    t.is(body.outputs.length, 1);
    t.like(body.outputs[0], { name: 'output', shape: [2, 10], datatype: 'FP32' });
    t.true(maxDiff(body.outputs[0]!.data, want.data) < 1e-4);

    // Nested data (row-major), no "outputs": every output comes back as JSON.
    const nested: number[][][][] = [];
    for (let n = 0; n < 2; n++) {
      nested.push([]);
      for (let c = 0; c < 3; c++) {
        nested[n]!.push([]);
        for (let h = 0; h < 64; h++) nested[n]![c]!.push(Array.from(x.data.subarray(((n * 3 + c) * 64 + h) * 64, ((n * 3 + c) * 64 + h + 1) * 64)));
      }
    }
    const r2 = await post(s, '/v2/models/model/versions/1/infer', JSON.stringify({ inputs: [{ name: 'input', shape: [2, 3, 64, 64], datatype: 'FP32', data: nested }] }), 'application/json');
    t.is(r2.status, 200);
    const b2 = (await r2.json()) as { id?: string; outputs: { data: number[] }[] };
    t.is(b2.id, undefined);
    t.true(maxDiff(b2.outputs[0]!.data, want.data) < 1e-4);
  });
});

test.serial('the binary tensor data extension: binary input, binary output, header length', async (t) => {
  const want = (await (await reference).run({ input: x })).output!;
  await withServer({}, async (s) => {
    // As the extension's example: JSON header, then the input's bytes; the output asked for as binary.
    const header = JSON.stringify({
      model_name: 'model',
      inputs: [{ name: 'input', shape: [2, 3, 64, 64], datatype: 'FP32', parameters: { binary_data_size: x.size * 4 } }],
      outputs: [{ name: 'output', parameters: { binary_data: true } }],
    });
    const head = new TextEncoder().encode(header);
    const body = new Uint8Array(head.length + x.size * 4);
    body.set(head);
    body.set(float32Bytes(x.data), head.length);
    const r = await post(s, '/v2/models/model/infer', body, 'application/octet-stream', { 'inference-header-content-length': String(head.length) });
    t.is(r.status, 200);
    t.is(r.headers.get('content-type'), 'application/octet-stream');
    const n = Number(r.headers.get('inference-header-content-length'));
    const bytes = new Uint8Array(await r.arrayBuffer());
    t.is(Number(r.headers.get('content-length')), bytes.length);
    const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(0, n))) as { outputs: { name: string; shape: number[]; datatype: string; parameters: { binary_data_size: number }; data?: unknown }[] };
    t.like(meta.outputs[0], { name: 'output', shape: [2, 10], datatype: 'FP32', parameters: { binary_data_size: 80 } });
    t.is(meta.outputs[0]!.data, undefined);
    t.is(bytes.length - n, 80);
    const y = new Float32Array(20);
    const v = new DataView(bytes.buffer, bytes.byteOffset + n);
    for (let i = 0; i < 20; i++) y[i] = v.getFloat32(4 * i, true);
    t.true(maxDiff(y, want.data) < 1e-4);

    // binary_data_output for all outputs, with a JSON input.
    const r2 = await post(s, '/v2/models/model/infer', JSON.stringify({ parameters: { binary_data_output: true }, inputs: [{ name: 'input', shape: [2, 3, 64, 64], datatype: 'FP32', data: Array.from(x.data) }] }), 'application/json');
    t.is(r2.status, 200);
    t.is(r2.headers.get('content-type'), 'application/octet-stream');
    t.is((await r2.arrayBuffer()).byteLength - Number(r2.headers.get('inference-header-content-length')), 80);
  });
});

test.serial('v2 errors are { error } with 400, 404 or 413, and name what is wrong', async (t) => {
  await withServer({ maxBatch: 4 }, async (s) => {
    const infer = (body: unknown, headers: Record<string, string> = {}) =>
      post(s, '/v2/models/model/infer', typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body), 'application/json', headers);
    const input = (over: Record<string, unknown>) => ({ inputs: [{ name: 'input', shape: [1, 3, 1, 1], datatype: 'FP32', data: [1, 2, 3], ...over }] });
    const cases: [unknown, number, RegExp, Record<string, string>?][] = [
      [input({ datatype: 'UINT32' }), 400, /datatype is "UINT32"/],
      [input({ name: 'input0' }), 400, /inputs\[0\]\.name is "input0"; the model's input is "input"/],
      [input({}), 400, /expects dims \[N, 3, 64, 64\] but received \[1, 3, 1, 1\]/],
      [input({ shape: [5, 3, 64, 64], data: undefined, parameters: { binary_data_size: 5 * 3 * 64 * 64 * 4 } }), 400, /needs 245760 bytes of binary data but only 0 follow/],
      [{ inputs: [] }, 400, /expected "inputs" to be an array of 1 tensor/],
      [{ ...input({ shape: [1, 3, 1, 1] }), outputs: [{ name: 'logits' }] }, 400, /outputs\[0\]\.name is "logits"/],
      [input({ data: undefined }), 400, /neither "data" nor parameters.binary_data_size/],
      ['[1, 2', 400, /not valid JSON/],
      [input({ shape: [1, 3, 64, 64], data: undefined, parameters: { binary_data_size: 7 } }), 400, /binary_data_size is 7; shape \[1, 3, 64, 64\] of FP32 needs 49152/],
      [input({}), 400, /Inference-Header-Content-Length is "99999"/, { 'inference-header-content-length': '99999' }],
    ];
    for (const [body, status, message, headers] of cases) {
      const r = await infer(body, headers);
      t.is(r.status, status, String(message));
      t.regex(((await r.json()) as { error: string }).error, message);
    }
    // Rows past --max-batch: 413 with the limit.
    const rows = 5;
    const data = new Float32Array(rows * 3 * 64 * 64);
    const head = new TextEncoder().encode(JSON.stringify({ inputs: [{ name: 'input', shape: [rows, 3, 64, 64], datatype: 'FP32', parameters: { binary_data_size: data.length * 4 } }] }));
    const body = new Uint8Array(head.length + data.length * 4 + 3); // 3 bytes too many: refused after the rows check
    body.set(head);
    const big = await infer(body.subarray(0, head.length + data.length * 4), { 'inference-header-content-length': String(head.length) });
    t.is(big.status, 413);
    t.regex(((await big.json()) as { error: string }).error, /5 rows; the limit is 4/);
    const extra = await infer(body, { 'inference-header-content-length': String(head.length) });
    t.is(extra.status, 400);
    t.regex(((await extra.json()) as { error: string }).error, /3 bytes of binary data follow the inputs unclaimed/);
  });
});
