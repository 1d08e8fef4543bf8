#include "echolab/cli.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string_view>
#include <vector>

namespace echolab {

namespace {

std::string parse_host(const std::string& text) {
  if (text.empty()) throw UsageError("the host must not be empty");
  return text;
}

double parse_seconds(const std::string& text, const std::string& flag, bool zero_allowed) {
  return parse_number(text, flag, zero_allowed, " of seconds");
}

bool is_help(std::string_view arg) {
  return arg == "-h" || arg == "--help";
}

}  // namespace

std::optional<std::string> flag_value(std::span<char* const> args, std::size_t& i,
                                      std::string_view name) {
  const std::string_view arg = args[i];
  if (arg == name) {
    if (i + 1 >= args.size()) throw UsageError(std::string(name) + " needs a value");
    return std::string(args[++i]);
  }
  if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=')
    return std::string(arg.substr(name.size() + 1));
  return std::nullopt;
}

std::chrono::milliseconds to_milliseconds(double seconds) {
  const double ms = std::ceil(std::clamp(seconds, 0.0, 365 * 86400.0) * 1000);
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::uint16_t parse_port(const std::string& text, bool zero_allowed) {
  unsigned value = 0;
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const unsigned lowest = zero_allowed ? 0 : 1;
  if (!digits || ec != std::errc() || end != text.data() + text.size() || value < lowest ||
      value > 65535)
    throw UsageError("the port must be a whole number from " + std::to_string(lowest) +
                     " to 65535, not '" + text + "'");
  return static_cast<std::uint16_t>(value);
}

double parse_number(const std::string& text, const std::string& flag, bool zero_allowed,
                    const std::string& unit) {
  double value = 0;
  const bool plain =
      !text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) != 0 || text[0] == '.');
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!plain || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value < 0 || (value == 0 && !zero_allowed))
    throw UsageError(flag + " must be a " +
                     (zero_allowed ? "number" + unit + ", 0 or more" : "positive number" + unit) +
                     ", not '" + text + "'");
  return value;
}

std::size_t parse_count(const std::string& text, const std::string& flag, std::size_t largest) {
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > largest)
    throw UsageError(flag + " must be a whole number above 0" +
                     (largest == SIZE_MAX ? "" : " and at most " + std::to_string(largest)) +
                     ", not '" + text + "'");
  return value;
}

ServerOptions parse_server_args(std::span<char* const> args, ServerKind kind) {
  ServerOptions options;
  const bool iterative = kind >= ServerKind::iterative;
  const bool multi = kind >= ServerKind::multi;
  const bool async = kind == ServerKind::async;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (is_help(args[i])) throw HelpRequested{};
    if (auto v = flag_value(args, i, "--host")) {
      options.host = parse_host(*v);
    } else if (auto p = flag_value(args, i, "--port")) {
      options.port = parse_port(*p, true);
    } else if (auto d = iterative ? flag_value(args, i, "--drain-timeout") : std::nullopt) {
      options.drain_timeout_seconds = parse_seconds(*d, "--drain-timeout", true);
    } else if (auto t = iterative ? flag_value(args, i, "--idle-timeout") : std::nullopt) {
      options.idle_timeout_seconds = parse_seconds(*t, "--idle-timeout", false);
    } else if (auto m = multi ? flag_value(args, i, "--max-connections") : std::nullopt) {
      options.max_connections = parse_count(*m, "--max-connections");
    } else if (auto n = async ? flag_value(args, i, "--threads") : std::nullopt) {
      options.threads = parse_count(*n, "--threads", 1024);
    } else {
      throw UsageError("unexpected argument '" + std::string(args[i]) + "'");
    }
  }
  return options;
}

ClientOptions parse_client_args(std::span<char* const> args, bool raw_allowed) {
  ClientOptions options;
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (is_help(arg)) throw HelpRequested{};
    if (raw_allowed && arg == "--raw") {
      options.raw = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      throw UsageError("unknown option '" + std::string(arg) + "'");
    } else {
      positional.emplace_back(arg);
    }
  }
  if (positional.empty()) throw UsageError("missing HOST");
  if (positional.size() > 2) throw UsageError("unexpected argument '" + positional[2] + "'");
  options.host = parse_host(positional[0]);
  if (positional.size() == 2) options.port = parse_port(positional[1], false);
  return options;
}

std::string server_usage(const std::string& program, ServerKind kind) {
  std::string text = "usage: " + program + " [--host HOST] [--port PORT]";
  if (kind >= ServerKind::iterative) text += " [--drain-timeout SECONDS] [--idle-timeout SECONDS]";
  if (kind >= ServerKind::multi) text += " [--max-connections N]";
  if (kind == ServerKind::async) text += " [--threads N]";
  text +=
      "\n"
      "  Echoes every byte each client sends (RFC 862).\n"
      "  --host HOST   address to listen on (default ::, which also serves IPv4 clients)\n"
      "  --port PORT   port to listen on, 0 for any free one (default 2000)\n";
  if (kind >= ServerKind::iterative)
    text +=
        "  --drain-timeout SECONDS  on SIGTERM or SIGINT, refuse new clients at once and give\n"
        "                           the sessions in progress this long to finish, then cut the\n"
        "                           rest and exit 0; a second signal cuts at once; 0 cuts at\n"
        "                           once (default 10)\n"
        "  --idle-timeout SECONDS   close a connection that makes no progress (nothing read or\n"
        "                           written) for this long\n";
  if (kind >= ServerKind::multi)
    text += "  --max-connections N      serve at most N clients at once; close the rest at once\n";
  if (kind == ServerKind::async)
    text +=
        "  --threads N              run N event loops, one per thread, each with its own\n"
        "                           listening socket (SO_REUSEPORT) (default 1)\n";
  text += "example: " + program + " --host 127.0.0.1 --port 2000\n";
  return text;
}

std::string client_usage(const std::string& program, bool raw_allowed) {
  std::string text = "usage: " + program + (raw_allowed ? " [--raw]" : "") + " HOST [PORT]\n";
  text +=
      "  Sends each line of standard input to the echo server at HOST (a name, an IPv4 or an\n"
      "  IPv6 address) on PORT (default 2000) and prints the echo. A line BYE ends the session.\n";
  if (raw_allowed)
    text +=
        "  --raw   copy standard input to the server and the echo to standard output, byte for "
        "byte\n";
  text += "example: printf 'hello\\n' | " + program + " ::1 2000\n";
  return text;
}

}  // namespace echolab
