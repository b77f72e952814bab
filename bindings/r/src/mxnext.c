/* .Call glue between R and the mxnext C ABI (capi/include/mxnext/c_api.h): handles as external
 * pointers with finalizers, typed parameter values, and structured errors turned into R
 * conditions by R/errors.R (.mx.raise). Nothing here knows any operator: the operator layer is
 * generated (R/gen-ops.R). Shapes cross in C order; R/ reverses them for R's column-major view. */
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>
#include <stdint.h>
#include <string.h>

#include "mxnext/c_api.h"

/* ---- errors ------------------------------------------------------------------------------ */

/* Signals the last C error as an R condition (never returns). Free C resources first. */
static void mxr_raise(void) {
  mxn_error_info info;
  memset(&info, 0, sizeof(info));
  info.struct_size = sizeof(mxn_error_info);
  mxn_last_error(&info);
  SEXP lst = PROTECT(Rf_allocVector(VECSXP, 6));
  SET_VECTOR_ELT(lst, 0, Rf_ScalarInteger(info.code));
  SET_VECTOR_ELT(lst, 1, Rf_mkString(info.kind ? info.kind : ""));
  SET_VECTOR_ELT(lst, 2, Rf_mkString(info.message ? info.message : ""));
  SET_VECTOR_ELT(lst, 3, Rf_mkString(info.op_name ? info.op_name : ""));
  SET_VECTOR_ELT(lst, 4, Rf_ScalarInteger(info.arg_index == MXN_NO_FIELD ? NA_INTEGER
                                                                          : info.arg_index));
  SET_VECTOR_ELT(lst, 5, Rf_ScalarInteger(info.axis == MXN_NO_FIELD ? NA_INTEGER : info.axis));
  SEXP ns = PROTECT(R_FindNamespace(Rf_mkString("mxnext")));
  SEXP call = PROTECT(Rf_lang2(Rf_install(".mx.raise"), lst));
  Rf_eval(call, ns);
  UNPROTECT(3);
  Rf_error("mxnext: error condition was not raised");
}

#define CHECK(expr)            \
  do {                         \
    if ((expr) != MXN_OK) {    \
      mxr_raise();             \
    }                          \
  } while (0)

/* ---- handles ----------------------------------------------------------------------------- */

static void nd_finalize(SEXP p) {
  mxn_ndarray_free((mxn_ndarray*)R_ExternalPtrAddr(p));
  R_ClearExternalPtr(p);
}
static void sym_finalize(SEXP p) {
  mxn_symbol_free((mxn_symbol*)R_ExternalPtrAddr(p));
  R_ClearExternalPtr(p);
}
static void exec_finalize(SEXP p) {
  mxn_executor_free((mxn_executor*)R_ExternalPtrAddr(p));
  R_ClearExternalPtr(p);
}

static SEXP wrap(void* h, const char* cls, R_CFinalizer_t fin) {
  SEXP p = PROTECT(R_MakeExternalPtr(h, Rf_install(cls), R_NilValue));
  R_RegisterCFinalizerEx(p, fin, TRUE);
  Rf_setAttrib(p, R_ClassSymbol, Rf_mkString(cls));
  UNPROTECT(1);
  return p;
}
static SEXP wrap_nd(mxn_ndarray* h) { return wrap(h, "MXNDArray", nd_finalize); }

static void* unwrap(SEXP p, const char* cls) {
  if (TYPEOF(p) != EXTPTRSXP || R_ExternalPtrTag(p) != Rf_install(cls)) {
    Rf_error("expected an %s", cls);
  }
  void* h = R_ExternalPtrAddr(p);
  if (h == NULL) Rf_error("the %s was released (a handle saved from another session?)", cls);
  return h;
}
static mxn_ndarray* nd(SEXP p) { return (mxn_ndarray*)unwrap(p, "MXNDArray"); }
static mxn_symbol* sym(SEXP p) { return (mxn_symbol*)unwrap(p, "MXSymbol"); }
static mxn_executor* ex(SEXP p) { return (mxn_executor*)unwrap(p, "MXExecutor"); }

/* ---- library ----------------------------------------------------------------------------- */

SEXP mxr_abi_version(void) {
  SEXP out = PROTECT(Rf_allocVector(INTSXP, 2));
  INTEGER(out)[0] = (int)mxn_abi_version();
  INTEGER(out)[1] = MXN_ABI_VERSION;
  UNPROTECT(1);
  return out;
}

SEXP mxr_seed(SEXP seed) {
  CHECK(mxn_random_seed((uint64_t)Rf_asReal(seed)));
  return R_NilValue;
}

SEXP mxr_wait_all(void) {
  CHECK(mxn_wait_all());
  return R_NilValue;
}

