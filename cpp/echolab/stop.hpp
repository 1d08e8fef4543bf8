// Stopping a server cleanly, in two stages, as production servers do.
//
// The drain: the first SIGINT or SIGTERM (a Stopper request) shuts every tracked listening
// socket down at once, so new clients are refused instead of queued, and makes fd() readable to
// wake the accept loop. Connections already accepted go on to their natural end: the client
// half-closes and gets the rest of its echo.
//
// The cut: when the drain deadline passes, or a second request arrives, every tracked connection
// is shut down (SHUT_RDWR) and cut_fd() becomes readable, so a thread blocked in recv() or send()
// returns at once and can be joined. A drain of zero cuts at the first request.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "echolab/socket.hpp"

namespace echolab {

class Stopper {
 public:
  static constexpr std::chrono::milliseconds kDefaultDrain{10'000};

  explicit Stopper(std::chrono::milliseconds drain = kDefaultDrain);
  Stopper(const Stopper&) = delete;
  Stopper& operator=(const Stopper&) = delete;

  // The first call starts the drain, any later one cuts. Thread-safe.
  void request() noexcept;
  bool requested() const noexcept;
  bool cut() const noexcept;
  // Readable once a stop has been requested: poll it beside the listening socket.
  int fd() const noexcept { return requested_event_.fd(); }
  // Readable once the drain is over and the remaining connections are being cut.
  int cut_fd() const noexcept { return cut_event_.fd(); }

  // While the returned guard lives, the stopper shuts `fd` down: a listening socket when a stop
  // is requested, a connection when the drain ends. Keep the guard shorter-lived than the Socket
  // it tracks, so a closed and reused descriptor is never touched.
  class Tracked {
   public:
    Tracked(Stopper& stopper, int fd, bool listener);
    Tracked(const Tracked&) = delete;
    Tracked& operator=(const Tracked&) = delete;
    ~Tracked();

   private:
    Stopper& stopper_;
    int fd_;
    bool listener_;
  };
  [[nodiscard]] Tracked track(int connection) { return Tracked(*this, connection, false); }
  [[nodiscard]] Tracked track_listener(int listener) { return Tracked(*this, listener, true); }

 private:
  void cut_locked() noexcept;
  void cut_at_deadline(std::stop_token token);

  const std::chrono::milliseconds drain_;
  Socket requested_event_;
  Socket cut_event_;
  mutable std::mutex mutex_;
  std::condition_variable_any changed_;
  bool requested_ = false;
  bool cut_ = false;
  std::chrono::steady_clock::time_point deadline_;
  std::set<int> listeners_;
  std::set<int> connections_;
  std::jthread deadline_thread_;  // last: it stops and joins before the rest is destroyed
};

// Blocks SIGINT and SIGTERM in the calling thread (and so in every thread it starts afterwards:
// construct it first in main) and turns each arrival into stopper.request().
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
// absorbed: a client that gave up before accept() is skipped. Out of descriptors (EMFILE,
// ENFILE), the waiting client is accepted with a descriptor kept in reserve for the purpose and
// closed at once, so it learns at once and the loop does not spin on the same error.
std::optional<Socket> accept_connection(const Socket& listener, const Stopper& stopper);

// A descriptor held in reserve for refuse_with_spare().
Socket open_spare();

// Out of descriptors: closes `spare`, accepts the waiting client with it and closes that at
// once, then reopens `spare`. Returns 0 when a client was refused, else accept4's error (EAGAIN:
// nobody was waiting).
int refuse_with_spare(const Socket& listener, Socket& spare);

// Ignores SIGPIPE for the whole process: a write to a vanished peer becomes an EPIPE error.
void ignore_sigpipe();

}  // namespace echolab
