"""Makes the .params fixtures of tests/python/test_params_io.py with Apache MXNet 1.9.1.

Run in the MXNet venv from the repository root:

    .venv-mxnet/bin/python tests/data/params/make_fixtures.py

Writes, into tests/data/params/:
- files saved by MXNet's own mx.nd.save / mx.model.save_checkpoint / Gluon export (lists and
  dicts, every dense dtype, 0-size shapes, 0-d arrays under NumPy shape semantics, sparse);
- older record versions (V1, pre-V1 "legacy", a GPU context) built here byte by byte, since
  1.9.1 only writes V2/V3, each checked by loading it with MXNet 1.9.1;
- for every file, <name>.npz holding the arrays as MXNet 1.9.1 loads them (the expectations),
  and manifest.json: per file its kind (list/dict), names in order, whether mxnext must write
  it byte-identically from the same arrays, and the error expected (sparse files).

    .venv-mxnet/bin/python tests/data/params/make_fixtures.py --verify DIR

loads every *.params in DIR with MXNet 1.9.1 (files mxnext wrote) and prints what it found;
it exits non-zero if any fails to load.
"""
import json
import os
import struct
import sys

import numpy as np
import mxnet as mx

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = ["float32", "float64", "float16", "uint8", "int8", "int32", "int64", "bool"]
FLAG = {"float32": 0, "float64": 1, "float16": 2, "uint8": 3, "int32": 4, "int8": 5,
        "int64": 6, "bool": 7}


def values(dtype, shape, seed):
    rng = np.random.RandomState(seed)
    n = int(np.prod(shape))
    if dtype == "bool":
        v = rng.randint(0, 2, size=n).astype(np.bool_)
    elif dtype.startswith("float"):
        v = (rng.randn(n) * 10).astype(dtype)
        if n >= 4:  # special values must survive bit-exactly
            v[:4] = np.array([np.inf, -np.inf, -0.0, np.nan], dtype=dtype)
    else:
        info = np.iinfo(dtype)
        v = rng.randint(max(info.min, -2**62), min(info.max, 2**62), size=n,
                        dtype=np.int64).astype(dtype)
        if n >= 2:
            v[0], v[1] = info.min, info.max
    return v.reshape(shape)


def nd(arr):
    return mx.nd.array(arr, dtype=arr.dtype)


manifest = {}


def record(name, loaded, byte_identical, expect_error=None, note=""):
    """Writes name.npz from what MXNet loaded and the manifest entry."""
    entry = {"byte_identical": byte_identical, "note": note}
    if expect_error:
        entry.update(kind="error", error=expect_error)
        manifest[name] = entry
        return
    if isinstance(loaded, dict):
        entry.update(kind="dict", names=list(loaded.keys()))
        arrays = [loaded[k] for k in entry["names"]]
    else:
        entry.update(kind="list", names=[])
        arrays = list(loaded)
    np.savez(os.path.join(HERE, name + ".npz"),
             **{"a%d" % i: a.asnumpy() for i, a in enumerate(arrays)})
    entry["count"] = len(arrays)
    manifest[name] = entry


def save_and_record(name, data, note=""):
    path = os.path.join(HERE, name + ".params")
    mx.nd.save(path, data)
    record(name, mx.nd.load(path), byte_identical=True, note=note)


# ---- files written by MXNet's mx.nd.save -----------------------------------------------------

