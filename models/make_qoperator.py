"""Builds small quantized models in the QOperator form (QLinearConv,
QLinearMatMul and ONNX Runtime's com.microsoft QLinearAdd, QLinearMul, QGemm,
QLinearGlobalAveragePool, QLinearAveragePool, QLinearConcat, QLinearSigmoid,
QLinearLeakyRelu,
and MaxPool/Transpose/Reshape/Flatten on quantized tensors) with the onnx
package alone, independently of resnode. Scales and zero points come from
float32 PyTorch forward passes over random calibration data, the way
quantize_static picks them (a ReLU after a conv or add is folded into its
output range, as ORT's quantizer does). Also, in the QDQ form, the
pools, Concat, Transpose, Reshape and Flatten that ORT's quantizer wraps in
QuantizeLinear/DequantizeLinear pairs.

Writes one model per case into --outdir and manifest.json: for each model its
file, its inputs' shapes and its output's quantization step.

usage: make_qoperator.py --outdir DIR [--seed N]
"""
import argparse
import json
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

p = argparse.ArgumentParser()
p.add_argument('--outdir', required=True)
p.add_argument('--seed', type=int, default=0)
args = p.parse_args()
torch.manual_seed(args.seed)
rng = np.random.default_rng(args.seed)
MS = 'com.microsoft'


class Builder:
    """One QOperator model: activations quantized per tensor with type `act`, weights int8."""

    def __init__(self, act_signed, per_channel):
        self.signed = act_signed
        self.per_channel = per_channel
        self.qmin, self.qmax = (-128, 127) if act_signed else (0, 255)
        self.np_type = np.int8 if act_signed else np.uint8
        self.inits, self.nodes, self.inputs = [], [], []
        self.n = 0

    def name(self, base):
        self.n += 1
        return f'{base}{self.n}'

    def const(self, value, base):
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(value, nm))
        return nm

    def act_params(self, t, relu=False):
        lo, hi = min(float(t.min()), 0.0), max(float(t.max()), 0.0)
        if relu:
            lo = 0.0
        scale = np.float32((hi - lo) / (self.qmax - self.qmin))
        zp = int(np.clip(round(self.qmin - lo / scale), self.qmin, self.qmax))
        return self.const(np.array(scale, np.float32), 's'), self.const(np.array(zp, self.np_type), 'z'), float(scale)

    def input(self, name, t):
        """A float graph input, quantized: returns (quantized name, scale name, zp name, scale)."""
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ['N', *t.shape[1:]]))
        s, z, sv = self.act_params(t)
        q = self.name('xq')
        self.nodes.append(helper.make_node('QuantizeLinear', [name, s, z], [q]))
        return q, s, z, sv

    def weights(self, w, axis, unsigned=False):
        """int8 symmetric weights (or uint8 ones around zero point 128), per channel along `axis` or per tensor:
        (q name, scale name, zp name, scales)."""
        channels = w.shape[axis]
        moved = np.moveaxis(w, axis, 0).reshape(channels, -1)
        amax = np.abs(moved).max(axis=1) if self.per_channel else np.full(channels, np.abs(w).max())
        scale = (np.maximum(amax, 1e-8) / 127).astype(np.float32)
        shape = [1] * w.ndim
        shape[axis] = channels
        zp, w_np = (128, np.uint8) if unsigned else (0, np.int8)
        q = (np.clip(np.rint(w / scale.reshape(shape)), -127, 127) + zp).astype(w_np)
        if self.per_channel:
            return self.const(q, 'wq'), self.const(scale, 'ws'), self.const(np.full(channels, zp, w_np), 'wz'), scale
        return self.const(q, 'wq'), self.const(np.array(scale[0], np.float32), 'ws'), self.const(np.array(zp, w_np), 'wz'), scale

    def bias(self, b, x_scale, w_scales):
        bs = (np.float32(x_scale) * w_scales).astype(np.float32)
        return self.const(np.rint(b / bs).astype(np.int32), 'bq')

    def save(self, outputs, path, opset=13):
        """outputs: name -> its float twin (for the declared shape, batch dim symbolic)."""
        graph = helper.make_graph(self.nodes, 'qoperator', self.inputs,
                                  [helper.make_tensor_value_info(o, TensorProto.FLOAT, ['N', *t.shape[1:]]) for o, t in outputs.items()], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset), helper.make_opsetid(MS, 1)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        onnx.save(model, path)


