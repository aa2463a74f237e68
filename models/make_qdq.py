"""Builds a small quantized (QDQ) residual network with the onnx package alone,
independently of resnode, the way ONNX Runtime's quantize_static lays one out:
uint8 (or int8) activations per tensor, int8 weights per channel (or per
tensor), int32 biases with scale = input scale * weight scale. Activation
ranges come from a float32 PyTorch forward pass over random calibration data.

usage: make_qdq.py --out model.onnx [--seed N] [--per-tensor] [--int8-activations]
"""
import argparse

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

p = argparse.ArgumentParser()
p.add_argument('--out', required=True)
p.add_argument('--seed', type=int, default=0)
p.add_argument('--per-tensor', action='store_true')
p.add_argument('--int8-activations', action='store_true')
args = p.parse_args()
torch.manual_seed(args.seed)
rng = np.random.default_rng(args.seed)

# The float network: conv1 -> relu -> maxpool -> [conv2 -> relu -> conv3] + skip -> relu
# -> conv4 (1x1, stride 2) -> relu -> global average pool -> flatten -> fc.
conv1 = torch.nn.Conv2d(3, 16, 3, padding=1)
conv2 = torch.nn.Conv2d(16, 16, 3, padding=1)
conv3 = torch.nn.Conv2d(16, 16, 3, padding=1)
conv4 = torch.nn.Conv2d(16, 32, 1, stride=2)
fc = torch.nn.Linear(32, 10)
calib = torch.from_numpy(rng.standard_normal((32, 3, 16, 16)).astype(np.float32))
with torch.no_grad():
    a0 = calib
    a1 = torch.relu(conv1(a0))
    a1p = torch.nn.functional.max_pool2d(a1, 2, 2)
    a2 = torch.relu(conv2(a1p))
    a3 = conv3(a2)
    a4 = torch.relu(a3 + a1p)
    a5 = torch.relu(conv4(a4))
    a6 = a5.mean(dim=(2, 3), keepdim=True)
    a7 = fc(a6.flatten(1))
ranges = {n: (float(t.min()), float(t.max())) for n, t in
          dict(x=a0, a1=a1, a2=a2, a3=a3, a4=a4, a5=a5, a6=a6, y=a7).items()}

act_type = TensorProto.INT8 if args.int8_activations else TensorProto.UINT8
act_np = np.int8 if args.int8_activations else np.uint8
qmin, qmax = (-128, 127) if args.int8_activations else (0, 255)
inits, nodes = [], []


def act_params(name):
    lo, hi = min(ranges[name][0], 0.0), max(ranges[name][1], 0.0)
    scale = np.float32((hi - lo) / (qmax - qmin))
    zp = int(np.clip(round(qmin - lo / scale), qmin, qmax))
    return scale, zp


def qdq(value, params_of, out):
    """QuantizeLinear -> DequantizeLinear on an activation, with the ranges of `params_of`."""
    scale, zp = act_params(params_of)
    sn, zn = f'{out}.scale', f'{out}.zp'
    inits.append(numpy_helper.from_array(np.array(scale, np.float32), sn))
    inits.append(numpy_helper.from_array(np.array(zp, act_np), zn))
    nodes.append(helper.make_node('QuantizeLinear', [value, sn, zn], [f'{out}.q']))
    nodes.append(helper.make_node('DequantizeLinear', [f'{out}.q', sn, zn], [out]))
    return scale


