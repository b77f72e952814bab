#include "core/kvstore/dist_comm.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/base/env.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/kvstore/transport.h"

namespace mxn::kv {
namespace {

// Starts an operation with a completion callback and blocks until the callback has run;
// rethrows the failure it reported.
template <typename Start>
void wait_for_done(Start start) {
  std::mutex m;
  std::condition_variable c;
  bool finished = false;
  std::exception_ptr err;
  start(DistComm::Done([&](std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(m);
    err = std::move(e);
    finished = true;
    c.notify_all();
  }));
  std::unique_lock<std::mutex> lock(m);
  c.wait(lock, [&] { return finished; });
  if (err) std::rethrow_exception(err);
}

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

double env_seconds(const char* name, double fallback) {
  const std::string v = env_str(name, "");
  if (v.empty()) return fallback;
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  MXN_CHECK(end != v.c_str() && d > 0, ErrorCode::kInvalidArg, name, "='", v,
            "' is not a positive number of seconds");
  return d;
}

// Where libmxnext_mpi.so is: MXNEXT_MPI_LIBRARY, else beside libmxnext.so, else the loader's
// search path.
void* load_backend(std::string* tried) {
#if defined(__EMSCRIPTEN__)
  *tried += "\n  (none: the WebAssembly build has no MPI)";
  return nullptr;
#else
  std::vector<std::string> paths;
  const std::string env = env_str("MXNEXT_MPI_LIBRARY", "");
  if (!env.empty()) paths.push_back(env);
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&load_backend), &info) != 0 && info.dli_fname != nullptr) {
    std::string self = info.dli_fname;
    const size_t slash = self.rfind('/');
    if (slash != std::string::npos) paths.push_back(self.substr(0, slash + 1) + "libmxnext_mpi.so");
  }
  paths.push_back("libmxnext_mpi.so");
  for (const std::string& p : paths) {
    // RTLD_GLOBAL: Open MPI's own plugins resolve libmpi's symbols from the global scope.
    void* h = dlopen(p.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (h != nullptr) return h;
    const char* e = dlerror();
    *tried += cat("\n  ", p, ": ", e ? e : "not found");
  }
  return nullptr;
#endif
}

struct Pending {
  std::vector<int64_t> reqs;
  std::vector<std::shared_ptr<const std::string>> keep;  // what its sends read
  DistComm::Done done;
  double started = 0;
  int64_t hold = 0;            // > 0 while held open (released by a handler)
  bool no_timeout = false;     // serve_until_all_done's barrier waits as long as peers live
  std::exception_ptr error;    // set by release(id, err): reported once the sends are done
};

// A message being received on a listened channel.
struct Incoming {
  int ch = -1, src = -1;
  int64_t req = 0;
  bool done = false;
  std::unique_ptr<std::string> buf;
};

class Comm;

// The context of a task: it runs on the communication thread, starts operations (their
// request ids go into p->reqs) or does a short blocking step itself; it throws Error on
// failure.
struct Ctx final : CommOp {
  const mxn_transport* t = nullptr;
  Pending* p = nullptr;
  int64_t* next_hold = nullptr;
  void send(int ch, int peer, int tag, std::shared_ptr<const std::string> msg) override {
    char err[512] = {0};
    int64_t r = 0;
    const int rc = t->isend(ch, peer, tag, msg->data(), static_cast<int64_t>(msg->size()), &r,
                            err, sizeof err);
    if (rc != 0) throw Error(static_cast<ErrorCode>(rc), err);
    p->reqs.push_back(r);
    p->keep.push_back(std::move(msg));
  }
  int64_t hold() override {
    if (p->hold == 0) p->hold = (*next_hold)++;
    return p->hold;
  }
};

using Task = std::function<void(Ctx&)>;

