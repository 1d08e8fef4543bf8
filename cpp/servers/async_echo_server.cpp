// The echo server as one thread and an event loop. Every socket is non-blocking; epoll says which
// ones are ready, and each connection is a small state machine: read when there is room, send
// what is owed, and after the client's end of stream send the rest, then close.
//
// The lessons, in the order the code meets them:
//   - readiness: a socket is read or written only when epoll says it will not block;
//   - backpressure: a connection holds at most kBufferLimit bytes; when its client does not read
//     its echo, the server stops reading from that client, and TCP tells the client to wait;
//   - half-close: the client's end of stream is not the end of the connection: the echo it is
//     still owed is sent first, then our FIN;
//   - timeouts: a connection that makes no progress for --idle-timeout seconds is closed.
//
// Level-triggered epoll: a ready socket is reported on every epoll_wait until it is no longer
// ready, so a handler may read once and leave the rest for the next round (every client gets its
// turn) and a missed event cannot strand a connection. The price is that the interest set must
// say what we want now: a socket we are ignoring but still watching would wake us in a busy loop.
// update_interest() keeps it exact.

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "echolab/program.hpp"
#include "servers/servers.hpp"

namespace echolab {

namespace {

using Clock = std::chrono::steady_clock;

// The most a connection holds: bytes read from its client and not yet sent back. The server's
// memory for data is at most connections × kBufferLimit: 1,000 clients that all fall behind at
// once cost 16 MiB, and a bigger buffer would not echo faster (the kernel's buffers do that).
constexpr std::size_t kBufferLimit = 16 * 1024;
// How many ready sockets one epoll_wait may report.
constexpr int kMaxEvents = 256;
// How long accepting pauses when the system is out of memory or descriptors.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

// Bytes read from a client and not yet echoed, oldest first: at most kBufferLimit of them. The
// memory is held only while something is owed, so a client that keeps up costs nothing here.
class EchoBuffer {
 public:
  std::size_t size() const { return bytes_.size() - sent_; }
  bool empty() const { return size() == 0; }
  std::size_t room() const { return kBufferLimit - size(); }
  std::span<const std::byte> unsent() const { return std::span(bytes_).subspan(sent_); }

  void append(std::span<const std::byte> data) {
    bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(sent_));
    sent_ = 0;
    bytes_.insert(bytes_.end(), data.begin(), data.end());
  }
  void consume(std::size_t count) {
    sent_ += count;
    if (sent_ == bytes_.size()) {
      bytes_ = {};  // all echoed: give the memory back
      sent_ = 0;
    }
  }

