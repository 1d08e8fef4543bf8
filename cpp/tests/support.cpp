#include "support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace echolab::testing {

namespace {

std::string from_hex(const std::string& hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

std::vector<Vector> load_vectors() {
  std::ifstream file(ECHO_LAB_VECTORS);
  if (!file) throw std::runtime_error("cannot open " + std::string(ECHO_LAB_VECTORS));
  const auto doc = nlohmann::json::parse(file);
  std::vector<Vector> result;
  for (const auto& entry : doc.at("vectors")) {
    Vector v{entry.at("name").get<std::string>(), {}};
    if (entry.contains("hex")) {
      v.bytes = from_hex(entry.at("hex").get<std::string>());
    } else {
      const auto& gen = entry.at("splitmix64");
      v.bytes =
          seeded_bytes(gen.at("seed").get<std::uint64_t>(), gen.at("length").get<std::size_t>());
    }
    if (v.bytes.size() != entry.at("length").get<std::size_t>())
      throw std::runtime_error("vector " + v.name + " has the wrong length");
    result.push_back(std::move(v));
  }
  return result;
}

// Both ends of a pipe, closed on destruction.
struct Pipe {
  Socket read_end;
  Socket write_end;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw Error("pipe2", "cannot make a pipe", errno);
    read_end = Socket(fds[0]);
    write_end = Socket(fds[1]);
  }
};

std::string read_to_end(int fd) {
  std::string data;
  std::array<std::byte, 65536> buffer;
  while (const std::size_t n = read_some(fd, buffer))
    data.append(reinterpret_cast<const char*>(buffer.data()), n);
  return data;
}

// Appends what arrives on fd to result until the server closes, then waits for the writer; a
// reset or a vanished server is recorded, not thrown.
void read_until_closed(int fd, std::future<void>& writer, Exchange& result) {
  std::array<std::byte, 65536> buffer;
  try {
    while (const std::size_t n = read_some(fd, buffer))
      result.received.append(reinterpret_cast<const char*>(buffer.data()), n);
    result.fin = true;
  } catch (const Error& e) {
    if (e.code() != std::errc::connection_reset) throw;
    result.reset = true;
  }
  try {
    writer.get();
  } catch (const Error& e) {
    if (!is_disconnect(e.code())) throw;
  }
}

std::string hex_window(const std::string& bytes, std::size_t offset, std::size_t& caret_column) {
  const std::size_t begin = offset >= 8 ? offset - 8 : 0;
  const std::size_t end = std::min(bytes.size(), begin + 16);
  std::string hex;
  std::string ascii;
  char cell[4];
  for (std::size_t i = begin; i < end; ++i) {
    if (i == offset) caret_column = hex.size();
    const auto byte = static_cast<unsigned char>(bytes[i]);
    std::snprintf(cell, sizeof cell, "%02x ", byte);
    hex += cell;
    ascii += (byte >= 0x20 && byte < 0x7f) ? static_cast<char>(byte) : '.';
  }
  if (offset >= end) caret_column = hex.size();
  return hex + " |" + ascii + "|";
}

}  // namespace

std::string seeded_bytes(std::uint64_t seed, std::size_t length) {
  std::string bytes;
  bytes.reserve(length + 8);
  std::uint64_t state = seed;
  while (bytes.size() < length) {
    state += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((z >> (8 * i)) & 0xff));
  }
  bytes.resize(length);
  return bytes;
}

const std::vector<Vector>& vectors() {
  static const std::vector<Vector> all = load_vectors();
  return all;
}

const Vector& vector(const std::string& name) {
  for (const auto& v : vectors())
    if (v.name == name) return v;
  throw std::runtime_error("no vector named " + name + " in vectors.json");
}

ServerThread::ServerThread(const ServeFunction& serve, const std::string& host,
                           const ServerOptions& options)
    : stopper_(to_milliseconds(options.drain_timeout_seconds)),
      listener_(listen_tcp(host, 0)),
      port_(local_host_port(listener_.fd()).port) {
  ignore_sigpipe();  // a test that provokes EPIPE must fail, not kill the test process
  thread_ = std::thread([this, serve, options] {
    try {
      const auto refusing = stopper_.track_listener(listener_.fd());
      serve(listener_, stopper_, options);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the server failed: " << e.what();
    }
    finished_ = true;
  });
}

bool ServerThread::stop_and_join(std::chrono::milliseconds limit) {
  stopper_.request();
  return join(limit);
}

