// Stopping a server cleanly. SIGINT and SIGTERM become a Stopper request; the request wakes the
// accept loop (through fd()) and shuts down every tracked connection, so a thread blocked in
// recv() or send() on it returns at once and can be joined.
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "echolab/socket.hpp"

namespace echolab {

class Stopper {
 public:
  Stopper();

  // Idempotent and thread-safe.
  void request() noexcept;
  bool requested() const noexcept;
  // Readable once a stop has been requested: poll it beside the listening socket.
  int fd() const noexcept { return event_.fd(); }

  // While the returned guard lives, a stop request shuts down `fd` (SHUT_RDWR). Keep the guard
  // shorter-lived than the Socket it tracks, so a closed and reused descriptor is never touched.
  class Tracked {
   public:
    Tracked(Stopper& stopper, int fd);
    Tracked(const Tracked&) = delete;
    Tracked& operator=(const Tracked&) = delete;
    ~Tracked();

   private:
    Stopper& stopper_;
    int fd_;
  };
  [[nodiscard]] Tracked track(int fd) { return Tracked(*this, fd); }

 private:
  Socket event_;
  mutable std::mutex mutex_;
  bool requested_ = false;
  std::set<int> connections_;
};

// Blocks SIGINT and SIGTERM in the calling thread (and so in every thread it starts afterwards:
// construct it first in main) and turns their arrival into stopper.request().
class SignalWatcher {
 public:
  explicit SignalWatcher(Stopper& stopper);
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;
  ~SignalWatcher();

 private:
  Socket signals_;
  Socket quit_;
  std::jthread thread_;
};

// Waits for the next connection or a stop request (nullopt). Transient accept failures are
// absorbed: a client that gave up before accept() is skipped; running out of descriptors
// (EMFILE, ENFILE) pauses accepting briefly instead of spinning on the same error.
std::optional<Socket> accept_connection(const Socket& listener, const Stopper& stopper);

// Ignores SIGPIPE for the whole process: a write to a vanished peer becomes an EPIPE error.
void ignore_sigpipe();

}  // namespace echolab
