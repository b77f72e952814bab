# Training: mx.model.FeedForward.create runs the executor with the core's optimizer,
# initializer and metric objects (the same rules as every other front end; nothing is
# re-implemented here), and predict runs the bound graph in inference mode.
# Data: X's last dim is the example (R's view of C-order (n, ...)); a matrix whose rows are
# the examples (nrow(X) == length(y)) is taken row-major and transposed.

# Typed values from R values: integer -> int, double -> float, logical -> bool, character ->
# string. R-style names (learning.rate) become the core's (learning_rate).
.mx.typed <- function(params) {
  params <- params[!vapply(params, is.null, logical(1))]
  types <- vapply(params, function(v) {
    if (is.logical(v)) 3L else if (is.character(v)) 4L else if (is.integer(v)) 1L else 2L
  }, integer(1))
  keys <- gsub(".", "_", names(params) %||% character(0), fixed = TRUE)
  list(keys = keys, types = unname(types), values = unname(params))
}

.mx.object <- function(fn, name, params, cls) {
  p <- .mx.typed(params)
  h <- .Call(fn, as.character(name), p$keys, p$types, p$values)
  structure(list(handle = h, name = name), class = cls)
}

#' An optimizer of the core ("sgd", "nag", "adam", "rmsprop", "adagrad", "adadelta", ...).
#' @export
mx.opt.create <- function(name, ...) {
  .mx.object(mxr_opt_create, name, list(...), "MXOptimizer")
}

#' @export
mx.opt.sgd <- function(learning.rate = 0.01, momentum = 0, wd = 0, rescale.grad = 1,
                       clip.gradient = NULL) {
  mx.opt.create("sgd", learning.rate = learning.rate, momentum = momentum, wd = wd,
                rescale.grad = rescale.grad, clip.gradient = clip.gradient)
}

#' One update of weight (in place) from grad for the 1-based parameter index.
#' @export
mx.opt.update <- function(optimizer, index, weight, grad) {
  .Call(mxr_opt_update, optimizer$handle, as.integer(index) - 1L, weight, grad)
  invisible(weight)
}

#' An initializer of the core ("uniform", "normal", "xavier", "constant", ...).
#' @export
mx.init.create <- function(name, ...) {
  .mx.object(mxr_init_create, name, list(...), "MXInitializer")
}

#' @export
mx.init.uniform <- function(scale = 0.07) mx.init.create("uniform", scale = scale)

#' @export
mx.init.normal <- function(sd = 0.01) mx.init.create("normal", sigma = sd)

#' @export
mx.init.Xavier <- function(rnd.type = "uniform", factor.type = "avg", magnitude = 3) {
  mx.init.create("xavier", rnd.type = rnd.type, factor.type = factor.type,
                 magnitude = magnitude)
}

#' Initialises array in place by the rule for its name's suffix (weight, bias, gamma, ...).
#' @export
mx.init.apply <- function(initializer, name, array) {
  .Call(mxr_init_apply, initializer$handle, as.character(name), array)
  invisible(array)
}

#' A metric of the core ("accuracy", "mse", "rmse", "mae", "ce", ...).
#' @export
mx.metric.create <- function(name, ...) {
  .mx.object(mxr_metric_create, name, list(...), "MXMetric")
}

#' A key-value store of the core ("local", "device"); mx.kv.init, mx.kv.push, mx.kv.pull,
#' mx.kv.pushpull and mx.kv.set.optimizer use it.
#' @export
mx.kv.create <- function(type = "local") {
  h <- .Call(mxr_kv_create, as.character(type))
  info <- .Call(mxr_kv_info, h)
  structure(list(handle = h, type = info[[1L]], rank = info[[2L]], num.workers = info[[3L]]),
            class = "MXKVStore")
}

# Keys as a list of single strings or whole numbers (a vector or a list of them). A key is a
# label, passed unchanged (not an index: key 1 is the core's key 1, as in MXNet R).
.mx.kv.keys <- function(keys) {
  keys <- as.list(keys)
  if (!length(keys)) stop("keys is empty", call. = FALSE)
  for (k in keys) {
    ok <- length(k) == 1L && ((is.character(k) && !is.na(k)) ||
                              (is.numeric(k) && is.finite(k) && k == round(k)))
    if (!ok) stop("every key must be a single string or a whole number", call. = FALSE)
  }
  keys
}

