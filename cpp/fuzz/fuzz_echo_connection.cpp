// libFuzzer harness for EchoConnection, async_echo_server's per-connection state machine.
// The fuzz input is a script: it picks the buffer cap, then, event by event, what the simulated
// socket does: how the client's bytes are chunked into reads, how much of each write the socket
// takes (a partial write, or none: would-block), when the client's end of input comes, and when
// an error strikes, in any order the machine allows. The harness plays the event loop: it feeds
// only the events the machine's last step permits, carries out each step, and checks the
// invariants after every event; a violation prints what broke and traps.
//
// Invariants:
//   - the bytes written are exactly a prefix of the bytes read, in order;
//   - the write side is shut down only after the client's end of input, once everything read
//     has been written, and a close without an error always comes with that shutdown;
//   - the machine never buffers more than its cap, and never asks to read while it holds bytes;
//   - it never stalls (no write to do, nothing to wait for, yet not closed);
//   - after close it accepts no event.
// Run without errors to the end of the script, and then to the client's end of input, every byte
// comes back.
//
// Built with libFuzzer by `make fuzz`; the replay test (cpp/tests/test_echo_connection.cpp) runs
// the seed corpus through this same entry point in the ordinary builds.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <stdexcept>
#include <vector>

#include "echolab/echo_connection.hpp"

namespace {

using echolab::EchoConnection;
using echolab::Interest;
using echolab::Step;

void check(bool condition, const char* invariant) {
  if (condition) return;
  std::fprintf(stderr, "fuzz_echo_connection: invariant broken: %s\n", invariant);
  __builtin_trap();
}

// The script: one byte at a time, zeros once it runs out.
class Script {
 public:
  Script(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return at_ >= size_; }
  std::uint8_t next() { return done() ? 0 : data_[at_++]; }
  // A number from 1 to most.
  std::size_t upto(std::size_t most) { return 1 + (next() | std::size_t{next()} << 8) % most; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

class Loop {
 public:
  explicit Loop(std::size_t cap) : connection_(cap), scratch_(cap) {}

  // One event chosen by the script among those the last step allows; false once closed.
  bool play(Script& script) {
    const Step& step = connection_.step();
    const std::uint8_t choice = script.next();
    if (!step.write.empty()) {
      if (choice % 16 == 0) return fail();
      if (choice % 4 == 1) return would_block();
      return wrote(script.upto(step.write.size()));
    }
    if (step.interest == Interest::write) {
      if (choice % 16 == 0) return fail();
      if (choice % 8 == 1) return true;  // not writable yet: nothing happens
      return after(connection_.writable());
    }
    check(step.interest == Interest::read, "waiting for nothing while still open");
    if (choice % 16 == 0) return fail();
    if (choice % 32 == 1) return end_of_input();
    if (choice % 8 == 2) return true;  // nothing to read yet (EAGAIN): nothing happens
    return read(script, script.upto(connection_.read_size()));
  }

  // The rest of a run with no more errors: the socket takes everything, then the client ends.
  void finish() {
    for (int events = 0; !connection_.closed(); ++events) {
      check(events < 16, "no end after the client's end of input");
      const Step& step = connection_.step();
      if (!step.write.empty()) {
        wrote(step.write.size());
      } else if (step.interest == Interest::write) {
        after(connection_.writable());
      } else {
        end_of_input();
      }
    }
    check(failed_ || written_ == read_.size(), "a byte read was never written");
  }

  // No event is accepted after close.
  void poke_after_close(Script& script) {
    check(connection_.closed(), "poked before close");
    const std::byte byte{0x5a};
    try {
      switch (script.next() % 6) {
        case 0:
          connection_.readable(std::span(&byte, 1));
          break;
        case 1:
          connection_.end_of_input();
          break;
        case 2:
          connection_.writable();
          break;
        case 3:
          connection_.wrote(1);
          break;
        case 4:
          connection_.would_block();
          break;
        default:
          connection_.failed();
          break;
      }
    } catch (const std::logic_error&) {
      return;
    }
    check(false, "an event after close was accepted");
  }

 private:
  bool read(Script& script, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      scratch_[i] = std::byte{static_cast<unsigned char>(script.next() ^ read_.size())};
      read_.push_back(scratch_[i]);
    }
    return after(connection_.readable(std::span(scratch_).first(count)));
  }

  bool wrote(std::size_t count) {
    const std::span<const std::byte> write = connection_.step().write;
    check(count <= write.size(), "the harness wrote more than was asked");
    check(written_ + count <= read_.size(), "wrote more bytes than were read");
    check(std::memcmp(write.data(), read_.data() + written_, count) == 0,
          "the bytes written are not the next bytes read");
    written_ += count;
    return after(connection_.wrote(count));
  }

  bool would_block() {
    const bool ok = after(connection_.would_block());
    // Whatever the machine kept must be its own copy: the loop reuses its read buffer.
    for (auto& b : scratch_) b = std::byte{0xee};
    return ok;
  }

  bool end_of_input() {
    client_done_ = true;
    return after(connection_.end_of_input());
  }

  bool fail() {
    failed_ = true;
    return after(connection_.failed());
  }

  // Checks the invariants against the machine's answer; false once it has closed.
  bool after(const Step& step) {
    check(connection_.buffered() <= connection_.cap(), "buffered more than the cap");
    check(step.interest != Interest::read || connection_.buffered() == 0,
          "asks to read while it holds bytes");
    check(step.write.size() <= read_.size() - written_, "asks to write bytes never read");
    if (step.shutdown_write) {
      check(client_done_, "shut down the write side before the client's end of input");
      check(written_ == read_.size(), "shut down the write side with bytes still owed");
      check(step.close, "shut down the write side without closing");
    }
    if (step.close) {
      check(step.write.empty(), "closes with a write still to do");
      check(failed_ || step.shutdown_write, "closed without FIN and without an error");
      check(connection_.closed(), "says close but is not closed");
      return false;
    }
    check(!connection_.closed(), "closed without saying so");
    check(!step.write.empty() || step.interest != Interest::none, "stalled: nothing to do");
    return true;
  }

  EchoConnection connection_;
  std::vector<std::byte> scratch_;  // what a recv() would fill, as the loop's shared buffer
  std::vector<std::byte> read_;     // every byte fed in, in order
  std::size_t written_ = 0;         // how many of them were written back
  bool client_done_ = false;
  bool failed_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Script script(data, size);
  // Small caps make full buffers, partial writes and refusals to read common.
  Loop loop(script.upto(64));
  bool open = true;
  while (open && !script.done()) open = loop.play(script);
  if (open) loop.finish();
  loop.poke_after_close(script);
  return 0;
}
