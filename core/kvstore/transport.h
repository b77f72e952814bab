/* The transport under the dist_* KVStores (DESIGN §6, docs/architecture.md "Distributed
 * KVStore"). A backend library (libmxnext_mpi.so on Open MPI / MPICH) exports one function,
 * mxn_transport_mpi_v1(), returning this table; libmxnext dlopens it when a dist kvstore is
 * created, so libmxnext itself never links MPI and loads where MPI is absent.
 *
 * Plain C, so nothing of the C++ ABI crosses between the two libraries. Every function is
 * called from one thread only (the core's communication thread), which also called init: the
 * backend needs no thread support from MPI beyond MPI_THREAD_FUNNELED.
 *
 * Every fallible function returns 0 or an MXN_ERR_* code (c_api.h) and writes a message into
 * err (errlen bytes, NUL-terminated). Non-blocking operations return a request id; `test`
 * reports its completion. Nothing blocks without a bound: `progress` runs the heartbeats and
 * returns MXN_ERR_PEER_LOST (9) once a peer has been silent longer than the timeout.
 *
 * Version 2 added the options of init (two-level reduction), `topology` and `iprobe`
 * (dist_async's messages, whose sizes the receiver learns by probing). */
#ifndef MXNEXT_CORE_KVSTORE_TRANSPORT_H_
#define MXNEXT_CORE_KVSTORE_TRANSPORT_H_
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { MXN_TRANSPORT_VERSION = 2 };
enum { MXN_TDTYPE_F32 = 0, MXN_TDTYPE_F64 = 1, MXN_TDTYPE_I64 = 2 };
enum { MXN_TOP_SUM = 0, MXN_TOP_MIN = 1, MXN_TOP_MAX = 2 };
/* How allreduce runs: flat (one MPI_Iallreduce over every rank), two-level (reduce to one
 * leader per machine, allreduce among the leaders, broadcast within the machine), or auto
 * (two-level when there are several machines and one of them has several ranks). */
enum { MXN_TREDUCE_AUTO = 0, MXN_TREDUCE_FLAT = 1, MXN_TREDUCE_TWO_LEVEL = 2 };

typedef struct mxn_transport_options {
  const char* token;    /* the job token (may be "") */
  double heartbeat_s;   /* interval of the heartbeats */
  double timeout_s;     /* silence after which a peer counts as lost */
  int reduce;           /* MXN_TREDUCE_* */
  /* > 0: consecutive ranks form machines of this many ranks (tests pretend to be several
   * machines on one); 0: ranks with the same processor name (host) form a machine. */
  int local_size;
} mxn_transport_options;

typedef struct mxn_transport {
  uint32_t struct_size;
  uint32_t version; /* MXN_TRANSPORT_VERSION */
  const char* name; /* "mpi (Open MPI 4.1.4 ...)" */
  /* Joins the job. The token is checked against every peer's: a peer with another token
   * fails init with MXN_ERR_INVALID_ARG on every rank. */
  int (*init)(const mxn_transport_options* options, int* rank, int* size, char* err,
              size_t errlen);
  /* The machines found at init: how many, this rank's machine, its rank and the number of
   * ranks on it, and whether allreduce runs in two levels. */
  void (*topology)(int* num_hosts, int* host, int* local_rank, int* local_size, int* two_level);
  /* A new ordering channel (a duplicated communicator): operations on one channel must be
   * started in the same order on every rank; channels are independent of each other.
   * Collective: every rank creates its channels in the same order. */
  int (*channel)(int* out, char* err, size_t errlen);
  /* Reduces send (NULL: buf itself, in place) across ranks into buf. */
  int (*iallreduce)(int ch, const void* send, void* buf, int64_t count, int dtype, int op,
                    int64_t* req,
                    char* err, size_t errlen);
  int (*ibcast)(int ch, void* buf, int64_t bytes, int root, int64_t* req, char* err,
                size_t errlen);
  int (*ibarrier)(int ch, int64_t* req, char* err, size_t errlen);
  /* Point-to-point (dist_async). peer -1 in irecv: any source; tag -1: any tag. */
  int (*isend)(int ch, int peer, int tag, const void* buf, int64_t bytes, int64_t* req,
               char* err, size_t errlen);
  int (*irecv)(int ch, int peer, int tag, void* buf, int64_t bytes, int64_t* req, char* err,
               size_t errlen);
  /* Whether a message waits on channel ch (any source, any tag): *found = 1 and its source,
   * tag and size. A receive posted next for that source and tag gets that message (one
   * thread calls the transport, so nothing else can take it in between). */
  int (*iprobe)(int ch, int* found, int* src, int* tag, int64_t* bytes, char* err,
                size_t errlen);
  /* *done = 1 once the request has completed (it is then freed); for a receive, *src, *tag
   * and *bytes tell what arrived (any may be NULL). */
  int (*test)(int64_t req, int* done, int* src, int* tag, int64_t* bytes, char* err,
              size_t errlen);
  /* Heartbeats: sends them when due, reads the peers'. MXN_ERR_PEER_LOST when a peer has
   * been silent past the timeout or left the job while others still need it. */
  int (*progress)(char* err, size_t errlen);
  /* dist_async at exit: tells every peer this rank has finished (it joins no collective any
   * more) and starts a barrier on ch that every rank enters when it finishes; meanwhile the
   * rank keeps serving. A peer that has finished while this rank waits in another collective
   * makes `progress` fail with MXN_ERR_PEER_LOST (after a short grace), never a hang. */
  int (*finish)(int ch, int64_t* req, char* err, size_t errlen);
  /* Blocking MPI_Allreduce of count floats, iters times (bench/dist.py's baseline). */
  int (*bench_allreduce)(int64_t count, int iters, double* seconds, char* err, size_t errlen);
  /* Leaves the job: clean = 1 says goodbye to the peers and finalizes MPI; clean = 0 (after a
   * peer loss) leaves without the collective finalize, which could wait on the dead peer. */
  void (*finalize)(int clean);
} mxn_transport;

typedef const mxn_transport* (*mxn_transport_entry)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif
#endif /* MXNEXT_CORE_KVSTORE_TRANSPORT_H_ */
