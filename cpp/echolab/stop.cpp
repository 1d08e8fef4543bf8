#include "echolab/stop.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>

namespace echolab {

namespace {

Socket make_eventfd() {
  Socket event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!event.valid()) throw Error("eventfd", "cannot create a stop event", errno);
  return event;
}

void signal_event(int fd) noexcept {
  const std::uint64_t one = 1;
  // Can only fail if the counter would overflow, and then it is readable already.
  [[maybe_unused]] const ssize_t n = ::write(fd, &one, sizeof one);
}

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Waits up to timeout_ms (-1: forever) until one of fds is ready; revents says which.
void wait_readable(pollfd* fds, nfds_t count, int timeout_ms) {
  while (::poll(fds, count, timeout_ms) < 0) {
    if (errno != EINTR) throw Error("poll", "cannot wait for events", errno);
  }
}

}  // namespace

Stopper::Stopper() : event_(make_eventfd()) {}

void Stopper::request() noexcept {
  std::lock_guard lock(mutex_);
  if (requested_) return;
  requested_ = true;
  signal_event(event_.fd());
  for (const int fd : connections_) ::shutdown(fd, SHUT_RDWR);
}

bool Stopper::requested() const noexcept {
  std::lock_guard lock(mutex_);
  return requested_;
}

Stopper::Tracked::Tracked(Stopper& stopper, int fd) : stopper_(stopper), fd_(fd) {
  std::lock_guard lock(stopper_.mutex_);
  stopper_.connections_.insert(fd_);
  // A connection accepted just as the stop arrived must not outlive it.
  if (stopper_.requested_) ::shutdown(fd_, SHUT_RDWR);
}

Stopper::Tracked::~Tracked() {
  std::lock_guard lock(stopper_.mutex_);
  stopper_.connections_.erase(fd_);
}

SignalWatcher::SignalWatcher(Stopper& stopper) : quit_(make_eventfd()) {
  const sigset_t set = stop_signals();
  if (const int rc = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0)
    throw Error("pthread_sigmask", "cannot block SIGINT and SIGTERM", rc);
  signals_ = Socket(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals_.valid()) throw Error("signalfd", "cannot watch SIGINT and SIGTERM", errno);

  thread_ = std::jthread([this, &stopper] {
    pollfd fds[] = {{signals_.fd(), POLLIN, 0}, {quit_.fd(), POLLIN, 0}};
    wait_readable(fds, 2, -1);
    if (fds[0].revents != 0) stopper.request();
  });
}

SignalWatcher::~SignalWatcher() {
  signal_event(quit_.fd());
  thread_.join();
}

// guide:accept-connection begin
std::optional<Socket> accept_connection(const Socket& listener, const Stopper& stopper) {
  using namespace std::chrono_literals;
  auto pause = 5ms;
  for (;;) {
    pollfd fds[] = {{listener.fd(), POLLIN, 0}, {stopper.fd(), POLLIN, 0}};
    wait_readable(fds, 2, -1);
    if (fds[1].revents != 0) return std::nullopt;

    Socket connection(::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC));
    if (connection.valid()) return connection;
    switch (errno) {
      case EINTR:
      case EAGAIN:
      case ECONNABORTED:  // the client gave up while queued
      case EPROTO:
        continue;
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM: {
        // Wait for sessions to end and free descriptors; poll() would report the same
        // pending connection again at once, so this is a sleep, interruptible by a stop.
        pollfd stop[] = {{stopper.fd(), POLLIN, 0}};
        wait_readable(stop, 1, static_cast<int>(pause.count()));
        if (stop[0].revents != 0) return std::nullopt;
        pause = std::min(pause * 2, std::chrono::milliseconds(1000));
        continue;
      }
      default:
        throw Error("accept", "cannot accept on " + local_address(listener.fd()), errno);
    }
  }
}
// guide:accept-connection end

void ignore_sigpipe() {
  ::signal(SIGPIPE, SIG_IGN);
}

}  // namespace echolab
