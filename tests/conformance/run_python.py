#!/usr/bin/env python3
"""Python conformance runner: interprets tests/conformance/cases/*.json with `mxnext`.

    PYTHONPATH=... python tests/conformance/run_python.py [--results FILE] [--filter SUBSTR] [-v]

Writes one results line per observation (array bytes, error fields, names, shapes, file bytes)
to FILE in the format every runner shares (README.md), and ends with `N passed, M failed`."""
import argparse
import glob
import json
import math
import os
import shutil
import sys
import tempfile

import numpy as np

import mxnext as mx

HERE = os.path.dirname(os.path.abspath(__file__))


class CaseFailure(Exception):
    pass


def load_cases(pattern=None):
    cases = []
    for path in sorted(glob.glob(os.path.join(HERE, "cases", "*.json"))):
        with open(path, encoding="utf-8") as f:
            cases.extend(json.load(f)["cases"])
    if pattern:
        cases = [c for c in cases if pattern in c["id"]]
    return cases


def num(v):
    if isinstance(v, str):
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[v]
    return v


def fmt_int(v):
    return "-" if v is None else str(v)


def shape_str(shape):
    return "(" + ",".join(str(d) for d in shape) + ")"


def make_array(step):
    dtype = step["dtype"]
    vals = [num(v) for v in step["values"]]
    if dtype in ("float32", "float64", "float16"):
        host = np.array(vals, dtype="float64").astype(dtype)
    else:
        host = np.array(vals, dtype="int64").astype(dtype)
    host = host.reshape(step["shape"])
    return mx.nd.array(host, dtype=dtype)


def find_fn(module, name):
    fn = getattr(module, name, None)
    if fn is None:
        fn = getattr(module._internal, name)
    return fn


def py_params(params):
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items()}


def array_bytes(a):
    host = a.asnumpy()
    return np.ascontiguousarray(host).astype(host.dtype.newbyteorder("<")).tobytes()


