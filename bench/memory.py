#!/usr/bin/env python3
"""Peak resident memory of training steps: mxnext vs Apache MXNet 1.9.1 vs PyTorch 2.13.

    PYTHONPATH=$PWD/build/devpy/python .venv/bin/python bench/memory.py \
        [--nets alexnet,vgg16,inception-bn,resnet50] [--batch 64] [--steps 2]
    .venv/bin/python bench/memory.py --net vgg16 --batch 16      # one network
    .venv/bin/python bench/memory.py --check                     # structure checks only

Each framework runs in its own interpreter, one after the other (bench/setup_peers.sh makes
.venv-mxnet and .venv-torch; bench/peers.py runs them): it builds the network (examples/symbols
for mxnext and MXNet — the same file, imported under each framework's name — and the same
layers in torch.nn, bench/torch_nets.py), runs --steps training steps (forward, backward, SGD
momentum update) on random data, and reports the peak resident set size above the baseline
measured after the imports, and the seconds per step (the steps only: binding and
initialisation are not timed). mxnext and MXNet run the same Module code (bind, init_params
with Xavier, SGD with momentum); mxnext also reports its planned and unplanned internal memory
(the executor's memory_report).

Before measuring, each network's torch.nn version is checked against the symbol
(bench/netcheck.py): the parameter count and the output shapes of every convolution, pooling
and fully connected layer at 224x224 must be equal."""
import argparse
import json
import os
import sys
import time

from netcheck import compare
from peers import ROOT, run
NETS = ["alexnet", "vgg16", "inception-bn", "resnet50"]
LABELS = {"mxnext": "mxnext", "mxnet": "MXNet", "pytorch": "PyTorch"}

COMMON = r"""
import json, resource, sys, time
def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
MODE, NET, BATCH, STEPS, ROOT = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
    sys.argv[5]
"""

MX_LIKE = COMMON + r"""
import numpy as np
import {module} as mx
sys.modules["mxnext"] = mx  # examples/symbols is written against `import mxnext as mx`
sys.path.insert(0, ROOT + "/examples")
base = rss_mb()
from symbols import ALL_NETWORKS
sym = ALL_NETWORKS[NET](num_classes=1000)
if MODE == "check":
    sys.path.insert(0, ROOT + "/bench")
    from netcheck import symbol_summary
    print(json.dumps(dict(symbol_summary(sym), module=mx.__file__)))
    sys.exit(0)
mod = mx.mod.Module(sym, context=mx.cpu())
mod.bind(data_shapes=[("data", (BATCH, 3, 224, 224))],
         label_shapes=[("softmax_label", (BATCH,))])
mod.init_params(mx.init.Xavier())
mod.init_optimizer(optimizer="sgd", optimizer_params={{"learning_rate": 0.01, "momentum": 0.9}})
# The batch is made by the framework itself (no float64 NumPy temporary), as PyTorch's is.
batch = mx.io.DataBatch([mx.random.uniform(shape=(BATCH, 3, 224, 224))],
                        [mx.nd.array(np.random.randint(0, 1000, BATCH))])
mx.nd.waitall()
t = time.time()
for _ in range(STEPS):
    mod.forward(batch, is_train=True)
    mod.backward()
    mod.update()
mx.nd.waitall()
seconds = (time.time() - t) / STEPS
execs = getattr(mod, "_execs", None)  # mxnext's Module keeps its executors here
report = json.loads(execs[0].memory_report()) if execs else None
print(json.dumps({{"peak_above_baseline_mb": peak_mb() - base, "seconds_per_step": seconds,
                  "report": report, "module": mx.__file__}}))
"""

