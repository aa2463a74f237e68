#!/usr/bin/python3
"""Export torchvision's CNN classifiers (seeded random weights, no downloads) for the zoo run.

For each model <name> this writes under --out:
  <name>.onnx, <name>.input.npy (float32 NCHW), <name>.output.npy (PyTorch's output, eval mode)
and zoo.json, a manifest (name, family, input shape, opset, ops, notes).

  /usr/bin/python3 models/export_zoo.py --out DIR            # every family at 224x224 (Inception v3 at 299)
  /usr/bin/python3 models/export_zoo.py --small --out DIR    # one small model per family at 64x64 (npm test)
  /usr/bin/python3 models/export_zoo.py --only mnasnet0_5,vgg11 --out DIR
  /usr/bin/python3 models/export_zoo.py --opsets 11,13,17 --batches 1,2 --dynamic --out DIR   # every export setting
  /usr/bin/python3 models/export_zoo.py --tiny --opsets 11,17 --dynamic --out DIR   # tiny ShuffleNetV2/ConvNeXt (npm test)

By default each export uses torch.onnx.export's default settings at opset 13 (batch 1).
--opsets and --batches export each model once per opset and batch; --dynamic adds, for each,
an export with dynamic batch, height and width axes, checked at its traced shape and at a
second one (batch + 1, height and width + 32, or + 8 with --tiny). A model that PyTorch cannot
export is listed with its error instead.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torchvision

from export_reference import randomize_bn

HERE = os.path.dirname(os.path.abspath(__file__))
M = torchvision.models
nn = torch.nn


class PreActBottleneck(nn.Module):
    """ResNet-v2's bottleneck (He et al. 2016, "Identity Mappings"): BN and ReLU before each conv,
    so the first BN of a block has no conv before it (a standalone BatchNormalization)."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        needs = stride != 1 or cin != planes * 4
        self.shortcut = nn.Conv2d(cin, planes * 4, 1, stride, bias=False) if needs else None

    def forward(self, x):
        out = torch.relu(self.bn1(x))
        sc = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(torch.relu(self.bn2(out)))
        out = self.conv3(torch.relu(self.bn3(out)))
        return out + sc


def preact_resnet50():
    """Pre-activation ResNet-v2-50: not in torchvision, but the issue's 1.0x speed target."""
    layers, cin = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.MaxPool2d(3, 2, 1)], 64
    for planes, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for b in range(blocks):
            layers.append(PreActBottleneck(cin, planes, stride if b == 0 else 1))
            cin = planes * 4
    layers += [nn.BatchNorm2d(cin), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1000)]
    return nn.Sequential(*layers)


# (name, family, constructor, native resolution). One entry per family first, so
# that --small (the first of each family) covers every family.
ZOO = [
    ('resnet18', 'ResNet', lambda: M.resnet18(), 224),
    ('resnet50', 'ResNet', lambda: M.resnet50(), 224),
    ('preact_resnet50', 'ResNet-v2 (pre-activation)', preact_resnet50, 224),
    ('resnext50_32x4d', 'ResNeXt', lambda: M.resnext50_32x4d(), 224),
    ('wide_resnet50_2', 'Wide-ResNet', lambda: M.wide_resnet50_2(), 224),
    ('regnet_x_400mf', 'RegNetX', lambda: M.regnet_x_400mf(), 224),
    ('regnet_y_400mf', 'RegNetY', lambda: M.regnet_y_400mf(), 224),
    ('mobilenet_v2', 'MobileNetV2', lambda: M.mobilenet_v2(), 224),
    ('mobilenet_v3_small', 'MobileNetV3', lambda: M.mobilenet_v3_small(), 224),
    ('mobilenet_v3_large', 'MobileNetV3', lambda: M.mobilenet_v3_large(), 224),
    ('mnasnet0_5', 'MNASNet', lambda: M.mnasnet0_5(), 224),
    ('mnasnet1_0', 'MNASNet', lambda: M.mnasnet1_0(), 224),
    ('efficientnet_b0', 'EfficientNet', lambda: M.efficientnet_b0(), 224),
    ('efficientnet_v2_s', 'EfficientNetV2', lambda: M.efficientnet_v2_s(), 224),
    ('shufflenet_v2_x1_0', 'ShuffleNetV2', lambda: M.shufflenet_v2_x1_0(), 224),
    ('shufflenet_v2_x0_5', 'ShuffleNetV2', lambda: M.shufflenet_v2_x0_5(), 224),
    ('squeezenet1_1', 'SqueezeNet', lambda: M.squeezenet1_1(), 224),
    ('googlenet', 'GoogLeNet', lambda: M.googlenet(aux_logits=False, init_weights=True), 224),
    ('inception_v3', 'Inception v3', lambda: M.inception_v3(aux_logits=False, init_weights=True), 299),
    ('densenet121', 'DenseNet', lambda: M.densenet121(), 224),
    ('vgg11_bn', 'VGG', lambda: M.vgg11_bn(), 224),
    ('alexnet', 'AlexNet', lambda: M.alexnet(), 224),
    ('convnext_tiny', 'ConvNeXt', lambda: M.convnext_tiny(), 224),
]
# The same architectures at a few channels (npm test's export-settings test, 32x32).
TINY = [
    ('shufflenet_tiny', 'ShuffleNetV2', lambda: M.ShuffleNetV2([1, 2, 1], [8, 16, 32, 48, 64], num_classes=10), 32),
    ('convnext_tiny_blocks', 'ConvNeXt', lambda: M.ConvNeXt([M.convnext.CNBlockConfig(16, 32, 1), M.convnext.CNBlockConfig(32, None, 2)], num_classes=10), 32),
]
# Small inputs per family: Inception v3's stem and pools need 75 or more.
SMALL_RES = {'Inception v3': 96}
# The adaptive pools of VGG (7x7) and AlexNet (6x6) export only where their
# output divides the input (224), and their 500 and 240 MB of weights at 224
# are too slow for npm test: the full zoo run covers them.
SMALL_SKIP = {'VGG', 'AlexNet'}
SMALL = 64


