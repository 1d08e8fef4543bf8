// The echo server as one thread and an event loop. Every socket is non-blocking; epoll says which
// ones are ready, and each connection is a small state machine (EchoConnection, in
// echolab/echo_connection.hpp, free of sockets so it can be tested and fuzzed alone): read, send
// the echo straight back, keep only what the socket would not take, and after the client's end
// of stream send the rest, then close. This file does the system calls the machine asks for.
//
// The lessons, in the order the code meets them:
//   - readiness: a socket is read or written only when epoll says it will not block;
//   - backpressure: a connection holds at most kReadSize bytes, the part of one read its socket
//     would not take; while it holds any, the server stops reading from that client, and TCP
//     tells the client to wait;
//   - half-close: the client's end of stream is not the end of the connection: the echo it is
//     still owed is sent first, then our FIN;
//   - timeouts: a connection that makes no progress for --idle-timeout seconds is closed;
//   - scaling out: --threads N runs N such loops, each with its own listening socket
//     (SO_REUSEPORT), and the kernel spreads new connections over them;
//   - draining: a stop shuts the listener down (new clients are refused) and the loop goes on
//     until its connections end or --drain-timeout cuts them.
//
// Level-triggered epoll: a ready socket is reported on every epoll_wait until it is no longer
// ready, so a handler may read once and leave the rest for the next round (every client gets its
// turn) and a missed event cannot strand a connection. The price is that the interest set must
// say what we want now: a socket we are ignoring but still watching would wake us in a busy loop.
// update_interest() keeps it exact.
//
// Performance: every choice below marked "Measured" was made with `make bench` (echo_bench on
// CPU 1, this server on CPU 0; see lab-guides/07-performance-and-robustness.md). The short
// version: on loopback the kernel's TCP work is about 95% of this server's CPU time, so what
// pays is making fewer system calls per byte (large reads, no extra copies), not clever
// user-space code.

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

#include "echolab/echo_connection.hpp"
#include "echolab/program.hpp"
#include "servers/servers.hpp"

namespace echolab {

namespace {

using Clock = std::chrono::steady_clock;

// The most one recv() takes. Measured, streaming 64 KiB messages over 10 connections: 16 KiB
// reads reach 1.3 GiB/s, 64 KiB 2.6 GiB/s, 128 KiB 4.9 GiB/s and 256 KiB 5.5 GiB/s, where the
// client is the limit (512 KiB: no better). Fewer, larger calls are the whole gain: the server's
// CPU time per 64 KiB message fell from 46 us to 10 us. Ping-pong of small messages does not care.
// The buffer is shared by every connection of the loop, so its size costs nothing per client.
constexpr std::size_t kReadSize = 256 * 1024;
// How many ready sockets one epoll_wait may report. Measured at 1,000 connections: 64, 256 and
// 1,024 all cost 4.8 us of server CPU per echo; the epoll_wait calls are under 1% of the time.
constexpr int kMaxEvents = 256;
// How long accepting pauses when the system is out of memory or descriptors.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

// A connection holds at most one read's worth, the part its socket would not take, and only while
// something is owed: a client that keeps up costs nothing here, and 1,000 clients that all stop
// reading cost at most 256 MiB (each of their sockets may already hold several MiB in the
// kernel's buffers). The rules of one connection live in EchoConnection
// (echolab/echo_connection.hpp); this file does its system calls.
struct Connection {
  Socket socket;
  std::string peer;  // for diagnostics
  EchoConnection state{kReadSize};
  std::uint32_t interest = 0;  // what epoll watches for now: EPOLLIN or EPOLLOUT
  Clock::time_point progress;  // when a byte last moved either way
  std::list<int>::iterator in_idle_order;
};

// Nothing to do now, try again when epoll reports the socket again.
bool try_later(int error) {
  return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

class EventLoop {
 public:
  // `served` counts the connections of every loop, for --max-connections.
  EventLoop(Socket& listener, Stopper& stopper, const ServerOptions& options,
            std::atomic<std::size_t>& served)
      : listener_(listener), stopper_(stopper), options_(options), served_(served) {
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
          // Measured: this hash lookup is 0.2% of the server's CPU time; the kernel is 95%.
          on_ready(it->second, event.events);
        }
      }
      if (draining_ && connections_.empty()) return;
      resume_accepting_when_due();
      close_idle_connections();
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
          case EMFILE:
          case ENFILE: {
            // accept4 fails so before it looks at the queue: a client may be waiting, or not.
            const int refused = spare_.valid() ? refuse_with_spare(listener_, spare_) : error;
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
            if (stopper_.requested()) return;  // the stop shut the listener down
            throw Error("accept", "cannot accept on " + local_address(listener_.fd()), error);
        }
      }
      std::string peer = format_address(reinterpret_cast<sockaddr*>(&address), length);
      if (options_.max_connections && served_ >= *options_.max_connections) {
        // Closed at the end of this scope: the client learns at once (FIN, or RST if it had sent
        // something), instead of waiting in the backlog.
        report("refused " + peer + ": already serving " + std::to_string(served_.load()) +
               " connections (--max-connections)");
        continue;
      }
      add(std::move(client), std::move(peer));
    }
  }
  // guide:async-accept end

  // Out of descriptors: refuse_with_spare() (echolab/stop.cpp) accepts the waiting client with
  // a descriptor kept for this moment and closes it at once, so the loop does not spin.

  void pause_accepting(int error) {
    report("cannot accept for now (" + std::error_code(error, std::system_category()).message() +
           "): pausing for " + std::to_string(kAcceptPause.count()) + " ms");
    watch(EPOLL_CTL_MOD, listener_.fd(), 0);
    accept_resumes_ = now_ + kAcceptPause;
  }

  // The stopper has shut the listener down: no more clients. The loop goes on until its
  // connections end by themselves or the stopper cuts them.
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
    // (Nagle's algorithm). Measured: this server's echoes leave in one send() per read, so here
    // it makes no difference in ping-pong, streaming or open loop; but the Rust std and Java
    // servers, which leave Nagle on and write a 16 KiB echo in pieces, manage 23 echoes/s on one
    // connection against 16,000 for the others: each last piece waits for the client's delayed
    // ACK (40 ms). A partial send here would split an echo the same way.
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
  // Measured against edge-triggered epoll (registered once, read until a short read): 4.49 and
  // 4.50 us of server CPU per echo at 100 connections, 5.01 and 4.98 at 1,000. No difference, so
  // the simpler level-triggered loop stays. In the steady state of a ping-pong the interest never
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
  // the socket does not take is kept. Measured: copying every read into the connection's own
  // buffer first, as this server once did, cost 10% more CPU per message when streaming and
  // doubled the memory. Per echo this is one recv() and one send(), the least any
  // readiness-based server can do.
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

  // --- Idle timeouts -------------------------------------------------------------------------
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
  Socket spare_ = open_spare();  // a descriptor to give up when accept fails with EMFILE
  std::optional<Clock::duration> idle_timeout_;
  std::optional<Clock::time_point> accept_resumes_;
  bool draining_ = false;
  Clock::time_point now_ = Clock::now();  // when the last epoll_wait returned
  std::unordered_map<int, Connection> connections_;
  std::list<int> idle_order_;
  std::vector<std::byte> scratch_ = std::vector<std::byte>(kReadSize);  // what recv fills
};