def same_pads(k, dilation):
    """SAME_UPPER padding of a stride-1 conv: [top, left, bottom, right]."""
    total = [(k - 1) * d for d in dilation]
    return [total[0] // 2, total[1] // 2, total[0] - total[0] // 2, total[1] - total[1] // 2]


def conv_layer(b, x, xs, xz, x_scale, xf, cin, cout, k, relu=False, unsigned_weights=False, **attrs):
    """QLinearConv of quantized x (float twin xf): returns (y, ys, yz, y_scale, yf)."""
    groups = attrs.get('group', 1)
    dilation = attrs.get('dilations', [1, 1])
    w = (torch.randn(cout, cin // groups, k, k) / np.sqrt(cin // groups * k * k)).numpy().astype(np.float32)
    bias = (torch.randn(cout) * 0.1).numpy().astype(np.float32)
    pads = attrs.get('pads', same_pads(k, dilation) if attrs.get('auto_pad') == 'SAME_UPPER' else [0, 0, 0, 0])
    xp = F.pad(xf, (pads[1], pads[3], pads[0], pads[2]))
    yf = F.conv2d(xp, torch.from_numpy(w), torch.from_numpy(bias), stride=attrs.get('strides', [1, 1]), groups=groups, dilation=dilation)
    if relu:
        yf = torch.relu(yf)
    wq, ws, wz, wscales = b.weights(w, 0, unsigned_weights)
    ys, yz, y_scale = b.act_params(yf, relu)
    y = b.name('y')
    b.nodes.append(helper.make_node('QLinearConv', [x, xs, xz, wq, ws, wz, ys, yz, b.bias(bias, x_scale, wscales)], [y], kernel_shape=[k, k], **attrs))
    return y, ys, yz, y_scale, yf


def dequantize(b, y, ys, yz, out):
    b.nodes.append(helper.make_node('DequantizeLinear', [y, ys, yz], [out]))


manifest = {}


def emit(case, b, x_shapes, outputs, steps):
    path = os.path.join(args.outdir, f'{case}.onnx')
    b.save(outputs, path)
    manifest[case] = {'file': path, 'inputs': x_shapes, 'steps': steps}


calib = lambda *shape: torch.from_numpy(rng.standard_normal((16, *shape)).astype(np.float32))

for signed in (False, True):
    for per_channel in (True, False):
        tag = f"{'s8' if signed else 'u8'}_{'pc' if per_channel else 'pt'}"
        # QLinearConv: pads and stride 1; stride 2 with asymmetric pads and groups; depthwise.
        for variant, cin, cout, attrs in [('conv', 8, 16, dict(pads=[1, 1, 1, 1])),
                                          ('conv_strided_grouped', 8, 12, dict(pads=[0, 1, 1, 0], strides=[2, 2], group=2)),
                                          ('conv_depthwise', 8, 8, dict(pads=[1, 1, 1, 1], group=8)),
                                          ('conv_same_upper', 8, 8, dict(auto_pad='SAME_UPPER')),
                                          ('conv_dilated', 8, 8, dict(pads=[2, 2, 2, 2], dilations=[2, 2])),
                                          ('conv_uint8_weights', 8, 16, dict(pads=[1, 1, 1, 1], unsigned_weights=True))]:
            if signed and attrs.get('unsigned_weights'):
                continue  # ORT has no QLinearConv for int8 inputs with uint8 weights
            b = Builder(signed, per_channel)
            xf = calib(cin, 9, 9)
            x, xs, xz, x_scale = b.input('x', xf)
            y, ys, yz, y_scale, yf = conv_layer(b, x, xs, xz, x_scale, xf, cin, cout, 3, **attrs)
            dequantize(b, y, ys, yz, 'y')
            emit(f'{variant}_{tag}', b, {'x': [cin, 9, 9]}, {'y': yf}, {'y': y_scale})
        # A QLinearConv that reads its input with another scale than the QuantizeLinear wrote it with
        # (ORT takes the integers as they are).
        b = Builder(signed, per_channel)
        xf = calib(8, 9, 9)
        x, xs, xz, x_scale = b.input('x', xf)
        read_scale = np.float32(x_scale * 1.25)
        y, ys, yz, y_scale, yf = conv_layer(b, x, b.const(np.array(read_scale, np.float32), 's'), xz, read_scale, xf * 1.25, 8, 8, 3, pads=[1, 1, 1, 1])
        dequantize(b, y, ys, yz, 'y')
        emit(f'conv_rescaled_input_{tag}', b, {'x': [8, 9, 9]}, {'y': yf}, {'y': y_scale})
        # QLinearMatMul and QGemm (quantized and float outputs).
        b = Builder(signed, per_channel)
        xf = calib(32)
        x, xs, xz, x_scale = b.input('x', xf)
        w = (torch.randn(32, 10) / np.sqrt(32)).numpy().astype(np.float32)
        wq, ws, wz, _ = b.weights(w, 1)
        yf = xf @ torch.from_numpy(w)
        ys, yz, y_scale = b.act_params(yf)
        b.nodes.append(helper.make_node('QLinearMatMul', [x, xs, xz, wq, ws, wz, ys, yz], ['yq']))
        dequantize(b, 'yq', ys, yz, 'y')
        emit(f'matmul_{tag}', b, {'x': [32]}, {'y': yf}, {'y': y_scale})
        for float_out in (False, True):
            b = Builder(signed, per_channel)
            x, xs, xz, x_scale = b.input('x', xf)
            w = (torch.randn(10, 32) / np.sqrt(32)).numpy().astype(np.float32)
            bias = (torch.randn(10) * 0.1).numpy().astype(np.float32)
            wq, ws, wz, wscales = b.weights(w, 0)
            yf = xf @ torch.from_numpy(w).T + torch.from_numpy(bias)
            inputs = [x, xs, xz, wq, ws, wz, b.bias(bias, x_scale, wscales)]
            if float_out:
                b.nodes.append(helper.make_node('QGemm', inputs, ['y'], domain=MS, transB=1))
                step = x_scale * float(wscales.max())
            else:
                ys, yz, step = b.act_params(yf)
                b.nodes.append(helper.make_node('QGemm', inputs + [ys, yz], ['yq'], domain=MS, transB=1))
                dequantize(b, 'yq', ys, yz, 'y')
            emit(f"gemm{'_float' if float_out else ''}_{tag}", b, {'x': [32]}, {'y': yf}, {'y': step})
        if not per_channel:
            continue  # the ops below have no weights
        # QLinearAdd / QLinearMul of two quantized inputs (ReLU folded into the add's range).
        for op in ('QLinearAdd', 'QLinearMul'):
            b = Builder(signed, True)
            af, bf = calib(6, 5, 5), calib(6, 5, 5) * 0.5
            a, as_, az, _ = b.input('a', af)
            c, cs, cz, _ = b.input('b', bf)
            relu = op == 'QLinearAdd'
            yf = torch.relu(af + bf) if relu else af * bf
            ys, yz, y_scale = b.act_params(yf, relu)
            b.nodes.append(helper.make_node(op, [a, as_, az, c, cs, cz, ys, yz], ['yq'], domain=MS))
            dequantize(b, 'yq', ys, yz, 'y')
            emit(f'{op[7:].lower()}_{tag[:2]}', b, {'a': [6, 5, 5], 'b': [6, 5, 5]}, {'y': yf}, {'y': y_scale})
        # QLinearAdd of a quantized constant (a per-channel offset, as a folded bias add writes it).
        b = Builder(signed, True)
        af = calib(6, 5, 5)
        a, as_, az, _ = b.input('a', af)
        cq = rng.integers(b.qmin, b.qmax + 1, (1, 6, 1, 1)).astype(b.np_type)
        cs, cz = b.const(np.array(0.01, np.float32), 's'), b.const(np.array(3, b.np_type), 'z')
        yf = af + torch.from_numpy((cq.astype(np.float32) - 3) * 0.01)
        ys, yz, y_scale = b.act_params(yf)
        b.nodes.append(helper.make_node('QLinearAdd', [a, as_, az, b.const(cq, 'c'), cs, cz, ys, yz], ['yq'], domain=MS))
        dequantize(b, 'yq', ys, yz, 'y')
        emit(f'add_constant_{tag[:2]}', b, {'a': [6, 5, 5]}, {'y': yf}, {'y': y_scale})
        # Pools, concat, sigmoid, and ops running on quantized tensors directly.
        for case in ('gap', 'gap_channels_last', 'avgpool', 'concat', 'sigmoid', 'leaky_relu', 'maxpool_reshape'):
            b = Builder(signed, True)
            shape = [7, 6, 5] if case != 'gap_channels_last' else [6, 5, 7]
            xf = calib(*shape)
            x, xs, xz, x_scale = b.input('x', xf)
            if case.startswith('gap'):
                yf = xf.mean(dim=(2, 3), keepdim=True) if case == 'gap' else xf.mean(dim=(1, 2), keepdim=True)
                ys, yz, y_scale = b.act_params(yf)
                b.nodes.append(helper.make_node('QLinearGlobalAveragePool', [x, xs, xz, ys, yz], ['yq'], domain=MS, channels_last=int(case != 'gap')))
            elif case == 'avgpool':
                yf = F.avg_pool2d(xf, 3, 2, 1, count_include_pad=False)
                ys, yz, y_scale = b.act_params(yf)
                b.nodes.append(helper.make_node('QLinearAveragePool', [x, xs, xz, ys, yz], ['yq'], domain=MS, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=0))
            elif case == 'concat':
                x2f = calib(*shape) * 3
                x2, x2s, x2z, _ = b.input('x2', x2f)
                yf = torch.cat([xf, x2f], 1)
                ys, yz, y_scale = b.act_params(yf)
                b.nodes.append(helper.make_node('QLinearConcat', [ys, yz, x, xs, xz, x2, x2s, x2z], ['yq'], domain=MS, axis=1))
            elif case == 'sigmoid':
                yf = torch.sigmoid(xf)
                ys, yz, y_scale = b.act_params(yf)
                b.nodes.append(helper.make_node('QLinearSigmoid', [x, xs, xz, ys, yz], ['yq'], domain=MS))
            elif case == 'leaky_relu':
                yf = F.leaky_relu(xf, 0.1)
                ys, yz, y_scale = b.act_params(yf)
                b.nodes.append(helper.make_node('QLinearLeakyRelu', [x, xs, xz, ys, yz], ['yq'], domain=MS, alpha=0.1))
            else:
                # MaxPool, Transpose, Reshape and Flatten on the quantized tensor itself keep its scale.
                b.nodes.append(helper.make_node('MaxPool', [x], ['m'], kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1]))
                b.nodes.append(helper.make_node('Transpose', ['m'], ['t'], perm=[0, 2, 3, 1]))
                b.nodes.append(helper.make_node('Reshape', ['t', b.const(np.array([0, -1, 7], np.int64), 'shape')], ['r']))
                b.nodes.append(helper.make_node('Flatten', ['r'], ['yq'], axis=1))
                ys, yz, y_scale = xs, xz, x_scale
                yf = torch.zeros(16, 63)
            dequantize(b, 'yq', ys, yz, 'y')
            inputs = {'x': shape, **({'x2': shape} if case == 'concat' else {})}
            emit(f'{case}_{tag[:2]}', b, inputs, {'y': yf}, {'y': y_scale})

# A whole QOperator ResNet-ish network: stem conv (stride 2, ReLU) → MaxPool on uint8 → a residual block
# (conv-relu, conv, QLinearAdd with the ReLU folded) → 1x1 stride 2 conv → QLinearGlobalAveragePool →
# Flatten on uint8 → QGemm → DequantizeLinear.
for signed in (False, True):
    b = Builder(signed, True)
    xf = calib(3, 32, 32)
    x, xs, xz, x_scale = b.input('x', xf)
    a1, a1s, a1z, s1, a1f = conv_layer(b, x, xs, xz, x_scale, xf, 3, 16, 3, relu=True, pads=[1, 1, 1, 1], strides=[2, 2])
    b.nodes.append(helper.make_node('MaxPool', [a1], ['p1'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    p1f = F.max_pool2d(a1f, 3, 2, 1)
    a2, a2s, a2z, s2, a2f = conv_layer(b, 'p1', a1s, a1z, s1, p1f, 16, 16, 3, relu=True, pads=[1, 1, 1, 1])
    a3, a3s, a3z, s3, a3f = conv_layer(b, a2, a2s, a2z, s2, a2f, 16, 16, 3, pads=[1, 1, 1, 1])
    a4f = torch.relu(a3f + p1f)
    a4s, a4z, s4 = b.act_params(a4f, relu=True)
    b.nodes.append(helper.make_node('QLinearAdd', [a3, a3s, a3z, 'p1', a1s, a1z, a4s, a4z], ['a4'], domain=MS))
    a5, a5s, a5z, s5, a5f = conv_layer(b, 'a4', a4s, a4z, s4, a4f, 16, 32, 1, relu=True, strides=[2, 2])
    a6f = a5f.mean(dim=(2, 3), keepdim=True)
    a6s, a6z, s6 = b.act_params(a6f)
    b.nodes.append(helper.make_node('QLinearGlobalAveragePool', [a5, a5s, a5z, a6s, a6z], ['a6'], domain=MS, channels_last=0))
    b.nodes.append(helper.make_node('Flatten', ['a6'], ['a6f'], axis=1))
    w = (torch.randn(10, 32) / np.sqrt(32)).numpy().astype(np.float32)
    bias = (torch.randn(10) * 0.1).numpy().astype(np.float32)
    wq, ws, wz, wscales = b.weights(w, 0)
    yf = a6f.flatten(1) @ torch.from_numpy(w).T + torch.from_numpy(bias)
    ys, yz, y_scale = b.act_params(yf)
    b.nodes.append(helper.make_node('QGemm', ['a6f', a6s, a6z, wq, ws, wz, b.bias(bias, s6, wscales), ys, yz], ['yq'], domain=MS, transB=1))
    dequantize(b, 'yq', ys, yz, 'y')
    dequantize(b, 'a4', a4s, a4z, 'features')
    emit(f"resnet_{'s8' if signed else 'u8'}", b, {'x': [3, 32, 32]}, {'y': yf, 'features': a4f}, {'y': y_scale, 'features': s4})

# MatMulInteger and ConvInteger (int32 out, with nonzero weight zero points) on statically quantized
# inputs, then Cast to float and a Mul by the product of the scales, as ORT's dynamic quantizer lays them out.
for signed in (False, True):
    for op in ('MatMulInteger', 'ConvInteger'):
        if op == 'ConvInteger' and signed:
            continue  # ORT's ConvInteger takes uint8 only
        b = Builder(signed, True)
        matmul = op == 'MatMulInteger'
        shape = [32] if matmul else [6, 7, 7]
        xf = calib(*shape)
        x, xs, xz, x_scale = b.input('x', xf)
        w_dims = [32, 12] if matmul else [8, 3, 3, 3]
        w_type, w_np, lo, hi = (TensorProto.UINT8, np.uint8, 0, 255) if not signed else (TensorProto.INT8, np.int8, -128, 127)
        wq = b.const(rng.integers(lo, hi + 1, w_dims).astype(w_np), 'wq')
        channels = w_dims[1] if matmul else w_dims[0]
        # Per column for MatMulInteger; one for ConvInteger (ORT's takes no per-channel zero points).
        wz = b.const(rng.integers(lo // 2, hi // 2, channels if matmul else ()).astype(w_np), 'wz')
        attrs = {} if matmul else dict(kernel_shape=[3, 3], pads=[1, 0, 1, 2], strides=[2, 1], group=2)
        b.nodes.append(helper.make_node(op, [x, wq, xz, wz], ['acc'], **attrs))
        b.nodes.append(helper.make_node('Cast', ['acc'], ['accf'], to=TensorProto.FLOAT))
        step = float(x_scale * 0.01)
        b.nodes.append(helper.make_node('Mul', ['accf', b.const(np.array(step, np.float32), 'scale')], ['y']))
        out_shape = torch.zeros(1, 12) if matmul else torch.zeros(1, 8, 4, 7)
        emit(f"{op.lower()}_{'s8' if signed else 'u8'}", b, {'x': shape}, {'y': out_shape}, {'y': step})

# The QDQ form of the ops that ORT's quantizer wraps in QuantizeLinear/DequantizeLinear pairs around
# Inception, SqueezeNet and MobileNet branches: MaxPool (its input's scale), AveragePool, Concat of two
# scales, then Transpose, Reshape and Flatten (each keeping its input's scale).
for signed in (False, True):
    b = Builder(signed, True)
    xf = calib(4, 8, 8)
    b.inputs.append(helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 4, 8, 8]))

    def qdq(value, params, out):
        s, z, _ = params
        b.nodes.append(helper.make_node('QuantizeLinear', [value, s, z], [f'{out}.q']))
        b.nodes.append(helper.make_node('DequantizeLinear', [f'{out}.q', s, z], [out]))

    px = b.act_params(xf)
    qdq('x', px, 'xd')
    b.nodes.append(helper.make_node('MaxPool', ['xd'], ['m'], kernel_shape=[2, 2], strides=[2, 2]))
    qdq('m', px, 'md')
    af = F.avg_pool2d(xf, 3, 2, 1, count_include_pad=False)
    b.nodes.append(helper.make_node('AveragePool', ['xd'], ['a'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    qdq('a', b.act_params(af), 'ad')
    cf = torch.cat([F.max_pool2d(xf, 2, 2), af], 1)
    pc = b.act_params(cf)
    b.nodes.append(helper.make_node('Concat', ['md', 'ad'], ['c'], axis=1))
    qdq('c', pc, 'cd')
    b.nodes.append(helper.make_node('Transpose', ['cd'], ['t'], perm=[0, 2, 3, 1]))
    qdq('t', pc, 'td')
    b.nodes.append(helper.make_node('Reshape', ['td', b.const(np.array([0, 16, 8], np.int64), 'shape')], ['r']))
    qdq('r', pc, 'rd')
    b.nodes.append(helper.make_node('Flatten', ['rd'], ['f'], axis=1))
    qdq('f', pc, 'y')
    emit(f"qdq_pools_concat_{'s8' if signed else 'u8'}", b, {'x': [4, 8, 8]}, {'y': cf.flatten(1)}, {'y': pc[2]})

with open(os.path.join(args.outdir, 'manifest.json'), 'w') as f:
    json.dump(manifest, f, indent=1)
