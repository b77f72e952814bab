"""The same network on both sides: examples/symbols' symbol (under mxnext or Apache MXNet)
against its torch.nn version (bench/torch_nets.py). symbol_summary runs in the mxnext or MXNet
interpreter, torch_nets.summary in PyTorch's; compare() sets the two (and MXNet's, where
given) side by side: the parameter count (the symbol's arguments without data and label;
BatchNorm's moving statistics are auxiliary states in MXNet and buffers in PyTorch, so neither
side counts them) and the output shapes of every convolution, pooling and fully connected
layer at 1x3x224x224 must be equal."""
import json


def symbol_summary(sym):
    """{"params": count, "layers": sorted [op, output shape]} of a SoftmaxOutput symbol."""
    shapes = dict(data=(1, 3, 224, 224), softmax_label=(1,))
    args, _, _ = sym.infer_shape(**shapes)
    params = 0
    for n, s in zip(sym.list_arguments(), args):
        if n not in shapes:
            size = 1
            for d in s:
                size *= d
            params += size
    kinds = {n["name"] + "_output": n["op"] for n in json.loads(sym.tojson())["nodes"]
             if n["op"] in ("Convolution", "Pooling", "FullyConnected")}
    internals = sym.get_internals()
    _, outs, _ = internals.infer_shape(**shapes)
    layers = sorted([kinds[n], list(s)] for n, s in zip(internals.list_outputs(), outs)
                    if n in kinds)
    return {"params": params, "layers": layers}


def compare(net, mx, pt, ref=None):
    """(ok, one line or more of text) for the summaries of mxnext's symbol `mx`, the torch.nn
    version `pt` and, optionally, MXNet's reading of the same symbol `ref`."""
    ok = (mx["params"] == pt["params"] and mx["layers"] == pt["layers"]
          and (ref is None or (ref["params"], ref["layers"]) == (mx["params"], mx["layers"])))
    text = (f"{net}: parameters mxnext symbol {mx['params']:,}"
            + ("" if ref is None else f", MXNet symbol {ref['params']:,}")
            + f", torch.nn {pt['params']:,}; {len(mx['layers'])} conv/pool/fc output shapes "
            f"{'equal' if mx['layers'] == pt['layers'] else 'DIFFER'}"
            + ("" if ref is None or ref["layers"] == mx["layers"] else " (MXNet's DIFFER)")
            + ("" if ok else "  <-- MISMATCH"))
    if mx["layers"] != pt["layers"]:
        only_mx = [x for x in mx["layers"] if x not in pt["layers"]]
        only_pt = [x for x in pt["layers"] if x not in mx["layers"]]
        text += f"\n    only in the symbol: {only_mx}\n    only in torch.nn: {only_pt}"
    return ok, text
