#include "echolab/accept.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "echolab/diagnostics.hpp"

namespace echolab {

namespace {

// Waits up to timeout_ms (-1: forever) until one of fds is ready; revents says which.
void wait_readable(pollfd* fds, nfds_t count, int timeout_ms) {
  while (::poll(fds, count, timeout_ms) < 0) {
    if (errno != EINTR) throw Error("poll", "cannot wait for events", errno);
  }
}

}  // namespace

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

}  // namespace echolab
