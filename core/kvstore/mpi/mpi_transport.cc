// libmxnext_mpi.so: the MPI transport of the dist_* KVStores (core/kvstore/transport.h).
// Built with MXN_USE_MPI=ON; libmxnext dlopens it when a dist kvstore is created. Called from
// one thread only (the core's communication thread).
//
// Faults: every communicator returns errors (MPI_ERRORS_RETURN) instead of aborting, every
// operation is non-blocking and polled by the caller, and heartbeats (a duplicated
// communicator, one small message per peer per interval, sent and read in `progress`) tell a
// silent peer: past the timeout it is MXN_ERR_PEER_LOST, never a hang.
//
// Two-level allreduce: at init the ranks are grouped into machines (same processor name, or
// MXNEXT_KV_LOCAL_SIZE consecutive ranks); each channel then also holds a communicator of its
// machine for the reduce, one for the broadcast, and (on the machine's leader, its lowest
// rank) one among the leaders. An allreduce is then a request of three stages, advanced by
// `test`: MPI_Ireduce to the leader, MPI_Iallreduce among the leaders, MPI_Ibcast from the
// leader. Each stage has a communicator of its own, so every communicator sees its operations
// started in the same order on every rank however the stages interleave.
#define OMPI_SKIP_MPICXX 1  // the C API only: no MPI C++ bindings to link
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/kvstore/transport.h"

