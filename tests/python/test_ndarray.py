"""mx.nd.NDArray: creation, dtypes, operators, views, copies, NumPy and DLPack interop, errors.
Expected values come from NumPy."""
import gc

import numpy as np
import pytest

import mxnext as mx

DTYPES = ["float32", "float64", "float16", "uint8", "int32", "int8", "int64", "bool"]


def test_issue_example():
    a = mx.nd.ones((2, 3))
    np.testing.assert_array_equal((a * 2).asnumpy(), np.full((2, 3), 2, np.float32))
    b = mx.nd.array(np.arange(6).reshape(2, 3), dtype="float64")
    c = mx.nd.broadcast_add(a.astype("float64"), b) + 1
    expect = np.ones((2, 3)) + np.arange(6).reshape(2, 3) + 1
    np.testing.assert_array_equal(np.asarray(c), expect)
    d = np.from_dlpack(c)
    assert d.dtype == np.float64
    np.testing.assert_array_equal(d, expect)
    mx.nd.waitall()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 3), (2, 3, 4), (1,) * 8])
def test_array_round_trip(dtype, shape):
    src = (np.arange(int(np.prod(shape))) % 7).reshape(shape).astype(dtype)
    a = mx.nd.array(src, dtype=dtype)
    assert a.shape == shape
    assert a.dtype == np.dtype(dtype)
    assert a.size == src.size
    assert a.ndim == len(shape)
    out = a.asnumpy()
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, src)


def test_array_default_dtype_is_float32_like_mxnet():
    assert mx.nd.array(np.arange(3)).dtype == np.float32
    assert mx.nd.array([1, 2]).dtype == np.float32
    src = mx.nd.array([1, 2], dtype="int64")
    assert mx.nd.array(src).dtype == np.int64


def test_empty_zeros_ones_full():
    assert mx.nd.empty((2, 3)).shape == (2, 3)
    np.testing.assert_array_equal(mx.nd.zeros((2, 3), dtype="int32").asnumpy(),
                                  np.zeros((2, 3), np.int32))
    np.testing.assert_array_equal(mx.nd.ones(4).asnumpy(), np.ones(4, np.float32))
    np.testing.assert_array_equal(mx.nd.full((2,), 7.5).asnumpy(), [7.5, 7.5])


BINARY = [
    (lambda x, y: x + y), (lambda x, y: x - y), (lambda x, y: x * y),
    (lambda x, y: x / y), (lambda x, y: x ** y),
    (lambda x, y: x == y), (lambda x, y: x != y), (lambda x, y: x > y),
    (lambda x, y: x >= y), (lambda x, y: x < y), (lambda x, y: x <= y),
]


@pytest.mark.parametrize("fn", BINARY)
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1, 3), (2, 1)),
                                    ((), (2,)), ((0, 3), (1, 3))])
def test_operators_match_numpy(fn, shapes):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 2.0, shapes[0]).astype(np.float32)
    y = rng.uniform(0.5, 2.0, shapes[1]).astype(np.float32)
    got = fn(mx.nd.array(x), mx.nd.array(y))
    expect = np.asarray(fn(x, y)).astype(np.float32)  # comparisons: 1/0 in the input dtype
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.asnumpy(), expect, rtol=1e-6)


@pytest.mark.parametrize("fn,ref", [
    (lambda x: x + 2, lambda x: x + 2), (lambda x: 2 + x, lambda x: 2 + x),
    (lambda x: x - 2, lambda x: x - 2), (lambda x: 2 - x, lambda x: 2 - x),
    (lambda x: x * 3, lambda x: x * 3), (lambda x: 3 * x, lambda x: 3 * x),
    (lambda x: x / 4, lambda x: x / 4), (lambda x: 4 / x, lambda x: 4 / x),
    (lambda x: x ** 2, lambda x: x ** 2), (lambda x: 2 ** x, lambda x: 2 ** x),
    (lambda x: x % 1.5, lambda x: np.mod(x, 1.5)), (lambda x: -x, lambda x: -x),
    (lambda x: x > 1, lambda x: (x > 1).astype(np.float32)),
    (lambda x: x == 1.5, lambda x: (x == 1.5).astype(np.float32)),
])
def test_scalar_operators(fn, ref):
    x = np.array([[0.5, 1.0, 1.5], [2.0, 2.5, 3.0]], np.float32)
    np.testing.assert_allclose(fn(mx.nd.array(x)).asnumpy(), ref(x), rtol=1e-6)


def test_numpy_on_the_left_defers_to_ndarray():
    x = np.arange(3, dtype=np.float32)
    r = x + mx.nd.ones(3)
    assert isinstance(r, mx.nd.NDArray)
    np.testing.assert_array_equal(r.asnumpy(), x + 1)


