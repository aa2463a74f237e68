// Messages between a WorkerPool and its workers (structured clone; tensor buffers are transferred).
import type { Mode } from '../modes.js';

export interface WorkerInit {
  /** ONNX bytes (copied into each worker) or a file path. */
  model: Uint8Array | string;
  backend: 'native' | 'js' | 'cuda';
  threads: number;
  mode: Mode;
}

export interface WireTensor {
  dims: number[];
  data: Float32Array;
}

export type ToWorker = { type: 'run'; id: number; feeds: Record<string, WireTensor> };

export interface WireMeta {
  name: string;
  dims: number[];
}

export type FromWorker =
  | { type: 'ready'; inputs: WireMeta[]; outputs: WireMeta[] }
  | { type: 'result'; id: number; outputs: Record<string, WireTensor> }
  | { type: 'error'; id: number | null; name: string; message: string };
