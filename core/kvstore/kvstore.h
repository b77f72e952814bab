// KVStore `local` and `device` (DESIGN §6). Keys are strings (MXNet's int keys cross as their
// decimal text and are flagged as ints so an updater sees the int). init stores a copy of the
// value; push sums a list of values (one per device) into one buffer, then either hands it to
// the updater (set_optimizer / set_updater: updater(key, merged gradient, stored weight)) or
// stores it; pull copies the stored value into every output. Every copy and reduction is an
// engine operation pushed with the caller's priority, so communication of one key overlaps
// the computation of the others (Module pushes key i with priority -i).
//
// `local` keeps the stored values and reduces on cpu(0); `device` keeps each key on the device
// of the first value given at init and reduces there (CPU contexts act as devices).
//
// `dist_sync` / `dist_device_sync` (docs/architecture.md "Distributed KVStore") add a second
// level: after the local reduction, the merged gradient is summed across all workers by an
// allreduce (dist_comm.h; an asynchronous engine operation with the push's priority, on the
// key's own channel, so keys complete in any order and overlap the backward pass; arrays
// above MXNEXT_KVSTORE_BIGARRAY_BOUND elements go as several chunks); then every worker runs
// the same optimizer on the same sum, so weights stay identical. init broadcasts rank 0's
// value.
//
// `dist_async` (dist_async.h): the keys live in shards on servers (every rank serves its
// shard on its communication thread); push sends the local sum to the key's servers, which
// apply it at once with their optimizer (configured by set_optimizer from the optimizer's
// typed configuration); pull fetches the servers' current value.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor/ndarray.h"
#include "core/train/optimizer.h"

namespace mxn::kv {

struct Key {
  std::string name;
  bool is_int = false;
  int64_t index = 0;
};

struct Shard {
  int server = 0;
  int64_t offset = 0, count = 0;  // elements of the key
  bool operator==(const Shard& o) const {
    return server == o.server && offset == o.offset && count == o.count;
  }
};
class AsyncStore;

class KVStore {
 public:
  // Updater: (key, merged gradient, stored weight); updates the weight in place.
  using Updater = std::function<void(const Key& key, const NDArray& grad, const NDArray& weight)>;

  explicit KVStore(std::string type);
  ~KVStore();
  const std::string& type() const { return type_; }
  int rank() const { return rank_; }
  int num_workers() const { return num_workers_; }
  bool is_dist() const { return dist_; }
  bool is_async() const { return async_ != nullptr; }
  // Blocks until every worker has called it (kPeerLost / kTimeout, never a hang). dist_async:
  // first waits until this worker's pushes are acknowledged, so after the barrier every
  // push made before it by any worker is applied for every later pull.
  void barrier();
  // Sums (op 0), mins (1) or maxes (2) n int64 values across workers in place; blocks.
  void allreduce_int64(int64_t* values, int n, int op);
  // Mean seconds of the transport's own blocking allreduce of `count` floats (bench).
  double bench_transport_allreduce(int64_t count, int iters);

  void init(const Key& key, const NDArray& value);
  // values: one or more arrays (devices) for the key, summed before the update.
  void push(const Key& key, const std::vector<NDArray>& values, int priority);
  void pull(const Key& key, const std::vector<NDArray>& outs, int priority);
  // push then pull (outs may be the values themselves).
  void pushpull(const Key& key, const std::vector<NDArray>& values,
                const std::vector<NDArray>& outs, int priority);
  // init (once) from value, then pull into outs.
  void broadcast(const Key& key, const NDArray& value, const std::vector<NDArray>& outs,
                 int priority);

  void set_updater(Updater fn);
  void set_optimizer(std::shared_ptr<train::Optimizer> opt);
  const std::shared_ptr<train::Optimizer>& optimizer() const { return optimizer_; }
  // The optimizer's states (Optimizer::save_states) / load them; kInvalidArg without an
  // optimizer, and for dist_async (the states live on the servers).
  std::string save_optimizer_states() const;
  void load_optimizer_states(const void* data, size_t size);
  bool has_key(const std::string& name) const { return store_.count(name) != 0; }
  // The stored array (for inspection); kInvalidArg if the key was never initialised.
  NDArray stored(const Key& key) const;

 private:
  struct Slot {
    NDArray value;    // the stored weight / value (dist_async: the init value, unused)
    NDArray merged;   // reduction buffer (dist_async: also what pull receives into)
    int channel = -1; // dist: the key's channel
    int64_t key_id = -1;          // dist_async: init order
    std::vector<Shard> shards;    // dist_async: where the key lives
  };
  // source: the one pushed value, reduced straight into s.merged (nullptr: s.merged in place).
  void dist_allreduce(const Slot& s, int priority, const NDArray* source);
  Slot& slot(const Key& key, const char* what);
  void check_values(const Key& key, const Slot& s, const std::vector<NDArray>& v,
                    const char* what) const;

  std::string type_;
  bool dist_ = false;
  int rank_ = 0, num_workers_ = 1;
  int control_channel_ = -1;  // dist: barrier and allreduce_int64
  std::unique_ptr<AsyncStore> async_;
  int64_t next_key_id_ = 0;
  std::map<std::string, Slot> store_;
  Updater updater_;
  std::shared_ptr<train::Optimizer> optimizer_;
};

}  // namespace mxn::kv
