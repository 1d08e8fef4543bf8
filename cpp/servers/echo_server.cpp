// echo_server: the careful iterative server. One client at a time, every byte echoed (RFC 862,
// no lines), every error handled: a client can end its own session, never the server.
//
// One thread does everything. It waits in one poll() for the next client or a stop request,
// then serves that client to the end, then waits again. A signal that comes during a session
// needs no thread to notice it: the stopper's handler interrupts this one (echolab/stop.hpp).
#include "echolab/accept.hpp"
#include "echolab/session.hpp"
#include "servers/servers.hpp"

namespace echolab {

// guide:serve-iterative begin
void serve_iterative(Socket& listener, Stopper& stopper, const ServerOptions& options) {
  while (auto connection = accept_connection(listener, stopper)) {
    // The next client waits until this one ends (--idle-timeout bounds how long a stalled
    // client can make it wait).
    serve_connection(std::move(*connection), stopper, options);
  }
}
// guide:serve-iterative end

}  // namespace echolab