def randomize_layer_scale(model, gen):
    """ConvNeXt's layer scale starts at 1e-6, which hides each block's residual branch from the
    output; scales near 1 make the comparison see every block."""
    for m in model.modules():
        if hasattr(m, 'layer_scale') and isinstance(m.layer_scale, nn.Parameter):
            with torch.no_grad():
                m.layer_scale.copy_(torch.rand(m.layer_scale.shape, generator=gen) + 0.5)


def export(name, family, model, res, out_dir, gen, opset=13, batch=1, dynamic=False, grow=32, tag=''):
    """One export; tag names its files (the model's name alone for the default settings)."""
    model.eval()
    randomize_bn(model, gen)
    randomize_layer_scale(model, gen)
    stem = name + tag
    x = torch.randn(batch, 3, res, res, generator=gen)
    shapes = [x]
    if dynamic:
        shapes.append(torch.randn(batch + 1, 3, res + grow, res + grow, generator=gen))
    checks = []
    for k, xk in enumerate(shapes):
        with torch.no_grad():
            y = model(xk)
        suffix = '' if k == 0 else f'.{k + 1}'
        np.save(os.path.join(out_dir, f'{stem}.input{suffix}.npy'), xk.numpy().astype(np.float32))
        np.save(os.path.join(out_dir, f'{stem}.output{suffix}.npy'), y.numpy().astype(np.float32))
        checks.append({'input': f'{stem}.input{suffix}.npy', 'output': f'{stem}.output{suffix}.npy', 'inputShape': list(xk.shape)})
    path = os.path.join(out_dir, stem + '.onnx')
    axes = {'input': {0: 'N', 2: 'H', 3: 'W'}, 'output': {0: 'N'}} if dynamic else None
    torch.onnx.export(model, x, path, opset_version=opset, input_names=['input'], output_names=['output'], dynamic_axes=axes)
    import onnx
    ops = sorted({n.op_type for n in onnx.load(path, load_external_data=False).graph.node})
    setting = f'opset {opset}, batch {batch}' + (', dynamic N/H/W' if dynamic else '')
    print(f'{stem}: {res}x{res}, {setting}, {os.path.getsize(path) / 1e6:.1f} MB', file=sys.stderr)
    return {'name': name, 'family': family, 'setting': setting, 'file': stem + '.onnx', 'input': checks[0]['input'],
            'output': checks[0]['output'], 'inputName': 'input', 'outputName': 'output',
            'inputShape': [batch, 3, res, res], 'opset': opset, 'batch': batch, 'dynamic': dynamic, 'checks': checks, 'ops': ops}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--small', action='store_true', help=f'the first model of each family at {SMALL}x{SMALL} (not VGG, AlexNet)')
    ap.add_argument('--tiny', action='store_true', help='tiny ShuffleNetV2 and ConvNeXt models at 32x32 instead of the zoo')
    ap.add_argument('--only', default='', help='comma-separated model names')
    ap.add_argument('--opsets', default='13', help='comma-separated opsets to export each model at')
    ap.add_argument('--batches', default='1', help='comma-separated batch sizes to export each model at')
    ap.add_argument('--dynamic', action='store_true', help='also export each with dynamic batch, height and width')
    args = ap.parse_args()
    opsets = [int(v) for v in args.opsets.split(',') if v]
    batches = [int(v) for v in args.batches.split(',') if v]
    settings = [(o, b, d) for o in opsets for b in batches for d in ([False, True] if args.dynamic else [False])]
    default = settings == [(13, 1, False)]
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    only = [s for s in args.only.split(',') if s]
    seen = set()
    entries = []
    for name, family, make, res in TINY if args.tiny else ZOO:
        if only and name not in only:
            continue
        if args.small:
            if family in seen or family in SMALL_SKIP:
                continue
            res = SMALL_RES.get(family, SMALL)
        seen.add(family)
        for opset, batch, dynamic in settings:
            torch.manual_seed(0)  # the constructor's random init
            gen = torch.Generator().manual_seed(1234)
            tag = '' if default else f'.op{opset}.b{batch}' + ('.dyn' if dynamic else '')
            try:
                entries.append(export(name, family, make(), res, args.out, gen, opset, batch, dynamic, 8 if args.tiny else 32, tag))
            except Exception as e:  # listed, so the zoo run prints why
                entries.append({'name': name, 'family': family, 'setting': f'opset {opset}, batch {batch}' + (', dynamic N/H/W' if dynamic else ''),
                                'exportError': f'{type(e).__name__}: {e}'.split('\n')[0]})
    with open(os.path.join(args.out, 'zoo.json'), 'w') as f:
        json.dump(entries, f, indent=2)


if __name__ == '__main__':
    main()
