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
