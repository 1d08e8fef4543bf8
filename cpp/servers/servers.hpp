// The server variants, one file each, named as in the manifests (cpp/echo-lab.json); each
// program's main() hands its variant to server_main(). Read them in this order: the diff between
// neighbours is the lesson.
#pragma once

#include "echolab/cli.hpp"
#include "echolab/socket.hpp"
#include "echolab/stop.hpp"

namespace echolab {

// bad: bad_echo_server.cpp, the chapter's BadEchoServer. Returns (1) when any call fails.
int serve_bad(int listen_fd);

// iterative: echo_server.cpp, one client at a time, every byte echoed, every error handled.
void serve_iterative(Socket& listener, Stopper& stopper, const ServerOptions& options);

// multi: multi_echo_server.cpp, the same session on a thread per connection.
void serve_multi(Socket& listener, Stopper& stopper, const ServerOptions& options);

// async: async_echo_server.cpp, one thread, non-blocking sockets, an epoll event loop.
void serve_async(Socket& listener, Stopper& stopper, const ServerOptions& options);

}  // namespace echolab
