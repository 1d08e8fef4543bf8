// The RFC 862 echo of one connection, written once: echo_server and multi_echo_server differ only
// in how they drive it (one after the other, or a thread each).
#pragma once

#include <cstdint>

#include "echolab/cli.hpp"
#include "echolab/socket.hpp"
#include "echolab/stop.hpp"

namespace echolab {

struct SessionEnd {
  std::uint64_t bytes = 0;  // echoed
  bool reset = false;       // the client went away abruptly (a normal end, not a failure)
};

// Sends every byte back, in order, until the client half-closes; everything read has been sent
// by then, so the session shuts down its own side (FIN) and returns. The caller closes the socket.
// Throws Error only for failures that are not the peer going away.
SessionEnd echo_session(const Socket& connection);

// One whole connection as a server handles it: tracked by the stopper (so the end of a stop's
// drain shuts it down), echoed, reported on stderr, closed. A failure ends this session only.
// Hardening: with --idle-timeout, a connection on which no byte moves either way for that long
// is closed.
void serve_connection(Socket connection, Stopper& stopper, const ServerOptions& options);

}  // namespace echolab
