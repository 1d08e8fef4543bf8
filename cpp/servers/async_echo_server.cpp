// async_echo_server: the echo server as one thread and an event loop. Every socket is
// non-blocking; epoll says which ones are ready, and each connection is a small state machine
// (EchoConnection, in echolab/echo_connection.hpp, free of sockets so it can be tested and fuzzed
// alone): read, send the echo straight back, keep only what the socket would not take, and after
// the client's end of stream send the rest, then close. This file is the loop: it does the system
// calls the machine asks for.
//
// The lessons, in the order the code meets them:
//   - readiness: a socket is read or written only when epoll says it will not block;
//   - backpressure: a connection holds at most kReadSize bytes, the part of one read its socket
//     would not take; while it holds any, the server stops reading from that client, and TCP
//     tells the client to wait;
//   - half-close: the client's end of stream is not the end of the connection: the echo it is
//     still owed is sent first, then our FIN;
// and the hardening, each marked "Hardening" where it stands:
//   - timeouts: a connection that makes no progress for --idle-timeout seconds is closed;
//   - limits: --max-connections, and running out of descriptors or memory, turn clients away
//     at once instead of ending or stalling the loop;
//   - draining: a stop shuts the listener down (new clients are refused) and the loop goes on
//     until its connections end or --drain-timeout cuts them;
//   - scaling out: --threads N runs N such loops, each with its own listening socket
//     (SO_REUSEPORT), and the kernel spreads new connections over them.
//
// Level-triggered epoll: a ready socket is reported on every epoll_wait until it is no longer
// ready, so a handler may read once and leave the rest for the next round (every client gets its
// turn) and a missed event cannot strand a connection. The price is that the interest set must
// say what we want now: a socket we are ignoring but still watching would wake us in a busy loop.
// update_interest() keeps it exact.
//
// Performance: on loopback nearly all of this server's time is the kernel's TCP work, so what
// pays is fewer system calls per byte (large reads, no extra copies), not clever user-space
// code. The choices below were measured with `make bench`; the figures are in the committed
// benchmark results (lab-guides/07-performance-and-robustness.md), not here, where they would
// go stale.

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <exception>
#include <list>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "echolab/accept.hpp"
#include "echolab/diagnostics.hpp"
#include "echolab/echo_connection.hpp"
#include "servers/servers.hpp"

namespace echolab {

namespace {

using Clock = std::chrono::steady_clock;

// The most one recv() takes. Streaming is where the size matters: fewer, larger calls cut the
// server's CPU time per byte, up to where the client becomes the limit; ping-pong of small
// messages does not care. The buffer is shared by every connection of the loop, so its size
// costs nothing per client.
constexpr std::size_t kReadSize = 256 * 1024;
// How many ready sockets one epoll_wait may report. The batch size made no measurable
// difference even with many connections: epoll_wait is a small part of the time.
constexpr int kMaxEvents = 256;
// Hardening: how long accepting pauses when the system is out of memory or descriptors.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

// A connection holds at most one read's worth, the part its socket would not take, and only while
// something is owed: a client that keeps up costs nothing here, and a client that stops reading
// costs at most kReadSize (beside what its socket already holds in the kernel's buffers). The
// rules of one connection live in EchoConnection (echolab/echo_connection.hpp); this file does its
// system calls.
struct Connection {
  Socket socket;
  std::string peer;  // for diagnostics
  EchoConnection state{kReadSize};
  std::uint32_t interest = 0;  // what epoll watches for now: EPOLLIN or EPOLLOUT
  Clock::time_point progress;  // hardening (--idle-timeout): when a byte last moved either way
  std::list<int>::iterator in_idle_order;
};

// Nothing to do now, try again when epoll reports the socket again.
bool try_later(int error) {
  return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

class EventLoop {
 public:
  // `served` counts the connections of every loop, for --max-connections (hardening).
  EventLoop(Socket& listener, Stopper& stopper, const ServerOptions& options,
            std::atomic<std::size_t>& served)
      : listener_(listener), stopper_(stopper), options_(options), served_(served) {
    if (!epoll_.valid()) throw Error("epoll_create1", "cannot start the event loop", errno);
    const int flags = ::fcntl(listener_.fd(), F_GETFL);
    if (flags < 0 || ::fcntl(listener_.fd(), F_SETFL, flags | O_NONBLOCK) != 0)
      throw Error("fcntl", "cannot make the listener non-blocking", errno);
    if (options.idle_timeout_seconds) {  // hardening
      // At least a millisecond, at most a year: the clock's arithmetic must not overflow.
      const double seconds = std::clamp(*options.idle_timeout_seconds, 0.001, 365 * 86400.0);
      idle_timeout_ =
          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    }
  }
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop() { served_ -= connections_.size(); }

  // Returns after a stop, when the last connection has ended or the drain is cut short; the
  // destructor then closes whatever is left.
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
        if (event.data.fd == stopper_.cut_fd()) return;
        if (event.data.fd == stopper_.fd()) {
          start_draining();
        } else if (event.data.fd == listener_.fd()) {
          if (!draining_) accept_clients();
        } else if (auto it = connections_.find(event.data.fd); it != connections_.end()) {
          on_ready(it->second, event.events);
        }
      }
      if (draining_ && connections_.empty()) return;
      resume_accepting_when_due();  // hardening
      close_idle_connections();     // hardening
    }
  }

