// echo_bench's parts: a latency histogram, the verifiable byte streams the connections send, the
// command line, and the load generator itself (one epoll thread, see bench.cpp).
//
// Three ways to load a server: closed-loop ping-pong with one message in flight per connection,
// streaming with a window of messages in flight, or an open loop at a target rate whose latencies
// are measured from when each message should have been sent (so a server that stalls cannot hide
// its stall by slowing the client down: no coordinated omission). Every echoed byte is compared
// with what was sent.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace echolab::bench {

// Latencies in nanoseconds, log-linear buckets as in HdrHistogram: exact below 128 ns, then 64
// buckets per power of two, so a reported percentile is within 1.6% of the true value (its
// bucket's upper edge, never below the truth). Values above about 4.9 hours are clamped.
class LatencyHistogram {
 public:
  static constexpr std::uint64_t kLargest = (std::uint64_t{1} << 44) - 1;
  static constexpr std::size_t kBuckets = 64 * 37 + 128;

  static std::size_t bucket(std::uint64_t ns) noexcept {
    if (ns > kLargest) ns = kLargest;
    if (ns < 128) return static_cast<std::size_t>(ns);
    const auto shift = static_cast<std::size_t>(std::bit_width(ns)) - 7;  // ns >> shift: [64, 128)
    return 64 * shift + static_cast<std::size_t>(ns >> shift);
  }
  static std::uint64_t lowest(std::size_t index) noexcept {
    if (index < 128) return index;
    const std::size_t shift = index / 64 - 1;
    return static_cast<std::uint64_t>(index - 64 * shift) << shift;
  }
  static std::uint64_t highest(std::size_t index) noexcept {
    if (index < 128) return index;
    return lowest(index) + (std::uint64_t{1} << (index / 64 - 1)) - 1;
  }

  void record(std::uint64_t ns) noexcept {
    ++counts_[bucket(ns)];
    ++count_;
    sum_ += static_cast<double>(ns);
    if (ns < min_) min_ = ns;
    if (ns > max_) max_ = ns;
  }
  void merge(const LatencyHistogram& other) noexcept;
  void reset() noexcept { *this = LatencyHistogram(); }

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ ? sum_ / static_cast<double>(count_) : 0; }
  // The smallest value v such that at least `percent` % of the recorded values are <= v (as the
  // upper edge of v's bucket, capped at the largest value recorded). 0 when empty.
  std::uint64_t percentile(double percent) const noexcept;

 private:
  std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(kBuckets);
  std::uint64_t count_ = 0;
  double sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

// What every connection sends: its own endless byte stream, cut into messages. Stream s's byte at
// offset o is table[(o + s * kStride) % kPeriod], the table being splitmix64 output, so any run of
// up to `longest` bytes is one contiguous slice to send from or compare against, and no two
// connections (nor two messages of one connection) carry the same bytes at the same time.
class Pattern {
 public:
  static constexpr std::size_t kPeriod = 1'048'573;  // prime: no message size lines up with it
  static constexpr std::size_t kStride = 104'729;

  explicit Pattern(std::size_t longest, std::uint64_t seed = 862);

  std::size_t longest() const noexcept { return table_.size() - kPeriod; }
  // `length` (<= longest()) bytes of stream `stream` from `offset`.
  std::span<const std::byte> slice(std::uint64_t stream, std::uint64_t offset,
                                   std::size_t length) const noexcept {
    return std::span(table_).subspan((offset + stream * kStride) % kPeriod, length);
  }
  // Where `data`, received at `offset` of stream `stream`, first differs from what was sent,
  // or nullopt if it is all correct. data.size() <= longest().
  std::optional<std::size_t> mismatch(std::uint64_t stream, std::uint64_t offset,
                                      std::span<const std::byte> data) const noexcept;

 private:
  std::vector<std::byte> table_;
};

enum class Mode { pingpong, stream, rate };
const char* mode_name(Mode mode) noexcept;

struct Options {
  std::string host;
  std::uint16_t port = 0;
  Mode mode = Mode::pingpong;
  std::size_t connections = 10;
  std::size_t size = 64;        // bytes per message
  std::size_t window = 1;       // messages in flight per connection (stream mode)
  double rate = 0;              // messages per second, all connections together (rate mode)
  double warmup_seconds = 1;    // run, then forget what was measured
  double duration_seconds = 3;  // per repetition
  std::size_t repetitions = 1;
  std::optional<int> server_pid;  // sample its CPU time and peak RSS
  double drain_seconds = 10;      // at the end, how long to wait for the echoes owed, then the FIN
  std::string label;              // copied into the report
  bool json = false;              // JSON on stdout instead of a text summary
};

// Bad arguments throw echolab::UsageError; --help throws echolab::HelpRequested.
Options parse_options(std::span<char* const> args);
std::string usage(const std::string& program);

// A whole number of bytes, with an optional K, KiB, M or MiB suffix (powers of 1024): "16K".
std::size_t parse_size(const std::string& text);

// CPU time and peak memory of a process, from /proc/PID/stat and /proc/PID/status.
struct ProcessSample {
  double cpu_seconds = 0;          // user + system, all threads
  std::uint64_t peak_rss_kib = 0;  // VmHWM
  std::uint64_t rss_kib = 0;       // VmRSS
};
std::optional<ProcessSample> sample_process(int pid);
// The parser, for tests: the text of /proc/PID/stat and /proc/PID/status.
std::optional<ProcessSample> parse_process(const std::string& stat, const std::string& status,
                                           long ticks_per_second);

// One measured repetition.
struct Repetition {
  double seconds = 0;
  std::uint64_t messages = 0;  // echoes completed (all their bytes back and verified)
  std::uint64_t bytes = 0;     // echoed bytes received and verified
  LatencyHistogram latency;
  double client_cpu_seconds = 0;
  std::optional<double> server_cpu_seconds;
  std::optional<ProcessSample> server_after;

  double echoes_per_second() const {
    return seconds > 0 ? static_cast<double>(messages) / seconds : 0;
  }
  double mib_per_second() const {
    return seconds > 0 ? static_cast<double>(bytes) / seconds / (1024.0 * 1024.0) : 0;
  }
  double client_cpu_fraction() const { return seconds > 0 ? client_cpu_seconds / seconds : 0; }
  // Ping-pong throughput is min(server, client): a client that was this busy may have been the
  // limit, so the figure is a lower bound for the server.
  bool client_bound() const { return client_cpu_fraction() >= 0.9; }
};

struct Report {
  Options options;
  std::vector<Repetition> repetitions;
  std::uint64_t sent_bytes = 0;      // over the whole run, warm-up and drain included
  std::uint64_t verified_bytes = 0;  // echoed, received and equal to what was sent
  std::uint64_t mismatches = 0;      // connections whose echo differed from what they sent
  std::vector<std::string> errors;   // one line each: what went wrong, on which connection
  bool ok() const { return errors.empty() && mismatches == 0 && verified_bytes == sent_bytes; }
};

// Connects, warms up, measures, drains every echo still owed, half-closes and checks each
// connection ends with FIN and nothing more. `progress` gets a line now and then (may be empty).
// Throws echolab::Error when the connections cannot be made.
Report run(const Options& options, void (*progress)(const std::string&) = nullptr);

}  // namespace echolab::bench
