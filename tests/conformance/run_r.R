# R conformance runner: interprets tests/conformance/cases/*.json with the mxnext R package.
#
#   Rscript tests/conformance/run_r.R [--results FILE] [--filter SUBSTR]
#
# Arrays are built as the mapping rule says: the case's C-order values and shape become an R
# array with reversed dims (the same bytes); operator parameters pass unchanged; error fields
# come 1-based from the R condition and are turned back to the C fields for the results file,
# which must be byte-identical to the Python runner's. Ends with `N passed, M failed`.
suppressPackageStartupMessages({
  library(mxnext)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
opt <- function(flag, default = NULL) {
  i <- match(flag, args)
  if (is.na(i)) default else args[i + 1L]
}
results.path <- opt("--results")
pattern <- opt("--filter")
here <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1L])) else "tests/conformance"
})

case.fail <- function(msg) stop(structure(class = c("case.failure", "error", "condition"),
                                          list(message = msg, call = NULL)))

num <- function(v) {
  vapply(v, function(x) {
    if (is.null(x)) NA_real_ else if (is.character(x)) c(nan = NaN, inf = Inf, "-inf" = -Inf)[[x]]
    else as.numeric(x)
  }, numeric(1))
}

# Operator and argument names of the generated R functions (tools/codegen/gen_r.py's rule).
r.fn <- function(kind, op) {
  base <- gsub("_", ".", sub("^_+", "", op))
  paste0(kind, if (startsWith(op, "_")) "internal." else "", base)
}
r.reserved <- c("if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE",
                "FALSE", "NULL", "Inf", "NaN", "NA", "in")
r.arg <- function(name) {
  r <- gsub("_", ".", name)
  ifelse(r %in% r.reserved, paste0(r, "."), r)
}
r.params <- function(params) {
  out <- lapply(params, function(v) {
    if (is.list(v)) num(v) else v
  })
  names(out) <- r.arg(names(params))
  out
}

shape.str <- function(s) paste0("(", paste(format(s, scientific = FALSE, trim = TRUE),
                                          collapse = ","), ")")
hex <- function(raw) paste(as.character(raw), collapse = "")
fmt.field <- function(v) if (is.na(v)) "-" else as.character(v)
# R's 1-based fields back to the C fields (a negative axis is the same in both).
c.field <- function(v) if (is.na(v)) NA_integer_ else if (v >= 1L) v - 1L else v

lines <- character(0)
record <- function(cid, i, kind, payload) {
  lines[[length(lines) + 1L]] <<- paste(cid, i, kind, payload, sep = "\t")
}

make.array <- function(step) {
  shape <- num(step$shape)
  vals <- num(step$values)
  mx.nd.array(vals, dtype = step$dtype, dim = rev(shape))
}

array.line <- function(a) {
  sprintf("%s %s %s", mx.nd.dtype(a), shape.str(mx.nd.shape(a)), hex(mxnext:::.mx.nd.bytes(a)))
}

expect.error <- function(cid, i, expected, fn) {
  cond <- tryCatch({
    fn()
    NULL
  }, mx.error = function(e) e)
  if (is.null(cond)) case.fail(sprintf("step %d: expected error code %d, got success", i,
                                       expected$code))
  arg <- c.field(cond$arg.index)
  axis <- c.field(cond$axis)
  record(cid, i, "error", sprintf("%d %s %s", cond$code, fmt.field(arg), fmt.field(axis)))
  want.arg <- if (is.null(expected$arg_index)) NA_integer_ else expected$arg_index
  want.axis <- if (is.null(expected$axis)) NA_integer_ else expected$axis
  ok <- cond$code == expected$code
  if (!(is.na(want.arg) && is.na(want.axis))) {
    ok <- ok && identical(is.na(arg), is.na(want.arg)) && (is.na(arg) || arg == want.arg) &&
      identical(is.na(axis), is.na(want.axis)) && (is.na(axis) || axis == want.axis)
  }
  if (!ok) {
    case.fail(sprintf("step %d: expected error (%d, %s, %s), got (%d, %s, %s): %s", i,
                      expected$code, fmt.field(want.arg), fmt.field(want.axis), cond$code,
                      fmt.field(arg), fmt.field(axis), conditionMessage(cond)))
  }
}