// --- Several loops (--threads N) -----------------------------------------------------------------

void set_int_option(int fd, int level, int name, int value, const std::string& context) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0)
    throw Error("setsockopt", context, errno);
}

// Another listening socket on the very address `first` is bound to. With SO_REUSEPORT set on
// all of them (on `first` too: Linux accepts it after bind), the kernel hashes each new
// connection to one of the listeners, so each loop accepts its own share and no two loops ever
// touch the same connection.
Socket listen_beside(const Socket& first) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(first.fd(), reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw Error("getsockname", "cannot read the listening address", errno);
  const std::string where = "cannot listen on " + local_address(first.fd());
  Socket socket(::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket.valid()) throw Error("socket", where, errno);
  set_int_option(socket.fd(), SOL_SOCKET, SO_REUSEADDR, 1, where);
  set_int_option(socket.fd(), SOL_SOCKET, SO_REUSEPORT, 1, where);
  if (address.ss_family == AF_INET6) {
    int v6only = 0;
    socklen_t size = sizeof v6only;
    ::getsockopt(first.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &size);
    set_int_option(socket.fd(), IPPROTO_IPV6, IPV6_V6ONLY, v6only, where);
  }
  if (::bind(socket.fd(), reinterpret_cast<sockaddr*>(&address), length) != 0)
    throw Error("bind", where, errno);
  if (::listen(socket.fd(), SOMAXCONN) != 0) throw Error("listen", where, errno);
  return socket;
}

void serve_with_threads(Socket& listener, Stopper& stopper, const ServerOptions& options) {
  set_int_option(listener.fd(), SOL_SOCKET, SO_REUSEPORT, 1, "cannot share the listener");
  std::vector<Socket> listeners;
  for (std::size_t i = 1; i < options.threads; ++i) listeners.push_back(listen_beside(listener));
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

void serve_event_loop(Socket& listener, Stopper& stopper, const ServerOptions& options) {
  if (options.threads > 1) return serve_with_threads(listener, stopper, options);
  std::atomic<std::size_t> served{0};
  EventLoop(listener, stopper, options, served).run();
}

}  // namespace echolab
