#!/usr/bin/env python3
"""Peak resident memory of training steps: mxnext vs Apache MXNet 1.9.1 vs PyTorch 2.13.

    PYTHONPATH=$PWD/build/devpy/python .venv/bin/python bench/memory.py \
        [--nets alexnet,vgg16,inception-bn,resnet50] [--batch 64] [--steps 2]
    .venv/bin/python bench/memory.py --net vgg16 --batch 16      # one network
    .venv/bin/python bench/memory.py --check                     # structure checks only

Each framework runs in its own interpreter, one after the other (bench/setup_peers.sh makes
.venv-mxnet and .venv-torch): it builds the network (examples/symbols for mxnext and MXNet —
the same file, imported under each framework's name — and the same layers in torch.nn below),
runs --steps training steps (forward, backward, SGD momentum update) on random data, and
reports the peak resident set size above the baseline measured after the imports, and the
seconds per step (the steps only: binding and initialisation are not timed). mxnext and MXNet
run the same Module code (bind, init_params with Xavier, SGD with momentum); mxnext also
reports its planned and unplanned internal memory (the executor's memory_report).

Before measuring, each network's torch.nn version is checked against the symbol: the parameter
count (the symbol's arguments without data and label; BatchNorm's moving statistics are
auxiliary states in MXNet and buffers in PyTorch, so neither side counts them) and the output
shapes of every convolution, pooling and fully connected layer at 224x224 must be equal."""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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
from symbols import NETWORKS
sym = NETWORKS[NET](num_classes=1000)
if MODE == "check":
    shapes = dict(data=(1, 3, 224, 224), softmax_label=(1,))
    args, _, _ = sym.infer_shape(**shapes)
    params = sum(int(np.prod(s)) for n, s in zip(sym.list_arguments(), args)
                 if n not in ("data", "softmax_label"))
    kinds = {{n["name"] + "_output": n["op"] for n in json.loads(sym.tojson())["nodes"]
             if n["op"] in ("Convolution", "Pooling", "FullyConnected")}}
    internals = sym.get_internals()
    _, outs, _ = internals.infer_shape(**shapes)
    layers = sorted([kinds[n], list(s)] for n, s in zip(internals.list_outputs(), outs)
                    if n in kinds)
    print(json.dumps({{"params": params, "layers": layers, "module": mx.__file__}}))
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
# The layers of examples/symbols, as a PyTorch user writes them (torchvision's style: ReLU in
# place, the residual added in place). MXNet's Pooling defaults to pooling_convention 'valid'
# (floor), as PyTorch's ceil_mode=False; its BatchNorm momentum 0.9 is PyTorch's 0.1 and
# count_include_pad defaults to True in both; LRN is knorm + alpha / nsize * sum in both.

def alexnet():
    lrn = lambda: nn.LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2)
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(True), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(True), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(True),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(True), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Linear(256 * 5 * 5, 4096), nn.ReLU(True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(4096, 1000))

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

def cbr(cin, cout, k, stride=1, pad=0):  # inception_bn.conv: Convolution (bias), BN, ReLU
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride=stride, padding=pad),
                         nn.BatchNorm2d(cout, eps=2e-5), nn.ReLU(True))

class InceptionA(nn.Module):
    def __init__(self, cin, n1, n3r, n3, nd3r, nd3, pool, proj):
        super().__init__()
        self.c1 = cbr(cin, n1, 1)
        self.c3 = nn.Sequential(cbr(cin, n3r, 1), cbr(n3r, n3, 3, pad=1))
        self.d3 = nn.Sequential(cbr(cin, nd3r, 1), cbr(nd3r, nd3, 3, pad=1),
                                cbr(nd3, nd3, 3, pad=1))
        p = nn.AvgPool2d(3, 1, 1) if pool == "avg" else nn.MaxPool2d(3, 1, 1)
        self.p = nn.Sequential(p, cbr(cin, proj, 1))
        self.cout = n1 + n3 + nd3 + proj
    def forward(self, x):
        return torch.cat([self.c1(x), self.c3(x), self.d3(x), self.p(x)], 1)

class InceptionB(nn.Module):
    def __init__(self, cin, n3r, n3, nd3r, nd3):
        super().__init__()
        self.c3 = nn.Sequential(cbr(cin, n3r, 1), cbr(n3r, n3, 3, stride=2, pad=1))
        self.d3 = nn.Sequential(cbr(cin, nd3r, 1), cbr(nd3r, nd3, 3, pad=1),
                                cbr(nd3, nd3, 3, stride=2, pad=1))
        self.p = nn.MaxPool2d(3, 2, 1)
        self.cout = n3 + nd3 + cin
    def forward(self, x):
        return torch.cat([self.c3(x), self.d3(x), self.p(x)], 1)

def inception_bn():
    layers = [cbr(3, 64, 7, stride=2, pad=3), nn.MaxPool2d(3, 2), cbr(64, 64, 1),
              cbr(64, 192, 3, pad=1), nn.MaxPool2d(3, 2)]
    c = 192
    for kind, *a in [("a", 64, 64, 64, 64, 96, "avg", 32), ("a", 64, 64, 96, 64, 96, "avg", 64),
                     ("b", 128, 160, 64, 96), ("a", 224, 64, 96, 96, 128, "avg", 128),
                     ("a", 192, 96, 128, 96, 128, "avg", 128),
                     ("a", 160, 128, 160, 128, 160, "avg", 128),
                     ("a", 96, 128, 192, 160, 192, "avg", 128), ("b", 128, 192, 192, 256),
                     ("a", 352, 192, 320, 160, 224, "avg", 128),
                     ("a", 352, 192, 320, 192, 224, "max", 128)]:
        layers.append((InceptionA if kind == "a" else InceptionB)(c, *a))
        c = layers[-1].cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 1000))

