// async_echo_client: echo_client with one thread and poll(2) instead of blocking calls. Each
// round asks poll() which of the waits can make progress (input to read, echo to read, room to
// send) and does one step of each that can. Line mode keeps the blocking client's lockstep: the
// next line is taken only once the echo of the last one is printed. --raw reads the echo while it
// sends, from a bounded buffer, so it cannot deadlock whatever the size of the input.
//
// Compared with threaded_echo_client: no locks, no handshake, no stopping another thread; a
// server that goes away is noticed at once because the socket is always in the poll set.
//
// Only the socket is used without blocking. Stdin and stdout stay blocking: they are shared with
// the shell, and O_NONBLOCK would change them for it too. A read after poll() reported input does
// not block; a write to stdout may, and that is fine (see echo_raw).
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "clients/clients.hpp"
#include "echolab/lines.hpp"

namespace echolab {

namespace {

// Raw mode stops reading its input while this much is waiting to be sent.
constexpr std::size_t kOutgoingLimit = 256 * 1024;

// What one poll() round found ready.
struct Ready {
  bool input = false;  // standard input has data, or has ended
  bool echo = false;   // the socket has data, its end, or an error
  bool room = false;   // the socket can take more data
};

// Standard input is watched only when we want more of it: a pipe at its end stays readable
// forever, and raw mode must stop reading while its buffer is full. The socket is always
// watched for reading, so a close or a reset is seen at once, whatever else we are doing.
// guide:wait-until-ready begin
Ready wait_until_ready(const ClientIo& io, bool want_input, int fd, bool want_room) {
  const short socket_events = want_room ? POLLIN | POLLOUT : POLLIN;
  pollfd fds[] = {{want_input ? io.in : -1, POLLIN, 0}, {fd, socket_events, 0}};
  while (::poll(fds, 2, -1) < 0) {
    if (errno != EINTR) throw Error("poll", "cannot wait for input and the server", errno);
  }
  return {.input = fds[0].revents != 0,
          .echo = (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0,
          .room = (fds[1].revents & POLLOUT) != 0};
}
// guide:wait-until-ready end

// Sends what the socket takes right now and drops it from `outgoing`. MSG_DONTWAIT makes this
// one call non-blocking without changing the socket; MSG_NOSIGNAL turns a vanished peer into
// EPIPE instead of SIGPIPE.
// guide:send-some begin
void send_some(int fd, std::string& outgoing) {
  const ssize_t n = ::send(fd, outgoing.data(), outgoing.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    throw Error("send", "cannot send to the server", errno);
  }
  outgoing.erase(0, static_cast<std::size_t>(n));
}
// guide:send-some end

// Line mode: echo_client's lockstep, with the waiting done by one poll().
void echo_lines(int fd, const ClientIo& io) {
  LineSplitter input;
  bool input_ended = false;
  std::string outgoing;     // the part of the current line not yet sent
  std::string echo;         // the part of its echo received so far
  std::size_t awaited = 0;  // the length of the whole echo; 0 between lines
  std::array<std::byte, 16384> chunk;

  prompt(io);
  for (;;) {
    if (awaited == 0) {  // lockstep: the next line only once the last echo is printed
      auto line = input.next_line();
      if (!line && input_ended) line = input.rest();  // a last line without '\n' is a line
      if (line) {
        if (is_bye(*line)) return;  // BYE is not sent: closing the connection says it
        outgoing = framed(*line);
        awaited = outgoing.size();
      } else if (input_ended) {
        return;
      }
    }

    const Ready ready = wait_until_ready(io, /*want_input=*/awaited == 0, fd, !outgoing.empty());
    if (ready.echo) {
      const std::size_t n = read_some(fd, chunk);
      if (n == 0) throw closed_by_server(echo.size(), awaited);
      echo.append(reinterpret_cast<const char*>(chunk.data()), n);
      if (awaited > 0 && echo.size() >= awaited) {
        write_all(io.out, echoed(std::string_view(echo).substr(0, awaited)));
        echo.erase(0, awaited);
        awaited = 0;
        prompt(io);
      }
    }
    if (ready.room) send_some(fd, outgoing);
    if (ready.input) {
      const std::size_t n = read_some(io.in, chunk);
      if (n == 0) {
        input_ended = true;
      } else {
        input.append(std::span(chunk).first(n));
      }
    }
  }
}

// Raw mode: copies the input out and the echo in at the same time, half-closing at the end.
void echo_raw(int fd, const ClientIo& io) {
  std::string outgoing;  // read from stdin, not yet sent
  bool input_ended = false;
  bool half_closed = false;
  std::array<std::byte, 65536> chunk;

  for (;;) {
    if (input_ended && outgoing.empty() && !half_closed) {
      ::shutdown(fd, SHUT_WR);  // everything is sent: our FIN follows it
      half_closed = true;
    }

    const bool want_input = !input_ended && outgoing.size() < kOutgoingLimit;
    const Ready ready = wait_until_ready(io, want_input, fd, !outgoing.empty());
    if (ready.echo) {
      const std::size_t n = read_some(fd, chunk);
      if (n == 0) {
        if (half_closed) return;  // the server's FIN after ours: every byte is back
        throw closed_before_end_of_input();
      }
      // This write may block, and that is fine: until stdout drains there is nowhere to put more
      // echo anyway. Meanwhile the unread echo fills the socket buffers and TCP slows the server.
      write_all(io.out, std::span(chunk).first(n));
    }
    if (ready.room) send_some(fd, outgoing);
    if (ready.input) {
      const std::size_t room = std::min(chunk.size(), kOutgoingLimit - outgoing.size());
      const std::size_t n = read_some(io.in, std::span(chunk).first(room));
      if (n == 0) input_ended = true;
      outgoing.append(reinterpret_cast<const char*>(chunk.data()), n);
    }
  }
}

}  // namespace

void run_async_client(Socket& connection, const ClientIo& io, const ClientOptions& options) {
  if (options.raw) return echo_raw(connection.fd(), io);
  echo_lines(connection.fd(), io);
}

}  // namespace echolab