class Comm final : public DistComm {
 public:
  Comm() {
    heartbeat_ = env_seconds("MXNEXT_KV_HEARTBEAT", 1.0);
    timeout_ = env_seconds("MXNEXT_KV_TIMEOUT", 10.0);
    op_timeout_ = env_seconds("MXNEXT_KV_OP_TIMEOUT", 300.0);
    token_ = env_str("MXNEXT_JOB_TOKEN", "");
    const std::string mode = env_str("MXNEXT_KV_REDUCE", "auto");
    if (mode == "auto") {
      reduce_ = MXN_TREDUCE_AUTO;
    } else if (mode == "flat") {
      reduce_ = MXN_TREDUCE_FLAT;
    } else if (mode == "two_level") {
      reduce_ = MXN_TREDUCE_TWO_LEVEL;
    } else {
      throw Error(ErrorCode::kInvalidArg,
                  cat("MXNEXT_KV_REDUCE='", mode, "' is not auto, flat or two_level"));
    }
    local_size_ = static_cast<int>(env_int("MXNEXT_KV_LOCAL_SIZE", 0));
    MXN_CHECK(local_size_ >= 0, ErrorCode::kInvalidArg, "MXNEXT_KV_LOCAL_SIZE must be >= 0");
    std::string tried;
    lib_ = load_backend(&tried);
    MXN_CHECK(lib_ != nullptr, ErrorCode::kNotImplemented,
              "the dist kvstores need the MPI backend libmxnext_mpi.so (build with "
              "-DMXN_USE_MPI=ON; set MXNEXT_MPI_LIBRARY to its path). Tried:", tried);
#if defined(__EMSCRIPTEN__)
    mxn_transport_entry entry = nullptr;
#else
    auto entry = reinterpret_cast<mxn_transport_entry>(dlsym(lib_, "mxn_transport_mpi_v1"));
#endif
    MXN_CHECK(entry != nullptr, ErrorCode::kNotImplemented,
              "libmxnext_mpi.so has no mxn_transport_mpi_v1");
    t_ = entry();
    MXN_CHECK(t_ != nullptr && t_->version == MXN_TRANSPORT_VERSION &&
                  t_->struct_size >= sizeof(mxn_transport),
              ErrorCode::kNotImplemented,
              "libmxnext_mpi.so is of another transport version (rebuild it with this "
              "libmxnext)");
    // Join on the communication thread (MPI_THREAD_FUNNELED: it alone calls MPI).
    std::unique_lock<std::mutex> lock(mu_);
    thread_ = std::thread([this] { loop(); });
    cv_.wait(lock, [&] { return joined_; });
    if (init_error_) {
      lock.unlock();
      thread_.join();
      std::rethrow_exception(init_error_);
    }
    if (env_int("MXNEXT_KV_VERBOSE", 0) != 0) {
      std::fprintf(stderr,
                   "mxnext kvstore: rank %d of %d, machine %d of %d (local rank %d of %d), "
                   "allreduce %s\n",
                   rank_, size_, topo_.host, topo_.num_hosts, topo_.local_rank,
                   topo_.local_size, topo_.two_level ? "two-level" : "flat");
    }
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const std::string& backend() const override { return name_; }
  Topology topology() const override { return topo_; }

  std::exception_ptr failure() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return failure_;
  }

  int new_channel() override {
    int ch = -1;
    run_task([&ch](Ctx& c) {
      char err[512] = {0};
      const int rc = c.t->channel(&ch, err, sizeof err);
      if (rc != 0) throw Error(static_cast<ErrorCode>(rc), err);
    });
    return ch;
  }

  void allreduce(int ch, std::vector<DistBuffer> bufs, int op, Done done) override {
    submit([ch, bufs = std::move(bufs), op](Ctx& c) {
      for (const DistBuffer& b : bufs) {
        char err[512] = {0};
        int64_t r = 0;
        const int rc =
            c.t->iallreduce(ch, b.send, b.data, b.count, b.dtype, op, &r, err, sizeof err);
        if (rc != 0) throw Error(static_cast<ErrorCode>(rc), err);
        c.p->reqs.push_back(r);
      }
    }, std::move(done));
  }

  void bcast(int ch, void* data, int64_t bytes, int root, Done done) override {
    submit([=](Ctx& c) {
      char err[512] = {0};
      int64_t r = 0;
      const int rc = c.t->ibcast(ch, data, bytes, root, &r, err, sizeof err);
      if (rc != 0) throw Error(static_cast<ErrorCode>(rc), err);
      c.p->reqs.push_back(r);
    }, std::move(done));
  }

  void barrier(int ch) override {
    run_task([ch](Ctx& c) {
      char err[512] = {0};
      int64_t r = 0;
      const int rc = c.t->ibarrier(ch, &r, err, sizeof err);
      if (rc != 0) throw Error(static_cast<ErrorCode>(rc), err);
      c.p->reqs.push_back(r);
    });
  }

