// Bulk execution (Engine::begin_bulk, end_bulk_for_replay, push_replay; core/engine/bulk.h):
// gathered operations run in push order as one, after the bulk ends; waits, asynchronous pushes
// and deleted variables push them early; failures stop the bulk and poison what it writes;
// replays run the same operations again; random programs cut into bulks match a serial run.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/base/error.h"
#include "core/engine/engine.h"
#include "tests/cpp/engine_test_util.h"

namespace mxn {
namespace {

using namespace engine_test;  // NOLINT: the shared helpers

class BulkTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (EngineVar* v : vars_) engine_->delete_var(v);
    engine_.reset();
  }
  EngineVar* var() {
    vars_.push_back(engine_->new_var());
    return vars_.back();
  }
  Engine& e() { return *engine_; }

  std::unique_ptr<Engine> engine_ = make_threaded_engine(2);
  Vars vars_;
};

TEST_F(BulkTest, GatheredOperationsRunInPushOrderOnOneWorkerAfterTheEnd) {
  EngineVar* a = var();
  EngineVar* b = var();
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread::id> threads;
  auto op = [&](int id) {
    return [&, id] {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(id);
      threads.push_back(std::this_thread::get_id());
    };
  };
  e().begin_bulk();
  // Independent operations (a, b) would overlap on two workers unbulked.
  push(e(), op(0), {}, {a});
  push(e(), op(1), {}, {b});
  push(e(), op(2), {a}, {b});
  push(e(), op(3), {b}, {a});
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_TRUE(order.empty()) << "a gathered operation ran before the bulk ended";
  }
  e().end_bulk();
  e().wait_all();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  ASSERT_EQ(threads.size(), 4u);
  for (const std::thread::id& t : threads) EXPECT_EQ(t, threads[0]);
  EXPECT_NE(threads[0], std::this_thread::get_id());
}

TEST_F(BulkTest, EachGatheredWriteRenewsTheVersionWhenItCompletes) {
  EngineVar* a = var();
  const uint64_t before = var_version(a);
  uint64_t seen1 = 0, seen2 = 0;
  e().begin_bulk();
  push(e(), [] {}, {}, {a});
  push(e(), [&] { seen1 = var_version(a); }, {a}, {});
  push(e(), [] {}, {}, {a});
  push(e(), [&] { seen2 = var_version(a); }, {a}, {});
  e().end_bulk();
  e().wait_all();
  // A cache keyed on the version (a convolution's prepared weights) sees each write.
  EXPECT_NE(seen1, before);
  EXPECT_NE(seen2, seen1);
  EXPECT_NE(seen2, before);
}

TEST_F(BulkTest, WaitsOnTheBulkingThreadPushWhatWasGathered) {
  EngineVar* a = var();
  EngineVar* b = var();
  int x = 0, y = 0;
  e().begin_bulk();
  push(e(), [&] { x = 1; }, {}, {a});
  e().wait_for_var(a);  // would wait forever if the gathered write stayed behind
  EXPECT_EQ(x, 1);
  push(e(), [&] { y = x + 1; }, {a}, {b});
  EXPECT_EQ(wait_all_error(e()), "");
  EXPECT_EQ(y, 2);
  push(e(), [&] { y = 5; }, {}, {b});
  // Pushed in parts: nothing is kept for replay, but the last part runs.
  EXPECT_EQ(e().end_bulk_for_replay(), nullptr);
  e().wait_all();
  EXPECT_EQ(y, 5);
}

TEST_F(BulkTest, AnAsynchronousPushFollowsTheGatheredOperations) {
  EngineVar* a = var();
  int x = 0, seen = -1;
  e().begin_bulk();
  push(e(), [&] { x = 3; }, {}, {a});
  e().push_async([&](Engine::Done done) {
    seen = x;
    done(nullptr);
  }, &a, 1, nullptr, 0, PushOptions{});
  e().end_bulk();
  e().wait_all();
  EXPECT_EQ(seen, 3);
}

TEST_F(BulkTest, DeletingAGatheredVariablePushesFirst) {
  // Under ASan a variable freed while still gathered is a use after free at end_bulk.
  EngineVar* v = e().new_var();
  EngineVar* other = e().new_var();
  int x = 0;
  e().begin_bulk();
  push(e(), [&] { x = 1; }, {}, {v});
  e().delete_var(v);
  e().delete_var(other);  // not gathered: freed at once
  push(e(), [&] { x += 1; }, {}, {var()});
  e().end_bulk();
  e().wait_all();
  EXPECT_EQ(x, 2);
}

