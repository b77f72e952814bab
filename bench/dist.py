"""dist_sync step time for ResNet-18-sized gradients against raw MPI_Allreduce of the same
bytes, on 2 and 4 local ranks, in one run (issue 10's bar: overhead within 1.2x). Not part of CI.

    PYTHONPATH=build/dist/python .venv/bin/python bench/dist.py [--ranks 2 4] [--steps 10]

A step is what Module.update does with update_on_kvstore: pushpull of every parameter's
gradient (62 arrays, 11.69 M float32 = 46.8 MB), priority -index, then a wait on all of them;
no optimizer, so the time is communication plus the kvstore's copies. The baseline is the
transport's own blocking MPI_Allreduce of one buffer of the same 46.8 MB (the best case: one
message instead of 62). Each figure is the median over --steps steps after 2 warm-up steps;
rank 0 prints them. Ranks share this machine's cores (mpirun --oversubscribe) and talk through
shared memory, so the figures say how much the kvstore adds, not what a network gives (a
scaling model for N machines is still to be written, issue 10)."""
import argparse
import json
import os
import subprocess
import sys
import time


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


def worker(steps):
    import numpy as np
    import mxnext as mx
    kv = mx.kv.create("dist_sync")
    shapes = resnet18_shapes()
    total = sum(int(np.prod(s)) for s in shapes)
    grads = [mx.nd.ones(s) for s in shapes]
    for i, g in enumerate(grads):
        kv.init(i, g)
    times = []
    for step in range(steps + 2):
        kv.barrier()
        t0 = time.perf_counter()
        for i, g in enumerate(grads):
            kv.pushpull(i, g, out=g, priority=-i)
        for g in grads:
            g.wait_to_read()
        times.append(time.perf_counter() - t0)
    times = sorted(times[2:])
    kv_step = times[len(times) // 2]
    raw = sorted(kv._bench_transport(total, 1) for _ in range(steps))
    raw_step = raw[len(raw) // 2]
    if kv.rank == 0:
        print(json.dumps({"ranks": kv.num_workers, "arrays": len(shapes), "floats": total,
                          "mbytes": total * 4 / 1e6, "kvstore_step_s": kv_step,
                          "raw_allreduce_s": raw_step, "ratio": kv_step / raw_step}), flush=True)
    kv.barrier()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ranks", type=int, nargs="+", default=[2, 4])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--worker", action="store_true")
    a = p.parse_args()
    if a.worker:
        worker(a.steps)
        return
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    rows = []
    for n in a.ranks:
        out = subprocess.run([sys.executable, "-m", "mxnext.launch", "-n", str(n), sys.executable,
                              os.path.abspath(__file__), "--worker", "--steps", str(a.steps)],
                             env=env, capture_output=True, text=True, timeout=600)
        line = [l for l in out.stdout.splitlines() if l.startswith("{")]
        if out.returncode != 0 or not line:
            sys.exit(out.stdout + out.stderr)
        rows.append(json.loads(line[-1]))
    print(f"{'ranks':>5} {'MB':>6} {'kvstore step':>13} {'raw allreduce':>14} {'ratio':>6}")
    for r in rows:
        print(f"{r['ranks']:>5} {r['mbytes']:>6.1f} {r['kvstore_step_s'] * 1e3:>10.1f} ms"
              f" {r['raw_allreduce_s'] * 1e3:>11.1f} ms {r['ratio']:>6.2f}")


if __name__ == "__main__":
    main()