 private:
  // --- Accepting -------------------------------------------------------------------------------

  // guide:async-accept begin
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
          case EMFILE:  // hardening: out of descriptors
          case ENFILE: {
            // accept4 fails so before it looks at the queue: a client may be waiting, or not.
            const int refused = spare_.valid() ? refuse_with_spare(listener_, spare_) : error;
            if (refused == 0) continue;     // one refused: try the next
            if (refused == EAGAIN) return;  // nobody was waiting
            pause_accepting(refused);
            return;
          }
          case ENOBUFS:  // hardening: out of memory
          case ENOMEM:
            pause_accepting(error);
            return;
          default:
            if (stopper_.requested()) return;  // the stop shut the listener down
            throw Error("accept", "cannot accept on " + local_address(listener_.fd()), error);
        }
      }
      std::string peer = format_address(reinterpret_cast<sockaddr*>(&address), length);
      if (options_.max_connections && served_ >= *options_.max_connections) {
        // Hardening (--max-connections). Closed at the end of this scope, so the client learns at
        // once (FIN, or RST if it had sent something) instead of waiting in the backlog.
        report("refused " + peer + ": already serving " + std::to_string(served_.load()) +
               " connections (--max-connections)");
        continue;
      }
      add(std::move(client), std::move(peer));
    }
  }
  // guide:async-accept end

  // Hardening: out of descriptors, refuse_with_spare() (echolab/accept.hpp) accepts the waiting
  // client with a descriptor kept for this moment and closes it at once, so the loop does not
  // spin; when even that fails, or memory is short, accepting pauses for kAcceptPause.

  void pause_accepting(int error) {
    report("cannot accept for now (" + std::error_code(error, std::system_category()).message() +
           "): pausing for " + std::to_string(kAcceptPause.count()) + " ms");
    watch(EPOLL_CTL_MOD, listener_.fd(), 0);
    accept_resumes_ = now_ + kAcceptPause;
  }

  // Hardening (the drain): the stopper has shut the listener down, so no more clients. The loop
  // goes on until its connections end by themselves or the stopper cuts them.
  void start_draining() {
    draining_ = true;
    accept_resumes_.reset();
    watch(EPOLL_CTL_DEL, stopper_.fd(), 0);
    watch(EPOLL_CTL_DEL, listener_.fd(), 0);
    watch(EPOLL_CTL_ADD, stopper_.cut_fd(), EPOLLIN);
  }

  void resume_accepting_when_due() {
    if (!accept_resumes_ || now_ < *accept_resumes_) return;
    accept_resumes_.reset();
    if (!spare_.valid()) spare_ = open_spare();
    watch(EPOLL_CTL_MOD, listener_.fd(), EPOLLIN);
  }

  void add(Socket client, std::string peer) {
    // Echo small writes at once instead of holding them back until earlier data is acknowledged
    // (Nagle's algorithm). An echo usually leaves in one send(), but one the socket takes only in
    // part leaves in pieces, and with Nagle on the last piece would wait for the client's delayed
    // ACK. A failure costs only that, so it does not end the connection.
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
                                        .interest = EPOLLIN,
                                        .progress = now_,
                                        .in_idle_order = std::prev(idle_order_.end())});
    ++served_;
  }

  // --- One connection's state machine --------------------------------------------------------
  // Edge-triggered epoll (registered once, read until a short read) measured no cheaper, so the
  // simpler level-triggered loop stays. In the steady state of a ping-pong the interest never
  // changes, so there is no epoll_ctl call per message either.

  // guide:async-on-ready begin
  void on_ready(Connection& c, std::uint32_t events) {
    // EPOLLHUP and EPOLLERR come whatever we asked for; the next recv or send reports why.
    const bool readable = (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0;
    if (readable && (c.interest & EPOLLIN) != 0) {
      receive(c);
    } else if (c.state.step().interest == Interest::write) {
      c.state.writable();
    }
    send_what_is_due(c);
    const Step& step = c.state.step();
    if (step.shutdown_write) ::shutdown(c.socket.fd(), SHUT_WR);
    if (step.close) return close(c);
    update_interest(c, step.interest);
  }
  // guide:async-on-ready end

  // guide:async-receive begin
  // One read, sent straight back from the buffer it was read into (send_what_is_due); only what
  // the socket does not take is kept. Copying every read into the connection's own buffer first
  // would cost a copy per byte and a buffer per connection. Per echo this is one recv() and one
  // send(), the least any readiness-based server can do.
  void receive(Connection& c) {
    const ssize_t n = ::recv(c.socket.fd(), scratch_.data(), c.state.read_size(), 0);
    if (n < 0) {
      if (!try_later(errno)) failed(c, "recv");
      return;
    }
    if (n == 0) {
      c.state.end_of_input();
      return;
    }
    made_progress(c);
    c.state.readable(std::span(scratch_).first(static_cast<std::size_t>(n)));
  }

  // Sends what the connection asks for until it is all sent or the socket will take no more.
  void send_what_is_due(Connection& c) {
    for (;;) {
      const std::span<const std::byte> data = c.state.step().write;
      if (data.empty()) return;
      const ssize_t sent = ::send(c.socket.fd(), data.data(), data.size(), MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EINTR) continue;
        if (try_later(errno)) {
          c.state.would_block();  // the socket is full: the rest is kept, EPOLLOUT says when
        } else {
          failed(c, "send");
        }
        return;
      }
      made_progress(c);
      c.state.wrote(static_cast<std::size_t>(sent));
    }
  }
  // guide:async-receive end

  // What the connection waits for, as epoll's interest; changed only when it differs.
  void update_interest(Connection& c, Interest interest) {
    std::uint32_t wanted = 0;
    if (interest == Interest::read) wanted = EPOLLIN;
    if (interest == Interest::write) wanted = EPOLLOUT;
    if (wanted == c.interest) return;
    watch(EPOLL_CTL_MOD, c.socket.fd(), wanted);
    c.interest = wanted;
  }

  // The connection is over. A reset or a vanished client is a normal end; anything else is
  // worth a line on stderr.
  void failed(Connection& c, const char* call) {
    const std::error_code code(errno, std::system_category());
    if (!is_disconnect(code)) report(Error(call, c.peer, code).what());
    c.state.failed();
  }

  void close(Connection& c) {
    idle_order_.erase(c.in_idle_order);
    connections_.erase(c.socket.fd());  // the Socket closes, and epoll forgets the descriptor
    --served_;
  }

  // --- Hardening: idle timeouts --------------------------------------------------------------
  // idle_order_ lists the connections from the one that made progress longest ago to the most
  // recent. Progress moves a connection to the back in O(1), so the ones to close are always at
  // the front, and the next deadline is the front's: no scan of every connection.

  void made_progress(Connection& c) {
    c.progress = now_;
    idle_order_.splice(idle_order_.end(), idle_order_, c.in_idle_order);
  }

  // guide:async-idle begin
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
  // guide:async-idle end

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
  std::atomic<std::size_t>& served_;
  Socket epoll_{::epoll_create1(EPOLL_CLOEXEC)};
  Socket spare_ = open_spare();  // hardening: a descriptor to give up when accept fails with EMFILE
  std::optional<Clock::duration> idle_timeout_;      // hardening
  std::optional<Clock::time_point> accept_resumes_;  // hardening
  bool draining_ = false;                            // hardening
  Clock::time_point now_ = Clock::now();             // when the last epoll_wait returned
  std::unordered_map<int, Connection> connections_;
  std::list<int> idle_order_;
  std::vector<std::byte> scratch_ = std::vector<std::byte>(kReadSize);  // what recv fills
};

