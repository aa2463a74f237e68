// Lowering: an optimised graph and a memory plan for one set of input dims
// become the one plan every backend executes: ordered steps with their op,
// resolved parameters (shapes, pads, threads), buffer indices from the memory
// plan and packed-weight handles, plus the kernel each step was given when it
// was planned (for profiles). Nothing else in the library switches over graph ops to run them.
import type { BinaryFn, ConvActivationFn, ConvParams, KernelBackend, PackedWeights, PlanLayout, PlanStep, PlanView, PoolParams, QGlobalAveragePoolParams, UnaryFn } from '../backend/types.js';
import { ModelError } from '../errors.js';
import { resolvedSlice, sliceRanges, type ConvNode, type Graph, type Int8Pool, type Node, type UnaryOp } from '../graph/graph.js';
import { broadcastStrides } from '../kernels-js/broadcast.js';
import { mergeStrided, rowMajorStrides } from '../kernels-js/layout.js';
import type { MemoryPlan } from '../graph/passes.js';
import { elementCount } from '../shapes.js';
import { layoutOf, planFormats, type ValueFormat } from './formats.js';

export interface LoweredPlan extends PlanLayout {
  readonly memory: MemoryPlan;
  /** steps[i] lowers nodes[i] (the memory plan's execution order, less the Concats written in place). */
  readonly nodes: readonly Node[];
  /** The values complete once steps[i] has run: nodes[i]'s outputs and the in-place Concats it completes. */
  readonly completed: readonly (readonly string[])[];
  /** The micro-kernel chosen for steps[i] when it was planned, where the backend names one. */
  readonly kernels: readonly (string | undefined)[];
  /** Where each value lives in the buffer list: a graph input, a slot, a view or a constant. */
  readonly bufferOf: ReadonlyMap<string, number>;
  /** The values not kept as float32 NCHW (src/plan/formats.ts). */
  readonly formats: ReadonlyMap<string, ValueFormat>;
}

export interface LowerContext {
  graph: Graph;
  /** Graph input names, in the order of the buffer list. */
  inputNames: readonly string[];
  packed: ReadonlyMap<string, PackedWeights>;
  backend: KernelBackend;
  threads: number;
}

function convParams(graph: Graph, node: ConvNode, shapes: Map<string, number[]>, threads: number): ConvParams {
  const a = node.attrs;
  const yDims = shapes.get(node.outputs[0]!)!;
  const w = graph.initializers.get(node.inputs[1]!)!;
  return {
    inputDims: shapes.get(node.inputs[0]!)!, cOut: w.dims[0]!, kh: a.kernelShape[0], kw: a.kernelShape[1], groups: a.groups,
    strides: a.strides, pads: a.pads, dilations: a.dilations, outDims: [yDims[2]!, yDims[3]!], relu: a.relu ?? false, threads,
    ...(a.clip ? { clip: [a.clip[0], a.clip[1]] as [number, number] } : {}),
    ...(a.act ? { act: { fn: UNARY_FN[a.act.op] as ConvActivationFn, alpha: a.act.alpha, beta: a.act.beta } } : {}),
    ...(a.nhwcOut ? { yNhwc: true } : {}),
  };
}

const UNARY_FN: Record<UnaryOp, UnaryFn> = { Sigmoid: 'sigmoid', Silu: 'silu', HardSigmoid: 'hardSigmoid', HardSwish: 'hardSwish', Clip: 'clip', Erf: 'erf', Gelu: 'gelu' };
const BINARY_FN: Record<'Add' | 'Mul' | 'Sub' | 'Div', BinaryFn> = { Add: 'add', Mul: 'mul', Sub: 'sub', Div: 'div' };

/** A qGlobalAveragePool step's numbers, reading x's bytes where the plan keeps them (their zero point is in the u8 domain). */
function qGapParams(q: Int8Pool, x: ValueFormat | undefined): { u8: boolean; q: QGlobalAveragePoolParams } {
  const u8 = x?.dtype === 'u8';
  return {
    u8,
    q: { xScale: q.x.scale, xZeroPoint: u8 ? x.zeroPoint : 0, multiplier: q.multiplier, yScale: q.y.scale, yZeroPoint: q.y.zeroPoint, qmin: q.y.qmin, qmax: q.y.qmax },
  };
}

const product = (d: readonly number[]): number => d.reduce((p, q) => p * q, 1);
const axisOf = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

