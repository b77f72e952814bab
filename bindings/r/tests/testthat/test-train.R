blobs <- function(n, seed) {
  set.seed(seed)
  X <- rbind(matrix(rnorm(n, -2), n / 2, 2), matrix(rnorm(n, 2), n / 2, 2))
  list(X = X, y = rep(c(0, 1), each = n / 2))
}

mlp <- function() {
  data <- mx.symbol.Variable("data")
  fc1 <- mx.symbol.FullyConnected(data, num.hidden = 8, name = "fc1")
  a1 <- mx.symbol.Activation(fc1, act.type = "relu", name = "relu1")
  fc2 <- mx.symbol.FullyConnected(a1, num.hidden = 2, name = "fc2")
  mx.symbol.SoftmaxOutput(fc2, name = "softmax")
}

test_that("FeedForward.create trains two Gaussian blobs to >= 95% held-out accuracy", {
  mx.set.seed(7)
  train <- blobs(200, 1)
  test <- blobs(100, 2)
  model <- mx.model.FeedForward.create(mlp(), train$X, train$y, ctx = mx.cpu(),
                                       num.round = 10, optimizer = "sgd", learning.rate = 0.1,
                                       momentum = 0.9, wd = 1e-4, array.batch.size = 32,
                                       eval.metric = "accuracy",
                                       initializer = mx.init.Xavier(), verbose = FALSE)
  expect_s3_class(model, "MXFeedForwardModel")
  expect_setequal(names(model$arg.params), c("fc1_weight", "fc1_bias", "fc2_weight",
                                              "fc2_bias"))
  expect_gte(model$train.metric[["accuracy"]], 0.95)
  p <- predict(model, test$X)                # rows are the examples: detected
  expect_equal(dim(p), c(2L, 100L))          # classes x examples, as in MXNet R
  expect_equal(colSums(p), rep(1, 100), tolerance = 1e-5)
  expect_gte(mean(max.col(t(p)) - 1 == test$y), 0.95)
  # the same examples column-major, an odd batch size (padded last batch) give the same
  p2 <- predict(model, t(test$X), array.layout = "colmajor", array.batch.size = 30)
  expect_equal(p2, p)
  # checkpoint round trip predicts identically
  prefix <- file.path(tempdir(), "blobs")
  mx.model.save(model, prefix, 10)
  p3 <- predict(mx.model.load(prefix, 10), test$X)
  expect_identical(p3, p)
})

test_that("core optimizers, initializers, metrics and kvstores are reachable", {
  opt <- mx.opt.sgd(learning.rate = 0.5)
  expect_s3_class(opt, "MXOptimizer")
  w <- mx.nd.array(c(1, 2, 3))
  mx.opt.update(opt, 1, w, mx.nd.array(c(1, 1, 1)))
  expect_equal(as.vector(as.array(w)), c(0.5, 1.5, 2.5))
  init <- mx.init.create("constant", value = 0.25)
  a <- mx.nd.zeros(c(2, 3))
  mx.init.apply(init, "fc_weight", a)
  expect_equal(as.array(a), matrix(0.25, 2, 3))
  expect_s3_class(mx.metric.create("mse"), "MXMetric")
  kv <- mx.kv.create("local")
  expect_equal(kv$type, "local")
  expect_output(print(kv), "MXKVStore local")
})

test_that("training and prediction errors are clear R conditions", {
  train <- blobs(20, 3)
  expect_error(mx.model.FeedForward.create(mlp(), train$X, train$y[1:5], num.round = 1,
                                           verbose = FALSE), "labels")
  expect_error(mx.model.FeedForward.create("net", train$X, train$y), "MXSymbol")
  expect_error(mx.opt.create("no_such_optimizer"), class = "mx.error")
  expect_error(mx.init.create("no_such_init"), class = "mx.error")
  expect_error(mx.model.FeedForward.create(mlp(), train$X, train$y, num.round = 1,
                                           optimizer = "sgd", learning.rate = "fast",
                                           verbose = FALSE), class = "mx.error")
  model <- mx.model.FeedForward.create(mlp(), train$X, train$y, num.round = 1,
                                       array.batch.size = 10, verbose = FALSE)
  expect_error(predict(model, matrix(0, 5, 3)), class = "mx.error")
  model$arg.params$fc2_bias <- NULL
  expect_error(predict(model, train$X), "no parameter fc2_bias")
})
