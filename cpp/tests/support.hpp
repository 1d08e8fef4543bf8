// What the tests share: the byte vectors every suite uses, a server running in a thread of the
// test process or as a program of its own, clients that read while they write, and byte
// comparisons that say where and how two byte strings differ.
#pragma once

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "echolab/accept.hpp"
#include "echolab/client_io.hpp"
#include "echolab/program.hpp"
#include "echolab/socket.hpp"
#include "echolab/stop.hpp"

namespace echolab::testing {

// An argv for the parsers, which take it without the program name: Args{"--port", "0"}.span().
class Args {
 public:
  Args(std::initializer_list<const char*> words) : words_(words.begin(), words.end()) {
    for (auto& w : words_) pointers_.push_back(w.data());
  }
  std::span<char* const> span() const { return pointers_; }

 private:
  std::vector<std::string> words_;
  std::vector<char*> pointers_;
};

// One entry of conformance/vectors.json, with its bytes generated and its length checked.
struct Vector {
  std::string name;
  std::string bytes;
};
const std::vector<Vector>& vectors();
const Vector& vector(const std::string& name);

// The lab's seeded generator (splitmix64, 8 little-endian bytes per step), as in vectors.json.
std::string seeded_bytes(std::uint64_t seed, std::size_t length);

// A server variant running in a thread, listening on host (port 0), with its listener tracked
// by the stopper as server_main() does; stopped, cut short and joined on destruction, as two
// SIGTERMs would stop the program.
class ServerThread {
 public:
  ServerThread(const ServeFunction& serve,
               const std::string& host = "::", const ServerOptions& options = {});
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;
  ~ServerThread();

  std::uint16_t port() const noexcept { return port_; }
  Stopper& stopper() noexcept { return stopper_; }
  // Requests the stop and waits for serve() to return; true if it did within `limit`.
  bool stop_and_join(std::chrono::milliseconds limit = std::chrono::seconds(5));
  // Waits for serve() to return after a stop requested through stopper(); true if it did within
  // `limit`. A server still running 10 s after the limit aborts the test process.
  bool join(std::chrono::milliseconds limit);
  // serve() has returned.
  bool finished() const noexcept { return finished_; }

 private:
  Stopper stopper_;
  Socket listener_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> finished_{false};
};

// A server program in a child process (built beside the tests, in ECHO_LAB_BIN_DIR): started
// with `args` after --host :: --port 0 (and, if given, a soft and hard descriptor limit), its port
// read from the readiness line, its stderr discarded. Killed if it outlives the test.
class ServerProcess {
 public:
  ServerProcess(const std::string& program, const std::vector<std::string>& args,
                std::optional<rlim_t> descriptor_limit = std::nullopt);
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess();

  pid_t pid() const noexcept { return pid_; }
  std::uint16_t port() const noexcept { return port_; }
  void signal(int number) const;
  // The exit status once the process has exited (within `limit`), else nullopt; 128 + N for a
  // death by signal N.
  std::optional<int> wait_exit(std::chrono::milliseconds limit);
  bool running() { return !wait_exit(std::chrono::milliseconds(0)).has_value(); }
  std::size_t open_descriptors() const;  // from /proc/PID/fd
  std::size_t threads() const;           // from /proc/PID/task
  double cpu_seconds() const;            // user plus system, so far

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  bool exited_ = false;
};

// How an echo exchange ended.
struct Exchange {
  std::string received;
  bool fin = false;    // the server closed with FIN (read returned 0)
  bool reset = false;  // the server reset the connection
};

// Connects to host:port, sends `data` in chunks of `chunk` bytes from a writer thread while the
// calling thread reads, half-closes after the last byte, and reads until the server closes.
// Every socket operation is bounded by `timeout`.
Exchange echo_exchange(const std::string& host, std::uint16_t port, const std::string& data,
                       std::size_t chunk = 65536,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20));

// A client whose stream is in flight: connected, the first `chunk` bytes of `data` sent and
// their echo read back, so its session is surely running. finish() sends the rest from a writer
// thread while reading, half-closes, and reads until the server closes.
class StreamInFlight {
 public:
  StreamInFlight(const std::string& host, std::uint16_t port, std::string data,
                 std::size_t chunk = 65536);
  Exchange finish();
  const std::string& data() const noexcept { return data_; }

 private:
  Socket socket_;
  std::string data_;
  std::size_t chunk_;
};

// Runs `count` clients at once, alternately over 127.0.0.1 and ::1, each sending `bytes` of its
// own seeded data (seed + i) in `chunk`-byte writes; expects each to get exactly its own bytes
// back, then FIN.
void expect_concurrent_echoes(std::uint16_t port, std::size_t count, std::size_t bytes,
                              std::uint64_t seed, std::size_t chunk,
                              std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Gives `fd` send and receive timeouts, so a test never hangs on a broken server.
void set_timeouts(int fd, std::chrono::milliseconds timeout);

// A client variant run in process: `input` is fed to its stdin through a pipe, its stdout is
// collected through another, and its connection goes to host:port.
struct ClientRun {
  std::string output;
  std::string error;  // what() of the exception that ended it, empty if it returned normally
};
ClientRun run_client(const RunFunction& run, const std::string& host, std::uint16_t port,
                     const std::string& input, const ClientOptions& options = {});
// The same plumbing for a client that connects by itself.
ClientRun run_with_io(const std::function<void(const ClientIo&)>& body, const std::string& input);

// The transcript a line-mode client must print for `input` (lines up to a BYE line).
std::string expected_transcript(const std::string& input);

// A server that runs `session` on each connection, one at a time, until the test stops it. A
// client that goes away ends its session, not the server; a stop shuts the session down.
ServeFunction scripted(std::function<void(Socket& connection)> session);

// Test servers with a quirk, built on scripted().
// Echoes like echo_server, and keeps a copy of every byte it received.
struct Recorder {
  std::mutex mutex;
  std::string received;
  ServeFunction serve();
};
// Echoes the first byte of what it reads, pauses 100 ms, then echoes the rest.
ServeFunction in_two_pieces();
// Echoes the first three bytes it receives, then vanishes.
ServeFunction then_vanish();

// gtest assertion: equal bytes, or a message with both lengths, the first differing offset and
// a hex and ASCII window around it with a caret under that byte.
::testing::AssertionResult BytesEqual(const char* expected_expr, const char* actual_expr,
                                      const std::string& expected, const std::string& actual);

}  // namespace echolab::testing

#define EXPECT_BYTES_EQ(expected, actual) \
  EXPECT_PRED_FORMAT2(::echolab::testing::BytesEqual, expected, actual)
#define ASSERT_BYTES_EQ(expected, actual) \
  ASSERT_PRED_FORMAT2(::echolab::testing::BytesEqual, expected, actual)
