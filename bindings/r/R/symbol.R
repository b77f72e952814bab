# Symbol: variables, composition (the generated mx.symbol.* functions), names, shape inference
# (R dims in and out, reversed to C order at the boundary), JSON.

#' A symbolic variable.
#' @export
mx.symbol.Variable <- function(name) .Call(mxr_sym_variable, as.character(name))

#' Argument, output and auxiliary-state names.
#' @export
arguments <- function(symbol) .Call(mxr_sym_list, symbol, 0L)

#' @export
outputs <- function(symbol) .Call(mxr_sym_list, symbol, 1L)

#' @export
mx.symbol.auxiliary.states <- function(symbol) .Call(mxr_sym_list, symbol, 2L)

#' Infers shapes from the shapes of some arguments, given as R dims (name = dims).
#' @export
mx.symbol.infer.shape <- function(symbol, ...) {
  known <- list(...)
  if (length(known) && is.null(names(known))) stop("give shapes as name = dims", call. = FALSE)
  r <- .Call(mxr_sym_infer_shape, symbol, as.character(names(known)),
             lapply(known, function(d) rev(as.numeric(d))), FALSE)
  view <- function(shapes, nms) {
    out <- lapply(shapes, function(s) if (is.null(s)) NULL else rev(as.integer(s)))
    names(out) <- nms
    out
  }
  list(arg.shapes = view(r[[1L]], arguments(symbol)),
       out.shapes = view(r[[2L]], outputs(symbol)),
       aux.shapes = view(r[[3L]], mx.symbol.auxiliary.states(symbol)))
}

#' MXNet's symbol JSON.
#' @export
mx.symbol.to.json <- function(symbol) .Call(mxr_sym_to_json, symbol)

#' @export
mx.symbol.load.json <- function(json) .Call(mxr_sym_from_json, paste(json, collapse = "\n"))

#' @export
mx.symbol.save <- function(symbol, filename) {
  writeLines(mx.symbol.to.json(symbol), filename, useBytes = TRUE)
  invisible(NULL)
}

#' @export
mx.symbol.load <- function(filename) {
  mx.symbol.load.json(paste(readLines(filename, warn = FALSE), collapse = "\n"))
}

#' @export
print.MXSymbol <- function(x, ...) {
  cat(sprintf("<MXSymbol> outputs: %s\n  arguments: %s\n",
              paste(outputs(x), collapse = ", "), paste(arguments(x), collapse = ", ")))
  invisible(x)
}
