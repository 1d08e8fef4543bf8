// bad_echo_server: its happy path works, and its documented flaws are really there.
#include <poll.h>
#include <sys/socket.h>

#include <thread>

#include "servers/servers.hpp"
#include "support.hpp"

namespace echolab::testing {
namespace {

// The bad server ignores stop requests (its flaw); in a test, shutting its listener down makes
// accept() fail, which ends it like any other error does.
void serve_bad_until_stopped(Socket& listener, Stopper& stopper, const ServerOptions&) {
  std::jthread watcher([&] {
    pollfd stop{stopper.fd(), POLLIN, 0};
    ::poll(&stop, 1, -1);
    ::shutdown(listener.fd(), SHUT_RDWR);
  });
  EXPECT_EQ(serve_bad(listener.fd()), 1);
}

TEST(BadEchoServer, EchoesLinesAndEndsTheSessionAfterEchoingBye) {
  ServerThread server(serve_bad_until_stopped);
  // No half-close here: the server's own close, after BYE, is what ends the read.
  const Socket client = connect_tcp("127.0.0.1", server.port());
  set_timeouts(client.fd(), std::chrono::seconds(5));
  write_all(client.fd(), std::string_view("hello\nworld\nBYE\n"));
  EXPECT_EQ(read_exactly(client.fd(), 16), "hello\nworld\nBYE\n");
  std::array<std::byte, 1> more;
  EXPECT_EQ(read_some(client.fd(), more), 0u) << "the session went on after BYE";
}

TEST(BadEchoServer, ServesTheNextClientAfterBye) {
  ServerThread server(serve_bad_until_stopped);
  echo_exchange("127.0.0.1", server.port(), "BYE\n");
  EXPECT_BYTES_EQ("again\n", echo_exchange("::1", server.port(), "again\n").received);
}

TEST(BadEchoServer, FlawATrimmedByeEndsTheSessionToo) {
  ServerThread server(serve_bad_until_stopped);
  const Socket client = connect_tcp("127.0.0.1", server.port());
  set_timeouts(client.fd(), std::chrono::seconds(5));
  write_all(client.fd(), std::string_view("  BYE \n"));
  EXPECT_EQ(read_exactly(client.fd(), 7), "  BYE \n");
  std::array<std::byte, 1> more;
  EXPECT_EQ(read_some(client.fd(), more), 0u) << "a line that trims to BYE did not end the session";
}

TEST(BadEchoServer, FlawLineEndsAreRewritten) {
  ServerThread server(serve_bad_until_stopped);
  // CRLF comes back as LF, and the unterminated tail gains a newline it never had.
  EXPECT_BYTES_EQ("one\ntwo\ntail\n",
                  echo_exchange("127.0.0.1", server.port(), "one\r\ntwo\ntail").received);
}

TEST(BadEchoServer, FlawBytesWithoutANewlineWaitForOne) {
  ServerThread server(serve_bad_until_stopped);
  const Socket client = connect_tcp("127.0.0.1", server.port());
  write_all(client.fd(), std::string_view("no newline yet"));
  pollfd echo{client.fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&echo, 1, 300), 0) << "the line based server echoed before the newline";
  write_all(client.fd(), std::string_view("\n"));
  set_timeouts(client.fd(), std::chrono::seconds(5));
  EXPECT_EQ(read_exactly(client.fd(), 15), "no newline yet\n");
}

}  // namespace
}  // namespace echolab::testing
