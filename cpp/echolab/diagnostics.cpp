#include "echolab/diagnostics.hpp"

#include <cstdio>

namespace echolab {

namespace {

std::string& current_name() {
  static std::string name = "echolab";
  return name;
}

}  // namespace

std::string program_name(const char* argv0) {
  const std::string_view path = argv0 != nullptr ? argv0 : "echolab";
  const auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

void set_program_name(const char* argv0) {
  current_name() = program_name(argv0);
}

void report(std::string_view message) {
  std::fprintf(stderr, "%s: %.*s\n", current_name().c_str(), static_cast<int>(message.size()),
               message.data());
}

}  // namespace echolab
