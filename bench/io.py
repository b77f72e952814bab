"""ImageRecordIter throughput: mxnext against Apache MXNet 1.9.1, same file, same parameters,
same thread count, in one run (DESIGN §11). Not part of CI.

    bash bench/setup_peers.sh                    # makes .venv-mxnet (once)
    .venv/bin/python bench/io.py [--images 3000] [--threads N] [--epochs 2]

Makes bench/results/io_bench.rec (synthetic JPEGs of 256 x 256..340 pixels, quality 90, packed
with mx.recordio.pack_img) unless it exists, then times full epochs of
ImageRecordIter(data_shape=(3, 224, 224), batch_size=32, rand_crop, rand_mirror, mean/std),
waiting for every batch's data. Prints images/second of both and the ratio (the bar: >= 1.5)."""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results")
PARAMS = dict(data_shape=(3, 224, 224), batch_size=32, rand_crop=True, rand_mirror=True,
              mean_r=123.68, mean_g=116.28, mean_b=103.53, std_r=58.395, std_g=57.12,
              std_b=57.375, shuffle=False, round_batch=True)

TIMER = r'''
import json, sys, time
def run(mx, params, epochs):
    it = mx.io.ImageRecordIter(**params)
    for i, b in enumerate(it):          # warm-up: one epoch (threads, page cache, pools)
        b.data[0].wait_to_read()
    rates = []
    for _ in range(epochs):
        it.reset()
        n, t0 = 0, time.perf_counter()
        for b in it:
            b.data[0].wait_to_read()
            n += b.data[0].shape[0] - b.pad
        rates.append(n / (time.perf_counter() - t0))
    return max(rates), rates
'''


def make_rec(path, n):
    import mxnext as mx
    rng = np.random.RandomState(0)
    rec = mx.recordio.MXRecordIO(path + ".tmp", "w")
    for i in range(n):
        h, w = 256, 256 + (i * 37) % 85
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        base = np.stack([np.sin(xx / (7 + i % 11)) * 90 + 128,
                         np.cos(yy / (5 + i % 7)) * 90 + 128,
                         ((xx + yy + i) % 64) * 3.0], -1)
        img = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        rec.write(mx.recordio.pack_img(mx.recordio.IRHeader(0, float(i % 1000), i, 0), img,
                                       quality=90))
    rec.close()
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--mxnet-python", default=os.path.join(ROOT, ".venv-mxnet", "bin", "python"))
    args = ap.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    rec = os.path.join(RESULTS, "io_bench_%d.rec" % args.images)
    if not os.path.exists(rec):
        print("making", rec)
        make_rec(rec, args.images)
    params = dict(PARAMS, path_imgrec=rec, preprocess_threads=args.threads)
    code = TIMER + "import mxnet as mx\nprint(json.dumps(run(mx, %r, %d)))\n" % (params,
                                                                                 args.epochs)
    env = dict(os.environ)  # MXNet as installed: its own defaults for engine and OpenMP
    proc = subprocess.run([args.mxnet_python, "-c", code], capture_output=True, text=True,
                          env=env)
    if proc.returncode != 0:
        sys.exit("MXNet run failed:\n" + proc.stderr[-3000:])
    mx_rate, mx_rates = json.loads(proc.stdout.strip().splitlines()[-1])
    import mxnext  # noqa: F401
    ns = {}
    exec(TIMER, ns)
    ours, our_rates = ns["run"](mxnext, params, args.epochs)
    print("ImageRecordIter, %d JPEGs (256 x 256..340), 224x224 rand_crop rand_mirror mean/std, "
          "batch 32, %d threads" % (args.images, args.threads))
    print("  mxnext             %8.0f images/s  (epochs: %s)" % (ours, ", ".join(
        "%.0f" % r for r in our_rates)))
    print("  Apache MXNet 1.9.1 %8.0f images/s  (epochs: %s)" % (mx_rate, ", ".join(
        "%.0f" % r for r in mx_rates)))
    print("  ratio              %8.2fx" % (ours / mx_rate))


if __name__ == "__main__":
    main()
