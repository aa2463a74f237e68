#!/usr/bin/python3
"""Export torchvision models the way users save them, at seeded random weights (no downloads).

  /usr/bin/python3 models/export_formats.py --out DIR

writes under DIR:
  resnet18_external/model.onnx + model.onnx.data   every tensor as external data (onnx's
                                                   save_as_external_data, one file), 64x64 input
  resnet18_external.input.npy / .output.npy        PyTorch's input and output
and formats.json, a manifest.
"""
import argparse
import json
import os

import numpy as np
import onnx
import torch
import torchvision

from export_reference import randomize_bn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10).eval()
    randomize_bn(model, gen)
    x = torch.randn(1, 3, 64, 64, generator=gen)
    with torch.no_grad():
        y = model(x)
    folder = os.path.join(args.out, 'resnet18_external')
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(args.out, 'resnet18_inline.onnx')
    torch.onnx.export(model, x, tmp, input_names=['input'], output_names=['output'], opset_version=13)
    m = onnx.load(tmp)
    onnx.save_model(m, os.path.join(folder, 'model.onnx'), save_as_external_data=True,
                    all_tensors_to_one_file=True, location='model.onnx.data', size_threshold=0)
    os.remove(tmp)
    np.save(os.path.join(args.out, 'resnet18_external.input.npy'), x.numpy().astype(np.float32))
    np.save(os.path.join(args.out, 'resnet18_external.output.npy'), y.numpy().astype(np.float32))
    entries = [{'name': 'resnet18_external', 'file': 'resnet18_external/model.onnx', 'input': 'resnet18_external.input.npy',
                'output': 'resnet18_external.output.npy', 'inputName': 'input', 'outputName': 'output'}]
    with open(os.path.join(args.out, 'formats.json'), 'w') as f:
        json.dump(entries, f, indent=2)


if __name__ == '__main__':
    main()
