// echo_server: the careful iterative server. One client at a time, every byte echoed (RFC 862,
// no lines), every error handled: a client can end its own session, never the server.
#include "echolab/session.hpp"
#include "servers/servers.hpp"

namespace echolab {

// guide:serve-iterative begin
void serve_iterative(Socket& listener, Stopper& stopper, const ServerOptions&) {
  while (auto connection = accept_connection(listener, stopper)) {
    serve_connection(std::move(*connection), stopper);  // the next client waits until this ends
  }
}
// guide:serve-iterative end

}  // namespace echolab
