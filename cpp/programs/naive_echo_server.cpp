// naive_echo_server's main(): --host and --port, parsed the simplest way that works (they are not
// the lesson; a bad value is not noticed). The server is cpp/servers/naive_echo_server.cpp.
#include <cstring>

int naive_echo_server(const char* host, const char* port);  // cpp/servers/naive_echo_server.cpp

int main(int argc, char** argv) {
  const char* host = "::";
  const char* port = "2000";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--host") == 0) host = argv[i + 1];
    if (std::strcmp(argv[i], "--port") == 0) port = argv[i + 1];
  }
  return naive_echo_server(host, port);
}
