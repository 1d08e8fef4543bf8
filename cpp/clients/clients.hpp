// The client variants, one file each; each program's main() hands its variant to client_main().
#pragma once

#include <cstdint>
#include <string>

#include "echolab/cli.hpp"
#include "echolab/program.hpp"
#include "echolab/socket.hpp"

namespace echolab {

// bad_echo_client.cpp: the chapter's BadEchoClient. It connects by itself and checks nothing.
int run_bad_client(const std::string& host, std::uint16_t port, const ClientIo& io);

// echo_client.cpp: blocking; --raw is chunked ping-pong (send a chunk, read its echo back).
void run_blocking_client(Socket& connection, const ClientIo& io, const ClientOptions& options);

// threaded_echo_client.cpp: a reader thread beside the writer.
void run_threaded_client(Socket& connection, const ClientIo& io, const ClientOptions& options);

// async_echo_client.cpp: one thread multiplexing standard input and the socket with poll.
void run_async_client(Socket& connection, const ClientIo& io, const ClientOptions& options);

}  // namespace echolab
