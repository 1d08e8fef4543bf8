// multi_echo_server: the same echo cases, and clients served at the same time.
#include "server_cases.hpp"

namespace echolab::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Multi, EchoServerCases, ::testing::Values(&serve_multi));
INSTANTIATE_TEST_SUITE_P(Multi, ConcurrentServerCases, ::testing::Values(&serve_multi));

TEST(MultiServer, TheCutShutsDownEverySessionAndJoinsItsThread) {
  ServerOptions options;
  options.drain_timeout_seconds = 0;
  ServerThread server(serve_multi, "::", options);
  std::vector<Socket> clients;
  for (int i = 0; i < 10; ++i) {
    clients.push_back(connect_tcp("::1", server.port()));
    write_all(clients.back().fd(), std::string_view("x"));
    set_timeouts(clients.back().fd(), std::chrono::seconds(5));
    ASSERT_EQ(read_exactly(clients.back().fd(), 1), "x");
  }
  EXPECT_TRUE(server.stop_and_join(std::chrono::seconds(1)));
  for (const Socket& client : clients) {
    std::array<std::byte, 1> byte;
    EXPECT_EQ(read_some(client.fd(), byte), 0u) << "a session outlived the stop";
  }
}

}  // namespace
}  // namespace echolab::testing
