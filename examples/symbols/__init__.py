"""Classic image networks written with mx.sym, as in Apache MXNet's
example/image-classification/symbols: AlexNet, VGG-16, Inception-BN, ResNet-50 and ResNet-18.
Used by the memory tests and the benchmarks; each get_symbol(num_classes) returns a
SoftmaxOutput head."""
from . import alexnet, inception_bn, resnet, vgg

NETWORKS = {
    "alexnet": alexnet.get_symbol,
    "vgg16": vgg.get_symbol,
    "inception-bn": inception_bn.get_symbol,
    "resnet50": resnet.get_symbol,
}
# NETWORKS is what the memory-plan tests bound one by one (tests/python/test_memory_plan.py);
# the benchmarks (bench/convnets.py) also run ResNet-18.
ALL_NETWORKS = dict(NETWORKS, resnet18=resnet.resnet18)
