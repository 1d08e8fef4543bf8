#include "echolab/program.hpp"
#include "servers/servers.hpp"

int main(int argc, char** argv) {
  return echolab::server_main(argc, argv, echolab::ServerKind::async, echolab::serve_async);
}
