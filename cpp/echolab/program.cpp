#include "echolab/program.hpp"

#include <unistd.h>

#include <cstdio>
#include <span>
#include <string>

#include "echolab/diagnostics.hpp"

namespace echolab {

namespace {

template <typename Options, typename Parse>
std::variant<Options, int> parse_or_explain(int argc, char** argv, Parse parse,
                                            const std::string& usage) {
  set_program_name(argv[0]);
  try {
    return parse(std::span<char* const>(argv + 1, static_cast<std::size_t>(argc - 1)));
  } catch (const HelpRequested&) {
    std::fputs(usage.c_str(), stdout);
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n%s", program_name(argv[0]).c_str(), e.what(), usage.c_str());
    return 2;
  }
}

}  // namespace

std::variant<ServerOptions, int> server_command_line(int argc, char** argv, ServerKind kind) {
  return parse_or_explain<ServerOptions>(
      argc, argv, [kind](auto args) { return parse_server_args(args, kind); },
      server_usage(program_name(argv[0]), kind));
}

std::variant<ClientOptions, int> client_command_line(int argc, char** argv, bool raw_allowed) {
  return parse_or_explain<ClientOptions>(
      argc, argv, [raw_allowed](auto args) { return parse_client_args(args, raw_allowed); },
      client_usage(program_name(argv[0]), raw_allowed));
}

int server_main(int argc, char** argv, ServerKind kind, const ServeFunction& serve) {
  const auto parsed = server_command_line(argc, argv, kind);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const ServerOptions& options = std::get<ServerOptions>(parsed);

  try {
    ignore_sigpipe();
    Stopper stopper(to_milliseconds(options.drain_timeout_seconds));
    stop_on_signals();
    Socket listener = listen_tcp(options.host, options.port);
    const auto refusing = stopper.track_listener(listener.fd());  // a stop refuses new clients
    std::printf("listening on %s\n", local_address(listener.fd()).c_str());
    std::fflush(stdout);
    serve(listener, stopper, options);
    return 0;
  } catch (const std::exception& e) {
    report(e.what());
    return 1;
  }
}

// guide:client-main begin
int client_main(int argc, char** argv, bool raw_allowed, const RunFunction& run) {
  const auto parsed = client_command_line(argc, argv, raw_allowed);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const ClientOptions& options = std::get<ClientOptions>(parsed);

  ignore_sigpipe();
  Socket connection;
  try {
    connection = connect_tcp(options.host, options.port);
  } catch (const Error& e) {
    report(e.what());
    return 1;
  }
  try {
    const ClientIo io{STDIN_FILENO, STDOUT_FILENO, ::isatty(STDIN_FILENO) == 1};
    run(connection, io, options);
    return 0;
  } catch (const ConnectionLost& e) {
    report("lost the connection to " + format_host_port(options.host, options.port) + ": " +
           e.what());
    return 1;
  } catch (const std::exception& e) {
    report(e.what());  // the error names what failed: the connection, or stdin or stdout
    return 1;
  }
}
// guide:client-main end

}  // namespace echolab
