"""dist_sync on this machine against raw MPI_Allreduce, the transport's latency and bandwidth,
and a model of dist_sync's scaling efficiency on N machines (issue 10; docs/distributed.md).
A benchmark, not part of CI.

    MXN_USE_MPI=ON bash scripts/dev_python.sh build/devpy
    PYTHONPATH=build/devpy/python .venv/bin/python bench/dist.py [--ranks 2 4] [--steps 10]
    .venv/bin/python bench/dist.py --model-only     # the model alone, from stated inputs

1. Overhead (issue 10's bar: within 1.2x of raw MPI_Allreduce). A step is what Module.update
   does with update_on_kvstore: pushpull of every parameter's gradient (ResNet-18: 62 arrays,
   11.69 M float32 = 46.8 MB), priority -index, then a wait on all of them; no optimizer, so
   the time is communication plus the kvstore's copies. The baseline is the transport's own
   blocking MPI_Allreduce of one buffer of the same 46.8 MB, run alternately with the kvstore
   steps; the ratio is best against best (the median of each is printed too) over --steps
   steps after 2 warm-up steps. With 4 ranks a second row pretends to be 2 machines of 2 ranks
   (MXNEXT_KV_LOCAL_SIZE=2: two-level allreduce).
2. Latency and bandwidth: raw MPI_Allreduce of 1 float to 4 M floats, fitted as
   t(S) = a + b S and read as a ring, t = 2(p-1) alpha + 2(p-1)/p S / beta; and the kvstore's
   own cost per message (pushpull of a 1-float key, minus the raw 1-float allreduce).
3. The model: ResNet-50 (25.56 M parameters, 161 arrays, float32 gradients) on N machines
   joined by 25 GbE, a ring allreduce among one leader per machine (two-level: the machine's
   own GPUs are reduced inside its measured step time), each array sent as backward produces
   it and overlapped with the rest of backward. Inputs: the kvstore's per-message cost and
   its overhead ratio measured here; the link's bandwidth and latency stated; the compute
   time stated from NVIDIA's published MXNet ResNet-50 v1.5 training throughput (see
   COMPUTE below). Prints the efficiency for N = 1 .. 64.

Ranks share this machine's cores (mpirun --oversubscribe) and talk through shared memory, so
the measured figures say how much the kvstore adds, not what a network gives; the machine
may be busy with other work: run it a few times and take the best."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

# ---- the model's stated inputs --------------------------------------------------------------
LINK_BYTES_PER_S = 25e9 / 8 * 0.94  # 25 GbE, ~94% of the line rate as TCP payload
LINK_HOP_S = 25e-6                  # per ring step over the wire: assumed (kernel TCP, one hop)
# NVIDIA DeepLearningExamples, MxNet/Classification/RN50v1.5/README.md, "Training
# performance: NVIDIA DGX-1 (8x V100 16GB)", mxnet-20.12 container: images/s.
COMPUTE = [
    # (label, GPUs per machine, batch per GPU, images/s of one machine)
    ("8x V100, FP32, batch 96/GPU", 8, 96, 3005.0),
    ("8x V100, mixed precision, batch 192/GPU", 8, 192, 10723.0),
    ("1x V100, FP32, batch 96", 1, 96, 384.0),
]
BACKWARD_SHARE = 2.0 / 3.0  # backward ~ twice the forward's arithmetic


def resnet18_shapes():
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for block in range(2):
            first_in = cin if block == 0 else cout
            shapes += [(cout, first_in, 3, 3), (cout,), (cout,), (cout, cout, 3, 3), (cout,), (cout,)]
            if block == 0 and (stride != 1 or cin != cout):
                shapes += [(cout, cin, 1, 1), (cout,), (cout,)]
        cin = cout
    shapes += [(1000, 512), (1000,)]
    return shapes


def resnet50_arrays():
    """ResNet-50 v1.5's parameter arrays in forward order: (name, elements, forward
    multiply-adds per 224x224 image of the layer that owns it; 0 for BatchNorm's)."""
    out = []

    def conv(name, cin, cout, k, hout):
        out.append((name + "_weight", cin * cout * k * k, cin * cout * k * k * hout * hout))
        out.append((name + "_bn_gamma", cout, 0))
        out.append((name + "_bn_beta", cout, 0))

    conv("conv0", 3, 64, 7, 112)
    cin, h = 64, 56
    for stage, (w, n, stride) in enumerate(((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))):
        for b in range(n):
            ho = h // (stride if b == 0 else 1)
            conv(f"stage{stage}_unit{b}_conv1", cin, w, 1, h)
            conv(f"stage{stage}_unit{b}_conv2", w, w, 3, ho)  # v1.5: the stride is here
            conv(f"stage{stage}_unit{b}_conv3", w, 4 * w, 1, ho)
            if b == 0:
                conv(f"stage{stage}_unit{b}_sc", cin, 4 * w, 1, ho)
            cin, h = 4 * w, ho
    out.append(("fc_weight", 2048 * 1000, 2048 * 1000))
    out.append(("fc_bias", 1000, 0))
    return out


