"""The networks of examples/symbols in torch.nn, as a PyTorch user writes them (torchvision's
style: ReLU in place, the residual added in place), for the benchmarks that run them next to
mxnext and Apache MXNet (bench/memory.py, bench/ops_conv.py, bench/convnets.py). Imported in
the PyTorch interpreter only: `sys.path.insert(0, ROOT + "/bench"); import torch_nets`.

MXNet's Pooling defaults to pooling_convention 'valid' (floor), as PyTorch's ceil_mode=False;
its BatchNorm momentum 0.9 is PyTorch's 0.1 and count_include_pad defaults to True in both;
LRN is knorm + alpha / nsize * sum in both. summary() gives what bench/netcheck.py compares
with the symbol: the parameter count and every conv/pool/fc output shape at 1x3x224x224."""
import torch
import torch.nn as nn


def alexnet():
    lrn = lambda: nn.LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2)  # noqa: E731
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(True), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(True), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(True),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(True), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Linear(256 * 5 * 5, 4096), nn.ReLU(True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(4096, 1000))


def vgg16():
    layers, c = [], 3
    for n, f in [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]:
        for _ in range(n):
            layers += [nn.Conv2d(c, f, 3, padding=1), nn.ReLU(inplace=True)]
            c = f
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(25088, 4096), nn.ReLU(True),
                         nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(),
                         nn.Linear(4096, 1000))


def cbr(cin, cout, k, stride=1, pad=0):  # inception_bn.conv: Convolution (bias), BN, ReLU
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride=stride, padding=pad),
                         nn.BatchNorm2d(cout, eps=2e-5), nn.ReLU(True))


class InceptionA(nn.Module):
    def __init__(self, cin, n1, n3r, n3, nd3r, nd3, pool, proj):
        super().__init__()
        self.c1 = cbr(cin, n1, 1)
        self.c3 = nn.Sequential(cbr(cin, n3r, 1), cbr(n3r, n3, 3, pad=1))
        self.d3 = nn.Sequential(cbr(cin, nd3r, 1), cbr(nd3r, nd3, 3, pad=1),
                                cbr(nd3, nd3, 3, pad=1))
        p = nn.AvgPool2d(3, 1, 1) if pool == "avg" else nn.MaxPool2d(3, 1, 1)
        self.p = nn.Sequential(p, cbr(cin, proj, 1))
        self.cout = n1 + n3 + nd3 + proj

    def forward(self, x):
        return torch.cat([self.c1(x), self.c3(x), self.d3(x), self.p(x)], 1)


class InceptionB(nn.Module):
    def __init__(self, cin, n3r, n3, nd3r, nd3):
        super().__init__()
        self.c3 = nn.Sequential(cbr(cin, n3r, 1), cbr(n3r, n3, 3, stride=2, pad=1))
        self.d3 = nn.Sequential(cbr(cin, nd3r, 1), cbr(nd3r, nd3, 3, pad=1),
                                cbr(nd3, nd3, 3, stride=2, pad=1))
        self.p = nn.MaxPool2d(3, 2, 1)
        self.cout = n3 + nd3 + cin

    def forward(self, x):
        return torch.cat([self.c3(x), self.d3(x), self.p(x)], 1)


def inception_bn():
    layers = [cbr(3, 64, 7, stride=2, pad=3), nn.MaxPool2d(3, 2), cbr(64, 64, 1),
              cbr(64, 192, 3, pad=1), nn.MaxPool2d(3, 2)]
    c = 192
    for kind, *a in [("a", 64, 64, 64, 64, 96, "avg", 32), ("a", 64, 64, 96, 64, 96, "avg", 64),
                     ("b", 128, 160, 64, 96), ("a", 224, 64, 96, 96, 128, "avg", 128),
                     ("a", 192, 96, 128, 96, 128, "avg", 128),
                     ("a", 160, 128, 160, 128, 160, "avg", 128),
                     ("a", 96, 128, 192, 160, 192, "avg", 128), ("b", 128, 192, 192, 256),
                     ("a", 352, 192, 320, 160, 224, "avg", 128),
                     ("a", 352, 192, 320, 192, 224, "max", 128)]:
        layers.append((InceptionA if kind == "a" else InceptionB)(c, *a))
        c = layers[-1].cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 1000))


def bn(c):
    return nn.BatchNorm2d(c, eps=2e-5)


class Residual(nn.Module):
    """resnet.bottleneck (1x1, 3x3 with the stride, 1x1 to f) or resnet.basic (two 3x3), with
    a projected shortcut (1x1 convolution with the stride, BatchNorm) unless dim_match."""

    def __init__(self, cin, f, stride, dim_match, bottle_neck):
        super().__init__()
        if bottle_neck:
            m = f // 4
            self.body = nn.Sequential(
                nn.Conv2d(cin, m, 1, bias=False), bn(m), nn.ReLU(True),
                nn.Conv2d(m, m, 3, stride=stride, padding=1, bias=False), bn(m), nn.ReLU(True),
                nn.Conv2d(m, f, 1, bias=False), bn(f))
        else:
            self.body = nn.Sequential(
                nn.Conv2d(cin, f, 3, stride=stride, padding=1, bias=False), bn(f), nn.ReLU(True),
                nn.Conv2d(f, f, 3, padding=1, bias=False), bn(f))
        self.relu = nn.ReLU(inplace=True)
        self.sc = None if dim_match else nn.Sequential(
            nn.Conv2d(cin, f, 1, stride=stride, bias=False), bn(f))

    def forward(self, x):
        out = self.body(x)
        out += x if self.sc is None else self.sc(x)
        return self.relu(out)


def resnet(units, filters, bottle_neck):  # resnet.get_symbol
    layers = [nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), bn(64), nn.ReLU(True),
              nn.MaxPool2d(3, 2, 1)]
    c = 64
    for stage, (n, f) in enumerate(zip(units, filters)):
        stride = 1 if stage == 0 else 2
        layers.append(Residual(c, f, stride, not bottle_neck and c == f and stride == 1,
                               bottle_neck))
        layers += [Residual(f, f, 1, True, bottle_neck) for _ in range(n - 1)]
        c = f
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 1000))


def resnet50():
    return resnet((3, 4, 6, 3), (256, 512, 1024, 2048), True)


def resnet18():
    return resnet((2, 2, 2, 2), (64, 128, 256, 512), False)


NETWORKS = {"alexnet": alexnet, "vgg16": vgg16, "inception-bn": inception_bn,
            "resnet50": resnet50, "resnet18": resnet18}


def summary(net):
    """{"params": count, "layers": sorted [kind, output shape]} of a fresh `net` at batch 1."""
    model = NETWORKS[net]()
    kinds = {nn.Conv2d: "Convolution", nn.MaxPool2d: "Pooling", nn.AvgPool2d: "Pooling",
             nn.AdaptiveAvgPool2d: "Pooling", nn.Linear: "FullyConnected"}
    layers = []
    for m in model.modules():
        if type(m) in kinds:
            m.register_forward_hook(lambda m, i, o: layers.append([kinds[type(m)],
                                                                    list(o.shape)]))
    model.eval()
    with torch.no_grad():
        model(torch.rand(1, 3, 224, 224))
    return {"params": sum(p.numel() for p in model.parameters()), "layers": sorted(layers)}
