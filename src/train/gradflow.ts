// Gradient flow at initialisation: one forward/backward pass (training-mode BN)
// on a seeded batch of the synthetic data set, and per weighted layer (convs and
// fc along the main path, in depth order; shortcut projections excluded) the L2
// norms ‖∂L/∂W‖ and ‖∂L/∂x‖, x being the layer's input.
import type { Graph } from '../graph/graph.js';
import { mainPathLayers } from '../graph/cifar.js';
import { TrainableGraph } from './autograd.js';
import type { TrainBackendName } from './backend.js';
import { syntheticShapes } from './dataset.js';
import type { Arr } from './kernels.js';

export interface GradientFlowOptions {
  batch?: number;
  seed?: number;
  backend?: TrainBackendName | 'auto';
  dtype?: 'float32' | 'float64';
}

export interface LayerGradient {
  /** 1-based index along the main path. */
  index: number;
  name: string;
  weightGradNorm: number;
  inputGradNorm: number;
}

export interface GradientFlow {
  graph: string;
  loss: number;
  layers: LayerGradient[];
}

const norm = (a: Arr): number => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!; return Math.sqrt(s); };

export function gradientFlow(graph: Graph, options: GradientFlowOptions = {}): GradientFlow {
  const batch = options.batch ?? 32;
  if (!Number.isInteger(batch) || batch < 2) throw new RangeError(`Expected an integer ≥ 2 for batch but received ${batch}`);
  const inDims = graph.inputs[0]!.dims;
  const size = inDims[2]!;
  if (inDims[1] !== 3 || inDims[3] !== size) throw new RangeError(`Expected a graph input [N, 3, S, S] for gradientFlow() but received [${inDims.join(', ')}]`);
  const { train } = syntheticShapes({ train: batch, test: 1, seed: options.seed ?? 0, size });
  const tg = new TrainableGraph(graph, { backend: options.backend ?? 'auto', dtype: options.dtype ?? 'float32' });
  const { loss, grads } = tg.lossAndGrad(tg.cast(train.x), train.labels, batch);
  const layers = mainPathLayers(graph).map((l, i) => ({
    index: i + 1,
    name: l.node,
    weightGradNorm: norm(grads.params.get(l.weight)!),
    inputGradNorm: norm(grads.values.get(l.input)!),
  }));
  return { graph: graph.name, loss, layers };
}
