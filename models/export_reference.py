#!/usr/bin/python3
"""Export the reference models with PyTorch at seeded random weights (no downloads).

For each model <name> this writes, beside the script (or under --out):
  <name>.onnx         the ONNX export
  <name>.input.npy    PyTorch's input (float32, NCHW)
  <name>.output.npy   PyTorch's own output for that input (eval mode)
and reference.json, a manifest (name, opset, input/output names and shapes, notes).

  /usr/bin/python3 models/export_reference.py            # the small committed models
  /usr/bin/python3 models/export_reference.py --large --out DIR     # ResNet-18, ResNet-50, ResNeXt-50 32x4d (not committed)
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))


def randomize_bn(model, gen):
    """Non-trivial BN statistics and affine parameters (eval mode uses them)."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            c = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)


class PlainNet(nn.Module):
    """A few conv+bn+relu without shortcuts, ceil-mode max pool, avg pool without pad counting, a linear head."""

    def __init__(self):
        super().__init__()
        layers = []
        cin = 3
        for cout, stride in [(16, 1), (32, 2), (32, 1), (64, 2)]:
            layers += [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.avg = nn.AvgPool2d(3, 1, padding=1, count_include_pad=False)
        self.head = nn.Linear(64 * 4 * 4, 10)

    def forward(self, x):
        x = self.avg(self.pool(self.features(x)))
        return self.head(torch.flatten(x, 1))


class UnfoldedBN(nn.Module):
    """BatchNorms that cannot fold into a conv (on the input, after a ReLU, after a Linear), plus a Dropout."""

    def __init__(self):
        super().__init__()
        self.bn_in = nn.BatchNorm2d(3)
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=True)
        self.bn_after_relu = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 16, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(16, 8)
        self.bn_fc = nn.BatchNorm1d(8)

    def forward(self, x):
        x = self.bn_in(x)
        x = self.bn_after_relu(torch.relu(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(x)))
        y = torch.flatten(nn.functional.adaptive_avg_pool2d(y, 1), 1)
        return self.bn_fc(self.fc(self.drop(y)))


class OneByOne(nn.Module):
    """The mission's example: 1x192x28x28 -> 32 filters 1x1 -> 1x32x28x28."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(192, 32, 1)

    def forward(self, x):
        return self.conv(x)


def export(name, model, shape, opset, out_dir, gen, dynamic_batch=False, notes='', **kw):
    model.eval()
    x = torch.randn(*shape, generator=gen)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out_dir, name + '.onnx')
    dyn = {'input': {0: 'N'}, 'output': {0: 'N'}} if dynamic_batch else None
    torch.onnx.export(model, x, path, opset_version=opset, input_names=['input'], output_names=['output'],
                      dynamic_axes=dyn, **kw)
    np.save(os.path.join(out_dir, name + '.input.npy'), x.numpy().astype(np.float32))
    np.save(os.path.join(out_dir, name + '.output.npy'), y.numpy().astype(np.float32))
    import onnx
    m = onnx.load(path)
    ops = sorted({n.op_type for n in m.graph.node})
    print(f'{name}: opset {opset}, {os.path.getsize(path) / 1e6:.1f} MB, ops {ops}', file=sys.stderr)
    return {'name': name, 'file': name + '.onnx', 'input': name + '.input.npy', 'output': name + '.output.npy',
            'opset': opset, 'inputName': 'input', 'outputName': 'output', 'inputShape': list(shape),
            'outputShape': list(y.shape), 'dynamicBatch': dynamic_batch, 'ops': ops, 'notes': notes}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=HERE)
    ap.add_argument('--large', action='store_true',
                    help='export torchvision ResNet-18, ResNet-50 and ResNeXt-50 32x4d instead (47, 102 and 100 MB; generated at test time, not committed)')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    gen = torch.Generator().manual_seed(1234)
    entries = []
    if args.large:
        m = torchvision.models.resnet18(weights=None)
        randomize_bn(m, gen)
        entries.append(export('resnet18', m, (1, 3, 224, 224), 13, args.out, gen, dynamic_batch=True,
                              notes='torchvision ResNet-18, BN folded by the exporter, dynamic batch'))
        m = torchvision.models.resnet50(weights=None)
        randomize_bn(m, gen)
        entries.append(export('resnet50', m, (1, 3, 224, 224), 13, args.out, gen, dynamic_batch=True,
                              notes='torchvision ResNet-50, for the per-mode error bounds'))
        m = torchvision.models.resnext50_32x4d(weights=None)
        randomize_bn(m, gen)
        entries.append(export('resnext50_32x4d', m, (1, 3, 224, 224), 17, args.out, gen, dynamic_batch=True,
                              notes='torchvision ResNeXt-50 32x4d, grouped conv, opset 17'))
    else:
        m = PlainNet()
        randomize_bn(m, gen)
        entries.append(export('plain', m, (1, 3, 32, 32), 11, args.out, gen,
                              notes='plain conv+bn+relu, MaxPool ceil_mode, AveragePool count_include_pad=0, Gemm'))
        entries.append(export('conv1x1', OneByOne(), (1, 192, 28, 28), 9, args.out, gen,
                              notes='the 1x1 example, opset 9'))
        m = UnfoldedBN()
        randomize_bn(m, gen)
        entries.append(export('bn_unfolded', m, (2, 3, 16, 16), 15, args.out, gen, do_constant_folding=False,
                              notes='BatchNormalization nodes left in the graph (not after a conv), Dropout, opset 15'))
    with open(os.path.join(args.out, 'large.json' if args.large else 'reference.json'), 'w') as f:
        json.dump(entries, f, indent=2)


if __name__ == '__main__':
    main()
