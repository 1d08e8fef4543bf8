#include "echolab/lines.hpp"

#include <algorithm>
#include <array>

#include "echolab/socket.hpp"

namespace echolab {

void LineSplitter::append(std::span<const std::byte> data) {
  // Drop consumed bytes before growing, so the buffer holds at most one partial line.
  if (start_ > 0) {
    buffer_.erase(0, start_);
    scanned_ -= start_;
    start_ = 0;
  }
  buffer_.append(reinterpret_cast<const char*>(data.data()), data.size());
}

std::optional<std::string> LineSplitter::next_line() {
  const auto end = buffer_.find('\n', std::max(start_, scanned_));
  if (end == std::string::npos) {
    scanned_ = buffer_.size();
    return std::nullopt;
  }
  std::string line = buffer_.substr(start_, end - start_);
  start_ = end + 1;
  scanned_ = start_;
  return line;
}

std::optional<std::string> LineSplitter::rest() {
  if (buffered() == 0) return std::nullopt;
  std::string line = buffer_.substr(start_);
  buffer_.clear();
  start_ = scanned_ = 0;
  return line;
}

std::optional<std::string> LineReader::next() {
  std::array<std::byte, 16384> chunk;
  for (;;) {
    if (auto line = splitter_.next_line()) return line;
    if (eof_) return splitter_.rest();
    const std::size_t n = read_some(fd_, chunk);
    if (n == 0) {
      eof_ = true;
    } else {
      splitter_.append(std::span(chunk).first(n));
    }
  }
}

bool is_bye(std::string_view line) noexcept {
  return line == "BYE" || line == "BYE\r";
}

std::string framed(std::string_view line) {
  std::string bytes(line);
  bytes.push_back('\n');
  return bytes;
}

std::string echoed(std::string_view echo) {
  if (echo.ends_with('\n')) echo.remove_suffix(1);
  std::string text = "Echoed: '";
  text.append(echo);
  text.append("'\n");
  return text;
}

}  // namespace echolab
