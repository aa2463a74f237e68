"""Builds single quantized Add models with the onnx package alone, independently
of resnode: A, B -> QuantizeLinear -> DequantizeLinear -> Add [-> Relu] ->
QuantizeLinear -> DequantizeLinear -> C, all 1-D of length n, the pattern ONNX
Runtime's QDQ transformer fuses into one QLinearAdd.

usage: make_qadd.py --out-dir DIR --cases JSON
  JSON: a list of {"sa", "za", "sb", "zb", "sc", "zc", "n", "int8", "relu"}; writes DIR/case<i>.onnx
"""
import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

p = argparse.ArgumentParser()
p.add_argument('--out-dir', required=True)
p.add_argument('--cases', required=True)
args = p.parse_args()

for i, c in enumerate(json.loads(args.cases)):
    dt = np.int8 if c['int8'] else np.uint8
    inits = []
    for name in 'abc':
        inits.append(numpy_helper.from_array(np.array(c['s' + name], dtype=np.float32), name + '_s'))
        inits.append(numpy_helper.from_array(np.array(c['z' + name], dtype=dt), name + '_z'))
    nodes = [
        helper.make_node('QuantizeLinear', ['A', 'a_s', 'a_z'], ['Aq']),
        helper.make_node('DequantizeLinear', ['Aq', 'a_s', 'a_z'], ['Ad']),
        helper.make_node('QuantizeLinear', ['B', 'b_s', 'b_z'], ['Bq']),
        helper.make_node('DequantizeLinear', ['Bq', 'b_s', 'b_z'], ['Bd']),
        helper.make_node('Add', ['Ad', 'Bd'], ['S']),
    ]
    last = 'S'
    if c['relu']:
        nodes.append(helper.make_node('Relu', ['S'], ['R']))
        last = 'R'
    nodes += [helper.make_node('QuantizeLinear', [last, 'c_s', 'c_z'], ['Cq']),
              helper.make_node('DequantizeLinear', ['Cq', 'c_s', 'c_z'], ['C'])]
    n = c['n']
    graph = helper.make_graph(
        nodes, 'qadd',
        [helper.make_tensor_value_info('A', TensorProto.FLOAT, [n]), helper.make_tensor_value_info('B', TensorProto.FLOAT, [n])],
        [helper.make_tensor_value_info('C', TensorProto.FLOAT, [n])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.save(model, os.path.join(args.out_dir, f'case{i}.onnx'))
