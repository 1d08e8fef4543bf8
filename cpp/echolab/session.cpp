#include "echolab/session.hpp"

#include <sys/socket.h>

#include <array>
#include <string>

#include "echolab/program.hpp"

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
  } catch (const Error& e) {
    if (!is_disconnect(e.code())) throw;
    end.reset = true;
  }
  return end;
}
// guide:echo-session end

void serve_connection(Socket connection, Stopper& stopper) {
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
    const SessionEnd end = echo_session(connection);
    report(peer + (end.reset ? " reset the connection after " : " closed after ") +
           std::to_string(end.bytes) + " bytes");
  } catch (const Error& e) {
    report(peer + ": " + e.what());
  }
}

}  // namespace echolab
