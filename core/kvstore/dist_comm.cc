#include "core/kvstore/dist_comm.h"

#include <dlfcn.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "core/base/env.h"
#include "core/base/error.h"
#include "core/kvstore/transport.h"

namespace mxn::kv {
namespace {

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
  DistComm::Done done;
  double started = 0;
};

// A task runs on the communication thread: it starts operations (their request ids go into
// *reqs) or does a short blocking step itself; it throws Error on failure.
using Task = std::function<void(const mxn_transport*, std::vector<int64_t>* reqs)>;

class Comm final : public DistComm {
 public:
  Comm() {
    heartbeat_ = env_seconds("MXNEXT_KV_HEARTBEAT", 1.0);
    timeout_ = env_seconds("MXNEXT_KV_TIMEOUT", 10.0);
    op_timeout_ = env_seconds("MXNEXT_KV_OP_TIMEOUT", 300.0);
    token_ = env_str("MXNEXT_JOB_TOKEN", "");
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
              ErrorCode::kNotImplemented, "libmxnext_mpi.so is of another transport version");
    // Join on the communication thread (MPI_THREAD_FUNNELED: it alone calls MPI).
    std::unique_lock<std::mutex> lock(mu_);
    thread_ = std::thread([this] { loop(); });
    cv_.wait(lock, [&] { return joined_; });
    if (init_error_) {
      lock.unlock();
      thread_.join();
      std::rethrow_exception(init_error_);
    }
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const std::string& backend() const override { return name_; }

  std::exception_ptr failure() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return failure_;
  }

  int new_channel() override {
    int ch = -1;
    run_sync([&ch](const mxn_transport* t, std::vector<int64_t>*) {
      char err[512] = {0};
      const int rc = t->channel(&ch, err, sizeof err);
      if (rc != 0) throw Error(static_cast<ErrorCode>(rc), err);
    });
    return ch;
  }

  void allreduce(int ch, std::vector<DistBuffer> bufs, int op, Done done) override {
    submit([ch, bufs = std::move(bufs), op](const mxn_transport* t, std::vector<int64_t>* reqs) {
      for (const DistBuffer& b : bufs) {
        char err[512] = {0};
        int64_t r = 0;
        const int rc = t->iallreduce(ch, b.data, b.count, b.dtype, op, &r, err, sizeof err);
        if (rc != 0) throw Error(static_cast<ErrorCode>(rc), err);
        reqs->push_back(r);
      }
    }, std::move(done));
  }

  void bcast(int ch, void* data, int64_t bytes, int root, Done done) override {
    submit([=](const mxn_transport* t, std::vector<int64_t>* reqs) {
      char err[512] = {0};
      int64_t r = 0;
      const int rc = t->ibcast(ch, data, bytes, root, &r, err, sizeof err);
      if (rc != 0) throw Error(static_cast<ErrorCode>(rc), err);
      reqs->push_back(r);
    }, std::move(done));
  }

  void barrier(int ch) override {
    run_sync([ch](const mxn_transport* t, std::vector<int64_t>* reqs) {
      char err[512] = {0};
      int64_t r = 0;
      const int rc = t->ibarrier(ch, &r, err, sizeof err);
      if (rc != 0) throw Error(static_cast<ErrorCode>(rc), err);
      reqs->push_back(r);
    });
  }

  double bench_allreduce(int64_t count, int iters) override {
    double s = 0;
    run_sync([&](const mxn_transport* t, std::vector<int64_t>*) {
      char err[512] = {0};
      const int rc = t->bench_allreduce(count, iters, &s, err, sizeof err);
      if (rc != 0) throw Error(static_cast<ErrorCode>(rc), err);
    });
    return s;
  }

  void shutdown() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!thread_.joinable()) return;
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

  void run_sync(Task task) {
    std::mutex m;
    std::condition_variable c;
    bool finished = false;
    std::exception_ptr err;
    submit(std::move(task), [&](std::exception_ptr e) {
      std::lock_guard<std::mutex> lock(m);
      err = std::move(e);
      finished = true;
      c.notify_all();
    });
    std::unique_lock<std::mutex> lock(m);
    c.wait(lock, [&] { return finished; });
    if (err) std::rethrow_exception(err);
  }

  void fail_all(std::exception_ptr e, std::list<Pending>* pending) {
    std::deque<std::pair<Task, Done>> q;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (failure_ == nullptr) failure_ = e;
      q.swap(queue_);
    }
    for (Pending& p : *pending) p.done(e);
    pending->clear();
    for (auto& item : q) item.second(e);
  }

  void loop() {
    {
      char err[1024] = {0};
      int rank = 0, size = 1;
      const int rc = t_->init(token_.c_str(), heartbeat_, timeout_, &rank, &size, err, sizeof err);
      std::lock_guard<std::mutex> lock(mu_);
      if (rc != 0) {
        init_error_ = std::make_exception_ptr(Error(static_cast<ErrorCode>(rc), err));
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
    for (;;) {
      std::deque<std::pair<Task, Done>> q;
      bool stopping = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (queue_.empty() && pending.empty() && !stop_) {
          cv_.wait_for(lock, std::chrono::milliseconds(20));
        }
        q.swap(queue_);
        stopping = stop_;
      }
      for (auto& item : q) {
        Pending p;
        p.done = std::move(item.second);
        p.started = now_s();
        try {
          item.first(t_, &p.reqs);
        } catch (const Error& e) {
          if (e.code() == ErrorCode::kPeerLost) {
            fail_all(std::current_exception(), &pending);
          }
          p.done(std::current_exception());
          continue;
        } catch (...) {
          p.done(std::current_exception());
          continue;
        }
        pending.push_back(std::move(p));
      }
      // Poll what is in flight; a finished item's callback runs here.
      bool progressed = false;
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
        if (it->reqs.empty()) {
          Done d = std::move(it->done);
          it = pending.erase(it);
          d(nullptr);
          progressed = true;
          continue;
        }
        if (now_s() - it->started > op_timeout_) {
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
      if (!pending.empty() && !progressed) {
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
  std::string token_, name_;
  int rank_ = 0, size_ = 1;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool joined_ = false, stop_ = false;
  std::exception_ptr init_error_, failure_;
  std::deque<std::pair<Task, Done>> queue_;
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
  std::mutex m;
  std::condition_variable c;
  bool finished = false;
  std::exception_ptr err;
  allreduce(ch, std::move(bufs), op, [&](std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(m);
    err = std::move(e);
    finished = true;
    c.notify_all();
  });
  std::unique_lock<std::mutex> lock(m);
  c.wait(lock, [&] { return finished; });
  if (err) std::rethrow_exception(err);
}

void DistComm::bcast_sync(int ch, void* data, int64_t bytes, int root) {
  std::mutex m;
  std::condition_variable c;
  bool finished = false;
  std::exception_ptr err;
  bcast(ch, data, bytes, root, [&](std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(m);
    err = std::move(e);
    finished = true;
    c.notify_all();
  });
  std::unique_lock<std::mutex> lock(m);
  c.wait(lock, [&] { return finished; });
  if (err) std::rethrow_exception(err);
}

}  // namespace mxn::kv
