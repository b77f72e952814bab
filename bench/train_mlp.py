#!/usr/bin/env python3
"""Training steps per second: an MLP 784-256-128-10 (relu), batch 128, SGD with momentum 0.9,
softmax cross-entropy, on random data already in memory.

    PYTHONPATH=build/<dir>/python .venv/bin/python bench/train_mlp.py [--steps 200] [--repeat 3]
        [--rounds 3]

One run on this machine measures mxnext's Module, Apache MXNet 1.9.1's Module (.venv-mxnet)
and PyTorch 2.13 (.venv-torch, nn.Sequential + optim.SGD), each in its own interpreter with 2
threads. A step is forward, backward and the optimizer update (Module: forward_backward +
update; PyTorch: zero_grad, forward, loss, backward, step); the best of --repeat timed runs of
--steps steps after 20 warm-up steps, over --rounds interleaved rounds of the three
interpreters (so load from other processes hits each alike), is reported."""
import argparse
import sys

from peers import run

MODULE_API = r"""
import json, sys, time
import numpy as np
import {module} as mx
steps, repeat = int(sys.argv[1]), int(sys.argv[2])
B = 128
data = mx.sym.Variable("data")
h = mx.sym.Activation(mx.sym.FullyConnected(data, num_hidden=256, name="fc1"), act_type="relu")
h = mx.sym.Activation(mx.sym.FullyConnected(h, num_hidden=128, name="fc2"), act_type="relu")
net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(h, num_hidden=10, name="fc3"), name="softmax")
rng = np.random.RandomState(0)
batches = [mx.io.DataBatch([mx.nd.array(rng.rand(B, 784).astype(np.float32))],
                           [mx.nd.array(rng.randint(0, 10, B).astype(np.float32))])
           for _ in range(8)]
mod = mx.mod.Module(net, context=mx.cpu())
mod.bind(data_shapes=[("data", (B, 784))], label_shapes=[("softmax_label", (B,))])
mod.init_params(mx.init.Xavier())
mod.init_optimizer(optimizer="sgd", optimizer_params={{"learning_rate": 0.01, "momentum": 0.9}})
def run(n):
    t = time.perf_counter()
    for i in range(n):
        mod.forward_backward(batches[i % 8])
        mod.update()
    mod.get_params()[0]["fc1_weight"].wait_to_read()
    mx.nd.waitall()
    return time.perf_counter() - t
run(20)
best = min(run(steps) for _ in range(repeat))
print(json.dumps({{"steps_per_s": steps / best, "version": mx.__version__}}))
"""

SNIPPETS = {
    "mxnext": MODULE_API.format(module="mxnext"),
    "mxnet": MODULE_API.format(module="mxnet"),
    "pytorch": r"""
import json, sys, time
import numpy as np
import torch
torch.set_num_threads(2)
steps, repeat = int(sys.argv[1]), int(sys.argv[2])
B = 128
net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                          torch.nn.ReLU(), torch.nn.Linear(128, 10))
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
loss_fn = torch.nn.CrossEntropyLoss()
rng = np.random.RandomState(0)
batches = [(torch.from_numpy(rng.rand(B, 784).astype(np.float32)),
            torch.from_numpy(rng.randint(0, 10, B))) for _ in range(8)]
def run(n):
    t = time.perf_counter()
    for i in range(n):
        x, y = batches[i % 8]
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
    return time.perf_counter() - t
run(20)
best = min(run(steps) for _ in range(repeat))
print(json.dumps({"steps_per_s": steps / best, "version": torch.__version__}))
""",
}

def measure(name, steps, repeat):
    r = run(name, SNIPPETS[name], [steps, repeat])
    return (None, r["error"]) if "error" in r else (r, None)


def main():
    ap = argparse.ArgumentParser(description="MLP training steps per second")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3,
                    help="interpreters run this many times, interleaved; the best round counts")
    args = ap.parse_args()
    results, why_not = {}, {}
    print(f"MLP 784-256-128-10, batch 128, SGD momentum; {args.steps} steps, best of "
          f"{args.repeat} runs x {args.rounds} interleaved rounds")
    names = ["mxnext", "mxnet", "pytorch"]
    for _ in range(args.rounds):
        # Interleaved, so load from other processes on the machine hits every framework alike.
        for name in names:
            if name in why_not:
                continue
            r, why = measure(name, args.steps, args.repeat)
            if r is None:
                why_not[name] = why
            elif name not in results or r["steps_per_s"] > results[name]["steps_per_s"]:
                results[name] = r
    for name in names:
        if name in why_not:
            print(f"{name:<8} -   {why_not[name]}")
        else:
            r = results[name]
            print(f"{name:<8} {r['steps_per_s']:>8.1f} steps/s   ({r.get('version', '')})")
    if "mxnext" in results:
        for peer in ["mxnet", "pytorch"]:
            if peer in results:
                ratio = results["mxnext"]["steps_per_s"] / results[peer]["steps_per_s"]
                print(f"mxnext / {peer}: {ratio:.2f}x (higher is better)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
