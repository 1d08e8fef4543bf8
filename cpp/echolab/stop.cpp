#include "echolab/stop.hpp"

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <string>
#include <thread>

namespace echolab {

namespace {

static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free &&
                  std::atomic<std::uint8_t>::is_always_lock_free &&
                  std::atomic<void*>::is_always_lock_free,
              "a signal handler may use only lock-free atomics");

// What a signal handler may reach: the process's stopper, and how many handlers are running, so
// that ~Stopper can wait until none of them still uses it.
std::atomic<Stopper*> g_stopper{nullptr};
std::atomic<int> g_in_handler{0};
std::atomic<int> g_generations{0};

// The timer's signal. Nothing else in the lab uses it.
constexpr int kDeadlineSignal = SIGALRM;

// Descriptors are numbered below the process's hard limit, so the table has a slot for each;
// bounded in case that limit is huge.
std::size_t descriptor_slots() {
  constexpr std::size_t kMost = std::size_t{1} << 20;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_max == RLIM_INFINITY) return kMost;
  return std::min<std::size_t>(limit.rlim_max, kMost);
}

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

void arm(timer_t timer, std::chrono::milliseconds after) noexcept {
  itimerspec when{};
  when.it_value.tv_sec = static_cast<time_t>(after.count() / 1000);
  when.it_value.tv_nsec = static_cast<long>(after.count() % 1000) * 1'000'000;
  ::timer_settime(timer, 0, &when, nullptr);  // a zero `after` disarms it
}

}  // namespace

void Stopper::on_signal(int number, siginfo_t* info, void*) noexcept {
  const int saved_errno = errno;  // the interrupted code may be about to read it
  g_in_handler.fetch_add(1);
  if (Stopper* stopper = g_stopper.load()) {
    if (number != kDeadlineSignal) {
      stopper->request();
    } else if (info->si_code == SI_TIMER && info->si_value.sival_int == stopper->generation_) {
      stopper->cut_now();  // the drain's deadline
    }
  }
  g_in_handler.fetch_sub(1);
  errno = saved_errno;
}

namespace {

void handle(int number, void (*handler)(int, siginfo_t*, void*) noexcept) {
  struct sigaction action {};
  action.sa_sigaction = handler;
  action.sa_flags = SA_SIGINFO | SA_RESTART;  // calls the handler interrupts go on afterwards
  sigemptyset(&action.sa_mask);
  if (::sigaction(number, &action, nullptr) != 0)
    throw Error("sigaction", "cannot handle signal " + std::to_string(number), errno);
}

}  // namespace

Stopper::Stopper(std::chrono::milliseconds drain)
    : drain_(std::max(drain, std::chrono::milliseconds(0))),
      generation_(g_generations.fetch_add(1) + 1),
      requested_event_(make_eventfd()),
      cut_event_(make_eventfd()),
      tracked_(descriptor_slots()) {
  handle(kDeadlineSignal, on_signal);
  sigevent at_deadline{};
  at_deadline.sigev_notify = SIGEV_SIGNAL;  // a signal, not a thread (SIGEV_THREAD would start one)
  at_deadline.sigev_signo = kDeadlineSignal;
  at_deadline.sigev_value.sival_int = generation_;
  if (::timer_create(CLOCK_MONOTONIC, &at_deadline, &deadline_) != 0)
    throw Error("timer_create", "cannot create the drain timer", errno);
  Stopper* none = nullptr;
  if (!g_stopper.compare_exchange_strong(none, this)) {
    ::timer_delete(deadline_);
    throw std::logic_error("a process has one Stopper at a time: signals are the process's");
  }
}

Stopper::~Stopper() {
  ::timer_delete(deadline_);
  g_stopper.store(nullptr);
  while (g_in_handler.load() != 0) std::this_thread::yield();  // a handler may still use this one
}

void Stopper::request() noexcept {
  if (requests_.fetch_add(1) > 0) return cut_now();  // a second request: no more waiting
  shut_down_every(Kind::listener);                   // refuse new clients from now on
  signal_event(requested_event_.fd());
  if (drain_.count() == 0) return cut_now();
  arm(deadline_, drain_);
}

void Stopper::cut_now() noexcept {
  if (cut_.exchange(true)) return;
  arm(deadline_, std::chrono::milliseconds(0));
  shut_down_every(Kind::connection);
  signal_event(cut_event_.fd());
}

void Stopper::shut_down_every(Kind kind) noexcept {
  walking_.fetch_add(1);
  const int highest = highest_.load();
  for (int fd = 0; fd <= highest; ++fd)
    if (tracked_[static_cast<std::size_t>(fd)].load() == kind) ::shutdown(fd, SHUT_RDWR);
  walking_.fetch_sub(1);
}

// The slot is written before the stop flags are read, and a stop sets its flag before it reads
// the slots (all sequentially consistent), so a descriptor tracked just as the stop arrives is
// shut down by one side or the other, never by neither.
Stopper::Tracked::Tracked(Stopper& stopper, int fd, bool listener) noexcept
    : stopper_(stopper), fd_(fd) {
  if (fd_ < 0 || static_cast<std::size_t>(fd_) >= stopper_.tracked_.size()) {
    ::shutdown(fd_, SHUT_RDWR);  // out of the table, it could never be cut: do not serve it
    fd_ = -1;
    return;
  }
  int highest = stopper_.highest_.load();
  while (highest < fd_ && !stopper_.highest_.compare_exchange_weak(highest, fd_)) {
  }
  stopper_.tracked_[static_cast<std::size_t>(fd_)].store(listener ? Kind::listener
                                                                  : Kind::connection);
  if (listener ? stopper_.requested() : stopper_.cut()) ::shutdown(fd_, SHUT_RDWR);
}

Stopper::Tracked::~Tracked() {
  if (fd_ < 0) return;
  stopper_.tracked_[static_cast<std::size_t>(fd_)].store(Kind::none);
  // A stop that read the slot just before may not have shut the descriptor down yet; once its
  // owner closes it, the number can belong to another socket. So wait for that stop to finish:
  // it never blocks, and a handler on this very thread has finished before this line resumes.
  while (stopper_.walking_.load() != 0) std::this_thread::yield();
}

void stop_on_signals() {
  handle(SIGINT, Stopper::on_signal);
  handle(SIGTERM, Stopper::on_signal);
}

}  // namespace echolab
