#!/usr/bin/env python3
"""Regenerates every binding's operator layer from the core's operator registry.

    python3 tools/codegen/generate.py --lib build/dev/capi/libmxnext.so   # dump + generate
    python3 tools/codegen/generate.py                                      # from schema.json
    python3 tools/codegen/generate.py --check [--lib ...]                  # exit 1 if stale

The schema (mxn_op_schema_json() of the library) is committed as tools/codegen/schema.json so
that generators of other languages need no build; the generated files are committed too."""
import argparse
import ctypes
import difflib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import gen_python  # noqa: E402
import gen_r  # noqa: E402
import gen_julia  # noqa: E402
import gen_js  # noqa: E402

SCHEMA_PATH = os.path.join(HERE, "schema.json")
ITER_SCHEMA_PATH = os.path.join(HERE, "iter_schema.json")  # mxn_dataiter_schema_json()


def dump_schema(lib_path):
    """The registry as pretty JSON, read through the C ABI."""
    lib = ctypes.CDLL(os.path.abspath(lib_path))
    lib.mxn_op_schema_json.restype = ctypes.c_char_p
    schema = json.loads(lib.mxn_op_schema_json().decode("utf-8"))
    return json.dumps(schema, indent=1, sort_keys=True) + "\n"


def dump_iter_schema(lib_path):
    """The data iterator registry as pretty JSON, read through the C ABI."""
    lib = ctypes.CDLL(os.path.abspath(lib_path))
    lib.mxn_dataiter_schema_json.restype = ctypes.c_char_p
    schema = json.loads(lib.mxn_dataiter_schema_json().decode("utf-8"))
    return json.dumps(schema, indent=1, sort_keys=True) + "\n"


def outputs(schema_text, iter_schema_text=None):
    """{relative path: content} of every generated file."""
    schema = json.loads(schema_text)
    files = {"tools/codegen/schema.json": schema_text}
    files.update(gen_python.generate(schema))
    files.update(gen_r.generate(schema))
    files.update(gen_julia.generate(schema))
    files.update(gen_js.generate(schema))
    if iter_schema_text is None:
        with open(ITER_SCHEMA_PATH, encoding="utf-8") as f:
            iter_schema_text = f.read()
    files["tools/codegen/iter_schema.json"] = iter_schema_text
    files.update(gen_python.generate_iters(json.loads(iter_schema_text)))
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", help="libmxnext.so to read the registry from (else schema.json)")
    ap.add_argument("--check", action="store_true", help="report stale files, write nothing")
    args = ap.parse_args()
    iter_schema_text = None
    if args.lib:
        schema_text = dump_schema(args.lib)
        iter_schema_text = dump_iter_schema(args.lib)
    else:
        with open(SCHEMA_PATH, encoding="utf-8") as f:
            schema_text = f.read()
    stale = []
    for rel, content in sorted(outputs(schema_text, iter_schema_text).items()):
        path = os.path.join(ROOT, rel)
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old == content:
            continue
        if args.check:
            stale.append(rel)
            diff = difflib.unified_diff((old or "").splitlines(), content.splitlines(),
                                        rel + " (committed)", rel + " (regenerated)", lineterm="")
            print("\n".join(list(diff)[:40]))
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(content)
            print(f"wrote {rel}")
    if stale:
        print(f"stale generated files: {', '.join(stale)}; run tools/codegen/generate.py "
              "--lib <libmxnext.so>", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
