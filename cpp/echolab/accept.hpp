// Accepting connections the careful way: errors that concern one client are absorbed, running out
// of descriptors neither ends the server nor makes it spin, and a stop request ends the wait.
#pragma once

#include <optional>

#include "echolab/socket.hpp"
#include "echolab/stop.hpp"

namespace echolab {

// Waits for the next connection or a stop request (nullopt), in one poll() on the listener and
// the stopper's fd(). Transient accept failures are absorbed: a client that gave up before
// accept() is skipped. Out of descriptors (EMFILE, ENFILE), the waiting client is accepted with a
// descriptor kept in reserve for the purpose and closed at once, so it learns at once and the
// loop does not spin on the same error.
std::optional<Socket> accept_connection(const Socket& listener, const Stopper& stopper);

// A descriptor held in reserve for refuse_with_spare().
Socket open_spare();

// Out of descriptors: closes `spare`, accepts the waiting client with it and closes that at
// once, then reopens `spare`. Returns 0 when a client was refused, else accept4's error (EAGAIN:
// nobody was waiting).
int refuse_with_spare(const Socket& listener, Socket& spare);

}  // namespace echolab
