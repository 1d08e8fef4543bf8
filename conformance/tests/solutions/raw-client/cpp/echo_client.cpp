// raw-client: --raw: copy stdin to the socket and the socket to stdout at the same time,
// half-close at the end of stdin, exit 0 when the server has closed.
//
// Check it:  python3 -m conformance check raw-client lab-guides/starters/raw-client/cpp
//
// This is the line-client solution with --raw parsed; the TODO is the copy itself.
#include <netdb.h>
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
#include <thread>
#include <utility>

namespace {

[[noreturn]] void usage() {
  std::cerr << "usage: echo_client [--raw] HOST [PORT]\n"
               "  e.g. echo_client ::1 2000   (HOST: a name, an IPv4 or an IPv6 address)\n"
               "  --raw: copy stdin to the server and its echo to stdout, bytes not lines\n";
  std::exit(2);
}

bool is_port(std::string_view text) {
  unsigned port = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  return error == std::errc() && end == text.data() + text.size() && port <= 65535;
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

[[noreturn]] void cannot_connect(const std::string& host, const std::string& port,
                                 const char* reason) {
  const bool v6 = host.find(':') != std::string::npos;
  std::cerr << "echo_client: cannot connect to " << (v6 ? "[" + host + "]" : host) << ":" << port
            << ": " << reason << "\n";
  std::exit(1);
}

// A socket connected to host:port, trying each address the name has; on failure, one line
// naming the address, and exit 1.
Socket connect_to(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    cannot_connect(host, port, gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, freeaddrinfo);
  int reason = 0;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Socket s(socket(a->ai_family, a->ai_socktype, a->ai_protocol));
    if (s.fd() >= 0 && connect(s.fd(), a->ai_addr, a->ai_addrlen) == 0) return s;
    reason = errno;
  }
  cannot_connect(host, port, std::strerror(reason));
}

// Writes all len bytes of buf, looping over short counts and EINTR; false on an error.
bool write_all(int fd, const char* buf, std::size_t len) {
  while (len > 0) {
    const ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    buf += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

// Reads exactly len bytes into buf; false if the connection ends or fails first.
bool recv_all(int fd, char* buf, std::size_t len) {
  while (len > 0) {
    const ssize_t n = recv(fd, buf, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

// The session: every line of stdin and its echo. Returns the exit status.
int talk(const Socket& sock) {
  const bool prompt = isatty(STDIN_FILENO);
  std::string line;
  for (;;) {
    if (prompt) std::cout << "Enter line:" << std::flush;
    if (!std::getline(std::cin, line) || line == "BYE" || line == "BYE\r") return 0;
    line += '\n';
    std::string echo(line.size(), '\0');
    if (!write_all(sock.fd(), line.data(), line.size()) ||
        !recv_all(sock.fd(), echo.data(), echo.size())) {
      std::cerr << "echo_client: lost the connection before the whole echo came back\n";
      return 1;
    }
    echo.pop_back();
    std::cout << "Echoed: '" << echo << "'\n";
  }
}

// --raw: stdin to the socket and the socket to stdout, both at once. Returns the exit status.
int copy_raw(const Socket& sock) {
  bool echo_complete = false;
  std::thread reader([&] {
    char buf[65536];
    ssize_t n;
    while ((n = recv(sock.fd(), buf, sizeof buf, 0)) != 0) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 || !write_all(STDOUT_FILENO, buf, static_cast<std::size_t>(n))) {
        std::perror("echo_client: copying the echo");
        return;
      }
    }
    echo_complete = true;
  });
  char buf[65536];
  int status = 0;
  for (;;) {
    const ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) break;
    if (n < 0 || !write_all(sock.fd(), buf, static_cast<std::size_t>(n))) {
      std::perror("echo_client: copying stdin");
      status = 1;
      break;
    }
  }
  shutdown(sock.fd(), SHUT_WR);  // the half-close: the server closes once the echo is out
  reader.join();
  return echo_complete ? status : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const bool raw = argc > 1 && std::string_view(argv[1]) == "--raw";
  char** args = argv + 1 + raw;
  const int nargs = argc - 1 - raw;
  if (nargs < 1 || nargs > 2 || args[0][0] == '-' || args[0][0] == '\0') usage();
  if (nargs == 2 && !is_port(args[1])) usage();
  // A server that has gone away makes write fail with EPIPE, rather than kill us with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  const Socket sock = connect_to(args[0], nargs == 2 ? args[1] : "2000");
  return raw ? copy_raw(sock) : talk(sock);
}
