# KVStore from R: init, push (summed), pull into existing arrays, pushpull, an optimizer on the
# store, the mapping rule (R dims reversed, same bytes) and errors as R conditions.

test_that("push sums the arrays of a key and pull copies into every output", {
  kv <- mx.kv.create("local")
  a <- mx.nd.array(matrix(1:6, 2, 3))
  expect_identical(mx.kv.init(kv, 3, a), kv)
  mx.kv.push(kv, 3, list(mx.nd.array(matrix(1, 2, 3)), mx.nd.array(matrix(2, 2, 3)),
                         mx.nd.array(matrix(0.5, 2, 3))))
  o1 <- mx.nd.zeros(c(2, 3))
  o2 <- mx.nd.zeros(c(2, 3))
  out <- mx.kv.pull(kv, 3, list(o1, o2))
  expect_length(out, 2L)
  expect_equal(as.array(o1), matrix(3.5, 2, 3))
  expect_equal(as.array(o2), matrix(3.5, 2, 3))
  # a single output may be given bare; without an optimizer a push replaces the value
  mx.kv.push(kv, 3, mx.nd.array(matrix(1:6, 2, 3)))
  mx.kv.pull(kv, 3, o1)
  expect_equal(as.array(o1), matrix(1:6, 2, 3))
})

test_that("several keys (numbers, strings, mixed) take one entry per key", {
  kv <- mx.kv.create("local")
  w <- mx.nd.array(c(1, 2, 3), dtype = "float64")
  b <- mx.nd.array(matrix(0, 2, 2))
  mx.kv.init(kv, list("fc_weight", 7), list(w, b))
  mx.kv.push(kv, c("fc_weight"), list(mx.nd.array(c(1, 1, 1), dtype = "float64")))
  mx.kv.push(kv, list(7, "fc_weight"),
             list(list(mx.nd.array(matrix(1, 2, 2)), mx.nd.array(matrix(3, 2, 2))),
                  mx.nd.array(c(4, 5, 6), dtype = "float64")))
  ow <- mx.nd.zeros(3, dtype = "float64")
  ob <- mx.nd.zeros(c(2, 2))
  mx.kv.pull(kv, list("fc_weight", 7), list(ow, ob))
  expect_equal(as.vector(as.array(ow)), c(4, 5, 6))
  expect_equal(as.array(ob), matrix(4, 2, 2))
  expect_identical(mx.nd.dtype(ow), "float64")
})

test_that("the mapping rule: same bytes as the C-order value, R dims reversed", {
  kv <- mx.kv.create("local")
  a <- mx.nd.array(array(seq_len(24), c(4, 3, 2)))   # C-order shape (2, 3, 4)
  mx.kv.init(kv, "x", a)
  o <- mx.nd.zeros(c(4, 3, 2))
  mx.kv.pull(kv, "x", o)
  expect_identical(mx.nd.shape(o), c(2, 3, 4))
  expect_identical(mxnext:::.mx.nd.bytes(o), mxnext:::.mx.nd.bytes(a))
})

test_that("pushpull into outputs or back into the pushed arrays", {
  kv <- mx.kv.create("device")
  mx.kv.init(kv, 0, mx.nd.zeros(4))
  v1 <- mx.nd.array(c(1, 2, 3, 4))
  v2 <- mx.nd.array(c(10, 20, 30, 40))
  o <- mx.nd.zeros(4)
  mx.kv.pushpull(kv, 0, list(v1, v2), o)
  expect_equal(as.vector(as.array(o)), c(11, 22, 33, 44))
  expect_equal(as.vector(as.array(v1)), c(1, 2, 3, 4))
  mx.kv.pushpull(kv, 0, list(v1, v2), priority = -1)
  expect_equal(as.vector(as.array(v1)), c(11, 22, 33, 44))
  expect_equal(as.vector(as.array(v2)), c(11, 22, 33, 44))
})

test_that("an optimizer on the store updates the stored weight at every push", {
  kv <- mx.kv.create("local")
  mx.kv.set.optimizer(kv, mx.opt.sgd(learning.rate = 0.5, momentum = 0.5, wd = 0.25,
                                     rescale.grad = 0.5))
  w <- c(1, -2, 0.5)
  mx.kv.init(kv, 0, mx.nd.array(w))
  o <- mx.nd.zeros(3)
  mom <- c(0, 0, 0)
  for (step in 1:3) {
    g <- c(1, 0.5, -2) * step
    mx.kv.push(kv, 0, list(mx.nd.array(g / 2), mx.nd.array(g / 2)))   # summed: g
    mx.kv.pull(kv, 0, o)
    mom <- 0.5 * mom - 0.5 * 0.25 * w - 0.5 * (0.5 * g)               # MXNet's sgd_mom_update
    w <- w + mom
    expect_equal(as.vector(as.array(o)), w)
  }
  # Adam: the bias correction lr * sqrt(1 - beta2^t) / (1 - beta1^t), t per key
  kv2 <- mx.kv.create("local")
  mx.kv.set.optimizer(kv2, mx.opt.create("adam", learning.rate = 0.1))
  mx.kv.init(kv2, "w", mx.nd.array(c(1, 2), dtype = "float64"))
  mx.kv.push(kv2, "w", mx.nd.array(c(0.5, -1), dtype = "float64"))
  o2 <- mx.nd.zeros(2, dtype = "float64")
  mx.kv.pull(kv2, "w", o2)
  g <- c(0.5, -1)
  m <- 0.1 * g
  v <- 0.001 * g^2
  lr <- 0.1 * sqrt(1 - 0.999) / (1 - 0.9)
  expect_equal(as.vector(as.array(o2)), c(1, 2) - lr * m / (sqrt(v) + 1e-8), tolerance = 1e-12)
})

test_that("kvstore errors are mx.error conditions with the C fields", {
  kv <- mx.kv.create("local")
  o <- mx.nd.zeros(c(2, 3))
  e <- tryCatch(mx.kv.pull(kv, 3, o), mx.error = function(e) e)
  expect_identical(e$code, 1L)
  expect_match(conditionMessage(e), "not been initialized")
  mx.kv.init(kv, 3, o)
  expect_error(mx.kv.init(kv, 3, o), class = "mx.error")
  e <- tryCatch(mx.kv.push(kv, 3, list(o, mx.nd.zeros(c(3, 2)))),
                mx.shape.error = function(e) e)
  expect_identical(e$code, 2L)
  expect_identical(e$arg.index, 2L)                 # 1-based: the second array of the key
  expect_error(mx.kv.create("dist_async"), class = "mx.error")
  kv2 <- mx.kv.create("local")
  mx.kv.set.optimizer(kv2, mx.opt.sgd(learning.rate = 0.1))
  mx.kv.init(kv2, 0, mx.nd.array(c(1, 2), dtype = "int32"))
  expect_error(mx.kv.push(kv2, 0, mx.nd.array(c(1, 1), dtype = "int32")),
               class = "mx.dtype.error")
  # argument checks in R
  expect_error(mx.kv.push(kv, 1.5, o), "whole number")
  expect_error(mx.kv.push(kv, c(1, 2), list(o)), "1 entries for 2 keys")
  expect_error(mx.kv.push("kv", 3, o), "MXKVStore")
  expect_error(mx.kv.set.optimizer(kv, "sgd"), "MXOptimizer")
  expect_error(mx.kv.init(kv, c(4, 5), o), "one MXNDArray per key")
})
