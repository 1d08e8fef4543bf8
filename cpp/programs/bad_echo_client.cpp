#include <unistd.h>

#include <variant>

#include "clients/clients.hpp"
#include "echolab/program.hpp"

int main(int argc, char** argv) {
  const auto parsed = echolab::client_command_line(argc, argv, /*raw_allowed=*/false);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const auto& options = std::get<echolab::ClientOptions>(parsed);
  const echolab::ClientIo io{0, 1, ::isatty(0) == 1};
  return echolab::run_bad_client(options.host, options.port, io);
}
