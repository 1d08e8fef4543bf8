// event-loop-server: one thread, non-blocking sockets and a readiness loop, with bounded buffers
// and backpressure.
//
// Check it:
//   python3 -m conformance check event-loop-server lab-guides/starters/event-loop-server/cpp
//
// The loop is poll(), not epoll: one portable POSIX call whose whole state is the array you hand
// it, so you can see all it waits for (epoll scales further but keeps that state in the kernel).
// Given: the command line, the listener, accepting, the list of connections and the loop itself.
// Yours: the TODOs, which decide what each connection waits for and what it does when ready.
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

[[noreturn]] void usage() {
  std::cerr << "usage: echo_server [--host HOST] [--port PORT]\n"
               "  e.g. echo_server --host :: --port 2000   (:: serves IPv4 and IPv6 clients)\n";
  std::exit(2);
}

// SIGTERM or Ctrl-C: exit 0 at once. _exit is safe in a signal handler; std::exit is not.
void on_signal(int) {
  _exit(0);
}

bool is_port(std::string_view text) {
  unsigned port = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  return error == std::errc() && end == text.data() + text.size() && port <= 65535;
}

// host:port, with an IPv6 host in brackets: [::1]:2000
std::string address(const std::string& host, const std::string& port) {
  return (host.find(':') == std::string::npos ? host : "[" + host + "]") + ":" + port;
}

// Owns a descriptor and closes it when it goes out of scope; it can be moved, never copied.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void cannot_listen(const std::string& where, const char* reason) {
  std::cerr << "echo_server: cannot listen on " << where << ": " << reason << "\n";
  std::exit(1);
}

// A socket listening on host:port; on failure, one line naming the address, and exit 1.
Socket listen_on(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_flags = AI_PASSIVE;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    cannot_listen(address(host, port), gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, freeaddrinfo);
  int reason = 0, on = 1, off = 0;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Socket s(socket(a->ai_family, a->ai_socktype, a->ai_protocol));
    if (s.fd() < 0) {
      reason = errno;
      continue;
    }
    setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    // Dual stack: an IPv6 socket on :: takes IPv4 clients too, as ::ffff:a.b.c.d.
    if (a->ai_family == AF_INET6) setsockopt(s.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    if (bind(s.fd(), a->ai_addr, a->ai_addrlen) == 0 && listen(s.fd(), SOMAXCONN) == 0) return s;
    reason = errno;
  }
  cannot_listen(address(host, port), std::strerror(reason));
}

// "listening on [::]:40213", with the port really bound (--port 0 lets the system pick one).
void say_ready(const Socket& listener) {
  sockaddr_storage bound{};
  socklen_t size = sizeof bound;
  char host[80], port[8];
  getsockname(listener.fd(), reinterpret_cast<sockaddr*>(&bound), &size);
  getnameinfo(reinterpret_cast<sockaddr*>(&bound), size, host, sizeof host, port, sizeof port,
              NI_NUMERICHOST | NI_NUMERICSERV);
  std::cout << "listening on " << address(host, port) << std::endl;  // endl flushes: now, not later
}

constexpr std::size_t kBufferSize = 16384;  // per connection: what bounds the server's memory

struct Connection {
  Socket socket;
  std::vector<char> buffer = std::vector<char>(kBufferSize);
  std::size_t start = 0, end = 0;  // buffer[start, end) has arrived and is not yet echoed
  bool client_done = false;        // the client has half-closed: nothing more will arrive
};

void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Accepts every client waiting; returns true when out of descriptors (stop accepting a while).
bool accept_clients(const Socket& listener, std::vector<Connection>& connections) {
  for (;;) {
    const int fd = accept(listener.fd(), nullptr, nullptr);
    if (fd < 0) return errno == EMFILE || errno == ENFILE;
    set_nonblocking(fd);
    connections.push_back(Connection{Socket(fd)});
  }
}

// What poll() should wait for on this connection.
short events_for(const Connection& c) {
  // TODO(event-loop-server): ask only for what c can use now. POLLIN while its buffer has room
  // (end < kBufferSize) and the client has not half-closed: a full buffer means stop reading,
  // so the client's bytes back up in the kernel and its sends block. That is the backpressure.
  // POLLOUT while the buffer holds bytes not yet echoed (start < end).
  (void)c;
  return POLLIN;
}

// c is ready as revents says; returns true to keep it, false when it is finished (the loop then
// drops it, and its Socket closes).
bool on_ready(Connection& c, short revents) {
  if (revents & POLLERR) return false;  // reset: nothing can be sent or received any more
  // TODO(event-loop-server): on POLLIN, recv() into buffer[end, kBufferSize): more bytes
  // (end += n), 0 (the client half-closed: set client_done), or -1: EAGAIN means nothing after
  // all, any other error finishes the connection. On POLLOUT, send() buffer[start, end) with
  // MSG_NOSIGNAL: it may take only part (start += n; once start == end both go back to 0). When
  // the client has half-closed and everything is echoed, shutdown(fd, SHUT_WR) sends the FIN:
  // finished. Until then, the line below ends every connection at its first byte.
  (void)c;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "::", port = "2000";
  for (int i = 1; i < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (i + 1 == argc) usage();
    if (flag == "--host" && argv[i + 1][0] != '\0')
      host = argv[i + 1];
    else if (flag == "--port" && is_port(argv[i + 1]))
      port = argv[i + 1];
    else
      usage();
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  const Socket listener = listen_on(host, port);
  set_nonblocking(listener.fd());
  say_ready(listener);
  std::vector<Connection> connections;
  std::vector<pollfd> fds;
  bool paused = false;  // out of descriptors: the listener waits 100 ms, so the loop does not spin
  for (;;) {
    fds.assign(1, pollfd{listener.fd(), static_cast<short>(paused ? 0 : POLLIN), 0});
    for (const Connection& c : connections) fds.push_back(pollfd{c.socket.fd(), events_for(c), 0});
    if (poll(fds.data(), fds.size(), paused ? 100 : -1) < 0 && errno != EINTR) {
      std::perror("echo_server: poll");
      return 1;
    }
    paused = false;
    // Backwards, so that erasing one does not move the connections still to be looked at.
    for (std::size_t i = connections.size(); i-- > 0;)
      if (fds[1 + i].revents != 0 && !on_ready(connections[i], fds[1 + i].revents))
        connections.erase(connections.begin() + static_cast<std::ptrdiff_t>(i));
    if (fds[0].revents & POLLIN) paused = accept_clients(listener, connections);
  }
}
