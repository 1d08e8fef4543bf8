// What every client does with its terminal and with the server's echo: where it reads its input
// and writes its transcript, the prompt, and what it says when the server goes away. Every
// "connection closed by the server" a client reports is worded here, and only here.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace echolab {

// Where a client reads its input and writes its transcript.
struct ClientIo {
  int in = 0;
  int out = 1;
  bool interactive = false;  // stdin is a terminal: show the "Enter line:" prompt
};

// Writes "Enter line:" when the input is a terminal, and nothing when it is a pipe or file.
void prompt(const ClientIo& io);

// The server ended the connection before the client was done with it.
class ConnectionLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The server closed the connection: between echoes ("connection closed by the server"), or
// with `received` of the `awaited` bytes of an echo back ("... after 3 of 12 bytes of the echo").
ConnectionLost closed_by_server(std::size_t received = 0, std::size_t awaited = 0);

// Raw mode: the server closed the connection before the client had sent all of its input.
ConnectionLost closed_before_end_of_input();

// Reads exactly `count` bytes of echo, however the stream splits them; closed_by_server() if the
// server closes first.
std::string read_exactly(int fd, std::size_t count);

}  // namespace echolab
