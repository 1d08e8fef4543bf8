// echo_client: the careful blocking client. It reads back exactly as many bytes as it sent,
// however the stream splits them.
//
// One thread cannot write and read at the same time, and that sets its limits. Line mode sends a
// whole line, then reads its echo, as a line-based server needs (it echoes nothing before the
// '\n'). A line longer than the socket buffers on both sides can hold would leave both ends
// blocked in send(); threaded_echo_client and async_echo_client read while they write and have no
// such limit. --raw has no lines, so it sends one chunk at a time and reads its echo back before
// sending more: no amount of input can fill the buffers.
#include <sys/socket.h>

#include <array>

#include "clients/clients.hpp"
#include "echolab/lines.hpp"

namespace echolab {

namespace {

constexpr std::size_t kChunk = 65536;

// guide:blocking-client begin
// Line mode: prompt, read a line, send it, read its echo back, print it; until BYE or the end.
void echo_lines(int fd, const ClientIo& io) {
  LineReader input(io.in);
  for (;;) {
    prompt(io);
    const auto line = input.next();
    if (!line || is_bye(*line)) return;  // BYE is not sent: closing the connection says it
    const std::string bytes = framed(*line);
    write_all(fd, bytes);
    write_all(io.out, echoed(read_exactly(fd, bytes.size())));
  }
}
// guide:blocking-client end

// Raw mode: a chunk fits in the socket buffers on both sides, so with one chunk in flight
// neither end ever blocks waiting for the other to read.
void echo_raw(int fd, const ClientIo& io) {
  std::array<char, kChunk> chunk;
  while (const std::size_t n = read_some(io.in, std::as_writable_bytes(std::span(chunk)))) {
    write_all(fd, std::string_view(chunk.data(), n));
    write_all(io.out, read_exactly(fd, n));
  }
  ::shutdown(fd, SHUT_WR);
  // An echo server owes nothing more; anything it still sends is copied out, up to its FIN.
  while (const std::size_t n = read_some(fd, std::as_writable_bytes(std::span(chunk))))
    write_all(io.out, std::string_view(chunk.data(), n));
}

}  // namespace

void run_blocking_client(Socket& connection, const ClientIo& io, const ClientOptions& options) {
  if (options.raw) return echo_raw(connection.fd(), io);
  echo_lines(connection.fd(), io);
}

}  // namespace echolab
