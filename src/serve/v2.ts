// KServe's Open Inference Protocol (v2), REST, beside the /v1 routes, so that clients and
// platforms written for KServe and Triton can call the server:
//
//   GET  /v2                                   server metadata
//   GET  /v2/health/live, /v2/health/ready     200, or 503 when not ready (draining, no live worker)
//   GET  /v2/models/{name}[/versions/1]        model metadata (inputs, outputs, FP32, -1 for the batch)
//   GET  /v2/models/{name}[/versions/1]/ready
//   POST /v2/models/{name}[/versions/1]/infer  JSON tensors, or the binary tensor data extension:
//        the JSON header is the first Inference-Header-Content-Length bytes, each input with
//        parameters.binary_data_size takes that many bytes of what follows, in order;
//        outputs come back binary when asked (outputs[i].parameters.binary_data, or
//        parameters.binary_data_output for all).
// Errors are { "error": "..." } with a 4xx/5xx status, as the protocol says.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Results, ValueMetadata } from '../model.js';
import { Tensor } from '../tensor.js';
import { HttpError, sendJson } from './http.js';
import { flattenNumbers, parseJsonBody, readShape, shallow } from './tensor-json.js';

export interface V2Context {
  modelName: string;
  serverVersion: string;
  inputs: readonly ValueMetadata[];
  outputs: readonly ValueMetadata[];
  /** True while the server takes inference requests. */
  ready(): boolean;
  /** Reads the body within the server's limits. */
  readBody(): Promise<Buffer>;
  /** Checks the tensor (shape, rows) and runs it through the batcher. */
  infer(x: Tensor): Promise<Results>;
}

const VERSION = '1';
const BINARY_TYPE = 'application/octet-stream';
/** Datatypes read into float32: binary width in bytes. */
const WIDTH: Record<string, number> = { FP32: 4, FP64: 8 };

const wrongMethod = (path: string, want: string, got: string | undefined) =>
  new HttpError(405, `${path} takes ${want}, not ${got}`, { allow: want });

function method(req: IncomingMessage, path: string, want: 'GET' | 'POST'): void {
  const m = req.method;
  if (m === want || (want === 'GET' && m === 'HEAD')) return;
  throw wrongMethod(path, want, m);
}

function tensorMeta(v: ValueMetadata) {
  return { name: v.name, datatype: 'FP32', shape: [...v.dims] };
}

/** Handles a /v2 path; throws HttpError for what it refuses. */
export async function handleV2(ctx: V2Context, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const parts = path.split('/').slice(2); // after "", "v2"
  if (parts.length === 0 || (parts.length === 1 && parts[0] === '')) {
    method(req, path, 'GET');
    return sendJson(res, 200, { name: 'resnode', version: ctx.serverVersion, extensions: ['binary_tensor_data'] });
  }
  if (parts[0] === 'health' && parts.length === 2 && (parts[1] === 'live' || parts[1] === 'ready')) {
    method(req, path, 'GET');
    if (parts[1] === 'live') return sendJson(res, 200, { live: true });
    const ready = ctx.ready();
    return sendJson(res, ready ? 200 : 503, { ready });
  }
  if (parts[0] !== 'models' || parts.length < 2) throw new HttpError(404, `no route for ${req.method} ${path}; the v2 routes are /v2, /v2/health/{live,ready} and /v2/models/${ctx.modelName}[/ready|/infer]`);
  let name: string;
  try {
    name = decodeURIComponent(parts[1]!);
  } catch {
    throw new HttpError(400, `the model name ${JSON.stringify(parts[1]!.slice(0, 80))} is not valid percent-encoding`);
  }
  let rest = parts.slice(2);
  if (rest[0] === 'versions') {
    if (rest[1] !== VERSION) throw new HttpError(404, `model "${name}" has no version ${JSON.stringify(rest[1] ?? '')}; its only version is "${VERSION}"`);
    rest = rest.slice(2);
  }
  if (name !== ctx.modelName) throw new HttpError(404, `unknown model "${name}"; this server serves "${ctx.modelName}"`);
  if (rest.length === 0) {
    method(req, path, 'GET');
    return sendJson(res, 200, { name: ctx.modelName, versions: [VERSION], platform: 'onnx', inputs: ctx.inputs.map(tensorMeta), outputs: ctx.outputs.map(tensorMeta) });
  }
  if (rest.length === 1 && rest[0] === 'ready') {
    method(req, path, 'GET');
    const ready = ctx.ready();
    return sendJson(res, ready ? 200 : 503, { name: ctx.modelName, ready });
  }
  if (rest.length === 1 && rest[0] === 'infer') {
    method(req, path, 'POST');
    return infer(ctx, req, res);
  }
  throw new HttpError(404, `no route for ${req.method} ${path}; the v2 routes are /v2, /v2/health/{live,ready} and /v2/models/${ctx.modelName}[/ready|/infer]`);
}

interface RequestedOutput {
  name: string;
  binary: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function parameters(v: unknown, where: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isObject(v)) throw new HttpError(400, `expected ${where}.parameters to be an object but received ${shallow(v)}`);
  return v;
}

