// The client variants, one file each, named as in the manifests (cpp/echo-lab.json); each
// program's main() hands its variant to client_main(). Read them in this order: the diff between
// neighbours is the lesson.
#pragma once

#include <cstdint>
#include <string>

#include "echolab/cli.hpp"
#include "echolab/client_io.hpp"
#include "echolab/socket.hpp"

namespace echolab {

// bad: bad_echo_client.cpp, the chapter's BadEchoClient. It connects by itself and checks
// nothing.
int run_bad_client(const std::string& host, std::uint16_t port, const ClientIo& io);

// blocking: echo_client.cpp, one thread and blocking calls; --raw is chunked ping-pong (send a
// chunk, read its echo back).
void run_blocking_client(Socket& connection, const ClientIo& io, const ClientOptions& options);

// threaded: threaded_echo_client.cpp, the blocking client with a reader thread beside the writer.
void run_threaded_client(Socket& connection, const ClientIo& io, const ClientOptions& options);

// async: async_echo_client.cpp, one thread multiplexing standard input and the socket with poll.
void run_async_client(Socket& connection, const ClientIo& io, const ClientOptions& options);

}  // namespace echolab
