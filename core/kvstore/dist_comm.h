// The communication layer of the dist_* KVStores (docs/architecture.md "Distributed
// KVStore"). One per process: it dlopens the transport backend (libmxnext_mpi.so,
// core/kvstore/transport.h), and runs one communication thread that alone calls it: it starts
// the operations handed to it, polls them and the heartbeats, and reports completion through
// callbacks (which an asynchronous engine operation turns into the end of the operation, so
// no engine worker waits on the network). Every wait is bounded: a lost peer is
// ErrorCode::kPeerLost on every pending and later operation, an operation that no peer
// matches for MXNEXT_KV_OP_TIMEOUT seconds is ErrorCode::kTimeout.
#pragma once
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace mxn::kv {

struct DistBuffer {
  void* data;
  int64_t count;
  int dtype;  // MXN_TDTYPE_*
};

class DistComm {
 public:
  using Done = std::function<void(std::exception_ptr)>;

  // The process's communicator; the first call joins the job (kNotImplemented without the
  // backend, kInvalidArg on a job token mismatch, kPeerLost / kTimeout when peers fail).
  static DistComm& get();

  virtual ~DistComm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const std::string& backend() const = 0;
  // A new channel (collective, in the same order on every rank); blocks.
  virtual int new_channel() = 0;
  // Asynchronous: the buffers (chunks) are reduced in place with op (MXN_TOP_*), in order on
  // channel ch; done is called once, from the communication thread.
  virtual void allreduce(int ch, std::vector<DistBuffer> bufs, int op, Done done) = 0;
  virtual void bcast(int ch, void* data, int64_t bytes, int root, Done done) = 0;
  // Blocking versions (bounded as above).
  void allreduce_sync(int ch, std::vector<DistBuffer> bufs, int op);
  void bcast_sync(int ch, void* data, int64_t bytes, int root);
  virtual void barrier(int ch) = 0;
  // Mean seconds of the backend's own blocking allreduce of count floats.
  virtual double bench_allreduce(int64_t count, int iters) = 0;
  // The failure that stopped the communicator (null while healthy).
  virtual std::exception_ptr failure() const = 0;
};

}  // namespace mxn::kv
