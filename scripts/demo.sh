#!/usr/bin/env bash
# The README's first command: set everything up, then run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python examples/python/quickstart.py