def made_by_mxnet():
    shapes = [(3,), (2, 3), (2, 1, 4), (1,)]
    lst = [nd(values(dt, shapes[i % len(shapes)], i)) for i, dt in enumerate(DTYPES)]
    save_and_record("list_dtypes", lst, "one array of every dense dtype, a list")
    dct = {"w_" + dt: nd(values(dt, (2, 2), 10 + i)) for i, dt in enumerate(DTYPES)}
    save_and_record("dict_dtypes", dct, "one array of every dense dtype, a dict")
    save_and_record("single", nd(values("float32", (4, 5), 99)),
                    "mx.nd.save of one NDArray (loads as a one-element list)")
    save_and_record("empty_list", [], "no arrays")
    zero = {"z0": nd(np.zeros((0,), np.float32)),
            "z1": nd(np.zeros((2, 0, 3), np.int8)),
            "z2": nd(np.zeros((0, 5), np.float64)),
            "after": nd(values("int32", (3,), 5))}
    save_and_record("zero_size", zero, "0-size shapes (legacy shape semantics, V2 records)")
    save_and_record("unicode_names", {"wëight": nd(values("float32", (2,), 1)),
                                      "π:bias": nd(values("float16", (3,), 2))},
                    "UTF-8 names")
    big = nd(values("float32", (64, 64), 7))
    save_and_record("larger", {"arg:big": big}, "a 16 KiB array")

    # NumPy shape semantics: V3 records, 0-d arrays.
    path = os.path.join(HERE, "np_scalars.params")
    with mx.util.np_shape(True):
        sc = [mx.nd.array(np.array(v, dtype=dt), dtype=dt)
              for v, dt in [(5.0, "float32"), (-2.5, "float64"), (7, "int64"), (1, "bool"),
                            (3, "uint8")]]
        mx.nd.save(path, sc)
        record("np_scalars", mx.nd.load(path), byte_identical=True,
               note="0-d arrays (V3 records, written with np_shape on)")
        path = os.path.join(HERE, "np_mixed.params")
        mx.nd.save(path, {"s": mx.nd.array(np.array(1.5, np.float32)),
                          "z": mx.nd.array(np.zeros((2, 0), np.float32)),
                          "v": mx.nd.array(values("float32", (2, 3), 3))})
        record("np_mixed", mx.nd.load(path), byte_identical=True,
               note="V3 records for every array, 0-d, 0-size and 2-d (np_shape on)")

    # Sparse storage: mxnext refuses it by name.
    path = os.path.join(HERE, "sparse.params")
    rsp = mx.nd.sparse.row_sparse_array((np.ones((1, 2), np.float32), [1]), shape=(3, 2))
    csr = mx.nd.sparse.csr_matrix((np.array([1.0, 2.0], np.float32), np.array([0, 1]),
                                   np.array([0, 1, 2])), shape=(2, 2))
    mx.nd.save(path, {"dense": mx.nd.ones((2,)), "emb_weight": rsp, "csr": csr})
    record("sparse", None, byte_identical=False,
           expect_error={"class": "NotImplementedMXNetError", "mentions": ["emb_weight",
                                                                             "row_sparse"]},
           note="row_sparse and csr arrays")


# ---- older record versions, built byte by byte, checked with MXNet's loader -----------------

def header(n):
    return struct.pack("<QQQ", 0x112, 0, n)


def names_block(names):
    out = struct.pack("<Q", len(names))
    for nm in names:
        b = nm.encode()
        out += struct.pack("<Q", len(b)) + b
    return out


def rec_v1(arr, dev=(1, 0)):
    return (struct.pack("<I", 0xF993FAC8) + struct.pack("<I", arr.ndim) +
            struct.pack("<%dq" % arr.ndim, *arr.shape) + struct.pack("<ii", *dev) +
            struct.pack("<i", FLAG[str(arr.dtype)]) + arr.tobytes())


def rec_legacy(arr, dev=(1, 0)):
    return (struct.pack("<I", arr.ndim) + struct.pack("<%dI" % arr.ndim, *arr.shape) +
            struct.pack("<ii", *dev) + struct.pack("<i", FLAG[str(arr.dtype)]) + arr.tobytes())


def rec_v2(arr, dev=(1, 0)):
    return (struct.pack("<Ii", 0xF993FAC9, 0) + struct.pack("<i", arr.ndim) +
            struct.pack("<%dq" % arr.ndim, *arr.shape) + struct.pack("<ii", *dev) +
            struct.pack("<i", FLAG[str(arr.dtype)]) + arr.tobytes())


