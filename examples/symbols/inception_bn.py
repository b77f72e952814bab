"""Inception with BatchNorm (Ioffe and Szegedy 2015), as MXNet's symbols/inception-bn.py."""
import mxnext as mx


def conv(x, f, kernel, stride=(1, 1), pad=(0, 0), name=""):
    x = mx.sym.Convolution(x, num_filter=f, kernel=kernel, stride=stride, pad=pad,
                           name=f"conv_{name}")
    x = mx.sym.BatchNorm(x, fix_gamma=False, eps=2e-5, name=f"bn_{name}")
    return mx.sym.Activation(x, act_type="relu", name=f"relu_{name}")


def inception_a(x, n1, n3r, n3, nd3r, nd3, pool, proj, name):
    c1 = conv(x, n1, (1, 1), name=f"{name}_1x1")
    c3 = conv(conv(x, n3r, (1, 1), name=f"{name}_3x3_reduce"), n3, (3, 3), pad=(1, 1),
              name=f"{name}_3x3")
    d3 = conv(x, nd3r, (1, 1), name=f"{name}_double_3x3_reduce")
    d3 = conv(d3, nd3, (3, 3), pad=(1, 1), name=f"{name}_double_3x3_0")
    d3 = conv(d3, nd3, (3, 3), pad=(1, 1), name=f"{name}_double_3x3_1")
    p = mx.sym.Pooling(x, kernel=(3, 3), stride=(1, 1), pad=(1, 1), pool_type=pool,
                       name=f"{pool}_pool_{name}_pool")
    p = conv(p, proj, (1, 1), name=f"{name}_proj")
    return mx.sym.Concat(c1, c3, d3, p, name=f"ch_concat_{name}_chconcat")


def inception_b(x, n3r, n3, nd3r, nd3, name):
    c3 = conv(conv(x, n3r, (1, 1), name=f"{name}_3x3_reduce"), n3, (3, 3), stride=(2, 2),
              pad=(1, 1), name=f"{name}_3x3")
    d3 = conv(x, nd3r, (1, 1), name=f"{name}_double_3x3_reduce")
    d3 = conv(d3, nd3, (3, 3), pad=(1, 1), name=f"{name}_double_3x3_0")
    d3 = conv(d3, nd3, (3, 3), stride=(2, 2), pad=(1, 1), name=f"{name}_double_3x3_1")
    p = mx.sym.Pooling(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max",
                       name=f"max_pool_{name}_pool")
    return mx.sym.Concat(c3, d3, p, name=f"ch_concat_{name}_chconcat")


def get_symbol(num_classes=1000):
    x = mx.sym.Variable("data")
    x = conv(x, 64, (7, 7), stride=(2, 2), pad=(3, 3), name="1")
    x = mx.sym.Pooling(x, kernel=(3, 3), stride=(2, 2), pool_type="max", name="pool_1")
    x = conv(x, 64, (1, 1), name="2_red")
    x = conv(x, 192, (3, 3), pad=(1, 1), name="2")
    x = mx.sym.Pooling(x, kernel=(3, 3), stride=(2, 2), pool_type="max", name="pool_2")
    x = inception_a(x, 64, 64, 64, 64, 96, "avg", 32, "3a")
    x = inception_a(x, 64, 64, 96, 64, 96, "avg", 64, "3b")
    x = inception_b(x, 128, 160, 64, 96, "3c")
    x = inception_a(x, 224, 64, 96, 96, 128, "avg", 128, "4a")
    x = inception_a(x, 192, 96, 128, 96, 128, "avg", 128, "4b")
    x = inception_a(x, 160, 128, 160, 128, 160, "avg", 128, "4c")
    x = inception_a(x, 96, 128, 192, 160, 192, "avg", 128, "4d")
    x = inception_b(x, 128, 192, 192, 256, "4e")
    x = inception_a(x, 352, 192, 320, 160, 224, "avg", 128, "5a")
    x = inception_a(x, 352, 192, 320, 192, 224, "max", 128, "5b")
    x = mx.sym.Pooling(x, kernel=(7, 7), stride=(1, 1), global_pool=True, pool_type="avg",
                       name="global_pool")
    x = mx.sym.Flatten(x, name="flatten")
    x = mx.sym.FullyConnected(x, num_hidden=num_classes, name="fc1")
    return mx.sym.SoftmaxOutput(x, name="softmax")
