"""Worker programs of tests/dist/test_dist.py, started by python -m mxnext.launch (or plainly,
for the single-process reference). Usage: dist_worker.py MODE OUT_DIR [options]; every worker
writes OUT_DIR/<mode>-<rank>.npz or .json."""
import json
import os
import signal
import sys
import time

import numpy as np

import mxnext as mx

B = 8          # batch per worker
STEPS = 6
IN, HID, OUT = 10, 16, 4


def mlp():
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=HID, name="fc1")
    act = mx.sym.Activation(fc1, act_type="tanh", name="act1")
    fc2 = mx.sym.FullyConnected(act, num_hidden=OUT, name="fc2")
    return mx.sym.SoftmaxOutput(fc2, name="softmax")


def init_params(seed=3):
    rng = np.random.RandomState(seed)
    return {
        "fc1_weight": mx.nd.array(rng.randn(HID, IN).astype(np.float32) * 0.3),
        "fc1_bias": mx.nd.array(rng.randn(HID).astype(np.float32) * 0.1),
        "fc2_weight": mx.nd.array(rng.randn(OUT, HID).astype(np.float32) * 0.3),
        "fc2_bias": mx.nd.array(rng.randn(OUT).astype(np.float32) * 0.1),
    }


def global_data(workers, seed=5):
    rng = np.random.RandomState(seed)
    x = rng.randn(STEPS, workers * B, IN).astype(np.float32)
    y = rng.randint(0, OUT, (STEPS, workers * B)).astype(np.float32)
    return x, y


def train_steps(kvstore, x_steps, y_steps, batch):
    mod = mx.mod.Module(mlp(), context=mx.cpu())
    mod.bind(data_shapes=[("data", (batch, IN))], label_shapes=[("softmax_label", (batch,))])
    mod.init_params(arg_params=init_params(), allow_missing=False)
    mod.init_optimizer(kvstore=kvstore, optimizer="sgd",
                       optimizer_params={"learning_rate": 0.5, "momentum": 0.9, "wd": 1e-3})
    for xs, ys in zip(x_steps, y_steps):
        mod.forward_backward(mx.io.DataBatch([mx.nd.array(xs)], [mx.nd.array(ys)]))
        mod.update()
    arg, _ = mod.get_params()
    return {k: v.asnumpy() for k, v in arg.items()}


def mode_sync(out, workers):
    kv = mx.kv.create("dist_sync")
    r, n = kv.rank, kv.num_workers
    assert n == workers, (n, workers)
    x, y = global_data(n)
    xs = x[:, r * B:(r + 1) * B]
    ys = y[:, r * B:(r + 1) * B]
    params = train_steps(kv, xs, ys, B)
    np.savez(os.path.join(out, f"sync-{r}.npz"), **params)


def mode_single(out, workers):
    x, y = global_data(workers)
    params = train_steps("local", x, y, workers * B)
    np.savez(os.path.join(out, "single.npz"), **params)


def mode_env(out, workers):
    """Launcher variables, barrier, allreduce of ints, dist_device_sync with two devices."""
    kv = mx.kv.create("dist_sync")
    info = {k: os.environ.get(k) for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "DMLC_ROLE",
                                           "DMLC_NUM_WORKER", "DMLC_WORKER_ID")}
    info.update(rank=kv.rank, num_workers=kv.num_workers, type=kv.type)
    kv.barrier()
    info["sum"] = kv._allreduce_int([kv.rank, 1])
    info["max"] = kv._allreduce_int([kv.rank], op=2)[0]
    # plain push/pull without an optimizer: the store holds the sum over workers
    kv.init("w", mx.nd.zeros((3, 1000)))
    kv.push("w", mx.nd.ones((3, 1000)) * (kv.rank + 1))
    o = mx.nd.zeros((3, 1000))
    kv.pull("w", out=o)
    info["pushed_sum"] = float(o.asnumpy()[0, 0])
    dkv = mx.kv.create("dist_device_sync")
    dkv.init(7, mx.nd.ones((5,)) * (kv.rank + 10))  # rank 0's value wins
    outs = [mx.nd.zeros((5,), ctx=mx.cpu(0)), mx.nd.zeros((5,), ctx=mx.cpu(1))]
    dkv.pull(7, out=outs)
    info["init_value"] = float(outs[1].asnumpy()[0])
    dkv.push(7, [mx.nd.ones((5,), ctx=mx.cpu(0)), mx.nd.ones((5,), ctx=mx.cpu(1)) * 2])
    dkv.pull(7, out=outs)
    info["device_sum"] = float(outs[0].asnumpy()[0])
    kv.barrier()
    with open(os.path.join(out, f"env-{kv.rank}.json"), "w") as f:
        json.dump(info, f)


