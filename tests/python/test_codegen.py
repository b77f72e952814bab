"""The Python operator layer is generated from the registry, and the committed files are the
current generator output for the current library."""
import ast
import inspect
import json
import os
import subprocess
import sys

import mxnext as mx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.join(os.path.dirname(mx.__file__), "libmxnext.so")


def test_generated_files_are_not_stale():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "codegen", "generate.py"),
                           "--check", "--lib", LIB], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_registered_operator_has_a_function_with_its_parameters():
    schema = json.loads(mx._core.schema_json())
    assert len(schema["ops"]) >= 60
    for op in schema["ops"]:
        fn = getattr(mx.nd._ops, op["name"])
        sig = inspect.signature(fn)
        for p in op["params"]:
            assert p["name"] in sig.parameters, (op["name"], p["name"])
            default = sig.parameters[p["name"]].default
            if p["required"]:
                assert default is inspect.Parameter.empty, (op["name"], p["name"])
        for alias in op["aliases"]:
            assert getattr(mx.nd._ops, alias) is fn
        assert fn.__doc__ and "Parameters" in fn.__doc__


def test_public_names_and_internal_namespace():
    assert mx.nd.broadcast_add is mx.nd._ops.broadcast_add
    assert mx.nd.Reshape is mx.nd.reshape
    assert mx.nd._internal._plus_scalar is mx.nd._ops._plus_scalar
    assert not hasattr(mx.nd, "_plus_scalar")


def test_stub_declares_every_function():
    path = os.path.join(os.path.dirname(mx.nd.__file__), "_ops.pyi")
    tree = ast.parse(open(path).read())
    declared = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    declared |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets}
    assert set(mx.nd._ops.__all__) <= declared