class Bottleneck(nn.Module):  # resnet.bottleneck: stride on the 3x3, as torchvision's
    def __init__(self, cin, f, stride, dim_match):
        super().__init__()
        bn = lambda c: nn.BatchNorm2d(c, eps=2e-5)
        self.conv1, self.bn1 = nn.Conv2d(cin, f // 4, 1, bias=False), bn(f // 4)
        self.conv2 = nn.Conv2d(f // 4, f // 4, 3, stride=stride, padding=1, bias=False)
        self.bn2 = bn(f // 4)
        self.conv3, self.bn3 = nn.Conv2d(f // 4, f, 1, bias=False), bn(f)
        self.relu = nn.ReLU(inplace=True)
        self.sc = None if dim_match else nn.Sequential(
            nn.Conv2d(cin, f, 1, stride=stride, bias=False), bn(f))
    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += x if self.sc is None else self.sc(x)
        return self.relu(out)

def resnet50():
    layers = [nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64, eps=2e-5),
              nn.ReLU(True), nn.MaxPool2d(3, 2, 1)]
    c = 64
    for stage, (n, f) in enumerate(zip((3, 4, 6, 3), (256, 512, 1024, 2048))):
        layers.append(Bottleneck(c, f, 1 if stage == 0 else 2, False))
        layers += [Bottleneck(f, f, 1, True) for _ in range(n - 1)]
        c = f
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 1000))

NETWORKS = {"alexnet": alexnet, "vgg16": vgg16, "inception-bn": inception_bn,
            "resnet50": resnet50}
net = NETWORKS[NET]()
if MODE == "check":
    kinds = {nn.Conv2d: "Convolution", nn.MaxPool2d: "Pooling", nn.AvgPool2d: "Pooling",
             nn.AdaptiveAvgPool2d: "Pooling", nn.Linear: "FullyConnected"}
    layers = []
    for m in net.modules():
        if type(m) in kinds:
            m.register_forward_hook(lambda m, i, o: layers.append([kinds[type(m)],
                                                                    list(o.shape)]))
    net.eval()
    with torch.no_grad():
        net(torch.rand(1, 3, 224, 224))
    print(json.dumps({"params": sum(p.numel() for p in net.parameters()),
                      "layers": sorted(layers)}))
    sys.exit(0)
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
    return {
        "mxnext": (os.path.join(ROOT, ".venv", "bin", "python"), MX_LIKE.format(module="mxnext")),
        "mxnet": (os.path.join(ROOT, ".venv-mxnet", "bin", "python"),
                  MX_LIKE.format(module="mxnet")),
        "pytorch": (os.path.join(ROOT, ".venv-torch", "bin", "python"), TORCH),
    }


def run(name, python, code, args):
    if not os.path.exists(python):
        return {"error": "not installed (bench/setup_peers.sh)"}
    env = dict(os.environ, OMP_NUM_THREADS="2")
    # The children run in /tmp: a relative PYTHONPATH (for the mxnext under test) would
    # silently fall back to an installed mxnext there, so it is made absolute. The peers get
    # none, so that nothing of this checkout shadows their own packages.
    if name == "mxnext" and env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p)
                                            for p in env["PYTHONPATH"].split(os.pathsep) if p)
    else:
        env.pop("PYTHONPATH", None)
    proc = subprocess.run([python, "-c", code] + args, capture_output=True, text=True, env=env,
                          cwd="/tmp")
    if proc.returncode != 0:
        if proc.returncode < 0:
            return {"error": f"killed by signal {-proc.returncode}"
                             + (" (out of memory?)" if proc.returncode == -9 else "")}
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def check(net, runs):
    """The torch.nn version against the symbol: parameter count and layer output shapes."""
    mx = run("mxnext", *runs["mxnext"], ["check", net, "1", "0", ROOT])
    pt = run("pytorch", *runs["pytorch"], ["check", net, "1", "0", ROOT])
    if "error" in mx or "error" in pt:
        return {"ok": False, "text": f"check failed: mxnext {mx.get('error', 'ok')}, "
                                     f"PyTorch {pt.get('error', 'ok')}"}
    # Apache MXNet reads the same symbol file; where it is installed, its count is shown too.
    ref = run("mxnet", *runs["mxnet"], ["check", net, "1", "0", ROOT])
    ok = (mx["params"] == pt["params"] and mx["layers"] == pt["layers"]
          and ("error" in ref or (ref["params"], ref["layers"]) == (mx["params"], mx["layers"])))
    text = (f"{net}: parameters mxnext symbol {mx['params']:,}"
            + ("" if "error" in ref else f", MXNet symbol {ref['params']:,}")
            + f", torch.nn {pt['params']:,}; {len(mx['layers'])} conv/pool/fc output shapes "
            f"{'equal' if mx['layers'] == pt['layers'] else 'DIFFER'}"
            + ("" if "error" in ref or ref["layers"] == mx["layers"] else " (MXNet's DIFFER)")
            + ("" if ok else "  <-- MISMATCH"))
    if mx["layers"] != pt["layers"]:
        only_mx = [x for x in mx["layers"] if x not in pt["layers"]]
        only_pt = [x for x in pt["layers"] if x not in mx["layers"]]
        text += f"\n    only in the symbol: {only_mx}\n    only in torch.nn: {only_pt}"
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
            r = run(f, *runs[f], ["train", net, str(a.batch), str(a.steps), ROOT])
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
