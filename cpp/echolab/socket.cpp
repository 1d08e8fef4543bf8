#include "echolab/socket.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace echolab {

namespace {

class ResolverCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int code) const override { return ::gai_strerror(code); }
};

struct AddrinfoDeleter {
  void operator()(addrinfo* list) const noexcept { ::freeaddrinfo(list); }
};
using AddrinfoList = std::unique_ptr<addrinfo, AddrinfoDeleter>;

AddrinfoList resolve(const std::string& host, std::uint16_t port, int flags,
                     const std::string& context) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags | AI_NUMERICSERV;
  const std::string service = std::to_string(port);
  addrinfo* list = nullptr;
  // guide:errors-unknown-host begin
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc == EAI_SYSTEM) throw Error("getaddrinfo", context, errno);
  if (rc != 0) throw Error("getaddrinfo", context, std::error_code(rc, resolver_category()));
  // guide:errors-unknown-host end
  return AddrinfoList(list);
}

Socket open_socket(const addrinfo& ai) {
  return Socket(::socket(ai.ai_family, ai.ai_socktype | SOCK_CLOEXEC, ai.ai_protocol));
}

// "[::1]:2000" for a connected socket; "the input" for anything else (a pipe, a file, a
// terminal, or a socket whose peer is already gone).
std::string describe_peer(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    int type = 0;
    socklen_t size = sizeof type;
    const bool socket = ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) == 0;
    return socket ? "the peer" : "the input";
  }
  return format_address(reinterpret_cast<sockaddr*>(&address), length);
}

// connect() interrupted by a signal goes on in the background; calling it again would fail with
// EALREADY. Wait for it to finish instead, and take its result from SO_ERROR.
int finish_interrupted_connect(int fd) {
  pollfd writable{fd, POLLOUT, 0};
  while (::poll(&writable, 1, -1) < 0) {
    if (errno != EINTR) return errno;
  }
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return errno;
  return error;
}

}  // namespace

Error::Error(std::string call, std::string context, std::error_code code)
    : std::system_error(code, context + ": " + call),
      call_(std::move(call)),
      context_(std::move(context)) {}

Error::Error(std::string call, std::string context, int errnum)
    : Error(std::move(call), std::move(context), std::error_code(errnum, std::system_category())) {}

const std::error_category& resolver_category() noexcept {
  static const ResolverCategory category;
  return category;
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.release();
  }
  return *this;
}

int Socket::release() noexcept {
  return std::exchange(fd_, -1);
}

void Socket::close() noexcept {
  // Even when close() fails the descriptor is gone on Linux; retrying could close a reused one.
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

std::string format_address(const sockaddr* address, socklen_t length) {
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  const int rc = ::getnameinfo(address, length, host, sizeof host, service, sizeof service,
                               NI_NUMERICHOST | NI_NUMERICSERV);
  if (rc != 0) return "<unknown address>";
  const std::string port(service);
  if (address->sa_family == AF_INET6) return "[" + std::string(host) + "]:" + port;
  return std::string(host) + ":" + port;
}

std::string format_host_port(std::string_view host, std::uint16_t port) {
  const bool bracket = host.find(':') != std::string_view::npos;
  std::string text = bracket ? "[" + std::string(host) + "]" : std::string(host);
  return text + ":" + std::to_string(port);
}

std::string local_address(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw Error("getsockname", "cannot read the local address", errno);
  return format_address(reinterpret_cast<sockaddr*>(&address), length);
}

HostPort local_host_port(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw Error("getsockname", "cannot read the local address", errno);
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  const int rc = ::getnameinfo(reinterpret_cast<sockaddr*>(&address), length, host, sizeof host,
                               service, sizeof service, NI_NUMERICHOST | NI_NUMERICSERV);
  if (rc != 0)
    throw Error("getnameinfo", "cannot read the local address",
                std::error_code(rc, resolver_category()));
  return {host, static_cast<std::uint16_t>(std::stoi(service))};
}

std::string peer_address(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw Error("getpeername", "cannot read the peer address", errno);
  return format_address(reinterpret_cast<sockaddr*>(&address), length);
}

Socket listen_tcp(const std::string& host, std::uint16_t port, const ListenOptions& options) {
  const std::string wanted = "cannot listen on " + format_host_port(host, port);
  const AddrinfoList list = resolve(host, port, AI_PASSIVE, wanted);

  std::vector<const addrinfo*> candidates;
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) candidates.push_back(ai);
  // IPv6 first: on a dual-stack socket one listener serves both families.
  std::stable_partition(candidates.begin(), candidates.end(),
                        [](const addrinfo* ai) { return ai->ai_family == AF_INET6; });

  std::optional<Error> last_error;
  // guide:listen-dual-stack begin
  for (const addrinfo* ai : candidates) {
    const std::string context = "cannot listen on " + format_address(ai->ai_addr, ai->ai_addrlen);
    Socket socket = open_socket(*ai);
    if (!socket.valid()) {
      last_error.emplace("socket", context, errno);
      continue;
    }
    set_option(socket.fd(), SOL_SOCKET, SO_REUSEADDR, 1, context);
    if (options.reuse_port) set_option(socket.fd(), SOL_SOCKET, SO_REUSEPORT, 1, context);
    if (ai->ai_family == AF_INET6) set_option(socket.fd(), IPPROTO_IPV6, IPV6_V6ONLY, 0, context);
    // guide:errors-port-in-use begin
    if (::bind(socket.fd(), ai->ai_addr, ai->ai_addrlen) != 0) {
      last_error.emplace("bind", context, errno);
      continue;
    }
    // guide:errors-port-in-use end
    if (::listen(socket.fd(), SOMAXCONN) != 0) {
      last_error.emplace("listen", context, errno);
      continue;
    }
    return socket;
  }
  // guide:listen-dual-stack end
  if (last_error) throw *last_error;
  throw Error("getaddrinfo", wanted, std::make_error_code(std::errc::address_not_available));
}

