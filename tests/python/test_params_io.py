"""mx.nd.save / mx.nd.load / load_frombuffer and mx.model checkpoints against Apache MXNet 1.9.1.

The fixtures in tests/data/params were written (or, for old record versions, checked) by Apache
MXNet 1.9.1 with tests/data/params/make_fixtures.py; the .npz beside each file holds the arrays
as MXNet loaded them. CI has no MXNet: these tests only read the committed files."""
import json
import os
import resource
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import pytest

import mxnext as mx
from mxnext import _core

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "params")
with open(os.path.join(DATA, "manifest.json"), encoding="utf-8") as _f:
    MANIFEST = json.load(_f)["files"]
LOADABLE = sorted(k for k, v in MANIFEST.items() if v["kind"] != "error")
IDENTICAL = sorted(k for k, v in MANIFEST.items() if v["byte_identical"])
DTYPES = ["float32", "float64", "float16", "uint8", "int8", "int32", "int64", "bool"]
FLAG = {"float32": 0, "float64": 1, "float16": 2, "uint8": 3, "int32": 4, "int8": 5,
        "int64": 6, "bool": 7}


def path_of(name):
    return os.path.join(DATA, name + ".params")


def read_bytes(name):
    with open(path_of(name), "rb") as f:
        return f.read()


def expected(name):
    """(kind, names, [numpy arrays]) as Apache MXNet loaded the fixture."""
    entry = MANIFEST[name]
    with np.load(os.path.join(DATA, name + ".npz")) as z:
        arrays = [z["a%d" % i] for i in range(entry["count"])]
    return entry["kind"], entry["names"], arrays


def assert_same_array(got, want, what):
    g = got.asnumpy()
    assert g.dtype == want.dtype, what
    assert g.shape == want.shape, what
    assert g.tobytes() == want.tobytes(), what  # bit-exact: NaN, -0.0, inf included


def check_loaded(name, loaded):
    kind, names, arrays = expected(name)
    if kind == "dict":
        assert isinstance(loaded, dict)
        assert list(loaded.keys()) == names
        for n, a in zip(names, arrays):
            assert_same_array(loaded[n], a, f"{name}:{n}")
    else:
        assert isinstance(loaded, list)
        assert len(loaded) == len(arrays)
        for i, a in enumerate(arrays):
            assert_same_array(loaded[i], a, f"{name}[{i}]")


def as_data(name):
    """The fixture's arrays as mx.nd.save takes them, from the MXNet-made expectations."""
    kind, names, arrays = expected(name)
    nds = [mx.nd.array(a, dtype=a.dtype) for a in arrays]
    if kind == "dict":
        return dict(zip(names, nds))
    return nds


# ---- MXNet's files load exactly --------------------------------------------------------------

@pytest.mark.parametrize("name", LOADABLE)
def test_mxnet_file_loads_exactly(name):
    check_loaded(name, mx.nd.load(path_of(name)))


@pytest.mark.parametrize("name", LOADABLE)
def test_mxnet_file_loads_from_buffer(name):
    data = read_bytes(name)
    check_loaded(name, mx.nd.load_frombuffer(data))
    check_loaded(name, mx.nd.load_frombuffer(bytearray(data)))
    check_loaded(name, mx.nd.load_frombuffer(memoryview(data)))


def test_fixture_coverage():
    kinds = {MANIFEST[n]["kind"] for n in LOADABLE}
    assert kinds == {"list", "dict"}
    dtypes = set()
    for n in LOADABLE:
        dtypes |= {str(a.dtype) for a in expected(n)[2]}
    assert dtypes >= set(DTYPES)
    shapes = [a.shape for n in LOADABLE for a in expected(n)[2]]
    assert () in shapes and any(0 in s for s in shapes)
    for old in ["v1_list", "legacy_dict", "mixed_versions", "gpu_context", "np_mixed"]:
        assert old in LOADABLE


def test_loaded_arrays_are_cpu_and_usable():
    d = mx.nd.load(path_of("gpu_context"))
    assert d["gpu"].context == mx.cpu()
    assert d["pinned"].context == mx.cpu()
    s = (d["gpu"] * 2).asnumpy()
    np.testing.assert_array_equal(s, expected("gpu_context")[2][0] * 2)


