// The dependency engine (DESIGN §5). Every operation is pushed with the variables it reads and
// the variables it writes; reads of a variable run together, writes are ordered in push order.
// A failing operation poisons the variables it writes: operations reading them are skipped and
// pass the poison on, and the original error is rethrown at the next wait on them. A later
// successful write clears the poison, and the engine stays usable.
#pragma once
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>

namespace mxn {

struct EngineVar;  // opaque: one per storage chunk (or any resource that needs ordering)
struct BulkReplay;  // opaque: a bulk's operations kept to be pushed again (end_bulk_for_replay)

struct PushOptions {
  int priority = 0;          // higher runs first among ready operations
  const char* name = "op";   // for diagnostics; must outlive the operation (a literal)
  // Run on the pushing thread when every dependency is already satisfied. Short operations
  // use it: waking a worker costs more than the work (DESIGN §11).
  bool run_inline = false;
};

class Engine {
 public:
  using Fn = std::function<void()>;
  // An asynchronous operation (MXNet's PushAsync): fn starts the work and returns; the work
  // calls `done` exactly once when it finishes (nullptr, or the failure), from any thread. The
  // operation holds its variables until then, without holding a worker. fn either calls done
  // (maybe before returning) or throws without calling it.
  using Done = std::function<void(std::exception_ptr)>;
  using AsyncFn = std::function<void(Done)>;
  virtual ~Engine() = default;

  virtual EngineVar* new_var() = 0;
  // Frees the variable once every operation pushed on it has completed.
  virtual void delete_var(EngineVar* var) = 0;
  // A variable may appear in both lists (it is then a write that also reads). The caller keeps
  // every variable alive until the operation has completed.
  virtual void push(Fn fn, EngineVar* const* reads, int num_reads, EngineVar* const* writes,
                    int num_writes, const PushOptions& options) = 0;
  // Like push, for an asynchronous operation (see AsyncFn). The default runs it as a blocking
  // operation that waits for done (the naive engine); the threaded engine frees the worker.
  virtual void push_async(AsyncFn fn, EngineVar* const* reads, int num_reads,
                          EngineVar* const* writes, int num_writes, const PushOptions& options);
  // Blocks until every operation pushed before that writes `var` (for_write: or reads it) has
  // completed; rethrows the poison of `var` if it carries one.
  virtual void wait_for_var(EngineVar* var, bool for_write = false) = 0;
  // Blocks until every pushed operation has completed; rethrows the first failure not yet
  // reported by a wait_for_var, and forgets the rest.
  virtual void wait_all() = 0;
  virtual const char* name() const = 0;
  virtual int num_workers() const = 0;

  // Bulk execution (MXNet's engine bulking, used for inference forwards as
  // MXNET_EXEC_BULK_EXEC_INFERENCE does): between begin_bulk and the matching end_bulk, the
  // operations this thread pushes are gathered, and end_bulk pushes them as one operation
  // (their reads and writes merged) that runs them in push order on one worker: one hand-over
  // and one dependency update instead of one per operation. Each gathered operation's writes
  // get new versions (var_version) as it completes. If one fails, the rest do not run and every
  // variable the bulk writes carries the failure. A wait on this thread, an asynchronous push
  // or deleting a variable the gathered operations use pushes them first; other threads see
  // them once pushed. Bulks nest (the outermost end pushes); one engine's bulk per thread at a
  // time. The naive engine runs every operation at push and ignores bulks.
  virtual void begin_bulk() {}
  virtual void end_bulk() {}
  // Ends the bulk as end_bulk does and keeps its operations, to be pushed again as one by
  // push_replay (MXNet's cached segment operations): the caller skips building them. They must
  // be safe to run again: closures that hold their arrays and decide what to do when they run.
  // Null when there is nothing to keep: a nested bulk, one pushed in parts (a wait inside it),
  // an empty one, or the naive engine.
  virtual std::shared_ptr<BulkReplay> end_bulk_for_replay() {
    end_bulk();
    return nullptr;
  }
  virtual void push_replay(const std::shared_ptr<BulkReplay>& replay) { (void)replay; }

  // The process-wide engine, chosen at first use by MXNEXT_ENGINE=threaded|naive
  // (default threaded, workers from MXNEXT_CPU_WORKERS, default = cores). Never destroyed.
  static Engine& get();
};

// The contents version of a variable: a number no other variable or moment shares, renewed
// when a write to the variable completes (and when wait_for_var(var, true) returns, since the
// caller writes next). Read while holding the variable (inside an operation that reads it), it
// identifies the contents: a kernel may keep something derived from an input (a weight in its
// own layout) and reuse it while the version is unchanged. Memory written behind the engine's
// back (shared through DLPack) must not be trusted this way: see Chunk::exported.
uint64_t var_version(const EngineVar* var);

// Whether kernels on this thread may start OpenMP teams (parallel_for; oneDNN and OpenBLAS
// start them regardless). Once a process holds more OpenMP team threads than cores, libgomp
// stops spinning between parallel regions for good: every region and barrier then waits for a
// futex wake-up (VGG-16 batch-1 inference ran 3-4% slower per convolution after the waiting
// thread had run one operation). So only the threads that run the engine's operations lead
// teams: the threaded engine's workers and the naive engine's pushing thread. Elsewhere (small
// operations run inline on the pushing thread, data-loading threads) parallel_for runs its
// parts in turn.
bool leads_parallel_teams();
// Marks the current thread as one that leads teams, for this object's lifetime.
class ParallelTeamLead {
 public:
  ParallelTeamLead();
  ~ParallelTeamLead();
  ParallelTeamLead(const ParallelTeamLead&) = delete;
  ParallelTeamLead& operator=(const ParallelTeamLead&) = delete;

 private:
  bool before_;
};

std::unique_ptr<Engine> make_threaded_engine(int num_workers);
std::unique_ptr<Engine> make_naive_engine();

}  // namespace mxn
