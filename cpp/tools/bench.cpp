// echo_bench's load generator: one thread, one epoll set, every connection a small state machine.
//
// The client must cost less than the server it measures, or it measures itself: ping-pong
// throughput is min(server, client). So it does per echo what the leanest server does, one recv
// and one send, with level-triggered EPOLLIN registered once (EPOLLOUT only while a send is
// stuck), one clock read per epoll_wait, and verification by memcmp against a precomputed table.
// It reports its own CPU time so a run where it was the limit says so.
#include "tools/bench.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <string_view>

#include "echolab/cli.hpp"
#include "echolab/socket.hpp"

namespace echolab::bench {

// --- LatencyHistogram ---------------------------------------------------------------------------

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

std::uint64_t LatencyHistogram::percentile(double percent) const noexcept {
  if (count_ == 0) return 0;
  const double wanted =
      std::ceil(std::clamp(percent, 0.0, 100.0) / 100.0 * static_cast<double>(count_));
  const std::uint64_t rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highest(i), max_);
  }
  return max_;
}

// --- Pattern ------------------------------------------------------------------------------------

Pattern::Pattern(std::size_t longest, std::uint64_t seed) : table_(kPeriod + longest) {
  // splitmix64, as conformance/vectors.json's seeded generator.
  std::uint64_t state = seed;
  for (std::size_t i = 0; i < kPeriod; i += 8) {
    state += 0x9e3779b97f4a7c15;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    z ^= z >> 31;
    for (std::size_t b = 0; b < 8 && i + b < kPeriod; ++b)
      table_[i + b] = static_cast<std::byte>(z >> (8 * b));
  }
  // The tail repeats the start, so every slice of up to `longest` bytes is contiguous.
  for (std::size_t i = kPeriod; i < table_.size(); ++i) table_[i] = table_[i % kPeriod];
}

std::optional<std::size_t> Pattern::mismatch(std::uint64_t stream, std::uint64_t offset,
                                             std::span<const std::byte> data) const noexcept {
  const auto expected = slice(stream, offset, data.size());
  if (std::memcmp(expected.data(), data.data(), data.size()) == 0) return std::nullopt;
  const auto [at, unused] = std::mismatch(data.begin(), data.end(), expected.begin());
  return static_cast<std::size_t>(at - data.begin());
}

// --- Command line -------------------------------------------------------------------------------

const char* mode_name(Mode mode) noexcept {
  switch (mode) {
    case Mode::pingpong:
      return "pingpong";
    case Mode::stream:
      return "stream";
    case Mode::rate:
      return "rate";
  }
  return "?";
}

std::size_t parse_size(const std::string& text) {
  std::size_t value = 0;
  const char* const last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(text.data(), last, value);
  const std::string_view suffix(end, static_cast<std::size_t>(last - end));
  std::size_t unit = 0;
  if (suffix.empty()) unit = 1;
  if (suffix == "K" || suffix == "KiB") unit = 1024;
  if (suffix == "M" || suffix == "MiB") unit = 1024 * 1024;
  constexpr std::size_t kMost = 64 * 1024 * 1024;
  if (ec != std::errc() || end == text.data() || unit == 0 || value == 0 || value > kMost / unit)
    throw UsageError(
        "--size must be a number of bytes from 1 to 64MiB (K, KiB, M, MiB allowed), "
        "not '" +
        text + "'");
  return value * unit;
}