export function lower(ctx: LowerContext, memory: MemoryPlan): LoweredPlan {
  const { graph, backend: be, threads } = ctx;
  const shapes = memory.shapes;
  const nIn = ctx.inputNames.length;
  const nSlots = memory.slotSizes.length;
  const bufferOf = new Map<string, number>(ctx.inputNames.map((n, i) => [n, i]));
  for (const [name, slot] of memory.slotOf) bufferOf.set(name, nIn + slot);
  const views: PlanView[] = [];
  for (const [name, v] of memory.views) {
    bufferOf.set(name, nIn + nSlots + views.length);
    views.push({ buffer: nIn + nSlots + views.length, base: nIn + memory.slotOf.get(v.base)!, offset: v.offset, length: elementCount(shapes.get(name)!) });
  }
  const constants: Float32Array[] = [];
  const buffer = (name: string): number => {
    let k = bufferOf.get(name);
    if (k === undefined) {
      const t = graph.initializers.get(name);
      if (!t) throw new ModelError(`value "${name}" has no buffer in the memory plan`);
      k = nIn + nSlots + views.length + constants.length;
      constants.push(t.data);
      bufferOf.set(name, k);
    }
    return k;
  };
  const formats = planFormats(graph, memory.order, be.packQConv2d !== undefined);
  const kernels: (string | undefined)[] = [];
  // A Concat whose inputs are all views of its output is complete once the last of them is written.
  const inPlace = (node: Node): boolean => node.op === 'Concat' && node.inputs.every((v) => memory.views.has(v));
  const nodes = memory.order.filter((n) => !inPlace(n));
  const completed: string[][] = nodes.map((n) => [...n.outputs]);
  const completedAt = new Map<string, number>(nodes.flatMap((n, i) => n.outputs.map((o): [string, number] => [o, i])));
  for (const n of memory.order) {
    if (!inPlace(n)) continue;
    const at = Math.max(...n.inputs.map((v) => completedAt.get(v)!));
    completedAt.set(n.outputs[0]!, at);
    completed[at]!.push(n.outputs[0]!);
  }
  const steps = nodes.map((node): PlanStep => {
    const xDims = shapes.get(node.inputs[0]!)!;
    const yDims = shapes.get(node.outputs[0]!)!;
    const io = { inputs: [buffer(node.inputs[0]!)], output: buffer(node.outputs[0]!) };
    let kernel: string | undefined;
    const step = ((): PlanStep => {
      switch (node.op) {
        case 'Conv': {
          if (node.attrs.residual) io.inputs.push(buffer(node.attrs.residual));
          const packed = ctx.packed.get(node.name)!;
          const p = convParams(graph, node, shapes, threads);
          if (node.attrs.int8) {
            const [x, y] = [formats.get(node.inputs[0]!), formats.get(node.outputs[0]!)];
            const add = node.attrs.int8.add;
            if (add) {
              const r = formats.get(node.attrs.residual!);
              return { op: 'qconv', ...io, packed, p, io: { x: layoutOf(x), y: layoutOf(y), r: layoutOf(r) }, add: { q: { ...add.q, y: { ...add.q.y } }, convIsA: add.convIsA } };
            }
            return { op: 'qconv', ...io, packed, p, ...(x || y ? { io: { x: layoutOf(x), y: layoutOf(y) } } : {}) };
          }
          if (node.attrs.nhwc) return { op: 'convNhwc', ...io, packed, p };
          kernel = be.convKernel?.(packed, p);
          return { op: 'conv', ...io, packed, p };
        }
        case 'Gemm': {
          const packed = ctx.packed.get(node.name)!;
          const m = product(xDims.slice(0, -1));
          kernel = be.gemmKernel?.(packed, m);
          return { op: 'gemm', ...io, packed, m, relu: node.attrs.relu ?? false, threads };
        }
        case 'Add':
        case 'Mul':
        case 'Sub':
        case 'Div': {
          io.inputs.push(buffer(node.inputs[1]!));
          const bDims = shapes.get(node.inputs[1]!)!;
          const relu = node.attrs.relu ?? false;
          const same = elementCount(xDims) === elementCount(yDims) && elementCount(bDims) === elementCount(yDims);
          if (node.op === 'Add' && same) return { op: 'add', ...io, count: elementCount(yDims), relu, threads };
          return { op: 'binary', ...io, fn: BINARY_FN[node.op], relu, ...broadcastStrides(xDims, bDims, yDims), threads };
        }
        case 'Sigmoid':
        case 'Silu':
        case 'HardSigmoid':
        case 'HardSwish':
        case 'Clip':
        case 'Erf':
        case 'Gelu':
          return { op: 'unary', ...io, fn: UNARY_FN[node.op], alpha: node.attrs.alpha, beta: node.attrs.beta, count: elementCount(yDims), threads };
        case 'Concat': {
          io.inputs = node.inputs.map(buffer);
          const axis = axisOf(node.attrs.axis, yDims.length);
          const inner = product(yDims.slice(axis + 1));
          return { op: 'concat', ...io, outer: product(yDims.slice(0, axis)), chunks: node.inputs.map((v) => shapes.get(v)![axis]! * inner) };
        }
        case 'Slice': {
          const fail = (m: string): never => { throw new ModelError(`Slice "${node.name}": ${m}`); };
          const ranges = sliceRanges(xDims, resolvedSlice(node, (v) => shapes.get(v)!) ?? fail('its bounds read a dim that is still dynamic'), fail);
          const xs = rowMajorStrides(xDims);
          const offset = ranges.reduce((acc, r, d) => acc + r.start * xs[d]!, 0);
          return { op: 'strided', ...io, offset, ...mergeStrided(yDims, ranges.map((r, d) => r.step * xs[d]!)) };
        }
        case 'Softmax': {
          const axis = axisOf(node.attrs.axis, xDims.length);
          if (node.attrs.legacy) return { op: 'softmax', ...io, outer: product(xDims.slice(0, axis)), n: product(xDims.slice(axis)), inner: 1 };
          return { op: 'softmax', ...io, outer: product(xDims.slice(0, axis)), n: xDims[axis]!, inner: product(xDims.slice(axis + 1)) };
        }
        case 'LayerNormalization': {
          const axis = axisOf(node.attrs.axis, xDims.length);
          io.inputs.push(buffer(node.inputs[1]!));
          if (node.inputs[2]) io.inputs.push(buffer(node.inputs[2]));
          return { op: 'layerNorm', ...io, outer: product(xDims.slice(0, axis)), n: product(xDims.slice(axis)), epsilon: node.attrs.epsilon };
        }
        case 'MaxPool':
        case 'AveragePool': {
          const a = node.attrs;
          const p: PoolParams = { inputDims: xDims, kernel: a.kernelShape, strides: a.strides, pads: a.pads, dilations: a.dilations, outDims: [yDims[2]!, yDims[3]!], threads, ...(a.nhwc ? { nhwc: true } : {}) };
          if (formats.get(node.outputs[0]!)?.dtype === 'u8') return { op: 'qu8MaxPool', ...io, p }; // planFormats keeps its input as bytes too
          return node.op === 'MaxPool' ? { op: 'maxPool', ...io, p } : { op: 'averagePool', ...io, p, countIncludePad: node.attrs.countIncludePad };
        }
        case 'GlobalAveragePool':
          if (node.attrs.int8) return { op: 'qGlobalAveragePool', ...io, n: xDims[0]!, c: xDims[1]!, hw: xDims[2]! * xDims[3]!, ...qGapParams(node.attrs.int8, formats.get(node.inputs[0]!)) };
          return { op: 'globalAveragePool', ...io, n: xDims[0]!, c: xDims[1]!, hw: xDims[2]! * xDims[3]!, threads, ...(node.attrs.nhwc ? { nhwc: true } : {}) };
        case 'Flatten':
        case 'Reshape':
          return { op: 'copy', ...io, count: elementCount(yDims) };
        case 'Transpose': {
          const perm = node.attrs.perm;
          if (perm.length === 2 && perm[0] === 1) return { op: 'transpose', ...io, rows: xDims[0]!, cols: xDims[1]! };
          // NCHW <-> NHWC (ConvNeXt's permutes around its LayerNorms): the reorder step's blocked transpose.
          const r = perm.length;
          if (r >= 3 && perm[0] === 0) {
            if (perm.every((p, i) => i === 0 || p === (i === r - 1 ? 1 : i + 1))) return { op: 'reorder', ...io, n: xDims[0]!, c: xDims[1]!, hw: elementCount(xDims.slice(2)), to: 'nhwc', threads };
            if (perm.every((p, i) => i === 0 || p === (i === 1 ? r - 1 : i - 1))) return { op: 'reorder', ...io, n: xDims[0]!, c: xDims[r - 1]!, hw: elementCount(xDims.slice(1, r - 1)), to: 'nchw', threads };
          }
          const xs = rowMajorStrides(xDims);
          return { op: 'strided', ...io, offset: 0, ...mergeStrided(yDims, perm.map((p) => xs[p]!)) };
        }
        case 'Relu':
          return { op: 'relu', ...io, count: elementCount(yDims) };
        case 'Reorder':
          return { op: 'reorder', ...io, n: xDims[0]!, c: xDims[1]!, hw: elementCount(xDims.slice(2)), to: node.attrs.to, threads };
        case 'Requantize': {
          const channels = xDims.length > 1 ? xDims[1]! : 1;
          return { op: 'requantize', ...io, count: elementCount(yDims), channels, inner: elementCount(xDims.slice(2)), r: { ...node.attrs } };
        }
        case 'QLinearAdd':
          io.inputs.push(buffer(node.inputs[1]!));
          return { op: 'qlinearAdd', ...io, count: elementCount(yDims), q: { ...node.attrs, y: { ...node.attrs.y } }, ...(formats.has(node.outputs[0]!) ? { u8: true } : {}) };
        case 'QuantizeDequantize': {
          const { scale, zeroPoint, qmin, qmax } = node.attrs;
          return { op: 'quantizeDequantize', ...io, count: elementCount(yDims), q: { scale, zeroPoint, qmin, qmax } };
        }
        case 'BatchNormalization':
          throw new ModelError(`BatchNormalization node "${node.name}" survived optimisation; load with optimize: true`);
      }
    })();
    kernels.push(kernel);
    return step;
  });
  const outputs = graph.outputs.map((o) => buffer(o.name));
  return { steps, nInputs: nIn, slotSizes: memory.slotSizes, views, constants, outputs, memory, nodes, completed, kernels, bufferOf, formats };
}
