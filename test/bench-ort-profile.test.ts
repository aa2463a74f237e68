// Matching ORT's profiled kernel times to the layers of the original model
// (src/bench/ort-profile.ts): by node name, or by output value name (how
// onnxruntime-node names a node it moved to NCHWc), walking back over the nodes
// ORT fused (relu ← add ← conv).
import test from 'ava';
import { ortLayerTimes, ortTimeFor } from '../src/bench/ort-profile.js';

const model = {
  graph: {
    node: [
      { name: 'conv1', input: ['x', 'w1'], output: ['c1'] },
      { name: 'relu1', input: ['c1'], output: ['r1'] },
      { name: 'conv2', input: ['r1', 'w2'], output: ['c2'] },
      { name: 'add2', input: ['c2', 'r1'], output: ['a2'] },
      { name: 'relu2', input: ['a2'], output: ['r2'] },
      { name: 'pool', input: ['r2'], output: ['p'] },
    ],
  },
};

test('ortLayerTimes: the median per node, without the _nchwc suffix; only Node kernel events', (t) => {
  const ev = (name: string, dur: number, cat = 'Node') => ({ cat, name: `${name}_kernel_time`, dur });
  const times = ortLayerTimes([ev('r1_nchwc', 1000), ev('r1_nchwc', 3000), ev('r1_nchwc', 2000), ev('pool', 500), ev('pool', 9000, 'Session')]);
  t.is(times.get('r1'), 2);
  t.is(times.get('pool'), 0.5);
  t.is(times.size, 2);
  // A QDQ group ORT fused into one QLinearConv is named after its conv, with a token number.
  t.is(ortLayerTimes([ev('conv1_token_7', 1500)]).get('conv1'), 1.5);
});

test('ortTimeFor: by output value (NCHWc nodes), by node name, through fused nodes, undefined when absent', (t) => {
  const at = ortTimeFor(model, new Map([['r1', 2], ['c2', 3], ['pool', 0.5]]));
  t.is(at('r1'), 2); // a conv+relu fused and moved to NCHWc, named after its output value
  t.is(at('r2'), 3); // relu2 ← add2 ← conv2: the fused node named after conv2's output
  t.is(at('p'), 0.5); // by node name
  t.is(at('x'), undefined);
  t.is(ortTimeFor(model, new Map())('r2'), undefined);
});

// An int8 QDQ residual block as ORT's quantize_static writes it: ORT runs the conv's QDQ group as
// one QLinearConv ("<conv>_token_<n>") and the add's as a QLinearAdd (named after the add), while
// our native backend fuses the add into the conv's step (named after the conv, producing the add's
// output). Node and kernel-event names as in a profile of onnxruntime-node on ResNet-18 int8.
const qdqBlock = {
  graph: {
    node: [
      { name: 'x/dq', input: ['x_q', 's', 'z'], output: ['x_f'] },
      { name: 'layer1.0.conv2', input: ['x_f', 'w_f', 'b'], output: ['c'] },
      { name: 'c/q', input: ['c', 's', 'z'], output: ['c_q'] },
      { name: 'c/dq', input: ['c_q', 's', 'z'], output: ['c_f'] },
      { name: 'r/dq', input: ['r_q', 's', 'z'], output: ['r_f'] },
      { name: 'layer1.0.add', input: ['c_f', 'r_f'], output: ['a'] },
      { name: 'layer1.0.relu_1', input: ['a'], output: ['a_relu'] },
      { name: 'a/q', input: ['a_relu', 's', 'z'], output: ['a_q'] },
    ],
  },
};

test('ortTimeFor: a conv with its residual add fused takes ORT\'s QLinearConv and QLinearAdd; each unfused one its own', (t) => {
  const ev = (name: string, dur: number) => ({ cat: 'Node', name: `${name}_kernel_time`, dur, args: { op_name: 'x' } });
  const times = ortLayerTimes([ev('layer1.0.conv2_token_8', 300), ev('layer1.0.conv2_token_8', 320), ev('layer1.0.add', 50), ev('layer1.0.add', 60)]);
  const at = ortTimeFor(qdqBlock, times);
  // Our fused step: named after the conv, its output the add's (through the ReLU and Q ORT folded away).
  t.is(at('a_q', 'layer1.0.conv2'), 0.32 + 0.06);
  // The JS backend's separate steps: the conv's output, the add's.
  t.is(at('c_q', 'layer1.0.conv2'), 0.32);
  t.is(at('a_q', 'layer1.0.add'), 0.06);
  // Without our layer's name (or with one ORT did not time): the node the walk finds only.
  t.is(at('a_q'), 0.06);
  t.is(at('a_q', 'something.else'), 0.06);
});
