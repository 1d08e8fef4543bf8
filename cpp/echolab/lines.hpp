// Line mode, shared by the clients: lines are bytes split at '\n', whatever the reads look like.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace echolab {

// Collects bytes as they arrive and hands back whole lines, without their '\n'.
class LineSplitter {
 public:
  void append(std::span<const std::byte> data);
  std::optional<std::string> next_line();
  // At end of input: the unterminated last line, if there is one (it is still a line).
  std::optional<std::string> rest();
  std::size_t buffered() const noexcept { return buffer_.size() - start_; }

 private:
  std::string buffer_;
  std::size_t start_ = 0;    // where the next line begins
  std::size_t scanned_ = 0;  // bytes before this hold no '\n': a long line is searched once
};

// Blocking line input from a descriptor.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // The next line, or nullopt at end of input.
  std::optional<std::string> next();

 private:
  int fd_;
  bool eof_ = false;
  LineSplitter splitter_;
};

// "BYE" ends the session; so does "BYE\r", typed on a terminal that sends CRLF.
bool is_bye(std::string_view line) noexcept;

// The bytes to send for a line: the line and its '\n'.
std::string framed(std::string_view line);

// The transcript line for an echo: "Echoed: 'E'\n", E being the echo without its final '\n'.
std::string echoed(std::string_view echo);

}  // namespace echolab
