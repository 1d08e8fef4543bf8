// naive_echo_server: deliberately naive. The echo server as a sockets tutorial first writes it,
// raw POSIX calls and not one return value checked. Right for a healthy client. Each flaw is
// marked NAIVE where it stands:
// - a failed bind is not noticed: listen() then binds any free port, and the server announces
//   that port and waits there, where no client will look;
// - a bad host is not noticed either: getaddrinfo leaves the list empty and the server crashes;
// - one client at a time: the others wait in the backlog;
// - the result of write is ignored: a short write loses the rest of the echo;
// - SIGPIPE keeps its default action: a client that leaves before its echo is written kills the
//   server, without a word;
// - no signal handling: SIGTERM kills it.
// It uses none of the echolab library; echo_server.cpp is the careful version.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>

int naive_echo_server(const char* host, const char* port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* address = nullptr;
  // NAIVE: a host that does not resolve leaves `address` null, and the next line crashes on it.
  getaddrinfo(host, port, &hints, &address);
  const int listener = socket(address->ai_family, address->ai_socktype, address->ai_protocol);
  const int yes = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  // NAIVE: bind failing (port in use) goes unnoticed. listen() on an unbound socket binds it to a
  // free port of the kernel's choosing, so the server announces a port nobody asked for.
  bind(listener, address->ai_addr, address->ai_addrlen);
  listen(listener, 128);
  freeaddrinfo(address);

  sockaddr_in6 bound{};  // large enough for either family; sin6_port and sin_port share a place
  socklen_t length = sizeof bound;
  getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &length);
  char name[INET6_ADDRSTRLEN] = "";
  if (bound.sin6_family == AF_INET6) {
    inet_ntop(AF_INET6, &bound.sin6_addr, name, sizeof name);
    std::printf("listening on [%s]:%d\n", name, ntohs(bound.sin6_port));
  } else {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&bound)->sin_addr, name, sizeof name);
    std::printf("listening on %s:%d\n", name, ntohs(bound.sin6_port));
  }
  std::fflush(stdout);

  // NAIVE: no signal handling: SIGTERM kills the process, and SIGPIPE keeps its default action.
  for (;;) {
    // NAIVE: one client at a time; the others wait in the backlog until this one leaves.
    const int client = accept(listener, nullptr, nullptr);
    char buffer[1024];
    ssize_t n;
    // A reset makes read return -1, which ends this loop like the client's FIN does.
    while ((n = read(client, buffer, sizeof buffer)) > 0) {
      // NAIVE: the result of write is ignored: a short write loses the rest of the echo, and a
      // write to a client that has gone raises SIGPIPE, which kills the server.
      write(client, buffer, static_cast<size_t>(n));
    }
    close(client);
  }
}
