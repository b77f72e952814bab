"""Command-line tools (python -m mxnext.tools.im2rec)."""