def test_sparse_is_not_implemented_by_name():
    want = MANIFEST["sparse"]["error"]
    with pytest.raises(mx.NotImplementedMXNetError) as ei:
        mx.nd.load(path_of("sparse"))
    assert type(ei.value).__name__ == want["class"]
    for m in want["mentions"]:
        assert m in str(ei.value)


# ---- mxnext writes MXNet's bytes ------------------------------------------------------------

@pytest.mark.parametrize("name", IDENTICAL)
def test_written_file_is_byte_identical(name, tmp_path):
    data = as_data(name)
    if name == "single":
        data = data[0]  # mx.nd.save(fname, ndarray)
    out = tmp_path / "out.params"
    mx.nd.save(str(out), data)
    assert out.read_bytes() == read_bytes(name)
    assert mx.nd.utils._save_to_bytes(data) == read_bytes(name)


def test_checkpoint_is_byte_identical(tmp_path):
    _, names, arrays = expected("mlp-0003")
    arg = {n[4:]: mx.nd.array(a, dtype=a.dtype) for n, a in zip(names, arrays)
           if n.startswith("arg:")}
    aux = {n[4:]: mx.nd.array(a, dtype=a.dtype) for n, a in zip(names, arrays)
           if n.startswith("aux:")}
    prefix = str(tmp_path / "mlp")
    mx.model.save_checkpoint(prefix, 3, None, arg, aux)
    assert sorted(os.listdir(tmp_path)) == ["mlp-0003.params"]
    assert (tmp_path / "mlp-0003.params").read_bytes() == read_bytes("mlp-0003")


# ---- round trips ------------------------------------------------------------------------------

def sample(dtype, shape, seed):
    rng = np.random.RandomState(seed)
    if dtype == "bool":
        return np.asarray(rng.randint(0, 2, size=shape)).astype(np.bool_)
    if dtype.startswith("float"):
        return np.asarray(rng.randn(*shape)).astype(dtype)
    info = np.iinfo(dtype)
    return np.asarray(rng.randint(max(info.min, -2**31), min(info.max, 2**31 - 1), size=shape,
                                  dtype=np.int64)).astype(dtype)


