"""The symbol that tests/python/test_symbol.py writes with mxnext and compares, byte for
byte, with mxnext-arith-symbol.json; make_fixtures.py checks that Apache MXNet 1.9.1 loads that
file and infers the same shapes."""


def build(mx):
    a = mx.sym.Variable("a", lr_mult=2.0)
    b = mx.sym.Variable("b")
    c = mx.sym.broadcast_add(a, b, name="add")
    c = mx.sym._internal._mul_scalar(c, scalar=2.0, name="twice")
    d = mx.sym.Concat(c, a, dim=1, name="cat")
    e = mx.sym.sum(mx.sym.Reshape(d, shape=(0, -1), name="flat"), axis=1, keepdims=True,
                   name="total")
    f = mx.sym.transpose(mx.sym.exp(d, name="ex"), axes=(1, 0), name="tr")
    return mx.sym.Group([e, f]), {"a": (2, 3), "b": (1, 3)}