def model_step(arrays, machines, step_s, hop_s, msg_s, link_bps, overhead, overlap=True,
               bytes_per_elem=4):
    """Seconds of one dist_sync step on `machines` machines whose step alone takes step_s.

    Backward takes BACKWARD_SHARE of it and produces the gradients last layer first, each
    after a time proportional to its layer's arithmetic. The link is one serial resource: an
    array's allreduce occupies it for overhead * 2(N-1)/N * bytes / link_bps once it is ready
    and the link is free, and completes 2(N-1) * hop_s + msg_s later (latency of arrays in
    flight together overlaps, their bandwidth does not). The step ends when backward and the
    last allreduce have both ended (the update is ignored). overlap=False: every allreduce
    waits for the end of backward (no overlap)."""
    t_fwd = step_s * (1 - BACKWARD_SHARE)
    t_bwd = step_s * BACKWARD_SHARE
    if machines == 1:
        return step_s
    total = float(sum(m for _, _, m in arrays))
    t = t_fwd
    link_free, last = 0.0, 0.0
    n = machines
    for _, elems, macs in reversed(arrays):
        t += t_bwd * macs / total
        ready = t if overlap else step_s
        start = max(ready, link_free)
        link_free = start + overhead * 2 * (n - 1) / n * elems * bytes_per_elem / link_bps
        last = max(last, link_free + 2 * (n - 1) * hop_s + msg_s)
    return max(step_s, last)


def print_model(msg_s, overhead, hop_s=LINK_HOP_S, link_bps=LINK_BYTES_PER_S):
    arrays = resnet50_arrays()
    params = sum(e for _, e, _ in arrays)
    print(f"\nModel: ResNet-50 v1.5 ({params / 1e6:.2f} M parameters, {len(arrays)} arrays, "
          f"{params * 4 / 1e6:.1f} MB of float32 gradients) on N machines joined by 25 GbE, "
          f"ring among the machines' leaders, {hop_s * 1e6:.0f} us per hop (stated); kvstore "
          f"cost per message {msg_s * 1e6:.0f} us and overhead x{overhead:.2f} (measured here)."
          f"\nEfficiency = one machine's step time / the step time on N machines (same batch "
          f"per GPU):")
    ns = (1, 2, 4, 8, 16, 32, 64)
    for share, what in ((1.0, "TCP payload at 94% of the line rate"),
                        (0.5, "half that: a link the transfers do not fill")):
        bps = link_bps * share
        print(f"\n{what} ({bps * 8 / 1e9:.1f} Gb/s)")
        print(f"{'machines':<50}" + "".join(f"{n:>7}" for n in ns) + "   16 without overlap")
        for label, gpus, batch, ips in COMPUTE:
            step = gpus * batch / ips
            effs = [step / model_step(arrays, n, step, hop_s, msg_s, bps, overhead) for n in ns]
            flat = step / model_step(arrays, 16, step, hop_s, msg_s, bps, overhead,
                                     overlap=False)
            print(f"{label + f' ({step * 1e3:.0f} ms)':<50}"
                  + "".join(f"{e:>7.1%}" for e in effs) + f"{flat:>11.1%}")


def fit_alpha_beta(points, ranks):
    """Least squares of t = a + b*bytes (relative error), read as a ring allreduce."""
    import numpy as np
    s = np.array([p[0] for p in points], dtype=float)
    t = np.array([p[1] for p in points], dtype=float)
    w = 1.0 / t
    A = np.stack([np.ones_like(s), s], axis=1) * w[:, None]
    a, b = np.linalg.lstsq(A, t * w, rcond=None)[0]
    steps = 2 * (ranks - 1)
    return a, b, a / steps, (steps / ranks) / b


