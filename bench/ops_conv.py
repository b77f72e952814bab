#!/usr/bin/env python3
"""Convolution layers of AlexNet, VGG-16 and ResNet-50 (batch 16, 224x224): mxnext with and
without oneDNN vs Apache MXNet 1.9.1 vs PyTorch 2.13.

    PYTHONPATH=build/<dir>/python .venv/bin/python bench/ops_conv.py \
        [--nets alexnet,vgg16,resnet50] [--batch 16] [--repeat 3] [--rounds 2] [--train]

The layers come from examples/symbols (the networks mxnext and MXNet share): every
Convolution with its data shape, grouped by geometry (ResNet-50's 53 convolutions are 24
geometries). Each framework runs in its own interpreter with OMP_NUM_THREADS=2 (PyTorch:
torch.set_num_threads(2)); mxnext runs twice, with MXNEXT_ONEDNN=0 (the im2col + OpenBLAS
kernels) and with the default (oneDNN above its size threshold). Per layer: forward (inference)
and forward + backward (weight and bias gradients, and the data gradient except for the first
layer, whose data needs none), the best of --repeat timed calls after one warm-up; the whole
set of interpreters runs --rounds times, interleaved, and the best of the rounds is kept (the
machine is shared: repeat and take the best). A network's time is the sum over its layers
(times their count).

--train adds whole training steps (forward, backward, SGD update) of the networks through
Module for mxnext (both ways) and MXNet, and of the same networks in torch.nn
(bench/torch_nets.py), with bench/convnets.py's code."""
import argparse
import inspect
import json
import os
import sys

from convnets import code_of as train_code
from peers import ROOT, best, run

# ---- per-layer timing -------------------------------------------------------------------------
# best(fn): the fastest of `repeat` timed calls (the snippet's global) after one warm-up.
BEST_OF = inspect.getsource(best) + """
_best_of = best
def best(fn):
    return _best_of(fn, repeat)
"""

MX_LAYERS = BEST_OF + r"""
import json, sys, time
import numpy as np
import {module} as mx
layers, repeat = json.loads(sys.argv[1]), int(sys.argv[2])
res = []
for L in layers:
    p = L["params"]
    conv = mx.sym.Convolution(mx.sym.Variable("data"), name="conv", **p)
    req = {{"data": "null" if L["first"] else "write", "conv_weight": "write"}}
    if not p.get("no_bias", False):
        req["conv_bias"] = "write"
    exe = conv.simple_bind(mx.cpu(), data=tuple(L["data"]), grad_req=req)
    for name, arr in exe.arg_dict.items():
        arr[:] = mx.random.uniform(-1, 1, shape=arr.shape)
    og = mx.random.uniform(-1, 1, shape=exe.outputs[0].shape)
    mx.nd.waitall()
    def fwd():
        exe.forward(is_train=False)
        exe.outputs[0].wait_to_read()
    def fwd_bwd():
        exe.forward(is_train=True)
        exe.backward([og])
        mx.nd.waitall()
    res.append({{"fwd": best(fwd), "fwd_bwd": best(fwd_bwd)}})
    del exe
print(json.dumps({{"layers": res, "version": mx.__version__}}))
"""

TORCH_LAYERS = BEST_OF + r"""
import json, sys, time
import torch
torch.set_num_threads(2)
layers, repeat = json.loads(sys.argv[1]), int(sys.argv[2])
res = []
for L in layers:
    p = L["params"]
    n, c = L["data"][0], L["data"][1]
    g = p.get("num_group", 1)
    x = torch.rand(*L["data"]) * 2 - 1
    x.requires_grad_(not L["first"])
    w = (torch.rand(p["num_filter"], c // g, *p["kernel"]) * 2 - 1).requires_grad_()
    b = None if p.get("no_bias", False) else (torch.rand(p["num_filter"]) * 2 - 1).requires_grad_()
    kw = dict(stride=tuple(p.get("stride", (1, 1))), padding=tuple(p.get("pad", (0, 0))),
              dilation=tuple(p.get("dilate", (1, 1))), groups=g)
    og = torch.rand_like(torch.nn.functional.conv2d(x.detach(), w.detach(), None, **kw))
    def fwd():
        with torch.no_grad():
            torch.nn.functional.conv2d(x, w, b, **kw)
    def fwd_bwd():
        y = torch.nn.functional.conv2d(x, w, b, **kw)
        y.backward(og)
    res.append({"fwd": best(fwd), "fwd_bwd": best(fwd_bwd)})
print(json.dumps({"layers": res, "version": torch.__version__}))
"""

# (column, interpreter, extra environment)
FRAMEWORKS = [("mxnext-ref", "mxnext", {"MXNEXT_ONEDNN": "0"}),
              ("mxnext", "mxnext", {}),
              ("mxnet", "mxnet", {}),
              ("pytorch", "pytorch", {})]


