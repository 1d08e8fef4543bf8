// bad_echo_client: the chapter's BadEchoClient in C++. Against a healthy server it works; when
// anything goes wrong it carries on quietly. Each flaw is marked FLAW; echo_client.cpp fixes them.
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "clients/clients.hpp"
#include "echolab/lines.hpp"

namespace echolab {

// guide:bad-client begin
int run_bad_client(const std::string& host, std::uint16_t port, const ClientIo& io) {
  // FLAW: every failure, whatever it was, becomes this one vague line, on stdout, and the exit
  // status still says success.
  const auto something_went_wrong = [&io] {
    write_all(io.out, std::string_view("Oops, that did not work\n"));
    return 0;
  };

  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &addresses) != 0)
    return something_went_wrong();
  // FLAW: only the first address is tried. "localhost" may resolve to ::1 first while the server
  // listens on 127.0.0.1 only, and then this client never reaches it.
  const int fd = ::socket(addresses->ai_family, SOCK_STREAM, 0);
  const int connected = ::connect(fd, addresses->ai_addr, addresses->ai_addrlen);
  ::freeaddrinfo(addresses);
  if (connected != 0) {
    ::close(fd);
    return something_went_wrong();
  }

  LineReader input(io.in);
  LineReader echoes(fd);  // the chapter's client reads its echo with a line reader too
  try {
    for (;;) {
      prompt(io);
      const auto line = input.next();
      // FLAW: only "BYE" exactly ends the session; "BYE\r", from a terminal that sends CRLF, is
      // sent to the server as one more line.
      if (!line || *line == "BYE") break;
      const std::string bytes = framed(*line);
      // FLAW: send's result is ignored: a short write loses the rest of the line, an error passes
      // unnoticed, and without MSG_NOSIGNAL a server that has gone kills this client with SIGPIPE.
      [[maybe_unused]] const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), 0);
      // FLAW: the echo is whatever comes before the next newline, and a connection the server has
      // closed reads as an empty echo: the transcript goes on as if nothing happened, and the exit
      // status is still 0.
      write_all(io.out, echoed(echoes.next().value_or("")));
    }
  } catch (...) {
    // FLAW: a reset, a failed write to the terminal, anything: the same vague line, exit status 0.
    something_went_wrong();
  }
  ::close(fd);
  return 0;
}
// guide:bad-client end

}  // namespace echolab
