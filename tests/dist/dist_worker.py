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
                                           "DMLC_NUM_WORKER", "DMLC_WORKER_ID",
                                           "DMLC_NUM_SERVER")}
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


def mode_async(out, workers):
    """dist_async push/pull semantics: with SGD(lr=1) on the servers every push of ones
    subtracts 1, so after my j-th push a pull of mine must show at least my j updates
    (-j or less: other workers' pushes are applied too, in whatever order they arrive). Keys:
    a small int key (whole on one server), a str key, and one above the big-array bound
    (MXNEXT_KVSTORE_BIGARRAY_BOUND=1000 here: split over every server)."""
    kv = mx.kv.create("dist_async")
    r, n = kv.rank, kv.num_workers
    info = {"type": kv.type, "rank": r, "num_workers": n}
    kv.set_optimizer(mx.optimizer.SGD(learning_rate=1.0, rescale_grad=1.0))
    shapes = {3: (10,), "w": (4, 5), "big": (2, 1500)}
    for k, shp in shapes.items():
        kv.init(k, mx.nd.ones(shp) * (7 if r == 0 else -99))  # rank 0's value wins
    outs = {k: mx.nd.zeros(shp) for k, shp in shapes.items()}
    kv.pull(list(shapes), out=[outs[k] for k in shapes])
    info["init"] = {str(k): np.unique(o.asnumpy()).tolist() for k, o in outs.items()}
    steps = 12
    seen_ok = True
    for j in range(1, steps + 1):
        for k, shp in shapes.items():
            kv.pushpull(k, mx.nd.ones(shp), out=outs[k])  # push then pull, no wait between
        for k, o in outs.items():
            v = o.asnumpy()
            # every element has had my j pushes (a split key's shards may differ by others')
            seen_ok &= bool(v.max() <= 7 - j) and bool(v.min() >= 7 - n * steps)
    info["pull_after_push_sees_it"] = seen_ok
    kv.barrier()  # my pushes acknowledged, then everyone's: all applied
    kv.pull(list(shapes), out=[outs[k] for k in shapes])
    info["final"] = {str(k): np.unique(o.asnumpy()).tolist() for k, o in outs.items()}
    # Everyone has pulled before anyone creates the next store: creating one is collective and
    # holds a rank's communication thread, which also serves the others' pulls (without this
    # barrier a slow rank's pull waited for a rank already creating kv2: 1 run in 5-25 hung).
    kv.barrier()
    # without an optimizer the pushed value replaces the stored one
    kv2 = mx.kv.create("dist_async")
    kv2.init("z", mx.nd.zeros((6,)))
    kv2.push("z", mx.nd.ones((6,)) * (r + 1))
    kv2.barrier()
    z = mx.nd.zeros((6,))
    kv2.pull("z", out=z)
    info["replaced"] = np.unique(z.asnumpy()).tolist()
    errors = {}
    for what, fn in (("set_updater", lambda: kv.set_updater(lambda k, g, w: None)),
                     ("save_optimizer_states",
                      lambda: kv.save_optimizer_states(os.path.join(out, f"s{r}")))):
        try:
            fn()
        except mx.base.MXNetError as e:
            errors[what] = str(e)
    info["errors"] = errors
    kv.barrier()
    with open(os.path.join(out, f"async-{r}.json"), "w") as f:
        json.dump(info, f)


def digits(rank, workers):
    """sklearn's 8x8 digits: 1,497 training images (rank's share of them) and 300 held out."""
    from sklearn.datasets import load_digits
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    perm = np.random.RandomState(0).permutation(len(x))
    x, y = x[perm], y[perm].astype(np.float32)
    xt, yt, xv, yv = x[300:], y[300:], x[:300], y[:300]
    return xt[rank::workers], yt[rank::workers], xv, yv


def digits_mlp():
    data = mx.sym.Variable("data")
    h = mx.sym.Activation(mx.sym.FullyConnected(data, num_hidden=64, name="fc1"),
                          act_type="relu", name="relu1")
    out = mx.sym.FullyConnected(h, num_hidden=10, name="fc2")
    return mx.sym.SoftmaxOutput(out, name="softmax")


def mode_async_train(out, workers):
    """Module.fit with kvstore='dist_async' on the digits: each worker trains on its share,
    the servers apply every push at once; then every worker pulls the servers' final weights
    and scores the held-out digits. Every worker's push is a whole update (no averaging over
    workers as in dist_sync), so the learning rate is 0.2 / workers: one process at 0.4
    (4 workers' worth of 0.1) diverges on this model."""
    rank = int(os.environ["RANK"])
    x, y, xv, yv = digits(rank, workers)
    mx.random.seed(1)
    it = mx.io.NDArrayIter(x, y, batch_size=16, shuffle=True, label_name="softmax_label")
    mod = mx.mod.Module(digits_mlp(), context=mx.cpu())
    t0 = time.time()
    mod.fit(it, num_epoch=int(os.environ.get("ASYNC_EPOCHS", "12")), kvstore="dist_async",
            optimizer="sgd", optimizer_params={"learning_rate": 0.2 / workers, "momentum": 0.9},
            initializer=mx.init.Xavier(magnitude=2.0))
    secs = time.time() - t0
    kv = mod._kvstore
    assert kv.type == "dist_async", kv.type
    kv.barrier()  # every worker's last push applied
    arg, aux = mod.get_params()
    final = {}
    for name in sorted(arg):
        final[name] = mx.nd.zeros(arg[name].shape)
        kv.pull(name, out=final[name])
    mod.set_params(final, aux)
    val = mx.io.NDArrayIter(xv, yv, batch_size=100, label_name="softmax_label")
    acc = dict(mod.score(val, "acc"))["accuracy"]
    np.savez(os.path.join(out, f"async_train-{rank}.npz"),
             **{k: v.asnumpy() for k, v in final.items()})
    with open(os.path.join(out, f"async_train-{rank}.json"), "w") as f:
        json.dump({"accuracy": acc, "seconds": secs, "train_images": len(x)}, f)


