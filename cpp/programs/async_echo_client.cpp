#include "clients/clients.hpp"
#include "echolab/program.hpp"

int main(int argc, char** argv) {
  return echolab::client_main(argc, argv, /*raw_allowed=*/true, echolab::run_async_client);
}
