#include "core/kvstore/dist_async.h"

#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "core/base/env.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/kvstore/dist_comm.h"
#include "core/kvstore/transport.h"
#include "core/train/optimizer.h"
#include "core/train/train_util.h"

namespace mxn::kv {

uint64_t key_hash(const Key& key) {
  if (key.is_int) return static_cast<uint64_t>(key.index);
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key.name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::vector<Shard> place_key(uint64_t hash, int64_t size, int num_servers, int64_t bound) {
  MXN_CHECK(num_servers >= 1 && size >= 0 && bound >= 1, ErrorCode::kInvalidArg,
            "place_key: num_servers ", num_servers, ", size ", size, ", bound ", bound);
  if (size < bound) {
    // MXNet: int server = (key * 9973) % num_servers (unsigned here: string hashes are 64 bit)
    return {Shard{static_cast<int>((hash * 9973ull) % static_cast<uint64_t>(num_servers)), 0,
                  size}};
  }
  std::vector<Shard> out;
  const double n = static_cast<double>(size), s = static_cast<double>(num_servers);
  for (int i = 0; i < num_servers; ++i) {
    const auto b = static_cast<int64_t>(std::round(n / s * i));
    const auto e = static_cast<int64_t>(std::round(n / s * (i + 1)));
    out.push_back(Shard{i, b, e - b});
  }
  return out;
}

int64_t bigarray_bound() {
  static const int64_t bound = [] {
    int64_t b = env_int("MXNEXT_KVSTORE_BIGARRAY_BOUND", -1);
    if (b <= 0) b = env_int("MXNET_KVSTORE_BIGARRAY_BOUND", -1);
    return b > 0 ? b : 1000000;
  }();
  return bound;
}

namespace {

constexpr uint32_t kMagic = 0x414b584d;  // "MXKA"
constexpr int kTag = 7;
constexpr int kServerPriority = 1 << 20;  // a server's work goes before the worker's own

enum Op : uint8_t { kInit = 1, kPush, kPull, kSetOpt, kAck, kData, kError };

struct Head {
  uint32_t magic = kMagic;
  uint8_t op = 0, dtype = 0, is_int = 0, pad = 0;
  int64_t key = 0;     // the key's id (init order in the store)
  int64_t req = 0;     // the requester's id, carried back by the answer
  int64_t offset = 0;  // the shard's elements within the key
  int64_t count = 0;
  int64_t index = 0;   // INIT: an int key's value
  uint32_t name_len = 0, pad2 = 0;  // INIT: the key's name follows the head
};

int tdtype(DType d) { return d == DType::kFloat32 ? MXN_TDTYPE_F32 : MXN_TDTYPE_F64; }
DType dtype_of(int t) { return t == MXN_TDTYPE_F32 ? DType::kFloat32 : DType::kFloat64; }
size_t esize(int t) { return t == MXN_TDTYPE_F32 ? 4 : 8; }

std::shared_ptr<std::string> message(const Head& h, const void* a, size_t na,
                                     const void* b = nullptr, size_t nb = 0) {
  auto m = std::make_shared<std::string>(sizeof(Head) + na + nb, '\0');
  std::memcpy(m->data(), &h, sizeof(Head));
  if (na) std::memcpy(m->data() + sizeof(Head), a, na);
  if (nb) std::memcpy(m->data() + sizeof(Head) + na, b, nb);
  return m;
}

}  // namespace

class AsyncEndpoint {
 public:
  AsyncEndpoint(int ch, int rank, int size) : ch_(ch), rank_(rank), size_(size) {}
  int channel() const { return ch_; }
  int64_t next_request() { return next_req_.fetch_add(1); }

  // Communication thread: the answers request `id` waits for (n of them; DATA is copied
  // into dest, which holds dest_count elements of esz bytes).
  void expect(int64_t id, int64_t hold, int n, char* dest, int64_t dest_count, size_t esz) {
    reqs_[id] = Request{hold, n, dest, dest_count, esz};
  }

  // Communication thread: one message from rank src.
  void handle(int src, std::string msg) {
    if (msg.size() < sizeof(Head)) return;
    Head h;
    std::memcpy(&h, msg.data(), sizeof(Head));
    if (h.magic != kMagic) return;
    const char* body = msg.data() + sizeof(Head);
    const size_t nbody = msg.size() - sizeof(Head);
    if (h.op == kAck || h.op == kData || h.op == kError) {
      answer(src, h, body, nbody);
      return;
    }
    try {
      serve(src, h, body, nbody);
    } catch (const std::exception& e) {
      reply(src, kError, h, e.what(), std::strlen(e.what()));
    }
  }

 private:
  struct Request {
    int64_t hold = 0;
    int remaining = 0;
    char* dest = nullptr;
    int64_t dest_count = 0;
    size_t esz = 0;
  };
  struct ServerShard {
    train::ParamKey key;
    int dtype = MXN_TDTYPE_F32;
    int64_t offset = 0, count = 0;
    NDArray weight;  // 1-d, the shard's elements
  };

  void reply(int dst, uint8_t op, const Head& req, const void* data, size_t n) {
    Head h;
    h.op = op;
    h.key = req.key;
    h.req = req.req;
    h.offset = req.offset;
    h.count = req.count;
    h.dtype = req.dtype;
    DistComm::get().post(ch_, dst, kTag, message(h, data, n));
  }

  ServerShard& shard(const Head& h) {
    auto it = shards_.find(h.key);
    MXN_CHECK(it != shards_.end(), ErrorCode::kInvalidArg, "dist_async: server rank ", rank_,
              " holds no shard of key id ", h.key, " (was it initialized on every worker?)");
    MXN_CHECK(it->second.offset == h.offset && it->second.count == h.count &&
                  it->second.dtype == h.dtype,
              ErrorCode::kInvalidArg, "dist_async: server rank ", rank_, ": key ",
              it->second.key.str(), " is held as elements [", it->second.offset, ", ",
              it->second.offset + it->second.count, "), asked for [", h.offset, ", ",
              h.offset + h.count, ")");
    return it->second;
  }

  void serve(int src, const Head& h, const char* body, size_t n) {
    switch (h.op) {
      case kInit: {
        MXN_CHECK(h.name_len <= n && h.count >= 0 &&
                      n - h.name_len == static_cast<size_t>(h.count) * esize(h.dtype),
                  ErrorCode::kFormat, "dist_async: malformed INIT");
        MXN_CHECK(shards_.count(h.key) == 0, ErrorCode::kInvalidArg,
                  "dist_async: key id ", h.key, " initialized twice");
        ServerShard s;
        std::string name(body, h.name_len);
        s.key = h.is_int ? train::ParamKey::of_index(h.index) : train::ParamKey::of_name(name);
        s.dtype = h.dtype;
        s.offset = h.offset;
        s.count = h.count;
        s.weight = NDArray::empty(Shape{h.count}, dtype_of(h.dtype), Device::cpu(0));
        std::memcpy(s.weight.data(), body + h.name_len, n - h.name_len);  // fresh: no readers
        shards_.emplace(h.key, std::move(s));
        reply(src, kAck, h, nullptr, 0);
        return;
      }
      case kSetOpt: {
        opt_ = train::Optimizer::from_config(body, n);
        reply(src, kAck, h, nullptr, 0);
        return;
      }
      case kPush: {
        ServerShard& s = shard(h);
        MXN_CHECK(n == static_cast<size_t>(h.count) * esize(h.dtype), ErrorCode::kFormat,
                  "dist_async: malformed PUSH");
        NDArray grad = NDArray::empty(Shape{h.count}, dtype_of(h.dtype), Device::cpu(0));
        std::memcpy(grad.data(), body, n);  // fresh: no readers
        if (opt_) {
          // Queued on the engine; the pull answered next is ordered after it (same weight).
          opt_->update(s.key, s.weight, grad);
        } else {
          s.weight = grad;  // no optimizer: the pushed value becomes the stored one
        }
        reply(src, kAck, h, nullptr, 0);
        return;
      }
      case kPull: {
        ServerShard& s = shard(h);
        const NDArray w = s.weight;
        Head a;
        a.op = kData;
        a.key = h.key;
        a.req = h.req;
        a.offset = h.offset;
        a.count = h.count;
        a.dtype = h.dtype;
        const int ch = ch_;
        train::push_fn("kvstore_async_serve_pull", {w}, {}, [w, a, ch, src] {
          DistComm::get().post(ch, src, kTag, message(a, w.data(), w.nbytes()));
        }, kServerPriority);
        return;
      }
      default:
        throw Error(ErrorCode::kFormat, cat("dist_async: unknown message ", int(h.op)));
    }
  }

  void answer(int src, const Head& h, const char* body, size_t n) {
    auto it = reqs_.find(h.req);
    if (it == reqs_.end()) return;  // its operation failed already
    Request& r = it->second;
    std::exception_ptr err;
    if (h.op == kError) {
      err = std::make_exception_ptr(
          Error(ErrorCode::kInvalidArg, cat("server rank ", src, ": ", std::string(body, n))));
    } else if (h.op == kData) {
      if (r.dest == nullptr || h.offset < 0 || h.count < 0 || h.offset + h.count > r.dest_count ||
          n != static_cast<size_t>(h.count) * r.esz) {
        err = std::make_exception_ptr(Error(
            ErrorCode::kFormat, cat("dist_async: server rank ", src, " answered elements [",
                                    h.offset, ", ", h.offset + h.count, ") with ", n,
                                    " bytes for an array of ", r.dest_count)));
      } else {
        std::memcpy(r.dest + static_cast<size_t>(h.offset) * r.esz, body, n);
      }
    }
    if (err || --r.remaining == 0) {
      const int64_t hold = r.hold;
      reqs_.erase(it);
      DistComm::get().release(hold, err);
    }
  }

  const int ch_, rank_, size_;
  std::atomic<int64_t> next_req_{1};
  // communication thread only
  std::unordered_map<int64_t, Request> reqs_;
  std::map<int64_t, ServerShard> shards_;
  std::shared_ptr<train::Optimizer> opt_;
};

AsyncStore::AsyncStore(int channel, int rank, int size)
    : ep_(std::make_shared<AsyncEndpoint>(channel, rank, size)) {
  // The handler keeps the endpoint (and the shards this rank serves) alive to the end: other
  // ranks may still push to them after this store is freed here.
  std::shared_ptr<AsyncEndpoint> ep = ep_;
  DistComm::get().listen(channel, [ep](int src, std::string msg) { ep->handle(src, std::move(msg)); });
}

void AsyncStore::init(int64_t key_id, const Key& key, const NDArray& value,
                      const std::vector<Shard>& shards) {
  value.wait_to_read();
  const int dt = tdtype(value.dtype());
  const size_t esz = esize(dt);
  std::vector<std::pair<int, std::shared_ptr<const std::string>>> msgs;
  const int64_t id = ep_->next_request();
  for (const Shard& s : shards) {
    Head h;
    h.op = kInit;
    h.dtype = static_cast<uint8_t>(dt);
    h.is_int = key.is_int ? 1 : 0;
    h.index = key.index;
    h.key = key_id;
    h.req = id;
    h.offset = s.offset;
    h.count = s.count;
    h.name_len = static_cast<uint32_t>(key.name.size());
    msgs.emplace_back(s.server, message(h, key.name.data(), key.name.size(),
                                        static_cast<const char*>(value.data()) + s.offset * esz,
                                        static_cast<size_t>(s.count) * esz));
  }
  std::shared_ptr<AsyncEndpoint> ep = ep_;
  DistComm::get().run_sync([&](CommOp& op) {
    ep->expect(id, op.hold(), static_cast<int>(msgs.size()), nullptr, 0, 0);
    for (auto& [server, m] : msgs) op.send(ep->channel(), server, kTag, m);
  });
}

void AsyncStore::set_optimizer(const std::string& config) {
  std::shared_ptr<AsyncEndpoint> ep = ep_;
  const int n = DistComm::get().size();
  const int64_t id = ep->next_request();
  Head h;
  h.op = kSetOpt;
  h.req = id;
  auto m = message(h, config.data(), config.size());
  DistComm::get().run_sync([&](CommOp& op) {
    ep->expect(id, op.hold(), n, nullptr, 0, 0);
    for (int server = 0; server < n; ++server) op.send(ep->channel(), server, kTag, m);
  });
}

void AsyncStore::push(int64_t key_id, const NDArray& merged, const std::vector<Shard>& shards,
                      int priority) {
  std::shared_ptr<AsyncEndpoint> ep = ep_;
  EngineVar* var = merged.var();
  PushOptions o;
  o.priority = priority;
  o.name = "kvstore_async_push";
  Engine::get().push_async(
      [ep, merged, shards, key_id](Engine::Done done) {
        const int dt = tdtype(merged.dtype());
        const size_t esz = esize(dt);
        const int64_t id = ep->next_request();
        std::vector<std::pair<int, std::shared_ptr<const std::string>>> msgs;
        for (const Shard& s : shards) {
          Head h;
          h.op = kPush;
          h.dtype = static_cast<uint8_t>(dt);
          h.key = key_id;
          h.req = id;
          h.offset = s.offset;
          h.count = s.count;
          msgs.emplace_back(s.server,
                            message(h, static_cast<const char*>(merged.data()) + s.offset * esz,
                                    static_cast<size_t>(s.count) * esz));
        }
        DistComm::get().run(
            [ep, id, msgs = std::move(msgs)](CommOp& op) {
              ep->expect(id, op.hold(), static_cast<int>(msgs.size()), nullptr, 0, 0);
              for (auto& [server, m] : msgs) op.send(ep->channel(), server, kTag, m);
            },
            std::move(done));
      },
      &var, 1, nullptr, 0, o);
}

void AsyncStore::pull(int64_t key_id, const NDArray& merged, const std::vector<Shard>& shards,
                      int priority) {
  std::shared_ptr<AsyncEndpoint> ep = ep_;
  EngineVar* var = merged.var();
  PushOptions o;
  o.priority = priority;
  o.name = "kvstore_async_pull";
  Engine::get().push_async(
      [ep, merged, shards, key_id](Engine::Done done) {
        DistComm::get().run(
            [ep, merged, shards, key_id](CommOp& op) {
              const int dt = tdtype(merged.dtype());
              const int64_t id = ep->next_request();
              ep->expect(id, op.hold(), static_cast<int>(shards.size()),
                         static_cast<char*>(merged.data()), merged.size(), esize(dt));
              for (const Shard& s : shards) {
                Head h;
                h.op = kPull;
                h.dtype = static_cast<uint8_t>(dt);
                h.key = key_id;
                h.req = id;
                h.offset = s.offset;
                h.count = s.count;
                op.send(ep->channel(), s.server, kTag, message(h, nullptr, 0));
              }
            },
            // the answers are copied into merged: it lives until the pull ends
            [merged, done = std::move(done)](std::exception_ptr e) { done(std::move(e)); });
      },
      nullptr, 0, &var, 1, o);
}

}  // namespace mxn::kv
