// naive_echo_client: deliberately naive. The echo client as a sockets tutorial first writes it,
// raw POSIX calls and not one return value checked. Right for short lines to a healthy server.
// Each flaw is marked NAIVE where it stands:
// - a host that does not resolve leaves the address list empty, and the client crashes on it;
// - a refused connection is not noticed: the first send on the unconnected socket raises SIGPIPE,
//   which kills the client without a word;
// - the result of send is ignored, and SIGPIPE keeps its default action: a server that has gone
//   kills the client;
// - one recv is taken to be the whole echo: a long or split echo comes back cut;
// - recv's 0 (the server has closed) is printed as an empty echo, and its -1 (a reset) ends in an
//   uncaught std::length_error.
// It uses none of the echolab library; echo_client.cpp is the careful version.
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>
#include <string>

int naive_echo_client(const char* host, const char* port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* address = nullptr;
  // NAIVE: a host that does not resolve leaves `address` null, and the next line crashes on it.
  getaddrinfo(host, port, &hints, &address);
  const int server = socket(address->ai_family, address->ai_socktype, address->ai_protocol);
  // NAIVE: a refused connection goes unnoticed; the socket stays unconnected.
  connect(server, address->ai_addr, address->ai_addrlen);
  freeaddrinfo(address);

  std::string line;
  while (std::getline(std::cin, line) && line != "BYE") {
    line += '\n';
    // NAIVE: the result of send is ignored, and without MSG_NOSIGNAL a send on a socket that is
    // not connected, or whose server has gone, raises SIGPIPE, which kills the client.
    send(server, line.data(), line.size(), 0);
    char buffer[1024];
    // NAIVE: one recv is taken to be the whole echo: a longer echo, or one the network splits,
    // comes back cut, and its rest shows up as the next line's echo.
    const ssize_t n = recv(server, buffer, sizeof buffer, 0);
    // NAIVE: n is not checked: 0 (the server has closed) prints an empty echo and the loop goes
    // on; -1 (a reset) makes this constructor throw std::length_error, which nothing catches.
    const std::string echo(buffer, buffer + n);
    std::cout << "Echoed: '" << echo.substr(0, echo.find('\n')) << "'" << std::endl;
  }
  close(server);
  return 0;
}
