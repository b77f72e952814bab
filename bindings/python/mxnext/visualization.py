"""mx.viz: a summary table of a symbol's layers and a graphviz drawing (MXNet's API)."""
import json

__all__ = ["print_summary", "plot_network"]


def _layers(symbol, shape):
    """(node, output shape, parameter count, previous layers) for every operator node."""
    doc = json.loads(symbol.tojson())
    nodes = doc["nodes"]
    internals = symbol.get_internals()
    out_shapes = {}
    if shape:
        _, shapes, _ = internals.infer_shape_partial(**shape)
        out_shapes = dict(zip(internals.list_outputs(), shapes))
        arg_shapes, _, aux_shapes = symbol.infer_shape_partial(**shape)
        param_shapes = dict(zip(symbol.list_arguments(), arg_shapes))
        param_shapes.update(zip(symbol.list_auxiliary_states(), aux_shapes))
    else:
        param_shapes = {}
    inputs = set(shape or {})
    rows = []
    for node in nodes:
        if node["op"] == "null":
            continue
        params = 0
        previous = []
        for src, _, *_ in node["inputs"]:
            src_node = nodes[src]
            if src_node["op"] == "null":
                name = src_node["name"]
                if name not in inputs and not name.endswith("label"):
                    dims = param_shapes.get(name) or ()
                    count = 1
                    for d in dims:
                        count *= d
                    params += count if dims else 0
                else:
                    previous.append(name)
            else:
                previous.append(src_node["name"])
        key = node["name"] + "_output"
        out = out_shapes.get(key) or out_shapes.get(node["name"] + "_output0") or ()
        rows.append((node["name"], node["op"], out, params, previous))
    return rows


def print_summary(symbol, shape=None, line_length=120, positions=(.44, .64, .74, 1.)):
    """Prints each layer's name and type, output shape, parameter count and inputs."""
    rows = _layers(symbol, shape)
    cols = [int(line_length * p) for p in positions]
    headers = ["Layer (type)", "Output Shape", "Param #", "Previous Layer"]

    def line(fields):
        text = ""
        for i, f in enumerate(fields):
            text += str(f)
            text = text[:cols[i]].ljust(cols[i])
        print(text.rstrip())

    print("_" * line_length)
    line(headers)
    print("=" * line_length)
    total = 0
    for name, op, out, params, previous in rows:
        line([f"{name}({op})", "x".join(str(d) for d in out), params,
              previous[0] if previous else ""])
        for p in previous[1:]:
            line(["", "", "", p])
        print("_" * line_length)
        total += params
    print(f"Total params: {total}")
    print("_" * line_length)
    return total


def plot_network(symbol, title="plot", save_format="pdf", shape=None, node_attrs=None,
                 hide_weights=True):
    """A graphviz.Digraph of the network (needs the optional `graphviz` package)."""
    try:
        from graphviz import Digraph
    except ImportError:
        raise ImportError("plot_network needs the graphviz package: pip install graphviz") \
            from None
    doc = json.loads(symbol.tojson())
    nodes = doc["nodes"]
    dot = Digraph(name=title, format=save_format)
    attrs = {"shape": "box", "fixedsize": "false", "style": "filled"}
    attrs.update(node_attrs or {})
    shapes = {}
    if shape:
        internals = symbol.get_internals()
        _, outs, _ = internals.infer_shape_partial(**shape)
        shapes = dict(zip(internals.list_outputs(), outs))
    drawn = set()
    for i, node in enumerate(nodes):
        name = node["name"]
        if node["op"] == "null":
            if hide_weights and name not in (shape or {}) and not name.endswith("data"):
                continue
            dot.node(name=str(i), label=name, **attrs)
        else:
            dot.node(name=str(i), label=f"{node['op']}\n{name}", **attrs)
        drawn.add(i)
    for i, node in enumerate(nodes):
        if i not in drawn:
            continue
        for src, idx, *_ in node["inputs"]:
            if src in drawn:
                label = ""
                out = shapes.get(nodes[src]["name"] + "_output")
                if out:
                    label = "x".join(str(d) for d in out)
                dot.edge(tail_name=str(src), head_name=str(i), label=label)
    return dot
