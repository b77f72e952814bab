"""The quick start of the README: arrays, generated operators, NumPy/DLPack interop, errors."""
import numpy as np

import mxnext as mx

print(f"mxnext {mx.__version__}, engine {mx.engine.info()}")

a = mx.nd.ones((2, 3))
print("a * 2 =\n", (a * 2).asnumpy())  # [[2. 2. 2.] [2. 2. 2.]]

b = mx.nd.array(np.arange(6).reshape(2, 3), dtype="float64")
c = mx.nd.broadcast_add(a.astype("float64"), b) + 1  # broadcast_add is generated from the registry
print("c = ones + arange(6) + 1 =\n", np.asarray(c))  # [[2. 3. 4.] [5. 6. 7.]]

d = np.from_dlpack(c)  # zero-copy: d shares c's memory
d[0, 0] = 100
print("after writing through NumPy's view, c[0, 0] =", c[0, 0].asscalar())  # 100.0
mx.nd.waitall()

x = mx.nd.array(np.arange(12).reshape(3, 4))
print("sum over axis 1:", mx.nd.sum(x, axis=1).asnumpy())  # [ 6. 22. 38.]
print("x[1:3, ::2] =\n", x[1:3, ::2].asnumpy())
print("dot(x, x.T) diagonal:", np.diag(mx.nd.dot(x, x.T).asnumpy()))  # [ 14. 126. 366.]

mx.random.seed(42)
print("uniform, seed 42:", mx.random.uniform(shape=(3,)).asnumpy())

try:
    mx.nd.broadcast_add(a, mx.nd.ones((4,)))
except mx.ShapeError as e:
    print(f"caught {type(e).__name__} from {e.op_name} (axis {e.axis}): {e}")

try:
    mx.nd.zeros((2,), ctx=mx.gpu(0))
except mx.DeviceError as e:
    print(f"caught {type(e).__name__}: {e}")

stats = mx.engine.memory_stats()
print(f"host pool: {stats['live_bytes']} bytes live, peak {stats['peak_bytes']}")