def test_in_place_operators_write_the_same_storage():
    a = mx.nd.ones((2, 2))
    view = a[0]
    a += 1
    a *= 3
    np.testing.assert_array_equal(a.asnumpy(), np.full((2, 2), 6, np.float32))
    np.testing.assert_array_equal(view.asnumpy(), [6, 6])


def test_integer_division_by_zero_is_zero_not_a_crash():
    a = mx.nd.array([4, 5], dtype="int32")
    b = mx.nd.array([0, 2], dtype="int32")
    np.testing.assert_array_equal((a / b).asnumpy(), [0, 2])


def test_first_axis_indexing_shares_storage():
    a = mx.nd.array(np.arange(12).reshape(4, 3))
    row = a[1]
    rows = a[1:3]
    assert row.shape == (3,) and rows.shape == (2, 3)
    rows[:] = 0
    np.testing.assert_array_equal(row.asnumpy(), [0, 0, 0])
    np.testing.assert_array_equal(a.asnumpy()[1:3], np.zeros((2, 3)))
    a[3] = 9
    np.testing.assert_array_equal(a.asnumpy()[3], [9, 9, 9])
    a[0] = np.array([1, 2, 3])
    np.testing.assert_array_equal(a.asnumpy()[0], [1, 2, 3])
    assert a[-1].asnumpy().tolist() == [9, 9, 9]
    with pytest.raises(mx.MXNetError):
        a[4]


def test_basic_multi_axis_indexing_matches_numpy():
    x = np.arange(60).reshape(3, 4, 5).astype(np.float32)
    a = mx.nd.array(x)
    for key in [(1, 2), (slice(None), 1), (slice(0, 2), slice(1, 3), 4), (Ellipsis, 2),
                (slice(None, None, 2), slice(None), slice(4, 0, -2)), (slice(1, 1),)]:
        np.testing.assert_array_equal(a[key].asnumpy(), x[key], err_msg=str(key))


def test_setitem_general_key_goes_through_host():
    x = np.zeros((3, 4), np.float32)
    a = mx.nd.array(x)
    a[:, 1] = 5
    x[:, 1] = 5
    np.testing.assert_array_equal(a.asnumpy(), x)


def test_reshape_view_with_mxnet_codes():
    a = mx.nd.array(np.arange(24).reshape(2, 3, 4))
    assert a.reshape(-1).shape == (24,)
    assert a.reshape((0, -1)).shape == (2, 12)
    assert a.reshape(-3, 4).shape == (6, 4)
    assert a.reshape(2, -4, 1, 3, 4).shape == (2, 1, 3, 4)
    assert a.reshape(-2).shape == (2, 3, 4)
    assert a.reshape((-1, 0), reverse=True).shape == (6, 4)
    v = a.reshape(4, 6)
    v[0] = -1
    assert a.asnumpy().reshape(-1)[:6].tolist() == [-1] * 6
    with pytest.raises(mx.ShapeError):
        a.reshape(5, 5)


@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", ["float32", "int32", "float16", "bool"])
def test_astype_matches_numpy(src, dst):
    x = np.array([0, 1, 2, 3, 5], dtype=src)
    got = mx.nd.array(x, dtype=src).astype(dst)
    assert got.dtype == np.dtype(dst)
    np.testing.assert_array_equal(got.asnumpy(), x.astype(dst))


def test_copyto_copy_and_context():
    a = mx.nd.array([1, 2, 3])
    b = mx.nd.zeros(3, dtype="float64")
    a.copyto(b)
    np.testing.assert_array_equal(b.asnumpy(), [1, 2, 3])
    c = a.copy()
    c[:] = 0
    assert a.asnumpy().tolist() == [1, 2, 3]
    assert a.context == mx.cpu(0) and a.ctx.device_type == "cpu"
    d = a.copyto(mx.cpu(1))
    assert d.context == mx.cpu(1)
    with mx.cpu(2):
        assert mx.nd.ones(2).context == mx.cpu(2)


def test_asscalar_len_bool_repr():
    a = mx.nd.array([3.5])
    assert a.asscalar() == np.float32(3.5)
    assert float(a) == 3.5
    assert len(mx.nd.zeros((4, 2))) == 4
    assert bool(mx.nd.array([1])) and not bool(mx.nd.array([0]))
    with pytest.raises(ValueError):
        bool(mx.nd.zeros(3))
    with pytest.raises(ValueError):
        mx.nd.zeros(3).asscalar()
    assert "<NDArray 2x3 @cpu(0)>" in repr(mx.nd.zeros((2, 3)))