bool ServerThread::join(std::chrono::milliseconds limit) {
  const auto wait_until = [this](std::chrono::steady_clock::time_point deadline) {
    while (!finished_ && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return finished_.load();
  };
  const auto start = std::chrono::steady_clock::now();
  const bool in_time = wait_until(start + limit);
  // The server thread uses this object, so it cannot be abandoned: a server that ignores the
  // stop for 10 s more ends the test process with a message rather than hanging it.
  if (!in_time && !wait_until(start + limit + std::chrono::seconds(10))) {
    std::fprintf(stderr, "the server ignored the stop request for %lld ms; aborting\n",
                 static_cast<long long>(limit.count()) + 10000);
    std::abort();
  }
  thread_.join();
  return in_time;
}

ServerThread::~ServerThread() {
  if (!thread_.joinable()) return;
  stopper_.request();  // the drain
  stop_and_join();     // and at once the cut: a test does not wait for its clients
}

ServerProcess::ServerProcess(const std::string& program, const std::vector<std::string>& args,
                             std::optional<rlim_t> descriptor_limit) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw Error("pipe2", "cannot make a pipe", errno);
  Socket read_end(out[0]);
  Socket write_end(out[1]);
  std::vector<std::string> words{std::string(ECHO_LAB_BIN_DIR) + "/" + program, "--host",
                                 "::", "--port", "0"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0) throw Error("fork", "cannot start " + program, errno);
  if (pid_ == 0) {  // the child: only async-signal-safe calls from here
    ::dup2(write_end.fd(), STDOUT_FILENO);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, STDERR_FILENO);
    if (descriptor_limit) {
      const rlimit limit{*descriptor_limit, *descriptor_limit};
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  write_end.close();
  set_timeouts(read_end.fd(), std::chrono::seconds(10));
  std::string line;
  char c = 0;
  while (line.size() < 200 && ::read(read_end.fd(), &c, 1) == 1 && c != '\n') line += c;
  const auto colon = line.rfind(':');
  if (!line.starts_with("listening on ") || colon == std::string::npos)
    throw std::runtime_error(program + " did not say it was listening: '" + line + "'");
  port_ = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
}

ServerProcess::~ServerProcess() {
  if (!exited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void ServerProcess::signal(int number) const {
  ::kill(pid_, number);
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exited_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= give_up) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

namespace {

std::size_t entries(const std::filesystem::path& dir) {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir),
                                                std::filesystem::directory_iterator()));
}

}  // namespace

std::size_t ServerProcess::open_descriptors() const {
  return entries(std::filesystem::path("/proc") / std::to_string(pid_) / "fd");
}

std::size_t ServerProcess::threads() const {
  return entries(std::filesystem::path("/proc") / std::to_string(pid_) / "task");
}

