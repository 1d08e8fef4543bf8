// Cases every good server variant must pass, written once and instantiated by each variant's test
// file: INSTANTIATE_TEST_SUITE_P(Name, EchoServerCases, ::testing::Values(&serve_function)).
// ConcurrentServerCases holds the cases for variants that serve clients at the same time.
#pragma once

#include <sys/socket.h>

#include <array>
#include <future>
#include <memory>
#include <string>
#include <thread>
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

TEST_P(EchoServerCases, WithNoDrainAStopCutsTheSessionAtOnce) {
  ServerOptions options;
  options.drain_timeout_seconds = 0;
  ServerThread server(GetParam(), "::", options);
  const Socket idle = connect_tcp("127.0.0.1", server.port());
  set_timeouts(idle.fd(), std::chrono::seconds(5));
  write_all(idle.fd(), std::string_view("x"));
  EXPECT_EQ(read_exactly(idle.fd(), 1), "x");  // the session is running
  EXPECT_TRUE(server.stop_and_join(std::chrono::seconds(1)));
}

// Connecting to a server whose stop has shut its listener down is refused.
inline bool refused(std::uint16_t port) {
  try {
    connect_tcp("127.0.0.1", port);
  } catch (const Error& e) {
    return e.code() == std::errc::connection_refused;
  }
  return false;
}

TEST_P(EchoServerCases, ADrainRefusesNewClientsAndFinishesTheSessionInProgress) {
  ServerThread server(GetParam());
  StreamInFlight stream("::1", server.port(), seeded_bytes(41, 2 << 20));
  server.stopper().request();
  EXPECT_TRUE(refused(server.port())) << "a new client was not refused during the drain";
  const Exchange result = stream.finish();
  EXPECT_BYTES_EQ(stream.data(), result.received);
  EXPECT_TRUE(result.fin);
  EXPECT_TRUE(server.join(std::chrono::seconds(5))) << "the drain did not end with its session";
}

TEST_P(EchoServerCases, TheDrainDeadlineCutsAStalledClient) {
  ServerOptions options;
  options.drain_timeout_seconds = 0.5;
  ServerThread server(GetParam(), "::", options);
  const Socket stalled = connect_tcp("127.0.0.1", server.port());
  set_timeouts(stalled.fd(), std::chrono::seconds(5));
  write_all(stalled.fd(), std::string_view("x"));
  ASSERT_EQ(read_exactly(stalled.fd(), 1), "x");
  const auto start = std::chrono::steady_clock::now();
  server.stopper().request();
  EXPECT_TRUE(server.join(std::chrono::seconds(3)));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(450)) << "cut before the deadline";
  EXPECT_LT(took, std::chrono::seconds(2)) << "cut long after the 0.5 s deadline";
  std::array<std::byte, 1> byte;
  EXPECT_EQ(read_some(stalled.fd(), byte), 0u) << "the connection outlived the cut";
}

TEST_P(EchoServerCases, ASecondStopCutsTheDrainShort) {
  ServerThread server(GetParam());  // a 10 s drain
  const Socket idle = connect_tcp("127.0.0.1", server.port());
  set_timeouts(idle.fd(), std::chrono::seconds(5));
  write_all(idle.fd(), std::string_view("x"));
  ASSERT_EQ(read_exactly(idle.fd(), 1), "x");
  server.stopper().request();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(server.finished()) << "the first stop did not wait for the session";
  EXPECT_TRUE(server.stop_and_join(std::chrono::seconds(1)));
}

