// multi_echo_server: echo_server with a thread per connection. The session is the same function;
// only the driver changed: the accepted socket moves into its own thread, so clients no longer
// wait for each other. The threads stay joinable, so a stop can wait for every one of them.
#include <atomic>
#include <list>
#include <memory>
#include <thread>

#include "echolab/session.hpp"
#include "servers/servers.hpp"

namespace echolab {

namespace {

// The session threads, joined as they finish so the list does not grow without bound.
class Sessions {
 public:
  // guide:sessions-start begin
  void start(Socket connection, Stopper& stopper) {
    reap();
    auto done = std::make_shared<std::atomic<bool>>(false);
    auto session = [connection = std::move(connection), &stopper, done]() mutable {
      serve_connection(std::move(connection), stopper);
      *done = true;
    };
    threads_.push_back({std::jthread(std::move(session)), done});
  }
  // guide:sessions-start end

  void reap() {
    std::erase_if(threads_, [](const Running& r) { return r.done->load(); });
  }

 private:
  struct Running {
    std::jthread thread;  // joins when erased or destroyed
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<Running> threads_;
};

}  // namespace

// guide:serve-threaded begin
void serve_threaded(Socket& listener, Stopper& stopper, const ServerOptions&) {
  Sessions sessions;
  while (auto connection = accept_connection(listener, stopper)) {
    sessions.start(std::move(*connection), stopper);
  }
  // The stop request shut every tracked connection down; ~Sessions joins their threads.
}
// guide:serve-threaded end

}  // namespace echolab