  double bench_allreduce(int64_t count, int iters) override {
    double s = 0;
    run_task([&](Ctx& c) {
      char err[512] = {0};
      const int rc = c.t->bench_allreduce(count, iters, &s, err, sizeof err);
      if (rc != 0) throw Error(static_cast<ErrorCode>(rc), err);
    });
    return s;
  }

  void listen(int ch, Handler h) override {
    std::lock_guard<std::mutex> lock(mu_);
    new_listeners_.emplace_back(ch, std::move(h));
    cv_.notify_all();
  }

  void run(std::function<void(CommOp&)> fn, Done done) override {
    submit([fn = std::move(fn)](Ctx& c) { fn(c); }, std::move(done));
  }

  void release(int64_t hold, std::exception_ptr err) override {
    auto it = holds_.find(hold);
    if (it == holds_.end()) return;
    Pending& p = *it->second;
    p.hold = 0;
    if (err && !p.error) p.error = std::move(err);
    holds_.erase(it);
  }

  void post(int ch, int peer, int tag, std::shared_ptr<const std::string> msg) override {
    submit([ch, peer, tag, msg = std::move(msg)](Ctx& c) mutable {
      c.send(ch, peer, tag, std::move(msg));
    }, [](std::exception_ptr) {});
  }

  void serve_until_all_done(int ch) override {
    std::lock_guard<std::mutex> lock(mu_);
    finish_channel_ = ch;
  }

