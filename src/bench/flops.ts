// Multiply-adds of a graph, counted as 2 FLOPs each (the convention ORT, MLAS and papers use).
import type { Graph } from '../graph/graph.js';
import { inferShapes } from '../graph/graph.js';

export function graphFlops(graph: Graph, inputDims: Record<string, number[]>): number {
  const shapes = inferShapes(graph, inputDims);
  let flops = 0;
  for (const node of graph.nodes) {
    const y = shapes.get(node.outputs[0]!)!;
    if (node.op === 'Conv') {
      const w = graph.initializers.get(node.inputs[1]!)!.dims;
      flops += 2 * y[0]! * y[1]! * y[2]! * y[3]! * w[1]! * w[2]! * w[3]!;
    } else if (node.op === 'Gemm') {
      const w = graph.initializers.get(node.inputs[1]!)!.dims;
      flops += 2 * y[0]! * w[0]! * w[1]!;
    }
  }
  return flops;
}
