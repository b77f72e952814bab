# Checkpoints in Apache MXNet's format: prefix-symbol.json and prefix-%04d.params with
# "arg:"/"aux:" names.

#' Saves a model (symbol, arg.params, aux.params) as an MXNet checkpoint.
#' @export
mx.model.save <- function(model, prefix, iteration) {
  mx.symbol.save(model$symbol, paste0(prefix, "-symbol.json"))
  arrays <- c(model$arg.params, model$aux.params)
  prefixed <- function(p, l) if (length(l)) paste0(p, names(l)) else character(0)
  names(arrays) <- c(prefixed("arg:", model$arg.params), prefixed("aux:", model$aux.params))
  mx.nd.save(arrays, sprintf("%s-%04d.params", prefix, as.integer(iteration)))
  invisible(NULL)
}

#' Loads an MXNet checkpoint (files written by Apache MXNet 1.x, Python or R).
#' @export
mx.model.load <- function(prefix, iteration) {
  symbol <- mx.symbol.load(paste0(prefix, "-symbol.json"))
  params <- mx.nd.load(sprintf("%s-%04d.params", prefix, as.integer(iteration)))
  nms <- names(params) %||% character(0)
  arg <- startsWith(nms, "arg:")
  aux <- startsWith(nms, "aux:")
  arg.params <- params[arg]
  names(arg.params) <- substring(nms[arg], 5L)
  aux.params <- params[aux]
  names(aux.params) <- substring(nms[aux], 5L)
  structure(list(symbol = symbol, arg.params = arg.params, aux.params = aux.params),
            class = "MXFeedForwardModel")
}

#' @export
print.MXFeedForwardModel <- function(x, ...) {
  cat(sprintf("<MXFeedForwardModel> %d parameters, %d auxiliary states\n",
              length(x$arg.params), length(x$aux.params)))
  print(x$symbol)
  invisible(x)
}
