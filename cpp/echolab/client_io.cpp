#include "echolab/client_io.hpp"

#include <span>
#include <string_view>

#include "echolab/socket.hpp"

namespace echolab {

void prompt(const ClientIo& io) {
  if (io.interactive) write_all(io.out, std::string_view("Enter line:"));
}

ConnectionLost closed_by_server(std::size_t received, std::size_t awaited) {
  if (awaited == 0) return ConnectionLost("connection closed by the server");
  return ConnectionLost("connection closed by the server after " + std::to_string(received) +
                        " of " + std::to_string(awaited) + " bytes of the echo");
}

ConnectionLost closed_before_end_of_input() {
  return ConnectionLost("connection closed by the server before the end of the input");
}

// guide:read-exactly begin
std::string read_exactly(int fd, std::size_t count) {
  std::string data(count, '\0');
  std::size_t have = 0;
  // guide:errors-host-vanishes begin
  while (have < count) {
    auto rest = std::as_writable_bytes(std::span(data)).subspan(have);
    // guide:errors-peer-closes begin
    const std::size_t n = read_some(fd, rest);
    if (n == 0) throw closed_by_server(have, count);
    // guide:errors-peer-closes end
    have += n;
  }
  // guide:errors-host-vanishes end
  return data;
}
// guide:read-exactly end

}  // namespace echolab