/* ---- arrays ------------------------------------------------------------------------------ */

static int64_t* dims_of(SEXP cdims, int* ndim) {
  *ndim = Rf_length(cdims);
  int64_t* d = (int64_t*)R_alloc(*ndim > 0 ? *ndim : 1, sizeof(int64_t));
  SEXP r = PROTECT(Rf_coerceVector(cdims, REALSXP));
  for (int i = 0; i < *ndim; ++i) d[i] = (int64_t)REAL(r)[i];
  UNPROTECT(1);
  return d;
}

/* values: a double vector in C order (R's column-major order of the reversed dims). */
SEXP mxr_nd_from_double(SEXP values, SEXP cdims, SEXP dtype) {
  int ndim;
  SEXP v = PROTECT(Rf_coerceVector(values, REALSXP));
  int64_t* d = dims_of(cdims, &ndim);
  int dt = Rf_asInteger(dtype);
  mxn_ndarray* f64 = NULL;
  CHECK(mxn_ndarray_from_data(d, ndim, MXN_DTYPE_FLOAT64, MXN_DEVICE_CPU, 0, REAL(v),
                              sizeof(double) * (size_t)Rf_xlength(v), &f64));
  if (dt == MXN_DTYPE_FLOAT64) {
    UNPROTECT(1);
    return wrap_nd(f64);
  }
  mxn_ndarray* out = NULL;
  if (mxn_ndarray_create(d, ndim, dt, MXN_DEVICE_CPU, 0, &out) != MXN_OK ||
      mxn_ndarray_copy_to(f64, out) != MXN_OK || mxn_ndarray_wait_to_read(out) != MXN_OK) {
    mxn_ndarray_free(f64);
    mxn_ndarray_free(out);
    mxr_raise();
  }
  mxn_ndarray_free(f64);
  UNPROTECT(1);
  return wrap_nd(out);
}

SEXP mxr_nd_from_raw(SEXP bytes, SEXP cdims, SEXP dtype) {
  int ndim;
  int64_t* d = dims_of(cdims, &ndim);
  mxn_ndarray* out = NULL;
  CHECK(mxn_ndarray_from_data(d, ndim, Rf_asInteger(dtype), MXN_DEVICE_CPU, 0, RAW(bytes),
                              (size_t)Rf_xlength(bytes), &out));
  return wrap_nd(out);
}

SEXP mxr_nd_shape(SEXP a) {
  int32_t ndim = 0;
  const int64_t* dims = NULL;
  CHECK(mxn_ndarray_shape(nd(a), &ndim, &dims));
  SEXP out = PROTECT(Rf_allocVector(REALSXP, ndim));
  for (int i = 0; i < ndim; ++i) REAL(out)[i] = (double)dims[i];
  UNPROTECT(1);
  return out;
}

SEXP mxr_nd_dtype(SEXP a) {
  int32_t dt = 0;
  CHECK(mxn_ndarray_dtype(nd(a), &dt));
  return Rf_ScalarInteger(dt);
}

/* The exact bytes (little-endian, C order). Waits. */
SEXP mxr_nd_to_raw(SEXP a) {
  mxn_ndarray* h = nd(a);
  int64_t size = 0;
  int32_t dt = 0;
  CHECK(mxn_ndarray_size(h, &size));
  CHECK(mxn_ndarray_dtype(h, &dt));
  static const int item[] = {4, 8, 2, 1, 4, 1, 8, 1};
  if (dt < 0 || dt > 7) Rf_error("unknown dtype %d", dt);
  SEXP out = PROTECT(Rf_allocVector(RAWSXP, (R_xlen_t)size * item[dt]));
  CHECK(mxn_ndarray_copy_to_host(h, RAW(out), (size_t)Rf_xlength(out)));
  UNPROTECT(1);
  return out;
}

/* The values as doubles in C order (converted by the core, so float16 reads too). Waits. */
SEXP mxr_nd_to_double(SEXP a) {
  mxn_ndarray* h = nd(a);
  int32_t ndim = 0;
  const int64_t* dims = NULL;
  int64_t size = 0;
  CHECK(mxn_ndarray_shape(h, &ndim, &dims));
  CHECK(mxn_ndarray_size(h, &size));
  SEXP out = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)size));
  mxn_ndarray* f64 = NULL;
  CHECK(mxn_ndarray_create(dims, ndim, MXN_DTYPE_FLOAT64, MXN_DEVICE_CPU, 0, &f64));
  if (mxn_ndarray_copy_to(h, f64) != MXN_OK ||
      mxn_ndarray_copy_to_host(f64, REAL(out), sizeof(double) * (size_t)size) != MXN_OK) {
    mxn_ndarray_free(f64);
    mxr_raise();
  }
  mxn_ndarray_free(f64);
  UNPROTECT(1);
  return out;
}

