/* hello.c: the mxnext C ABI from plain C, using nothing but <mxnext/c_api.h>.
 *
 * Checks the library's ABI version, creates arrays, runs two operators by name with typed
 * parameters, prints results a person can check, provokes an error and prints its structured
 * details, and frees everything. Exits non-zero on any unexpected result (ctest runs it).
 *
 *   cc hello.c -I capi/include -L build/capi -lmxnext && ./a.out
 */
#include <mxnext/c_api.h>

#include <stdio.h>
#include <string.h>

static int failures = 0;

/* Reports a failed call with the library's own message and counts it. */
static int check(int rc, const char* what) {
  if (rc != MXN_OK) {
    fprintf(stderr, "FAILED: %s -> %d: %s\n", what, rc, mxn_last_error_message());
    ++failures;
  }
  return rc == MXN_OK;
}
#define CHECK(call) check((call), #call)

static void expect_values(const char* what, const float* got, const float* want, int n) {
  printf("%-34s [", what);
  for (int i = 0; i < n; ++i) printf(i ? ", %g" : "%g", got[i]);
  printf("]\n");
  for (int i = 0; i < n; ++i) {
    if (got[i] != want[i]) {
      fprintf(stderr, "FAILED: %s[%d] is %g, expected %g\n", what, i, got[i], want[i]);
      ++failures;
      return;
    }
  }
}

int main(void) {
  /* 1. The library must speak the ABI this program was compiled against. */
  const uint32_t abi = mxn_abi_version();
  printf("mxnext %s, ABI %u (compiled against %d)\n", mxn_version_string(), (unsigned)abi,
         (int)MXN_ABI_VERSION);
  if (abi / 10000 != MXN_ABI_VERSION / 10000) {
    fprintf(stderr, "incompatible library: major ABI version %u\n", (unsigned)(abi / 10000));
    return 1;
  }
  const char* engine = NULL;
  int32_t workers = 0;
  if (CHECK(mxn_engine_info(&engine, &workers))) printf("engine: %s, %d workers\n", engine, workers);

  /* 2. Arrays: a 2x3 matrix and a row of 3. Handles are owned by us. */
  const int64_t mat_shape[2] = {2, 3};
  const int64_t row_shape[1] = {3};
  const float mat[6] = {1, 2, 3, 4, 5, 6};
  const float row[3] = {10, 20, 30};
  mxn_ndarray *a = NULL, *b = NULL, *sum = NULL, *shifted = NULL, *bad = NULL;
  CHECK(mxn_ndarray_from_data(mat_shape, 2, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, mat,
                              sizeof(mat), &a));
  CHECK(mxn_ndarray_from_data(row_shape, 1, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, row,
                              sizeof(row), &b));

  /* 3. broadcast_add: (2,3) + (3,) broadcasts the row over both rows. */
  const mxn_op* add = NULL;
  const mxn_op* plus_scalar = NULL;
  CHECK(mxn_op_find("broadcast_add", &add));
  CHECK(mxn_op_find("_plus_scalar", &plus_scalar));
  mxn_ndarray* add_in[2] = {a, b};
  int32_t n_out = 0;
  if (a && b && add && CHECK(mxn_op_invoke(add, 2, add_in, 0, NULL, NULL, 1, &sum, &n_out))) {
    int32_t ndim = 0;
    const int64_t* dims = NULL;
    CHECK(mxn_ndarray_shape(sum, &ndim, &dims));
    float out[6] = {0};
    CHECK(mxn_ndarray_copy_to_host(sum, out, sizeof(out)));  /* waits for the result */
    const float want[6] = {11, 22, 33, 14, 25, 36};
    printf("shape of the sum: (%lld, %lld)\n", (long long)dims[0], (long long)dims[1]);
    expect_values("[[1,2,3],[4,5,6]] + [10,20,30]", out, want, 6);
  }

  /* 4. _plus_scalar with a typed parameter: scalar=0.5 as a float value, not a string. */
  const char* keys[1] = {"scalar"};
  mxn_value vals[1];
  memset(vals, 0, sizeof(vals));
  vals[0].type = MXN_VALUE_FLOAT;
  vals[0].u.f = 0.5;
  mxn_ndarray* scalar_in[1] = {sum};
  if (sum && plus_scalar &&
      CHECK(mxn_op_invoke(plus_scalar, 1, scalar_in, 1, keys, vals, 1, &shifted, &n_out))) {
    float out[6] = {0};
    CHECK(mxn_ndarray_copy_to_host(shifted, out, sizeof(out)));
    const float want[6] = {11.5, 22.5, 33.5, 14.5, 25.5, 36.5};
    expect_values("that + 0.5", out, want, 6);
  }

  /* 5. An error on purpose: (2,3) and (4,) do not broadcast. Nothing is written to `bad`. */
  const int64_t v4_shape[1] = {4};
  const float v4[4] = {1, 2, 3, 4};
  mxn_ndarray* c = NULL;
  CHECK(mxn_ndarray_from_data(v4_shape, 1, MXN_DTYPE_FLOAT32, MXN_DEVICE_CPU, 0, v4, sizeof(v4),
                              &c));
  mxn_ndarray* bad_in[2] = {a, c};
  const int rc = mxn_op_invoke(add, 2, bad_in, 0, NULL, NULL, 1, &bad, &n_out);
  mxn_error_info err;
  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  CHECK(mxn_last_error(&err));
  printf("expected error: code %d, kind %s, op %s, axis %d\n  %s\n", rc, err.kind, err.op_name,
         err.axis, err.message);
  if (rc != MXN_ERR_SHAPE || err.code != MXN_ERR_SHAPE || strcmp(err.kind, "ShapeError") != 0 ||
      strcmp(err.op_name, "broadcast_add") != 0 || strstr(err.message, "(2,3)") == NULL ||
      strstr(err.message, "(4,)") == NULL || bad != NULL) {
    fprintf(stderr, "FAILED: the shape error is not what the ABI promises\n");
    ++failures;
  }

  /* 6. Everything we own goes back; free accepts NULL. */
  mxn_ndarray_free(bad);
  mxn_ndarray_free(c);
  mxn_ndarray_free(shifted);
  mxn_ndarray_free(sum);
  mxn_ndarray_free(b);
  mxn_ndarray_free(a);
  CHECK(mxn_wait_all());

  if (failures) {
    fprintf(stderr, "%d unexpected result(s)\n", failures);
    return 1;
  }
  printf("ok\n");
  return 0;
}