# The arrays of each key: for one key an MXNDArray or a list of them; for several keys a list
# with one entry (an MXNDArray or a list of them) per key. Returns counts and the flat list.
.mx.kv.groups <- function(n, values, what) {
  is.nd <- function(v) inherits(v, "MXNDArray")
  if (is.nd(values)) values <- list(values)
  if (!is.list(values)) stop(sprintf("%s must be an MXNDArray or a list of them", what),
                             call. = FALSE)
  groups <- if (n == 1L && length(values) >= 1L && all(vapply(values, is.nd, logical(1)))) {
    list(values)
  } else {
    if (length(values) != n) {
      stop(sprintf("%s has %d entries for %d keys", what, length(values), n), call. = FALSE)
    }
    lapply(values, function(v) if (is.nd(v)) list(v) else v)
  }
  for (g in groups) {
    if (!is.list(g) || !length(g) || !all(vapply(g, is.nd, logical(1)))) {
      stop(sprintf("every key needs one or more MXNDArrays in %s", what), call. = FALSE)
    }
  }
  list(counts = as.integer(lengths(groups)), arrays = unlist(groups, recursive = FALSE))
}

.mx.kv.check <- function(kv) {
  if (!inherits(kv, "MXKVStore")) stop("kv must be an MXKVStore (mx.kv.create)", call. = FALSE)
}

#' Initialises keys of a KVStore with a copy of one array each.
#' @param kv An MXKVStore from mx.kv.create.
#' @param keys Keys: whole numbers or strings (a vector or a list); passed unchanged.
#' @param values One MXNDArray per key (an MXNDArray for one key, else a list).
#' @export
mx.kv.init <- function(kv, keys, values) {
  .mx.kv.check(kv)
  keys <- .mx.kv.keys(keys)
  if (inherits(values, "MXNDArray")) values <- list(values)
  if (!is.list(values) || length(values) != length(keys) ||
      !all(vapply(values, inherits, logical(1), "MXNDArray"))) {
    stop("values must hold one MXNDArray per key", call. = FALSE)
  }
  .Call(mxr_kv_init, kv$handle, keys, values)
  invisible(kv)
}

#' Pushes values: the arrays given for a key are summed, then the store's optimizer updates
#' the stored value with the sum (mx.kv.set.optimizer), or the sum replaces it.
#' @param priority Engine priority of the work (higher runs first); never changes values.
#' @export
mx.kv.push <- function(kv, keys, values, priority = 0) {
  .mx.kv.check(kv)
  keys <- .mx.kv.keys(keys)
  g <- .mx.kv.groups(length(keys), values, "values")
  .Call(mxr_kv_push, kv$handle, keys, g$counts, g$arrays, as.integer(priority))
  invisible(kv)
}

#' Pulls the stored values into existing arrays of the key's shape (copied in place; another
#' dtype is converted). Returns out invisibly.
#' @export
mx.kv.pull <- function(kv, keys, out, priority = 0) {
  .mx.kv.check(kv)
  keys <- .mx.kv.keys(keys)
  g <- .mx.kv.groups(length(keys), out, "out")
  .Call(mxr_kv_pull, kv$handle, keys, g$counts, g$arrays, as.integer(priority))
  invisible(out)
}

#' Push then pull; out = NULL pulls back into the pushed arrays. Returns the arrays pulled
#' into, invisibly.
#' @export
mx.kv.pushpull <- function(kv, keys, values, out = NULL, priority = 0) {
  .mx.kv.check(kv)
  keys <- .mx.kv.keys(keys)
  g <- .mx.kv.groups(length(keys), values, "values")
  if (is.null(out)) {
    .Call(mxr_kv_pushpull, kv$handle, keys, g$counts, g$arrays, NULL, NULL,
          as.integer(priority))
    return(invisible(values))
  }
  o <- .mx.kv.groups(length(keys), out, "out")
  .Call(mxr_kv_pushpull, kv$handle, keys, g$counts, g$arrays, o$counts, o$arrays,
        as.integer(priority))
  invisible(out)
}

#' Updates on the store with a core optimizer (mx.opt.create): every push then applies one
#' update to the stored weight (state kept in the core per key), and pull returns the weight.
#' @export
mx.kv.set.optimizer <- function(kv, optimizer) {
  .mx.kv.check(kv)
  if (!inherits(optimizer, "MXOptimizer")) {
    stop("optimizer must be an MXOptimizer (mx.opt.create)", call. = FALSE)
  }
  .Call(mxr_kv_set_optimizer, kv$handle, optimizer$handle)
  invisible(kv)
}