// --- Hardening: several loops (--threads N) ------------------------------------------------------

// Each loop has a listening socket of its own on the same address. With SO_REUSEPORT set on all of
// them (on the first too: Linux accepts it after bind), the kernel hashes each new connection to
// one of the listeners, so each loop accepts its own share and no two loops ever touch the same
// connection.
void serve_with_threads(Socket& listener, Stopper& stopper, const ServerOptions& options) {
  set_option(listener.fd(), SOL_SOCKET, SO_REUSEPORT, 1, "cannot share the listener");
  const HostPort bound = local_host_port(listener.fd());
  std::vector<Socket> listeners;
  for (std::size_t i = 1; i < options.threads; ++i)
    listeners.push_back(listen_tcp(bound.host, bound.port, {.reuse_port = true}));
  std::list<Stopper::Tracked> refusing;  // a stop shuts every listener down, not only the first
  for (const Socket& own : listeners) refusing.emplace_back(stopper, own.fd(), true);

  std::atomic<std::size_t> served{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  const auto run_loop = [&](Socket& own) {
    try {
      EventLoop(own, stopper, options, served).run();
    } catch (...) {
      const std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      stopper.request();  // one loop failed: stop them all, and report it below
    }
  };
  {
    std::vector<std::jthread> threads;
    for (Socket& own : listeners) threads.emplace_back(run_loop, std::ref(own));
    run_loop(listener);
  }  // joins every loop
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

void serve_async(Socket& listener, Stopper& stopper, const ServerOptions& options) {
  if (options.threads > 1) return serve_with_threads(listener, stopper, options);
  std::atomic<std::size_t> served{0};
  EventLoop(listener, stopper, options, served).run();
}

}  // namespace echolab
