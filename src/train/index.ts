// Training: backward kernels, autograd over the Graph, SGD, the synthetic data
// set, gradient flow and the training loop.
export { TrainableGraph } from './autograd.js';
export type { TrainableOptions, Tape, Gradients, DType } from './autograd.js';
export { trainKernels, jsTrainKernels, nativeBackwardAvailable } from './backend.js';
export type { TrainKernels, TrainBackendName } from './backend.js';
export { Sgd } from './sgd.js';
export type { SgdOptions } from './sgd.js';
export { syntheticShapes, SHAPE_CLASSES } from './dataset.js';
export type { Dataset, SyntheticOptions } from './dataset.js';
export { gradientFlow } from './gradflow.js';
export type { GradientFlow, GradientFlowOptions, LayerGradient } from './gradflow.js';
export { train } from './train.js';
export type { TrainOptions, TrainResult, TrainPoint } from './train.js';
export { lineChartSvg } from './svg.js';
export type { Panel, Series } from './svg.js';
export * as backward from './kernels.js';