SHAPES = [(), (0,), (1,), (3,), (2, 3), (2, 0, 4), (1, 1, 1, 1, 2), (3, 1, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_every_dtype(dtype, tmp_path):
    src = [sample(dtype, s, i) for i, s in enumerate(SHAPES)]
    arrays = [mx.nd.array(a, dtype=dtype) for a in src]
    lst = tmp_path / "l.params"
    mx.nd.save(str(lst), arrays)
    got = mx.nd.load(str(lst))
    assert isinstance(got, list) and len(got) == len(src)
    for g, a in zip(got, src):
        assert_same_array(g, a, dtype)
    dct = tmp_path / "d.params"
    mx.nd.save(dct, {f"k{i}": x for i, x in enumerate(arrays)})  # os.PathLike
    got = mx.nd.load(dct)
    assert list(got) == [f"k{i}" for i in range(len(src))]
    for i, a in enumerate(src):
        assert_same_array(got[f"k{i}"], a, dtype)
    again = mx.nd.load_frombuffer(mx.nd.utils._save_to_bytes(arrays))
    for g, a in zip(again, src):
        assert_same_array(g, a, dtype)


def test_round_trip_views_and_pending_work(tmp_path):
    base = mx.nd.array(np.arange(24, dtype=np.float32).reshape(4, 6))
    view = base[1:3]
    lazy = mx.nd.broadcast_add(base, base) * 3  # queued work: save waits for it
    p = tmp_path / "v.params"
    mx.nd.save(str(p), {"view": view, "lazy": lazy, "row": base[2]})
    got = mx.nd.load(str(p))
    np.testing.assert_array_equal(got["view"].asnumpy(), base.asnumpy()[1:3])
    np.testing.assert_array_equal(got["lazy"].asnumpy(), base.asnumpy() * 6)
    np.testing.assert_array_equal(got["row"].asnumpy(), base.asnumpy()[2])


def test_save_argument_errors(tmp_path):
    a = mx.nd.ones((2,))
    p = str(tmp_path / "x.params")
    with pytest.raises(ValueError):
        mx.nd.save(p, 5)
    with pytest.raises(TypeError):
        mx.nd.save(p, [a, np.ones(2)])
    with pytest.raises(TypeError):
        mx.nd.save(p, {1: a})
    with pytest.raises(TypeError):
        mx.nd.save(123, [a])
    with pytest.raises(ValueError):
        mx.nd.save(p, {"bad\0name": a})
    with pytest.raises(TypeError):
        mx.nd.load_frombuffer("not bytes")
    assert not os.path.exists(p)


def test_missing_file_and_directory_are_io_errors(tmp_path):
    with pytest.raises(mx.MXNetIOError) as ei:
        mx.nd.load(str(tmp_path / "nope.params"))
    assert "nope.params" in str(ei.value)
    assert isinstance(ei.value, OSError)
    with pytest.raises(mx.MXNetIOError):
        mx.nd.load(str(tmp_path))
    with pytest.raises(mx.MXNetIOError):
        mx.nd.save(str(tmp_path / "no" / "dir" / "x.params"), [mx.nd.ones((1,))])


# ---- corruption ----------------------------------------------------------------------------

def header(n):
    return struct.pack("<QQQ", 0x112, 0, n)


def v2(ndim_and_dims, flag=0, payload=b"", dev=(1, 0), stype=0, magic=0xF993FAC9):
    ndim = ndim_and_dims[0]
    dims = ndim_and_dims[1:]
    return (struct.pack("<Ii", magic, stype) + struct.pack("<i", ndim) +
            struct.pack("<%dq" % len(dims), *dims) + struct.pack("<ii", *dev) +
            struct.pack("<i", flag) + payload)


NO_NAMES = struct.pack("<Q", 0)


def expect_format(data, *mentions, cls=None):
    cls = cls or mx.FormatError
    with pytest.raises(cls) as ei:
        mx.nd.load_frombuffer(data)
    msg = str(ei.value)
    assert msg
    for m in mentions:
        assert m in msg, msg
    return msg


def test_valid_handmade_record():
    data = header(1) + v2((2, 2, 1), payload=struct.pack("<2f", 1.5, -2)) + NO_NAMES
    got = mx.nd.load_frombuffer(data)
    np.testing.assert_array_equal(got[0].asnumpy(), [[1.5], [-2]])


CORRUPT = {
    "empty": (b"", ["truncated"]),
    "bad list magic": (struct.pack("<QQQ", 0x113, 0, 0) + NO_NAMES, ["0x113", "0x112"]),
    "huge array count": (header(2**40) + NO_NAMES, ["1099511627776 arrays"]),
    "max array count": (header(2**64 - 1) + NO_NAMES, ["arrays"]),
    "2^40 elements in 64 bytes": (header(1) + v2((1, 2**40)) + b"\0" * 8 + NO_NAMES,
                                  ["4398046511104 bytes", "array 0"]),
    "ndim 33": (header(1) + v2((33,) + (1,) * 33) + NO_NAMES, ["ndim 33"]),
    "ndim -2": (header(1) + v2((-2,)) + NO_NAMES, ["ndim -2"]),
    "negative dim": (header(1) + v2((2, 3, -4)) + NO_NAMES, ["negative", "-4"]),
    "element count overflow": (header(1) + v2((3, 2**62, 2**62, 4)) + NO_NAMES, ["overflow"]),
    "byte count overflow": (header(1) + v2((1, 2**62), flag=1) + NO_NAMES, ["overflow"]),
    "truncated data": (header(1) + v2((1, 4), payload=b"\0" * 15) + NO_NAMES, ["truncated"]),
    "trailing bytes": (header(1) + v2((1, 1), payload=b"\0" * 4) + NO_NAMES + b"x",
                       ["1 trailing"]),
    "unknown type flag": (header(1) + v2((1, 1), flag=99, payload=b"\0" * 4) + NO_NAMES,
                          ["type flag 99"]),
    "unknown storage type": (header(1) + v2((1, 1), stype=7) + NO_NAMES, ["storage type 7"]),
    "unknown device": (header(1) + v2((1, 1), dev=(9, 0), payload=b"\0" * 4) + NO_NAMES,
                       ["device type 9"]),
    "unknown record magic": (header(1) + struct.pack("<I", 0xDEADBEEF) + b"\0" * 40 + NO_NAMES,
                             ["deadbeef"]),
    "name count mismatch": (header(1) + v2((1, 1), payload=b"\0" * 4) + struct.pack("<Q", 2),
                            ["2 names"]),
    "huge name length": (header(1) + v2((1, 1), payload=b"\0" * 4) + struct.pack("<QQ", 1, 2**60),
                         ["name 0"]),
    "missing names block": (header(1) + v2((1, 1), payload=b"\0" * 4), ["name count"]),
    "invalid utf-8 name": (header(1) + v2((1, 1), payload=b"\0" * 4) +
                           struct.pack("<QQ", 1, 2) + b"\xff\xfe", ["UTF-8"]),
    "V3 sparse": (header(1) + v2((1, 1), stype=1, magic=0xF993FACA) + NO_NAMES, ["sparse"]),
    "legacy ndim 40": (header(1) + struct.pack("<I", 40) + b"\0" * 200 + NO_NAMES, ["ndim 40"]),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corruption_table(case):
    data, mentions = CORRUPT[case]
    expect_format(data, *mentions)


def test_huge_tensor_fails_fast_without_allocating():
    data = header(1) + v2((1, 2**40)) + NO_NAMES
    data += b"\0" * (64 - len(data))
    assert len(data) == 64
    before = _core.memory_stats()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    for _ in range(100):
        with pytest.raises(mx.FormatError):
            mx.nd.load_frombuffer(data)
    assert (time.perf_counter() - t0) / 100 < 0.01
    after = _core.memory_stats()
    assert after["peak_bytes"] - before["peak_bytes"] < 1 << 20
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 1024  # KiB


def test_not_implemented_cases_name_the_array():
    bf16 = header(1) + v2((1, 2), flag=12, payload=b"\0" * 4) + struct.pack("<QQ", 1, 5) + b"w_b16"
    expect_format(bf16, "'w_b16'", "bfloat16", cls=mx.NotImplementedMXNetError)
    dims17 = (17,) + (1,) * 17
    deep = header(1) + v2(dims17, payload=b"\0" * 4) + NO_NAMES
    expect_format(deep, "17 dimensions", "array 0", cls=mx.NotImplementedMXNetError)


def test_none_records_load_as_empty_arrays():
    v2_none = struct.pack("<Iii", 0xF993FAC9, 0, 0)
    v3_none = struct.pack("<Iii", 0xF993FACA, 0, -1)
    v3_unknown_dim = struct.pack("<Iiiqq", 0xF993FACA, 0, 2, 3, -1)
    legacy_none = struct.pack("<I", 0)
    v1_none = struct.pack("<II", 0xF993FAC8, 0)
    data = header(5) + v2_none + v3_none + v3_unknown_dim + legacy_none + v1_none + NO_NAMES
    got = mx.nd.load_frombuffer(data)
    assert [(g.shape, g.dtype) for g in got] == [((0,), np.float32)] * 5


@pytest.mark.parametrize("name", ["list_dtypes", "dict_dtypes", "np_scalars", "legacy_dict"])
def test_every_truncation_is_a_format_error(name):
    data = read_bytes(name)
    for n in range(len(data)):
        with pytest.raises(mx.FormatError) as ei:
            mx.nd.load_frombuffer(data[:n])
        assert str(ei.value), n
    mx.nd.load_frombuffer(data)  # the whole file still loads


def test_truncated_files_on_disk(tmp_path):
    data = read_bytes("mlp-0003")
    p = tmp_path / "t.params"
    for n in list(range(0, 64)) + list(range(64, len(data), 37)) + [len(data) - 1]:
        p.write_bytes(data[:n])
        with pytest.raises(mx.FormatError) as ei:
            mx.nd.load(str(p))
        assert str(p) in str(ei.value)


@pytest.mark.parametrize("name", ["single", "mixed_versions", "dict_dtypes"])
def test_every_bit_flip_loads_or_fails_cleanly(name):
    data = bytearray(read_bytes(name))
    outcomes = {"ok": 0, "format": 0, "not_implemented": 0}
    for i in range(len(data)):
        for bit in range(8):
            data[i] ^= 1 << bit
            try:
                got = mx.nd.load_frombuffer(bytes(data))
                for a in (got.values() if isinstance(got, dict) else got):
                    a.asnumpy()
                outcomes["ok"] += 1
            except mx.FormatError as e:
                assert str(e)
                outcomes["format"] += 1
            except mx.NotImplementedMXNetError as e:
                assert str(e)
                outcomes["not_implemented"] += 1
            data[i] ^= 1 << bit
    assert outcomes["format"] > 0 and outcomes["ok"] > 0


def test_trailing_bytes_after_real_file():
    expect_format(read_bytes("dict_dtypes") + b"\0", "trailing")


# ---- atomic save ------------------------------------------------------------------------------

def no_temp_files(directory):
    return [f for f in os.listdir(directory) if ".tmp." in f] == []


def test_overwrite_replaces_and_leaves_no_temp(tmp_path):
    p = tmp_path / "w.params"
    mx.nd.save(str(p), [mx.nd.ones((3,))])
    mx.nd.save(str(p), {"a": mx.nd.zeros((2, 2))})
    assert list(mx.nd.load(str(p))) == ["a"]
    assert os.listdir(tmp_path) == ["w.params"]
    umask = os.umask(0)
    os.umask(umask)
    assert (p.stat().st_mode & 0o777) == (0o666 & ~umask)


def test_failed_validation_leaves_existing_file(tmp_path):
    p = tmp_path / "keep.params"
    mx.nd.save(str(p), [mx.nd.ones((3,))])
    before = p.read_bytes()
    with pytest.raises(TypeError):
        mx.nd.save(str(p), [mx.nd.zeros((4,)), "not an array"])
    with pytest.raises(TypeError):
        mx.nd.save(str(p), {"a": mx.nd.zeros((4,)), 7: mx.nd.zeros((1,))})
    assert p.read_bytes() == before
    assert no_temp_files(tmp_path)


def test_rename_onto_directory_fails_cleanly(tmp_path):
    d = tmp_path / "adir"
    d.mkdir()
    (d / "inside").write_text("x")
    with pytest.raises(mx.MXNetIOError):
        mx.nd.save(str(d), [mx.nd.ones((3,))])
    assert (d / "inside").read_text() == "x"
    assert no_temp_files(tmp_path)


CHILD_WRITE_FAILS = r"""
import resource, signal, sys
import numpy as np
import mxnext as mx
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # writes past 4 KiB fail (EFBIG)
try:
    mx.nd.save(sys.argv[1], {"big": mx.nd.array(np.ones((64, 64), np.float32))})
except mx.MXNetIOError as e:
    print("IOERROR", e)
    sys.exit(0)
print("SAVED")
sys.exit(1)
"""


def test_write_error_midway_leaves_existing_file(tmp_path):
    p = tmp_path / "ckpt.params"
    mx.nd.save(str(p), [mx.nd.ones((3,))])
    before = p.read_bytes()
    r = subprocess.run([sys.executable, "-c", CHILD_WRITE_FAILS, str(p)], capture_output=True,
                       text=True, timeout=120, env=dict(os.environ))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "IOERROR" in r.stdout and str(p) in r.stdout
    assert p.read_bytes() == before
    assert no_temp_files(tmp_path)


CHILD_SAVE_LOOP = r"""
import sys
import numpy as np
import mxnext as mx
path = sys.argv[1]
a = mx.nd.array(np.arange(1 << 20, dtype=np.float32))
i = 0
print("READY", flush=True)
while True:
    i += 1
    mx.nd.save(path, {"step": mx.nd.array([float(i)]), "payload": a + i})
"""


def test_sigkill_during_saves_never_leaves_a_broken_file(tmp_path):
    p = tmp_path / "loop.params"
    rng = np.random.RandomState(0)
    seen = set()
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", CHILD_SAVE_LOOP, str(p)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "READY"
        time.sleep(0.2 + rng.rand() * 0.6)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        if not p.exists():
            continue
        got = mx.nd.load(str(p))  # whatever is under the final name is complete
        step = got["step"].asnumpy()[0]
        payload = got["payload"].asnumpy()
        assert payload[0] == step and payload[-1] == (1 << 20) - 1 + step
        seen.add(step)
    assert seen, "no save completed"


# ---- checkpoints -----------------------------------------------------------------------------

@pytest.mark.parametrize("name,prefix,epoch", [("mlp-0003", "mlp", 3),
                                               ("gluon_mlp-0000", "gluon_mlp", 0)])
def test_load_params_of_mxnet_checkpoints(name, prefix, epoch):
    arg, aux = mx.model.load_params(os.path.join(DATA, prefix), epoch)
    _, names, arrays = expected(name)
    want_arg = {n[4:]: a for n, a in zip(names, arrays) if n.startswith("arg:")}
    want_aux = {n[4:]: a for n, a in zip(names, arrays) if n.startswith("aux:")}
    assert list(arg) == list(want_arg) and list(aux) == list(want_aux)
    assert aux  # both checkpoints hold BatchNorm statistics
    for k, a in want_arg.items():
        assert_same_array(arg[k], a, k)
    for k, a in want_aux.items():
        assert_same_array(aux[k], a, k)


def test_checkpoint_round_trip(tmp_path):
    arg = {"fc_weight": mx.nd.array(sample("float32", (3, 4), 1)),
           "fc_bias": mx.nd.zeros((3,))}
    aux = {"bn_moving_var": mx.nd.ones((3,), dtype="float64")}
    prefix = str(tmp_path / "net")
    mx.model.save_checkpoint(prefix, 12, None, arg, aux)
    assert os.path.exists(prefix + "-0012.params")
    arg2, aux2 = mx.model.load_params(prefix, 12)
    assert list(arg2) == list(arg) and list(aux2) == list(aux)
    for k in arg:
        assert_same_array(arg2[k], arg[k].asnumpy(), k)
    assert_same_array(aux2["bn_moving_var"], aux["bn_moving_var"].asnumpy(), "aux")
    raw = mx.nd.load(prefix + "-0012.params")
    assert list(raw) == ["arg:fc_weight", "arg:fc_bias", "aux:bn_moving_var"]


def test_save_checkpoint_calls_symbol_save(tmp_path):
    calls = []

    class FakeSymbol:
        def save(self, fname):
            calls.append(fname)

    prefix = str(tmp_path / "m")
    mx.model.save_checkpoint(prefix, 1, FakeSymbol(), {"w": mx.nd.ones((1,))}, {})
    assert calls == [prefix + "-symbol.json"]


def test_load_params_rejects_non_checkpoints(tmp_path):
    prefix = str(tmp_path / "x")
    mx.nd.save(prefix + "-0000.params", [mx.nd.ones((1,))])
    with pytest.raises(mx.FormatError, match="unnamed list"):
        mx.model.load_params(prefix, 0)
    mx.nd.save(prefix + "-0001.params", {"dense0.weight": mx.nd.ones((1,))})
    with pytest.raises(mx.FormatError, match="dense0.weight"):
        mx.model.load_params(prefix, 1)
    mx.nd.save(prefix + "-0002.params", [])
    assert mx.model.load_params(prefix, 2) == ({}, {})
    with pytest.raises(mx.MXNetIOError):
        mx.model.load_params(prefix, 3)


def test_load_checkpoint_uses_sym_load():
    symbol, arg, aux = mx.model.load_checkpoint(os.path.join(DATA, "mlp"), 3)
    assert "fc1_weight" in symbol.list_arguments()
    assert set(arg) == {"fc1_weight", "fc1_bias", "bn1_gamma", "bn1_beta", "fc2_weight",
                        "fc2_bias"}
    assert set(aux) == {"bn1_moving_mean", "bn1_moving_var"}


def test_no_code_in_data():
    """EXAMPLES "Reliability" 4: the parameter loaders never unpickle or evaluate file content."""
    import mxnext.model
    import mxnext.ndarray.utils
    for mod in (mxnext.model, mxnext.ndarray.utils):
        with open(mod.__file__, encoding="utf-8") as f:
            src = f.read()
        for bad in ("pickle", "eval(", "exec(", "marshal"):
            assert bad not in src, (mod.__name__, bad)
