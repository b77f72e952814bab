"""Starts a distributed job over mpirun (Open MPI or MPICH's hydra):

    python -m mxnext.launch -n 4 [-H hostfile] python train.py --kv-store dist_sync

Every process gets the job token (MXNEXT_JOB_TOKEN, drawn here unless set: a process without
it is refused by the kvstore), and the rank variables both conventions read: torchrun's RANK,
WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, and MXNet's DMLC_ROLE=worker, DMLC_NUM_WORKER,
DMLC_WORKER_ID, DMLC_NUM_SERVER. Without -n, the size comes from WORLD_SIZE or
DMLC_NUM_WORKER. The exit status is the first failing worker's (on one machine; with -H,
mpirun's).

Roles: every process is a worker. There are no separate server processes: with
kvstore='dist_async' each worker also serves a shard of the keys on its communication thread
(the one thread that calls MPI), so DMLC_NUM_SERVER equals the number of workers; -s is
accepted for MXNet's launch.py command lines only when it is that number (or 0).

mpirun is told not to tear the job down when one process dies: the survivors find out
themselves (heartbeats, MXNEXT_KV_TIMEOUT) and fail with PeerLostError, never hang.
"""
import argparse
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

_FORWARD = ("PATH", "PYTHONPATH", "LD_LIBRARY_PATH", "VIRTUAL_ENV", "OMP_NUM_THREADS")


def _rank_env():
    """The per-rank variables, from what mpirun (Open MPI, or PMI for MPICH) sets."""
    g = os.environ.get
    rank = g("OMPI_COMM_WORLD_RANK") or g("PMI_RANK") or g("PMIX_RANK") or "0"
    size = g("OMPI_COMM_WORLD_SIZE") or g("PMI_SIZE") or g("WORLD_SIZE") or "1"
    lrank = g("OMPI_COMM_WORLD_LOCAL_RANK") or g("MPI_LOCALRANKID") or rank
    lsize = g("OMPI_COMM_WORLD_LOCAL_SIZE") or g("MPI_LOCALNRANKS") or size
    return {
        "RANK": rank, "WORLD_SIZE": size, "LOCAL_RANK": lrank, "LOCAL_WORLD_SIZE": lsize,
        "DMLC_ROLE": "worker", "DMLC_NUM_WORKER": size, "DMLC_WORKER_ID": rank,
        "DMLC_NUM_SERVER": size,  # dist_async: every worker also serves a shard
    }


def mpirun_command(num, command, hostfile=None, mpirun="mpirun", extra=()):
    """The mpirun command line that starts `command` on `num` processes."""
    cmd = [mpirun, "-n", str(num)]
    is_ompi = _is_open_mpi(mpirun)
    if is_ompi:
        if hostfile is None:
            cmd.append("--oversubscribe")  # more ranks than cores on one machine (tests)
        else:
            cmd += ["--hostfile", hostfile]
        if os.geteuid() == 0:
            cmd.append("--allow-run-as-root")
        # A dead rank must not make mpirun kill the others before they report it.
        cmd += ["--mca", "orte_abort_on_non_zero_status", "0",
                "--mca", "orte_enable_recovery", "1",
                "--mca", "mpi_yield_when_idle", "1",
                "--bind-to", "none"]
        for name in _FORWARD + ("MXNEXT_JOB_TOKEN", "MXNEXT_LAUNCH_STATUS_DIR"):
            if name in os.environ:
                cmd += ["-x", name]
        for name in sorted(os.environ):
            if name.startswith("MXNEXT_") and name not in ("MXNEXT_JOB_TOKEN",
                                                           "MXNEXT_LAUNCH_STATUS_DIR"):
                cmd += ["-x", name]
    else:
        if hostfile is not None:
            cmd += ["-f", hostfile]
        cmd += ["-genvlist", ",".join([n for n in _FORWARD if n in os.environ] +
                                      ["MXNEXT_JOB_TOKEN"] +
                                      [n for n in os.environ if n.startswith("MXNEXT_")])]
    cmd += list(extra)
    cmd += [sys.executable, "-m", "mxnext.launch", "--rank-env", "--"] + list(command)
    return cmd


def _is_open_mpi(mpirun):
    try:
        out = subprocess.run([mpirun, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return True
    return "Open MPI" in out or "OpenRTE" in out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m mxnext.launch", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", "--num-workers", type=int, default=None)
    p.add_argument("-s", "--num-servers", type=int, default=None,
                   help="MXNet's option: every worker serves a shard of the dist_async keys, "
                        "so only 0 or the number of workers is accepted")
    p.add_argument("-H", "--hostfile", default=None)
    p.add_argument("--mpirun", default=os.environ.get("MXNEXT_MPIRUN", "mpirun"))
    p.add_argument("--mpirun-args", default="", help="extra mpirun arguments (one string)")
    p.add_argument("--rank-env", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not command:
        p.error("no command to run")
    if a.rank_env:  # inside mpirun: set the rank variables, run the command
        os.environ.update(_rank_env())
        status_dir = os.environ.pop("MXNEXT_LAUNCH_STATUS_DIR", None)
        if status_dir is None:
            os.execvp(command[0], command)
        return _run_and_record(command, status_dir, os.environ["RANK"])
    num = a.num_workers
    if num is None:
        num = int(os.environ.get("WORLD_SIZE") or os.environ.get("DMLC_NUM_WORKER") or 1)
    if num < 1:
        p.error("-n must be at least 1")
    if a.num_servers not in (None, 0, num):
        p.error(f"-s {a.num_servers}: there are no separate server processes; every one of "
                f"the {num} workers serves a shard of the dist_async keys (omit -s)")
    if shutil.which(a.mpirun) is None:
        sys.exit(f"mxnext.launch: {a.mpirun} not found (install openmpi-bin, or pass --mpirun)")
    os.environ.setdefault("MXNEXT_JOB_TOKEN", secrets.token_hex(16))
    for var in ("RANK", "WORLD_SIZE", "DMLC_NUM_WORKER"):  # set per rank inside the job
        os.environ.pop(var, None)
    status_dir = None
    if a.hostfile is None:  # one machine: each rank records its exit status here
        status_dir = tempfile.mkdtemp(prefix="mxnext-launch-")
        os.environ["MXNEXT_LAUNCH_STATUS_DIR"] = status_dir
    try:
        cmd = mpirun_command(num, command, a.hostfile, a.mpirun, shlex.split(a.mpirun_args))
        rc = subprocess.call(cmd)
        if status_dir is None:
            return rc
        # mpirun keeps the job alive when a rank dies (see above), so its own status says
        # little: the first failing rank's decides.
        for r in range(num):
            path = os.path.join(status_dir, str(r))
            if not os.path.exists(path):
                return rc or 1
            with open(path) as f:
                code = int(f.read().strip() or 1)
            if code != 0:
                return code
        return rc
    finally:
        if status_dir is not None:
            shutil.rmtree(status_dir, ignore_errors=True)


def _run_and_record(command, status_dir, rank):
    child = subprocess.Popen(command)

    def forward(signum, _frame):
        child.send_signal(signum)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(s, forward)
    rc = child.wait()
    code = 128 - rc if rc < 0 else rc  # killed by signal N: 128 + N, as a shell reports it
    with open(os.path.join(status_dir, rank), "w") as f:
        f.write(str(code))
    return code


if __name__ == "__main__":
    sys.exit(main())