SEXP mxr_nd_copy_to(SEXP src, SEXP dst) {
  CHECK(mxn_ndarray_copy_to(nd(src), nd(dst)));
  CHECK(mxn_ndarray_wait_to_read(nd(dst)));
  return R_NilValue;
}

/* ---- typed values ------------------------------------------------------------------------ */

/* Fills vals[i] from values[[i]] with type codes types[i]; scratch memory from R_alloc. */
static void to_values(SEXP keys, SEXP types, SEXP values, const char*** key_out,
                      mxn_value** val_out) {
  int n = Rf_length(keys);
  const char** k = (const char**)R_alloc(n > 0 ? n : 1, sizeof(char*));
  mxn_value* v = (mxn_value*)R_alloc(n > 0 ? n : 1, sizeof(mxn_value));
  for (int i = 0; i < n; ++i) {
    SEXP x = VECTOR_ELT(values, i);
    k[i] = CHAR(STRING_ELT(keys, i));
    memset(&v[i], 0, sizeof(mxn_value));
    int t = INTEGER(types)[i];
    if (Rf_isNull(x)) {
      v[i].type = MXN_VALUE_NONE;
      continue;
    }
    v[i].type = t;
    switch (t) {
      case MXN_VALUE_INT:
      case MXN_VALUE_DTYPE:
        if (Rf_length(x) != 1) Rf_error("parameter '%s' must be a single value", k[i]);
        v[i].u.i = (int64_t)Rf_asReal(x);
        break;
      case MXN_VALUE_FLOAT:
        if (Rf_length(x) != 1) Rf_error("parameter '%s' must be a single number", k[i]);
        v[i].u.f = Rf_asReal(x);
        break;
      case MXN_VALUE_BOOL:
        if (Rf_length(x) != 1 || Rf_asLogical(x) == NA_LOGICAL)
          Rf_error("parameter '%s' must be TRUE or FALSE", k[i]);
        v[i].u.i = Rf_asLogical(x) ? 1 : 0;
        break;
      case MXN_VALUE_STRING:
        if (!Rf_isString(x) || Rf_length(x) != 1)
          Rf_error("parameter '%s' must be a character string", k[i]);
        v[i].u.s = CHAR(STRING_ELT(x, 0));
        break;
      case MXN_VALUE_SHAPE: {
        SEXP r = PROTECT(Rf_coerceVector(x, REALSXP));
        int len = Rf_length(r);
        int64_t* d = (int64_t*)R_alloc(len > 0 ? len : 1, sizeof(int64_t));
        for (int j = 0; j < len; ++j)
          d[j] = ISNAN(REAL(r)[j]) ? INT64_MIN : (int64_t)REAL(r)[j];
        UNPROTECT(1);
        v[i].len = len;
        v[i].u.dims = d;
        break;
      }
      case MXN_VALUE_DEVICE: {
        SEXP r = PROTECT(Rf_coerceVector(x, REALSXP));
        if (Rf_length(r) != 2) Rf_error("parameter '%s' must be a context", k[i]);
        v[i].u.i = (int64_t)REAL(r)[0];
        v[i].len = (int32_t)REAL(r)[1];
        UNPROTECT(1);
        break;
      }
      default:
        Rf_error("unknown parameter type code %d", t);
    }
  }
  *key_out = k;
  *val_out = v;
}

/* ---- operators --------------------------------------------------------------------------- */

SEXP mxr_op_invoke(SEXP name, SEXP inputs, SEXP keys, SEXP types, SEXP values) {
  const mxn_op* op = NULL;
  CHECK(mxn_op_find(CHAR(STRING_ELT(name, 0)), &op));
  int n_in = Rf_length(inputs);
  mxn_ndarray** ins = (mxn_ndarray**)R_alloc(n_in > 0 ? n_in : 1, sizeof(mxn_ndarray*));
  for (int i = 0; i < n_in; ++i) ins[i] = nd(VECTOR_ELT(inputs, i));
  const char** k;
  mxn_value* v;
  to_values(keys, types, values, &k, &v);
  mxn_ndarray* outs[16];
  int32_t n_out = 0;
  CHECK(mxn_op_invoke(op, n_in, ins, Rf_length(keys), k, v, 16, outs, &n_out));
  SEXP res = PROTECT(Rf_allocVector(VECSXP, n_out));
  for (int i = 0; i < n_out; ++i) SET_VECTOR_ELT(res, i, wrap_nd(outs[i]));
  UNPROTECT(1);
  return res;
}

