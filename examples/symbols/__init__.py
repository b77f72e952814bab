"""Classic image networks written with mx.sym, as in Apache MXNet's
example/image-classification/symbols: AlexNet, VGG-16, Inception-BN, ResNet-50. Used by the
memory tests and the benchmarks; each get_symbol(num_classes) returns a SoftmaxOutput head."""
from . import alexnet, inception_bn, resnet, vgg

NETWORKS = {
    "alexnet": alexnet.get_symbol,
    "vgg16": vgg.get_symbol,
    "inception-bn": inception_bn.get_symbol,
    "resnet50": resnet.get_symbol,
}
