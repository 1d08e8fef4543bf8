// The socket library: addresses, dual-stack listening, connecting, and writes that survive a full
// socket buffer.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <future>
#include <string>

#include "echolab/socket.hpp"
#include "support.hpp"

namespace echolab {
namespace {

std::uint16_t port_of(const Socket& socket) {
  return local_host_port(socket.fd()).port;
}

TEST(FormatAddress, Ipv4HasNoBrackets) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(2000);
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  EXPECT_EQ(format_address(reinterpret_cast<sockaddr*>(&a), sizeof a), "127.0.0.1:2000");
}

TEST(FormatAddress, Ipv6IsBracketed) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(40213);
  a.sin6_addr = in6addr_any;
  EXPECT_EQ(format_address(reinterpret_cast<sockaddr*>(&a), sizeof a), "[::]:40213");
  ::inet_pton(AF_INET6, "::ffff:10.0.0.1", &a.sin6_addr);
  EXPECT_EQ(format_address(reinterpret_cast<sockaddr*>(&a), sizeof a), "[::ffff:10.0.0.1]:40213");
}

TEST(FormatHostPort, BracketsOnlyIpv6Literals) {
  EXPECT_EQ(format_host_port("::1", 2000), "[::1]:2000");
  EXPECT_EQ(format_host_port("localhost", 7), "localhost:7");
  EXPECT_EQ(format_host_port("192.0.2.1", 65535), "192.0.2.1:65535");
}

TEST(ListenTcp, PortZeroPicksAPortAndPrintsTheDualStackAddress) {
  const Socket listener = listen_tcp("::", 0);
  const std::string address = local_address(listener.fd());
  EXPECT_TRUE(address.starts_with("[::]:")) << address;
  const HostPort bound = local_host_port(listener.fd());
  EXPECT_EQ(bound.host, "::");
  EXPECT_NE(bound.port, 0);
  EXPECT_EQ(address, "[::]:" + std::to_string(bound.port));
}

// Sockets that all ask for SO_REUSEPORT share one address; one that does not is refused.
TEST(ListenTcp, ReusePortLetsSeveralListenersShareAnAddress) {
  const Socket first = listen_tcp("127.0.0.1", 0, {.reuse_port = true});
  const std::uint16_t port = port_of(first);
  const Socket second = listen_tcp("127.0.0.1", port, {.reuse_port = true});
  EXPECT_EQ(port_of(second), port);
  EXPECT_THROW(listen_tcp("127.0.0.1", port), Error);
}

TEST(ListenTcp, DualStackListenerIsReachableThroughIpv4AndIpv6) {
  const Socket listener = listen_tcp("::", 0);
  int v6only = -1;
  socklen_t length = sizeof v6only;
  ASSERT_EQ(::getsockopt(listener.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &length), 0);
  EXPECT_EQ(v6only, 0);
  for (const char* host : {"127.0.0.1", "::1"}) {
    const Socket client = connect_tcp(host, port_of(listener));
    const Socket accepted(::accept(listener.fd(), nullptr, nullptr));
    ASSERT_TRUE(accepted.valid()) << host;
    const std::string peer = peer_address(accepted.fd());
    // IPv4 clients of an IPv6 socket appear as IPv4-mapped addresses.
    EXPECT_EQ(peer.starts_with("[::ffff:127.0.0.1]:"), std::string(host) == "127.0.0.1") << peer;
  }
}

TEST(ListenTcp, PortInUseNamesTheAddressAndTheReason) {
  const Socket first = listen_tcp("127.0.0.1", 0);
  const std::uint16_t port = port_of(first);
  try {
    listen_tcp("127.0.0.1", port);
    FAIL() << "a second listener on the same port succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.call(), "bind");
    EXPECT_EQ(e.code(), std::errc::address_in_use);
    EXPECT_EQ(std::string(e.what()), "cannot listen on 127.0.0.1:" + std::to_string(port) +
                                         ": bind: " + std::generic_category().message(EADDRINUSE));
  }
}

// A restarted server must bind at once, even while thousands of its old connections sit in
// TIME_WAIT on the port (the side that closes first keeps it): SO_REUSEADDR is what allows it.
TEST(ListenTcp, RebindsAtOnceOverThousandsOfTimeWaitConnections) {
  Socket listener = listen_tcp("127.0.0.1", 0);
  const std::uint16_t port = port_of(listener);
  for (int i = 0; i < 2000; ++i) {
    const Socket client = connect_tcp("127.0.0.1", port);
    Socket accepted(::accept(listener.fd(), nullptr, nullptr));
    ASSERT_TRUE(accepted.valid());
    accepted.close();  // the server's side closes first, so its end goes to TIME_WAIT
    std::array<std::byte, 1> byte;
    ASSERT_EQ(read_some(client.fd(), byte), 0u);
  }
  listener.close();
  EXPECT_NO_THROW(listener = listen_tcp("127.0.0.1", port));
  EXPECT_TRUE(listener.valid());
}