TEST_P(EchoServerCases, IdleTimeoutClosesAStalledClientButNotAnActiveOne) {
  ServerOptions options;
  options.idle_timeout_seconds = 0.5;
  ServerThread server(GetParam(), "::", options);
  // Active: a byte every 100 ms for 1.5 s, three times the timeout.
  {
    const Socket active = connect_tcp("::1", server.port());
    set_timeouts(active.fd(), std::chrono::seconds(3));
    for (int i = 0; i < 15; ++i) {
      write_all(active.fd(), std::string_view("x"));
      ASSERT_EQ(read_exactly(active.fd(), 1), "x") << "round " << i;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  const Socket stalled = connect_tcp("127.0.0.1", server.port());
  set_timeouts(stalled.fd(), std::chrono::seconds(3));
  write_all(stalled.fd(), std::string_view("y"));
  ASSERT_EQ(read_exactly(stalled.fd(), 1), "y");
  const auto start = std::chrono::steady_clock::now();
  std::array<std::byte, 1> byte;
  EXPECT_EQ(read_some(stalled.fd(), byte), 0u) << "the stalled connection was never closed";
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(400));
  EXPECT_LT(took, std::chrono::milliseconds(1500)) << "closed too late after a 0.5 s timeout";
  // The server goes on serving.
  EXPECT_EQ(echo_exchange("127.0.0.1", server.port(), "next\n").received, "next\n");
}

TEST_P(ConcurrentServerCases, TwentyClientsAtOnceEachGetTheirOwnBytes) {
  ServerThread server(GetParam());
  expect_concurrent_echoes(server.port(), 20, 256 * 1024, 100, 4096);
}

TEST_P(ConcurrentServerCases, TwentyStreamsInFlightFinishByteExactDuringTheDrain) {
  ServerThread server(GetParam());
  std::vector<std::unique_ptr<StreamInFlight>> streams;
  for (std::uint64_t i = 0; i < 20; ++i)
    streams.push_back(std::make_unique<StreamInFlight>(i % 2 ? "::1" : "127.0.0.1", server.port(),
                                                       seeded_bytes(60 + i, 2 << 20)));
  server.stopper().request();
  EXPECT_TRUE(refused(server.port())) << "a new client was not refused during the drain";
  std::vector<std::future<Exchange>> results;
  for (auto& stream : streams)
    results.push_back(std::async(std::launch::async, [&stream] { return stream->finish(); }));
  for (std::size_t i = 0; i < streams.size(); ++i) {
    const Exchange result = results[i].get();
    EXPECT_BYTES_EQ(streams[i]->data(), result.received) << "stream " << i;
    EXPECT_TRUE(result.fin) << "stream " << i;
  }
  EXPECT_TRUE(server.join(std::chrono::seconds(5))) << "the drain did not end with its sessions";
}

TEST_P(ConcurrentServerCases, MaxConnectionsClosesTheExtraOnePromptlyAndServesTheRest) {
  ServerOptions options;
  options.max_connections = 3;
  ServerThread server(GetParam(), "::", options);

  std::vector<Socket> served;
  for (int i = 0; i < 3; ++i) {
    served.push_back(connect_tcp("127.0.0.1", server.port()));
    set_timeouts(served.back().fd(), std::chrono::seconds(5));
    write_all(served.back().fd(), std::string_view("hello\n"));
    ASSERT_EQ(read_exactly(served.back().fd(), 6), "hello\n") << "client " << i;
  }

  const Socket extra = connect_tcp("::1", server.port());
  set_timeouts(extra.fd(), std::chrono::seconds(1));
  const auto start = std::chrono::steady_clock::now();
  std::array<std::byte, 1> byte;
  try {
    EXPECT_EQ(read_some(extra.fd(), byte), 0u) << "the fourth connection was served";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), std::errc::connection_reset) << "the fourth connection was left hanging";
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));

  for (std::size_t i = 0; i < served.size(); ++i) {
    write_all(served[i].fd(), std::string_view("still served\n"));
    ::shutdown(served[i].fd(), SHUT_WR);
    EXPECT_EQ(read_exactly(served[i].fd(), 13), "still served\n") << "client " << i;
    EXPECT_EQ(read_some(served[i].fd(), byte), 0u) << "client " << i;
  }
  served.clear();
  // Their places are free again (a session thread may take a moment to notice its end).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const Exchange later =
      echo_exchange("127.0.0.1", server.port(), "my turn\n", 65536, std::chrono::seconds(5));
  EXPECT_EQ(later.received, "my turn\n");
  EXPECT_TRUE(later.fin);
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