TORCH = COMMON + r"""
import torch, torch.nn as nn
torch.set_num_threads(2)
base = rss_mb()
sys.path.insert(0, ROOT + "/bench")
from torch_nets import NETWORKS, summary  # the layers of examples/symbols in torch.nn
if MODE == "check":
    print(json.dumps(summary(NET)))
    sys.exit(0)
net = NETWORKS[NET]()
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


def interpreters():
    return {"mxnext": MX_LIKE.format(module="mxnext"), "mxnet": MX_LIKE.format(module="mxnet"),
            "pytorch": TORCH}


def check(net, runs):
    """The torch.nn version against the symbol: parameter count and layer output shapes."""
    mx = run("mxnext", runs["mxnext"], ["check", net, "1", "0", ROOT])
    pt = run("pytorch", runs["pytorch"], ["check", net, "1", "0", ROOT])
    if "error" in mx or "error" in pt:
        return {"ok": False, "text": f"check failed: mxnext {mx.get('error', 'ok')}, "
                                     f"PyTorch {pt.get('error', 'ok')}"}
    # Apache MXNet reads the same symbol file; where it is installed, its count is shown too.
    ref = run("mxnet", runs["mxnet"], ["check", net, "1", "0", ROOT])
    ok, text = compare(net, mx, pt, None if "error" in ref else ref)
    return {"ok": ok, "text": text, "params": mx["params"], "torch_params": pt["params"],
            "module": mx.get("module")}


def fmt_mb(r):
    return f"{r['peak_above_baseline_mb']:.0f}" if "error" not in r else "—"


def fmt_s(r):
    return f"{r['seconds_per_step']:.2f}" if "error" not in r else "—"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", default=",".join(NETS),
                    help=f"comma-separated, from {', '.join(NETS)} (default: all)")
    ap.add_argument("--net", help="one network (the same as --nets NET)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--frameworks", default="mxnext,mxnet,pytorch",
                    help="comma-separated subset of mxnext, mxnet, pytorch")
    ap.add_argument("--check", action="store_true",
                    help="only check the torch.nn networks against the symbols")
    ap.add_argument("--json", help="also write the results to this file")
    a = ap.parse_args()
    nets = [a.net] if a.net else [n for n in a.nets.split(",") if n]
    for n in nets:
        if n not in NETS:
            ap.error(f"unknown network {n!r} (choose from {', '.join(NETS)})")
    frameworks = [f for f in a.frameworks.split(",") if f]
    runs = interpreters()
    for f in frameworks:
        if f not in runs:
            ap.error(f"unknown framework {f!r}")

    log = (lambda s: print(s, file=sys.stderr, flush=True))
    results, all_ok = [], True
    print(f"training, batch {a.batch}, {a.steps} steps, 2 threads; peak RSS above the "
          f"post-import baseline", flush=True)
    for net in nets:
        c = check(net, runs)
        all_ok &= c["ok"]
        print(c["text"], flush=True)
        row = {"net": net, "batch": a.batch, "steps": a.steps, "check": c}
        if a.check:
            results.append(row)
            continue
        if not c["ok"]:
            log(f"{net}: the torch.nn version does not match the symbol; not measured")
            results.append(row)
            continue
        for f in frameworks:
            t = time.time()
            r = run(f, runs[f], ["train", net, str(a.batch), str(a.steps), ROOT])
            row[f] = r
            log(f"  {net} {LABELS[f]}: " + (r["error"] if "error" in r else
                f"{r['peak_above_baseline_mb']:.0f} MiB, {r['seconds_per_step']:.2f} s/step")
                + f" ({time.time() - t:.0f} s in all)")
        results.append(row)

    if not a.check:
        head = (f"{'net':<13}{'batch':>6}  {'peak RSS above baseline, MiB':^28}  "
                f"{'mxnext internal, MiB':^22}  {'seconds per step':^24}")
        sub = (f"{'':<13}{'':>6}  {'mxnext':>8}{'MXNet':>10}{'PyTorch':>10}  "
               f"{'planned':>10}{'unplanned':>12}  {'mxnext':>8}{'MXNet':>8}{'PyTorch':>8}")
        print()
        print(head)
        print(sub)
        for row in results:
            get = (lambda f: row.get(f, {"error": "not run"}))
            rep = get("mxnext").get("report") or {}
            pl = f"{rep['planned_bytes'] / 2**20:.0f}" if rep else "—"
            un = f"{rep['unplanned_bytes'] / 2**20:.0f}" if rep else "—"
            print(f"{row['net']:<13}{row['batch']:>6}  {fmt_mb(get('mxnext')):>8}"
                  f"{fmt_mb(get('mxnet')):>10}{fmt_mb(get('pytorch')):>10}  {pl:>10}{un:>12}  "
                  f"{fmt_s(get('mxnext')):>8}{fmt_s(get('mxnet')):>8}{fmt_s(get('pytorch')):>8}")
        for row in results:
            for f in frameworks:
                if f in row and "error" in row[f]:
                    print(f"{row['net']} {LABELS[f]}: {row[f]['error']}")
        mods = {row["check"].get("module") for row in results} - {None}
        print(f"mxnext from {', '.join(sorted(os.path.dirname(m) for m in mods))}")
    if a.json:
        for row in results:
            for f in frameworks:
                if f in row and row[f].get("report"):
                    row[f]["report"] = {k: v for k, v in row[f]["report"].items()
                                        if k != "blocks"}
        with open(a.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
