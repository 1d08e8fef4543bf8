// echo_server: the iterative server passes every echo case, and serves one client at a time.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include "echolab/session.hpp"

#include "server_cases.hpp"

namespace echolab::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Iterative, EchoServerCases, ::testing::Values(&serve_iterative));
// One client at a time by design: the concurrency cases are not this variant's.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ConcurrentServerCases);

// The design's limit, and the lesson of the next variant: a second client waits for the first.
TEST(IterativeServer, ASecondClientWaitsUntilTheFirstLeaves) {
  ServerThread server(serve_iterative);
  Socket first = connect_tcp("127.0.0.1", server.port());
  write_all(first.fd(), std::string_view("1"));
  set_timeouts(first.fd(), std::chrono::seconds(5));
  ASSERT_EQ(read_exactly(first.fd(), 1), "1");

  const Socket second = connect_tcp("127.0.0.1", server.port());
  write_all(second.fd(), std::string_view("2"));
  pollfd waiting{second.fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&waiting, 1, 300), 0) << "the second client was served while the first was on";

  first.close();
  set_timeouts(second.fd(), std::chrono::seconds(5));
  EXPECT_EQ(read_exactly(second.fd(), 1), "2");
}

// One stalled client holds the iterative server for everyone, but with --idle-timeout only
// until the timeout closes it.
TEST(IterativeServer, AStalledClientHoldsTheNextOneOnlyUntilTheIdleTimeout) {
  ServerOptions options;
  options.idle_timeout_seconds = 0.5;
  ServerThread server(serve_iterative, "::", options);
  const Socket stalled = connect_tcp("127.0.0.1", server.port());
  write_all(stalled.fd(), std::string_view("1"));
  set_timeouts(stalled.fd(), std::chrono::seconds(5));
  ASSERT_EQ(read_exactly(stalled.fd(), 1), "1");

  const auto start = std::chrono::steady_clock::now();
  const Exchange next =
      echo_exchange("127.0.0.1", server.port(), "2", 65536, std::chrono::seconds(5));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(next.received, "2");
  EXPECT_TRUE(next.fin);
  EXPECT_GE(waited, std::chrono::milliseconds(300)) << "served while the first was still on";
  EXPECT_LT(waited, std::chrono::milliseconds(1500)) << "the stalled client held it too long";
}

// Without TCP_NODELAY, an echo that leaves in pieces waits for the client's delayed ACK before
// its last piece (Nagle's algorithm), and a raw copy through this server crawls.
TEST(EchoSession, SendsEachEchoAtOnceWithNagleOff) {
  const Socket listener = listen_tcp("127.0.0.1", 0);
  Socket client = connect_tcp("127.0.0.1", local_host_port(listener.fd()).port);
  const Socket accepted(::accept(listener.fd(), nullptr, nullptr));
  std::thread session([&] { echo_session(accepted); });
  write_all(client.fd(), std::string_view("x"));
  EXPECT_EQ(read_exactly(client.fd(), 1), "x");
  int no_delay = 0;
  socklen_t size = sizeof no_delay;
  ASSERT_EQ(::getsockopt(accepted.fd(), IPPROTO_TCP, TCP_NODELAY, &no_delay, &size), 0);
  EXPECT_NE(no_delay, 0);
  ::shutdown(client.fd(), SHUT_WR);
  session.join();
}

}  // namespace
}  // namespace echolab::testing
