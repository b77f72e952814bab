"""Makes the training traces that tests/python/test_train_trace.py reproduces with mxnext.

Run with Apache MXNet 1.9.1 (the .venv-mxnet venv):
    .venv-mxnet/bin/python tests/data/train/make_trace.py

A small MLP (20-16-10: FullyConnected, relu, FullyConnected, SoftmaxOutput) with fixed initial
parameters and fixed data trains for 10 steps with Module and SGD (learning_rate 0.1, momentum
0.9, wd 0.01; MXNet gives the biases wd_mult 0), once on cpu(0) (updates by the updater) and
once on [cpu(0), cpu(1)] (the batch split in two, gradients summed and the update done on the
'local' kvstore). Each trace_<name>.npz holds the data, labels, initial parameters and the
parameters after every step (step<k>:<name>)."""
import os

import mxnet as mx
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 10
BATCH = 16


def net():
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=16, name="fc1")
    act = mx.sym.Activation(fc1, act_type="relu", name="relu1")
    fc2 = mx.sym.FullyConnected(act, num_hidden=10, name="fc2")
    return mx.sym.SoftmaxOutput(fc2, name="softmax")


def main():
    rng = np.random.RandomState(42)
    data = rng.randn(STEPS * BATCH, 20).astype(np.float32)
    label = rng.randint(0, 10, size=(STEPS * BATCH,)).astype(np.float32)
    init = {
        "fc1_weight": (rng.randn(16, 20) * 0.3).astype(np.float32),
        "fc1_bias": (rng.randn(16) * 0.1).astype(np.float32),
        "fc2_weight": (rng.randn(10, 16) * 0.3).astype(np.float32),
        "fc2_bias": (rng.randn(10) * 0.1).astype(np.float32),
    }
    for tag, ctx in (("single", [mx.cpu(0)]), ("two_ctx", [mx.cpu(0), mx.cpu(1)])):
        mod = mx.mod.Module(net(), data_names=["data"], label_names=["softmax_label"],
                            context=ctx)
        mod.bind(data_shapes=[("data", (BATCH, 20))], label_shapes=[("softmax_label", (BATCH,))])
        mod.init_params(arg_params={k: mx.nd.array(v) for k, v in init.items()})
        mod.init_optimizer(kvstore="local", optimizer="sgd",
                           optimizer_params={"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01})
        out = {"data": data, "label": label}
        out.update({"init:" + k: v for k, v in init.items()})
        for step in range(STEPS):
            sl = slice(step * BATCH, (step + 1) * BATCH)
            batch = mx.io.DataBatch([mx.nd.array(data[sl])], [mx.nd.array(label[sl])])
            mod.forward_backward(batch)
            mod.update()
            args, _ = mod.get_params()
            for k, v in args.items():
                out["step%d:%s" % (step, k)] = v.asnumpy()
        np.savez(os.path.join(HERE, "trace_%s.npz" % tag), **out)
        print("wrote trace_%s.npz (MXNet %s)" % (tag, mx.__version__))


if __name__ == "__main__":
    main()