TEST_F(BulkTest, AFailureStopsTheBulkAndPoisonsEverythingItWrites) {
  EngineVar* a = var();
  EngineVar* b = var();
  EngineVar* c = var();
  bool third_ran = false;
  e().begin_bulk();
  push(e(), [] {}, {}, {a});
  push(e(), [] { throw Error(ErrorCode::kShape, "bulk: bad shape"); }, {}, {b});
  push(e(), [&] { third_ran = true; }, {}, {c});
  e().end_bulk();
  EXPECT_EQ(wait_error(e(), b), "bulk: bad shape");
  EXPECT_EQ(wait_error(e(), c), "bulk: bad shape");
  EXPECT_EQ(wait_error(e(), a), "bulk: bad shape");  // written by the bulk, which failed
  EXPECT_FALSE(third_ran);
  EXPECT_EQ(wait_all_error(e()), "");
  // The engine stays usable, and a later write clears the poison.
  int x = 0;
  push(e(), [&] { x = 9; }, {}, {c});
  EXPECT_EQ(wait_error(e(), c), "");
  EXPECT_EQ(x, 9);
}

TEST_F(BulkTest, APoisonTheBulkOverwritesBeforeReadingDoesNotStopIt) {
  // As its operations would one by one: the first writes a without reading it, so the poison
  // a carries does not reach the second, which reads it. A bulk reading b first is skipped.
  EngineVar* a = var();
  EngineVar* b = var();
  EngineVar* out = var();
  push(e(), [] { throw Error(ErrorCode::kInternal, "old poison"); }, {}, {a, b});
  EXPECT_EQ(wait_all_error(e()), "old poison");
  int x = 0, y = 0;
  std::shared_ptr<BulkReplay> replay;
  for (int round = 0; round < 2; ++round) {  // recorded, then replayed
    if (round == 0) {
      e().begin_bulk();
      push(e(), [&] { x = 4; }, {}, {a});
      push(e(), [&] { y = x + 1; }, {a}, {out});
      replay = e().end_bulk_for_replay();
      ASSERT_NE(replay, nullptr);
    } else {
      push(e(), [] { throw Error(ErrorCode::kInternal, "poison again"); }, {}, {a});
      EXPECT_EQ(wait_all_error(e()), "poison again");
      x = 0;
      e().push_replay(replay);
      replay.reset();
    }
    EXPECT_EQ(wait_error(e(), out), "");
    EXPECT_EQ(wait_error(e(), a), "");
    EXPECT_EQ(y, 5);
    y = 0;
  }
  bool ran = false;
  e().begin_bulk();
  push(e(), [&] { ran = true; }, {b}, {out});
  push(e(), [] {}, {}, {b});
  e().end_bulk();
  EXPECT_EQ(wait_error(e(), out), "old poison");
  EXPECT_FALSE(ran);
}

TEST_F(BulkTest, AReplayRunsTheSameOperationsAgainInOrder) {
  EngineVar* a = var();
  EngineVar* b = var();
  std::vector<int> log;
  int value = 0;
  e().begin_bulk();
  push(e(), [&] { log.push_back(0); value += 1; }, {}, {a});
  push(e(), [&] { log.push_back(1); value *= 2; }, {a}, {a, b});
  std::shared_ptr<BulkReplay> replay = e().end_bulk_for_replay();
  ASSERT_NE(replay, nullptr);
  e().wait_all();
  EXPECT_EQ(value, 2);
  std::vector<int> seen;
  for (int i = 0; i < 3; ++i) {
    e().push_replay(replay);
    // An operation pushed after a replay sees its writes; one before it, not.
    push(e(), [&] { seen.push_back(value); }, {b}, {});
  }
  e().wait_all();
  EXPECT_EQ(seen, (std::vector<int>{6, 14, 30}));
  EXPECT_EQ(log, (std::vector<int>{0, 1, 0, 1, 0, 1, 0, 1}));
  // A write pushed between replays is ordered with them too.
  push(e(), [&] { value = 100; }, {}, {a});
  e().push_replay(replay);
  EXPECT_EQ(wait_error(e(), b), "");
  EXPECT_EQ(value, 202);
}

TEST_F(BulkTest, NothingIsKeptForANestedOrEmptyBulk) {
  EngineVar* a = var();
  int x = 0;
  e().begin_bulk();
  e().begin_bulk();
  push(e(), [&] { x += 1; }, {}, {a});
  EXPECT_EQ(e().end_bulk_for_replay(), nullptr);  // inner: the outer one still gathers
  push(e(), [&] { x *= 10; }, {}, {a});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(x, 0);
  std::shared_ptr<BulkReplay> outer = e().end_bulk_for_replay();
  ASSERT_NE(outer, nullptr);
  e().wait_all();
  EXPECT_EQ(x, 10);
  e().begin_bulk();
  EXPECT_EQ(e().end_bulk_for_replay(), nullptr);
  e().end_bulk();  // with no bulk open: nothing happens
}