/* ---- symbols ----------------------------------------------------------------------------- */

static SEXP strings_to_r(mxn_strings* list) {
  int32_t n = 0;
  if (mxn_strings_size(list, &n) != MXN_OK) {
    mxn_strings_free(list);
    mxr_raise();
  }
  SEXP out = PROTECT(Rf_allocVector(STRSXP, n));
  for (int i = 0; i < n; ++i) {
    const char* s = NULL;
    mxn_strings_get(list, i, &s);
    SET_STRING_ELT(out, i, Rf_mkCharCE(s, CE_UTF8));
  }
  mxn_strings_free(list);
  UNPROTECT(1);
  return out;
}

SEXP mxr_sym_variable(SEXP name) {
  mxn_symbol* s = NULL;
  CHECK(mxn_symbol_variable(CHAR(STRING_ELT(name, 0)), &s));
  return wrap(s, "MXSymbol", sym_finalize);
}

SEXP mxr_sym_compose(SEXP opname, SEXP keys, SEXP types, SEXP values, SEXP name, SEXP args,
                     SEXP argnames, SEXP attr_keys, SEXP attr_vals) {
  const mxn_op* op = NULL;
  CHECK(mxn_op_find(CHAR(STRING_ELT(opname, 0)), &op));
  const char** k;
  mxn_value* v;
  to_values(keys, types, values, &k, &v);
  int n_args = Rf_length(args);
  mxn_symbol** a = (mxn_symbol**)R_alloc(n_args > 0 ? n_args : 1, sizeof(mxn_symbol*));
  const char** an = (const char**)R_alloc(n_args > 0 ? n_args : 1, sizeof(char*));
  for (int i = 0; i < n_args; ++i) {
    a[i] = sym(VECTOR_ELT(args, i));
    an[i] = Rf_isNull(argnames) ? "" : CHAR(STRING_ELT(argnames, i));
  }
  int n_attr = Rf_length(attr_keys);
  const char** ak = (const char**)R_alloc(n_attr > 0 ? n_attr : 1, sizeof(char*));
  const char** av = (const char**)R_alloc(n_attr > 0 ? n_attr : 1, sizeof(char*));
  for (int i = 0; i < n_attr; ++i) {
    ak[i] = CHAR(STRING_ELT(attr_keys, i));
    av[i] = CHAR(STRING_ELT(attr_vals, i));
  }
  mxn_symbol* out = NULL;
  CHECK(mxn_symbol_compose(op, Rf_length(keys), k, v,
                           Rf_isNull(name) ? NULL : CHAR(STRING_ELT(name, 0)), n_args, a,
                           Rf_isNull(argnames) ? NULL : an, n_attr, ak, av, &out));
  return wrap(out, "MXSymbol", sym_finalize);
}

SEXP mxr_sym_list(SEXP s, SEXP kind) {
  mxn_strings* list = NULL;
  CHECK(mxn_symbol_list(sym(s), Rf_asInteger(kind), &list));
  return strings_to_r(list);
}

SEXP mxr_sym_to_json(SEXP s) {
  mxn_strings* list = NULL;
  CHECK(mxn_symbol_to_json(sym(s), &list));
  return strings_to_r(list);
}

SEXP mxr_sym_from_json(SEXP json) {
  mxn_symbol* out = NULL;
  CHECK(mxn_symbol_from_json(CHAR(STRING_ELT(json, 0)), &out));
  return wrap(out, "MXSymbol", sym_finalize);
}

static SEXP shapes_to_r(mxn_shapes* list) {
  int32_t n = 0;
  mxn_shapes_size(list, &n);
  SEXP out = PROTECT(Rf_allocVector(VECSXP, n));
  for (int i = 0; i < n; ++i) {
    int32_t ndim = 0;
    const int64_t* dims = NULL;
    mxn_shapes_get(list, i, &ndim, &dims);
    if (ndim < 0) continue; /* unknown: NULL */
    SEXP d = Rf_allocVector(REALSXP, ndim);
    SET_VECTOR_ELT(out, i, d);
    for (int j = 0; j < ndim; ++j) REAL(d)[j] = (double)dims[j];
  }
  UNPROTECT(1);
  return out;
}

