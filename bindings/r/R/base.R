# Loader and values: the ABI check at load time, dtypes, and the typed parameter values that
# the generated operator functions (gen-ops.R) hand to the C glue (src/mxnext.c).

.mx.dtypes <- c(float32 = 0L, float64 = 1L, float16 = 2L, uint8 = 3L, int32 = 4L, int8 = 5L,
                int64 = 6L, bool = 7L)

.onLoad <- function(libname, pkgname) {
  v <- .Call(mxr_abi_version)
  if (v[1L] %/% 10000L != v[2L] %/% 10000L) {
    stop(sprintf("mxnext: the library has ABI %d but this package was built for %d",
                 v[1L], v[2L]), call. = FALSE)
  }
}

.mx.dtype.code <- function(dtype) {
  if (is.numeric(dtype)) return(as.integer(dtype))
  code <- .mx.dtypes[as.character(dtype)]
  if (length(dtype) != 1L || is.na(code)) {
    stop(sprintf("unknown dtype '%s' (one of %s)", paste(dtype, collapse = ","),
                 paste(names(.mx.dtypes), collapse = ", ")), call. = FALSE)
  }
  unname(code)
}

.mx.dtype.name <- function(code) names(.mx.dtypes)[code + 1L]

# Drops parameters left NULL ("not given": the core applies its default) and converts dtype and
# context values to what the C glue expects. Returns keys, type codes and values.
.mx.params <- function(params, types) {
  keep <- !vapply(params, is.null, logical(1))
  params <- params[keep]
  types <- as.integer(types[keep])
  for (i in seq_along(params)) {
    if (types[i] == 6L) params[[i]] <- .mx.dtype.code(params[[i]])
    if (types[i] == 7L) {
      ctx <- params[[i]]
      params[[i]] <- if (inherits(ctx, "MXContext")) c(ctx$device.typeid, ctx$device.id) else ctx
    }
  }
  list(keys = names(params) %||% character(0), types = types, values = unname(params))
}

`%||%` <- function(a, b) if (is.null(a)) b else a

.mx.nd.invoke <- function(op, inputs, params, types) {
  inputs <- inputs[!vapply(inputs, is.null, logical(1))]
  for (i in seq_along(inputs)) {
    if (!inherits(inputs[[i]], "MXNDArray")) {
      stop(sprintf("%s: input %d must be an MXNDArray, not %s", op, i,
                   class(inputs[[i]])[1L]), call. = FALSE)
    }
  }
  p <- .mx.params(params, types)
  out <- .Call(mxr_op_invoke, op, unname(inputs), p$keys, p$types, p$values)
  if (length(out) == 1L) out[[1L]] else out
}

.mx.symbol.compose <- function(op, inputs, params, types, name, attr) {
  inputs <- inputs[!vapply(inputs, is.null, logical(1))]
  for (i in seq_along(inputs)) {
    if (!inherits(inputs[[i]], "MXSymbol")) {
      stop(sprintf("%s: input %d must be an MXSymbol, not %s", op, i,
                   class(inputs[[i]])[1L]), call. = FALSE)
    }
  }
  p <- .mx.params(params, types)
  argnames <- names(inputs)
  if (!is.null(argnames)) argnames[is.na(argnames)] <- ""
  attr <- attr %||% character(0)
  if (!is.null(name)) name <- as.character(name)
  .Call(mxr_sym_compose, op, p$keys, p$types, p$values, name, unname(inputs),
        argnames, as.character(names(attr) %||% character(0)), as.character(attr))
}

#' The CPU context (mxnext's R package runs on the CPU).
#' @param dev.id Device number.
#' @export
mx.cpu <- function(dev.id = 0L) {
  structure(list(device = "cpu", device.typeid = 1L, device.id = as.integer(dev.id)),
            class = "MXContext")
}

#' @export
print.MXContext <- function(x, ...) {
  cat(sprintf("%s(%d)\n", x$device, x$device.id))
  invisible(x)
}

#' Seeds the counter-based generator (the same numbers as every other language).
#' @export
mx.set.seed <- function(seed) {
  .Call(mxr_seed, seed)
  invisible(NULL)
}

#' ABI version of the loaded library.
#' @export
mx.abi.version <- function() .Call(mxr_abi_version)[1L]