def test_array_protocol_zero_copy_and_copies():
    a = mx.nd.array([1, 2, 3])
    view = np.asarray(a)
    view[0] = 10  # shares memory
    assert a.asnumpy()[0] == 10
    copied = np.array(a, copy=True)
    copied[1] = -1
    assert a.asnumpy()[1] == 2
    assert np.asarray(a, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError):
        a.__array__(dtype=np.float64, copy=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dlpack_both_ways(dtype):
    x = (np.arange(6) % 3).reshape(2, 3).astype(dtype)
    a = mx.nd.from_dlpack(x)  # shares NumPy's memory
    assert a.dtype == np.dtype(dtype) and a.shape == (2, 3)
    np.testing.assert_array_equal(a.asnumpy(), x)
    back = np.from_dlpack(a)
    np.testing.assert_array_equal(back, x)


def test_dlpack_shares_memory_and_keeps_owner_alive():
    x = np.arange(4, dtype=np.float32)
    a = mx.nd.from_dlpack(x)
    x[0] = 42
    assert a.asnumpy()[0] == 42
    b = mx.nd.ones(4)
    y = np.from_dlpack(b)
    del b
    gc.collect()
    np.testing.assert_array_equal(y, np.ones(4))  # the capsule keeps the storage alive


def test_dlpack_strided_and_readonly_sources_are_copied():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    a = mx.nd.from_dlpack(x[:, ::2])
    np.testing.assert_array_equal(a.asnumpy(), x[:, ::2])
    ro = np.arange(3, dtype=np.float32)
    ro.flags.writeable = False
    b = mx.nd.from_dlpack(ro)
    b[:] = 7
    assert ro.tolist() == [0, 1, 2]


def test_legacy_dlpack_capsule():
    a = mx.nd.array([1, 2])
    capsule = a.__dlpack__()  # no max_version: the pre-1.0 struct
    b = mx.nd.from_dlpack(capsule)
    np.testing.assert_array_equal(b.asnumpy(), [1, 2])
    with pytest.raises(ValueError):
        mx.nd.from_dlpack(capsule)  # consumed


def test_errors_are_typed_and_structured():
    a = mx.nd.ones((2, 3))
    with pytest.raises(mx.ShapeError) as info:
        mx.nd.broadcast_add(a, mx.nd.ones(4))
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, mx.MXNetError)
    assert err.op_name == "broadcast_add"
    assert "(2,3)" in str(err) and "(4,)" in str(err)
    assert err.axis == 1
    with pytest.raises(mx.DTypeError) as info:
        mx.nd.elemwise_add(a, mx.nd.ones((2, 3), dtype="int32"))
    assert isinstance(info.value, TypeError) and info.value.arg_index == 1
    with pytest.raises(mx.ShapeError, match="out array 0 has shape"):
        mx.nd.broadcast_add(a, a, out=mx.nd.ones((3, 3)))
    with pytest.raises(mx.InvalidArgumentError, match="has no parameter 'axis'"):
        mx.nd._ops._invoke(mx.nd._ops._OP["_plus_scalar"], (a,), (b"axis",), (1,), (1,), None)
    with pytest.raises(TypeError):
        mx.nd.array([1]).astype("complex64")


def test_gpu_is_recognised_with_a_clear_error():
    ctx = mx.gpu(0)
    assert repr(ctx) == "gpu(0)"
    assert mx.num_gpus() == 0
    with pytest.raises(mx.DeviceError, match="not built with CUDA"):
        mx.nd.zeros((2,), ctx=ctx)


def test_out_of_memory_is_an_exception_and_the_process_recovers():
    mx.nd.waitall()
    mx.engine.release_cached_memory()
    live = mx.engine.memory_stats()["live_bytes"]
    mx.engine.set_memory_limit(live + (1 << 20))
    try:
        with pytest.raises(mx.OutOfMemoryError, match="requested"):
            mx.nd.empty((1 << 20,), dtype="float64")
    finally:
        mx.engine.set_memory_limit(0)
    np.testing.assert_array_equal((mx.nd.ones(4) * 2).asnumpy(), [2, 2, 2, 2])


def test_memory_is_pooled_and_counted():
    mx.nd.waitall()
    before = mx.engine.memory_stats()
    a = mx.nd.empty((1024, 1024))
    during = mx.engine.memory_stats()
    assert during["live_bytes"] >= before["live_bytes"] + 4 * 1024 * 1024
    assert during["peak_bytes"] >= during["live_bytes"]
    del a
    after = mx.engine.memory_stats()
    assert after["cached_bytes"] >= 4 * 1024 * 1024  # kept for reuse, not returned to the OS


def test_many_arrays_are_released():
    mx.nd.waitall()
    start = mx.engine.memory_stats()["live_bytes"]
    for _ in range(200):
        x = mx.nd.ones((64, 64)) + 1
        del x
    mx.nd.waitall()
    assert mx.engine.memory_stats()["live_bytes"] == start
