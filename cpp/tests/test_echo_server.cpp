// echo_server: the iterative server passes every echo case, and serves one client at a time.
#include <poll.h>

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

}  // namespace
}  // namespace echolab::testing
