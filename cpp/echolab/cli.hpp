// The launch contract's command lines, parsed once for every program:
//   servers: PROGRAM [--host HOST] [--port PORT], and the flags of each server's design
//   clients: PROGRAM [--raw] HOST [PORT]
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace echolab {

struct ServerOptions {
  std::string host = "::";
  std::uint16_t port = 2000;
  // How long a stop waits for the sessions in progress before it cuts them (0: cut at once).
  double drain_timeout_seconds = 10;
  std::optional<double> idle_timeout_seconds;
  std::optional<std::size_t> max_connections;  // the multi and async servers
  std::size_t threads = 1;  // the async server's event loops, each with its own listening socket
};

struct ClientOptions {
  std::string host;
  std::uint16_t port = 2000;
  bool raw = false;
};

// Which server variant a command line is for, named as in the manifests (cpp/echo-lab.json).
// Each takes the flags of the one before and adds its own beyond --host and --port:
//   bad: none (bad_echo_server)
//   iterative: --drain-timeout, --idle-timeout (echo_server)
//   multi: --max-connections (multi_echo_server)
//   async: --threads (async_echo_server)
enum class ServerKind { bad, iterative, multi, async };

// Bad arguments: the message says which; the program prints it with the usage text and exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// --help: the program prints the usage text to stdout and exits 0.
struct HelpRequested {};

// `args` excludes the program name.
ServerOptions parse_server_args(std::span<char* const> args, ServerKind kind);
ClientOptions parse_client_args(std::span<char* const> args, bool raw_allowed);

std::string server_usage(const std::string& program, ServerKind kind);
std::string client_usage(const std::string& program, bool raw_allowed);

// The value of flag `name` at args[i], given as "--name VALUE" or "--name=VALUE" (advancing i
// past what it used), or nullopt when args[i] is another flag. A missing value is a UsageError.
std::optional<std::string> flag_value(std::span<char* const> args, std::size_t& i,
                                      std::string_view name);

// Seconds from the command line as a duration, rounded up to whole milliseconds and held to at
// most a year, so clock arithmetic cannot overflow.
std::chrono::milliseconds to_milliseconds(double seconds);

// A port as the user typed it: decimal digits only, 0..65535 (a client needs 1..65535).
std::uint16_t parse_port(const std::string& text, bool zero_allowed);

// A number as the user typed it for `flag`: digits with an optional fraction ("2", "0.5", ".5"),
// finite, not negative, and above 0 unless zero is allowed. `unit` words the message:
// "--idle-timeout must be a positive number of seconds, not 'x'" for unit " of seconds".
double parse_number(const std::string& text, const std::string& flag, bool zero_allowed,
                    const std::string& unit);

// A whole number above 0 and at most `largest` for `flag`.
std::size_t parse_count(const std::string& text, const std::string& flag,
                        std::size_t largest = SIZE_MAX);

}  // namespace echolab
