// short_io_shim: an LD_PRELOAD library that makes send, recv, read and write misbehave the way
// the system is allowed to: fail with EINTR before doing anything, or move fewer bytes than asked.
// A program that loops correctly over short counts and EINTR keeps every byte; one that assumes a
// call moves everything it was given does not.
//
//   LD_PRELOAD=build/lib/libshort_io_shim.so ECHO_LAB_SHIM_SEED=7 build/bin/echo_server --port 0
//
// ECHO_LAB_SHIM_SEED   seeds the choices (default 1), so a failure can be replayed
// ECHO_LAB_SHIM_EINTR  percent of calls that fail with EINTR (default 10)
// ECHO_LAB_SHIM_SHORT  percent of the remaining calls cut to a random shorter length (default 50)
// ECHO_LAB_SHIM_ONLY   "sockets": leave pipes alone too (a server's stdout to the harness is not
//                      the network a server case is about)
// Only sockets and pipes are touched: they are where short counts happen. An eventfd or a
// terminal is left alone (an eventfd never moves fewer than its 8 bytes). Only calls that could
// block are touched, as only they are cut short or interrupted by the kernel for a reason of its
// own: on a non-blocking descriptor a short read means nothing more is waiting and a short write
// means the buffer is full, and event loops (libuv, tokio) rely on both to know when to wait.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <thread>

namespace {

int percent_from_env(const char* name, int fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr) return fallback;
  const int value = std::atoi(text);
  return value < 0 ? 0 : (value > 100 ? 100 : value);
}

struct Settings {
  std::uint64_t seed;
  int eintr;
  int shorten;
  bool sockets_only;
};

bool sockets_only_from_env() {
  const char* text = std::getenv("ECHO_LAB_SHIM_ONLY");
  return text != nullptr && std::string_view(text) == "sockets";
}

std::uint64_t seed_from_env() {
  const char* text = std::getenv("ECHO_LAB_SHIM_SEED");
  return text == nullptr ? 1 : std::strtoull(text, nullptr, 10);
}

const Settings& settings() {
  static const Settings s{seed_from_env(), percent_from_env("ECHO_LAB_SHIM_EINTR", 10),
                          percent_from_env("ECHO_LAB_SHIM_SHORT", 50), sockets_only_from_env()};
  return s;
}

// splitmix64, one stream per thread: each thread's sequence depends only on the seed and the
// order in which threads first make a call.
std::uint64_t next_random() {
  static std::atomic<std::uint64_t> threads{0};
  thread_local std::uint64_t state = settings().seed * 0x9E3779B97F4A7C15ULL + threads++;
  state += 0x9E3779B97F4A7C15ULL;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

bool affected(int fd, bool sockets_only) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return false;
  return S_ISSOCK(info.st_mode) || (!sockets_only && S_ISFIFO(info.st_mode));
}

bool may_block(int fd, int flags) {
  const int status = ::fcntl(fd, F_GETFL);
  return status >= 0 && (status & O_NONBLOCK) == 0 && (flags & MSG_DONTWAIT) == 0;
}

// What to do with one call: fail with EINTR (returns true), or go ahead with `length` possibly
// cut down to at least one byte.
bool interrupt_or_shorten(int fd, std::size_t& length, int flags = 0) {
  const Settings& s = settings();
  if (length == 0 || !affected(fd, s.sockets_only) || !may_block(fd, flags)) return false;
  if (static_cast<int>(next_random() % 100) < s.eintr) {
    errno = EINTR;
    return true;
  }
  if (length > 1 && static_cast<int>(next_random() % 100) < s.shorten)
    length = 1 + next_random() % (length - 1);
  return false;
}

template <typename Function>
Function real(const char* name) {
  return reinterpret_cast<Function>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

ssize_t send(int fd, const void* buffer, std::size_t length, int flags) {
  static const auto next = real<ssize_t (*)(int, const void*, std::size_t, int)>("send");
  if (interrupt_or_shorten(fd, length, flags)) return -1;
  return next(fd, buffer, length, flags);
}

ssize_t recv(int fd, void* buffer, std::size_t length, int flags) {
  static const auto next = real<ssize_t (*)(int, void*, std::size_t, int)>("recv");
  if (interrupt_or_shorten(fd, length, flags)) return -1;
  return next(fd, buffer, length, flags);
}

ssize_t read(int fd, void* buffer, std::size_t length) {
  static const auto next = real<ssize_t (*)(int, void*, std::size_t)>("read");
  if (interrupt_or_shorten(fd, length)) return -1;
  return next(fd, buffer, length);
}

ssize_t write(int fd, const void* buffer, std::size_t length) {
  static const auto next = real<ssize_t (*)(int, const void*, std::size_t)>("write");
  if (interrupt_or_shorten(fd, length)) return -1;
  return next(fd, buffer, length);
}

}  // extern "C"