Options parse_options(std::span<char* const> args) {
  Options options;
  std::vector<std::string> positional;
  bool window_given = false;
  bool rate_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") throw HelpRequested{};
    if (auto v = flag_value(args, i, "--mode")) {
      if (*v == "pingpong") {
        options.mode = Mode::pingpong;
      } else if (*v == "stream") {
        options.mode = Mode::stream;
      } else if (*v == "rate") {
        options.mode = Mode::rate;
      } else {
        throw UsageError("--mode must be pingpong, stream or rate, not '" + *v + "'");
      }
    } else if (auto c = flag_value(args, i, "--connections")) {
      options.connections = parse_count(*c, "--connections", 100'000);
    } else if (auto s = flag_value(args, i, "--size")) {
      options.size = parse_size(*s);
    } else if (auto w = flag_value(args, i, "--window")) {
      options.window = parse_count(*w, "--window", 1024);
      window_given = true;
    } else if (auto r = flag_value(args, i, "--rate")) {
      options.rate = parse_number(*r, "--rate", false, " of messages per second");
      rate_given = true;
    } else if (auto u = flag_value(args, i, "--warmup")) {
      options.warmup_seconds = parse_number(*u, "--warmup", true, " of seconds");
    } else if (auto d = flag_value(args, i, "--duration")) {
      options.duration_seconds = parse_number(*d, "--duration", false, " of seconds");
    } else if (auto n = flag_value(args, i, "--repetitions")) {
      options.repetitions = parse_count(*n, "--repetitions", 1000);
    } else if (auto p = flag_value(args, i, "--server-pid")) {
      options.server_pid = static_cast<int>(parse_count(*p, "--server-pid", 1 << 30));
    } else if (auto t = flag_value(args, i, "--drain-timeout")) {
      options.drain_seconds = parse_number(*t, "--drain-timeout", false, " of seconds");
    } else if (auto l = flag_value(args, i, "--label")) {
      options.label = *l;
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      throw UsageError("unknown option '" + std::string(arg) + "'");
    } else {
      positional.emplace_back(arg);
    }
  }
  if (positional.size() != 2) throw UsageError("need HOST and PORT");
  if (positional[0].empty()) throw UsageError("the host must not be empty");
  options.host = positional[0];
  options.port = parse_port(positional[1], false);
  if (window_given && options.mode != Mode::stream)
    throw UsageError("--window is for --mode stream (ping-pong has one message in flight)");
  if (rate_given != (options.mode == Mode::rate))
    throw UsageError("--rate goes with --mode rate, and --mode rate needs --rate");
  if (options.mode == Mode::stream && !window_given) options.window = 4;
  if (options.server_pid && options.server_pid <= 0) throw UsageError("bad --server-pid");
  return options;
}

std::string usage(const std::string& program) {
  return "usage: " + program +
         " [options] HOST PORT\n"
         "  Loads the echo server at HOST PORT from one epoll thread and checks every echoed "
         "byte.\n"
         "  --mode pingpong     closed loop: each connection sends a message, waits for all of "
         "its\n"
         "                      echo, sends the next (default); latency is service time\n"
         "  --mode stream       each connection keeps --window messages in flight (default 4)\n"
         "  --mode rate         open loop: --rate messages per second over all connections, each\n"
         "                      sent on schedule whatever is still outstanding; latency counts\n"
         "                      from when the message was due (no coordinated omission)\n"
         "  --connections N     connections (default 10)\n"
         "  --size BYTES        message size, K/KiB/M/MiB allowed (default 64)\n"
         "  --warmup SECONDS    load before measuring, then forgotten (default 1)\n"
         "  --duration SECONDS  length of each measured repetition (default 3)\n"
         "  --repetitions N     measured repetitions on the same connections (default 1)\n"
         "  --server-pid PID    report that process's CPU time per message and peak RSS\n"
         "  --drain-timeout S   how long to wait for the echoes still owed at the end (10)\n"
         "  --label TEXT        copied into the JSON report\n"
         "  --json              one JSON object on stdout instead of a text summary\n"
         "  Exit status: 0 when every byte came back intact and every connection ended with FIN;\n"
         "  1 otherwise, or when the server cannot be reached; 2 for bad arguments.\n"
         "example: " +
         program + " --connections 100 --size 64 --duration 5 --json 127.0.0.1 2000\n";
}

// --- /proc --------------------------------------------------------------------------------------

std::optional<ProcessSample> parse_process(const std::string& stat, const std::string& status,
                                           long ticks_per_second) {
  // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos || ticks_per_second <= 0) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  double utime = -1, stime = -1;
  for (int number = 3; fields >> field; ++number) {  // field 3 is the state
    if (number == 14) utime = std::strtod(field.c_str(), nullptr);
    if (number == 15) {
      stime = std::strtod(field.c_str(), nullptr);
      break;
    }
  }
  if (utime < 0 || stime < 0) return std::nullopt;
  ProcessSample sample;
  sample.cpu_seconds = (utime + stime) / static_cast<double>(ticks_per_second);
  std::istringstream lines(status);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("VmHWM:"))
      sample.peak_rss_kib = std::strtoull(line.c_str() + 6, nullptr, 10);
    if (line.starts_with("VmRSS:")) sample.rss_kib = std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return sample;
}

std::optional<ProcessSample> sample_process(int pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/";
  std::ifstream stat_file(dir + "stat"), status_file(dir + "status");
  if (!stat_file || !status_file) return std::nullopt;
  std::stringstream stat, status;
  stat << stat_file.rdbuf();
  status << status_file.rdbuf();
  return parse_process(stat.str(), status.str(), ::sysconf(_SC_CLK_TCK));
}

// --- The load generator -------------------------------------------------------------------------

