#include "echolab/echo_connection.hpp"

#include <stdexcept>
#include <string>

namespace echolab {

namespace {

void require(bool condition, const char* what) {
  if (!condition) throw std::logic_error(std::string("EchoConnection: ") + what);
}

}  // namespace

void EchoBuffer::assign(std::span<const std::byte> data) {
  bytes_.assign(data.begin(), data.end());
  sent_ = 0;
}

void EchoBuffer::consume(std::size_t count) {
  sent_ += count;
  if (sent_ == bytes_.size()) {
    bytes_ = {};  // all echoed: give the memory back
    sent_ = 0;
  }
}

EchoConnection::EchoConnection(std::size_t cap) : cap_(cap) {
  require(cap > 0, "the cap must be at least one byte");
}

const Step& EchoConnection::readable(std::span<const std::byte> data) {
  require(step_.write.empty() && step_.interest == Interest::read && !closed_,
          "read while not reading");
  require(!data.empty() && data.size() <= cap_, "a read of 0 or more than read_size() bytes");
  // Sent straight back from the loop's buffer: one read, one send, no copy.
  incoming_ = data;
  step_ = Step{.write = incoming_, .interest = Interest::none};
  return step_;
}

const Step& EchoConnection::end_of_input() {
  require(step_.write.empty() && step_.interest == Interest::read && !closed_,
          "end of input while not reading");
  client_done_ = true;
  return settle();
}

const Step& EchoConnection::writable() {
  require(step_.write.empty() && step_.interest == Interest::write && !closed_,
          "writable while not writing");
  step_ = Step{.write = owed_.unsent(), .interest = Interest::none};
  return step_;
}

const Step& EchoConnection::wrote(std::size_t count) {
  require(!step_.write.empty() && count > 0 && count <= step_.write.size(),
          "wrote more than was asked, or nothing");
  if (!incoming_.empty()) {
    incoming_ = incoming_.subspan(count);
    step_.write = incoming_;
  } else {
    owed_.consume(count);
    step_.write = owed_.unsent();
  }
  return step_.write.empty() ? settle() : step_;
}

const Step& EchoConnection::would_block() {
  require(!step_.write.empty(), "would block while not writing");
  // The socket is full: keep what it did not take, and wait until it can take more.
  if (!incoming_.empty()) {
    owed_.assign(incoming_);
    incoming_ = {};
  }
  return settle();
}

const Step& EchoConnection::failed() {
  require(!closed_, "an event after close");
  incoming_ = {};
  owed_ = {};
  closed_ = true;
  step_ = Step{.write = {}, .shutdown_write = false, .close = true, .interest = Interest::none};
  return step_;
}

// guide:async-interest begin
// With no write in progress: finish after the client's end of input once nothing is owed;
// otherwise backpressure: wait for input only while nothing is owed, for room to write only
// while something is.
const Step& EchoConnection::settle() {
  if (client_done_ && owed_.empty()) {
    // Everything read has been sent and the read side is at end of stream, so closing cannot
    // discard unread input (which would mean RST): the client gets every byte, then FIN.
    closed_ = true;
    step_ = Step{.write = {}, .shutdown_write = true, .close = true, .interest = Interest::none};
  } else {
    step_ = Step{.write = {},
                 .shutdown_write = false,
                 .close = false,
                 .interest = owed_.empty() ? Interest::read : Interest::write};
  }
  return step_;
}
// guide:async-interest end

}  // namespace echolab
