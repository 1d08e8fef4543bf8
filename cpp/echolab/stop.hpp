// Stopping a server cleanly, in two stages, as production servers do.
//
// The drain: the first request (SIGINT or SIGTERM) shuts every tracked listening socket down at
// once, so new clients are refused instead of queued, and makes fd() readable to wake the accept
// loop. Connections already accepted go on to their natural end: the client half-closes and gets
// the rest of its echo.
//
// The cut: when the drain deadline passes, or a second request arrives, every tracked connection
// is shut down (SHUT_RDWR) and cut_fd() becomes readable, so a session blocked in recv() or
// send() returns at once. A drain of zero cuts at the first request.
//
// No thread of the stopper's own does any of this. SIGINT and SIGTERM run request() in a signal
// handler, and the deadline is a POSIX timer whose signal runs the cut: the kernel interrupts
// whichever thread is running, even echo_server's one thread while it is blocked in a session.
// So everything here may run inside a signal handler: it touches only atomics and makes only
// async-signal-safe calls (shutdown, write, timer_settime), never a lock or an allocation that
// the interrupted code might be holding. Signals and timers belong to the whole process, so a
// process has one Stopper at a time.
#pragma once

#include <signal.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "echolab/socket.hpp"

namespace echolab {

class Stopper {
 public:
  static constexpr std::chrono::milliseconds kDefaultDrain{10'000};

  explicit Stopper(std::chrono::milliseconds drain = kDefaultDrain);
  Stopper(const Stopper&) = delete;
  Stopper& operator=(const Stopper&) = delete;
  ~Stopper();

  // The first call starts the drain, any later one cuts. Thread-safe and async-signal-safe.
  void request() noexcept;
  bool requested() const noexcept { return requests_.load() > 0; }
  bool cut() const noexcept { return cut_.load(); }
  // Readable once a stop has been requested: poll it beside the listening socket.
  int fd() const noexcept { return requested_event_.fd(); }
  // Readable once the drain is over and the remaining connections are being cut.
  int cut_fd() const noexcept { return cut_event_.fd(); }

  // While the returned guard lives, the stopper shuts `fd` down: a listening socket when a stop
  // is requested, a connection when the drain ends. Keep the guard shorter-lived than the Socket
  // it tracks, so a closed and reused descriptor is never touched.
  class Tracked {
   public:
    Tracked(Stopper& stopper, int fd, bool listener) noexcept;
    Tracked(const Tracked&) = delete;
    Tracked& operator=(const Tracked&) = delete;
    ~Tracked();

   private:
    Stopper& stopper_;
    int fd_;
  };
  [[nodiscard]] Tracked track(int connection) noexcept { return Tracked(*this, connection, false); }
  [[nodiscard]] Tracked track_listener(int listener) noexcept {
    return Tracked(*this, listener, true);
  }

 private:
  enum class Kind : std::uint8_t { none, listener, connection };

  static void on_signal(int number, siginfo_t* info, void* context) noexcept;
  friend void stop_on_signals();
  void cut_now() noexcept;
  void shut_down_every(Kind kind) noexcept;

  const std::chrono::milliseconds drain_;
  const int generation_;  // tells this stopper's timer signal from a late one of an earlier stopper
  Socket requested_event_;
  Socket cut_event_;
  timer_t deadline_{};
  std::atomic<int> requests_{0};
  std::atomic<bool> cut_{false};
  std::vector<std::atomic<Kind>> tracked_;  // what each descriptor is, indexed by its number
  std::atomic<int> highest_{-1};            // the highest descriptor ever tracked
  std::atomic<int> walking_{0};             // shut_down_every() calls running now
};

// From now on SIGINT and SIGTERM call request() on the process's Stopper, from a signal handler
// (no thread), and are ignored while there is none.
void stop_on_signals();

}  // namespace echolab
