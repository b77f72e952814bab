# The demo's R step: loads the checkpoint that examples/python/train_mnist.py saved, predicts
# the held-out digits in R, and checks that R's predictions are Python's, byte for byte.
#
#   Rscript examples/r/predict_mnist.R PREFIX EPOCH HELDOUT [BATCH_SIZE]
#
# HELDOUT is the file train_mnist.py --heldout wrote ("data", "label", "prob").
suppressPackageStartupMessages(library(mxnext))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 3L) stop("usage: predict_mnist.R PREFIX EPOCH HELDOUT [BATCH_SIZE]")
prefix <- args[1L]
epoch <- as.integer(args[2L])
batch <- if (length(args) >= 4L) as.integer(args[4L]) else 64L

model <- mx.model.load(prefix, epoch)
held <- mx.nd.load(args[3L])
X <- as.array(held$data)           # R dims c(28, 28, 1, n): Python's (n, 1, 28, 28) reversed
labels <- as.vector(as.array(held$label))
py.prob <- held$prob               # R dims c(10, n)
prob <- predict(model, X, array.batch.size = batch)
r.prob <- mx.nd.array(prob, dtype = "float32")

same.bytes <- identical(mxnext:::.mx.nd.bytes(r.prob), mxnext:::.mx.nd.bytes(py.prob))
py <- as.array(py.prob)
max.diff <- max(abs(prob - py))
r.class <- max.col(t(prob), ties.method = "first") - 1
py.class <- max.col(t(py), ties.method = "first") - 1
cat(sprintf("R: checkpoint %s-%04d.params loaded, %d held-out digits predicted, accuracy %.2f%%\n",
            prefix, epoch, length(labels), 100 * mean(r.class == labels)))
cat(sprintf("R vs Python: %d of %d predicted classes equal, probabilities max abs diff %g, %s\n",
            sum(r.class == py.class), length(labels), max.diff,
            if (same.bytes) "bytes identical" else "bytes DIFFER"))
if (!same.bytes || any(r.class != py.class) || max.diff != 0) {
  cat("FAILED: R's predictions differ from Python's\n")
  quit(status = 1L)
}
cat("Python's and R's predictions are identical\n")
