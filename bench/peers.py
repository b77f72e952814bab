"""Runs a benchmark snippet in one framework's own interpreter: mxnext in .venv (with the
caller's PYTHONPATH, made absolute, for the build under test), Apache MXNet 1.9.1 in
.venv-mxnet and PyTorch 2.13 in .venv-torch (bash bench/setup_peers.sh), each with two
threads (the snippets for PyTorch also call torch.set_num_threads(2)). The snippet prints one
JSON object on its last line; run() returns it, or {"error": ...}."""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = {"mxnext": ".venv", "mxnet": ".venv-mxnet", "pytorch": ".venv-torch"}
THREADS = {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}


def best(fn, repeat):
    """The fastest of `repeat` timed calls of fn, after one warm-up call."""
    import time
    fn()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def python_of(fw):
    return os.path.join(ROOT, VENV[fw], "bin", "python")


def run(fw, code, args, extra_env=None):
    python = python_of(fw)
    if not os.path.exists(python):
        return {"error": "not installed (bench/setup_peers.sh)"}
    env = dict(os.environ, **THREADS, **(extra_env or {}))
    # The children run in /tmp: a relative PYTHONPATH (for the mxnext under test) would
    # silently fall back to an installed mxnext there, so it is made absolute. The peers get
    # none, so that nothing of this checkout shadows their own packages.
    if fw == "mxnext" and env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p)
                                            for p in env["PYTHONPATH"].split(os.pathsep) if p)
    else:
        env.pop("PYTHONPATH", None)
    proc = subprocess.run([python, "-c", code] + [str(a) for a in args], capture_output=True,
                          text=True, env=env, cwd="/tmp")
    if proc.returncode != 0:
        if proc.returncode < 0:
            return {"error": f"killed by signal {-proc.returncode}"
                             + (" (out of memory?)" if proc.returncode == -9 else "")}
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])
