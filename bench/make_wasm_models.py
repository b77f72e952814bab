"""Writes the models of bench/wasm_infer.mjs into bench/results/wasm_models/: ResNet-18 (v1) and
MobileNet (v1, width 1.0), batch 1, 3x224x224, each twice with the same random weights (seeded):
as an MXNet checkpoint (<name>-symbol.json + <name>-0000.params, through mxnext) and as ONNX
(<name>.onnx, written with the `onnx` package's helpers). Needs `pip install onnx`.

    .venv/bin/python bench/make_wasm_models.py"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import mxnext as mx

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "wasm_models")


class Both:
    """Builds one network as an mxnext Symbol and an ONNX graph with the same weights."""

    def __init__(self, seed):
        self.rng = np.random.RandomState(seed)
        self.args, self.aux, self.nodes, self.inits = {}, {}, [], []
        self.n = 0

    def _w(self, name, arr, aux=False):
        (self.aux if aux else self.args)[name] = arr.astype(np.float32)
        self.inits.append(numpy_helper.from_array(arr.astype(np.float32), name))
        return name

    def conv(self, x, cin, cout, k, stride=1, pad=0, group=1):
        self.n += 1
        name = f"conv{self.n}"
        fan_in = cin // group * k * k
        w = self._w(f"{name}_weight",
                    self.rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin // group, k, k)))
        sym = mx.sym.Convolution(x[0], kernel=(k, k), stride=(stride, stride), pad=(pad, pad),
                                 num_filter=cout, num_group=group, no_bias=True, name=name)
        self.nodes.append(helper.make_node("Conv", [x[1], w], [name], kernel_shape=[k, k],
                                           strides=[stride, stride], pads=[pad] * 4, group=group))
        return sym, name

    def bn(self, x, c, relu=True):
        self.n += 1
        name = f"bn{self.n}"
        g = self._w(f"{name}_gamma", self.rng.uniform(0.5, 1.5, c))
        b = self._w(f"{name}_beta", self.rng.uniform(-0.2, 0.2, c))
        m = self._w(f"{name}_moving_mean", self.rng.uniform(-0.2, 0.2, c), aux=True)
        v = self._w(f"{name}_moving_var", self.rng.uniform(0.5, 1.5, c), aux=True)
        sym = mx.sym.BatchNorm(x[0], fix_gamma=False, eps=1e-5, name=name)
        self.nodes.append(helper.make_node("BatchNormalization", [x[1], g, b, m, v], [name],
                                           epsilon=1e-5))
        out = (sym, name)
        return self.relu(out) if relu else out

    def relu(self, x):
        self.n += 1
        name = f"relu{self.n}"
        self.nodes.append(helper.make_node("Relu", [x[1]], [name]))
        return mx.sym.Activation(x[0], act_type="relu", name=name), name

    def add(self, a, b):
        self.n += 1
        name = f"add{self.n}"
        self.nodes.append(helper.make_node("Add", [a[1], b[1]], [name]))
        return mx.sym.elemwise_add(a[0], b[0], name=name), name

    def maxpool(self, x):
        self.nodes.append(helper.make_node("MaxPool", [x[1]], ["maxpool"], kernel_shape=[3, 3],
                                           strides=[2, 2], pads=[1, 1, 1, 1]))
        return mx.sym.Pooling(x[0], kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max",
                              name="maxpool"), "maxpool"

    def head(self, x, c, classes=1000):
        self.nodes.append(helper.make_node("GlobalAveragePool", [x[1]], ["gap"]))
        self.nodes.append(helper.make_node("Flatten", [x[1] if False else "gap"], ["flat"]))
        w = self._w("fc_weight", self.rng.normal(0, np.sqrt(1.0 / c), (classes, c)))
        b = self._w("fc_bias", self.rng.uniform(-0.1, 0.1, classes))
        self.nodes.append(helper.make_node("Gemm", ["flat", w, b], ["output"], transB=1))
        p = mx.sym.Pooling(x[0], global_pool=True, pool_type="avg", kernel=(1, 1), name="gap")
        f = mx.sym.Flatten(p, name="flat")
        return mx.sym.FullyConnected(f, num_hidden=classes, name="fc")

    def save(self, name, sym):
        os.makedirs(OUT, exist_ok=True)
        prefix = os.path.join(OUT, name)
        mx.model.save_checkpoint(prefix, 0, sym,
                                 {k: mx.nd.array(v) for k, v in self.args.items()},
                                 {k: mx.nd.array(v) for k, v in self.aux.items()})
        graph = helper.make_graph(
            self.nodes, name, [helper.make_tensor_value_info("data", TensorProto.FLOAT,
                                                             [1, 3, 224, 224])],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1000])],
            initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        onnx.save(model, prefix + ".onnx")
        print(f"wrote {prefix}-symbol.json, -0000.params and .onnx "
              f"({sum(v.size for v in self.args.values()) / 1e6:.1f} M parameters)")


def resnet18():
    b = Both(18)
    x = (mx.sym.Variable("data"), "data")
    x = b.bn(b.conv(x, 3, 64, 7, 2, 3), 64)
    x = b.maxpool(x)
    cin = 64
    for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        for i in range(2):
            s = stride if i == 0 else 1
            y = b.bn(b.conv(x, cin, cout, 3, s, 1), cout)
            y = b.bn(b.conv(y, cout, cout, 3, 1, 1), cout, relu=False)
            short = x if (s == 1 and cin == cout) else b.bn(b.conv(x, cin, cout, 1, s, 0), cout,
                                                            relu=False)
            x = b.relu(b.add(y, short))
            cin = cout
    b.save("resnet18", b.head(x, 512))


def mobilenet():
    b = Both(1)
    x = (mx.sym.Variable("data"), "data")
    x = b.bn(b.conv(x, 3, 32, 3, 2, 1), 32)
    cin = 32
    for cout, s in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1),
                    (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]:
        x = b.bn(b.conv(x, cin, cin, 3, s, 1, group=cin), cin)  # depthwise
        x = b.bn(b.conv(x, cin, cout, 1, 1, 0), cout)           # pointwise
        cin = cout
    b.save("mobilenet", b.head(x, 1024))


if __name__ == "__main__":
    resnet18()
    mobilenet()