double ServerProcess::cpu_seconds() const {
  std::ifstream file("/proc/" + std::to_string(pid_) + "/stat");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may contain spaces.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

void set_timeouts(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

Exchange echo_exchange(const std::string& host, std::uint16_t port, const std::string& data,
                       std::size_t chunk, std::chrono::milliseconds timeout) {
  Socket connection = connect_tcp(host, port);
  set_timeouts(connection.fd(), timeout);
  auto writer = std::async(std::launch::async, [&] {
    for (std::size_t sent = 0; sent < data.size(); sent += chunk)
      write_all(connection.fd(), std::string_view(data).substr(sent, chunk));
    ::shutdown(connection.fd(), SHUT_WR);
  });
  Exchange result;
  read_until_closed(connection.fd(), writer, result);
  return result;
}

StreamInFlight::StreamInFlight(const std::string& host, std::uint16_t port, std::string data,
                               std::size_t chunk)
    : socket_(connect_tcp(host, port)), data_(std::move(data)), chunk_(chunk) {
  set_timeouts(socket_.fd(), std::chrono::seconds(20));
  const std::string_view first = std::string_view(data_).substr(0, chunk_);
  write_all(socket_.fd(), first);
  if (read_exactly(socket_.fd(), first.size()) != first)
    throw std::runtime_error("the first chunk of a stream came back altered");
}

Exchange StreamInFlight::finish() {
  auto writer = std::async(std::launch::async, [this] {
    for (std::size_t sent = chunk_; sent < data_.size(); sent += chunk_)
      write_all(socket_.fd(), std::string_view(data_).substr(sent, chunk_));
    ::shutdown(socket_.fd(), SHUT_WR);
  });
  Exchange result;
  result.received = data_.substr(0, chunk_);
  read_until_closed(socket_.fd(), writer, result);
  return result;
}

void expect_concurrent_echoes(std::uint16_t port, std::size_t count, std::size_t bytes,
                              std::uint64_t seed, std::size_t chunk,
                              std::chrono::milliseconds timeout) {
  std::vector<std::future<void>> clients;
  for (std::size_t i = 0; i < count; ++i) {
    clients.push_back(std::async(std::launch::async, [=] {
      const std::string data = seeded_bytes(seed + i, bytes);
      const Exchange result =
          echo_exchange(i % 2 ? "::1" : "127.0.0.1", port, data, chunk, timeout);
      EXPECT_BYTES_EQ(data, result.received) << "client " << i;
      EXPECT_TRUE(result.fin) << "client " << i;
    }));
  }
  for (auto& client : clients) client.get();
}

ClientRun run_with_io(const std::function<void(const ClientIo&)>& body, const std::string& input) {
  ignore_sigpipe();
  Pipe in;
  Pipe out;
  auto feeder = std::async(std::launch::async, [&] {
    try {
      write_all(in.write_end.fd(), input);
    } catch (const Error&) {
      // The client stopped reading (BYE, or a failure): the rest of the input is not needed.
    }
    in.write_end.close();
  });
  auto collector = std::async(std::launch::async, [&] { return read_to_end(out.read_end.fd()); });

  ClientRun result;
  try {
    body(ClientIo{in.read_end.fd(), out.write_end.fd(), false});
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  out.write_end.close();
  in.read_end.close();  // unblocks the feeder if the client stopped reading early
  feeder.get();
  result.output = collector.get();
  return result;
}

ClientRun run_client(const RunFunction& run, const std::string& host, std::uint16_t port,
                     const std::string& input, const ClientOptions& options) {
  return run_with_io(
      [&](const ClientIo& io) {
        Socket connection = connect_tcp(host, port);
        run(connection, io, options);
      },
      input);
}

ServeFunction scripted(std::function<void(Socket& connection)> session) {
  return [session](Socket& listener, Stopper& stopper, const ServerOptions&) {
    while (auto connection = accept_connection(listener, stopper)) {
      const auto tracked = stopper.track(connection->fd());
      set_timeouts(connection->fd(), std::chrono::seconds(20));
      try {
        session(*connection);
      } catch (const Error& e) {
        if (!is_disconnect(e.code())) throw;
      } catch (const ConnectionLost&) {
      }
    }
  };
}

ServeFunction Recorder::serve() {
  return scripted([this](Socket& connection) {
    std::array<std::byte, 4096> buffer;
    while (const std::size_t n = read_some(connection.fd(), buffer)) {
      {
        const std::lock_guard lock(mutex);
        received.append(reinterpret_cast<const char*>(buffer.data()), n);
      }
      write_all(connection.fd(), std::span(buffer).first(n));
    }
  });
}

ServeFunction in_two_pieces() {
  return scripted([](Socket& connection) {
    std::array<std::byte, 4096> buffer;
    while (const std::size_t n = read_some(connection.fd(), buffer)) {
      write_all(connection.fd(), std::span(buffer).first(1));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      write_all(connection.fd(), std::span(buffer).subspan(1, n - 1));
    }
  });
}

ServeFunction then_vanish() {
  return scripted(
      [](Socket& connection) { write_all(connection.fd(), read_exactly(connection.fd(), 3)); });
}

std::string expected_transcript(const std::string& input) {
  std::string transcript;
  std::size_t start = 0;
  while (start < input.size()) {
    auto end = input.find('\n', start);
    if (end == std::string::npos) end = input.size();
    const std::string line = input.substr(start, end - start);
    if (line == "BYE" || line == "BYE\r") break;
    transcript += "Echoed: '" + line + "'\n";
    start = end + 1;
  }
  return transcript;
}

::testing::AssertionResult BytesEqual(const char* expected_expr, const char* actual_expr,
                                      const std::string& expected, const std::string& actual) {
  if (expected == actual) return ::testing::AssertionSuccess();
  std::size_t offset = 0;
  while (offset < expected.size() && offset < actual.size() && expected[offset] == actual[offset])
    ++offset;
  std::size_t caret_expected = 0;
  std::size_t caret_actual = 0;
  const std::string expected_line = hex_window(expected, offset, caret_expected);
  const std::string actual_line = hex_window(actual, offset, caret_actual);
  return ::testing::AssertionFailure()
         << actual_expr << " differs from " << expected_expr << "\n  expected " << expected.size()
         << " bytes, received " << actual.size() << " bytes; first difference at offset " << offset
         << "\n  expected: " << expected_line << "\n            "
         << std::string(caret_expected, ' ') << "^\n  received: " << actual_line << "\n            "
         << std::string(caret_actual, ' ') << "^";
}

}  // namespace echolab::testing
