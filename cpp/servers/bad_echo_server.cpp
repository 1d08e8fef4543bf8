// bad_echo_server: the chapter's BadEchoServer in C++. It serves a polite client typing short
// lines, and little else. Each flaw is marked FLAW where it stands; echo_server.cpp fixes them all.
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "servers/servers.hpp"

namespace echolab {

namespace {

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

// guide:serve-bad begin
int serve_bad(int listen_fd) {
  for (;;) {
    // FLAW: one client at a time. Everyone else waits in the backlog until this client leaves.
    const int client = ::accept(listen_fd, nullptr, nullptr);
    // FLAW: any failed call ends the whole server, as the chapter's exceptions propagate out of
    // main(): accept failing with EMFILE, a client's read timing out, a reset.
    if (client < 0) return 1;

    // FLAW: a client silent for 10 s does not just lose its session: the failed read below ends
    // the server for everyone.
    const timeval ten_seconds{10, 0};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &ten_seconds, sizeof ten_seconds);

    // FLAW: line based. Bytes are echoed only when their '\n' arrives, so a client sending data
    // without newlines gets nothing back until it closes.
    FILE* in = ::fdopen(client, "r");
    char* line = nullptr;
    std::size_t capacity = 0;
    bool failed = false;
    for (;;) {
      const ssize_t length = ::getline(&line, &capacity, in);
      if (length < 0) {
        failed = std::ferror(in) != 0;
        break;
      }
      std::string text(line, static_cast<std::size_t>(length));
      // FLAW: line ends are rewritten, as a line reader does: "\r\n" comes back as "\n", and a
      // last line without '\n' gets one it never had.
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      const std::string reply = text + "\n";
      // FLAW: the result of write is ignored (a short write loses the rest), and SIGPIPE keeps its
      // default action: a client that leaves before its echo is written kills the server.
      [[maybe_unused]] const ssize_t ignored = ::write(client, reply.data(), reply.size());
      // FLAW: any line that trims to BYE ends the session, even "  BYE  " in the middle of data.
      if (trimmed(text) == "BYE") break;
    }
    std::free(line);
    std::fclose(in);  // closes `client` too
    if (failed) return 1;
  }
}
// guide:serve-bad end

}  // namespace echolab