/* shapes: a list of C-order dim vectors, one per names[i]. */
SEXP mxr_sym_infer_shape(SEXP s, SEXP names, SEXP shapes, SEXP partial) {
  int n = Rf_length(names);
  const char** nm = (const char**)R_alloc(n > 0 ? n : 1, sizeof(char*));
  int32_t* nd_ = (int32_t*)R_alloc(n > 0 ? n : 1, sizeof(int32_t));
  int total = 0;
  for (int i = 0; i < n; ++i) total += Rf_length(VECTOR_ELT(shapes, i));
  int64_t* dims = (int64_t*)R_alloc(total > 0 ? total : 1, sizeof(int64_t));
  int at = 0;
  for (int i = 0; i < n; ++i) {
    nm[i] = CHAR(STRING_ELT(names, i));
    SEXP d = PROTECT(Rf_coerceVector(VECTOR_ELT(shapes, i), REALSXP));
    nd_[i] = Rf_length(d);
    for (int j = 0; j < nd_[i]; ++j) dims[at++] = (int64_t)REAL(d)[j];
    UNPROTECT(1);
  }
  mxn_shapes *args = NULL, *outs = NULL, *aux = NULL;
  CHECK(mxn_symbol_infer_shape(sym(s), n, nm, nd_, dims, Rf_asLogical(partial), &args, &outs,
                               &aux));
  SEXP res = PROTECT(Rf_allocVector(VECSXP, 3));
  SET_VECTOR_ELT(res, 0, shapes_to_r(args));
  SET_VECTOR_ELT(res, 1, shapes_to_r(outs));
  SET_VECTOR_ELT(res, 2, shapes_to_r(aux));
  mxn_shapes_free(args);
  mxn_shapes_free(outs);
  mxn_shapes_free(aux);
  UNPROTECT(1);
  return res;
}

/* ---- executors --------------------------------------------------------------------------- */

static mxn_ndarray** nd_list(SEXP lst) {
  int n = Rf_length(lst);
  mxn_ndarray** out = (mxn_ndarray**)R_alloc(n > 0 ? n : 1, sizeof(mxn_ndarray*));
  for (int i = 0; i < n; ++i) {
    SEXP x = VECTOR_ELT(lst, i);
    out[i] = Rf_isNull(x) ? NULL : nd(x);
  }
  return out;
}

SEXP mxr_exec_bind(SEXP s, SEXP args, SEXP grads, SEXP reqs, SEXP aux) {
  int n_args = Rf_length(args);
  int32_t* r = (int32_t*)R_alloc(n_args > 0 ? n_args : 1, sizeof(int32_t));
  for (int i = 0; i < n_args; ++i) r[i] = INTEGER(reqs)[i];
  mxn_executor* out = NULL;
  CHECK(mxn_executor_bind(sym(s), n_args, nd_list(args), nd_list(grads), r, Rf_length(aux),
                          nd_list(aux), &out));
  return wrap(out, "MXExecutor", exec_finalize);
}

SEXP mxr_exec_forward(SEXP e, SEXP is_train) {
  CHECK(mxn_executor_forward(ex(e), Rf_asLogical(is_train)));
  return R_NilValue;
}

SEXP mxr_exec_backward(SEXP e, SEXP heads) {
  CHECK(mxn_executor_backward(ex(e), Rf_length(heads), nd_list(heads)));
  return R_NilValue;
}

SEXP mxr_exec_outputs(SEXP e) {
  int32_t n = 0;
  CHECK(mxn_executor_num_outputs(ex(e), &n));
  SEXP res = PROTECT(Rf_allocVector(VECSXP, n));
  for (int i = 0; i < n; ++i) {
    mxn_ndarray* o = NULL;
    CHECK(mxn_executor_output(ex(e), i, &o));
    SET_VECTOR_ELT(res, i, wrap_nd(o));
  }
  UNPROTECT(1);
  return res;
}

/* ---- .params files ----------------------------------------------------------------------- */

SEXP mxr_nd_save(SEXP path, SEXP arrays, SEXP names) {
  int n = Rf_length(arrays);
  const char** nm = NULL;
  if (!Rf_isNull(names)) {
    nm = (const char**)R_alloc(n > 0 ? n : 1, sizeof(char*));
    for (int i = 0; i < n; ++i) nm[i] = CHAR(STRING_ELT(names, i));
  }
  CHECK(mxn_ndarray_save(CHAR(STRING_ELT(path, 0)), n, nd_list(arrays), nm));
  return R_NilValue;
}

