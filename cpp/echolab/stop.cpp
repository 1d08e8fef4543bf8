#include "echolab/stop.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "echolab/program.hpp"

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

Stopper::Stopper(std::chrono::milliseconds drain)
    : drain_(std::max(drain, std::chrono::milliseconds(0))),
      requested_event_(make_eventfd()),
      cut_event_(make_eventfd()) {
  if (drain_.count() == 0) return;  // the first request cuts: there is no deadline to keep
  // The thread must never take SIGINT or SIGTERM itself (their default action ends the process):
  // it starts with every signal blocked, whatever the caller's mask is at this point.
  sigset_t all;
  sigset_t before;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &before);
  try {
    deadline_thread_ = std::jthread([this](std::stop_token token) { cut_at_deadline(token); });
  } catch (...) {
    ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
    throw;
  }
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

void Stopper::request() noexcept {
  std::lock_guard lock(mutex_);
  if (requested_) return cut_locked();  // a second request: no more waiting
  requested_ = true;
  deadline_ = std::chrono::steady_clock::now() + drain_;
  for (const int fd : listeners_) ::shutdown(fd, SHUT_RDWR);  // refuse new clients from now on
  signal_event(requested_event_.fd());
  if (drain_.count() == 0) return cut_locked();
  changed_.notify_all();
}

bool Stopper::requested() const noexcept {
  std::lock_guard lock(mutex_);
  return requested_;
}

bool Stopper::cut() const noexcept {
  std::lock_guard lock(mutex_);
  return cut_;
}

void Stopper::cut_locked() noexcept {
  if (cut_) return;
  cut_ = true;
  for (const int fd : connections_) ::shutdown(fd, SHUT_RDWR);
  signal_event(cut_event_.fd());
  changed_.notify_all();
}

void Stopper::cut_at_deadline(std::stop_token token) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait(lock, token, [this] { return requested_; })) return;
  if (!changed_.wait_until(lock, token, deadline_, [this] { return cut_; }) &&
      !token.stop_requested())
    cut_locked();
}

Stopper::Tracked::Tracked(Stopper& stopper, int fd, bool listener)
    : stopper_(stopper), fd_(fd), listener_(listener) {
  std::lock_guard lock(stopper_.mutex_);
  (listener_ ? stopper_.listeners_ : stopper_.connections_).insert(fd_);
  // Whatever is tracked just as the stop arrives must not outlive it.
  if (listener_ ? stopper_.requested_ : stopper_.cut_) ::shutdown(fd_, SHUT_RDWR);
}

Stopper::Tracked::~Tracked() {
  std::lock_guard lock(stopper_.mutex_);
  (listener_ ? stopper_.listeners_ : stopper_.connections_).erase(fd_);
}

SignalWatcher::SignalWatcher(Stopper& stopper) : quit_(make_eventfd()) {
  const sigset_t set = stop_signals();
  if (const int rc = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0)
    throw Error("pthread_sigmask", "cannot block SIGINT and SIGTERM", rc);
  signals_ = Socket(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals_.valid()) throw Error("signalfd", "cannot watch SIGINT and SIGTERM", errno);

  thread_ = std::jthread([this, &stopper] {
    for (;;) {
      pollfd fds[] = {{signals_.fd(), POLLIN, 0}, {quit_.fd(), POLLIN, 0}};
      wait_readable(fds, 2, -1);
      if (fds[1].revents != 0) return;
      signalfd_siginfo info;
      while (::read(signals_.fd(), &info, sizeof info) == sizeof info) stopper.request();
    }
  });
}

SignalWatcher::~SignalWatcher() {
  signal_event(quit_.fd());
  thread_.join();
}

// guide:refuse-with-spare begin
// Out of descriptors, a waiting client cannot be accepted, and the listener stays readable: a
// loop that polls it would spin. So give up the spare descriptor kept for this moment, accept
// the client with it and close it at once, then take the spare back (as libuv does).
// Returns 0 when a client was refused, else accept4's error (EAGAIN: nobody was waiting).
int refuse_with_spare(const Socket& listener, Socket& spare) {
  spare.close();
  Socket waiting(::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC));
  const int error = waiting.valid() ? 0 : errno;
  waiting.close();
  spare = open_spare();
  if (error == 0) report("out of file descriptors: closed a new connection at once");
  return error;
}
// guide:refuse-with-spare end

Socket open_spare() {
  return Socket(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

// guide:accept-connection begin
std::optional<Socket> accept_connection(const Socket& listener, const Stopper& stopper) {
  using namespace std::chrono_literals;
  thread_local Socket spare = open_spare();  // each accepting thread keeps one in reserve
  auto pause = 5ms;
  for (;;) {
    pollfd fds[] = {{listener.fd(), POLLIN, 0}, {stopper.fd(), POLLIN, 0}};
    wait_readable(fds, 2, -1);
    if (fds[1].revents != 0) return std::nullopt;

    Socket connection(::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC));
    if (connection.valid()) return connection;
    const int error = errno;
    if (stopper.requested()) return std::nullopt;  // the stop shut the listener down
    switch (error) {
      case EINTR:
      case EAGAIN:
      case ECONNABORTED:  // the client gave up while queued
      case EPROTO:
        continue;
      case EMFILE:
      case ENFILE:
        if (!spare.valid()) spare = open_spare();
        if (spare.valid()) {
          const int refused = refuse_with_spare(listener, spare);
          if (refused == 0 || refused == EAGAIN) continue;
        }
        [[fallthrough]];  // no descriptor to spare: wait for one
      case ENOBUFS:
      case ENOMEM: {
        // Wait for sessions to end and free memory or descriptors; poll() would report the same
        // pending connection again at once, so this is a sleep, interruptible by a stop.
        pollfd stop[] = {{stopper.fd(), POLLIN, 0}};
        wait_readable(stop, 1, static_cast<int>(pause.count()));
        if (stop[0].revents != 0) return std::nullopt;
        pause = std::min(pause * 2, std::chrono::milliseconds(100));
        continue;
      }
      default:
        throw Error("accept", "cannot accept on " + local_address(listener.fd()), error);
    }
  }
}
// guide:accept-connection end

void ignore_sigpipe() {
  ::signal(SIGPIPE, SIG_IGN);
}

}  // namespace echolab
