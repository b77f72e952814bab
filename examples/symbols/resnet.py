"""ResNet v1 (He et al. 2015), as MXNet's symbols/resnet-v1.py: ResNet-50 with bottleneck
units (get_symbol's defaults) and ResNet-18 with basic units (resnet18)."""
import mxnext as mx

BN = dict(fix_gamma=False, eps=2e-5, momentum=0.9)


def shortcut(x, f, stride, dim_match, name):
    if dim_match:
        return x
    sc = mx.sym.Convolution(x, num_filter=f, kernel=(1, 1), stride=stride, no_bias=True,
                            name=name + "_sc")
    return mx.sym.BatchNorm(sc, name=name + "_sc_bn", **BN)


def bottleneck(x, f, stride, dim_match, name):
    c1 = mx.sym.Convolution(x, num_filter=f // 4, kernel=(1, 1), no_bias=True, name=name + "_conv1")
    c1 = mx.sym.Activation(mx.sym.BatchNorm(c1, name=name + "_bn1", **BN), act_type="relu")
    c2 = mx.sym.Convolution(c1, num_filter=f // 4, kernel=(3, 3), stride=stride, pad=(1, 1),
                            no_bias=True, name=name + "_conv2")
    c2 = mx.sym.Activation(mx.sym.BatchNorm(c2, name=name + "_bn2", **BN), act_type="relu")
    c3 = mx.sym.Convolution(c2, num_filter=f, kernel=(1, 1), no_bias=True, name=name + "_conv3")
    c3 = mx.sym.BatchNorm(c3, name=name + "_bn3", **BN)
    return mx.sym.Activation(c3 + shortcut(x, f, stride, dim_match, name), act_type="relu",
                             name=name + "_relu")


def basic(x, f, stride, dim_match, name):
    """Two 3x3 convolutions (resnet-v1.py's residual_unit with bottle_neck=False)."""
    c1 = mx.sym.Convolution(x, num_filter=f, kernel=(3, 3), stride=stride, pad=(1, 1),
                            no_bias=True, name=name + "_conv1")
    c1 = mx.sym.Activation(mx.sym.BatchNorm(c1, name=name + "_bn1", **BN), act_type="relu")
    c2 = mx.sym.Convolution(c1, num_filter=f, kernel=(3, 3), pad=(1, 1), no_bias=True,
                            name=name + "_conv2")
    c2 = mx.sym.BatchNorm(c2, name=name + "_bn2", **BN)
    return mx.sym.Activation(c2 + shortcut(x, f, stride, dim_match, name), act_type="relu",
                             name=name + "_relu")


def get_symbol(num_classes=1000, units=(3, 4, 6, 3), filters=(256, 512, 1024, 2048),
               bottle_neck=True):
    """Bottleneck units project the shortcut in every stage's first unit (ResNet-50's first
    stage widens 64 to 256 channels); basic units only where the shape changes, as in the
    paper and torchvision (resnet-v1.py also projects ResNet-18's first unit, 64 to 64)."""
    unit = bottleneck if bottle_neck else basic
    x = mx.sym.Variable("data")
    x = mx.sym.Convolution(x, num_filter=64, kernel=(7, 7), stride=(2, 2), pad=(3, 3),
                           no_bias=True, name="conv0")
    x = mx.sym.BatchNorm(x, name="bn0", **BN)
    x = mx.sym.Activation(x, act_type="relu", name="relu0")
    x = mx.sym.Pooling(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max")
    c = 64
    for stage, (n, f) in enumerate(zip(units, filters)):
        stride = (1, 1) if stage == 0 else (2, 2)
        same_shape = not bottle_neck and c == f and stride == (1, 1)
        x = unit(x, f, stride, same_shape, f"stage{stage + 1}_unit1")
        for i in range(2, n + 1):
            x = unit(x, f, (1, 1), True, f"stage{stage + 1}_unit{i}")
        c = f
    x = mx.sym.Pooling(x, global_pool=True, kernel=(7, 7), pool_type="avg", name="pool1")
    x = mx.sym.Flatten(x)
    x = mx.sym.FullyConnected(x, num_hidden=num_classes, name="fc1")
    return mx.sym.SoftmaxOutput(x, name="softmax")


def resnet18(num_classes=1000):
    return get_symbol(num_classes, units=(2, 2, 2, 2), filters=(64, 128, 256, 512),
                      bottle_neck=False)
