// The communication layer of the dist_* KVStores (docs/architecture.md "Distributed
// KVStore"). One per process: it dlopens the transport backend (libmxnext_mpi.so,
// core/kvstore/transport.h), and runs one communication thread that alone calls it: it starts
// the operations handed to it, polls them and the heartbeats, and reports completion through
// callbacks (which an asynchronous engine operation turns into the end of the operation, so
// no engine worker waits on the network). Every wait is bounded: a lost peer is
// ErrorCode::kPeerLost on every pending and later operation, an operation that no peer
// matches for MXNEXT_KV_OP_TIMEOUT seconds is ErrorCode::kTimeout.
//
// dist_async (dist_async.h) adds point-to-point messages: a channel can be listened to (each
// message that arrives on it goes to a handler, on the communication thread, in the order
// each sender sent them); `run` starts an operation on the communication thread that may send
// and stay open ("hold") until a handler releases it, e.g. when a reply has arrived.
#pragma once
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mxn::kv {

struct DistBuffer {
  void* data;
  int64_t count;
  int dtype;                   // MXN_TDTYPE_*
  const void* send = nullptr;  // allreduce: reduce this into data (nullptr: data in place)
};

struct Topology {
  int num_hosts = 1, host = 0, local_rank = 0, local_size = 1;
  bool two_level = false;
};

// What an operation started by DistComm::run may do (on the communication thread, while fn
// runs): send messages (the operation completes once they are sent) and hold it open.
class CommOp {
 public:
  virtual ~CommOp() = default;
  virtual void send(int ch, int peer, int tag, std::shared_ptr<const std::string> msg) = 0;
  // The operation stays open until release(id) is called; returns id.
  virtual int64_t hold() = 0;
};

class DistComm {
 public:
  using Done = std::function<void(std::exception_ptr)>;
  using Handler = std::function<void(int src, std::string msg)>;

  // The process's communicator; the first call joins the job (kNotImplemented without the
  // backend, kInvalidArg on a job token mismatch, kPeerLost / kTimeout when peers fail).
  static DistComm& get();

  virtual ~DistComm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const std::string& backend() const = 0;
  virtual Topology topology() const = 0;
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

  // Point-to-point (dist_async). Every message arriving on channel ch goes to h, on the
  // communication thread; messages from one sender arrive in the order it sent them.
  virtual void listen(int ch, Handler h) = 0;
  // Runs fn on the communication thread; done is called once its sends have completed and
  // its hold (if it took one) is released, or with the failure (peer lost, timeout).
  virtual void run(std::function<void(CommOp&)> fn, Done done) = 0;
  void run_sync(std::function<void(CommOp&)> fn);
  // Ends a hold (communication thread only, e.g. from a handler); err fails the operation.
  // An unknown id (the operation already failed) is ignored.
  virtual void release(int64_t hold, std::exception_ptr err) = 0;
  // Sends a message that belongs to no operation (a server's reply), from any thread.
  virtual void post(int ch, int peer, int tag, std::shared_ptr<const std::string> msg) = 0;
  // At exit, before leaving the job, wait in a barrier on ch while still serving messages,
  // with no time limit but the peers' heartbeats: dist_async ranks serve their shards until
  // every rank is done. Collective like new_channel.
  virtual void serve_until_all_done(int ch) = 0;
  // The failure that stopped the communicator (null while healthy).
  virtual std::exception_ptr failure() const = 0;
};

}  // namespace mxn::kv