check <- function(cid, i, step, a) {
  record(cid, i, "array", array.line(a))
  if (mx.nd.dtype(a) != step$dtype || !identical(as.numeric(mx.nd.shape(a)), num(step$shape))) {
    case.fail(sprintf("step %d: got %s%s, expected %s%s", i, mx.nd.dtype(a),
                      shape.str(mx.nd.shape(a)), step$dtype, shape.str(num(step$shape))))
  }
  if (!is.null(step$hex)) {
    if (hex(mxnext:::.mx.nd.bytes(a)) != step$hex) {
      case.fail(sprintf("step %d: bytes differ: got %s", i,
                        paste(as.vector(as.array(a)), collapse = " ")))
    }
    return(invisible())
  }
  got <- .Call(mxnext:::mxr_nd_to_double, a)
  want <- num(step$values)
  close <- (is.nan(got) & is.nan(want)) |
    (!is.nan(got) & !is.nan(want) & abs(got - want) <= step$atol + step$rtol * abs(want))
  close[is.na(close)] <- FALSE
  if (!all(close)) {
    case.fail(sprintf("step %d: values differ: got %s expected %s", i,
                      paste(got, collapse = " "), paste(want, collapse = " ")))
  }
}

# KVStore steps (README.md): keys pass unchanged (labels, not indices); a single key goes in
# the one-key form (key, list of arrays), several keys as lists; pull outputs are existing
# slots, written in place.
kv.step <- function(cid, i, step, slots) {
  do <- step$do
  keys <- step$keys
  one <- length(keys) == 1L
  arrays <- function(groups) {
    g <- lapply(groups, function(grp) lapply(grp, function(s) slots[[s]]))
    if (one) g[[1L]] else g
  }
  key.arg <- if (one) keys[[1L]] else keys
  prio <- if (is.null(step$priority)) 0L else step$priority
  call <- switch(do,
    kv_create = function() mx.kv.create(step$type),
    kv_init = function() {
      vals <- lapply(step$values, function(s) slots[[s]])
      mx.kv.init(slots[[step$kv]], key.arg, if (one) vals[[1L]] else vals)
    },
    kv_push = function() mx.kv.push(slots[[step$kv]], key.arg, arrays(step$values),
                                    priority = prio),
    kv_pull = function() mx.kv.pull(slots[[step$kv]], key.arg, arrays(step$outputs),
                                    priority = prio),
    kv_pushpull = function() {
      out <- if (is.null(step$outputs)) NULL else arrays(step$outputs)
      mx.kv.pushpull(slots[[step$kv]], key.arg, arrays(step$values), out, priority = prio)
    },
    kv_set_optimizer = function() {
      opt <- do.call(mx.opt.create, c(list(step$optimizer), r.params(step$params)))
      mx.kv.set.optimizer(slots[[step$kv]], opt)
    },
    case.fail(sprintf("step %d: unknown step '%s'", i, do)))
  if (!is.null(step$error)) {
    expect.error(cid, i, step$error, call)
    return(invisible())
  }
  result <- call()
  if (do == "kv_create") slots[[step$kv]] <- result
  invisible()
}

