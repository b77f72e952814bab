// The threaded engine: a worker pool fed by a priority queue of ready operations. Dependency
// bookkeeping happens under one mutex (cheap and uncontended on the op hot path); operations
// run outside it. Threads that wait leave the operations to the workers, unless the workers
// make no progress for kStallMs and hardly use the CPU (an operation blocked on another that
// cannot start): then they run ready operations themselves. (DESIGN §11 has waits run
// not-yet-started operations on the caller; docs/architecture.md, "Engine", says why this
// engine does not.)
#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <queue>
#include <thread>

#include "core/base/error.h"
#include "core/engine/bulk.h"
#include "core/engine/engine_var.h"

namespace mxn {

struct Waiter {
  bool done = false;
  std::exception_ptr error;
};

struct OpBlock {
  Engine::Fn fn;
  Engine::AsyncFn afn;  // set instead of fn for push_async
  std::vector<Dep> deps;
  int wait = 0;
  int priority = 0;
  uint64_t seq = 0;
  const char* name = "op";
  std::exception_ptr skip;   // poison read from an input: the op does not run
  Waiter* waiter = nullptr;  // set for the pseudo-operations of wait_for_var
};

namespace {

struct ReadyOrder {
  bool operator()(const OpBlock* a, const OpBlock* b) const {
    if (a->priority != b->priority) return a->priority < b->priority;
    return a->seq > b->seq;
  }
};

class ThreadedEngine;

// This thread's open bulk (Engine::begin_bulk).
struct ThreadBulk {
  ThreadedEngine* engine = nullptr;
  int depth = 0;
  bool split = false;  // pushed in parts (a wait inside it): not kept for replay
  BulkOps ops;
};
thread_local ThreadBulk t_bulk;

class ThreadedEngine final : public Engine {
 public:
  explicit ThreadedEngine(int num_workers) {
    MXN_CHECK(num_workers >= 1, ErrorCode::kInvalidArg, "engine needs at least one worker");
    for (int i = 0; i < num_workers; ++i) workers_.emplace_back([this] { worker_loop(); });
#if defined(__linux__)
    for (std::thread& w : workers_) {
      clockid_t c;
      if (pthread_getcpuclockid(w.native_handle(), &c) == 0) worker_clocks_.push_back(c);
    }
#endif
  }

  ~ThreadedEngine() override {
    try {
      wait_all();
    } catch (...) {
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : workers_) t.join();
  }

  EngineVar* new_var() override { return new EngineVar(); }

  void delete_var(EngineVar* var) override {
    if (var == nullptr) return;
    if (bulking() && t_bulk.ops.uses(var)) push_bulk();
    std::lock_guard<std::mutex> lock(mu_);
    if (idle(var)) {
      delete var;
    } else {
      var->deleted = true;
    }
  }

  void push(Fn fn, EngineVar* const* reads, int num_reads, EngineVar* const* writes,
            int num_writes, const PushOptions& options) override {
    if (bulking()) {
      t_bulk.ops.add(std::move(fn), reads, num_reads, writes, num_writes, options);
      return;
    }
    auto* op = new OpBlock();
    try {
      collect_deps(reads, num_reads, writes, num_writes, &op->deps);
    } catch (...) {
      delete op;
      throw;
    }
    op->fn = std::move(fn);
    op->priority = options.priority;
    op->name = options.name;
    submit(op, options.run_inline);
  }

  void push_async(AsyncFn fn, EngineVar* const* reads, int num_reads, EngineVar* const* writes,
                  int num_writes, const PushOptions& options) override {
    if (bulking()) push_bulk();  // it frees its worker while it waits: never gathered
    auto* op = new OpBlock();
    try {
      collect_deps(reads, num_reads, writes, num_writes, &op->deps);
    } catch (...) {
      delete op;
      throw;
    }
    op->afn = std::move(fn);
    op->priority = options.priority;
    op->name = options.name;
    submit(op, options.run_inline);
  }

  void wait_for_var(EngineVar* var, bool for_write) override {
    MXN_CHECK(var != nullptr, ErrorCode::kInvalidArg, "engine: wait on a NULL variable");
    if (bulking()) push_bulk();
    Waiter waiter;
    auto* op = new OpBlock();
    op->waiter = &waiter;
    op->name = "wait_for_var";
    Dep d;
    d.var = var;
    d.write = for_write;
    d.reads_too = for_write;
    op->deps.push_back(d);
    submit(op, /*run_inline=*/true);
    std::unique_lock<std::mutex> lock(mu_);
    help_until(lock, [&] { return waiter.done; });
    if (waiter.error) {
      // Reported here, so wait_all need not report it again.
      unreported_.erase(std::remove(unreported_.begin(), unreported_.end(), waiter.error),
                        unreported_.end());
      std::rethrow_exception(waiter.error);
    }
  }

