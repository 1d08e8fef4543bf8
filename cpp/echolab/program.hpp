// What every server's and client's main() does the same way: parse the command line, report bad
// arguments (exit 2) and failures (exit 1) in one line each, print the readiness line, and stop
// cleanly on SIGINT and SIGTERM. Each program supplies only the part that is its lesson.
#pragma once

#include <functional>
#include <variant>

#include "echolab/cli.hpp"
#include "echolab/client_io.hpp"
#include "echolab/socket.hpp"
#include "echolab/stop.hpp"

namespace echolab {

// The parsed options, or the exit code when there is nothing to run: 0 after --help (usage on
// stdout), 2 after bad arguments (the reason and the usage on stderr). Names the program for
// report().
std::variant<ServerOptions, int> server_command_line(int argc, char** argv, ServerKind kind);
std::variant<ClientOptions, int> client_command_line(int argc, char** argv, bool raw_allowed);

using ServeFunction =
    std::function<void(Socket& listener, Stopper& stopper, const ServerOptions& options)>;

// Listens per the options, prints "listening on ADDRESS", runs serve() until it returns after a
// stop request, and exits 0. SIGINT and SIGTERM are the stop requests (stop_on_signals()).
int server_main(int argc, char** argv, ServerKind kind, const ServeFunction& serve);

using RunFunction =
    std::function<void(Socket& connection, const ClientIo& io, const ClientOptions& options)>;

// Connects per the command line and runs run(); a lost connection is one line on stderr, exit 1.
int client_main(int argc, char** argv, bool raw_allowed, const RunFunction& run);

}  // namespace echolab