class Runner:
    def __init__(self, workdir):
        self.workdir = workdir
        self.lines = []

    def record(self, cid, i, kind, payload):
        self.lines.append(f"{cid}\t{i}\t{kind}\t{payload}")

    def record_error(self, cid, i, e):
        self.record(cid, i, "error", f"{getattr(e, 'code', '-')} {fmt_int(getattr(e, 'arg_index', None))} "
                                     f"{fmt_int(getattr(e, 'axis', None))}")

    def expect_error(self, cid, i, expected, fn):
        try:
            fn()
        except mx.base.MXNetError as e:
            self.record_error(cid, i, e)
            got = (e.code, e.arg_index, e.axis)
            want = (expected["code"], expected.get("arg_index"), expected.get("axis"))
            if expected.get("arg_index") is None and expected.get("axis") is None:
                got, want = got[:1], want[:1]
            if got != want:
                raise CaseFailure(f"step {i}: expected error (code, arg_index, axis) {want}, "
                                  f"got {got}: {e}")
            return
        raise CaseFailure(f"step {i}: expected error code {expected['code']}, got success")

    def run_case(self, case):
        slots = {}
        cid = case["id"]
        for i, step in enumerate(case["steps"]):
            do = step["do"]
            if do == "array":
                slots[step["slot"]] = make_array(step)
            elif do == "seed":
                mx.random.seed(step["value"])
            elif do == "invoke":
                fn = find_fn(mx.nd, step["fn"])
                inputs = [slots[s] for s in step["inputs"]]
                params = py_params(step["params"])

                def call():
                    out = fn(*inputs, **params)
                    outs = out if isinstance(out, list) else [out]
                    for o in outs:
                        o.wait_to_read()
                    return outs
                if "error" in step:
                    self.expect_error(cid, i, step["error"], call)
                    continue
                outs = call()
                if len(outs) != len(step["outputs"]):
                    raise CaseFailure(f"step {i}: {len(outs)} outputs, expected "
                                      f"{len(step['outputs'])}")
                for name, o in zip(step["outputs"], outs):
                    slots[name] = o
            elif do == "check":
                self.check(cid, i, step, slots[step["slot"]])
            elif do == "check_range":
                a = slots[step["slot"]]
                self.record(cid, i, "array", f"{a.dtype} {shape_str(a.shape)} {array_bytes(a).hex()}")
                if str(a.dtype) != step["dtype"] or list(a.shape) != step["shape"]:
                    raise CaseFailure(f"step {i}: got {a.dtype}{a.shape}")
                v = a.asnumpy()
                if v.size and (v.min() < step["min"] or v.max() > step["max"]):
                    raise CaseFailure(f"step {i}: values outside [{step['min']}, {step['max']}]")
            elif do == "check_same":
                a, b = slots[step["slot"]], slots[step["like"]]
                if array_bytes(a) != array_bytes(b):
                    raise CaseFailure(f"step {i}: {step['slot']} differs from {step['like']}")
            elif do == "check_sorted_equal":
                a = slots[step["slot"]]
                self.record(cid, i, "array", f"{a.dtype} {shape_str(a.shape)} {array_bytes(a).hex()}")
                if sorted(a.asnumpy().tolist()) != [num(v) for v in step["values"]]:
                    raise CaseFailure(f"step {i}: not a permutation")
            elif do == "variable":
                slots[step["slot"]] = mx.sym.Variable(step["name"])
            elif do == "compose":
                fn = find_fn(mx.sym, step["fn"])
                args = [slots[s] for s in step["args"]]
                slots[step["out"]] = fn(*args, name=step["name"], **py_params(step["params"]))
            elif do == "list":
                sym = slots[step["sym"]]
                names = {"arguments": sym.list_arguments, "outputs": sym.list_outputs,
                         "aux_states": sym.list_auxiliary_states}[step["kind"]]()
                self.record(cid, i, "names", ",".join(names))
                if names != step["expect"]:
                    raise CaseFailure(f"step {i}: {step['kind']} {names} != {step['expect']}")
            elif do == "infer_shape":
                sym = slots[step["sym"]]
                shapes = {k: tuple(v) for k, v in step["shapes"].items()}
                if "error" in step:
                    self.expect_error(cid, i, step["error"], lambda: sym.infer_shape(**shapes))
                    continue
                args, outs, aux = sym.infer_shape(**shapes)
                got = {"arguments": [list(s) for s in args], "outputs": [list(s) for s in outs],
                       "aux_states": [list(s) for s in aux]}
                self.record(cid, i, "shapes", ";".join(
                    " ".join(shape_str(s) for s in got[k])
                    for k in ("arguments", "outputs", "aux_states")))
                if got != step["expect"]:
                    raise CaseFailure(f"step {i}: inferred {got}, expected {step['expect']}")
            elif do == "simple_bind":
                sym = slots[step["sym"]]
                shapes = {k: tuple(v) for k, v in step["shapes"].items()}
                exe = sym.simple_bind(mx.cpu(), grad_req=step["grad_req"], **shapes)
                for name, slot in step["args"].items():
                    slots[slot].copyto(exe.arg_dict[name])
                slots[step["exec"]] = exe
            elif do == "forward":
                exe = slots[step["exec"]]
                exe.forward(is_train=step["is_train"])
                for name, o in zip(step["outputs"], exe.outputs):
                    slots[name] = o
            elif do == "backward":
                exe = slots[step["exec"]]
                hg = [slots[s] for s in step["head_grads"]]
                exe.backward(out_grads=hg or None)
            elif do == "grad":
                slots[step["out"]] = slots[step["exec"]].grad_dict[step["name"]]
            elif do == "symbol_json":
                slots[step["out"]] = mx.sym.load_json(slots[step["sym"]].tojson())
            elif do == "write_file":
                with open(os.path.join(self.workdir, step["file"]), "wb") as f:
                    f.write(bytes.fromhex(step["hex"]))
            elif do == "save_params":
                path = os.path.join(self.workdir, step["file"])
                arrays = [slots[s] for s in step["arrays"]]
                data = arrays if step["names"] is None else dict(zip(step["names"], arrays))
                mx.nd.save(path, data)
                with open(path, "rb") as f:
                    got = f.read().hex()
                self.record(cid, i, "file", got)
                if got != step["hex"]:
                    raise CaseFailure(f"step {i}: file bytes differ from the reference")
            elif do == "load_params":
                path = os.path.join(self.workdir, step["file"])
                if "error" in step:
                    self.expect_error(cid, i, step["error"], lambda: mx.nd.load(path))
                    continue
                loaded = mx.nd.load(path)
                if isinstance(loaded, dict):
                    names, arrays = list(loaded.keys()), list(loaded.values())
                else:
                    names, arrays = None, list(loaded)
                self.record(cid, i, "names", "-" if names is None else ",".join(names))
                if names != step["names"]:
                    raise CaseFailure(f"step {i}: names {names} != {step['names']}")
                for slot, a in zip(step["outputs"], arrays):
                    slots[slot] = a
            elif do == "save_checkpoint":
                prefix = os.path.join(self.workdir, step["prefix"])
                args = {k: slots[v] for k, v in step["arg_params"].items()}
                aux = {k: slots[v] for k, v in step["aux_params"].items()}
                mx.model.save_checkpoint(prefix, step["epoch"], slots[step["sym"]], args, aux)
            elif do == "load_checkpoint":
                prefix = os.path.join(self.workdir, step["prefix"])
                sym, args, aux = mx.model.load_checkpoint(prefix, step["epoch"])
                slots[step["sym"]] = sym
                for k, v in step["arg_params"].items():
                    slots[v] = args[k]
                for k, v in step["aux_params"].items():
                    slots[v] = aux[k]
            elif do.startswith("kv_"):
                self.kv_step(cid, i, step, slots)
            else:
                raise CaseFailure(f"step {i}: unknown step {do!r}")

    def kv_step(self, cid, i, step, slots):
        """KVStore steps (README.md): a single key goes in MXNet's scalar form (key, [values]),
        several keys as lists; pull outputs are existing slots, written in place."""
        do = step["do"]
        keys = step.get("keys")
        one = keys is not None and len(keys) == 1
        key = keys[0] if one else keys
        prio = step.get("priority", 0)

        def arrays(groups):
            out = [[slots[s] for s in grp] for grp in groups]
            return out[0] if one else out

        def call():
            if do == "kv_create":
                return mx.kv.create(step["type"])
            kv = slots[step["kv"]]
            if do == "kv_init":
                vals = [slots[s] for s in step["values"]]
                return kv.init(key, vals[0] if one else vals)
            if do == "kv_push":
                return kv.push(key, arrays(step["values"]), priority=prio)
            if do == "kv_pull":
                return kv.pull(key, out=arrays(step["outputs"]), priority=prio)
            if do == "kv_pushpull":
                outs = None if step["outputs"] is None else arrays(step["outputs"])
                return kv.pushpull(key, arrays(step["values"]), out=outs, priority=prio)
            if do == "kv_set_optimizer":
                opt = mx.optimizer.create(step["optimizer"], **py_params(step["params"]))
                return kv.set_optimizer(opt)
            raise CaseFailure(f"step {i}: unknown step {do!r}")
        if "error" in step:
            self.expect_error(cid, i, step["error"], call)
            return
        result = call()
        if do == "kv_create":
            slots[step["kv"]] = result

    def check(self, cid, i, step, a):
        raw = array_bytes(a)
        self.record(cid, i, "array", f"{a.dtype} {shape_str(a.shape)} {raw.hex()}")
        if str(a.dtype) != step["dtype"] or list(a.shape) != step["shape"]:
            raise CaseFailure(f"step {i}: got {a.dtype}{shape_str(a.shape)}, expected "
                              f"{step['dtype']}{shape_str(step['shape'])}")
        if "hex" in step:
            if raw.hex() != step["hex"]:
                raise CaseFailure(f"step {i}: bytes differ: got {a.asnumpy().reshape(-1).tolist()}"
                                  f" expected {step['values']}")
            return
        got = a.asnumpy().astype("float64").reshape(-1)
        want = np.array([num(v) for v in step["values"]], dtype="float64")
        ok = np.isclose(got, want, rtol=step["rtol"], atol=step["atol"], equal_nan=True)
        if not ok.all():
            raise CaseFailure(f"step {i}: values differ beyond rtol={step['rtol']} "
                              f"atol={step['atol']}: got {got.tolist()} expected {want.tolist()}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default=None, help="where to write the results lines")
    ap.add_argument("--filter", default=None)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    cases = load_cases(args.filter)
    workdir = tempfile.mkdtemp(prefix="mxn-conf-")
    runner = Runner(workdir)
    passed = failed = 0
    try:
        for case in cases:
            problem = None
            try:
                runner.run_case(case)
            except CaseFailure as e:
                problem = str(e)
            except Exception as e:  # noqa: BLE001 - an unexpected error fails the case only
                runner.record(case["id"], "-", "exception", f"{getattr(e, 'code', '-')}")
                problem = f"{type(e).__name__}: {e}"
            if problem is None:
                passed += 1
                if args.verbose:
                    print(f"PASS {case['id']}")
            else:
                failed += 1
                print(f"FAIL {case['id']}: {problem}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.results:
        os.makedirs(os.path.dirname(os.path.abspath(args.results)), exist_ok=True)
        with open(args.results, "w", encoding="utf-8") as f:
            f.write("\n".join(runner.lines) + "\n")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
