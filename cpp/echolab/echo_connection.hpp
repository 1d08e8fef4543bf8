// One connection of async_echo_server as a state machine, with no socket in it: the event
// loop does the system calls and tells the machine what happened (bytes read, end of input, an
// error, bytes the socket took, a socket that would block); the machine answers with a Step:
// what to send now, whether to shut down the write side and close, and what to wait for next.
// Being free of sockets, it can be driven by a test or a fuzzer through every order of events.
//
// The rules it keeps:
//   - every byte read is sent back once, in order;
//   - backpressure: the machine holds at most `cap` bytes, the part of one read the socket did
//     not take, and asks for input only while it holds nothing;
//   - half-close: after the client's end of input, everything owed is sent before the write
//     side is shut down (FIN), then the connection is closed;
//   - after close, nothing more happens.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace echolab {

// The part of one read that the client's socket would not take yet, oldest byte first. The
// memory is held only while something is owed, so a client that keeps up costs nothing here.
class EchoBuffer {
 public:
  std::size_t size() const { return bytes_.size() - sent_; }
  bool empty() const { return size() == 0; }
  std::span<const std::byte> unsent() const { return std::span(bytes_).subspan(sent_); }

  void assign(std::span<const std::byte> data);
  void consume(std::size_t count);

 private:
  std::vector<std::byte> bytes_;
  std::size_t sent_ = 0;
};

// What the connection waits for next: the loop's epoll interest.
enum class Interest { none, read, write };

// The machine's answer to each event.
struct Step {
  // Send these now, as much as the socket takes, and report wrote() or would_block() (or
  // failed()) before anything else. When empty, the fields below apply.
  std::span<const std::byte> write;
  bool shutdown_write = false;  // shut down the write side (FIN), then close
  bool close = false;           // close the connection; no event may follow
  Interest interest = Interest::read;
};

class EchoConnection {
 public:
  // `cap`: the most one read may take (read_size()), and so the most the machine ever holds.
  explicit EchoConnection(std::size_t cap);

  std::size_t read_size() const { return cap_; }
  std::size_t buffered() const { return owed_.size(); }
  std::size_t cap() const { return cap_; }
  bool closed() const { return closed_; }
  // The answer to the last event, again (for a writable socket: what is owed).
  const Step& step() const { return step_; }

  // The events. Each is allowed only when the last step permits it: readable() and
  // end_of_input() while it waits to read; writable() while it waits to write; wrote() and
  // would_block() while its write is not empty; failed() at any time before close.
  // `data` is not copied unless the socket does not take it all: it must stay valid until the
  // write the step asks for is reported done (wrote() up to its end, or would_block()).
  const Step& readable(std::span<const std::byte> data);
  const Step& end_of_input();
  const Step& writable();
  const Step& wrote(std::size_t count);
  const Step& would_block();
  const Step& failed();

 private:
  const Step& settle();

  std::size_t cap_;
  std::span<const std::byte> incoming_;  // a read being sent straight back (not owned)
  EchoBuffer owed_;                      // what the socket would not take
  bool client_done_ = false;
  bool closed_ = false;
  Step step_;
};

}  // namespace echolab
