// Diagnostics: one line on stderr per event, named after the program. Stdout belongs to the
// launch contract (the readiness line, a client's transcript), so nothing else goes there.
#pragma once

#include <string>
#include <string_view>

namespace echolab {

// The program's name as invoked, without its directory: "/usr/bin/echo_server" -> "echo_server".
std::string program_name(const char* argv0);

// Names the program for report(); until then it reports as "echolab".
void set_program_name(const char* argv0);

// "NAME: message" on stderr.
void report(std::string_view message);

}  // namespace echolab
