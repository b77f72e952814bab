# Executors: mx.simple.bind allocates arguments, gradients and auxiliary states from shape
# inference (R dims), then forward/backward run the bound graph.

.mx.grad.req <- c(null = 0L, write = 1L, add = 3L)

#' Binds a symbol, allocating every array from the shapes given as R dims (name = dims).
#' @export
mx.simple.bind <- function(symbol, ctx = NULL, grad.req = "null", ...) {
  shapes <- mx.symbol.infer.shape(symbol, ...)
  args <- names(shapes$arg.shapes)
  alloc <- function(d) mx.nd.zeros(d)
  arg.arrays <- lapply(shapes$arg.shapes, alloc)
  aux.arrays <- lapply(shapes$aux.shapes, alloc)
  req <- rep_len(as.character(grad.req), length(args))
  codes <- unname(.mx.grad.req[req])
  if (anyNA(codes)) stop("grad.req must be 'null', 'write' or 'add'", call. = FALSE)
  grad.arrays <- lapply(seq_along(args), function(i) {
    if (codes[i] == 0L) NULL else alloc(shapes$arg.shapes[[i]])
  })
  names(grad.arrays) <- args
  handle <- .Call(mxr_exec_bind, symbol, unname(arg.arrays), unname(grad.arrays), codes,
                  unname(aux.arrays))
  exec <- new.env(parent = emptyenv())
  exec$handle <- handle
  exec$symbol <- symbol
  exec$arg.arrays <- arg.arrays
  exec$grad.arrays <- grad.arrays
  exec$aux.arrays <- aux.arrays
  exec$ref.outputs <- stats::setNames(.Call(mxr_exec_outputs, handle), outputs(symbol))
  exec$outputs <- exec$ref.outputs
  class(exec) <- "MXExecutor"
  exec
}

.mx.exec.update <- function(targets, values, match.name, skip.null, what) {
  if (match.name) {
    for (n in names(values)) {
      if (is.null(values[[n]]) && skip.null) next
      if (!(n %in% names(targets))) stop(sprintf("no %s named '%s'", what, n), call. = FALSE)
      mx.nd.copyto(values[[n]], targets[[n]])
    }
  } else {
    if (length(values) != length(targets)) stop(sprintf("expected %d %s arrays",
                                                         length(targets), what), call. = FALSE)
    for (i in seq_along(values)) {
      if (is.null(values[[i]]) && skip.null) next
      mx.nd.copyto(values[[i]], targets[[i]])
    }
  }
}

#' Copies values into the executor's argument arrays.
#' @export
mx.exec.update.arg.arrays <- function(exec, arg.arrays, match.name = FALSE, skip.null = FALSE) {
  .mx.exec.update(exec$arg.arrays, arg.arrays, match.name, skip.null, "argument")
  invisible(exec)
}

#' @export
mx.exec.update.aux.arrays <- function(exec, arg.arrays, match.name = FALSE, skip.null = FALSE) {
  .mx.exec.update(exec$aux.arrays, arg.arrays, match.name, skip.null, "auxiliary state")
  invisible(exec)
}

#' Runs the graph; training mode keeps what backward needs.
#' @export
mx.exec.forward <- function(exec, is.train = TRUE) {
  .Call(mxr_exec_forward, exec$handle, as.logical(is.train))
  invisible(exec)
}

#' Gradients into exec$grad.arrays; out.grads: one array per output (NULL: ones).
#' @export
mx.exec.backward <- function(exec, out.grads = NULL) {
  if (inherits(out.grads, "MXNDArray")) out.grads <- list(out.grads)
  .Call(mxr_exec_backward, exec$handle, unname(as.list(out.grads)))
  invisible(exec)
}

#' @export
print.MXExecutor <- function(x, ...) {
  cat(sprintf("<MXExecutor> arguments: %s; outputs: %s\n",
              paste(names(x$arg.arrays), collapse = ", "),
              paste(names(x$ref.outputs), collapse = ", ")))
  invisible(x)
}