SEXP mxr_nd_load(SEXP path) {
  mxn_ndarray_list* list = NULL;
  CHECK(mxn_ndarray_load(CHAR(STRING_ELT(path, 0)), &list));
  int32_t n = 0, n_names = 0;
  mxn_ndarray_list_size(list, &n, &n_names);
  SEXP arrays = PROTECT(Rf_allocVector(VECSXP, n));
  SEXP names = PROTECT(n_names > 0 ? Rf_allocVector(STRSXP, n) : R_NilValue);
  for (int i = 0; i < n; ++i) {
    mxn_ndarray* a = NULL;
    if (mxn_ndarray_list_get(list, i, &a) != MXN_OK) {
      mxn_ndarray_list_free(list);
      mxr_raise();
    }
    SET_VECTOR_ELT(arrays, i, wrap_nd(a));
    if (n_names > 0) {
      const char* s = NULL;
      mxn_ndarray_list_name(list, i, &s, NULL);
      SET_STRING_ELT(names, i, Rf_mkCharCE(s, CE_UTF8));
    }
  }
  mxn_ndarray_list_free(list);
  SEXP res = PROTECT(Rf_allocVector(VECSXP, 2));
  SET_VECTOR_ELT(res, 0, arrays);
  SET_VECTOR_ELT(res, 1, names);
  UNPROTECT(3);
  return res;
}

/* ---- training: optimizers, initializers, metrics, kvstore --------------------------------- */

static void opt_finalize(SEXP p) {
  mxn_optimizer_free((mxn_optimizer*)R_ExternalPtrAddr(p));
  R_ClearExternalPtr(p);
}
static void init_finalize(SEXP p) {
  mxn_initializer_free((mxn_initializer*)R_ExternalPtrAddr(p));
  R_ClearExternalPtr(p);
}
static void metric_finalize(SEXP p) {
  mxn_metric_free((mxn_metric*)R_ExternalPtrAddr(p));
  R_ClearExternalPtr(p);
}
static void kv_finalize(SEXP p) {
  mxn_kvstore_free((mxn_kvstore*)R_ExternalPtrAddr(p));
  R_ClearExternalPtr(p);
}
static mxn_optimizer* opt(SEXP p) { return (mxn_optimizer*)unwrap(p, "MXOptimizer"); }
static mxn_initializer* ini(SEXP p) { return (mxn_initializer*)unwrap(p, "MXInitializer"); }
static mxn_metric* met(SEXP p) { return (mxn_metric*)unwrap(p, "MXMetric"); }
static mxn_kvstore* kvs(SEXP p) { return (mxn_kvstore*)unwrap(p, "MXKVStore"); }

SEXP mxr_opt_create(SEXP name, SEXP keys, SEXP types, SEXP values) {
  const char** k;
  mxn_value* v;
  to_values(keys, types, values, &k, &v);
  mxn_optimizer* out = NULL;
  CHECK(mxn_optimizer_create(CHAR(STRING_ELT(name, 0)), Rf_length(keys), k, v, &out));
  return wrap(out, "MXOptimizer", opt_finalize);
}

SEXP mxr_opt_set_param_name(SEXP o, SEXP index, SEXP name) {
  CHECK(mxn_optimizer_set_param_name(opt(o), (int64_t)Rf_asReal(index),
                                     CHAR(STRING_ELT(name, 0))));
  return R_NilValue;
}

SEXP mxr_opt_update(SEXP o, SEXP index, SEXP weight, SEXP grad) {
  CHECK(mxn_optimizer_update(opt(o), (int64_t)Rf_asReal(index), NULL, nd(weight), nd(grad)));
  return R_NilValue;
}

SEXP mxr_opt_rates(SEXP o, SEXP index) {
  double lr = 0, wd = 0;
  CHECK(mxn_optimizer_rates(opt(o), (int64_t)Rf_asReal(index), NULL, &lr, &wd));
  SEXP out = PROTECT(Rf_allocVector(REALSXP, 2));
  REAL(out)[0] = lr;
  REAL(out)[1] = wd;
  UNPROTECT(1);
  return out;
}

SEXP mxr_init_create(SEXP name, SEXP keys, SEXP types, SEXP values) {
  const char** k;
  mxn_value* v;
  to_values(keys, types, values, &k, &v);
  mxn_initializer* out = NULL;
  CHECK(mxn_initializer_create(CHAR(STRING_ELT(name, 0)), Rf_length(keys), k, v, &out));
  return wrap(out, "MXInitializer", init_finalize);
}

SEXP mxr_init_apply(SEXP i, SEXP name, SEXP array) {
  CHECK(mxn_initializer_apply(ini(i), CHAR(STRING_ELT(name, 0)), NULL, nd(array)));
  CHECK(mxn_ndarray_wait_to_read(nd(array)));
  return R_NilValue;
}

SEXP mxr_metric_create(SEXP name, SEXP keys, SEXP types, SEXP values) {
  const char** k;
  mxn_value* v;
  to_values(keys, types, values, &k, &v);
  mxn_metric* out = NULL;
  CHECK(mxn_metric_create(CHAR(STRING_ELT(name, 0)), Rf_length(keys), k, v, &out));
  return wrap(out, "MXMetric", metric_finalize);
}

