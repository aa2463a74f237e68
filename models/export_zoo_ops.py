#!/usr/bin/python3
"""Export the CNNs whose ops resnode gained in issue 18 part A, at seeded random weights (no downloads),
at small resolutions, with PyTorch's input and output beside each.

  /usr/bin/python3 models/export_zoo_ops.py --out DIR [--only NAME,...]

writes DIR/NAME.onnx, DIR/NAME.input.npy, DIR/NAME.output.npy (float32 .npy; for a float16
model, float16 values stored as float32) and DIR/zoo_ops.json, a manifest: name, file,
inputName, outputName, float16, and `runs`: the (input, output) pairs, more than one for
models with dynamic axes (other batch sizes and resolutions).
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torchvision

from export_reference import randomize_bn


class Nhwc(nn.Module):
    """A ResNet-18 fed NHWC images, as TensorFlow/Keras exports are: the graph begins with a Transpose."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x.permute(0, 3, 1, 2))


class WithSoftmax(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.softmax(self.net(x), dim=1)


def se_resnet():
    """A small SE-ResNet stage: conv, BN, ReLU, then a squeeze-excitation gate (GAP, 1x1, ReLU, 1x1, Sigmoid, Mul)."""
    class SE(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.fc1 = nn.Conv2d(c, c // 4, 1)
            self.fc2 = nn.Conv2d(c // 4, c, 1)

        def forward(self, x):
            s = x.mean((2, 3), keepdim=True)
            return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))

    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), SE(32),
                         nn.Conv2d(32, 16, 3, stride=2), nn.Hardswish(), nn.Hardsigmoid(), nn.GELU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.LayerNorm(16), nn.Linear(16, 10))


def fold_batchnorm(module):
    """Each Conv2d followed by its BatchNorm2d (torchvision's convN/bnN and downsample pairs) fused in place."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    children = dict(module.named_children())
    for name, child in children.items():
        bn_name = name.replace('conv', 'bn') if name.startswith('conv') else None
        if isinstance(child, nn.Conv2d) and bn_name in children and isinstance(children[bn_name], nn.BatchNorm2d):
            setattr(module, name, fuse_conv_bn_eval(child, children[bn_name]))
            setattr(module, bn_name, nn.Identity())
        elif isinstance(child, nn.Sequential) and len(child) == 2 and isinstance(child[0], nn.Conv2d) and isinstance(child[1], nn.BatchNorm2d):
            child[0] = fuse_conv_bn_eval(child[0], child[1])
            child[1] = nn.Identity()
        else:
            fold_batchnorm(child)


def to_float16_file(path):
    """Every float tensor of the file (initializers, Constant values, inputs, outputs) as FLOAT16."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    def half(t):
        if t.data_type == onnx.TensorProto.FLOAT:
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name))
    for t in m.graph.initializer:
        half(t)
    for n in m.graph.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                half(a.t)
    for v in list(m.graph.input) + list(m.graph.output):
        v.type.tensor_type.elem_type = onnx.TensorProto.FLOAT16
    onnx.save(m, path)


def models(gen):
    """(name, module, input shape, opset, options) for each export."""
    tv = torchvision.models
    r18 = lambda: tv.resnet18(num_classes=10)
    return [
        ('efficientnet_b0', tv.efficientnet_b0(num_classes=10), (1, 3, 64, 64), 13, {}),
        ('regnet_y_400mf', tv.regnet_y_400mf(num_classes=10), (1, 3, 64, 64), 13, {}),
        ('mobilenet_v2', tv.mobilenet_v2(num_classes=10), (1, 3, 64, 64), 13, {}),
        ('squeezenet1_1', tv.squeezenet1_1(num_classes=10), (1, 3, 64, 64), 13, {}),
        ('se_block', se_resnet(), (2, 3, 16, 16), 17, {}),
        ('resnet18_nhwc', Nhwc(r18()), (1, 64, 64, 3), 13, {}),
        ('resnet18_softmax', WithSoftmax(r18()), (2, 3, 64, 64), 13, {}),
        ('resnet18_softmax_opset11', WithSoftmax(r18()), (1, 3, 64, 64), 11, {}),
        ('resnet18_dynamic', r18(), (1, 3, 64, 64), 13, {'dynamic': [(2, 3, 48, 80), (1, 3, 96, 64)]}),
        ('resnet18_fp16', r18(), (1, 3, 64, 64), 13, {'half': True}),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--only', default='')
    args = ap.parse_args()
    only = set(filter(None, args.only.split(',')))
    os.makedirs(args.out, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    entries = []
    for name, model, shape, opset, opts in models(gen):
        if only and name not in only:
            continue
        model = model.eval()
        randomize_bn(model, gen)
        half = opts.get('half', False)
        x = torch.randn(*shape, generator=gen)
        if half:
            # BatchNorm folded into the convs first (the exporter would fold it anyway, after the rounding),
            # then weights and input rounded to float16; the file is then written as model.half() on a GPU
            # writes it (PyTorch's CPU convolution has no float16 kernel to trace with).
            fold_batchnorm(model)
            model = model.half().float()
            x = x.half().float()
        dyn = opts.get('dynamic')
        axes = {'input': {0: 'N', 2: 'H', 3: 'W'}, 'output': {0: 'N'}} if dyn else None
        path = os.path.join(args.out, f'{name}.onnx')
        torch.onnx.export(model, x, path, input_names=['input'], output_names=['output'], opset_version=opset,
                          dynamic_axes=axes)
        if half:
            to_float16_file(path)
        entry = {'name': name, 'file': f'{name}.onnx', 'inputName': 'input', 'outputName': 'output', 'float16': half,
                 'runs': []}
        for k, s in enumerate([shape] + (dyn or [])):
            xi = x if k == 0 else torch.randn(*s, generator=gen)
            if half:
                xi = xi.half().float()
            with torch.no_grad():
                # float16 references: PyTorch's float32 run of the float16 weights, rounded once at the
                # output, as resnode computes (float32 inside, float16 at the edges).
                y = model(xi)
            if half:
                # Saved as float32 .npy (every float16 value is one): the test sends them as float16.
                xi, y = xi.half().float(), y.half().float()
            suffix = '' if k == 0 else f'.{k}'
            np.save(os.path.join(args.out, f'{name}{suffix}.input.npy'), xi.numpy())
            np.save(os.path.join(args.out, f'{name}{suffix}.output.npy'), y.numpy())
            entry['runs'].append({'input': f'{name}{suffix}.input.npy', 'output': f'{name}{suffix}.output.npy'})
        entries.append(entry)
    with open(os.path.join(args.out, 'zoo_ops.json'), 'w') as f:
        json.dump(entries, f, indent=2)


if __name__ == '__main__':
    main()
