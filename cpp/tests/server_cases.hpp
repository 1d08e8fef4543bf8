// Cases every good server variant must pass, written once and instantiated by each variant's test
// file: INSTANTIATE_TEST_SUITE_P(Name, EchoServerCases, ::testing::Values(&serve_function)).
// ConcurrentServerCases holds the cases for variants that serve clients at the same time.
#pragma once

#include <sys/socket.h>

#include <future>
#include <string>
#include <vector>

#include "servers/servers.hpp"
#include "support.hpp"

namespace echolab::testing {

using ServeFn = void (*)(Socket&, Stopper&, const ServerOptions&);

class EchoServerCases : public ::testing::TestWithParam<ServeFn> {};
class ConcurrentServerCases : public ::testing::TestWithParam<ServeFn> {};

TEST_P(EchoServerCases, EveryVectorComesBackByteExactThenFin) {
  ServerThread server(GetParam());
  for (const Vector& v : vectors()) {
    const Exchange result = echo_exchange("127.0.0.1", server.port(), v.bytes);
    EXPECT_BYTES_EQ(v.bytes, result.received) << "vector " << v.name;
    EXPECT_TRUE(result.fin) << "vector " << v.name << ": the server did not close with FIN";
  }
}

TEST_P(EchoServerCases, OneMebibyteWithHalfCloseThroughIpv4AndIpv6) {
  ServerThread server(GetParam(), "::");
  const std::string& data = vector("random-1mib").bytes;
  for (const char* host : {"127.0.0.1", "::1"}) {
    const Exchange result = echo_exchange(host, server.port(), data);
    EXPECT_BYTES_EQ(data, result.received) << "through " << host;
    EXPECT_TRUE(result.fin) << "through " << host;
    EXPECT_FALSE(result.reset) << "through " << host;
  }
}

TEST_P(EchoServerCases, OneByteWrites) {
  ServerThread server(GetParam());
  const std::string data = seeded_bytes(7, 4096);
  const Exchange result = echo_exchange("::1", server.port(), data, 1);
  EXPECT_BYTES_EQ(data, result.received);
  EXPECT_TRUE(result.fin);
}

TEST_P(EchoServerCases, AClientThatResetsDoesNotStopTheServer) {
  ServerThread server(GetParam());
  {
    Socket rude = connect_tcp("127.0.0.1", server.port());
    write_all(rude.fd(), std::string_view(seeded_bytes(3, 100000)));
    const linger abort_on_close{1, 0};  // close() now sends RST instead of FIN
    ::setsockopt(rude.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  }
  const Exchange next = echo_exchange("127.0.0.1", server.port(), "still here\n");
  EXPECT_BYTES_EQ("still here\n", next.received);
  EXPECT_TRUE(next.fin);
}

TEST_P(EchoServerCases, HundredSequentialClients) {
  ServerThread server(GetParam());
  for (int i = 0; i < 100; ++i) {
    const std::string data = "client " + std::to_string(i) + "\n";
    ASSERT_BYTES_EQ(data, echo_exchange("127.0.0.1", server.port(), data).received);
  }
}

TEST_P(EchoServerCases, StopsWithinASecondWhileAClientIsConnected) {
  ServerThread server(GetParam());
  const Socket idle = connect_tcp("127.0.0.1", server.port());
  set_timeouts(idle.fd(), std::chrono::seconds(5));
  write_all(idle.fd(), std::string_view("x"));
  EXPECT_EQ(read_exactly(idle.fd(), 1), "x");  // the session is running
  EXPECT_TRUE(server.stop_and_join(std::chrono::seconds(1)));
}

TEST_P(ConcurrentServerCases, TwentyClientsAtOnceEachGetTheirOwnBytes) {
  ServerThread server(GetParam());
  expect_concurrent_echoes(server.port(), 20, 256 * 1024, 100, 4096);
}

TEST_P(ConcurrentServerCases, AnIdleClientDoesNotBlockOthers) {
  ServerThread server(GetParam());
  const Socket idle = connect_tcp("127.0.0.1", server.port());
  const Exchange other =
      echo_exchange("127.0.0.1", server.port(), "hello\n", 65536, std::chrono::seconds(2));
  EXPECT_BYTES_EQ("hello\n", other.received);
  EXPECT_TRUE(other.fin);
}

}  // namespace echolab::testing