  void shutdown() {
    int finish = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!thread_.joinable()) return;
      finish = failure_ == nullptr ? finish_channel_ : -1;
    }
    if (finish >= 0) {
      // dist_async: this rank's own pushes and pulls first, then keep serving its shards
      // until every rank has finished.
      try {
        Engine::get().wait_all();
      } catch (...) {  // reported (or not) by the program's own waits
      }
      try {
        run_task([finish](Ctx& c) {
          char err[512] = {0};
          int64_t r = 0;
          const int rc = c.t->finish(finish, &r, err, sizeof err);
          if (rc != 0) throw Error(static_cast<ErrorCode>(rc), err);
          c.p->reqs.push_back(r);
          c.p->no_timeout = true;
        });
        // Every rank has finished, so nothing more will come; but updates this rank's server
        // queued for the last pushes (acknowledged once queued) may still be running: let
        // them end before the process's static objects go.
        Engine::get().wait_all();
      } catch (...) {  // a lost peer: nothing more to serve
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void submit(Task task, Done done) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (failure_ == nullptr && !stop_) {
        queue_.emplace_back(std::move(task), std::move(done));
        cv_.notify_all();
        return;
      }
    }
    std::exception_ptr f = failure();
    done(f ? f : std::make_exception_ptr(Error(ErrorCode::kInvalidArg,
                                                "the dist kvstore is shut down")));
  }

  void run_task(Task task) {
    wait_for_done([&](Done done) { submit(std::move(task), std::move(done)); });
  }

  void fail_all(std::exception_ptr e, std::list<Pending>* pending) {
    std::deque<std::pair<Task, Done>> q;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (failure_ == nullptr) failure_ = e;
      q.swap(queue_);
    }
    holds_.clear();
    for (Pending& p : *pending) {
      // the transport may still read or write these buffers: keep them to the end
      for (auto& k : p.keep) graveyard_.push_back(std::move(k));
      p.done(e);
    }
    pending->clear();
    for (Incoming& in : incoming_) graveyard_in_.push_back(std::move(in.buf));
    incoming_.clear();
    for (auto& item : q) item.second(e);
  }

  // Receives what waits on the listened channels and hands complete messages to their
  // handlers, each sender's in the order it sent them. True when something happened.
  bool poll_messages(std::list<Pending>* pending) {
    bool active = false;
    for (auto& [ch, h] : listeners_) {
      for (int k = 0; k < 64; ++k) {
        char e[512] = {0};
        int found = 0, src = -1, tag = 0;
        int64_t bytes = 0;
        int rc = t_->iprobe(ch, &found, &src, &tag, &bytes, e, sizeof e);
        if (rc == 0 && found) {
          Incoming in;
          in.ch = ch;
          in.src = src;
          in.buf = std::make_unique<std::string>(static_cast<size_t>(bytes), '\0');
          rc = t_->irecv(ch, src, tag, in.buf->data(), bytes, &in.req, e, sizeof e);
          if (rc == 0) incoming_.push_back(std::move(in));
        }
        if (rc != 0) {
          fail_all(std::make_exception_ptr(Error(static_cast<ErrorCode>(rc), e)), pending);
          return true;
        }
        if (!found) break;
        active = true;
      }
    }
    std::vector<std::pair<int, int>> blocked;  // (channel, source) with an earlier message
    auto is_blocked = [&](const Incoming& in) {
      for (auto& b : blocked) {
        if (b.first == in.ch && b.second == in.src) return true;
      }
      return false;
    };
    for (auto it = incoming_.begin(); it != incoming_.end();) {
      if (!it->done) {
        char e[512] = {0};
        int done = 0;
        const int rc = t_->test(it->req, &done, nullptr, nullptr, nullptr, e, sizeof e);
        if (rc != 0) {
          fail_all(std::make_exception_ptr(Error(static_cast<ErrorCode>(rc), e)), pending);
          return true;
        }
        it->done = done != 0;
      }
      if (!it->done || is_blocked(*it)) {
        blocked.emplace_back(it->ch, it->src);
        ++it;
        continue;
      }
      Incoming in = std::move(*it);
      it = incoming_.erase(it);
      active = true;
      for (auto& [ch, h] : listeners_) {
        if (ch == in.ch) h(in.src, std::move(*in.buf));
      }
      if (failure_now()) return true;
    }
    return active;
  }

  bool failure_now() {
    std::lock_guard<std::mutex> lock(mu_);
    return failure_ != nullptr;
  }

  void loop() {
    {
      char err[1024] = {0};
      int rank = 0, size = 1;
      mxn_transport_options o{};
      o.token = token_.c_str();
      o.heartbeat_s = heartbeat_;
      o.timeout_s = timeout_;
      o.reduce = reduce_;
      o.local_size = local_size_;
      const int rc = t_->init(&o, &rank, &size, err, sizeof err);
      std::lock_guard<std::mutex> lock(mu_);
      if (rc != 0) {
        init_error_ = std::make_exception_ptr(Error(static_cast<ErrorCode>(rc), err));
      } else {
        int two = 0;
        t_->topology(&topo_.num_hosts, &topo_.host, &topo_.local_rank, &topo_.local_size, &two);
        topo_.two_level = two != 0;
      }
      rank_ = rank;
      size_ = size;
      name_ = t_->name;
      joined_ = true;
      cv_.notify_all();
      if (rc != 0) return;
    }
    std::list<Pending> pending;
    int idle_spins = 0;
    int idle_wait_us = 50;
    for (;;) {
      std::deque<std::pair<Task, Done>> q;
      bool stopping = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (queue_.empty() && pending.empty() && incoming_.empty() && !stop_) {
          // Listening (dist_async): a message may arrive any time, so wait briefly (50 us,
          // doubling to 1 ms while nothing happens); otherwise only a submit wakes us.
          if (listeners_.empty() && new_listeners_.empty()) {
            cv_.wait_for(lock, std::chrono::milliseconds(20));
          } else {
            cv_.wait_for(lock, std::chrono::microseconds(idle_wait_us));
            idle_wait_us = std::min(idle_wait_us * 2, 1000);
          }
        }
        q.swap(queue_);
        for (auto& l : new_listeners_) listeners_.push_back(std::move(l));
        new_listeners_.clear();
        stopping = stop_;
      }
      bool progressed = !q.empty();
      for (auto& item : q) {
        Pending p;
        p.done = std::move(item.second);
        p.started = now_s();
        Ctx c;
        c.t = t_;
        c.p = &p;
        c.next_hold = &next_hold_;
        try {
          item.first(c);
        } catch (const Error& e) {
          for (auto& k : p.keep) graveyard_.push_back(std::move(k));
          if (e.code() == ErrorCode::kPeerLost) {
            fail_all(std::current_exception(), &pending);
          }
          p.done(std::current_exception());
          continue;
        } catch (...) {
          for (auto& k : p.keep) graveyard_.push_back(std::move(k));
          p.done(std::current_exception());
          continue;
        }
        pending.push_back(std::move(p));
        if (pending.back().hold != 0) holds_[pending.back().hold] = std::prev(pending.end());
      }
      if (!failure_now() && !listeners_.empty() && poll_messages(&pending)) progressed = true;
      // Poll what is in flight; a finished item's callback runs here.
      for (auto it = pending.begin(); it != pending.end();) {
        std::exception_ptr err;
        while (!it->reqs.empty()) {
          char e[512] = {0};
          int done = 0;
          const int rc = t_->test(it->reqs.front(), &done, nullptr, nullptr, nullptr, e, sizeof e);
          if (rc != 0) {
            err = std::make_exception_ptr(Error(static_cast<ErrorCode>(rc), e));
            it->reqs.erase(it->reqs.begin());
            break;
          }
          if (!done) break;
          it->reqs.erase(it->reqs.begin());
        }
        if (err) {
          fail_all(err, &pending);
          break;
        }
        if (it->reqs.empty() && it->hold == 0) {
          Done d = std::move(it->done);
          std::exception_ptr e = std::move(it->error);
          it = pending.erase(it);
          d(e);
          progressed = true;
          continue;
        }
        if (!it->no_timeout && now_s() - it->started > op_timeout_) {
          fail_all(std::make_exception_ptr(Error(
                       ErrorCode::kTimeout,
                       cat("a kvstore operation found no match on every peer for ", op_timeout_,
                           " s (MXNEXT_KV_OP_TIMEOUT): do all workers push the same keys in "
                           "the same steps?"))),
                   &pending);
          break;
        }
        ++it;
      }
      char e[512] = {0};
      const int rc = t_->progress(e, sizeof e);
      if (rc != 0) {
        fail_all(std::make_exception_ptr(Error(static_cast<ErrorCode>(rc), e)), &pending);
      }
      if (stopping && pending.empty()) break;
      if (progressed) idle_wait_us = 50;
      if ((!pending.empty() || !incoming_.empty()) && !progressed) {
        // Busy polling keeps latency low; yield so oversubscribed ranks still share cores.
        if (++idle_spins > 64) {
          std::this_thread::sleep_for(std::chrono::microseconds(50));
        } else {
          std::this_thread::yield();
        }
      } else {
        idle_spins = 0;
      }
    }
    t_->finalize(failure() == nullptr ? 1 : 0);
  }

  void* lib_ = nullptr;
  const mxn_transport* t_ = nullptr;
  double heartbeat_ = 1.0, timeout_ = 10.0, op_timeout_ = 300.0;
  int reduce_ = MXN_TREDUCE_AUTO, local_size_ = 0;
  std::string token_, name_;
  int rank_ = 0, size_ = 1;
  Topology topo_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool joined_ = false, stop_ = false;
  int finish_channel_ = -1;
  std::exception_ptr init_error_, failure_;
  std::deque<std::pair<Task, Done>> queue_;
  std::vector<std::pair<int, Handler>> new_listeners_;  // under mu_
  // communication thread only
  std::vector<std::pair<int, Handler>> listeners_;
  std::list<Incoming> incoming_;
  std::unordered_map<int64_t, std::list<Pending>::iterator> holds_;
  int64_t next_hold_ = 1;
  std::vector<std::shared_ptr<const std::string>> graveyard_;
  std::vector<std::unique_ptr<std::string>> graveyard_in_;
};

Comm* g_comm = nullptr;

void shutdown_at_exit() {
  if (g_comm != nullptr) g_comm->shutdown();
}

}  // namespace

DistComm& DistComm::get() {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (g_comm == nullptr) {
    g_comm = new Comm();  // lives until exit; the atexit handler leaves the job
    std::atexit(shutdown_at_exit);
  }
  return *g_comm;
}

void DistComm::allreduce_sync(int ch, std::vector<DistBuffer> bufs, int op) {
  wait_for_done([&](Done done) { allreduce(ch, std::move(bufs), op, std::move(done)); });
}

void DistComm::run_sync(std::function<void(CommOp&)> fn) {
  wait_for_done([&](Done done) { run(std::move(fn), std::move(done)); });
}

void DistComm::bcast_sync(int ch, void* data, int64_t bytes, int root) {
  wait_for_done([&](Done done) { bcast(ch, data, bytes, root, std::move(done)); });
}

}  // namespace mxn::kv