SEXP mxr_metric_update(SEXP m, SEXP labels, SEXP preds) {
  CHECK(mxn_metric_update(met(m), Rf_length(labels), nd_list(labels), Rf_length(preds),
                          nd_list(preds)));
  return R_NilValue;
}

SEXP mxr_metric_reset(SEXP m) {
  CHECK(mxn_metric_reset(met(m), 0));
  return R_NilValue;
}

/* The values with their names. */
SEXP mxr_metric_get(SEXP m) {
  int32_t n = 0;
  double vals[64];
  CHECK(mxn_metric_get(met(m), 0, 64, vals, &n));
  SEXP out = PROTECT(Rf_allocVector(REALSXP, n));
  SEXP nms = PROTECT(Rf_allocVector(STRSXP, n));
  for (int i = 0; i < n; ++i) {
    const char* s = NULL;
    CHECK(mxn_metric_name(met(m), i, &s));
    REAL(out)[i] = vals[i];
    SET_STRING_ELT(nms, i, Rf_mkCharCE(s ? s : "", CE_UTF8));
  }
  Rf_setAttrib(out, R_NamesSymbol, nms);
  UNPROTECT(2);
  return out;
}

SEXP mxr_kv_create(SEXP type) {
  mxn_kvstore* out = NULL;
  CHECK(mxn_kvstore_create(CHAR(STRING_ELT(type, 0)), &out));
  return wrap(out, "MXKVStore", kv_finalize);
}

/* type, rank, number of workers. */
SEXP mxr_kv_info(SEXP k) {
  const char* type = NULL;
  int32_t rank = 0, num = 0;
  CHECK(mxn_kvstore_info(kvs(k), &type, &rank, &num));
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 3));
  SET_VECTOR_ELT(out, 0, Rf_mkString(type ? type : ""));
  SET_VECTOR_ELT(out, 1, Rf_ScalarInteger(rank));
  SET_VECTOR_ELT(out, 2, Rf_ScalarInteger(num));
  UNPROTECT(1);
  return out;
}

/* Keys as typed values: a list whose elements are a string (MXN_VALUE_STRING) or a whole
 * number (MXN_VALUE_INT); R/train.R checks them first. Scratch memory from R_alloc. */
static mxn_value* kv_keys(SEXP keys) {
  int n = Rf_length(keys);
  mxn_value* v = (mxn_value*)R_alloc(n > 0 ? n : 1, sizeof(mxn_value));
  for (int i = 0; i < n; ++i) {
    SEXP x = VECTOR_ELT(keys, i);
    memset(&v[i], 0, sizeof(mxn_value));
    if (Rf_isString(x) && Rf_length(x) == 1) {
      v[i].type = MXN_VALUE_STRING;
      v[i].u.s = CHAR(STRING_ELT(x, 0));
    } else if ((Rf_isInteger(x) || Rf_isReal(x)) && Rf_length(x) == 1) {
      v[i].type = MXN_VALUE_INT;
      v[i].u.i = (int64_t)Rf_asReal(x);
    } else {
      Rf_error("key %d must be a single string or whole number", i + 1);
    }
  }
  return v;
}

static int32_t* int_vec(SEXP x) {
  int n = Rf_length(x);
  int32_t* out = (int32_t*)R_alloc(n > 0 ? n : 1, sizeof(int32_t));
  SEXP r = PROTECT(Rf_coerceVector(x, INTSXP));
  for (int i = 0; i < n; ++i) out[i] = INTEGER(r)[i];
  UNPROTECT(1);
  return out;
}

SEXP mxr_kv_init(SEXP k, SEXP keys, SEXP values) {
  CHECK(mxn_kvstore_init(kvs(k), Rf_length(keys), kv_keys(keys), nd_list(values)));
  return R_NilValue;
}

/* counts[i] arrays of `values` (a flat list) for key i. */
SEXP mxr_kv_push(SEXP k, SEXP keys, SEXP counts, SEXP values, SEXP priority) {
  CHECK(mxn_kvstore_push(kvs(k), Rf_length(keys), kv_keys(keys), int_vec(counts),
                         nd_list(values), Rf_asInteger(priority)));
  return R_NilValue;
}

SEXP mxr_kv_pull(SEXP k, SEXP keys, SEXP counts, SEXP outs, SEXP priority) {
  CHECK(mxn_kvstore_pull(kvs(k), Rf_length(keys), kv_keys(keys), int_vec(counts),
                         nd_list(outs), Rf_asInteger(priority)));
  return R_NilValue;
}