// guide:connect-tcp begin
Socket connect_tcp(const std::string& host, std::uint16_t port) {
  const std::string context = "cannot connect to " + format_host_port(host, port);
  const AddrinfoList list = resolve(host, port, 0, context);
  std::optional<Error> last_error;
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    Socket socket = open_socket(*ai);
    if (!socket.valid()) {
      last_error.emplace("socket", context, errno);
      continue;
    }
    // guide:errors-refused begin
    int error = ::connect(socket.fd(), ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
    if (error == EINTR) error = finish_interrupted_connect(socket.fd());
    if (error == 0) return socket;
    last_error.emplace("connect", context, error);
    // guide:errors-refused end
  }
  if (last_error) throw *last_error;
  throw Error("getaddrinfo", context, std::make_error_code(std::errc::address_not_available));
}
// guide:connect-tcp end

void set_option(int fd, int level, int name, int value, const std::string& context) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0)
    throw Error("setsockopt", context, errno);
}

void set_no_delay(int fd) {
  set_option(fd, IPPROTO_TCP, TCP_NODELAY, 1, "cannot set TCP_NODELAY");
}

// guide:write-all begin
void write_all(int fd, std::span<const std::byte> data) {
  bool is_socket = true;
  while (!data.empty()) {
    const ssize_t n = is_socket ? ::send(fd, data.data(), data.size(), MSG_NOSIGNAL)
                                : ::write(fd, data.data(), data.size());
    if (n < 0) {
      const int err = errno;  // saved: describing the peer makes system calls of its own
      if (err == EINTR) continue;
      if (err == ENOTSOCK && is_socket) {
        is_socket = false;
        continue;
      }
      if (is_socket) throw Error("send", "cannot send to " + describe_peer(fd), err);
      throw Error("write", "cannot write the output", err);
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
}
// guide:write-all end

void write_all(int fd, std::string_view text) {
  write_all(fd, std::as_bytes(std::span(text)));
}

std::size_t read_some(int fd, std::span<std::byte> buffer) {
  // guide:errors-reset begin
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) {
      const int err = errno;
      throw Error("read", "cannot read from " + describe_peer(fd), err);
    }
  }
  // guide:errors-reset end
}

// guide:is-disconnect begin
bool is_disconnect(const std::error_code& code) noexcept {
  if (code.category() != std::system_category()) return false;
  switch (code.value()) {
    case ECONNRESET:
    case EPIPE:
    case ETIMEDOUT:
    case ECONNABORTED:
      return true;
    default:
      return false;
  }
}
// guide:is-disconnect end

void ignore_sigpipe() {
  ::signal(SIGPIPE, SIG_IGN);
}

}  // namespace echolab