  void wait_all() override {
    if (bulking()) push_bulk();
    std::unique_lock<std::mutex> lock(mu_);
    help_until(lock, [&] { return pending_ == 0; });
    if (unreported_.empty()) return;
    std::exception_ptr first = unreported_.front();
    unreported_.clear();
    std::rethrow_exception(first);
  }

  const char* name() const override { return "threaded"; }
  int num_workers() const override { return static_cast<int>(workers_.size()); }

  void begin_bulk() override {
    MXN_CHECK(t_bulk.depth == 0 || t_bulk.engine == this, ErrorCode::kInvalidArg,
              "engine: this thread has a bulk open on another engine");
    t_bulk.engine = this;
    ++t_bulk.depth;
  }

  void end_bulk() override {
    if (!bulking()) return;
    if (t_bulk.depth > 1) {
      --t_bulk.depth;
      return;
    }
    push_bulk();
    t_bulk = ThreadBulk();
  }

  std::shared_ptr<BulkReplay> end_bulk_for_replay() override {
    if (!bulking() || t_bulk.depth > 1 || t_bulk.split || t_bulk.ops.empty()) {
      end_bulk();
      return nullptr;
    }
    std::shared_ptr<BulkReplay> replay = t_bulk.ops.take();
    t_bulk = ThreadBulk();
    push_replay(replay);
    return replay;
  }

  void push_replay(const std::shared_ptr<BulkReplay>& replay) override {
    PushOptions opt;
    opt.name = "bulk";
    opt.priority = replay->priority;
    push([replay] { replay->run(/*keep=*/true); }, replay->reads.data(),
         static_cast<int>(replay->reads.size()), replay->writes.data(),
         static_cast<int>(replay->writes.size()), opt);
  }

 private:
  bool bulking() const { return t_bulk.depth > 0 && t_bulk.engine == this; }

  // Pushes this thread's gathered operations as one; the bulk stays open (marked split).
  void push_bulk() {
    if (t_bulk.ops.empty()) return;
    std::shared_ptr<BulkReplay> ops = t_bulk.ops.take();
    t_bulk.split = true;
    const int depth = t_bulk.depth;
    t_bulk.depth = 0;  // push it, not gather it again
    PushOptions opt;
    opt.name = "bulk";
    opt.priority = ops->priority;
    try {
      push([ops] { ops->run(/*keep=*/false); }, ops->reads.data(),
           static_cast<int>(ops->reads.size()), ops->writes.data(),
           static_cast<int>(ops->writes.size()), opt);
    } catch (...) {
      t_bulk.depth = depth;
      throw;
    }
    t_bulk.depth = depth;
  }

  static bool idle(const EngineVar* v) { return v->head == nullptr && v->readers == 0 && !v->writer; }

  // Grants `d` at once if its variable allows it (nothing queued ahead).
  static bool try_grant(Dep* d) {
    EngineVar* v = d->var;
    if (v->head != nullptr) return false;
    if (d->write) {
      if (v->readers != 0 || v->writer) return false;
      v->writer = true;
      return true;
    }
    if (v->writer) return false;
    ++v->readers;
    return true;
  }

  static void enqueue_dep(Dep* d) {
    EngineVar* v = d->var;
    d->next = nullptr;
    if (v->tail) {
      v->tail->next = d;
    } else {
      v->head = d;
    }
    v->tail = d;
  }

  void submit(OpBlock* op, bool run_inline) {
    bool run_now = false, queued = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++pending_;
      op->seq = next_seq_++;
      int wait = 0;
      for (Dep& d : op->deps) {
        d.op = op;
        if (!try_grant(&d)) {
          enqueue_dep(&d);
          ++wait;
        }
      }
      op->wait = wait;
      if (wait == 0) {
        mark_ready(op);
        if (run_inline) {
          run_now = true;
        } else {
          push_ready(op);
          queued = true;
        }
      }
    }
    if (run_now) {
      execute(op);
    } else if (queued) {
      wake_one();
    }
  }

  // Called under mu_ when an operation's last dependency is granted.
  static void mark_ready(OpBlock* op) {
    for (const Dep& d : op->deps) {
      if ((!d.write || d.reads_too) && d.var->error) {
        op->skip = d.var->error;
        break;
      }
    }
  }

