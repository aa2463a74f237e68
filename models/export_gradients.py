#!/usr/bin/env python3
"""Reference gradients from PyTorch for resnode's backward pass.

Run with Debian's python3-torch:  /usr/bin/python3 models/export_gradients.py
Writes models/gradients/*.npy (small): the input, labels and weights (float32,
what resnode's graph holds), and, computed by PyTorch in float64 from exactly
those float32 values, the mean cross-entropy loss and the gradient of every
parameter and of the input (float64).

Network (BN in training mode, i.e. batch statistics):
  x[4,3,8,8] -> conv1 3x3 p1 (no bias) -> bn1 -> relu                 = a
             -> conv2 3x3 p1 (no bias) -> bn2 -> (+ a) -> relu        = b   (residual add)
             -> conv3 3x3 stride 2, pads [t,l,b,r] = [1,0,1,1], bias -> relu -> maxpool 2x2 s1
             -> global average pool -> flatten -> fc (6 -> 5, bias) -> CE(labels)
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gradients")
os.makedirs(OUT, exist_ok=True)

N, C, H, W = 4, 3, 8, 8
shapes = {
    "conv1.weight": (4, 3, 3, 3),
    "bn1.weight": (4,), "bn1.bias": (4,),
    "conv2.weight": (4, 4, 3, 3),
    "bn2.weight": (4,), "bn2.bias": (4,),
    "conv3.weight": (6, 4, 3, 3), "conv3.bias": (6,),
    "fc.weight": (5, 6), "fc.bias": (5,),
}
params32 = {}
for name, shape in shapes.items():
    if name.startswith("bn") and name.endswith("weight"):
        t = torch.rand(shape) + 0.5
    elif name.startswith("bn"):
        t = torch.randn(shape) * 0.1
    else:
        fan_in = int(np.prod(shape[1:]))
        t = torch.randn(shape) * (2.0 / fan_in) ** 0.5
    params32[name] = t.float()
x32 = torch.randn(N, C, H, W).float()
labels = torch.tensor([0, 3, 1, 4])

# float64 copies of the float32 values
p = {k: v.double().requires_grad_(True) for k, v in params32.items()}
x = x32.double().requires_grad_(True)


def bn_train(t, g, b):
    return F.batch_norm(t, None, None, g, b, training=True, momentum=0.1, eps=1e-5)


a = F.relu(bn_train(F.conv2d(x, p["conv1.weight"], padding=1), p["bn1.weight"], p["bn1.bias"]))
b = F.relu(bn_train(F.conv2d(a, p["conv2.weight"], padding=1), p["bn2.weight"], p["bn2.bias"]) + a)
# asymmetric pads [top=1, left=0, bottom=1, right=1]: F.pad takes (left, right, top, bottom)
c = F.relu(F.conv2d(F.pad(b, (0, 1, 1, 1)), p["conv3.weight"], p["conv3.bias"], stride=2))
c = F.max_pool2d(c, kernel_size=2, stride=1)
g = c.mean(dim=(2, 3))
logits = F.linear(g, p["fc.weight"], p["fc.bias"])
loss = F.cross_entropy(logits, labels)
loss.backward()


def save(name, arr, dtype):
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(arr, dtype=dtype))


save("input", x32.numpy(), np.float32)
save("labels", labels.numpy(), np.float32)
for k, v in params32.items():
    save(k, v.numpy(), np.float32)
save("loss", np.array([loss.item()]), np.float64)
save("logits", logits.detach().numpy(), np.float64)
save("grad.input", x.grad.numpy(), np.float64)
for k, v in p.items():
    save("grad." + k, v.grad.numpy(), np.float64)
print(f"loss {loss.item():.6f}; wrote {len(os.listdir(OUT))} files to {OUT}")