run.case <- function(case, workdir) {
  slots <- new.env()
  cid <- case$id
  for (i0 in seq_along(case$steps)) {
    i <- i0 - 1L
    step <- case$steps[[i0]]
    do <- step$do
    if (do == "array") {
      slots[[step$slot]] <- make.array(step)
    } else if (do == "seed") {
      mx.set.seed(step$value)
    } else if (do == "invoke") {
      fn <- get(r.fn("mx.nd.", step$fn), envir = asNamespace("mxnext"))
      inputs <- lapply(step$inputs, function(s) slots[[s]])
      params <- r.params(step$params)
      call <- function() {
        out <- do.call(fn, c(inputs, params))
        if (inherits(out, "MXNDArray")) out <- list(out)
        for (o in out) mxnext:::.mx.nd.bytes(o)
        out
      }
      if (!is.null(step$error)) {
        expect.error(cid, i, step$error, call)
        next
      }
      outs <- call()
      if (length(outs) != length(step$outputs)) {
        case.fail(sprintf("step %d: %d outputs, expected %d", i, length(outs),
                          length(step$outputs)))
      }
      for (k in seq_along(outs)) slots[[step$outputs[[k]]]] <- outs[[k]]
    } else if (do == "check") {
      check(cid, i, step, slots[[step$slot]])
    } else if (do == "check_range") {
      a <- slots[[step$slot]]
      record(cid, i, "array", array.line(a))
      if (mx.nd.dtype(a) != step$dtype || !identical(as.numeric(mx.nd.shape(a)),
                                                    num(step$shape))) {
        case.fail(sprintf("step %d: got %s%s", i, mx.nd.dtype(a), shape.str(mx.nd.shape(a))))
      }
      v <- as.vector(as.array(a))
      if (length(v) && (min(v) < step$min || max(v) > step$max)) {
        case.fail(sprintf("step %d: values outside [%s, %s]", i, step$min, step$max))
      }
    } else if (do == "check_same") {
      if (!identical(mxnext:::.mx.nd.bytes(slots[[step$slot]]),
                     mxnext:::.mx.nd.bytes(slots[[step$like]]))) {
        case.fail(sprintf("step %d: %s differs from %s", i, step$slot, step$like))
      }
    } else if (do == "check_sorted_equal") {
      a <- slots[[step$slot]]
      record(cid, i, "array", array.line(a))
      if (!identical(sort(as.vector(as.array(a))), num(step$values))) {
        case.fail(sprintf("step %d: not a permutation", i))
      }
    } else if (do == "variable") {
      slots[[step$slot]] <- mx.symbol.Variable(step$name)
    } else if (do == "compose") {
      fn <- get(r.fn("mx.symbol.", step$fn), envir = asNamespace("mxnext"))
      syms <- lapply(step$args, function(s) slots[[s]])
      slots[[step$out]] <- do.call(fn, c(syms, r.params(step$params), list(name = step$name)))
    } else if (do == "list") {
      sym <- slots[[step$sym]]
      names <- switch(step$kind, arguments = arguments(sym), outputs = outputs(sym),
                      aux_states = mx.symbol.auxiliary.states(sym))
      record(cid, i, "names", paste(names, collapse = ","))
      if (!identical(names, as.character(unlist(step$expect)))) {
        case.fail(sprintf("step %d: %s %s", i, step$kind, paste(names, collapse = ",")))
      }
    } else if (do == "infer_shape") {
      sym <- slots[[step$sym]]
      shapes <- lapply(step$shapes, function(s) rev(num(s)))   # R dims
      infer <- function() do.call(mx.symbol.infer.shape, c(list(sym), shapes))
      if (!is.null(step$error)) {
        expect.error(cid, i, step$error, infer)
        next
      }
      r <- infer()
      got <- lapply(list(r$arg.shapes, r$out.shapes, r$aux.shapes),
                    function(l) lapply(unname(l), function(d) rev(as.numeric(d))))
      record(cid, i, "shapes", paste(vapply(got, function(l) {
        paste(vapply(l, shape.str, ""), collapse = " ")
      }, ""), collapse = ";"))
      want <- lapply(step$expect[c("arguments", "outputs", "aux_states")],
                     function(l) lapply(l, num))
      if (!identical(unname(got), unname(want))) {
        case.fail(sprintf("step %d: inferred shapes differ", i))
      }
    } else if (do == "simple_bind") {
      sym <- slots[[step$sym]]
      shapes <- lapply(step$shapes, function(s) rev(num(s)))
      exec <- do.call(mx.simple.bind, c(list(sym, ctx = mx.cpu(), grad.req = step$grad_req),
                                        shapes))
      vals <- lapply(step$args, function(s) slots[[s]])
      mx.exec.update.arg.arrays(exec, vals, match.name = TRUE)
      slots[[step$exec]] <- exec
    } else if (do == "forward") {
      exec <- slots[[step$exec]]
      mx.exec.forward(exec, is.train = step$is_train)
      for (k in seq_along(step$outputs)) slots[[step$outputs[[k]]]] <- exec$ref.outputs[[k]]
    } else if (do == "backward") {
      exec <- slots[[step$exec]]
      hg <- lapply(step$head_grads, function(s) slots[[s]])
      mx.exec.backward(exec, if (length(hg)) hg else NULL)
    } else if (do == "grad") {
      slots[[step$out]] <- slots[[step$exec]]$grad.arrays[[step$name]]
    } else if (do == "symbol_json") {
      slots[[step$out]] <- mx.symbol.load.json(mx.symbol.to.json(slots[[step$sym]]))
    } else if (do == "write_file") {
      h <- step$hex
      writeBin(as.raw(strtoi(substring(h, seq(1, nchar(h), 2), seq(2, nchar(h), 2)), 16L)),
               file.path(workdir, step$file))
    } else if (do == "save_params") {
      path <- file.path(workdir, step$file)
      arrays <- lapply(step$arrays, function(s) slots[[s]])
      if (!is.null(step$names)) names(arrays) <- as.character(unlist(step$names))
      mx.nd.save(arrays, path)
      got <- hex(readBin(path, "raw", file.size(path)))
      record(cid, i, "file", got)
      if (got != step$hex) case.fail(sprintf("step %d: file bytes differ from the reference", i))
    } else if (do == "load_params") {
      path <- file.path(workdir, step$file)
      if (!is.null(step$error)) {
        expect.error(cid, i, step$error, function() mx.nd.load(path))
        next
      }
      loaded <- mx.nd.load(path)
      nms <- names(loaded)
      record(cid, i, "names", if (is.null(nms)) "-" else paste(nms, collapse = ","))
      if (!identical(nms, if (is.null(step$names)) NULL else as.character(unlist(step$names)))) {
        case.fail(sprintf("step %d: names differ", i))
      }
      for (k in seq_along(step$outputs)) slots[[step$outputs[[k]]]] <- loaded[[k]]
    } else if (do == "save_checkpoint") {
      model <- list(symbol = slots[[step$sym]],
                    arg.params = lapply(step$arg_params, function(s) slots[[s]]),
                    aux.params = lapply(step$aux_params, function(s) slots[[s]]))
      mx.model.save(model, file.path(workdir, step$prefix), step$epoch)
    } else if (do == "load_checkpoint") {
      model <- mx.model.load(file.path(workdir, step$prefix), step$epoch)
      slots[[step$sym]] <- model$symbol
      for (k in names(step$arg_params)) slots[[step$arg_params[[k]]]] <- model$arg.params[[k]]
      for (k in names(step$aux_params)) slots[[step$aux_params[[k]]]] <- model$aux.params[[k]]
    } else if (startsWith(do, "kv_")) {
      kv.step(cid, i, step, slots)
    } else {
      case.fail(sprintf("step %d: unknown step '%s'", i, do))
    }
  }
}