async function infer(ctx: V2Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await ctx.readBody();
  let json: Uint8Array = body;
  let binary: Uint8Array = new Uint8Array(0);
  const lengthHeader = req.headers['inference-header-content-length'];
  if (lengthHeader !== undefined) {
    const n = Number(lengthHeader);
    if (!Number.isSafeInteger(n) || n < 0 || n > body.length) {
      throw new HttpError(400, `Inference-Header-Content-Length is ${JSON.stringify(String(lengthHeader))}; expected an integer from 0 to the body's ${body.length} bytes`);
    }
    json = body.subarray(0, n);
    binary = body.subarray(n);
  }
  const request = parseJsonBody(json, 'the inference request');
  if (!isObject(request)) throw new HttpError(400, `expected the inference request to be a JSON object but received ${shallow(request)}`);
  if (request.id !== undefined && typeof request.id !== 'string') throw new HttpError(400, `expected "id" to be a string but received ${shallow(request.id)}`);
  const reqParams = parameters(request.parameters, 'the request');

  // Inputs: one per model input, each read from JSON data or the binary section.
  const list = request.inputs;
  if (!Array.isArray(list) || list.length !== ctx.inputs.length) {
    throw new HttpError(400, `expected "inputs" to be an array of ${ctx.inputs.length} tensor (${ctx.inputs.map((i) => `"${i.name}"`).join(', ')}) but received ${shallow(list)}`);
  }
  let cursor = 0;
  const tensors: Tensor[] = [];
  for (const [i, entry] of list.entries()) {
    const where = `inputs[${i}]`;
    if (!isObject(entry)) throw new HttpError(400, `expected ${where} to be an object but received ${shallow(entry)}`);
    if (entry.name !== ctx.inputs[i]!.name) throw new HttpError(400, `${where}.name is ${shallow(entry.name)}; the model's input is "${ctx.inputs[i]!.name}"`);
    const width = typeof entry.datatype === 'string' ? WIDTH[entry.datatype] : undefined;
    if (width === undefined) throw new HttpError(400, `${where}.datatype is ${shallow(entry.datatype)}; this model takes "FP32" (or "FP64", narrowed)`);
    const shape = readShape(entry.shape, `${where}.shape`, true);
    const count = shape.reduce((a, b) => a * b, 1);
    const size = parameters(entry.parameters, where).binary_data_size;
    let data: Float32Array;
    if (size !== undefined) {
      if (!Number.isSafeInteger(size) || (size as number) !== count * width) {
        throw new HttpError(400, `${where}.parameters.binary_data_size is ${shallow(size)}; shape [${shape.join(', ')}] of ${entry.datatype} needs ${count * width}`);
      }
      if (cursor + (size as number) > binary.length) throw new HttpError(400, `${where} needs ${size} bytes of binary data but only ${binary.length - cursor} follow the JSON`);
      const view = new DataView(binary.buffer, binary.byteOffset + cursor, size as number);
      data = new Float32Array(count);
      for (let k = 0; k < count; k++) data[k] = width === 4 ? view.getFloat32(4 * k, true) : view.getFloat64(8 * k, true);
      cursor += size as number;
    } else {
      if (entry.data === undefined) throw new HttpError(400, `${where} has neither "data" nor parameters.binary_data_size`);
      data = flattenNumbers(entry.data, shape, `${where}.data`);
    }
    tensors.push(new Tensor('float32', data, shape));
  }
  if (cursor !== binary.length) throw new HttpError(400, `${binary.length - cursor} bytes of binary data follow the inputs unclaimed`);

  // Outputs: the ones asked for (default: all), each as JSON or binary.
  const binaryAll = reqParams.binary_data_output === true;
  let wanted: RequestedOutput[];
  if (request.outputs === undefined) wanted = ctx.outputs.map((o) => ({ name: o.name, binary: binaryAll }));
  else {
    if (!Array.isArray(request.outputs)) throw new HttpError(400, `expected "outputs" to be an array but received ${shallow(request.outputs)}`);
    wanted = request.outputs.map((o: unknown, i: number) => {
      if (!isObject(o) || typeof o.name !== 'string') throw new HttpError(400, `expected outputs[${i}] to be an object with a "name" but received ${shallow(o)}`);
      if (!ctx.outputs.some((m) => m.name === o.name)) throw new HttpError(400, `outputs[${i}].name is ${shallow(o.name)}; the model's outputs are ${ctx.outputs.map((m) => `"${m.name}"`).join(', ')}`);
      const b = parameters(o.parameters, `outputs[${i}]`).binary_data;
      return { name: o.name, binary: b === undefined ? binaryAll : b === true };
    });
  }

  const results = await ctx.infer(tensors[0]!);
  if (res.headersSent) return;
  const chunks: Uint8Array[] = [];
  const outputs = wanted.map(({ name, binary: asBinary }) => {
    const t = results[name]!;
    const meta = { name, datatype: 'FP32', shape: [...t.dims] };
    if (!asBinary) return { ...meta, data: Array.from(t.data) };
    const bytes = new Uint8Array(t.size * 4);
    const view = new DataView(bytes.buffer);
    for (let k = 0; k < t.size; k++) view.setFloat32(4 * k, t.data[k]!, true);
    chunks.push(bytes);
    return { ...meta, parameters: { binary_data_size: bytes.length } };
  });
  const response = { model_name: ctx.modelName, model_version: VERSION, ...(request.id !== undefined ? { id: request.id } : {}), outputs };
  if (chunks.length === 0) return sendJson(res, 200, response);
  const head = Buffer.from(JSON.stringify(response));
  const total = head.length + chunks.reduce((a, c) => a + c.length, 0);
  res.writeHead(200, { 'content-type': BINARY_TYPE, 'inference-header-content-length': head.length, 'content-length': total });
  res.end(Buffer.concat([head, ...chunks], total));
}
