#!/usr/bin/env python3
"""Peak resident memory of training steps: mxnext vs Apache MXNet 1.9.1 vs PyTorch 2.13.

    .venv/bin/python bench/memory.py [--net vgg16] [--batch 16] [--steps 2]

Each framework runs in its own interpreter (bench/setup_peers.sh makes .venv-mxnet and
.venv-torch): it builds the network (examples/symbols for mxnext and MXNet — the same file,
imported under each framework's name — and the same layers in torch.nn), runs --steps training
steps (forward, backward, SGD update) on random data, and reports the peak resident set size
above the baseline measured after the imports. mxnext and MXNet run the same Module code
(bind, init_params with Xavier, SGD with momentum); mxnext also prints its planned internal
memory with and without planning."""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

COMMON = r"""
import json, resource, sys, time
def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
NET, BATCH, STEPS, ROOT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
"""

MX_LIKE = COMMON + r"""
import numpy as np
import {module} as mx
sys.modules["mxnext"] = mx  # examples/symbols is written against `import mxnext as mx`
sys.path.insert(0, ROOT + "/examples")
base = rss_mb()
from symbols import NETWORKS
sym = NETWORKS[NET](num_classes=1000)
mod = mx.mod.Module(sym, context=mx.cpu())
t = time.time()
mod.bind(data_shapes=[("data", (BATCH, 3, 224, 224))],
         label_shapes=[("softmax_label", (BATCH,))])
mod.init_params(mx.init.Xavier())
mod.init_optimizer(optimizer="sgd", optimizer_params={{"learning_rate": 0.01, "momentum": 0.9}})
# The batch is made by the framework itself (no float64 NumPy temporary), as PyTorch's is.
batch = mx.io.DataBatch([mx.random.uniform(shape=(BATCH, 3, 224, 224))],
                        [mx.nd.array(np.random.randint(0, 1000, BATCH))])
for _ in range(STEPS):
    mod.forward(batch, is_train=True)
    mod.backward()
    mod.update()
mx.nd.waitall()
execs = getattr(mod, "_execs", None)  # mxnext's Module keeps its executors here
report = json.loads(execs[0].memory_report()) if execs else None
print(json.dumps({{"peak_above_baseline_mb": peak_mb() - base, "seconds_per_step":
                  (time.time() - t) / STEPS, "report": report}}))
"""

TORCH = COMMON + r"""
import torch, torch.nn as nn
torch.set_num_threads(2)
base = rss_mb()
def vgg16():
    layers, c = [], 3
    for n, f in [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]:
        for _ in range(n):
            layers += [nn.Conv2d(c, f, 3, padding=1), nn.ReLU(inplace=True)]
            c = f
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(25088, 4096), nn.ReLU(True),
                         nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(),
                         nn.Linear(4096, 1000))
if NET != "vgg16":
    print(json.dumps({"error": "the PyTorch side of this bench has VGG-16 only"}))
    sys.exit(0)
net = vgg16()
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
x = torch.rand(BATCH, 3, 224, 224)
y = torch.randint(0, 1000, (BATCH,))
t = time.time()
for _ in range(STEPS):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(net(x), y)
    loss.backward()
    opt.step()
print(json.dumps({"peak_above_baseline_mb": peak_mb() - base,
                  "seconds_per_step": (time.time() - t) / STEPS}))
"""


def run(python, code, args):
    if not os.path.exists(python):
        return {"error": "not installed (bench/setup_peers.sh)"}
    env = dict(os.environ, OMP_NUM_THREADS="2")
    proc = subprocess.run([python, "-c", code] + args, capture_output=True, text=True, env=env,
                          cwd="/tmp")
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", default="vgg16")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=2)
    a = ap.parse_args()
    args = [a.net, str(a.batch), str(a.steps), ROOT]
    runs = {
        "mxnext": (os.path.join(ROOT, ".venv", "bin", "python"),
                   MX_LIKE.format(module="mxnext")),
        "mxnet": (os.path.join(ROOT, ".venv-mxnet", "bin", "python"),
                  MX_LIKE.format(module="mxnet")),
        "pytorch": (os.path.join(ROOT, ".venv-torch", "bin", "python"), TORCH),
    }
    print(f"{a.net} training, batch {a.batch}, {a.steps} steps, 2 threads")
    for name, (python, code) in runs.items():
        r = run(python, code, args)
        if "error" in r:
            print(f"{name:<8} {r['error']}")
            continue
        line = (f"{name:<8} peak RSS above baseline {r['peak_above_baseline_mb']:8.0f} MB, "
                f"{r['seconds_per_step']:.2f} s/step")
        rep = r.get("report")
        if rep:
            line += (f"; internal memory planned {rep['planned_bytes'] / 2**20:.0f} MiB of "
                     f"{rep['unplanned_bytes'] / 2**20:.0f} MiB unplanned")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
