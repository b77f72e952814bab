test_that("errors are conditions with 1-based fields from the structured error", {
  a <- mx.nd.array(matrix(1:6, 2, 3))
  e <- tryCatch(mx.nd.broadcast.add(a, mx.nd.array(1:6, dtype = "float64")),
                error = function(e) e)
  expect_s3_class(e, "mx.dtype.error")
  expect_s3_class(e, "mx.error")
  expect_equal(e$code, 3L)
  expect_equal(e$arg.index, 2L)                  # input 1 in C
  expect_equal(e$op.name, "broadcast_add")
  expect_match(conditionMessage(e), "argument 2; 1-based")
  e <- tryCatch(mx.nd.sum(a, axis = 5), error = function(e) e)
  expect_s3_class(e, "mx.invalid.argument")
  expect_equal(e$axis, 6L)                       # axis 5 in C
  e <- tryCatch(mx.nd.broadcast.add(a, mx.nd.array(1:4)), error = function(e) e)
  expect_s3_class(e, "mx.shape.error")
  expect_error(mx.nd.load(tempfile()), class = "mx.io.error")
  expect_error(mx.nd.Activation(a, act.type = "nope"), class = "mx.invalid.argument")
})