def qweights(name, w, b, in_scale, axis):
    """int8 weights (symmetric, per channel along `axis` or per tensor) and int32 bias, dequantized."""
    w = w.detach().numpy().astype(np.float32)
    channels = w.shape[axis]
    moved = np.moveaxis(w, axis, 0).reshape(channels, -1)
    amax = np.abs(moved).max(axis=1) if not args.per_tensor else np.full(channels, np.abs(w).max())
    scale = (np.maximum(amax, 1e-8) / 127).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = channels
    q = np.clip(np.rint(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    ws = scale if not args.per_tensor else scale[:1]
    inits.append(numpy_helper.from_array(q, f'{name}.wq'))
    inits.append(numpy_helper.from_array(ws.reshape(-1) if not args.per_tensor else np.array(ws[0], np.float32), f'{name}.ws'))
    inits.append(numpy_helper.from_array(np.zeros(ws.shape, np.int8) if not args.per_tensor else np.array(0, np.int8), f'{name}.wz'))
    nodes.append(helper.make_node('DequantizeLinear', [f'{name}.wq', f'{name}.ws', f'{name}.wz'], [f'{name}.w'], axis=axis))
    bs = (np.float32(in_scale) * scale).astype(np.float32)
    bq = np.rint(b.detach().numpy() / bs).astype(np.int32)
    inits.append(numpy_helper.from_array(bq, f'{name}.bq'))
    inits.append(numpy_helper.from_array(bs, f'{name}.bs'))
    inits.append(numpy_helper.from_array(np.zeros(channels, np.int32), f'{name}.bz'))
    nodes.append(helper.make_node('DequantizeLinear', [f'{name}.bq', f'{name}.bs', f'{name}.bz'], [f'{name}.b'], axis=0))
    return f'{name}.w', f'{name}.b'


def conv(name, module, x, in_scale, **attrs):
    w, b = qweights(name, module.weight, module.bias, in_scale, 0)
    nodes.append(helper.make_node('Conv', [x, w, b], [f'{name}.y'], **attrs))
    return f'{name}.y'


s = qdq('x', 'x', 'x.dq')
y = conv('conv1', conv1, 'x.dq', s, kernel_shape=[3, 3], pads=[1, 1, 1, 1])
nodes.append(helper.make_node('Relu', [y], ['a1']))
s1 = qdq('a1', 'a1', 'a1.dq')
nodes.append(helper.make_node('MaxPool', ['a1.dq'], ['a1p'], kernel_shape=[2, 2], strides=[2, 2]))
qdq('a1p', 'a1', 'a1p.dq')  # max pool keeps its input's quantization
y = conv('conv2', conv2, 'a1p.dq', s1, kernel_shape=[3, 3], pads=[1, 1, 1, 1])
nodes.append(helper.make_node('Relu', [y], ['a2']))
s2 = qdq('a2', 'a2', 'a2.dq')
y = conv('conv3', conv3, 'a2.dq', s2, kernel_shape=[3, 3], pads=[1, 1, 1, 1])
qdq(y, 'a3', 'a3.dq')
nodes.append(helper.make_node('Add', ['a3.dq', 'a1p.dq'], ['sum']))
nodes.append(helper.make_node('Relu', ['sum'], ['a4']))
s4 = qdq('a4', 'a4', 'a4.dq')
y = conv('conv4', conv4, 'a4.dq', s4, kernel_shape=[1, 1], strides=[2, 2])
nodes.append(helper.make_node('Relu', [y], ['a5']))
qdq('a5', 'a5', 'a5.dq')
nodes.append(helper.make_node('GlobalAveragePool', ['a5.dq'], ['a6']))
s6 = qdq('a6', 'a6', 'a6.dq')
nodes.append(helper.make_node('Flatten', ['a6.dq'], ['a6f'], axis=1))
w, b = qweights('fc', fc.weight, fc.bias, s6, 0)
nodes.append(helper.make_node('Gemm', ['a6f', w, b], ['logits'], transB=1))
qdq('logits', 'y', 'y')
# A second output: the block's quantized feature map, so agreement is measured over many elements.
nodes.append(helper.make_node('Identity', ['a4.dq'], ['features']))

graph = helper.make_graph(
    nodes, 'qdq_resnet',
    [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 3, 16, 16])],
    [helper.make_tensor_value_info('y', TensorProto.FLOAT, ['N', 10]),
     helper.make_tensor_value_info('features', TensorProto.FLOAT, ['N', 16, 8, 8])],
    inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, args.out)
