// Shared by the serve tests: a small model, a server per test, raw-socket requests.
import { connect } from 'node:net';
import { resnet } from '../../src/graph/resnet.js';
import { serve, type InferenceServer, type ServeOptions } from '../../src/serve/server.js';

/** ResNet-18 at 64×64 with 10 classes: input "input" [N, 3, 64, 64], output "output" [N, 10]. */
export const modelBytes = resnet({ depth: 18, inputSize: 64, numClasses: 10, seed: 1 }).toOnnx();

export async function withServer(options: ServeOptions, body: (s: InferenceServer) => Promise<void>): Promise<void> {
  const s = await serve(modelBytes, { threads: 1, ...options });
  try {
    await body(s);
  } finally {
    await s.close();
  }
}

export const post = (s: InferenceServer, path: string, body: Uint8Array | string, type = 'application/octet-stream', headers: Record<string, string> = {}) =>
  fetch(`${s.url}${path}`, { method: 'POST', body, headers: { 'content-type': type, ...headers } });

export async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface RawReply {
  /** Everything the server sent. */
  text: string;
  /** Whether the server closed the connection within the wait. */
  closed: boolean;
  /** ms from the first byte written to the close (or the end of the wait). */
  ms: number;
}

/**
 * Writes bytes on a fresh connection and collects the reply until the server closes it or
 * `waitMs` passes (then the client closes it). `end` half-closes after writing.
 */
export function raw(port: number, bytes: Uint8Array | string, waitMs = 1000, end = false, localAddress?: string): Promise<RawReply> {
  return new Promise((resolve) => {
    const start = performance.now();
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed, ms: performance.now() - start });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      if (end) socket.end(bytes);
      else socket.write(bytes);
    });
  });
}

/** The status code of the first response in a raw reply, or 0. */
export const statusOf = (r: RawReply) => Number(/^HTTP\/1\.1 (\d{3})/.exec(r.text)?.[1] ?? 0);
