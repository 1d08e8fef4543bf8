// How many threads each server variant runs, counted in /proc/PID/task of the running program:
// echo_server is one thread even while it serves a client and through a stop; multi_echo_server
// has one per client beside its accept loop, N + 1 for N clients; async_echo_server has one per
// event loop. The stop's drain and deadline take no thread in any of them.
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace echolab::testing {
namespace {

using namespace std::chrono_literals;

// A client whose session is surely running: it has sent a byte and read its echo back.
Socket served_client(std::uint16_t port) {
  Socket client = connect_tcp("127.0.0.1", port);
  set_timeouts(client.fd(), 5s);
  write_all(client.fd(), std::string_view("x"));
  if (read_exactly(client.fd(), 1) != "x") throw std::runtime_error("the echo came back altered");
  return client;
}

// The server's thread count once it has settled at `expected` (threads end a moment after their
// client leaves), or whatever it is after `limit`.
std::size_t threads_settled_at(const ServerProcess& server, std::size_t expected,
                               std::chrono::milliseconds limit = 2s) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (server.threads() != expected && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(10ms);
  return server.threads();
}

TEST(Threads, EchoServerIsOneThreadWhileItServesAClientAndThroughAStop) {
  ServerProcess server("echo_server", {"--drain-timeout", "1"});
  EXPECT_EQ(server.threads(), 1u) << "waiting for a client";
  const Socket client = served_client(server.port());
  EXPECT_EQ(server.threads(), 1u) << "serving one client";
  server.signal(SIGTERM);  // the drain: the session goes on, the deadline is 1 s away
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(server.running());
  EXPECT_EQ(server.threads(), 1u) << "draining";
  write_all(client.fd(), std::string_view("y"));
  EXPECT_EQ(read_exactly(client.fd(), 1), "y") << "the session stopped at the drain";
  EXPECT_EQ(server.wait_exit(3s), 0) << "the deadline did not end the drain";
}

TEST(Threads, MultiEchoServerHasOneThreadPerClientAndOneMore) {
  ServerProcess server("multi_echo_server", {});
  EXPECT_EQ(server.threads(), 1u) << "waiting for a client";
  std::vector<Socket> clients;
  for (std::size_t n = 1; n <= 3; ++n) {
    clients.push_back(served_client(server.port()));
    EXPECT_EQ(threads_settled_at(server, n + 1), n + 1) << "serving " << n << " clients";
  }
  clients.pop_back();
  EXPECT_EQ(threads_settled_at(server, 3), 3u) << "a session's thread outlived its client";
  server.signal(SIGTERM);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(server.threads(), 3u) << "draining 2 clients";
  clients.clear();
  EXPECT_EQ(server.wait_exit(5s), 0);
}

// The stacks of a process's threads, counted in /proc/PID/maps: a thread's stack is an anonymous
// read-write mapping with its guard page, a small inaccessible one, right below it.
std::size_t thread_stacks(pid_t pid) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::size_t stacks = 0;
  unsigned long previous_end = 0;
  bool previous_is_guard = false;
  for (std::string line; std::getline(maps, line);) {
    std::istringstream fields(line);
    std::string range, permissions, offset, device, inode, path;
    fields >> range >> permissions >> offset >> device >> inode >> path;
    const unsigned long start = std::stoul(range.substr(0, range.find('-')), nullptr, 16);
    const unsigned long end = std::stoul(range.substr(range.find('-') + 1), nullptr, 16);
    if (permissions == "rw-p" && path.empty() && previous_is_guard && previous_end == start)
      ++stacks;
    previous_is_guard = permissions == "---p" && end - start <= (1UL << 20);
    previous_end = end;
  }
  return stacks;
}

// A thread that has ended keeps its stack until it is joined, so a server that never joined its
// sessions' threads would hold a stack for every client it ever served, however few it serves
// at once.
TEST(Threads, MultiEchoServerJoinsTheThreadOfEachSessionThatEnded) {
  ServerProcess server("multi_echo_server", {});
  for (int i = 0; i < 50; ++i) {
    served_client(server.port());  // and closed at once
    ASSERT_EQ(threads_settled_at(server, 1), 1u) << "client " << i;
  }
  // The C library keeps a few stacks of joined threads for reuse; unjoined, there would be 50.
  EXPECT_LE(thread_stacks(server.pid()), 10u) << "after 50 clients, one at a time";
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(5s), 0);
}

TEST(Threads, AsyncEchoServerHasOneThreadPerEventLoop) {
  for (const std::size_t loops : {std::size_t{1}, std::size_t{3}}) {
    SCOPED_TRACE(std::to_string(loops) + " loops");
    ServerProcess server("async_echo_server", {"--threads", std::to_string(loops)});
    std::vector<Socket> clients;
    for (int i = 0; i < 3; ++i) clients.push_back(served_client(server.port()));
    EXPECT_EQ(server.threads(), loops) << "serving 3 clients";
    server.signal(SIGTERM);  // (a loop with no connection left ends at once)
    clients.clear();
    EXPECT_EQ(server.wait_exit(5s), 0);
  }
}

}  // namespace
}  // namespace echolab::testing