def worker(steps):
    import numpy as np
    import mxnext as mx
    kv = mx.kv.create("dist_sync")
    shapes = resnet18_shapes()
    total = sum(int(np.prod(s)) for s in shapes)
    grads = [mx.nd.ones(s) for s in shapes]
    for i, g in enumerate(grads):
        kv.init(i, g)
    # kvstore steps and raw allreduces alternate, so both see the same load; the best of each
    # is the figure least disturbed by other work on the machine (the median is kept too).
    times, raw = [], []
    for step in range(steps + 2):
        kv.barrier()
        t0 = time.perf_counter()
        for i, g in enumerate(grads):
            kv.pushpull(i, g, out=g, priority=-i)
        for g in grads:
            g.wait_to_read()
        times.append(time.perf_counter() - t0)
        kv.barrier()
        raw.append(kv._bench_transport(total, 1))
    times, raw = times[2:], raw[2:]
    kv_step, raw_step = min(times), min(raw)
    kv_med, raw_med = statistics.median(times), statistics.median(raw)
    # latency and bandwidth of the raw transport
    sizes = [1, 16, 256, 4096, 65536, 1 << 20, 4 << 20]
    curve = []
    for count in sizes:
        iters = max(3, min(300, int(2e6 // max(count, 1))))
        curve.append((count * 4, min(kv._bench_transport(count, iters) for _ in range(3))))
    # the kvstore's own cost per message: pushpull of one float, waited for
    tiny = mx.nd.zeros((1,))
    kv.init("tiny", tiny)
    lat = []
    for _ in range(300):
        t0 = time.perf_counter()
        kv.pushpull("tiny", tiny, out=tiny)
        tiny.wait_to_read()
        lat.append(time.perf_counter() - t0)
    kv_msg = statistics.median(lat)
    if kv.rank == 0:
        print(json.dumps({"ranks": kv.num_workers, "arrays": len(shapes), "floats": total,
                          "mbytes": total * 4 / 1e6, "kvstore_step_s": kv_step,
                          "raw_allreduce_s": raw_step, "ratio": kv_step / raw_step,
                          "kvstore_median_s": kv_med, "raw_median_s": raw_med,
                          "curve": curve, "kv_msg_s": kv_msg,
                          "raw_msg_s": curve[0][1]}), flush=True)
    kv.barrier()


def run_job(n, steps, env_extra=None):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", **(env_extra or {}))
    out = subprocess.run([sys.executable, "-m", "mxnext.launch", "-n", str(n), sys.executable,
                          os.path.abspath(__file__), "--worker", "--steps", str(steps)],
                         env=env, capture_output=True, text=True, timeout=600)
    line = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if out.returncode != 0 or not line:
        sys.exit(out.stdout + out.stderr)
    return json.loads(line[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ranks", type=int, nargs="+", default=[2, 4])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--model-only", action="store_true",
                   help="print the model from its stated inputs (kvstore cost 100 us, x1.0)")
    p.add_argument("--worker", action="store_true")
    a = p.parse_args()
    if a.worker:
        worker(a.steps)
        return
    if a.model_only:
        print_model(100e-6, 1.0)
        return
    rows = []
    for n in a.ranks:
        rows.append(("flat", run_job(n, a.steps, {"MXNEXT_KV_REDUCE": "flat"})))
        if n == 4:
            rows.append(("2x2", run_job(n, a.steps, {"MXNEXT_KV_LOCAL_SIZE": "2"})))
    print(f"best (median) of {a.steps} steps")
    print(f"{'ranks':>5} {'allreduce':>9} {'MB':>6} {'kvstore step':>20} {'raw allreduce':>20} "
          f"{'ratio':>6}")
    for kind, r in rows:
        print(f"{r['ranks']:>5} {kind:>9} {r['mbytes']:>6.1f} {r['kvstore_step_s'] * 1e3:>7.1f} ms"
              f" ({r['kvstore_median_s'] * 1e3:>6.1f} ms) {r['raw_allreduce_s'] * 1e3:>7.1f} ms"
              f" ({r['raw_median_s'] * 1e3:>6.1f} ms) {r['ratio']:>6.2f}")
    print("\nRaw MPI_Allreduce on this machine (shared memory), fitted t = a + b*bytes and read "
          "as a ring:")
    print(f"{'ranks':>5} {'a':>9} {'1/b':>11} {'alpha':>9} {'beta':>11} {'kvstore msg':>12} "
          f"{'raw msg':>9}")
    for kind, r in rows:
        if kind != "flat":
            continue
        a_, b_, alpha, beta = fit_alpha_beta(r["curve"], r["ranks"])
        print(f"{r['ranks']:>5} {a_ * 1e6:>6.1f} us {1 / b_ / 1e9:>6.2f} GB/s {alpha * 1e6:>6.1f} us"
              f" {beta / 1e9:>6.2f} GB/s {r['kv_msg_s'] * 1e6:>9.0f} us {r['raw_msg_s'] * 1e6:>6.0f} us")
    flat = [r for kind, r in rows if kind == "flat"]
    big = max(flat, key=lambda r: r["ranks"])
    msg_s = max(0.0, big["kv_msg_s"] - big["raw_msg_s"])
    print_model(msg_s, max(1.0, big["ratio"]))


if __name__ == "__main__":
    main()