def mode_twolevel(out, workers):
    """Sums through dist_sync: integer-valued float32 (exact in any order) and random float32
    (rounding depends on the order), a key above the big-array bound (several chunks), and
    int64 allreduce; saved for the test to compare the flat and the two-level runs."""
    kv = mx.kv.create("dist_sync")
    r = kv.rank
    kv.init("exact", mx.nd.zeros((3, 1000)))
    kv.init("rand", mx.nd.zeros((2500,)))
    kv.push("exact", mx.nd.array(np.arange(3000, dtype=np.float32).reshape(3, 1000) * (r + 1)))
    kv.push("rand", mx.nd.array(np.random.RandomState(r).randn(2500).astype(np.float32)))
    oe, orand = mx.nd.zeros((3, 1000)), mx.nd.zeros((2500,))
    kv.pull(["exact", "rand"], out=[oe, orand])
    np.savez(os.path.join(out, f"twolevel-{r}.npz"), exact=oe.asnumpy(), rand=orand.asnumpy(),
             ints=np.array(kv._allreduce_int([r, 1, -r])),
             mx=np.array(kv._allreduce_int([r], op=2)))


CK_STEPS, CK_AT = 8, 4  # steps in all; the checkpoint is taken after step CK_AT


def ckpt_batch(t, rank, workers):
    """Step t's global batch (the same in every run), rank's slice of it."""
    rng = np.random.RandomState(1000 + t)
    x = rng.randn(workers * B, IN).astype(np.float32)
    y = rng.randint(0, OUT, workers * B).astype(np.float32)
    return x[rank * B:(rank + 1) * B], y[rank * B:(rank + 1) * B]


def mode_ckpt(out, workers):
    """dist_sync training with Adam, run as CKPT_PHASE: 'full' (CK_STEPS steps), 'first'
    (saves params + optimizer states after step CK_AT, goes on 2 more steps, then every rank
    SIGKILLs itself), or 'resume' (a new job from the checkpoint to the end). Each rank
    records the loss of every step it runs (before its update) and the final weights."""
    phase = os.environ["CKPT_PHASE"]
    kv = mx.kv.create("dist_sync")
    r = kv.rank
    prefix = os.path.join(out, "ckpt")
    shapes = dict(data_shapes=[("data", (B, IN))], label_shapes=[("softmax_label", (B,))])
    if phase == "resume":
        mod = mx.mod.Module.load(prefix, CK_AT, load_optimizer_states=True, context=mx.cpu())
        mod.bind(**shapes)
        start = CK_AT
    else:
        mod = mx.mod.Module(mlp(), context=mx.cpu())
        mod.bind(**shapes)
        mod.init_params(arg_params=init_params(), allow_missing=False)
        start = 0
    mod.init_optimizer(kvstore=kv, optimizer="adam",
                       optimizer_params={"learning_rate": 0.05, "wd": 1e-3, "beta2": 0.99})
    losses = {}

    def record():
        with open(os.path.join(out, f"ckpt-{phase}-{r}.json"), "w") as f:
            json.dump(losses, f)

    for t in range(start, CK_STEPS):
        x, y = ckpt_batch(t, r, workers)
        mod.forward_backward(mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)]))
        p = mod.get_outputs()[0].asnumpy().astype(np.float64)
        losses[str(t)] = float(-np.mean(np.log(p[np.arange(B), y.astype(int)])))
        mod.update()
        if phase == "first" and t + 1 == CK_AT:
            if r == 0:  # the weights and the optimizer states are the same on every worker
                mod.save_checkpoint(prefix, CK_AT, save_optimizer_states=True)
            kv.barrier()
        if phase == "first" and t + 1 == CK_AT + 2:
            record()
            kv.barrier()  # nobody is left waiting in a collective: all die at once
            os.kill(os.getpid(), signal.SIGKILL)
    record()
    arg, _ = mod.get_params()
    np.savez(os.path.join(out, f"ckpt-{phase}-{r}.npz"), **{k: v.asnumpy() for k, v in arg.items()})


def mode_kill(out, workers):
    """Rank `victim` SIGKILLs itself mid-training; the others must raise PeerLostError."""
    kv = mx.kv.create(os.environ.get("KILL_KV", "dist_sync"))
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
