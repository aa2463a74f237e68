// Tensors stored outside the .onnx file (onnx.save_model(..., save_as_external_data=True)):
// TensorProto.external_data names a `location` relative to the model's folder and an
// optional `offset` and `length` in bytes. Reads are bounded by the tensor's own size, and a
// location that leaves the model's folder (absolute, `..`, or a symbolic link pointing out)
// is refused, so a model file cannot make us read arbitrary files.
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export type ExternalRead = { ok: true; bytes: Uint8Array } | { ok: false; cause: string; detail: string };

export interface ExternalDataReader {
  /** The bytes of one tensor: `expected` is what its dims and type need. */
  read(entries: { key?: string; value?: string }[], expected: number): ExternalRead;
  /** Closes the files opened during one import. */
  close(): void;
}

const fail = (cause: string, detail: string): ExternalRead => ({ ok: false, cause, detail });

/** A reader rooted at the model's folder, or one that explains that a path is needed. */
export function externalDataReader(baseDir: string | undefined): ExternalDataReader {
  const files = new Map<string, { fd: number; size: number } | string>();
  const root = baseDir === undefined ? undefined : safeRealpath(resolve(baseDir));
  const open = (location: string): { fd: number; size: number } | string => {
    let f = files.get(location);
    if (f === undefined) {
      f = openInside(root!, location);
      files.set(location, f);
    }
    return f;
  };
  return {
    read(entries, expected) {
      const kv = new Map(entries.map((e) => [e.key ?? '', e.value ?? '']));
      const location = kv.get('location');
      if (!location) return fail('uses external data without a location', '');
      if (root === undefined) {
        return fail('use external data, which needs the model\'s path: call load(path) (or pass baseDir to fromOnnx) instead of loading bytes', ` ("${location}")`);
      }
      const offset = kv.has('offset') ? Number(kv.get('offset')) : 0;
      const length = kv.has('length') ? Number(kv.get('length')) : expected;
      if (!Number.isSafeInteger(offset) || offset < 0) return fail('have an invalid external-data offset', ` ("${kv.get('offset')}")`);
      if (!Number.isSafeInteger(length) || length !== expected) return fail('have an external-data length that does not match the dims', ` (${kv.get('length')} bytes, dims need ${expected})`);
      const f = open(location);
      if (typeof f === 'string') return fail(f, ` ("${location}")`);
      if (offset + length > f.size) return fail('point past the end of the external-data file', ` ("${location}": bytes ${offset}–${offset + length} of ${f.size})`);
      const bytes = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(f.fd, bytes, done, length - done, offset + done);
        if (n <= 0) return fail('point past the end of the external-data file', ` ("${location}")`);
        done += n;
      }
      return { ok: true, bytes };
    },
    close() {
      for (const f of files.values()) if (typeof f !== 'string') closeSync(f.fd);
      files.clear();
    },
  };
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Opens `location` under `root`, or says why not (the reason is grouped across tensors). */
function openInside(root: string, location: string): { fd: number; size: number } | string {
  if (isAbsolute(location) || location.includes('\0')) return 'have an external-data location outside the model\'s folder';
  const inside = (p: string) => {
    const r = relative(root, p);
    return r !== '' && !r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r);
  };
  const target = resolve(root, location);
  if (!inside(target)) return 'have an external-data location outside the model\'s folder';
  let real: string;
  try {
    real = realpathSync(target);
  } catch {
    return 'have an external-data file that does not exist';
  }
  if (!inside(real)) return 'have an external-data location outside the model\'s folder (through a symbolic link)';
  let fd: number;
  try {
    fd = openSync(real, 'r');
  } catch (err) {
    return `have an external-data file that cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    return 'have an external-data location that is not a regular file';
  }
  return { fd, size: st.size };
}
