#include "echolab/session.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <cerrno>
#include <string>

#include "echolab/diagnostics.hpp"

namespace echolab {

// guide:echo-session begin
SessionEnd echo_session(const Socket& connection) {
  SessionEnd end;
  std::array<std::byte, 16384> buffer;
  try {
    set_no_delay(connection.fd());  // each echo is a reply: send it now, not after an ACK
    for (;;) {
      const std::size_t n = read_some(connection.fd(), buffer);
      if (n == 0) break;  // the client half-closed: its echo is complete
      write_all(connection.fd(), std::span(buffer).first(n));
      end.bytes += n;
    }
    // The read side has reached end of stream, so closing cannot discard unread input (which
    // would send RST): the client sees every byte, then FIN.
    ::shutdown(connection.fd(), SHUT_WR);
    // guide:errors-reset begin
  } catch (const Error& e) {
    if (!is_disconnect(e.code())) throw;
    end.reset = true;
  }
  // guide:errors-reset end
  return end;
}
// guide:echo-session end

namespace {

// Hardening (--idle-timeout): a blocking recv() or send() that moves no byte for this long fails
// with EAGAIN. A send that
// moves some bytes returns their count, and write_all goes on: only a stall ends the session.
void set_idle_timeout(int fd, double seconds) {
  const auto ms = to_milliseconds(seconds).count();
  const timeval limit{.tv_sec = static_cast<time_t>(ms / 1000),
                      .tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000)};
  for (const int option : {SO_RCVTIMEO, SO_SNDTIMEO})
    if (::setsockopt(fd, SOL_SOCKET, option, &limit, sizeof limit) != 0)
      throw Error("setsockopt", "cannot set the idle timeout", errno);
}

bool timed_out(const Error& e) {
  return e.code() == std::errc::resource_unavailable_try_again;
}

}  // namespace

void serve_connection(Socket connection, Stopper& stopper, const ServerOptions& options) {
  // Declared after the socket, so it is unregistered before the descriptor is closed.
  const auto tracked = stopper.track(connection.fd());
  std::string peer;
  try {
    peer = peer_address(connection.fd());
  } catch (const Error&) {
    report("a client left before it was served");  // it reset while waiting to be accepted
    return;
  }
  try {
    // guide:errors-timeout begin
    if (options.idle_timeout_seconds)  // hardening: a stalled client cannot hold its session
      set_idle_timeout(connection.fd(), *options.idle_timeout_seconds);
    // guide:errors-timeout end
    const SessionEnd end = echo_session(connection);
    report(peer + (end.reset ? " reset the connection after " : " closed after ") +
           std::to_string(end.bytes) + " bytes");
  } catch (const Error& e) {
    report(options.idle_timeout_seconds && timed_out(e)
               ? "closing " + peer + ": no progress within --idle-timeout"
               : peer + ": " + e.what());
  }
}

}  // namespace echolab
