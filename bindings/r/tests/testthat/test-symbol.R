test_that("symbols compose, infer shapes in R dims, bind, run forward and backward", {
  data <- mx.symbol.Variable("data")
  fc <- mx.symbol.FullyConnected(data, num.hidden = 3, name = "fc1")
  act <- mx.symbol.Activation(fc, act.type = "relu", name = "relu1")
  net <- mx.symbol.LinearRegressionOutput(act, name = "lro")
  expect_equal(arguments(net), c("data", "fc1_weight", "fc1_bias", "lro_label"))
  expect_equal(outputs(net), "lro_output")
  s <- mx.symbol.infer.shape(net, data = c(4, 5))  # R dims: 4 features, batch 5
  expect_equal(s$arg.shapes$fc1_weight, c(4L, 3L))
  expect_equal(s$out.shapes$lro_output, c(3L, 5L))
  exec <- mx.simple.bind(net, ctx = mx.cpu(), grad.req = "write", data = c(4, 5))
  x <- matrix(seq(-1, 1, length.out = 20), 4, 5)
  w <- matrix(0.5, 4, 3)
  mx.exec.update.arg.arrays(exec, list(data = mx.nd.array(x), fc1_weight = mx.nd.array(w),
                                       fc1_bias = mx.nd.array(c(0, 0, 0)),
                                       lro_label = mx.nd.zeros(c(3, 5))), match.name = TRUE)
  mx.exec.forward(exec, is.train = TRUE)
  out <- as.array(exec$ref.outputs$lro_output)
  expect_equal(out, pmax(t(w) %*% x, 0), tolerance = 1e-6)
  mx.exec.backward(exec)
  g <- as.array(exec$grad.arrays$fc1_bias)
  expect_equal(length(g), 3L)
  expect_output(print(exec), "MXExecutor")
})

test_that("symbol JSON and checkpoints round-trip", {
  data <- mx.symbol.Variable("data")
  net <- mx.symbol.FullyConnected(data, num.hidden = 2, name = "fc")
  net2 <- mx.symbol.load.json(mx.symbol.to.json(net))
  expect_equal(arguments(net2), arguments(net))
  prefix <- file.path(tempdir(), "model")
  model <- list(symbol = net, arg.params = list(fc_weight = mx.nd.array(matrix(1:6, 3, 2)),
                                                fc_bias = mx.nd.array(c(1, 2))),
                aux.params = list())
  mx.model.save(model, prefix, 1)
  expect_true(file.exists(paste0(prefix, "-0001.params")))
  m <- mx.model.load(prefix, 1)
  expect_s3_class(m, "MXFeedForwardModel")
  expect_equal(as.array(m$arg.params$fc_weight), matrix(1:6, 3, 2))
  expect_equal(arguments(m$symbol), c("data", "fc_weight", "fc_bias"))
  expect_error(mx.symbol.infer.shape(mx.symbol.broadcast_add <- mx.symbol.broadcast.add(
    mx.symbol.Variable("a"), mx.symbol.Variable("b")), a = c(3, 2), b = c(3, 4)),
    class = "mx.shape.error")
})
