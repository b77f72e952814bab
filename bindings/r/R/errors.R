# Errors: every failing C call becomes an R condition built from the structured error fields
# (code, kind, op name, argument index, axis); indices are shown 1-based, computed from the
# fields (never parsed out of the message text).

.mx.error.classes <- c("mx.invalid.argument", "mx.shape.error", "mx.dtype.error",
                       "mx.out.of.memory", "mx.io.error", "mx.format.error", "mx.device.error",
                       "mx.not.implemented", "mx.peer.lost", "mx.timeout", "mx.interrupted",
                       "mx.internal.error")

# 0-based C fields -> R's 1-based view. A negative axis counts from the end in both.
.mx.one.based <- function(i) if (is.na(i)) NA_integer_ else if (i >= 0L) i + 1L else i

.mx.raise <- function(info) {
  code <- info[[1L]]
  cls <- if (code >= 1L && code <= length(.mx.error.classes)) .mx.error.classes[code] else
    "mx.internal.error"
  cond <- structure(
    class = c(cls, "mx.error", "error", "condition"),
    list(message = info[[3L]], call = NULL, code = code, kind = info[[2L]],
         op.name = info[[4L]], arg.index = .mx.one.based(info[[5L]]),
         axis = .mx.one.based(info[[6L]])))
  stop(cond)
}

#' @export
conditionMessage.mx.error <- function(c) {
  where <- character(0)
  if (!is.na(c$arg.index)) where <- c(where, sprintf("argument %d", c$arg.index))
  if (!is.na(c$axis)) where <- c(where, sprintf("axis %d", c$axis))
  head <- if (length(where)) sprintf(" (%s; 1-based)", paste(where, collapse = ", ")) else ""
  sprintf("%s%s: %s", c$kind, head, c$message)
}
