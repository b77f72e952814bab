"""AlexNet (Krizhevsky et al. 2012), single tower, as MXNet's symbols/alexnet.py."""
import mxnext as mx


def get_symbol(num_classes=1000):
    data = mx.sym.Variable("data")
    x = mx.sym.Convolution(data, kernel=(11, 11), stride=(4, 4), num_filter=96, name="conv1")
    x = mx.sym.Activation(x, act_type="relu", name="relu1")
    x = mx.sym.LRN(x, alpha=0.0001, beta=0.75, knorm=2, nsize=5, name="lrn1")
    x = mx.sym.Pooling(x, pool_type="max", kernel=(3, 3), stride=(2, 2), name="pool1")
    x = mx.sym.Convolution(x, kernel=(5, 5), pad=(2, 2), num_filter=256, name="conv2")
    x = mx.sym.Activation(x, act_type="relu", name="relu2")
    x = mx.sym.LRN(x, alpha=0.0001, beta=0.75, knorm=2, nsize=5, name="lrn2")
    x = mx.sym.Pooling(x, pool_type="max", kernel=(3, 3), stride=(2, 2), name="pool2")
    for i, f in enumerate([384, 384, 256]):
        x = mx.sym.Convolution(x, kernel=(3, 3), pad=(1, 1), num_filter=f, name=f"conv{3 + i}")
        x = mx.sym.Activation(x, act_type="relu", name=f"relu{3 + i}")
    x = mx.sym.Pooling(x, pool_type="max", kernel=(3, 3), stride=(2, 2), name="pool3")
    x = mx.sym.Flatten(x, name="flatten")
    for i in (6, 7):
        x = mx.sym.FullyConnected(x, num_hidden=4096, name=f"fc{i}")
        x = mx.sym.Activation(x, act_type="relu", name=f"relu{i}")
        x = mx.sym.Dropout(x, p=0.5, name=f"drop{i}")
    x = mx.sym.FullyConnected(x, num_hidden=num_classes, name="fc8")
    return mx.sym.SoftmaxOutput(x, name="softmax")
