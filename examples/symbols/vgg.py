"""VGG-16 (Simonyan and Zisserman 2014), as MXNet's symbols/vgg.py."""
import mxnext as mx

LAYERS = [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]


def get_symbol(num_classes=1000):
    x = mx.sym.Variable("data")
    for block, (n, f) in enumerate(LAYERS, start=1):
        for j in range(1, n + 1):
            x = mx.sym.Convolution(x, kernel=(3, 3), pad=(1, 1), num_filter=f,
                                   name=f"conv{block}_{j}")
            x = mx.sym.Activation(x, act_type="relu", name=f"relu{block}_{j}")
        x = mx.sym.Pooling(x, pool_type="max", kernel=(2, 2), stride=(2, 2), name=f"pool{block}")
    x = mx.sym.Flatten(x, name="flatten")
    for i in (6, 7):
        x = mx.sym.FullyConnected(x, num_hidden=4096, name=f"fc{i}")
        x = mx.sym.Activation(x, act_type="relu", name=f"relu{i}")
        x = mx.sym.Dropout(x, p=0.5, name=f"drop{i}")
    x = mx.sym.FullyConnected(x, num_hidden=num_classes, name="fc8")
    return mx.sym.SoftmaxOutput(x, name="softmax")
