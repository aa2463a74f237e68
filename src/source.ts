// Reading a model file without trusting what the path names. A path can name a FIFO
// (open() would block a libuv thread forever, so the process cannot exit), a device such
// as /dev/zero (endless bytes), a directory, or a file far larger than the memory limit.
// The file is opened non-blocking, checked with fstat on the open handle (no race with a
// swapped path), and read only if it is a regular file no larger than the limit.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { formatBytes, MemoryLimitError } from './limits.js';

export async function readModelFile(where: string, path: string, limitBytes: number): Promise<Uint8Array> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
      throw new TypeError(`${where}: expected a regular ONNX file for source but ${JSON.stringify(path)} is ${kind}`);
    }
    // The graph keeps the weights and packing copies them, so a file over the limit cannot load.
    if (st.size > limitBytes) {
      throw new MemoryLimitError(
        `${where}: ${JSON.stringify(path)} is ${formatBytes(st.size)} (${st.size} bytes), more than maxMemoryBytes = ${formatBytes(limitBytes)} (${limitBytes} bytes); raise options.maxMemoryBytes`,
        st.size,
        limitBytes,
      );
    }
    // Read exactly the size fstat gave; a file still growing is read as it was.
    const bytes = new Uint8Array(st.size);
    let at = 0;
    while (at < bytes.length) {
      const { bytesRead } = await handle.read(bytes, at, bytes.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return at === bytes.length ? bytes : bytes.subarray(0, at);
  } finally {
    await handle.close();
  }
}
