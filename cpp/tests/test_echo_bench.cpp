// echo_bench's parts: the histogram's percentiles, the byte streams it verifies echoes against,
// its command line, the /proc parser, and whole runs against async_echo_server in process.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "echolab/cli.hpp"
#include "servers/servers.hpp"
#include "support.hpp"
#include "tools/bench.hpp"

namespace echolab::bench {
namespace {

using testing::Args;

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_EQ(h.percentile(50), 50u);
  EXPECT_EQ(h.percentile(99), 99u);
  EXPECT_EQ(h.percentile(100), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogram, BucketsTileTheRangeWithoutGapsOrOverlaps) {
  for (std::size_t i = 0; i + 1 < LatencyHistogram::kBuckets; ++i) {
    ASSERT_EQ(LatencyHistogram::highest(i) + 1, LatencyHistogram::lowest(i + 1)) << "bucket " << i;
    ASSERT_EQ(LatencyHistogram::bucket(LatencyHistogram::lowest(i)), i);
    ASSERT_EQ(LatencyHistogram::bucket(LatencyHistogram::highest(i)), i);
  }
  EXPECT_EQ(LatencyHistogram::bucket(LatencyHistogram::kLargest), LatencyHistogram::kBuckets - 1);
  EXPECT_EQ(LatencyHistogram::bucket(UINT64_MAX), LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogram, PercentilesAreWithinTheStatedErrorAndNeverBelowTheTruth) {
  std::mt19937_64 random(42);
  std::lognormal_distribution<double> latency(std::log(50'000.0), 1.0);  // ~50 us, long tail
  std::vector<std::uint64_t> values(100'000);
  LatencyHistogram h;
  for (auto& v : values) {
    v = static_cast<std::uint64_t>(latency(random));
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (const double p : {50.0, 90.0, 99.0, 99.9}) {
    const auto rank =
        static_cast<std::size_t>(std::ceil(p / 100 * static_cast<double>(values.size())));
    const double truth = static_cast<double>(values[rank - 1]);
    const double reported = static_cast<double>(h.percentile(p));
    EXPECT_GE(reported, truth) << "p" << p;
    EXPECT_LE(reported, truth * 1.016) << "p" << p;
  }
  EXPECT_EQ(h.percentile(100), values.back());
  EXPECT_EQ(h.max(), values.back());
}

TEST(LatencyHistogram, MergeAndReset) {
  LatencyHistogram a, b;
  a.record(1000);
  b.record(3000);
  b.record(5);
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.min(), 5u);
  EXPECT_EQ(a.max(), 3000u);
  a.reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.percentile(99), 0u);
  EXPECT_EQ(a.max(), 0u);
}

TEST(Pattern, SlicesAreContiguousAcrossThePeriodAndDifferPerStream) {
  const Pattern pattern(4096);
  EXPECT_EQ(pattern.longest(), 4096u);
  // Byte by byte and as one slice across the wrap, the stream reads the same.
  const std::uint64_t offset = Pattern::kPeriod - 100;
  const auto whole = pattern.slice(3, offset, 300);
  for (std::size_t i = 0; i < 300; ++i)
    ASSERT_EQ(whole[i], pattern.slice(3, offset + i, 1)[0]) << i;
  EXPECT_FALSE(std::equal(whole.begin(), whole.end(), pattern.slice(4, offset, 300).begin()));
}

TEST(Pattern, MismatchFindsTheFirstWrongByte) {
  const Pattern pattern(1024);
  auto bytes = std::vector<std::byte>(pattern.slice(7, 5000, 512).begin(),
                                      pattern.slice(7, 5000, 512).end());
  EXPECT_FALSE(pattern.mismatch(7, 5000, bytes).has_value());
  bytes[300] ^= std::byte{1};
  EXPECT_EQ(pattern.mismatch(7, 5000, bytes), 300u);
  EXPECT_TRUE(pattern.mismatch(7, 5001, bytes).has_value()) << "one byte out of step";
}

TEST(BenchOptions, DefaultsAndEveryFlag) {
  auto o = parse_options(Args{"127.0.0.1", "2000"}.span());
  EXPECT_EQ(o.mode, Mode::pingpong);
  EXPECT_EQ(o.connections, 10u);
  EXPECT_EQ(o.size, 64u);
  EXPECT_EQ(o.window, 1u);
  o = parse_options(Args{"--mode",
                         "stream",
                         "--connections=1000",
                         "--size",
                         "64K",
                         "--window",
                         "8",
                         "--warmup",
                         "0",
                         "--duration",
                         "0.5",
                         "--repetitions",
                         "3",
                         "--server-pid",
                         "42",
                         "--json",
                         "--label",
                         "x",
                         "::1",
                         "9"}
                        .span());
  EXPECT_EQ(o.mode, Mode::stream);
  EXPECT_EQ(o.connections, 1000u);
  EXPECT_EQ(o.size, 65536u);
  EXPECT_EQ(o.window, 8u);
  EXPECT_DOUBLE_EQ(o.warmup_seconds, 0);
  EXPECT_DOUBLE_EQ(o.duration_seconds, 0.5);
  EXPECT_EQ(o.repetitions, 3u);
  EXPECT_EQ(o.server_pid, 42);
  EXPECT_TRUE(o.json);
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 9);
  EXPECT_EQ(parse_options(Args{"--mode", "stream", "h", "1"}.span()).window, 4u);
  EXPECT_DOUBLE_EQ(parse_options(Args{"--mode", "rate", "--rate", "5e4", "h", "1"}.span()).rate,
                   50000);
}

TEST(BenchOptions, BadArgumentsAreUsageErrors) {
  for (const auto& args :
       {Args{}, Args{"h"}, Args{"h", "0"}, Args{"", "1"}, Args{"--size", "0", "h", "1"},
        Args{"--size", "1G", "h", "1"}, Args{"--size", "65M", "h", "1"},
        Args{"--connections", "0", "h", "1"}, Args{"--mode", "burst", "h", "1"},
        Args{"--window", "4", "h", "1"}, Args{"--mode", "rate", "h", "1"},
        Args{"--rate", "10", "h", "1"}, Args{"--duration", "0", "h", "1"},
        Args{"--duration", "-1", "h", "1"}, Args{"--bogus", "h", "1"}, Args{"h", "1", "x"}}) {
    EXPECT_THROW(parse_options(args.span()), UsageError);
  }
  EXPECT_THROW(parse_options(Args{"--help"}.span()), HelpRequested);
}

TEST(BenchOptions, Sizes) {
  EXPECT_EQ(parse_size("1"), 1u);
  EXPECT_EQ(parse_size("16K"), 16384u);
  EXPECT_EQ(parse_size("16KiB"), 16384u);
  EXPECT_EQ(parse_size("1MiB"), 1048576u);
  EXPECT_THROW(parse_size("16k"), UsageError);
  EXPECT_THROW(parse_size("K"), UsageError);
}

TEST(ProcessSample, ParsesStatAndStatus) {
  // A command name with spaces and a parenthesis, as /proc shows it.
  const std::string stat =
      "1234 (a (b) c) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 1 0 100 1000 200";
  const std::string status =
      "Name:\ta\nVmPeak:\t  9000 kB\nVmHWM:\t    4321 kB\nVmRSS:\t    4000 kB\n";
  const auto sample = parse_process(stat, status, 100);
  ASSERT_TRUE(sample.has_value());
  EXPECT_DOUBLE_EQ(sample->cpu_seconds, 3.0);
  EXPECT_EQ(sample->peak_rss_kib, 4321u);
  EXPECT_EQ(sample->rss_kib, 4000u);
  EXPECT_FALSE(parse_process("garbage", status, 100).has_value());
  EXPECT_TRUE(sample_process(::getpid()).has_value());
}

// Whole runs of the load generator against async_echo_server, in process.
Options quick(Mode mode, std::uint16_t port, std::size_t connections, std::size_t size) {
  Options o;
  o.host = "127.0.0.1";
  o.port = port;
  o.mode = mode;
  o.connections = connections;
  o.size = size;
  o.warmup_seconds = 0.05;
  o.duration_seconds = 0.2;
  o.repetitions = 2;
  o.server_pid = ::getpid();
  if (mode == Mode::stream) o.window = 4;
  if (mode == Mode::rate) o.rate = 2000;
  return o;
}

TEST(BenchRun, EveryModeVerifiesEveryByteAgainstAGoodServer) {
  testing::ServerThread server(serve_async);
  for (const Options& o :
       {quick(Mode::pingpong, server.port(), 20, 100), quick(Mode::stream, server.port(), 3, 65536),
        quick(Mode::rate, server.port(), 10, 1000)}) {
    const Report report = run(o);
    EXPECT_TRUE(report.ok()) << mode_name(o.mode) << ": "
                             << (report.errors.empty() ? "" : report.errors.front());
    EXPECT_GT(report.verified_bytes, 0u);
    EXPECT_EQ(report.verified_bytes, report.sent_bytes);
    ASSERT_EQ(report.repetitions.size(), 2u);
    for (const Repetition& r : report.repetitions) {
      EXPECT_GT(r.messages, 0u) << mode_name(o.mode);
      EXPECT_EQ(r.latency.count(), r.messages);
      EXPECT_EQ(r.bytes >= r.messages * o.size - o.size * o.connections * o.window, true);
      EXPECT_TRUE(r.server_cpu_seconds.has_value());
      EXPECT_GT(r.server_after->peak_rss_kib, 0u);
    }
  }
}

TEST(BenchRun, OpenLoopKeepsToTheRate) {
  testing::ServerThread server(serve_async);
  Options o = quick(Mode::rate, server.port(), 4, 64);
  o.rate = 5000;
  o.duration_seconds = 0.4;
  o.repetitions = 1;
  const Report report = run(o);
  ASSERT_TRUE(report.ok());
  // Near the rate, far below what a closed loop does on loopback (tens of thousands a second);
  // the margin is a loaded machine's: make test runs this niced beside the pytest suites.
  EXPECT_NEAR(report.repetitions[0].echoes_per_second(), 5000, 1250);
}

// A server that corrupts one byte in the middle of the stream.
ServeFunction corrupting() {
  return testing::scripted([](Socket& connection) {
    std::array<std::byte, 4096> buffer;
    std::uint64_t seen = 0;
    while (const std::size_t n = read_some(connection.fd(), buffer)) {
      if (seen <= 10'000 && seen + n > 10'000) buffer[10'000 - seen] ^= std::byte{0x20};
      seen += n;
      write_all(connection.fd(), std::span<const std::byte>(buffer.data(), n));
    }
    ::shutdown(connection.fd(), SHUT_WR);
  });
}

TEST(BenchRun, ACorruptedByteFailsTheRun) {
  testing::ServerThread server(corrupting());
  Options o = quick(Mode::pingpong, server.port(), 1, 1000);
  o.server_pid.reset();
  const Report report = run(o);
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.mismatches, 1u);
  ASSERT_FALSE(report.errors.empty());
  EXPECT_NE(report.errors.front().find("differs"), std::string::npos) << report.errors.front();
}

// A server that swallows its client's half-close: no FIN ever comes back.
ServeFunction never_closing() {
  return testing::scripted([](Socket& connection) {
    std::array<std::byte, 4096> buffer;
    while (const std::size_t n = read_some(connection.fd(), buffer))
      write_all(connection.fd(), std::span<const std::byte>(buffer.data(), n));
    std::this_thread::sleep_for(std::chrono::seconds(1));
  });
}

TEST(BenchRun, AMissingFinFailsTheRun) {
  testing::ServerThread server(never_closing());
  Options o = quick(Mode::pingpong, server.port(), 1, 64);
  o.server_pid.reset();
  o.repetitions = 1;
  o.drain_seconds = 0.5;
  const Report report = run(o);
  EXPECT_FALSE(report.ok());
  ASSERT_FALSE(report.errors.empty());
  EXPECT_NE(report.errors.front().find("no FIN"), std::string::npos) << report.errors.front();
}

}  // namespace
}  // namespace echolab::bench