namespace {

using Nanos = std::int64_t;

Nanos now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return Nanos{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

double seconds(Nanos ns) {
  return static_cast<double>(ns) / 1e9;
}

double own_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

// Reads are at most this long: one recv takes a whole 64 KiB streaming message and then some.
constexpr std::size_t kReadSize = 256 * 1024;

enum class Phase { warmup, measure, drain, closing, done };

struct Connection {
  Socket socket;
  std::uint64_t stream = 0;    // which byte stream of the Pattern it sends
  std::uint64_t allowed = 0;   // messages it may have started sending
  std::uint64_t sent = 0;      // bytes written so far
  std::uint64_t received = 0;  // bytes echoed, read and verified so far
  std::deque<Nanos> due;       // when each message in flight was due, oldest first
  bool want_write = false;     // EPOLLOUT is registered: a send could not finish
  bool open = true;            // false after an error or, when closing, the server's FIN
};

class Generator {
 public:
  Generator(const Options& options, void (*progress)(const std::string&))
      : options_(options),
        progress_(progress),
        pattern_(std::max(options.size, kReadSize)),
        scratch_(kReadSize),
        events_(std::min<std::size_t>(options.connections, 1024)) {
    report_.options = options;
    if (!epoll_.valid()) throw Error("epoll_create1", "cannot start", errno);
  }

  Report run() {
    connect_all();
    const Nanos start = now_ns();
    now_ = start;
    if (options_.mode == Mode::rate) {
      slot_period_ = 1e9 / options_.rate;
      schedule_start_ = start;
    } else {
      for (auto& c : connections_) allow(c, options_.window);
    }
    for (auto& c : connections_) send_allowed(c);
    phase_end_ = start + to_nanos(options_.warmup_seconds);
    say("warming up for " + std::to_string(options_.warmup_seconds) + " s");
    while (phase_ != Phase::done) {
      wait_and_handle();
      while (phase_ != Phase::done && now_ >= phase_end_) next_phase();
      if (phase_ == Phase::drain && owed_messages() == 0) next_phase();
      if (phase_ == Phase::closing && open_connections() == 0) next_phase();
    }
    return std::move(report_);
  }

 private:
  static Nanos to_nanos(double s) { return static_cast<Nanos>(s * 1e9); }

  void say(const std::string& line) {
    if (progress_ != nullptr) progress_(line);
  }

  void connect_all() {
    // Each connection holds a descriptor: ask for as many as the hard limit allows.
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
      limit.rlim_cur = limit.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    connections_.resize(options_.connections);
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      Connection& c = connections_[i];
      c.socket = connect_tcp(options_.host, options_.port);
      c.stream = i;
      const int one = 1;
      // Nagle's algorithm would hold a message back while an earlier one is unacknowledged.
      ::setsockopt(c.socket.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      const int flags = ::fcntl(c.socket.fd(), F_GETFL);
      if (flags < 0 || ::fcntl(c.socket.fd(), F_SETFL, flags | O_NONBLOCK) != 0)
        throw Error("fcntl", "cannot make connection " + std::to_string(i) + " non-blocking",
                    errno);
      watch(EPOLL_CTL_ADD, i, EPOLLIN);
    }
    say("connected " + std::to_string(connections_.size()) + " to " +
        format_host_port(options_.host, options_.port));
  }

  void watch(int operation, std::size_t index, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = index;
    if (::epoll_ctl(epoll_.fd(), operation, connections_[index].socket.fd(), &event) != 0)
      throw Error("epoll_ctl", "cannot watch connection " + std::to_string(index), errno);
  }

  // --- Phases -----------------------------------------------------------------------------------

  void next_phase() {
    switch (phase_) {
      case Phase::warmup:
        say("measuring: " + std::to_string(options_.repetitions) + " x " +
            std::to_string(options_.duration_seconds) + " s");
        begin_repetition();
        phase_ = Phase::measure;
        phase_end_ = now_ + to_nanos(options_.duration_seconds);
        return;
      case Phase::measure:
        end_repetition();
        if (report_.repetitions.size() < options_.repetitions) {
          begin_repetition();
          phase_end_ = now_ + to_nanos(options_.duration_seconds);
          return;
        }
        start_drain();
        return;
      case Phase::drain:
        for (std::size_t i = 0; i < connections_.size(); ++i) {
          Connection& c = connections_[i];
          if (c.open && !c.due.empty())
            fail(i, "the server still owed " +
                        std::to_string(c.allowed * options_.size - c.received) + " bytes after " +
                        std::to_string(options_.drain_seconds) + " s");
        }
        start_closing();
        return;
      case Phase::closing:
        for (std::size_t i = 0; i < connections_.size(); ++i)
          if (connections_[i].open)
            fail(i, "no FIN from the server within " + std::to_string(options_.drain_seconds) +
                        " s of our half-close");
        phase_ = Phase::done;
        return;
      case Phase::done:
        return;
    }
  }

  void begin_repetition() {
    current_ = Repetition{};
    rep_start_ = now_;
    cpu_start_ = own_cpu_seconds();
    server_start_ = options_.server_pid ? sample_process(*options_.server_pid) : std::nullopt;
  }

  void end_repetition() {
    current_.seconds = seconds(now_ - rep_start_);
    current_.client_cpu_seconds = own_cpu_seconds() - cpu_start_;
    if (options_.server_pid) {
      current_.server_after = sample_process(*options_.server_pid);
      if (server_start_ && current_.server_after)
        current_.server_cpu_seconds =
            current_.server_after->cpu_seconds - server_start_->cpu_seconds;
    }
    const Repetition& r = current_;
    char line[200];
    std::snprintf(line, sizeof line,
                  "repetition %zu: %.0f echoes/s, %.1f MiB/s, p50 %.1f us, p99 %.1f us, "
                  "client CPU %.0f%%",
                  report_.repetitions.size() + 1, r.echoes_per_second(), r.mib_per_second(),
                  static_cast<double>(r.latency.percentile(50)) / 1e3,
                  static_cast<double>(r.latency.percentile(99)) / 1e3,
                  100 * r.client_cpu_fraction());
    say(line);
    report_.repetitions.push_back(std::move(current_));
    current_ = Repetition{};
  }

  // No new messages: finish writing the ones begun and wait for every echo still owed.
  void start_drain() {
    phase_ = Phase::drain;
    phase_end_ = now_ + to_nanos(options_.drain_seconds);
    for (auto& c : connections_) {
      const std::uint64_t begun = (c.sent + options_.size - 1) / options_.size;
      while (c.allowed > begun) {  // rate mode: scheduled and not yet begun
        c.allowed--;
        c.due.pop_back();
      }
    }
  }

  // Half-close every connection; each must answer with FIN and not one byte more.
  void start_closing() {
    phase_ = Phase::closing;
    phase_end_ = now_ + to_nanos(options_.drain_seconds);
    for (auto& c : connections_)
      if (c.open && ::shutdown(c.socket.fd(), SHUT_WR) != 0) c.open = false;
  }

  std::uint64_t owed_messages() const {
    std::uint64_t owed = 0;
    for (const auto& c : connections_)
      if (c.open) owed += c.due.size();
    return owed;
  }

  std::size_t open_connections() const {
    return static_cast<std::size_t>(
        std::count_if(connections_.begin(), connections_.end(), [](auto& c) { return c.open; }));
  }

  // --- The loop ---------------------------------------------------------------------------------

  void wait_and_handle() {
    Nanos deadline = phase_end_;
    if (options_.mode == Mode::rate && (phase_ == Phase::warmup || phase_ == Phase::measure))
      deadline = std::min(deadline, next_slot_time());
    const Nanos wait = std::max<Nanos>(0, deadline - now_ns());
    const timespec timeout{static_cast<time_t>(wait / 1'000'000'000),
                           static_cast<long>(wait % 1'000'000'000)};
    const int count = ::epoll_pwait2(epoll_.fd(), events_.data(), static_cast<int>(events_.size()),
                                     &timeout, nullptr);
    if (count < 0 && errno != EINTR) throw Error("epoll_wait", "load generator", errno);
    now_ = now_ns();
    for (int i = 0; i < count; ++i) {
      const epoll_event& event = events_[static_cast<std::size_t>(i)];
      const std::size_t index = event.data.u64;
      if (!connections_[index].open) continue;
      if ((event.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) receive(index);
      if (connections_[index].open && (event.events & EPOLLOUT) != 0) send_allowed(index);
    }
    if (options_.mode == Mode::rate && (phase_ == Phase::warmup || phase_ == Phase::measure))
      schedule_due();
  }

  // Open loop: slot j is due at start + j / rate and belongs to connection j mod N.
  Nanos next_slot_time() const {
    return schedule_start_ + static_cast<Nanos>(static_cast<double>(next_slot_) * slot_period_);
  }

  void schedule_due() {
    while (next_slot_time() <= now_) {
      const std::size_t index = next_slot_ % connections_.size();
      Connection& c = connections_[index];
      if (c.open) {
        c.allowed++;
        c.due.push_back(next_slot_time());
        touched_.push_back(index);
      }
      ++next_slot_;
    }
    for (const std::size_t index : touched_) send_allowed(index);
    touched_.clear();
  }

  // Closed loop: `count` more messages may go, due now.
  void allow(Connection& c, std::size_t count) {
    c.allowed += count;
    for (std::size_t i = 0; i < count; ++i) c.due.push_back(now_);
  }

  void send_allowed(std::size_t index) { send_allowed(connections_[index], index); }
  void send_allowed(Connection& c) {
    send_allowed(c, static_cast<std::size_t>(&c - connections_.data()));
  }

  void send_allowed(Connection& c, std::size_t index) {
    const std::uint64_t end = c.allowed * options_.size;
    while (c.sent < end) {
      const std::size_t length =
          static_cast<std::size_t>(std::min<std::uint64_t>(end - c.sent, pattern_.longest()));
      const auto data = pattern_.slice(c.stream, c.sent, length);
      const ssize_t n = ::send(c.socket.fd(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return fail(index, std::string("send: ") + std::strerror(errno));
      }
      c.sent += static_cast<std::uint64_t>(n);
      report_.sent_bytes += static_cast<std::uint64_t>(n);
    }
    const bool stuck = c.sent < end;
    if (stuck != c.want_write) {
      watch(EPOLL_CTL_MOD, index, stuck ? EPOLLIN | EPOLLOUT : EPOLLIN);
      c.want_write = stuck;
    }
  }

  void receive(std::size_t index) {
    Connection& c = connections_[index];
    const ssize_t n = ::recv(c.socket.fd(), scratch_.data(), scratch_.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      return fail(index, std::string("recv: ") + std::strerror(errno));
    }
    if (n == 0) {
      if (phase_ == Phase::closing && c.received == c.sent) {
        c.open = false;  // the FIN we asked for: a clean end
        c.socket.close();
        return;
      }
      return fail(index, "the server closed the connection with " +
                             std::to_string(c.sent - c.received) + " bytes still owed");
    }
    const auto data = std::span(scratch_).first(static_cast<std::size_t>(n));
    if (c.received + data.size() > c.sent) {
      report_.mismatches++;
      return fail(index, "the server sent " + std::to_string(c.received + data.size() - c.sent) +
                             " bytes more than it was sent");
    }
    if (const auto at = pattern_.mismatch(c.stream, c.received, data)) {
      report_.mismatches++;
      return fail(index, "echo differs from what was sent at byte " +
                             std::to_string(c.received + *at) + " of the connection");
    }
    c.received += data.size();
    report_.verified_bytes += data.size();
    const bool recording = phase_ == Phase::measure;
    if (recording) current_.bytes += data.size();
    // Every message whose last byte is now back is complete.
    std::size_t completed = 0;
    while (!c.due.empty() && c.received >= (c.allowed - c.due.size() + 1) * options_.size) {
      if (recording) {
        current_.latency.record(
            static_cast<std::uint64_t>(std::max<Nanos>(0, now_ - c.due.front())));
        current_.messages++;
      }
      c.due.pop_front();
      ++completed;
    }
    if (completed > 0 && options_.mode != Mode::rate &&
        (phase_ == Phase::warmup || phase_ == Phase::measure)) {
      allow(c, completed);
      send_allowed(c, index);
    }
  }

  void fail(std::size_t index, const std::string& why) {
    Connection& c = connections_[index];
    report_.errors.push_back("connection " + std::to_string(index) + ": " + why);
    c.open = false;
    c.due.clear();
    c.socket.close();  // epoll forgets it
  }

  const Options& options_;
  void (*progress_)(const std::string&);
  Pattern pattern_;
  std::vector<std::byte> scratch_;
  std::vector<epoll_event> events_;
  Socket epoll_{::epoll_create1(EPOLL_CLOEXEC)};
  std::vector<Connection> connections_;
  std::vector<std::size_t> touched_;
  Phase phase_ = Phase::warmup;
  Nanos now_ = 0;
  Nanos phase_end_ = 0;
  // Open loop.
  double slot_period_ = 0;
  Nanos schedule_start_ = 0;
  std::uint64_t next_slot_ = 0;
  // The repetition being measured.
  Report report_;
  Repetition current_;
  Nanos rep_start_ = 0;
  double cpu_start_ = 0;
  std::optional<ProcessSample> server_start_;
};

}  // namespace

Report run(const Options& options, void (*progress)(const std::string&)) {
  return Generator(options, progress).run();
}

}  // namespace echolab::bench
