# NDArray: handles (external pointers released by finalizers), creation, reading, arithmetic.
# An array of C-order shape (d1, ..., dn) shows in R as dims (dn, ..., d1): the same bytes in
# R's column-major order.

#' Creates an MXNDArray from an R vector, matrix or array.
#' @export
mx.nd.array <- function(src.array, ctx = NULL, dtype = NULL, dim = NULL) {
  if (inherits(src.array, "MXNDArray")) src.array <- as.array(src.array)
  if (is.null(dim)) dim <- if (is.null(base::dim(src.array))) length(src.array) else
    base::dim(src.array)
  if (is.null(dtype)) dtype <- "float32"
  .Call(mxr_nd_from_double, as.double(src.array), rev(as.numeric(dim)), .mx.dtype.code(dtype))
}

# The exact bytes (little-endian, C order) and back: used by the conformance runner.
.mx.nd.bytes <- function(x) .Call(mxr_nd_to_raw, x)
.mx.nd.from.bytes <- function(bytes, cshape, dtype) {
  .Call(mxr_nd_from_raw, bytes, as.numeric(cshape), .mx.dtype.code(dtype))
}

#' Shape in C order (what Python shows); dim() gives R's reversed view.
#' @export
mx.nd.shape <- function(x) .Call(mxr_nd_shape, x)

#' The array's dtype name.
#' @export
mx.nd.dtype <- function(x) .mx.dtype.name(.Call(mxr_nd_dtype, x))

#' @export
dim.MXNDArray <- function(x) {
  s <- .Call(mxr_nd_shape, x)
  if (length(s) == 0L) integer(0) else rev(as.integer(s))
}

#' @export
length.MXNDArray <- function(x) as.integer(prod(.Call(mxr_nd_shape, x)))

#' @export
as.array.MXNDArray <- function(x, ...) {
  v <- .Call(mxr_nd_to_double, x)
  dt <- mx.nd.dtype(x)
  if (dt %in% c("int32", "int8", "uint8")) v <- as.integer(v)
  if (dt == "bool") v <- as.logical(v)
  s <- .Call(mxr_nd_shape, x)
  if (length(s) == 0L) v else array(v, dim = rev(s))
}

#' @export
print.MXNDArray <- function(x, ...) {
  d <- dim(x)
  shape <- if (length(d)) paste(d, collapse = "x") else "scalar (0-d)"
  cat(sprintf("<MXNDArray %s %s>\n", mx.nd.dtype(x), shape))
  if (length(x) > 0L) print(as.array(x), ...)
  invisible(x)
}

#' @export
Ops.MXNDArray <- function(e1, e2) {
  if (missing(e2)) {
    if (.Generic == "-") return(mx.nd.negative(e1))
    if (.Generic == "+") return(e1)
    stop(sprintf("unary %s is not defined for MXNDArray", .Generic), call. = FALSE)
  }
  both <- c("+" = "broadcast_add", "-" = "broadcast_sub", "*" = "broadcast_mul",
            "/" = "broadcast_div", "^" = "broadcast_power", "%%" = "broadcast_mod",
            "==" = "broadcast_equal", "!=" = "broadcast_not_equal",
            ">" = "broadcast_greater", ">=" = "broadcast_greater_equal",
            "<" = "broadcast_lesser", "<=" = "broadcast_lesser_equal")
  right <- c("+" = "_plus_scalar", "-" = "_minus_scalar", "*" = "_mul_scalar",
             "/" = "_div_scalar", "^" = "_power_scalar", "%%" = "_mod_scalar",
             "==" = "_equal_scalar", "!=" = "_not_equal_scalar", ">" = "_greater_scalar",
             ">=" = "_greater_equal_scalar", "<" = "_lesser_scalar",
             "<=" = "_lesser_equal_scalar")
  left <- c("+" = "_plus_scalar", "-" = "_rminus_scalar", "*" = "_mul_scalar",
            "/" = "_rdiv_scalar", "^" = "_rpower_scalar", "%%" = "_rmod_scalar",
            "==" = "_equal_scalar", "!=" = "_not_equal_scalar", ">" = "_lesser_scalar",
            ">=" = "_lesser_equal_scalar", "<" = "_greater_scalar",
            "<=" = "_greater_equal_scalar")
  if (!(.Generic %in% names(both))) {
    stop(sprintf("%s is not defined for MXNDArray", .Generic), call. = FALSE)
  }
  nd1 <- inherits(e1, "MXNDArray")
  nd2 <- inherits(e2, "MXNDArray")
  if (nd1 && nd2) return(.mx.nd.invoke(both[[.Generic]], list(e1, e2), list(), integer(0)))
  if (nd1) return(.mx.nd.invoke(right[[.Generic]], list(e1), list(scalar = as.numeric(e2)), 2L))
  .mx.nd.invoke(left[[.Generic]], list(e2), list(scalar = as.numeric(e1)), 2L)
}

#' Zeros / ones of R dims (the C shape is reversed).
#' @export
mx.nd.zeros <- function(shape, ctx = NULL, dtype = "float32") {
  mx.nd.internal.zeros(shape = rev(shape), dtype = dtype)
}

#' @export
mx.nd.ones <- function(shape, ctx = NULL, dtype = "float32") {
  mx.nd.internal.ones(shape = rev(shape), dtype = dtype)
}

#' Copies src into dst (same shape; dtype converts).
#' @export
mx.nd.copyto <- function(src, dst) {
  .Call(mxr_nd_copy_to, src, dst)
  invisible(dst)
}

#' Waits for all pending work.
#' @export
mx.nd.waitall <- function() invisible(.Call(mxr_wait_all))

#' Saves a list of MXNDArrays (named: a dict) in Apache MXNet's .params format.
#' @export
mx.nd.save <- function(ndarray, filename) {
  if (inherits(ndarray, "MXNDArray")) ndarray <- list(ndarray)
  nms <- names(ndarray)
  .Call(mxr_nd_save, path.expand(filename), unname(ndarray), nms)
  invisible(NULL)
}

#' Loads an Apache MXNet .params / mx.nd.save file: a list, named when the file has names.
#' @export
mx.nd.load <- function(filename) {
  r <- .Call(mxr_nd_load, path.expand(filename))
  out <- r[[1L]]
  if (!is.null(r[[2L]])) names(out) <- r[[2L]]
  out
}
