library(testthat)
library(mxnext)
test_check("mxnext")