def handmade():
    arrs = [values("float32", (2, 3), 21), values("int64", (4,), 22),
            values("float16", (1, 2, 2), 23), values("uint8", (5,), 24)]
    built = {
        "v1_list": (header(len(arrs)) + b"".join(rec_v1(a) for a in arrs) + names_block([]),
                    "V1 records (magic 0xF993fac8, no storage type), a list"),
        "legacy_dict": (header(len(arrs)) + b"".join(rec_legacy(a) for a in arrs) +
                        names_block(["a", "b", "c", "d"]),
                        "pre-V1 records (first word ndim, uint32 dims), a dict"),
        "mixed_versions": (header(3) + rec_legacy(arrs[0]) + rec_v1(arrs[1]) + rec_v2(arrs[2]) +
                           names_block(["legacy", "v1", "v2"]),
                           "one legacy, one V1, one V2 record in one file"),
        "gpu_context": (header(2) + rec_v2(arrs[0], dev=(2, 1)) + rec_v1(arrs[1], dev=(3, 0)) +
                        names_block(["gpu", "pinned"]),
                        "records saved from gpu(1) and cpu_pinned(0): load on the CPU"),
    }
    for name, (data, note) in built.items():
        path = os.path.join(HERE, name + ".params")
        with open(path, "wb") as f:
            f.write(data)
        loaded = mx.nd.load(path)  # MXNet 1.9.1 is the judge of what these bytes mean
        record(name, loaded, byte_identical=False, note=note + " (hand-built, loaded by MXNet)")


# ---- checkpoints -----------------------------------------------------------------------------

def checkpoints():
    mx.random.seed(3)
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=8, name="fc1")
    net = mx.sym.BatchNorm(net, name="bn1")
    net = mx.sym.Activation(net, act_type="relu", name="relu1")
    net = mx.sym.FullyConnected(net, num_hidden=3, name="fc2")
    net = mx.sym.SoftmaxOutput(net, name="softmax")
    mod = mx.mod.Module(net, data_names=["data"], label_names=["softmax_label"])
    mod.bind(data_shapes=[("data", (4, 5))], label_shapes=[("softmax_label", (4,))])
    mod.init_params(mx.init.Xavier())
    arg, aux = mod.get_params()
    aux["bn1_moving_mean"][:] = mx.nd.array(values("float32", (8,), 31))
    prefix = os.path.join(HERE, "mlp")
    mx.model.save_checkpoint(prefix, 3, net, arg, aux)
    record("mlp-0003", mx.nd.load(prefix + "-0003.params"), byte_identical=True,
           note="mx.model.save_checkpoint of a Module MLP with BatchNorm (arg:/aux: names)")
    x = values("float32", (4, 5), 40)
    mod.forward(mx.io.DataBatch([mx.nd.array(x)]), is_train=False)
    np.savez(os.path.join(HERE, "mlp_forward.npz"), x=x, y=mod.get_outputs()[0].asnumpy())

    from mxnet import gluon
    netg = gluon.nn.HybridSequential()
    with netg.name_scope():
        netg.add(gluon.nn.Dense(6, activation="relu", in_units=5))
        netg.add(gluon.nn.BatchNorm(in_channels=6))
        netg.add(gluon.nn.Dense(2, in_units=6))
    netg.initialize(mx.init.Xavier())
    netg.hybridize()
    netg(mx.nd.array(values("float32", (3, 5), 41)))
    prefix = os.path.join(HERE, "gluon_mlp")
    netg.export(prefix, epoch=0)
    record("gluon_mlp-0000", mx.nd.load(prefix + "-0000.params"), byte_identical=True,
           note="Gluon HybridSequential export() (arg:/aux: names)")


def verify(directory):
    bad = 0
    for fn in sorted(os.listdir(directory)):
        if not fn.endswith(".params"):
            continue
        path = os.path.join(directory, fn)
        try:
            try:
                got = mx.nd.load(path)
            except mx.base.MXNetError:
                with mx.util.np_shape(True):  # V3 files (0-d arrays) need NumPy shapes
                    got = mx.nd.load(path)
            items = got.items() if isinstance(got, dict) else enumerate(got)
            print(fn, "OK", [(k, v.shape, str(v.dtype)) for k, v in items])
        except Exception as e:  # noqa: BLE001 - report every failure
            bad += 1
            print(fn, "FAILED", str(e).splitlines()[-1] if str(e) else repr(e))
    return bad


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--verify":
        sys.exit(1 if verify(sys.argv[2]) else 0)
    print("Apache MXNet", mx.__version__)
    made_by_mxnet()
    handmade()
    checkpoints()
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump({"mxnet_version": mx.__version__, "files": manifest}, f, indent=1,
                  sort_keys=True, ensure_ascii=False)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(HERE, p)) for p in os.listdir(HERE))
    print("wrote", len(manifest), "fixtures,", total, "bytes in", HERE)


if __name__ == "__main__":
    main()
