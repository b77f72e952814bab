// dist_async's pieces that need no MPI: where keys live (MXNet's placement) and the optimizer
// configuration the workers send to the servers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "core/base/error.h"
#include "core/kvstore/dist_async.h"
#include "core/train/config.h"
#include "core/train/lr_scheduler.h"
#include "core/train/optimizer.h"
#include "core/train/train_util.h"

using namespace mxn;
using mxn::kv::Key;
using mxn::kv::Shard;

namespace {

Key int_key(int64_t i) { return Key{std::to_string(i), true, i}; }
Key str_key(const std::string& s) { return Key{s, false, 0}; }

}  // namespace

TEST(KVStorePlacement, SmallArraysGoWholeToServerByKeyHash) {
  // MXNet's EncodeDefaultKey: server = (key * 9973) % num_servers for int keys.
  for (int servers : {1, 2, 3, 4, 7}) {
    for (int64_t k : {0, 1, 2, 3, 10, 99, 12345}) {
      auto p = kv::place_key(kv::key_hash(int_key(k)), 1000, servers, 1000000);
      ASSERT_EQ(p.size(), 1u);
      EXPECT_EQ(p[0].server, static_cast<int>((k * 9973) % servers)) << k << " " << servers;
      EXPECT_EQ(p[0].offset, 0);
      EXPECT_EQ(p[0].count, 1000);
    }
  }
  // String keys: FNV-1a of the name, the same on every worker; names spread over servers.
  const uint64_t h = kv::key_hash(str_key("fc1_weight"));
  EXPECT_EQ(h, kv::key_hash(str_key("fc1_weight")));
  EXPECT_NE(h, kv::key_hash(str_key("fc1_bias")));
  int used[4] = {0, 0, 0, 0};
  for (int i = 0; i < 64; ++i) {
    auto p = kv::place_key(kv::key_hash(str_key("layer" + std::to_string(i) + "_weight")), 10,
                           4, 1000000);
    ASSERT_EQ(p.size(), 1u);
    ASSERT_GE(p[0].server, 0);
    ASSERT_LT(p[0].server, 4);
    ++used[p[0].server];
  }
  for (int u : used) EXPECT_GT(u, 4);  // no server left out
  // Just under the bound: still whole.
  EXPECT_EQ(kv::place_key(5, 999, 3, 1000).size(), 1u);
}

TEST(KVStorePlacement, LargeArraysAreSplitAcrossAllServers) {
  // At the bound and above: every server holds round(n*i/S) .. round(n*(i+1)/S).
  for (int servers : {1, 2, 3, 4}) {
    for (int64_t n : {1000, 1001, 1002, 2500000, 1000003}) {
      auto p = kv::place_key(kv::key_hash(int_key(7)), n, servers, 1000);
      ASSERT_EQ(p.size(), static_cast<size_t>(servers));
      int64_t at = 0;
      for (int i = 0; i < servers; ++i) {
        EXPECT_EQ(p[i].server, i);
        EXPECT_EQ(p[i].offset, at);
        const auto want = static_cast<int64_t>(std::round(double(n) / servers * (i + 1))) -
                          static_cast<int64_t>(std::round(double(n) / servers * i));
        EXPECT_EQ(p[i].count, want);
        EXPECT_LE(std::abs(p[i].count - n / servers), 1);
        at += p[i].count;
      }
      EXPECT_EQ(at, n);
    }
  }
  // The placement ignores the key for large arrays (every key is split the same way).
  EXPECT_EQ(kv::place_key(1, 3000, 3, 1000), kv::place_key(2, 3000, 3, 1000));
  EXPECT_THROW(kv::place_key(1, 10, 0, 1000), Error);
}

TEST(KVStoreAsyncConfig, OptimizerConfigurationRoundTrips) {
  const char* keys[] = {"learning_rate", "momentum", "wd", "rescale_grad", "clip_gradient"};
  ParamValue vals[] = {ParamValue::of_float(0.1), ParamValue::of_float(0.9),
                       ParamValue::of_float(1e-4), ParamValue::of_float(1.0 / 3.0),
                       ParamValue::of_float(5.0)};
  auto opt = train::Optimizer::create("sgd", 5, keys, vals);
  opt->set_param_name(0, "fc1_weight");
  opt->set_param_name(1, "fc1_bias");
  opt->set_mult(0, train::ParamKey::of_name("fc1_weight"), 0.5);
  opt->set_mult(1, train::ParamKey::of_index(3), 2.0);
  const char* sk[] = {"step", "factor", "base_lr"};
  ParamValue sv[] = {ParamValue::of_int(10), ParamValue::of_float(0.5), ParamValue::of_float(0.1)};
  const train::ConfigDef& sdef = train::ConfigRegistry::get().find("lr_scheduler", "factor");
  opt->set_scheduler(std::make_shared<train::LRScheduler>(sdef, train::parse_config(sdef, 3, sk, sv)));

  const std::string bytes = opt->config();
  auto back = train::Optimizer::from_config(bytes.data(), bytes.size());
  EXPECT_EQ(back->name(), "sgd");
  for (const char* k : {"momentum", "wd", "rescale_grad", "clip_gradient", "multi_precision"}) {
    EXPECT_EQ(back->get_param(k), opt->get_param(k)) << k;
  }
  EXPECT_EQ(back->get_param("rescale_grad").f, 1.0 / 3.0);  // float64 bits, not text
  ASSERT_NE(back->scheduler(), nullptr);
  EXPECT_EQ(back->scheduler()->name(), "factor");
  for (auto key : {train::ParamKey::of_name("fc1_weight"), train::ParamKey::of_name("fc1_bias"),
                   train::ParamKey::of_index(0), train::ParamKey::of_index(1),
                   train::ParamKey::of_index(3)}) {
    EXPECT_EQ(back->learning_rate(key), opt->learning_rate(key)) << key.str();
    EXPECT_EQ(back->weight_decay(key), opt->weight_decay(key)) << key.str();
  }
  EXPECT_EQ(back->weight_decay(train::ParamKey::of_name("fc1_bias")), 0.0);  // known, not _weight
  EXPECT_EQ(back->learning_rate(train::ParamKey::of_name("fc1_weight")), 0.05);

  // The same config again gives the same bytes; corrupt bytes are refused, never guessed.
  EXPECT_EQ(back->config(), bytes);
  for (size_t cut = 0; cut < bytes.size(); cut += 7) {
    EXPECT_THROW(train::Optimizer::from_config(bytes.data(), cut), Error) << cut;
  }
  std::string bad = bytes;
  bad[12] = 'X';  // the optimizer's name: not registered
  EXPECT_THROW(train::Optimizer::from_config(bad.data(), bad.size()), Error);
}