.mx.layout <- function(X, n.label, layout) {
  if (is.data.frame(X)) X <- as.matrix(X)
  if (!is.numeric(X) && !is.logical(X)) stop("X must be a numeric array or matrix", call. = FALSE)
  if (is.null(dim(X))) X <- matrix(X, nrow = length(X))
  layout <- match.arg(layout, c("auto", "rowmajor", "colmajor"))
  if (layout == "auto") {
    layout <- if (length(dim(X)) == 2L && !is.null(n.label) && nrow(X) == n.label &&
                  ncol(X) != n.label) "rowmajor" else "colmajor"
  }
  if (layout == "rowmajor") {
    if (length(dim(X)) != 2L) stop("array.layout 'rowmajor' needs a matrix", call. = FALSE)
    X <- t(X)
  }
  X
}

# The examples idx of X (last dim) as an array of R dims c(feature dims, length(idx)).
.mx.batch <- function(X, idx) {
  d <- dim(X)
  per <- prod(d[-length(d)])
  cols <- as.vector(outer(seq_len(per), (idx - 1) * per, "+"))
  array(as.double(X)[cols], dim = c(d[-length(d)], length(idx)))
}

.mx.label.name <- function(symbol) {
  args <- arguments(symbol)
  lab <- args[endsWith(args, "_label")]
  if (length(lab) != 1L) stop("the symbol needs exactly one *_label argument", call. = FALSE)
  lab
}

#' Trains a feed-forward network on arrays with the core's optimizer.
#' @export
mx.model.FeedForward.create <- function(symbol, X, y, ctx = NULL, num.round = 10,
                                        optimizer = "sgd", initializer = mx.init.uniform(0.01),
                                        eval.metric = "accuracy", array.batch.size = 128,
                                        array.layout = "auto", learning.rate = 0.01,
                                        momentum = 0, wd = 0, kvstore = NULL,
                                        verbose = TRUE, ...) {
  if (!inherits(symbol, "MXSymbol")) stop("symbol must be an MXSymbol", call. = FALSE)
  y <- as.numeric(y)
  X <- .mx.layout(X, length(y), array.layout)
  n <- utils::tail(dim(X), 1L)
  if (n != length(y)) {
    stop(sprintf("X has %d examples but y has %d labels", n, length(y)), call. = FALSE)
  }
  batch <- as.integer(min(array.batch.size, n))
  if (is.na(batch) || batch < 1L) stop("array.batch.size must be positive", call. = FALSE)
  if (is.character(optimizer)) {
    optimizer <- mx.opt.create(optimizer, learning.rate = learning.rate, momentum = momentum,
                               wd = wd, rescale.grad = 1 / batch, ...)
  }
  if (!inherits(optimizer, "MXOptimizer")) stop("optimizer must be a name or mx.opt.create()",
                                                call. = FALSE)
  if (is.character(initializer)) initializer <- mx.init.create(initializer)
  if (is.character(eval.metric)) eval.metric <- mx.metric.create(eval.metric)
  label <- .mx.label.name(symbol)
  feat <- dim(X)[-length(dim(X))]
  shapes <- list(c(feat, batch))
  names(shapes) <- "data"
  args <- arguments(symbol)
  params <- setdiff(args, c("data", label))
  req <- ifelse(args %in% params, "write", "null")
  exec <- do.call(mx.simple.bind, c(list(symbol, ctx = ctx, grad.req = req), shapes))
  for (p in params) .Call(mxr_init_apply, initializer$handle, p, exec$arg.arrays[[p]])
  for (a in names(exec$aux.arrays)) .Call(mxr_init_apply, initializer$handle, a,
                                          exec$aux.arrays[[a]])
  for (i in seq_along(params)) .Call(mxr_opt_set_param_name, optimizer$handle, i - 1L,
                                     params[i])
  nbatch <- ceiling(n / batch)
  for (round in seq_len(num.round)) {
    .Call(mxr_metric_reset, eval.metric$handle)
    for (b in seq_len(nbatch)) {
      idx <- ((b - 1L) * batch + seq_len(batch) - 1L) %% n + 1L  # the last batch wraps
      mx.nd.copyto(mx.nd.array(.mx.batch(X, idx)), exec$arg.arrays$data)
      mx.nd.copyto(mx.nd.array(y[idx]), exec$arg.arrays[[label]])
      mx.exec.forward(exec, is.train = TRUE)
      mx.exec.backward(exec)
      for (i in seq_along(params)) {
        .Call(mxr_opt_update, optimizer$handle, i - 1L, exec$arg.arrays[[params[i]]],
              exec$grad.arrays[[params[i]]])
      }
      .Call(mxr_metric_update, eval.metric$handle, list(exec$arg.arrays[[label]]),
            list(exec$ref.outputs[[1L]]))
    }
    if (verbose) {
      m <- .Call(mxr_metric_get, eval.metric$handle)
      message(sprintf("[%d] ", round), paste(sprintf("Train-%s=%g", names(m), m), collapse = " "))
    }
  }
  mx.nd.waitall()
  copy <- function(a) mx.nd.copyto(a, mx.nd.zeros(dim(a), dtype = mx.nd.dtype(a)))
  structure(list(symbol = symbol, arg.params = lapply(exec$arg.arrays[params], copy),
                 aux.params = lapply(exec$aux.arrays, copy),
                 train.metric = .Call(mxr_metric_get, eval.metric$handle)),
            class = "MXFeedForwardModel")
}