namespace {

constexpr int kErrInvalidArg = 1;
constexpr int kErrPeerLost = 9;
constexpr int kErrTimeout = 10;
constexpr int kTagHeartbeat = 1;
constexpr int64_t kHbAlive = 1;
constexpr int64_t kHbBye = 2;
constexpr int64_t kHbFinishing = 3;  // dist_async: in the exit barrier, joins no collective

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

int fail(char* err, size_t n, int code, const char* fmt, ...) {
  if (err != nullptr && n > 0) {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(err, n, fmt, ap);
    va_end(ap);
  }
  return code;
}

std::string mpi_text(int rc) {
  char buf[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, buf, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(rc);
  return std::string(buf, static_cast<size_t>(len));
}

struct Req {
  MPI_Request r = MPI_REQUEST_NULL;
  bool collective = false;  // waits on every peer: a departed peer means it never completes
  double started = 0;
  // two-level allreduce: the stage now running (0 reduce, 1 leaders, 2 bcast, 3 done)
  int stage = -1, ch = -1;
  const void* send = nullptr;  // not yet reduced into buf (consumed by the first stage run)
  void* buf = nullptr;
  int count = 0;
  MPI_Datatype type = MPI_DATATYPE_NULL;
  MPI_Op op = MPI_OP_NULL;
};

struct Channel {
  MPI_Comm world = MPI_COMM_NULL;   // every rank: flat collectives, point-to-point
  MPI_Comm reduce = MPI_COMM_NULL;  // two-level: the machine (stage 0)
  MPI_Comm leaders = MPI_COMM_NULL; // two-level, leaders only (stage 1)
  MPI_Comm bcast = MPI_COMM_NULL;   // two-level: the machine (stage 2)
};

struct State {
  bool up = false;
  int rank = 0, size = 1;
  double hb_interval = 1.0, timeout = 10.0;
  // machines
  int num_hosts = 1, host = 0, local_rank = 0, local_size = 1;
  bool two_level = false;
  MPI_Comm local = MPI_COMM_NULL, leaders = MPI_COMM_NULL;
  std::vector<Channel> channels;
  MPI_Comm hb = MPI_COMM_NULL;
  std::unordered_map<int64_t, Req> reqs;
  int64_t next_req = 1;
  // heartbeats, per peer
  std::vector<int64_t> hb_in, hb_out;
  std::vector<MPI_Request> hb_recv, hb_send;
  std::vector<double> last_seen;
  std::vector<char> departed, finishing;
  double next_hb = 0;
  int collectives = 0;
  bool in_finish = false;     // this rank waits in the exit barrier
  double blocked_since = -1;  // since when a collective waits on a departed/finished peer
};
State g;

uint64_t fnv1a(const void* data, size_t n, uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

// Polls one request until it completes or `limit` seconds pass (init only: before the
// heartbeats run, the bound is the timeout itself).
int wait_bounded(MPI_Request* r, double limit, const char* what, char* err, size_t n) {
  const double end = now_s() + limit;
  for (;;) {
    int flag = 0;
    const int rc = MPI_Test(r, &flag, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
      return fail(err, n, kErrPeerLost, "%s failed: %s", what, mpi_text(rc).c_str());
    }
    if (flag) return 0;
    if (now_s() > end) {
      return fail(err, n, kErrTimeout, "%s: no answer from every peer within %.1f s", what,
                  limit);
    }
  }
}

int64_t add_req(MPI_Request r, bool collective) {
  Req q;
  q.r = r;
  q.collective = collective;
  q.started = now_s();
  if (collective) ++g.collectives;
  const int64_t id = g.next_req++;
  g.reqs.emplace(id, q);
  return id;
}

MPI_Datatype mpi_type(int dtype) {
  switch (dtype) {
    case MXN_TDTYPE_F32: return MPI_FLOAT;
    case MXN_TDTYPE_F64: return MPI_DOUBLE;
    case MXN_TDTYPE_I64: return MPI_INT64_T;
    default: return MPI_DATATYPE_NULL;
  }
}

MPI_Op mpi_op(int op) {
  switch (op) {
    case MXN_TOP_SUM: return MPI_SUM;
    case MXN_TOP_MIN: return MPI_MIN;
    case MXN_TOP_MAX: return MPI_MAX;
    default: return MPI_OP_NULL;
  }
}

MPI_Comm channel_of(int ch) {
  if (ch < 0 || static_cast<size_t>(ch) >= g.channels.size()) return MPI_COMM_NULL;
  return g.channels[static_cast<size_t>(ch)].world;
}

int new_comm(MPI_Comm* out, char* err, size_t n, MPI_Comm from = MPI_COMM_WORLD) {
  MPI_Request r;
  int rc = MPI_Comm_idup(from, out, &r);
  if (rc != MPI_SUCCESS) return fail(err, n, kErrPeerLost, "MPI_Comm_idup: %s", mpi_text(rc).c_str());
  rc = wait_bounded(&r, g.timeout, "creating a channel (MPI_Comm_idup)", err, n);
  if (rc != 0) return rc;
  MPI_Comm_set_errhandler(*out, MPI_ERRORS_RETURN);
  return 0;
}

void post_hb_recv(int p) {
  MPI_Irecv(&g.hb_in[static_cast<size_t>(p)], 1, MPI_INT64_T, p, kTagHeartbeat, g.hb,
            &g.hb_recv[static_cast<size_t>(p)]);
}

// Groups the ranks into machines: every rank's machine name (its processor name, or a
// made-up one per MXNEXT_KV_LOCAL_SIZE consecutive ranks) is gathered with a bounded
// non-blocking allgather; then the machine and leader communicators are split. MPI_Comm_split
// blocks, but it runs only once the allgather has shown every rank alive and here.
int init_topology(const mxn_transport_options* o, char* err, size_t n) {
  constexpr int kName = 128;
  char mine[kName] = {0};
  if (o->local_size > 0) {
    std::snprintf(mine, sizeof mine, "machine-%d", g.rank / o->local_size);
  } else {
    char pn[MPI_MAX_PROCESSOR_NAME + 1] = {0};
    int len = 0;
    MPI_Get_processor_name(pn, &len);
    std::snprintf(mine, sizeof mine, "%s", pn);
  }
  std::vector<char> all(static_cast<size_t>(g.size) * kName);
  MPI_Request r;
  MPI_Iallgather(mine, kName, MPI_CHAR, all.data(), kName, MPI_CHAR, g.hb, &r);
  int rc = wait_bounded(&r, g.timeout, "joining the job (machines)", err, n);
  if (rc != 0) return rc;
  std::vector<std::string> hosts;
  std::vector<int> host_of(static_cast<size_t>(g.size));
  std::vector<int> ranks_on;
  for (int p = 0; p < g.size; ++p) {
    const std::string h(&all[static_cast<size_t>(p) * kName], strnlen(&all[static_cast<size_t>(p) * kName], kName));
    size_t k = 0;
    while (k < hosts.size() && hosts[k] != h) ++k;
    if (k == hosts.size()) {
      hosts.push_back(h);
      ranks_on.push_back(0);
    }
    host_of[static_cast<size_t>(p)] = static_cast<int>(k);
    ++ranks_on[k];
  }
  g.num_hosts = static_cast<int>(hosts.size());
  g.host = host_of[static_cast<size_t>(g.rank)];
  g.local_size = ranks_on[static_cast<size_t>(g.host)];
  g.local_rank = 0;
  int widest = 1;
  for (int p = 0; p < g.size; ++p) {
    if (p < g.rank && host_of[static_cast<size_t>(p)] == g.host) ++g.local_rank;
  }
  for (int c : ranks_on) widest = c > widest ? c : widest;
  g.two_level = o->reduce == MXN_TREDUCE_TWO_LEVEL ||
                (o->reduce == MXN_TREDUCE_AUTO && g.num_hosts > 1 && widest > 1);
  if (!g.two_level) return 0;
  rc = MPI_Comm_split(MPI_COMM_WORLD, g.host, g.rank, &g.local);
  if (rc == MPI_SUCCESS) {
    rc = MPI_Comm_split(MPI_COMM_WORLD, g.local_rank == 0 ? 0 : MPI_UNDEFINED, g.rank,
                        &g.leaders);
  }
  if (rc != MPI_SUCCESS) return fail(err, n, kErrPeerLost, "MPI_Comm_split: %s", mpi_text(rc).c_str());
  MPI_Comm_set_errhandler(g.local, MPI_ERRORS_RETURN);
  if (g.leaders != MPI_COMM_NULL) MPI_Comm_set_errhandler(g.leaders, MPI_ERRORS_RETURN);
  return 0;
}

int t_init(const mxn_transport_options* o, int* rank, int* size, char* err, size_t n) {
  if (g.up) return fail(err, n, kErrInvalidArg, "the MPI transport is initialized already");
  if (o == nullptr) return fail(err, n, kErrInvalidArg, "no transport options");
  const char* token = o->token;
  const double heartbeat_s = o->heartbeat_s, timeout_s = o->timeout_s;
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) {
    int provided = 0;
    const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return fail(err, n, kErrPeerLost, "MPI_Init_thread failed");
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &g.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g.size);
  g.hb_interval = heartbeat_s > 0 ? heartbeat_s : 1.0;
  g.timeout = timeout_s > 0 ? timeout_s : 10.0;
  int rc = new_comm(&g.hb, err, n);
  if (rc != 0) return rc;

  // Job token: rank 0 draws a nonce; every rank hashes nonce + token (the token itself never
  // travels) and every rank compares all hashes, so all agree whether someone lacks it.
  uint64_t nonce = 0;
  if (g.rank == 0) {
    FILE* f = std::fopen("/dev/urandom", "rb");
    if (f == nullptr || std::fread(&nonce, sizeof nonce, 1, f) != 1) {
      nonce = static_cast<uint64_t>(now_s() * 1e9);
    }
    if (f != nullptr) std::fclose(f);
  }
  MPI_Request r;
  MPI_Ibcast(&nonce, 1, MPI_UINT64_T, 0, g.hb, &r);
  rc = wait_bounded(&r, g.timeout, "joining the job (nonce)", err, n);
  if (rc != 0) return rc;
  const std::string tok = token ? token : "";
  uint64_t mine = fnv1a(&nonce, sizeof nonce, 14695981039346656037ull);
  mine = fnv1a(tok.data(), tok.size(), mine);
  mine = fnv1a(&nonce, sizeof nonce, mine);
  std::vector<uint64_t> all(static_cast<size_t>(g.size));
  MPI_Iallgather(&mine, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, g.hb, &r);
  rc = wait_bounded(&r, g.timeout, "joining the job (token)", err, n);
  if (rc != 0) return rc;
  std::string bad;
  for (int p = 0; p < g.size; ++p) {
    if (all[static_cast<size_t>(p)] != all[0]) bad += (bad.empty() ? "" : ", ") + std::to_string(p);
  }
  if (!bad.empty()) {
    return fail(err, n, kErrInvalidArg,
                "job token mismatch: rank(s) %s do not hold rank 0's MXNEXT_JOB_TOKEN; the job "
                "is refused (start every process with the same token: python -m mxnext.launch)",
                bad.c_str());
  }

  rc = init_topology(o, err, n);
  if (rc != 0) return rc;

  const auto P = static_cast<size_t>(g.size);
  g.hb_in.assign(P, 0);
  g.hb_out.assign(P, kHbAlive);
  g.hb_recv.assign(P, MPI_REQUEST_NULL);
  g.hb_send.assign(P, MPI_REQUEST_NULL);
  g.last_seen.assign(P, now_s());
  g.departed.assign(P, 0);
  g.finishing.assign(P, 0);
  for (int p = 0; p < g.size; ++p) {
    if (p != g.rank) post_hb_recv(p);
  }
  g.next_hb = 0;
  g.up = true;
  *rank = g.rank;
  *size = g.size;
  return 0;
}

void t_topology(int* num_hosts, int* host, int* local_rank, int* local_size, int* two_level) {
  if (num_hosts) *num_hosts = g.num_hosts;
  if (host) *host = g.host;
  if (local_rank) *local_rank = g.local_rank;
  if (local_size) *local_size = g.local_size;
  if (two_level) *two_level = g.two_level ? 1 : 0;
}

int t_channel(int* out, char* err, size_t n) {
  Channel c;
  int rc = new_comm(&c.world, err, n);
  if (rc == 0 && g.two_level) {
    rc = new_comm(&c.reduce, err, n, g.local);
    if (rc == 0 && g.leaders != MPI_COMM_NULL) rc = new_comm(&c.leaders, err, n, g.leaders);
    if (rc == 0) rc = new_comm(&c.bcast, err, n, g.local);
  }
  if (rc != 0) return rc;
  g.channels.push_back(c);
  *out = static_cast<int>(g.channels.size() - 1);
  return 0;
}

// Starts the next stage of a two-level allreduce (none left: q.stage = 3, q.r null).
int start_stage(Req& q, char* err, size_t n) {
  const Channel& c = g.channels[static_cast<size_t>(q.ch)];
  int rc = MPI_SUCCESS;
  q.r = MPI_REQUEST_NULL;
  for (++q.stage; q.stage < 3; ++q.stage) {
    const void* in = q.send != nullptr ? q.send : MPI_IN_PLACE;
    if (q.stage == 0) {
      if (g.local_size == 1) continue;
      rc = g.local_rank == 0
               ? MPI_Ireduce(in, q.buf, q.count, q.type, q.op, 0, c.reduce, &q.r)
               : MPI_Ireduce(q.send != nullptr ? q.send : q.buf, nullptr, q.count, q.type,
                             q.op, 0, c.reduce, &q.r);
    } else if (q.stage == 1) {
      if (c.leaders == MPI_COMM_NULL || g.num_hosts == 1) continue;
      rc = MPI_Iallreduce(in, q.buf, q.count, q.type, q.op, c.leaders, &q.r);
    } else {
      if (g.local_size == 1) continue;
      rc = MPI_Ibcast(q.buf, q.count, q.type, 0, c.bcast, &q.r);
    }
    q.send = nullptr;
    break;
  }
  if (q.stage >= 3 && q.send != nullptr) {  // one rank alone: nothing ran
    MPI_Aint lb = 0, extent = 0;
    MPI_Type_get_extent(q.type, &lb, &extent);
    std::memcpy(q.buf, q.send, static_cast<size_t>(q.count) * static_cast<size_t>(extent));
    q.send = nullptr;
  }
  if (rc != MPI_SUCCESS) {
    return fail(err, n, kErrPeerLost, "two-level allreduce (stage %d): %s", q.stage,
                mpi_text(rc).c_str());
  }
  return 0;
}

int t_iallreduce(int ch, const void* send, void* buf, int64_t count, int dtype, int op,
                 int64_t* req, char* err, size_t n) {
  MPI_Comm c = channel_of(ch);
  if (c == MPI_COMM_NULL || mpi_type(dtype) == MPI_DATATYPE_NULL || mpi_op(op) == MPI_OP_NULL ||
      count < 0 || count > INT32_MAX) {
    return fail(err, n, kErrInvalidArg, "iallreduce: bad channel, dtype, op or count");
  }
  if (g.two_level) {
    Req q;
    q.collective = true;
    q.started = now_s();
    q.ch = ch;
    q.send = send;
    q.buf = buf;
    q.count = static_cast<int>(count);
    q.type = mpi_type(dtype);
    q.op = mpi_op(op);
    const int rc = start_stage(q, err, n);
    if (rc != 0) return rc;
    ++g.collectives;
    const int64_t id = g.next_req++;
    g.reqs.emplace(id, q);
    *req = id;
    return 0;
  }
  MPI_Request r;
  const int rc = MPI_Iallreduce(send != nullptr ? send : MPI_IN_PLACE, buf,
                                static_cast<int>(count), mpi_type(dtype), mpi_op(op), c, &r);
  if (rc != MPI_SUCCESS) return fail(err, n, kErrPeerLost, "MPI_Iallreduce: %s", mpi_text(rc).c_str());
  *req = add_req(r, true);
  return 0;
}

int t_ibcast(int ch, void* buf, int64_t bytes, int root, int64_t* req, char* err, size_t n) {
  MPI_Comm c = channel_of(ch);
  if (c == MPI_COMM_NULL || bytes < 0 || bytes > INT32_MAX) {
    return fail(err, n, kErrInvalidArg, "ibcast: bad channel or size");
  }
  MPI_Request r;
  const int rc = MPI_Ibcast(buf, static_cast<int>(bytes), MPI_BYTE, root, c, &r);
  if (rc != MPI_SUCCESS) return fail(err, n, kErrPeerLost, "MPI_Ibcast: %s", mpi_text(rc).c_str());
  *req = add_req(r, true);
  return 0;
}

int t_ibarrier(int ch, int64_t* req, char* err, size_t n) {
  MPI_Comm c = channel_of(ch);
  if (c == MPI_COMM_NULL) return fail(err, n, kErrInvalidArg, "ibarrier: bad channel");
  MPI_Request r;
  const int rc = MPI_Ibarrier(c, &r);
  if (rc != MPI_SUCCESS) return fail(err, n, kErrPeerLost, "MPI_Ibarrier: %s", mpi_text(rc).c_str());
  *req = add_req(r, true);
  return 0;
}

int t_isend(int ch, int peer, int tag, const void* buf, int64_t bytes, int64_t* req, char* err,
            size_t n) {
  MPI_Comm c = channel_of(ch);
  if (c == MPI_COMM_NULL || peer < 0 || peer >= g.size || bytes < 0 || bytes > INT32_MAX) {
    return fail(err, n, kErrInvalidArg, "isend: bad channel, peer or size");
  }
  MPI_Request r;
  const int rc = MPI_Isend(buf, static_cast<int>(bytes), MPI_BYTE, peer, tag, c, &r);
  if (rc != MPI_SUCCESS) return fail(err, n, kErrPeerLost, "MPI_Isend: %s", mpi_text(rc).c_str());
  *req = add_req(r, false);
  return 0;
}

int t_irecv(int ch, int peer, int tag, void* buf, int64_t bytes, int64_t* req, char* err,
            size_t n) {
  MPI_Comm c = channel_of(ch);
  if (c == MPI_COMM_NULL || peer < -1 || peer >= g.size || bytes < 0 || bytes > INT32_MAX) {
    return fail(err, n, kErrInvalidArg, "irecv: bad channel, peer or size");
  }
  MPI_Request r;
  const int rc = MPI_Irecv(buf, static_cast<int>(bytes), MPI_BYTE, peer < 0 ? MPI_ANY_SOURCE : peer,
                           tag < 0 ? MPI_ANY_TAG : tag, c, &r);
  if (rc != MPI_SUCCESS) return fail(err, n, kErrPeerLost, "MPI_Irecv: %s", mpi_text(rc).c_str());
  *req = add_req(r, false);
  return 0;
}

int t_iprobe(int ch, int* found, int* src, int* tag, int64_t* bytes, char* err, size_t n) {
  MPI_Comm c = channel_of(ch);
  if (c == MPI_COMM_NULL) return fail(err, n, kErrInvalidArg, "iprobe: bad channel");
  int flag = 0;
  MPI_Status st;
  const int rc = MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, c, &flag, &st);
  if (rc != MPI_SUCCESS) return fail(err, n, kErrPeerLost, "MPI_Iprobe: %s", mpi_text(rc).c_str());
  *found = flag;
  if (flag) {
    int cnt = 0;
    MPI_Get_count(&st, MPI_BYTE, &cnt);
    if (src) *src = st.MPI_SOURCE;
    if (tag) *tag = st.MPI_TAG;
    if (bytes) *bytes = cnt;
  }
  return 0;
}

int t_test(int64_t id, int* done, int* src, int* tag, int64_t* bytes, char* err, size_t n) {
  auto it = g.reqs.find(id);
  if (it == g.reqs.end()) return fail(err, n, kErrInvalidArg, "test: unknown request %lld", (long long)id);
  int flag = 0;
  MPI_Status st;
  int rc = MPI_Test(&it->second.r, &flag, &st);
  // A two-level allreduce: each finished stage starts the next; done after the last.
  while (rc == MPI_SUCCESS && flag && it->second.stage >= 0 && it->second.stage < 3) {
    const int src_rc = start_stage(it->second, err, n);
    if (src_rc != 0) {
      --g.collectives;
      g.reqs.erase(it);
      return src_rc;
    }
    if (it->second.stage >= 3) break;
    rc = MPI_Test(&it->second.r, &flag, &st);
  }
  if (rc != MPI_SUCCESS) {
    if (it->second.collective) --g.collectives;
    g.reqs.erase(it);
    return fail(err, n, kErrPeerLost, "communication failed: %s", mpi_text(rc).c_str());
  }
  *done = flag;
  if (flag) {
    if (src) *src = st.MPI_SOURCE;
    if (tag) *tag = st.MPI_TAG;
    if (bytes) {
      int cnt = 0;
      MPI_Get_count(&st, MPI_BYTE, &cnt);
      *bytes = cnt;
    }
    if (it->second.collective) --g.collectives;
    g.reqs.erase(it);
  }
  return 0;
}

int t_progress(char* err, size_t n) {
  if (!g.up) return 0;
  const double t = now_s();
  if (t >= g.next_hb) {
    for (int p = 0; p < g.size; ++p) {
      const auto i = static_cast<size_t>(p);
      if (p == g.rank || g.departed[i]) continue;
      int flag = 1;
      if (g.hb_send[i] != MPI_REQUEST_NULL) MPI_Test(&g.hb_send[i], &flag, MPI_STATUS_IGNORE);
      if (flag) MPI_Isend(&g.hb_out[i], 1, MPI_INT64_T, p, kTagHeartbeat, g.hb, &g.hb_send[i]);
    }
    g.next_hb = t + g.hb_interval;
  }
  for (int p = 0; p < g.size; ++p) {
    const auto i = static_cast<size_t>(p);
    if (p == g.rank || g.departed[i]) continue;
    for (int k = 0; k < 64; ++k) {  // drain what arrived
      int flag = 0;
      if (MPI_Test(&g.hb_recv[i], &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS || !flag) break;
      g.last_seen[i] = t;
      if (g.hb_in[i] == kHbBye) {
        g.departed[i] = 1;
        break;
      }
      if (g.hb_in[i] == kHbFinishing) g.finishing[i] = 1;
      post_hb_recv(p);
    }
  }
  // A collective that waits on a peer which has left (or, dist_async, finished: it joins no
  // collective any more) can never complete. A short grace lets one that did complete on the
  // peer's side (it left right after) be seen completing here first.
  int blocking = -1;
  for (int p = 0; p < g.size && blocking < 0; ++p) {
    const auto i = static_cast<size_t>(p);
    if (p == g.rank) continue;
    if ((g.departed[i] && (g.collectives > 0 || g.in_finish)) ||
        (g.finishing[i] && g.collectives > 0)) {
      blocking = p;
    }
  }
  if (blocking < 0) {
    g.blocked_since = -1;
  } else if (g.blocked_since < 0) {
    g.blocked_since = t;
  } else if (t - g.blocked_since > g.timeout / 5) {
    return fail(err, n, kErrPeerLost,
                "rank %d has %s while rank %d still waits on it in a collective operation "
                "(do all workers call barrier and the other collective kvstore calls the same "
                "number of times?)",
                blocking, g.departed[static_cast<size_t>(blocking)] ? "left the job" : "finished",
                g.rank);
  }
  for (int p = 0; p < g.size; ++p) {
    const auto i = static_cast<size_t>(p);
    if (p == g.rank || g.departed[i]) continue;
    if (t - g.last_seen[i] > g.timeout) {
      return fail(err, n, kErrPeerLost,
                  "rank %d is lost: no heartbeat for %.1f s (timeout %.1f s, "
                  "MXNEXT_KV_TIMEOUT)",
                  p, t - g.last_seen[i], g.timeout);
    }
  }
  return 0;
}

int t_finish(int ch, int64_t* req, char* err, size_t n) {
  MPI_Comm c = channel_of(ch);
  if (c == MPI_COMM_NULL) return fail(err, n, kErrInvalidArg, "finish: bad channel");
  for (auto& v : g.hb_out) v = kHbFinishing;
  g.next_hb = 0;  // tell the peers at the next progress
  MPI_Request r;
  const int rc = MPI_Ibarrier(c, &r);
  if (rc != MPI_SUCCESS) return fail(err, n, kErrPeerLost, "MPI_Ibarrier: %s", mpi_text(rc).c_str());
  *req = add_req(r, false);  // not counted: peers that finished are expected to be in it
  g.in_finish = true;
  return 0;
}

int t_bench_allreduce(int64_t count, int iters, double* seconds, char* err, size_t n) {
  if (count < 0 || count > INT32_MAX || iters < 1) return fail(err, n, kErrInvalidArg, "bad count");
  std::vector<float> buf(static_cast<size_t>(count), 1.0f);
  MPI_Comm c;
  int rc = new_comm(&c, err, n);
  if (rc != 0) return rc;
  MPI_Barrier(c);
  const double t0 = MPI_Wtime();
  for (int i = 0; i < iters; ++i) {
    rc = MPI_Allreduce(MPI_IN_PLACE, buf.data(), static_cast<int>(count), MPI_FLOAT, MPI_SUM, c);
    if (rc != MPI_SUCCESS) break;
  }
  *seconds = (MPI_Wtime() - t0) / iters;
  MPI_Comm_free(&c);
  if (rc != MPI_SUCCESS) return fail(err, n, kErrPeerLost, "MPI_Allreduce: %s", mpi_text(rc).c_str());
  return 0;
}

// Tells the peers this rank leaves (each then stops waiting for it). After a failure, only
// the peers heard from lately: a dead one is not written to.
void say_goodbye(bool only_alive) {
  static int64_t bye = kHbBye;
  const double t = now_s();
  for (int p = 0; p < g.size; ++p) {
    const auto i = static_cast<size_t>(p);
    if (p == g.rank || g.departed[i]) continue;
    if (only_alive && t - g.last_seen[i] > g.timeout / 2) continue;
    MPI_Request r;
    if (MPI_Isend(&bye, 1, MPI_INT64_T, p, kTagHeartbeat, g.hb, &r) == MPI_SUCCESS) {
      MPI_Request_free(&r);
    }
  }
}

void t_finalize(int clean) {
  if (!g.up) return;
  g.up = false;
  if (!clean) {
    // MPI_Finalize is collective and could wait on a dead peer: leave without it, but let
    // the live peers know at once rather than after their heartbeat timeout.
    say_goodbye(true);
    return;
  }
  say_goodbye(false);
  for (int p = 0; p < g.size; ++p) {
    const auto i = static_cast<size_t>(p);
    if (p == g.rank || g.hb_recv[i] == MPI_REQUEST_NULL) continue;
    MPI_Cancel(&g.hb_recv[i]);
    MPI_Request_free(&g.hb_recv[i]);
  }
  MPI_Finalize();
}

const mxn_transport kTransport = {
    sizeof(mxn_transport), MXN_TRANSPORT_VERSION, "mpi",
    t_init, t_topology, t_channel, t_iallreduce, t_ibcast, t_ibarrier, t_isend, t_irecv,
    t_iprobe, t_test, t_progress, t_finish, t_bench_allreduce, t_finalize,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const mxn_transport* mxn_transport_mpi_v1(void) {
  return &kTransport;
}
