// async_echo_server: the echo cases every server passes, then what the event loop adds:
// backpressure, --idle-timeout, --max-connections over several loops, and the stop.
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "server_cases.hpp"

namespace echolab::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

INSTANTIATE_TEST_SUITE_P(Async, EchoServerCases, ::testing::Values(&serve_async));
INSTANTIATE_TEST_SUITE_P(Async, ConcurrentServerCases, ::testing::Values(&serve_async));

// How a connection ended, seen from the client.
enum class End { fin, reset, timeout };

// Reads until the server closes (or the socket's receive timeout passes), appending to `data`.
End read_to_end(int fd, std::string* data = nullptr) {
  std::array<std::byte, 65536> buffer;
  try {
    while (const std::size_t n = read_some(fd, buffer))
      if (data != nullptr) data->append(reinterpret_cast<const char*>(buffer.data()), n);
    return End::fin;
  } catch (const Error& e) {
    if (e.code() == std::errc::connection_reset) return End::reset;
    if (e.code() == std::errc::resource_unavailable_try_again) return End::timeout;
    throw;
  }
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::size_t largest_buffer(const char* sysctl_path, std::size_t fallback) {
  std::ifstream file(sysctl_path);
  std::size_t min = 0, initial = 0, max = 0;
  return (file >> min >> initial >> max) ? max : fallback;
}

// A client that writes and never reads. It sends until the server's backpressure stops it: the
// sends stay blocked for `quiet`. `limit` bounds the attempt, so a server that reads without
// bound cannot make the test run forever.
struct StalledClient {
  Socket socket;
  std::string sent;
  bool blocked = false;
};

StalledClient stall(std::uint16_t port, std::size_t limit, std::chrono::milliseconds quiet) {
  StalledClient client{connect_tcp("127.0.0.1", port), {}, false};
  for (std::uint64_t seed = 1000; client.sent.size() < limit; ++seed) {
    const std::string chunk = seeded_bytes(seed, 65536);
    std::size_t done = 0;
    while (done < chunk.size()) {
      const ssize_t n = ::send(client.socket.fd(), chunk.data() + done, chunk.size() - done,
                               MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR) throw Error("send", "stalled client", errno);
      pollfd writable{client.socket.fd(), POLLOUT, 0};
      if (::poll(&writable, 1, static_cast<int>(quiet.count())) == 0) {
        client.sent += chunk.substr(0, done);
        client.blocked = true;
        return client;
      }
    }
    client.sent += chunk;
  }
  return client;
}

TEST(AsyncServer, FortyClientsAtOnceWithLargeWrites) {
  ServerThread server(serve_async);
  expect_concurrent_echoes(server.port(), 40, 256 * 1024, 500, 200000, 20s);
}

TEST(AsyncServer, AClientThatNeverReadsIsHeldBackWhileOthersAreServed) {
  ServerThread server(serve_async);
  // If the server stopped reading, the stalled client can have sent no more than the socket
  // buffers on both sides (for its data and for the echo) plus the server's own small buffer.
  const std::size_t kernel = 2 * (largest_buffer("/proc/sys/net/ipv4/tcp_wmem", 4 << 20) +
                                  largest_buffer("/proc/sys/net/ipv4/tcp_rmem", 6 << 20));
  const std::size_t bound = kernel + 64 * 1024;
  StalledClient stalled = stall(server.port(), bound + (1 << 20), 300ms);
  ASSERT_TRUE(stalled.blocked) << "the server took " << stalled.sent.size()
                               << " bytes from a client that reads nothing: no backpressure";
  EXPECT_LE(stalled.sent.size(), bound);

  // While it sits there, with its buffers full, everyone else is served.
  std::vector<std::future<Exchange>> others;
  std::vector<std::string> sent;
  for (std::uint64_t i = 0; i < 8; ++i) sent.push_back(seeded_bytes(700 + i, 256 * 1024));
  for (std::size_t i = 0; i < sent.size(); ++i)
    others.push_back(std::async(std::launch::async, [&, i] {
      return echo_exchange("::1", server.port(), sent[i], 65536, 10s);
    }));
  for (std::size_t i = 0; i < others.size(); ++i) {
    const Exchange result = others[i].get();
    EXPECT_BYTES_EQ(sent[i], result.received) << "client " << i;
    EXPECT_TRUE(result.fin) << "client " << i;
  }

  // When it finally reads, the server resumes: every byte comes back, then FIN.
  set_timeouts(stalled.socket.fd(), 10s);
  ::shutdown(stalled.socket.fd(), SHUT_WR);
  std::string echoed;
  EXPECT_EQ(read_to_end(stalled.socket.fd(), &echoed), End::fin);
  EXPECT_BYTES_EQ(stalled.sent, echoed);
}

TEST(AsyncServer, IdleTimeoutClosesAnIdleConnectionButNotAnActiveOne) {
  ServerOptions options;
  options.idle_timeout_seconds = 0.5;
  ServerThread server(serve_async, "::", options);

  const Socket idle = connect_tcp("127.0.0.1", server.port());
  set_timeouts(idle.fd(), 3s);
  const auto start = Clock::now();
  // Active: a byte every 100 ms for 1.5 s, three times the timeout, then a half-close.
  auto active = std::async(std::launch::async, [&server] {
    const Socket client = connect_tcp("::1", server.port());
    set_timeouts(client.fd(), 3s);
    std::string echoed;
    for (int i = 0; i < 15; ++i) {
      write_all(client.fd(), std::string_view("x"));
      echoed += read_exactly(client.fd(), 1);
      std::this_thread::sleep_for(100ms);
    }
    write_all(client.fd(), std::string_view("end\n"));
    ::shutdown(client.fd(), SHUT_WR);
    const End end = read_to_end(client.fd(), &echoed);
    return std::make_pair(end, echoed);
  });

  const End idle_end = read_to_end(idle.fd());
  const double waited = seconds_since(start);
  EXPECT_NE(idle_end, End::timeout) << "the idle connection was never closed";
  EXPECT_GE(waited, 0.4);
  EXPECT_LE(waited, 1.5) << "closed too late after a 0.5 s idle timeout";

  const auto [active_end, echoed] = active.get();
  EXPECT_EQ(active_end, End::fin);
  EXPECT_BYTES_EQ(std::string(15, 'x') + "end\n", echoed);
}

TEST(AsyncServer, WithNoDrainAStopCutsBusyIdleAndStalledClientsAtOnce) {
  ServerOptions options;
  options.drain_timeout_seconds = 0;
  ServerThread server(serve_async, "::", options);
  std::vector<Socket> clients;
  for (int i = 0; i < 10; ++i) {
    clients.push_back(connect_tcp(i % 2 ? "::1" : "127.0.0.1", server.port()));
    set_timeouts(clients.back().fd(), 5s);
    write_all(clients.back().fd(), std::string_view("x"));
    ASSERT_EQ(read_exactly(clients.back().fd(), 1), "x");
  }
  StalledClient stalled = stall(server.port(), 256 << 20, 300ms);
  ASSERT_TRUE(stalled.blocked);
  // Busy: echoing 16 KiB rounds, started before the stop and still going when it comes.
  std::promise<void> started;
  auto busy = std::async(std::launch::async, [&server, &started] {
    const Socket client = connect_tcp("127.0.0.1", server.port());
    set_timeouts(client.fd(), 5s);
    const std::string round = seeded_bytes(9, 16384);
    const auto give_up = Clock::now() + 10s;
    try {
      for (int i = 0; Clock::now() < give_up; ++i) {
        write_all(client.fd(), round);
        if (read_exactly(client.fd(), round.size()) != round) return false;
        if (i == 0) started.set_value();
      }
    } catch (const ConnectionLost&) {
      return true;  // FIN
    } catch (const Error& e) {
      return is_disconnect(e.code());  // reset
    }
    return false;  // never stopped
  });
  ASSERT_EQ(started.get_future().wait_for(5s), std::future_status::ready);

  const auto start = Clock::now();
  EXPECT_TRUE(server.stop_and_join(1s));
  EXPECT_LT(seconds_since(start), 1.0);
  for (const Socket& client : clients) EXPECT_EQ(read_to_end(client.fd()), End::fin);
  EXPECT_TRUE(busy.get()) << "the busy client did not see its connection end cleanly";
}

TEST(AsyncServer, ThreeLoopsShareThePortAndEachClientGetsItsOwnBytes) {
  ServerOptions options;
  options.threads = 3;
  options.max_connections = 100;  // counted over all the loops
  ServerThread server(serve_async, "::", options);
  expect_concurrent_echoes(server.port(), 30, 64 * 1024, 900, 4096, 10s);
  // A stop shuts every loop's listener down: whichever loop the kernel would pick, a new client
  // is refused. The idle clients on every loop keep the drain going until a second stop.
  std::vector<Socket> idle;
  for (int i = 0; i < 12; ++i) {
    idle.push_back(connect_tcp("127.0.0.1", server.port()));
    set_timeouts(idle.back().fd(), 5s);
    write_all(idle.back().fd(), std::string_view("x"));
    ASSERT_EQ(read_exactly(idle.back().fd(), 1), "x");  // accepted and served
  }
  server.stopper().request();
  for (int i = 0; i < 12; ++i) EXPECT_TRUE(refused(server.port())) << "attempt " << i;
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(server.finished());
  const auto start = Clock::now();
  EXPECT_TRUE(server.stop_and_join(1s));
  EXPECT_LT(seconds_since(start), 1.0);
}

TEST(AsyncServer, MaxConnectionsCountsEveryLoop) {
  ServerOptions options;
  options.threads = 4;
  options.max_connections = 2;
  ServerThread server(serve_async, "::", options);
  std::vector<Socket> served;
  for (int i = 0; i < 2; ++i) {
    served.push_back(connect_tcp("127.0.0.1", server.port()));
    set_timeouts(served.back().fd(), 5s);
    write_all(served.back().fd(), std::string_view("hi"));
    ASSERT_EQ(read_exactly(served.back().fd(), 2), "hi");
  }
  // Whichever loop the kernel hands them to, the next clients are over the limit.
  for (int i = 0; i < 4; ++i) {
    const Socket extra = connect_tcp("::1", server.port());
    set_timeouts(extra.fd(), 1s);
    EXPECT_NE(read_to_end(extra.fd()), End::timeout) << "extra client " << i << " left hanging";
  }
}

}  // namespace
}  // namespace echolab::testing