TEST_F(BulkTest, OtherThreadsAreNotGathered) {
  EngineVar* a = var();
  EngineVar* b = var();
  int x = 0, y = 0;
  e().begin_bulk();
  push(e(), [&] { x = 1; }, {}, {a});
  std::thread other([&] {
    push(e(), [&] { y = 1; }, {}, {b});
    e().wait_for_var(b);  // runs although this thread's bulk is still open
  });
  other.join();
  EXPECT_EQ(y, 1);
  EXPECT_EQ(x, 0);
  e().end_bulk();
  e().wait_all();
  EXPECT_EQ(x, 1);
}

TEST_F(BulkTest, OneEnginesBulkPerThread) {
  auto second = make_threaded_engine(1);
  e().begin_bulk();
  try {
    second->begin_bulk();
    FAIL() << "a second engine's bulk was opened";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), ErrorCode::kInvalidArg);
  }
  // The other engine's pushes are not gathered by this one's bulk.
  EngineVar* v = second->new_var();
  int x = 0;
  push(*second, [&] { x = 1; }, {}, {v});
  second->wait_for_var(v);
  EXPECT_EQ(x, 1);
  e().end_bulk();
  second->delete_var(v);
}

TEST(NaiveEngineBulk, RunsEveryOperationAtPush) {
  auto eng = make_naive_engine();
  EngineVar* v = eng->new_var();
  int x = 0;
  eng->begin_bulk();
  push(*eng, [&] { x = 1; }, {}, {v});
  EXPECT_EQ(x, 1);
  EXPECT_EQ(eng->end_bulk_for_replay(), nullptr);
  eng->delete_var(v);
}

// A random program cut into bulks at random points (some nested, some split by waits), and a
// replayed segment, against the serial run.
TEST(BulkDag, RandomBulksMatchSerial) {
  const int kVars = 32;
  const int64_t n = 20000;
  const auto ops = make_dag(n, kVars, 777);
  std::vector<int64_t> serial(kVars);
  for (int i = 0; i < kVars; ++i) serial[i] = i;
  for (int64_t id = 0; id < n; ++id) apply_dag_op(ops[id], id, serial.data());

  for (int workers : {1, 3}) {
    auto eng = make_threaded_engine(workers);
    std::vector<int64_t> val(kVars);
    for (int i = 0; i < kVars; ++i) val[i] = i;
    Vars vars;
    for (int i = 0; i < kVars; ++i) vars.push_back(eng->new_var());
    std::mt19937 rng(workers);
    int depth = 0;
    for (int64_t id = 0; id < n; ++id) {
      const uint32_t r = rng() % 100;
      if (r < 3 && depth < 2) {
        eng->begin_bulk();
        ++depth;
      } else if (r < 6 && depth > 0) {
        eng->end_bulk();
        --depth;
      } else if (r == 6) {
        eng->wait_for_var(vars[rng() % kVars]);  // splits an open bulk
      }
      const DagOp& op = ops[id];
      Vars rd, wr;
      for (int x : op.reads) rd.push_back(vars[x]);
      for (int x : op.writes) wr.push_back(vars[x]);
      PushOptions opt;
      opt.priority = op.priority;
      opt.run_inline = op.run_inline;
      push(*eng, [&op, id, &val] { apply_dag_op(op, id, val.data()); }, rd, wr, opt);
    }
    while (depth-- > 0) eng->end_bulk();
    eng->wait_all();
    EXPECT_EQ(val, serial) << workers << " workers";

    // A segment of 200 operations recorded once and replayed 5 times, with other operations
    // pushed in between, against the same program run serially.
    const auto seg = make_dag(200, kVars, 99);
    const auto between = make_dag(50, kVars, 98);
    std::vector<int64_t> expect = val;
    for (int round = 0; round < 6; ++round) {
      for (size_t k = 0; k < seg.size(); ++k) apply_dag_op(seg[k], static_cast<int64_t>(k), expect.data());
      for (size_t k = 0; k < between.size(); ++k) {
        apply_dag_op(between[k], static_cast<int64_t>(1000 + k), expect.data());
      }
    }
    auto push_all = [&](const std::vector<DagOp>& prog, int64_t base) {
      for (size_t k = 0; k < prog.size(); ++k) {
        Vars rd, wr;
        for (int x : prog[k].reads) rd.push_back(vars[x]);
        for (int x : prog[k].writes) wr.push_back(vars[x]);
        const DagOp* op = &prog[k];
        const int64_t id = base + static_cast<int64_t>(k);
        push(*eng, [op, id, &val] { apply_dag_op(*op, id, val.data()); }, rd, wr);
      }
    };
    eng->begin_bulk();
    push_all(seg, 0);
    std::shared_ptr<BulkReplay> replay = eng->end_bulk_for_replay();
    ASSERT_NE(replay, nullptr);
    push_all(between, 1000);
    for (int round = 1; round < 6; ++round) {
      eng->push_replay(replay);
      push_all(between, 1000);
    }
    eng->wait_all();
    EXPECT_EQ(val, expect) << workers << " workers, replayed";
    replay.reset();
    for (EngineVar* v : vars) eng->delete_var(v);
  }
}

}  // namespace
}  // namespace mxn