  void grant_queued(EngineVar* v, std::vector<OpBlock*>* ready) {
    while (Dep* d = v->head) {
      if (d->write) {
        if (v->readers != 0 || v->writer) break;
        v->writer = true;
      } else {
        if (v->writer) break;
        ++v->readers;
      }
      v->head = d->next;
      if (v->head == nullptr) v->tail = nullptr;
      if (--d->op->wait == 0) {
        mark_ready(d->op);
        ready->push_back(d->op);
      }
      if (d->write) break;
    }
  }

  void execute(OpBlock* op) {
    if (op->afn) {
      // Asynchronous: the operation completes when `done` is called, not when afn returns.
      AsyncFn afn = std::move(op->afn);
      op->afn = nullptr;
      if (op->skip) {
        afn = nullptr;
        complete(op, op->skip);
        return;
      }
      try {
        afn([this, op](std::exception_ptr e) { complete(op, std::move(e)); });
      } catch (...) {
        afn = nullptr;
        complete(op, std::current_exception());
      }
      return;
    }
    std::exception_ptr err = op->skip;
    if (!err && op->fn) {
      try {
        op->fn();
      } catch (...) {
        err = std::current_exception();
      }
    }
    // Release the closure before the operation counts as completed: it owns resources (the
    // storage of arrays), and a wait that returns must find them released. Outside the lock:
    // destroying it may delete variables (delete_var defers those this operation still holds).
    op->fn = nullptr;
    complete(op, std::move(err));
  }

  void complete(OpBlock* op, std::exception_ptr err) {
    std::vector<OpBlock*> ready;
    bool notify_waiters = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (op->waiter) {
        op->waiter->done = true;
        op->waiter->error = op->deps[0].var->error;
        notify_waiters = true;
      }
      for (Dep& d : op->deps) {
        EngineVar* v = d.var;
        if (d.write) {
          v->writer = false;
          v->renew_version();
          if (!op->waiter) v->error = err;
        } else {
          --v->readers;
        }
        grant_queued(v, &ready);
        if (v->deleted && idle(v)) delete v;
      }
      if (err && err != op->skip) unreported_.push_back(err);
      for (OpBlock* r : ready) push_ready(r);
      if (--pending_ == 0) notify_waiters = true;
      completed_.fetch_add(1, std::memory_order_release);
      // The closure is gone already (execute), so this is cheap. Dropping the engine's
      // references to the failure under the lock keeps them ordered with the waiter that
      // rethrows it.
      err = nullptr;
      delete op;
    }
    if (notify_waiters) state_cv_.notify_all();
    for (size_t i = 0; i < ready.size(); ++i) wake_one();
  }

  // Under mu_.
  void push_ready(OpBlock* op) {
    ready_.push(op);
    ready_count_.store(static_cast<int>(ready_.size()), std::memory_order_release);
  }
  OpBlock* pop_ready() {
    OpBlock* op = ready_.top();
    ready_.pop();
    ready_count_.store(static_cast<int>(ready_.size()), std::memory_order_release);
    return op;
  }

  void wake_one() {
    // A racy read is fine: a worker that misses this wake-up finds the op when it next looks.
    work_cv_.notify_one();
  }