files <- sort(list.files(file.path(here, "cases"), pattern = "\\.json$", full.names = TRUE))
cases <- unlist(lapply(files, function(f) fromJSON(f, simplifyVector = FALSE)$cases),
                recursive = FALSE)
if (!is.null(pattern)) cases <- Filter(function(c) grepl(pattern, c$id, fixed = TRUE), cases)

workdir <- tempfile("mxn-conf-")
dir.create(workdir)
passed <- 0L
failed <- 0L
known <- 0L
for (case in cases) {
  problem <- tryCatch({
    run.case(case, workdir)
    NULL
  }, case.failure = function(e) conditionMessage(e), error = function(e) {
    code <- if (inherits(e, "mx.error")) as.character(e$code) else "-"
    record(case$id, "-", "exception", code)
    paste0(class(e)[1L], ": ", conditionMessage(e))
  })
  if (!is.null(case$known_failure) && "r" %in% unlist(case$known_failure$runners)) {
    if (is.null(problem)) {
      failed <- failed + 1L
      cat(sprintf("FAIL %s: passes now; remove its known_failure mark\n", case$id))
    } else {
      passed <- passed + 1L
      known <- known + 1L
      cat(sprintf("XFAIL %s: %s\n", case$id, case$known_failure$reason))
    }
  } else if (is.null(problem)) {
    passed <- passed + 1L
  } else {
    failed <- failed + 1L
    cat(sprintf("FAIL %s: %s\n", case$id, problem))
  }
}
unlink(workdir, recursive = TRUE)
if (!is.null(results.path)) {
  dir.create(dirname(results.path), showWarnings = FALSE, recursive = TRUE)
  con <- file(results.path, "wb")
  writeLines(lines, con, sep = "\n", useBytes = TRUE)
  close(con)
}
if (known > 0L) {
  cat(sprintf("(%d of the passed cases are known failures of the core, marked in the cases)\n",
              known))
}
cat(sprintf("%d passed, %d failed\n", passed, failed))
quit(status = if (failed == 0L) 0L else 1L)