#' Predicts with a trained or loaded model: the first output, examples in the last dim.
#' @export
predict.MXFeedForwardModel <- function(object, X, ctx = NULL, array.batch.size = 128,
                                       array.layout = "auto", ...) {
  if (is.data.frame(X)) X <- as.matrix(X)
  if (identical(array.layout, "auto") && length(dim(X)) == 2L) {
    # The layout whose data shape gives the model's parameter shapes (MXNet R's rule).
    fits <- function(d) {
      s <- tryCatch(mx.symbol.infer.shape(object$symbol, data = c(d, 1L)),
                    error = function(e) NULL)
      !is.null(s) && all(vapply(names(object$arg.params), function(p) {
        identical(as.integer(s$arg.shapes[[p]]), as.integer(dim(object$arg.params[[p]])))
      }, logical(1)))
    }
    col <- fits(nrow(X))
    row <- fits(ncol(X))
    if (col && row && nrow(X) != ncol(X)) stop("cannot tell the layout of X: give array.layout",
                                               call. = FALSE)
    array.layout <- if (row && !col) "rowmajor" else "colmajor"
  }
  X <- .mx.layout(X, NULL, array.layout)
  n <- utils::tail(dim(X), 1L)
  if (n < 1L) stop("X has no examples", call. = FALSE)
  batch <- as.integer(min(array.batch.size, n))
  feat <- dim(X)[-length(dim(X))]
  shapes <- list(c(feat, batch))
  names(shapes) <- "data"
  exec <- do.call(mx.simple.bind, c(list(object$symbol, ctx = ctx, grad.req = "null"), shapes))
  have <- intersect(names(object$arg.params), names(exec$arg.arrays))
  missing.params <- setdiff(names(exec$arg.arrays), c("data", have))
  missing.params <- missing.params[!endsWith(missing.params, "_label")]
  if (length(missing.params)) {
    stop(sprintf("the model has no parameter %s", paste(missing.params, collapse = ", ")),
         call. = FALSE)
  }
  mx.exec.update.arg.arrays(exec, object$arg.params[have], match.name = TRUE)
  if (length(object$aux.params)) {
    mx.exec.update.aux.arrays(exec, object$aux.params, match.name = TRUE)
  }
  out <- NULL
  for (b in seq_len(ceiling(n / batch))) {
    idx <- ((b - 1L) * batch + seq_len(batch) - 1L) %% n + 1L
    keep <- (b - 1L) * batch + seq_len(batch) <= n
    mx.nd.copyto(mx.nd.array(.mx.batch(X, idx)), exec$arg.arrays$data)
    mx.exec.forward(exec, is.train = FALSE)
    o <- as.array(exec$ref.outputs[[1L]])
    od <- dim(o)
    o <- .mx.batch(o, which(keep))
    out <- if (is.null(out)) o else array(c(out, o), dim = c(od[-length(od)],
                                                            utils::tail(dim(out), 1L) + sum(keep)))
  }
  out
}

#' @export
print.MXKVStore <- function(x, ...) {
  cat(sprintf("<MXKVStore %s> rank %d of %d\n", x$type, x$rank, x$num.workers))
  invisible(x)
}
