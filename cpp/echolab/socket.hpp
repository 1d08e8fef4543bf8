// The socket layer every Echo Lab program shares: one owner per descriptor, dual-stack listening,
// connecting to every address a name resolves to, and reads and writes that survive short counts,
// EINTR and a vanished peer.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace echolab {

// A failed call, named after the call, with what it was doing and the system's reason:
// "cannot connect to 127.0.0.1:2000: connect: Connection refused".
class Error : public std::system_error {
 public:
  Error(std::string call, std::string context, std::error_code code);
  Error(std::string call, std::string context, int errnum);

  const std::string& call() const noexcept { return call_; }
  const std::string& context() const noexcept { return context_; }

 private:
  std::string call_;
  std::string context_;
};

// The error category of getaddrinfo's EAI_* codes, whose messages come from gai_strerror.
const std::error_category& resolver_category() noexcept;

// Owns one descriptor and closes it exactly once. Move-only, so ownership is always visible:
// a thread that serves a connection is handed its Socket, never a pointer to someone else's.
class Socket {
 public:
  Socket() noexcept = default;
  explicit Socket(int fd) noexcept : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(other.release()) {}
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() { close(); }

  int fd() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  int release() noexcept;
  void close() noexcept;

 private:
  int fd_ = -1;
};

// "127.0.0.1:2000", "[::1]:2000", "[::ffff:10.0.0.1]:5000".
std::string format_address(const sockaddr* address, socklen_t length);
// The same form for a host and port as the user typed them: "[::1]:2000", "localhost:2000".
std::string format_host_port(std::string_view host, std::uint16_t port);
std::string local_address(int fd);
std::string peer_address(int fd);

// A numeric host and a port, as listen_tcp() takes them: {"::", 2000}, {"127.0.0.1", 40213}.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
// The address a socket is bound to, in that form.
HostPort local_host_port(int fd);

struct ListenOptions {
  // SO_REUSEPORT: several sockets that all set it may listen on one address, and the kernel
  // spreads the new connections over them.
  bool reuse_port = false;
};

// Listens on host:port. Names are resolved with AI_PASSIVE and IPv6 addresses are tried first;
// an IPv6 socket has IPV6_V6ONLY set to 0, so "::" serves IPv4 clients too (as ::ffff:a.b.c.d).
// SO_REUSEADDR lets a restarted server bind while old connections sit in TIME_WAIT. Port 0 asks
// the kernel for a free port: local_address() tells which one it chose.
Socket listen_tcp(const std::string& host, std::uint16_t port, const ListenOptions& options = {});

// Connects to the first address of host that accepts: a name, an IPv4 or an IPv6 literal.
Socket connect_tcp(const std::string& host, std::uint16_t port);

// setsockopt() for an int option; an Error naming `context` if it fails.
void set_option(int fd, int level, int name, int value, const std::string& context);

// Sends small writes at once instead of holding them until the last segment is acknowledged
// (Nagle's algorithm). A reply-shaped protocol needs this: with Nagle on one side and delayed
// ACKs on the other, a round trip can wait for a timer instead of for the network.
void set_no_delay(int fd);

// Ignores SIGPIPE for the whole process: a write to a vanished peer becomes an EPIPE error.
void ignore_sigpipe();

// Writes every byte, looping over short counts and EINTR. Sockets are written with MSG_NOSIGNAL,
// so a peer that has gone away is an Error (EPIPE), not a SIGPIPE that kills the process.
void write_all(int fd, std::span<const std::byte> data);
void write_all(int fd, std::string_view text);

// One read of at most buffer.size() bytes, retried on EINTR. Returns 0 at end of stream.
std::size_t read_some(int fd, std::span<std::byte> buffer);

// True for the errors that mean "the peer went away": a normal end of a session, not a failure.
bool is_disconnect(const std::error_code& code) noexcept;

}  // namespace echolab