/* out_counts NULL: pulls back into the pushed arrays. */
SEXP mxr_kv_pushpull(SEXP k, SEXP keys, SEXP counts, SEXP values, SEXP out_counts, SEXP outs,
                     SEXP priority) {
  int with_outs = !Rf_isNull(out_counts);
  CHECK(mxn_kvstore_pushpull(kvs(k), Rf_length(keys), kv_keys(keys), int_vec(counts),
                             nd_list(values), with_outs ? int_vec(out_counts) : NULL,
                             with_outs ? nd_list(outs) : NULL, Rf_asInteger(priority)));
  return R_NilValue;
}

SEXP mxr_kv_set_optimizer(SEXP k, SEXP o) {
  CHECK(mxn_kvstore_set_optimizer(kvs(k), opt(o)));
  return R_NilValue;
}

/* ---- registration ------------------------------------------------------------------------ */

static const R_CallMethodDef calls[] = {
    {"mxr_abi_version", (DL_FUNC)&mxr_abi_version, 0},
    {"mxr_seed", (DL_FUNC)&mxr_seed, 1},
    {"mxr_wait_all", (DL_FUNC)&mxr_wait_all, 0},
    {"mxr_nd_from_double", (DL_FUNC)&mxr_nd_from_double, 3},
    {"mxr_nd_from_raw", (DL_FUNC)&mxr_nd_from_raw, 3},
    {"mxr_nd_shape", (DL_FUNC)&mxr_nd_shape, 1},
    {"mxr_nd_dtype", (DL_FUNC)&mxr_nd_dtype, 1},
    {"mxr_nd_to_raw", (DL_FUNC)&mxr_nd_to_raw, 1},
    {"mxr_nd_to_double", (DL_FUNC)&mxr_nd_to_double, 1},
    {"mxr_nd_copy_to", (DL_FUNC)&mxr_nd_copy_to, 2},
    {"mxr_op_invoke", (DL_FUNC)&mxr_op_invoke, 5},
    {"mxr_sym_variable", (DL_FUNC)&mxr_sym_variable, 1},
    {"mxr_sym_compose", (DL_FUNC)&mxr_sym_compose, 9},
    {"mxr_sym_list", (DL_FUNC)&mxr_sym_list, 2},
    {"mxr_sym_to_json", (DL_FUNC)&mxr_sym_to_json, 1},
    {"mxr_sym_from_json", (DL_FUNC)&mxr_sym_from_json, 1},
    {"mxr_sym_infer_shape", (DL_FUNC)&mxr_sym_infer_shape, 4},
    {"mxr_exec_bind", (DL_FUNC)&mxr_exec_bind, 5},
    {"mxr_exec_forward", (DL_FUNC)&mxr_exec_forward, 2},
    {"mxr_exec_backward", (DL_FUNC)&mxr_exec_backward, 2},
    {"mxr_exec_outputs", (DL_FUNC)&mxr_exec_outputs, 1},
    {"mxr_nd_save", (DL_FUNC)&mxr_nd_save, 3},
    {"mxr_nd_load", (DL_FUNC)&mxr_nd_load, 1},
    {"mxr_opt_create", (DL_FUNC)&mxr_opt_create, 4},
    {"mxr_opt_set_param_name", (DL_FUNC)&mxr_opt_set_param_name, 3},
    {"mxr_opt_update", (DL_FUNC)&mxr_opt_update, 4},
    {"mxr_opt_rates", (DL_FUNC)&mxr_opt_rates, 2},
    {"mxr_init_create", (DL_FUNC)&mxr_init_create, 4},
    {"mxr_init_apply", (DL_FUNC)&mxr_init_apply, 3},
    {"mxr_metric_create", (DL_FUNC)&mxr_metric_create, 4},
    {"mxr_metric_update", (DL_FUNC)&mxr_metric_update, 3},
    {"mxr_metric_reset", (DL_FUNC)&mxr_metric_reset, 1},
    {"mxr_metric_get", (DL_FUNC)&mxr_metric_get, 1},
    {"mxr_kv_create", (DL_FUNC)&mxr_kv_create, 1},
    {"mxr_kv_info", (DL_FUNC)&mxr_kv_info, 1},
    {"mxr_kv_init", (DL_FUNC)&mxr_kv_init, 3},
    {"mxr_kv_push", (DL_FUNC)&mxr_kv_push, 5},
    {"mxr_kv_pull", (DL_FUNC)&mxr_kv_pull, 5},
    {"mxr_kv_pushpull", (DL_FUNC)&mxr_kv_pushpull, 7},
    {"mxr_kv_set_optimizer", (DL_FUNC)&mxr_kv_set_optimizer, 2},
    {NULL, NULL, 0}};

void R_init_mxnext(DllInfo* dll) {
  R_registerRoutines(dll, NULL, calls, NULL, NULL);
  R_useDynamicSymbols(dll, FALSE);
}
