"""ResNet-50 v1 with bottleneck units (He et al. 2015), as MXNet's symbols/resnet-v1.py."""
import mxnext as mx


def bottleneck(x, f, stride, dim_match, name):
    bn = dict(fix_gamma=False, eps=2e-5, momentum=0.9)
    c1 = mx.sym.Convolution(x, num_filter=f // 4, kernel=(1, 1), no_bias=True, name=name + "_conv1")
    c1 = mx.sym.Activation(mx.sym.BatchNorm(c1, name=name + "_bn1", **bn), act_type="relu")
    c2 = mx.sym.Convolution(c1, num_filter=f // 4, kernel=(3, 3), stride=stride, pad=(1, 1),
                            no_bias=True, name=name + "_conv2")
    c2 = mx.sym.Activation(mx.sym.BatchNorm(c2, name=name + "_bn2", **bn), act_type="relu")
    c3 = mx.sym.Convolution(c2, num_filter=f, kernel=(1, 1), no_bias=True, name=name + "_conv3")
    c3 = mx.sym.BatchNorm(c3, name=name + "_bn3", **bn)
    if dim_match:
        shortcut = x
    else:
        shortcut = mx.sym.Convolution(x, num_filter=f, kernel=(1, 1), stride=stride, no_bias=True,
                                      name=name + "_sc")
        shortcut = mx.sym.BatchNorm(shortcut, name=name + "_sc_bn", **bn)
    return mx.sym.Activation(c3 + shortcut, act_type="relu", name=name + "_relu")


def get_symbol(num_classes=1000, units=(3, 4, 6, 3), filters=(256, 512, 1024, 2048)):
    x = mx.sym.Variable("data")
    x = mx.sym.Convolution(x, num_filter=64, kernel=(7, 7), stride=(2, 2), pad=(3, 3),
                           no_bias=True, name="conv0")
    x = mx.sym.BatchNorm(x, fix_gamma=False, eps=2e-5, momentum=0.9, name="bn0")
    x = mx.sym.Activation(x, act_type="relu", name="relu0")
    x = mx.sym.Pooling(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max")
    for stage, (n, f) in enumerate(zip(units, filters)):
        stride = (1, 1) if stage == 0 else (2, 2)
        x = bottleneck(x, f, stride, False, f"stage{stage + 1}_unit1")
        for i in range(2, n + 1):
            x = bottleneck(x, f, (1, 1), True, f"stage{stage + 1}_unit{i}")
    x = mx.sym.Pooling(x, global_pool=True, kernel=(7, 7), pool_type="avg", name="pool1")
    x = mx.sym.Flatten(x)
    x = mx.sym.FullyConnected(x, num_hidden=num_classes, name="fc1")
    return mx.sym.SoftmaxOutput(x, name="softmax")