def conv_layers(net, batch):
    """Unique convolution geometries of examples/symbols' `net` with their counts."""
    import mxnext as mx
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    from symbols import NETWORKS
    sym = NETWORKS[net](num_classes=1000)
    internals = sym.get_internals()
    _, out_shapes, _ = internals.infer_shape(data=(batch, 3, 224, 224))
    shape_of = dict(zip(internals.list_outputs(), out_shapes))
    nodes = json.loads(sym.tojson())["nodes"]

    def entry_shape(nid, idx):
        n = nodes[nid]
        if n["op"] == "null":
            return (batch, 3, 224, 224) if n["name"] == "data" else None
        key = n["name"] + "_output" if idx == 0 and n["name"] + "_output" in shape_of \
            else f"{n['name']}_output{idx}"
        return shape_of[key]

    layers = {}
    for n in nodes:
        if n["op"] != "Convolution":
            continue
        a = n.get("attrs", n.get("param", {}))
        tup = lambda s: [int(v) for v in s.strip("()[] ").split(",") if v.strip()]  # noqa: E731
        p = {"kernel": tup(a["kernel"]), "num_filter": int(a["num_filter"])}
        for k in ("stride", "pad", "dilate"):
            if k in a and tup(a[k]):
                p[k] = tup(a[k])
        if int(a.get("num_group", 1)) != 1:
            p["num_group"] = int(a["num_group"])
        if a.get("no_bias", "False") in ("True", "true", "1"):
            p["no_bias"] = True
        src = n["inputs"][0]
        first = nodes[src[0]]["op"] == "null" and nodes[src[0]]["name"] == "data"
        data = list(entry_shape(src[0], src[1]))
        key = json.dumps([data, p, first], sort_keys=True)
        if key in layers:
            layers[key]["count"] += 1
        else:
            layers[key] = {"data": data, "params": p, "first": first, "count": 1,
                           "name": n["name"]}
    return list(layers.values())


def layer_code(fw):
    if fw == "pytorch":
        return TORCH_LAYERS
    return MX_LAYERS.format(module=fw)


def merge_best(acc, r):
    if "error" in r:
        return acc if acc is not None else r
    if acc is None or "error" in acc:
        return r
    for a, b in zip(acc["layers"], r["layers"]):
        for k in ("fwd", "fwd_bwd"):
            a[k] = min(a[k], b[k])
    return acc


def ratio(a, b):
    return f"{a / b:5.2f}" if a and b else "   - "


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", default="alexnet,vgg16,resnet50")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--frameworks", default=",".join(f[0] for f in FRAMEWORKS))
    ap.add_argument("--train", action="store_true", help="also time whole training steps")
    ap.add_argument("--json", help="write every figure here")
    a = ap.parse_args()
    fws = [f for f in FRAMEWORKS if f[0] in a.frameworks.split(",")]
    out = {"batch": a.batch, "nets": {}}
    for net in a.nets.split(","):
        layers = conv_layers(net, a.batch)
        arg = json.dumps([{k: L[k] for k in ("data", "params", "first")} for L in layers])
        best = {}
        for _ in range(a.rounds):
            for col, fw, env in fws:
                best[col] = merge_best(best.get(col), run(fw, layer_code(fw),
                                                          [arg, str(a.repeat)], env))
        print(f"\n{net}: {sum(L['count'] for L in layers)} convolutions, {len(layers)} "
              f"geometries, batch {a.batch}; ms per layer (x count), best of {a.repeat} x "
              f"{a.rounds} rounds")
        cols = [c for c, _, _ in fws]
        print(f"{'layer':<22}{'n':>3} " + "".join(f"{c + ' fwd':>16}{c + ' f+b':>16}"
                                                   for c in cols))
        totals = {c: [0.0, 0.0] for c in cols}
        for i, L in enumerate(layers):
            row = f"{L['name'][:21]:<22}{L['count']:>3} "
            for c in cols:
                r = best[c]
                if "error" in r:
                    row += f"{'-':>16}{'-':>16}"
                    continue
                f, fb = r["layers"][i]["fwd"], r["layers"][i]["fwd_bwd"]
                totals[c][0] += f * L["count"]
                totals[c][1] += fb * L["count"]
                row += f"{f * 1e3:16.2f}{fb * 1e3:16.2f}"
            print(row)
        print(f"{'total (s)':<26}" + "".join(
            f"{totals[c][0]:16.3f}{totals[c][1]:16.3f}" if "error" not in best[c]
            else f"{best[c]['error'][:30]:>32}" for c in cols))
        netres = {"layers": layers, "totals": totals,
                  "errors": {c: best[c]["error"] for c in cols if "error" in best[c]}}
        if "mxnext" in totals:
            m = totals["mxnext"]
            for c in cols:
                if c != "mxnext" and "error" not in best[c]:
                    print(f"  {c} / mxnext: forward {ratio(totals[c][0], m[0])}x, "
                          f"forward+backward {ratio(totals[c][1], m[1])}x")
        if a.train:
            steps = {}
            for _ in range(a.rounds):
                for col, fw, env in fws:
                    r = run(fw, train_code(fw), [net, a.batch, "train", a.repeat, ROOT], env)
                    if "times" in r:
                        r = {"step": min(r["times"])}
                    if "error" not in r and ("step" not in steps.get(col, {})
                                             or r["step"] < steps[col]["step"]):
                        steps[col] = r
                    steps.setdefault(col, r)
            netres["train"] = steps
            print(f"  training step (s, best of {a.repeat} x {a.rounds}): " + ", ".join(
                f"{c} {steps[c]['step']:.3f}" if "step" in steps[c]
                else f"{c} {steps[c].get('error', '-')[:40]}" for c in cols))
        out["nets"][net] = netres
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
