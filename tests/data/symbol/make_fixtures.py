"""Writes the symbol JSON fixtures with Apache MXNet 1.9.1 (run in .venv-mxnet):

    .venv-mxnet/bin/python tests/data/symbol/make_fixtures.py

Each fixture comes with what MXNet reports for it (arguments, outputs, aux states, inferred
shapes), so the tests compare mxnext against MXNet without MXNet installed."""
import json
import os

import mxnet as mx

HERE = os.path.dirname(os.path.abspath(__file__))


def record(name, sym, shapes):
    sym.save(os.path.join(HERE, name + "-symbol.json"))
    arg, out, aux = sym.infer_shape(**shapes)
    expect = {
        "mxnet_version": mx.__version__,
        "arguments": sym.list_arguments(),
        "outputs": sym.list_outputs(),
        "aux_states": sym.list_auxiliary_states(),
        "input_shapes": {k: list(v) for k, v in shapes.items()},
        "arg_shapes": [list(s) for s in arg],
        "out_shapes": [list(s) for s in out],
        "aux_shapes": [list(s) for s in aux],
    }
    with open(os.path.join(HERE, name + "-expected.json"), "w") as f:
        json.dump(expect, f, indent=1, sort_keys=True)


a = mx.sym.Variable("a", lr_mult=2.0)
b = mx.sym.Variable("b")
with mx.AttrScope(__group__="g1"):
    c = mx.sym.broadcast_add(a, b, name="add") * 2 + 1
d = mx.sym.Concat(c, a, dim=1, name="cat")
e = mx.sym.sum(mx.sym.Reshape(d, shape=(0, -1), name="flat"), axis=1, keepdims=True, name="total")
f = mx.sym.transpose(mx.sym.exp(d), axes=(1, 0), name="tr")
record("arith", mx.sym.Group([e, f]), {"a": (2, 3), "b": (1, 3)})

# A file written by mxnext (tests/data/symbol/mxnext_written.py): MXNet must load it and agree.
mine = mx.sym.load(os.path.join(HERE, "mxnext-arith-symbol.json"))
arg, out, aux = mine.infer_shape(a=(2, 3), b=(1, 3))
assert mine.list_arguments() == ["a", "b"], mine.list_arguments()
assert out == [(2, 1), (6, 2)], out
assert mine.get_internals()["a"].attr("__lr_mult__") == "2.0"
print("Apache MXNet", mx.__version__, "loads mxnext-arith-symbol.json: outputs", out)