 private:
  std::vector<std::byte> bytes_;
  std::size_t sent_ = 0;
};

struct Connection {
  Socket socket;
  std::string peer;  // for diagnostics
  EchoBuffer owed;
  bool client_done = false;    // the client half-closed: finish its echo, then close
  std::uint32_t interest = 0;  // what epoll watches for now: EPOLLIN, EPOLLOUT, both
  Clock::time_point progress;  // when a byte last moved either way
  std::list<int>::iterator in_idle_order;
};

// Nothing to do now, try again when epoll reports the socket again.
bool try_later(int error) {
  return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

Socket open_spare() {
  return Socket(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

class EventLoop {
 public:
  EventLoop(Socket& listener, Stopper& stopper, const ServerOptions& options)
      : listener_(listener), stopper_(stopper), options_(options) {
    if (!epoll_.valid()) throw Error("epoll_create1", "cannot start the event loop", errno);
    const int flags = ::fcntl(listener_.fd(), F_GETFL);
    if (flags < 0 || ::fcntl(listener_.fd(), F_SETFL, flags | O_NONBLOCK) != 0)
      throw Error("fcntl", "cannot make the listener non-blocking", errno);
    if (options.idle_timeout_seconds) {
      // At least a millisecond, at most a year: the clock's arithmetic must not overflow.
      const double seconds = std::clamp(*options.idle_timeout_seconds, 0.001, 365 * 86400.0);
      idle_timeout_ =
          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    }
  }

  // Returns when the stopper fires; the destructor then closes every connection.
  void run() {
    watch(EPOLL_CTL_ADD, stopper_.fd(), EPOLLIN);
    watch(EPOLL_CTL_ADD, listener_.fd(), EPOLLIN);
    std::array<epoll_event, kMaxEvents> events;
    for (;;) {
      const int count = ::epoll_wait(epoll_.fd(), events.data(), kMaxEvents, wait_ms());
      if (count < 0 && errno != EINTR) throw Error("epoll_wait", "cannot wait for events", errno);
      now_ = Clock::now();
      for (int i = 0; i < count; ++i) {
        const epoll_event& event = events[static_cast<std::size_t>(i)];
        if (event.data.fd == stopper_.fd()) return;
        if (event.data.fd == listener_.fd()) {
          accept_clients();
        } else if (auto it = connections_.find(event.data.fd); it != connections_.end()) {
          on_ready(it->second, event.events);
        }
      }
      resume_accepting_when_due();
      close_idle_connections();
    }
  }

 private:
  // --- Accepting -------------------------------------------------------------------------------

  void accept_clients() {
    for (;;) {
      sockaddr_storage address{};
      socklen_t length = sizeof address;
      Socket client(::accept4(listener_.fd(), reinterpret_cast<sockaddr*>(&address), &length,
                              SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!client.valid()) {
        const int error = errno;
        switch (error) {
          case EAGAIN:  // nobody else is waiting (EWOULDBLOCK is the same on Linux)
            return;
          case EINTR:
          case ECONNABORTED:  // the client gave up while queued
          case EPROTO:
            continue;
          case EMFILE:
          case ENFILE: {
            // accept4 fails so before it looks at the queue: a client may be waiting, or not.
            const int refused = spare_.valid() ? refuse_with_spare() : error;
            if (refused == 0) continue;     // one refused: try the next
            if (refused == EAGAIN) return;  // nobody was waiting
            pause_accepting(refused);
            return;
          }
          case ENOBUFS:
          case ENOMEM:
            pause_accepting(error);
            return;
          default:
            throw Error("accept", "cannot accept on " + local_address(listener_.fd()), error);
        }
      }
      std::string peer = format_address(reinterpret_cast<sockaddr*>(&address), length);
      if (options_.max_connections && connections_.size() >= *options_.max_connections) {
        // Closed at the end of this scope: the client learns at once (FIN, or RST if it had sent
        // something), instead of waiting in the backlog.
        report("refused " + peer + ": already serving " + std::to_string(connections_.size()) +
               " connections (--max-connections)");
        continue;
      }
      add(std::move(client), std::move(peer));
    }
  }

  // Out of descriptors, a waiting client cannot be accepted, and the listener stays readable: a
  // level-triggered loop would spin. So give up the spare descriptor kept for this moment,
  // accept the client with it and close it at once, then take the spare back (as libuv does).
  // Returns 0 when a client was refused, else accept4's error (EAGAIN: nobody was waiting).
  int refuse_with_spare() {
    spare_.close();
    Socket waiting(::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC));
    const int error = waiting.valid() ? 0 : errno;
    waiting.close();
    spare_ = open_spare();
    if (error == 0) report("out of file descriptors: closed a new connection at once");
    return error;
  }

  void pause_accepting(int error) {
    report("cannot accept for now (" + std::error_code(error, std::system_category()).message() +
           "): pausing for " + std::to_string(kAcceptPause.count()) + " ms");
    watch(EPOLL_CTL_MOD, listener_.fd(), 0);
    accept_resumes_ = now_ + kAcceptPause;
  }

  void resume_accepting_when_due() {
    if (!accept_resumes_ || now_ < *accept_resumes_) return;
    accept_resumes_.reset();
    if (!spare_.valid()) spare_ = open_spare();
    watch(EPOLL_CTL_MOD, listener_.fd(), EPOLLIN);
  }

  void add(Socket client, std::string peer) {
    // Echo small writes at once instead of waiting to batch them (Nagle's algorithm).
    const int one = 1;
    ::setsockopt(client.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int fd = client.fd();
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_.fd(), EPOLL_CTL_ADD, fd, &event) != 0) {
      report(Error("epoll_ctl", "cannot serve " + peer, errno).what());
      return;
    }
    idle_order_.push_back(fd);
    connections_.emplace(fd, Connection{.socket = std::move(client),
                                        .peer = std::move(peer),
                                        .owed = {},
                                        .client_done = false,
                                        .interest = EPOLLIN,
                                        .progress = now_,
                                        .in_idle_order = std::prev(idle_order_.end())});
  }

  // --- One connection's state machine --------------------------------------------------------

  void on_ready(Connection& c, std::uint32_t events) {
    // EPOLLHUP and EPOLLERR come whatever we asked for; the next recv or send reports why.
    const bool readable = (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0;
    if (readable && (c.interest & EPOLLIN) != 0 && !receive(c)) return close(c);
    // Also right after a read: usually the socket takes the whole echo at once.
    if (!send_owed(c)) return close(c);
    if (c.client_done && c.owed.empty()) {
      // Everything read has been sent and the read side is at end of stream, so closing cannot
      // discard unread input (which would mean RST): the client gets every byte, then FIN.
      ::shutdown(c.socket.fd(), SHUT_WR);
      return close(c);
    }
    update_interest(c);
  }

  // One read of at most the room left. False when the connection is over.
  bool receive(Connection& c) {
    const std::size_t wanted = std::min(c.owed.room(), scratch_.size());
    const ssize_t n = ::recv(c.socket.fd(), scratch_.data(), wanted, 0);
    if (n < 0) return try_later(errno) || failed(c, "recv");
    if (n == 0) c.client_done = true;
    c.owed.append(std::span(scratch_).first(static_cast<std::size_t>(n)));
    made_progress(c);
    return true;
  }

  // Sends what is owed until the socket will take no more. False when the connection is over.
  bool send_owed(Connection& c) {
    while (!c.owed.empty()) {
      const auto data = c.owed.unsent();
      const ssize_t n = ::send(c.socket.fd(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (try_later(errno)) return true;  // the socket is full: EPOLLOUT says when it drains
        return failed(c, "send");
      }
      c.owed.consume(static_cast<std::size_t>(n));
      made_progress(c);
    }
    return true;
  }

  // Watch for input only while there is room for it (backpressure) and the client has not
  // finished; watch for output only while something is owed.
  void update_interest(Connection& c) {
    std::uint32_t wanted = 0;
    if (!c.client_done && c.owed.room() > 0) wanted |= EPOLLIN;
    if (!c.owed.empty()) wanted |= EPOLLOUT;
    if (wanted == c.interest) return;
    watch(EPOLL_CTL_MOD, c.socket.fd(), wanted);
    c.interest = wanted;
  }

  // A reset or a vanished client is a normal end; anything else is worth a line on stderr.
  bool failed(const Connection& c, const char* call) {
    const std::error_code code(errno, std::system_category());
    if (!is_disconnect(code)) report(Error(call, c.peer, code).what());
    return false;
  }

  void close(Connection& c) {
    idle_order_.erase(c.in_idle_order);
    connections_.erase(c.socket.fd());  // the Socket closes, and epoll forgets the descriptor
  }

  // --- Idle timeouts -------------------------------------------------------------------------
  // idle_order_ lists the connections from the one that made progress longest ago to the most
  // recent. Progress moves a connection to the back in O(1), so the ones to close are always at
  // the front, and the next deadline is the front's: no scan of every connection.

  void made_progress(Connection& c) {
    c.progress = now_;
    idle_order_.splice(idle_order_.end(), idle_order_, c.in_idle_order);
  }

  void close_idle_connections() {
    if (!idle_timeout_) return;
    while (!idle_order_.empty()) {
      Connection& c = connections_.at(idle_order_.front());
      if (now_ - c.progress < *idle_timeout_) return;
      report("closing " + c.peer + ": no progress within --idle-timeout");
      close(c);
    }
  }

  // epoll_wait's timeout: until the next idle deadline or the end of an accept pause, if any.
  int wait_ms() const {
    std::optional<Clock::time_point> next = accept_resumes_;
    if (idle_timeout_ && !idle_order_.empty()) {
      const auto deadline = connections_.at(idle_order_.front()).progress + *idle_timeout_;
      next = next ? std::min(*next, deadline) : deadline;
    }
    if (!next) return -1;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*next - Clock::now()).count();
    return static_cast<int>(std::clamp<std::int64_t>(ms, 0, 3'600'000));
  }

  void watch(int operation, int fd, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_.fd(), operation, fd, &event) != 0)
      throw Error("epoll_ctl", "cannot watch descriptor " + std::to_string(fd), errno);
  }

  Socket& listener_;
  Stopper& stopper_;
  const ServerOptions& options_;
  Socket epoll_{::epoll_create1(EPOLL_CLOEXEC)};
  Socket spare_ = open_spare();  // a descriptor to give up when accept fails with EMFILE
  std::optional<Clock::duration> idle_timeout_;
  std::optional<Clock::time_point> accept_resumes_;
  Clock::time_point now_ = Clock::now();  // when the last epoll_wait returned
  std::unordered_map<int, Connection> connections_;
  std::list<int> idle_order_;
  std::vector<std::byte> scratch_ = std::vector<std::byte>(kBufferLimit);  // what recv fills
};

}  // namespace

void serve_event_loop(Socket& listener, Stopper& stopper, const ServerOptions& options) {
  EventLoop(listener, stopper, options).run();
}

}  // namespace echolab
