// Small HTTP helpers for the server: URL parsing that cannot throw, bounded body
// reading against a per-request and a server-wide byte budget, and error responses.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error that maps to an HTTP status. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The request's path and query; a request target that is not a valid URL path is a 400. */
export function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? '/';
  // Only origin-form targets ("/path?query"); "//host…" would be read as an authority.
  if (!target.startsWith('/') || target.startsWith('//')) throw new HttpError(400, `the request target ${JSON.stringify(target.slice(0, 80))} is not a path`);
  try {
    return new URL(target, 'http://localhost');
  } catch {
    throw new HttpError(400, `the request target ${JSON.stringify(target.slice(0, 80))} is not a valid URL path`);
  }
}

/**
 * Bytes of request bodies held in memory at once, across all requests. A body that would
 * take the total past the limit is refused with 503, so stalled uploads cannot pile up.
 */
export class ByteBudget {
  private used = 0;
  constructor(readonly limit: number) {}
  get inUse(): number {
    return this.used;
  }
  /** Reserves n bytes, or throws HttpError 503. */
  take(n: number): void {
    if (this.used + n > this.limit) {
      throw new HttpError(503, `the server is holding ${this.used} bytes of request bodies; the limit is ${this.limit} (--max-inflight-bytes)`, { 'retry-after': '1' });
    }
    this.used += n;
  }
  give(n: number): void {
    this.used -= n;
  }
}

/**
 * Reads the whole body, or throws HttpError 413 as soon as it exceeds `limit` bytes, 503
 * when the server-wide budget is spent, or the signal's reason when it aborts. The bytes
 * stay reserved in `budget` until the returned release() is called.
 */
export function readBody(req: IncomingMessage, limit: number, budget: ByteBudget, signal: AbortSignal): Promise<{ body: Buffer; release: () => void }> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new HttpError(413, `the body is ${declared} bytes; the limit is ${limit}`));
  }
  let reserved = 0;
  const release = () => {
    budget.give(reserved);
    reserved = 0;
  };
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: unknown, body?: Buffer) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      signal.removeEventListener('abort', onAbort);
      if (err) {
        release();
        reject(err);
      } else resolve({ body: body!, release });
    };
    const reserve = (n: number) => {
      budget.take(n);
      reserved += n;
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) return finish(new HttpError(413, `the body is over the limit of ${limit} bytes`));
      // A declared length is reserved up front (below); a chunked body as it arrives.
      if (size > reserved) {
        try {
          reserve(size - reserved);
        } catch (err) {
          return finish(err);
        }
      }
      chunks.push(c);
    };
    const onEnd = () => finish(null, Buffer.concat(chunks, size));
    const onError = (e: Error) => finish(e);
    const onAbort = () => finish(signal.reason);
    if (signal.aborted) return finish(signal.reason);
    if (Number.isFinite(declared) && declared > 0) {
      try {
        reserve(declared);
      } catch (err) {
        return finish(err);
      }
    }
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