def mode_uneven(out, workers):
    """Each rank has a different number of batches; fit must finish every epoch."""
    rank = int(os.environ["RANK"])
    rng = np.random.RandomState(rank)
    nb = 2 + 3 * rank  # 2, 5, 8, ... batches
    x = rng.randn(nb * B, IN).astype(np.float32)
    y = rng.randint(0, OUT, nb * B).astype(np.float32)
    it = mx.io.NDArrayIter(x, y, batch_size=B, label_name="softmax_label")
    mod = mx.mod.Module(mlp(), context=mx.cpu())
    seen = []
    mod.fit(it, num_epoch=2, kvstore="dist_sync", optimizer="sgd",
            optimizer_params={"learning_rate": 0.1}, arg_params=init_params(),
            batch_end_callback=lambda p: seen.append((p.epoch, p.nbatch)))
    arg, _ = mod.get_params()
    np.savez(os.path.join(out, f"uneven-{rank}.npz"), **{k: v.asnumpy() for k, v in arg.items()})
    with open(os.path.join(out, f"uneven-{rank}.json"), "w") as f:
        json.dump({"batches": len(seen), "expected": 2 * nb}, f)


def mode_kill(out, workers):
    """Rank `victim` SIGKILLs itself mid-training; the others must raise PeerLostError."""
    kv = mx.kv.create("dist_sync")
    victim = workers - 1
    kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.01))
    w = mx.nd.ones((1000,))
    kv.init(0, w)
    t0 = time.time()
    step = 0
    try:
        while time.time() - t0 < 120:
            g = mx.nd.ones((1000,))
            kv.pushpull(0, g, out=w)
            w.wait_to_read()
            step += 1
            if kv.rank == victim and step == 20:
                with open(os.path.join(out, "killed.json"), "w") as f:
                    json.dump({"time": time.time(), "step": step}, f)
                os.kill(os.getpid(), signal.SIGKILL)
        res = {"error": None}
    except mx.base.PeerLostError as e:
        res = {"error": "PeerLostError", "message": str(e), "time": time.time(), "step": step}
    except Exception as e:  # noqa: BLE001 - reported to the test
        res = {"error": type(e).__name__, "message": str(e), "time": time.time()}
    with open(os.path.join(out, f"kill-{kv.rank}.json"), "w") as f:
        json.dump(res, f)
    sys.stdout.flush()
    os._exit(3 if res["error"] else 0)


def mode_token(out, workers):
    """The last rank runs without the job's token: every rank must be refused."""
    rank = int(os.environ["RANK"])
    if rank == workers - 1:
        os.environ["MXNEXT_JOB_TOKEN"] = "not-the-job-token"
    try:
        mx.kv.create("dist_sync")
        res = {"error": None}
    except mx.base.MXNetError as e:
        res = {"error": type(e).__name__, "message": str(e)}
    with open(os.path.join(out, f"token-{rank}.json"), "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    mode, out = sys.argv[1], sys.argv[2]
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else int(os.environ.get("WORLD_SIZE", 1))
    globals()["mode_" + mode](out, workers)