  // Every thread that runs a kernel leads an OpenMP team of its own (oneDNN, OpenBLAS,
  // parallel_for), and once a process has more team threads than cores libgomp stops spinning
  // between parallel regions and puts its threads to sleep after each one, for as long as
  // those teams' leading threads live (leads_parallel_teams): a waiting thread that ran
  // operations beside a busy worker made Inception-BN batch-1 inference 29 ms instead of 22
  // ms, and one that ran a single operation during VGG-16's first forward (its weights'
  // preparation outlasts kStallMs) left every later convolution 3-4% slower. So only workers
  // run operations, unless none has completed one in kStallMs while ready work waits and the
  // workers used under a fifth of that time on the CPU (or none has completed one in
  // kBusyStall): an operation blocked on another (that must then run here) rather than a long
  // one. Here, not on a thread started for it: the distributed KVStore opens a communicator
  // for each thread that calls it, collectively.
  //
  // Handing work over costs a thread wake-up (tens of microseconds here) each way, so both
  // sides spin for kSpin before they sleep: a waiting thread for the next completion, an idle
  // worker for the next ready operation (an MLP training step is hundreds of small operations).
  static constexpr auto kStallMs = std::chrono::milliseconds(100);
  static constexpr double kBusyCpuSeconds = std::chrono::duration<double>(kStallMs).count() / 5;
  // A worker that spins while it waits (MPI's progress loops call sched_yield) looks busy: after
  // this long without a completion the waiting thread helps anyway.
  static constexpr auto kBusyStall = std::chrono::seconds(2);
  static constexpr auto kSpin = std::chrono::microseconds(100);
  // Waits start with a spin while the recent ones took under this on average.
  static constexpr int64_t kSpinWorthNs = 1000000;
  // Spins until cond() or kSpin has passed; true when cond() held.
  template <typename Cond>
  static bool spin(Cond cond) {
    const auto end = std::chrono::steady_clock::now() + kSpin;
    for (int i = 0;; ++i) {
      if (cond()) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > end) return cond();
    }
  }
  template <typename Pred>
  void help_until(std::unique_lock<std::mutex>& lock, Pred done) {
    const auto start = std::chrono::steady_clock::now();
    // Spinning pays only while waits are short; during a long one (a bulked inference forward)
    // the spinning thread takes a core from the kernels' OpenMP team, whose other thread then
    // waits for it at the next barrier.
    const bool spin_first = wait_ns_.load(std::memory_order_relaxed) < kSpinWorthNs;
    uint64_t seen = completed_.load(std::memory_order_acquire);
    auto progress_at = start;
    while (!done()) {
      const uint64_t before = completed_.load(std::memory_order_acquire);
      if (before != seen) {
        seen = before;
        progress_at = std::chrono::steady_clock::now();
      }
      if (spin_first) {
        lock.unlock();
        const bool moved =
            spin([&] { return completed_.load(std::memory_order_acquire) != before; });
        lock.lock();
        if (moved || done()) continue;
      }
      const double cpu_before = workers_cpu_seconds();
      const bool quiet = state_cv_.wait_for(lock, kStallMs) == std::cv_status::timeout;
      if (quiet && !done() && completed_.load() == before && !ready_.empty() &&
          idle_workers_ == 0 &&
          (workers_cpu_seconds() - cpu_before < kBusyCpuSeconds ||
           std::chrono::steady_clock::now() - progress_at >= kBusyStall)) {
        OpBlock* op = pop_ready();
        lock.unlock();
        execute(op);
        lock.lock();
      }
    }
    // A running average over about the last eight waits.
    const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now() - start).count();
    const int64_t avg = wait_ns_.load(std::memory_order_relaxed);
    wait_ns_.store(avg + (ns - avg) / 8, std::memory_order_relaxed);
  }

  void worker_loop() {
    ParallelTeamLead lead;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (ready_.empty() && !stop_) {
        lock.unlock();
        spin([&] { return ready_count_.load(std::memory_order_acquire) > 0; });
        lock.lock();
      }
      while (ready_.empty() && !stop_) {
        ++idle_workers_;
        work_cv_.wait(lock);
        --idle_workers_;
      }
      if (ready_.empty() && stop_) return;
      OpBlock* op = pop_ready();
      lock.unlock();
      execute(op);
      lock.lock();
    }
  }

  // CPU seconds the workers have used (0 where threads have no CPU clocks): a blocked worker
  // uses none.
  double workers_cpu_seconds() const {
    double total = 0;
#if defined(__linux__)
    for (clockid_t c : worker_clocks_) {
      timespec ts;
      if (clock_gettime(c, &ts) == 0) total += double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
    }
#endif
    return total;
  }

  std::mutex mu_;
#if defined(__linux__)
  std::vector<clockid_t> worker_clocks_;
#endif
  std::condition_variable work_cv_;   // workers sleep here
  std::condition_variable state_cv_;  // waiting threads sleep here
  std::priority_queue<OpBlock*, std::vector<OpBlock*>, ReadyOrder> ready_;
  std::vector<std::exception_ptr> unreported_;
  std::vector<std::thread> workers_;
  uint64_t next_seq_ = 0;
  int64_t pending_ = 0;
  int idle_workers_ = 0;   // workers asleep on work_cv_
  std::atomic<uint64_t> completed_{0};  // operations completed so far (progress)
  std::atomic<int> ready_count_{0};      // ready_.size(), read without the lock by spinners
  std::atomic<int64_t> wait_ns_{0};      // how long waits lasted lately (help_until)
  bool stop_ = false;
};

}  // namespace

std::unique_ptr<Engine> make_threaded_engine(int num_workers) {
  return std::make_unique<ThreadedEngine>(num_workers);
}

}  // namespace mxn
