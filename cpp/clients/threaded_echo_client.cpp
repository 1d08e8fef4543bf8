// threaded_echo_client: echo_client with a reader thread beside the writer. The writer (the
// calling thread) copies standard input to the socket; the reader copies the socket to standard
// output. Line mode keeps the lockstep of the blocking client: the writer sends a line and waits
// until the reader has printed its echo. --raw needs no lockstep: both copies run at once, so
// the client reads while it writes and cannot deadlock, whatever the size of the input.
//
// What the thread buys: the reader is always in read(), so a server that closes or resets is
// noticed at once, even while the writer waits for input. What it costs: a thread blocked in
// read() cannot be woken, so each side needs a way to stop the other (Ending, below).
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "clients/clients.hpp"
#include "echolab/lines.hpp"

namespace echolab {

namespace {

// The end of the session, as both threads see it. end() shuts the socket down, so a read() or
// send() blocked on it returns at once, and makes fd() readable, so a poll() that waits beside it
// wakes up: whichever thread ends the session, the other stops wherever it waits. Either thread
// may call end(), more than once.
class Ending {
 public:
  explicit Ending(int connection) : connection_(connection), event_(::eventfd(0, EFD_CLOEXEC)) {
    if (!event_.valid()) throw Error("eventfd", "cannot create a stop event", errno);
  }
  void end() noexcept {
    if (ended_.exchange(true)) return;
    ::shutdown(connection_, SHUT_RDWR);
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(event_.fd(), &one, sizeof one);
  }
  bool ended() const noexcept { return ended_.load(); }
  int fd() const noexcept { return event_.fd(); }

 private:
  const int connection_;
  Socket event_;
  std::atomic<bool> ended_{false};
};

// One read of the input, or nullopt if the session ended first. The writer waits in poll()
// rather than read(), so that the reader can wake it when the server goes away.
std::optional<std::size_t> read_input(int in, const Ending& ending, std::span<std::byte> buffer) {
  pollfd fds[] = {{in, POLLIN, 0}, {ending.fd(), POLLIN, 0}};
  while (::poll(fds, 2, -1) < 0) {
    if (errno != EINTR) throw Error("poll", "cannot wait for input", errno);
  }
  if (fds[1].revents != 0) return std::nullopt;
  return read_some(in, buffer);  // input ready or at its end: this read does not block
}

// The line-mode handshake between the threads: how many bytes of echo the writer awaits.
class Lockstep {
 public:
  // Writer, before sending a line, so that even an immediate echo is expected.
  void expect(std::size_t count) {
    std::lock_guard lock(mutex_);
    awaited_ = count;
  }
  // Writer: blocks until the reader has printed the echo (true) or has given up (false).
  bool wait_for_echo() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return awaited_ == 0 || reader_gone_; });
    return awaited_ == 0;
  }
  std::size_t awaited() {
    std::lock_guard lock(mutex_);
    return awaited_;
  }
  // Reader: the echo is printed.
  void echoed() {
    std::lock_guard lock(mutex_);
    awaited_ = 0;
    changed_.notify_one();
  }
  // Reader: it has returned, normally or not; no echo will be printed any more.
  void reader_gone() {
    std::lock_guard lock(mutex_);
    reader_gone_ = true;
    changed_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t awaited_ = 0;
  bool reader_gone_ = false;
};

// Everything both threads share. The Socket itself stays with the caller, which owns it; the
// threads borrow its descriptor, and the reader is joined before run_threaded_client returns.
struct Session {
  Session(int connection, const ClientIo& client_io) : fd(connection), io(client_io) {}

  const int fd;
  const ClientIo& io;
  Ending ending{fd};
  Lockstep lockstep;                // line mode
  std::atomic<bool> half_closed{};  // raw mode: we sent our FIN, so the server's FIN is the end
};

// Writer, line mode: the blocking client's loop, with the reader printing the echo.
void send_lines(Session& s) {
  LineSplitter input;
  std::array<std::byte, 16384> chunk;
  bool ended = false;
  for (;;) {
    prompt(s.io);
    std::optional<std::string> line;
    while (!(line = input.next_line()) && !ended) {
      const auto n = read_input(s.io.in, s.ending, chunk);
      if (!n) return;  // the reader ended the session
      if (*n == 0) {
        ended = true;
      } else {
        input.append(std::span(chunk).first(*n));
      }
    }
    if (!line) line = input.rest();  // a last line without '\n' is still a line
    if (!line || is_bye(*line)) return;
    const std::string bytes = framed(*line);
    s.lockstep.expect(bytes.size());
    write_all(s.fd, bytes);
    if (!s.lockstep.wait_for_echo()) return;
  }
}

// Reader, line mode: collects the awaited echo, however the stream splits it, and prints it.
void print_echoes(Session& s) {
  std::array<std::byte, 16384> chunk;
  std::string echo;
  for (;;) {
    const std::size_t n = read_some(s.fd, chunk);
    if (n == 0) {
      if (s.ending.ended()) return;  // the writer ended the session and shut the socket down
      throw closed_by_server(echo.size(), s.lockstep.awaited());
    }
    echo.append(reinterpret_cast<const char*>(chunk.data()), n);
    const std::size_t awaited = s.lockstep.awaited();
    if (awaited > 0 && echo.size() >= awaited) {
      write_all(s.io.out, echoed(std::string_view(echo).substr(0, awaited)));
      echo.erase(0, awaited);
      s.lockstep.echoed();  // only now may the writer prompt for the next line
    }
  }
}

// Writer, raw mode: copies the input, then half-closes; the reader waits for the server's FIN.
void send_raw(Session& s) {
  std::array<std::byte, 65536> chunk;
  while (const auto n = read_input(s.io.in, s.ending, chunk)) {
    if (*n == 0) {
      s.half_closed = true;  // before the FIN: the server's FIN may follow at once
      ::shutdown(s.fd, SHUT_WR);
      return;
    }
    write_all(s.fd, std::span(chunk).first(*n));
  }
}

// Reader, raw mode: copies the echo out until the server closes after our half-close.
void copy_echo(Session& s) {
  std::array<std::byte, 65536> chunk;
  while (const std::size_t n = read_some(s.fd, chunk))
    write_all(s.io.out, std::span(chunk).first(n));
  if (!s.half_closed) throw closed_before_end_of_input();
}

}  // namespace

void run_threaded_client(Socket& connection, const ClientIo& io, const ClientOptions& options) {
  Session s(connection.fd(), io);

  // An exception cannot cross threads by itself: the reader keeps it for the caller. Its failure
  // ends the session, which wakes the writer wherever it waits (poll, send or the lockstep).
  std::exception_ptr reader_error;
  std::jthread reader([&] {
    try {
      if (options.raw) {
        copy_echo(s);
      } else {
        print_echoes(s);
      }
    } catch (...) {
      if (!s.ending.ended()) reader_error = std::current_exception();  // else: we ended it
    }
    s.ending.end();
    s.lockstep.reader_gone();
  });

  std::exception_ptr writer_error;
  try {
    if (options.raw) {
      send_raw(s);
    } else {
      send_lines(s);
    }
  } catch (...) {
    writer_error = std::current_exception();
  }
  // After a half-close the reader ends at the server's FIN. Otherwise the session ends now:
  // ending it shuts the socket down, so the reader's read() returns and the thread can be joined.
  if (!s.half_closed) s.ending.end();
  reader.join();

  // The reader's error comes first: it is the cause, the writer's (a send that failed after the
  // socket was shut down) only a consequence.
  if (reader_error) std::rethrow_exception(reader_error);
  if (writer_error) std::rethrow_exception(writer_error);
}

}  // namespace echolab
