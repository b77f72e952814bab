test_that("arrays keep R's values with reversed dims (the mapping rule)", {
  m <- matrix(1:6, 2, 3)
  a <- mx.nd.array(m)
  expect_equal(dim(a), c(2L, 3L))
  expect_equal(mx.nd.shape(a), c(3, 2))
  expect_equal(as.array(a), array(as.numeric(m), dim = c(2, 3)))
  expect_equal(mx.nd.dtype(a), "float32")
  expect_equal(length(a), 6L)
})

test_that("every dtype round-trips", {
  for (dt in c("float32", "float64", "float16", "uint8", "int32", "int8", "int64")) {
    a <- mx.nd.array(c(1, 2, 3), dtype = dt)
    expect_equal(mx.nd.dtype(a), dt)
    expect_equal(as.numeric(as.array(a)), c(1, 2, 3))
  }
  expect_equal(as.vector(as.array(mx.nd.array(c(0, 1), dtype = "bool"))), c(FALSE, TRUE))
})

test_that("0-d and 0-size arrays", {
  s <- mx.nd.array(2.5, dim = integer(0))
  expect_equal(dim(s), integer(0))
  expect_equal(as.array(s), 2.5)
  z <- mx.nd.zeros(c(0, 3))
  expect_equal(dim(z), c(0L, 3L))
  expect_equal(length(z), 0L)
  expect_output(print(s), "0-d")
})

test_that("arithmetic operators and scalars", {
  a <- mx.nd.array(matrix(c(1, 2, 3, 4), 2, 2))
  expect_equal(as.array(a + a), matrix(c(2, 4, 6, 8), 2, 2))
  expect_equal(as.array(a * 2 - 1), matrix(c(1, 3, 5, 7), 2, 2))
  expect_equal(as.array(10 - a), matrix(c(9, 8, 7, 6), 2, 2))
  expect_equal(as.vector(as.array(1 / mx.nd.array(c(1, 2, 4)))), c(1, 0.5, 0.25))
  expect_equal(as.vector(as.array(2^mx.nd.array(c(1, 2)))), c(2, 4))
  expect_equal(as.array(-a), -matrix(c(1, 2, 3, 4), 2, 2))
  expect_equal(as.array(a > 2), matrix(c(0, 0, 1, 1), 2, 2))
  expect_equal(as.array(3 > a), matrix(c(1, 1, 0, 0), 2, 2))
})

test_that("broadcasting aligns R dims from the left", {
  a <- mx.nd.array(matrix(1:6, 2, 3))           # C shape (3, 2)
  b <- mx.nd.array(c(10, 20))                   # C shape (2,)
  expect_equal(as.array(a + b), matrix(1:6, 2, 3) + c(10, 20))
})

test_that("generated operators take C-order axes and R-style argument names", {
  a <- mx.nd.array(matrix(1:6, 2, 3))
  expect_equal(as.vector(as.array(mx.nd.sum(a, axis = 1))), colSums(matrix(1:6, 2, 3)))
  expect_equal(as.vector(as.array(mx.nd.sum(a, axis = 0))), rowSums(matrix(1:6, 2, 3)))
  expect_equal(dim(mx.nd.transpose(a)), c(3L, 2L))
  w <- mx.nd.array(matrix(1, 2, 4))
  fc <- mx.nd.FullyConnected(a, w, num.hidden = 4, no.bias = TRUE)
  expect_equal(dim(fc), c(4L, 3L))
  expect_equal(as.array(fc)[, 1], rep(3, 4))
  expect_true(is.function(mx.nd.internal.plus.scalar))
  expect_identical(mx.nd.broadcast.plus, mx.nd.broadcast.add)
})

test_that("every generated function exists", {
  ns <- asNamespace("mxnext")
  for (f in mxnext:::.mx.generated.functions) expect_true(is.function(get(f, envir = ns)), f)
})

test_that("save and load .params", {
  path <- tempfile(fileext = ".params")
  mx.nd.save(list(w = mx.nd.array(1:3), b = mx.nd.array(matrix(1:4, 2), dtype = "int32")), path)
  l <- mx.nd.load(path)
  expect_equal(names(l), c("w", "b"))
  expect_equal(as.array(l$b), matrix(1:4, 2))
})
