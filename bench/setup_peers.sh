#!/usr/bin/env bash
# Installs the peers the benchmarks compare against, each in its own virtual environment
# (not needed by the tests): Apache MXNet 1.9.1 (needs numpy < 1.24) and PyTorch 2.13 (CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-mxnet/bin/python ]; then
  python3 -m venv .venv-mxnet
  .venv-mxnet/bin/pip install -q mxnet==1.9.1 numpy==1.23.5
fi
if [ ! -x .venv-torch/bin/python ]; then
  python3 -m venv .venv-torch
  .venv-torch/bin/pip install -q torch==2.13.0 numpy
fi
.venv-mxnet/bin/python -c "import mxnet; print('mxnet', mxnet.__version__)"
.venv-torch/bin/python -c "import torch; print('torch', torch.__version__)"
