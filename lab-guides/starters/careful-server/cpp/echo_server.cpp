// careful-server: every byte, whatever the network does: loop on short writes, finish the echo
// after the client's half-close and then close (FIN, never RST), survive a client's reset, serve
// IPv4 and IPv6 clients on ::.
//
// Check it:  python3 -m conformance check careful-server lab-guides/starters/careful-server/cpp
//
// This is the echo-server solution; the TODOs are what it still gets wrong.
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

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

// TODO(careful-server): write bool send_all(int fd, const char* buf, std::size_t len) here.
// send() may take fewer bytes than it is given (it returns how many) or fail with EINTR before
// taking any: loop until all len bytes are out, retrying on EINTR; return false on any other
// error. Pass MSG_NOSIGNAL: a send to a client that has reset then fails with EPIPE instead of
// raising SIGPIPE, whose default action kills the whole server.

// Echoes everything the client sends until it closes its side.
void serve(Socket client) {
  char buf[4096];
  ssize_t n;
  // TODO(careful-server): this loop trusts every call. recv() failing with EINTR ends nothing:
  // recv again. Send with send_all(), and if that fails (the client has reset) end this session
  // only, by returning. The Socket then closes; as that comes after the whole echo, the client
  // sees FIN, not RST.
  while ((n = recv(client.fd(), buf, sizeof buf, 0)) > 0)
    send(client.fd(), buf, static_cast<std::size_t>(n), 0);
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
  say_ready(listener);
  for (;;) {
    const int fd = accept(listener.fd(), nullptr, nullptr);
    if (fd < 0) {
      // Out of descriptors: wait for some to be freed rather than spin. Others: try again.
      if (errno == EMFILE || errno == ENFILE)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    serve(Socket(fd));
  }
}