TEST(ConnectTcp, RefusedConnectNamesTheAddress) {
  std::uint16_t port = 0;
  {
    const Socket closed = listen_tcp("127.0.0.1", 0);  // a port that was free a moment ago
    port = port_of(closed);
  }
  try {
    connect_tcp("127.0.0.1", port);
    FAIL() << "connected to a closed port";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), std::errc::connection_refused);
    EXPECT_EQ(std::string(e.what()).find("cannot connect to 127.0.0.1:" + std::to_string(port)), 0u)
        << e.what();
  }
}

TEST(ConnectTcp, Ipv6LiteralIsBracketedInTheError) {
  std::uint16_t port = 0;
  {
    const Socket closed = listen_tcp("::1", 0);
    port = port_of(closed);
  }
  try {
    connect_tcp("::1", port);
    FAIL() << "connected to a closed port";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[::1]:" + std::to_string(port)), std::string::npos)
        << e.what();
  }
}

TEST(ConnectTcp, UnresolvableHostIsAResolverError) {
  try {
    connect_tcp("no-such-host.invalid", 2000);
    FAIL() << "resolved a name under .invalid";
  } catch (const Error& e) {
    EXPECT_EQ(e.call(), "getaddrinfo");
    EXPECT_EQ(
        std::string(e.what()).find("cannot connect to no-such-host.invalid:2000: getaddrinfo: "),
        0u)
        << e.what();
  }
}

TEST(ConnectTcp, NameResolvesAndConnects) {
  const Socket listener = listen_tcp("::", 0);
  EXPECT_TRUE(connect_tcp("localhost", port_of(listener)).valid());
}

TEST(Socket, MoveTransfersOwnershipAndClosesOnce) {
  Socket a(::socket(AF_INET, SOCK_STREAM, 0));
  const int fd = a.fd();
  Socket b = std::move(a);
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(b.fd(), fd);
  b.close();
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed
}

// A 1-byte-ish send buffer and a slow reader force many short writes; every byte must arrive.
TEST(WriteAll, SurvivesShortWritesOnATinySendBuffer) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  const Socket writer(pair[0]);
  const Socket reader(pair[1]);
  const int tiny = 1;  // the kernel rounds it up to its minimum
  ::setsockopt(writer.fd(), SOL_SOCKET, SO_SNDBUF, &tiny, sizeof tiny);
  ::setsockopt(reader.fd(), SOL_SOCKET, SO_RCVBUF, &tiny, sizeof tiny);
  const std::string data = testing::vector("random-1mib").bytes;

  auto received = std::async(std::launch::async, [&] {
    std::string got;
    std::array<std::byte, 1000> buffer;  // small reads keep the writer's sends short
    while (const std::size_t n = read_some(reader.fd(), buffer))
      got.append(reinterpret_cast<const char*>(buffer.data()), n);
    return got;
  });
  write_all(writer.fd(), data);
  ::shutdown(writer.fd(), SHUT_WR);
  EXPECT_BYTES_EQ(data, received.get());
}

TEST(WriteAll, APeerThatHasGoneIsAnErrorNotSigpipe) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  const Socket writer(pair[0]);
  ::close(pair[1]);
  try {
    write_all(writer.fd(), std::string_view("hello"));
    FAIL() << "wrote to a closed peer";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), std::errc::broken_pipe);  // and the process is still alive
    EXPECT_TRUE(is_disconnect(e.code()));
  }
}

TEST(Vectors, SeededGeneratorMatchesTheSharedDefinition) {
  // splitmix64 from seed 0: the first output is 0xe220a8397b1dcdaf, written little-endian.
  EXPECT_EQ(testing::seeded_bytes(0, 8), std::string("\xaf\xcd\x1d\x7b\x39\xa8\x20\xe2", 8));
  EXPECT_EQ(testing::vector("random-1mib").bytes.size(), 1u << 20);
  EXPECT_EQ(testing::vector("all-bytes").bytes.size(), 256u);
  EXPECT_EQ(testing::vector("all-bytes").bytes[255], '\xff');
}

}  // namespace
}  // namespace echolab
