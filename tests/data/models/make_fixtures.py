"""Exports small Gluon networks with Apache MXNet 1.9.1 (run in .venv-mxnet):

    .venv-mxnet/bin/python tests/data/models/make_fixtures.py

Each model is saved as MXNet's export() pair (<name>-symbol.json, <name>-0000.params) with an
input and MXNet's output for it (<name>-io.npz), so tests compare mxnext's forward pass with
MXNet's without MXNet installed. Random weights, fixed seeds, small enough to commit."""
import os

import mxnet as mx
import numpy as np
from mxnet.gluon import nn

HERE = os.path.dirname(os.path.abspath(__file__))


class Residual(nn.HybridBlock):
    def __init__(self, channels, **kw):
        super().__init__(**kw)
        self.conv1 = nn.Conv2D(channels, 3, padding=1, use_bias=False)
        self.bn1 = nn.BatchNorm()
        self.conv2 = nn.Conv2D(channels, 3, padding=1, use_bias=False)
        self.bn2 = nn.BatchNorm()

    def hybrid_forward(self, F, x):
        y = F.Activation(self.bn1(self.conv1(x)), act_type="relu")
        return F.Activation(self.bn2(self.conv2(y)) + x, act_type="relu")


def tiny_resnet():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(8, 3, padding=1), nn.BatchNorm(), nn.Activation("relu"),
            nn.MaxPool2D(2), Residual(8), nn.Conv2D(16, 3, strides=2, padding=1),
            nn.BatchNorm(), nn.Activation("relu"), nn.GlobalAvgPool2D(), nn.Flatten(),
            nn.Dense(32, activation="tanh"), nn.Dropout(0.5), nn.Dense(10))
    return net, (2, 3, 16, 16)


def mlp():
    net = nn.HybridSequential()
    net.add(nn.Dense(64, activation="relu"), nn.Dense(32, activation="sigmoid"), nn.Dense(5))
    return net, (4, 20)


def export(name, make):
    mx.random.seed(7)
    np.random.seed(7)
    net, shape = make()
    net.initialize(mx.init.Xavier(magnitude=2.0))
    net.hybridize()
    x = mx.nd.array(np.random.RandomState(3).uniform(-1, 1, shape).astype("float32"))
    net(x)  # build the graph
    # Non-trivial BatchNorm statistics, so inference uses them.
    for p_name, p in net.collect_params().items():
        if p_name.endswith("running_mean"):
            p.set_data(mx.nd.array(np.random.RandomState(5).uniform(-0.2, 0.2, p.shape)))
        if p_name.endswith("running_var"):
            p.set_data(mx.nd.array(np.random.RandomState(6).uniform(0.5, 1.5, p.shape)))
    y = net(x)
    net.export(os.path.join(HERE, name), epoch=0)
    np.savez(os.path.join(HERE, name + "-io.npz"), data=x.asnumpy(), output=y.asnumpy())
    print(name, "exported: output", y.shape)


export("tiny_resnet", tiny_resnet)
export("mlp", mlp)
