// dist_async (docs/architecture.md "Distributed KVStore"): MXNet's asynchronous parameter
// server on the transport's point-to-point messages.
//
// Roles: every rank is a worker and also the server of a shard of the keys. Its server runs
// on the process's communication thread (dist_comm.h), which alone calls MPI
// (MPI_THREAD_FUNNELED is all the library asks for): messages arriving for this rank's shards
// are handled there, the optimizer's update of a shard is queued on the engine (never run by
// user code), and pulls are answered once the updates queued before them have run. A rank
// serves until every rank has finished (at exit it waits in a barrier while still serving),
// as MXNet's DMLC_ROLE=server processes do until the workers stop.
//
// Placement (MXNet's EncodeDefaultKey): an array of fewer than MXNEXT_KVSTORE_BIGARRAY_BOUND
// elements (MXNET_KVSTORE_BIGARRAY_BOUND also read; default 10^6) lives whole on server
// (hash * 9973) mod num_servers, hash being an int key itself or the FNV-1a hash of a string
// key's name; a larger one is split across all servers, server i holding elements
// [round(n*i/S), round(n*(i+1)/S)).
//
// Protocol (one channel per store, every message a Head then its bytes):
//   init      rank 0 sends each shard its initial value (INIT), waits for the ACKs; then
//             every worker waits in a barrier, so a pull after init sees the value.
//   set_optimizer  rank 0 sends the optimizer's configuration (Optimizer::config: name and
//             typed parameters, never code) to every server (SETOPT), waits for the ACKs; then
//             a barrier. Each server builds its own optimizer from it with the registry.
//   push      the worker's local sum goes to each shard (PUSH); the server queues the update
//             (or, without an optimizer, makes the value the stored one) and ACKs; the push's
//             engine operation ends at the ACKs. A worker's push and pull of one key use the
//             same buffer, so its pull starts after its push was acknowledged: a pull after
//             my own push sees my update.
//   pull      PULL to each shard; the server answers (DATA) after the updates queued before.
// Every request waits under the transport's bounds: a lost peer fails it with kPeerLost, a
// request unanswered for MXNEXT_KV_OP_TIMEOUT seconds with kTimeout.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/kvstore/kvstore.h"
#include "core/tensor/ndarray.h"

namespace mxn::kv {

// The hash that places a small key: an int key's value, a string key's FNV-1a 64.
uint64_t key_hash(const Key& key);
// Where the `size` elements of a key live on `num_servers` servers (see above).
std::vector<Shard> place_key(uint64_t hash, int64_t size, int num_servers, int64_t bound);
// MXNEXT_KVSTORE_BIGARRAY_BOUND, else MXNET_KVSTORE_BIGARRAY_BOUND, else 10^6.
int64_t bigarray_bound();

class AsyncEndpoint;

// The dist_async part of a KVStore: this rank's server for the store's channel and the
// worker's requests. Created collectively (every rank, same order).
class AsyncStore {
 public:
  AsyncStore(int channel, int rank, int size);
  // Rank 0 sends value's shards to their servers; every rank then waits in `barrier`.
  void init(int64_t key_id, const Key& key, const NDArray& value, const std::vector<Shard>& shards);
  // Rank 0 configures every server with the optimizer's configuration bytes.
  void set_optimizer(const std::string& config);
  // Engine operations: push reads `merged` and sends it; pull writes `merged` from the servers.
  void push(int64_t key_id, const NDArray& merged, const std::vector<Shard>& shards,
            int priority);
  void pull(int64_t key_id, const NDArray& merged, const std::vector<Shard>& shards,
            int priority);

 private:
  std::shared_ptr<AsyncEndpoint> ep_;
};

}  // namespace mxn::kv
