// echo_server: the careful iterative server. One client at a time, every byte echoed (RFC 862,
// no lines), every error handled: a client can end its own session, never the server.
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
