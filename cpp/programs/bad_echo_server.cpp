#include <cstdio>
#include <variant>

#include "echolab/program.hpp"
#include "servers/servers.hpp"

int main(int argc, char** argv) {
  const auto parsed = echolab::server_command_line(argc, argv, echolab::ServerKind::bad);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const auto& options = std::get<echolab::ServerOptions>(parsed);

  // FLAW: no signal handling at all. SIGTERM kills the process mid-session (it never exits 0) and
  // SIGPIPE, left at its default, kills it when a client vanishes before its echo is written.
  // FLAW: a failure to listen is not caught: the program aborts with the exception's text.
  const echolab::Socket listener = echolab::listen_tcp(options.host, options.port);
  std::printf("listening on %s\n", echolab::local_address(listener.fd()).c_str());
  std::fflush(stdout);
  return echolab::serve_bad(listener.fd());
}
