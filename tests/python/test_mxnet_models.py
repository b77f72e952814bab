"""Models exported by Apache MXNet 1.9.1's Gluon (export(): -symbol.json + .params, made by
tests/data/models/make_fixtures.py) load with mx.model.load_checkpoint and give MXNet's
outputs; a checkpoint mxnext saves loads back identically."""
import os

import numpy as np
import pytest

import mxnext as mx

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "models")


def run(sym, arg_params, aux_params, x, plan=True):
    data_name = [n for n in sym.list_arguments() if n not in arg_params][0]
    exe = sym.simple_bind(mx.cpu(), grad_req="null", **{data_name: x.shape})
    exe.copy_params_from(arg_params, aux_params)
    return exe.forward(is_train=False, **{data_name: x})[0].asnumpy(), exe


@pytest.mark.parametrize("name", ["mlp", "tiny_resnet"])
def test_gluon_export_gives_mxnet_outputs(name):
    sym, arg_params, aux_params = mx.model.load_checkpoint(os.path.join(DATA, name), 0)
    io = np.load(os.path.join(DATA, name + "-io.npz"))
    out, _ = run(sym, arg_params, aux_params, io["data"])
    np.testing.assert_allclose(out, io["output"], rtol=1e-4, atol=1e-5)


def test_tiny_resnet_layers_and_aux_states():
    sym, arg_params, aux_params = mx.model.load_checkpoint(os.path.join(DATA, "tiny_resnet"), 0)
    ops = {n["op"] for n in __import__("json").loads(sym.tojson())["nodes"]}
    assert {"Convolution", "BatchNorm", "Activation", "Pooling", "FullyConnected",
            "Dropout", "elemwise_add", "Flatten"} <= ops
    assert set(aux_params) == set(sym.list_auxiliary_states())
    assert all(n.endswith(("running_mean", "running_var")) for n in aux_params)


def test_checkpoint_round_trip(tmp_path):
    prefix = os.path.join(DATA, "tiny_resnet")
    sym, arg_params, aux_params = mx.model.load_checkpoint(prefix, 0)
    mine = str(tmp_path / "copy")
    mx.model.save_checkpoint(mine, 3, sym, arg_params, aux_params)
    sym2, arg2, aux2 = mx.model.load_checkpoint(mine, 3)
    assert sym2.tojson() == sym.tojson()
    io = np.load(prefix + "-io.npz")
    out1, _ = run(sym, arg_params, aux_params, io["data"])
    out2, _ = run(sym2, arg2, aux2, io["data"])
    np.testing.assert_array_equal(out1, out2)


def test_inference_memory_plan_on_a_real_network(monkeypatch):
    sym, arg_params, aux_params = mx.model.load_checkpoint(os.path.join(DATA, "tiny_resnet"), 0)
    x = np.load(os.path.join(DATA, "tiny_resnet-io.npz"))["data"]
    monkeypatch.setenv("MXNEXT_MEMORY_PLAN", "0")
    out_unplanned, exe_u = run(sym, arg_params, aux_params, x)
    monkeypatch.setenv("MXNEXT_MEMORY_PLAN", "1")
    out_planned, exe_p = run(sym, arg_params, aux_params, x)
    np.testing.assert_array_equal(out_planned, out_unplanned)
    import json
    rep = json.loads(exe_p.memory_report())
    # A short network: the bound is two buffers of the largest activation plus small ones.
    assert rep["planned_bytes"] * 2 <= rep["unplanned_bytes"], rep
    assert rep["inplace_saved_bytes"] > 0  # the ReLUs overwrite their inputs
    assert rep["workspace_peak_bytes"] > 0  # the convolutions' im2col buffers


def test_print_summary_counts_every_parameter(capsys):
    sym, arg_params, aux_params = mx.model.load_checkpoint(os.path.join(DATA, "tiny_resnet"), 0)
    total = mx.viz.print_summary(sym, shape={"data": (2, 3, 16, 16)})
    expect = sum(int(np.prod(a.shape)) for a in list(arg_params.values()) + list(aux_params.values()))
    assert total == expect
    text = capsys.readouterr().out
    assert "Convolution" in text and "2x10" in text and f"Total params: {expect}" in text


def test_plot_network_draws_the_graph():
    sym, _, _ = mx.model.load_checkpoint(os.path.join(DATA, "mlp"), 0)
    dot = mx.viz.plot_network(sym, shape={"data": (4, 20)})
    src = dot.source
    assert src.count("FullyConnected") == 3
    assert "4x64" in src  # edge labels carry the inferred shapes
    assert "weight" not in src  # hide_weights
