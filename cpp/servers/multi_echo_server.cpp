// multi_echo_server: echo_server with a thread per connection. The session is the same function;
// only the driver changed: the accepted socket moves into its own thread, so clients no longer
// wait for each other. The threads stay joinable, so a stop can wait for every one of them.
#include <atomic>
#include <list>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include "echolab/program.hpp"
#include "echolab/session.hpp"
#include "servers/servers.hpp"

namespace echolab {

namespace {

// The session threads, joined as they finish so the list does not grow without bound.
class Sessions {
 public:
  // guide:sessions-start begin
  void start(Socket connection, Stopper& stopper, const ServerOptions& options) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    auto session = [connection = std::move(connection), &stopper, &options, done]() mutable {
      serve_connection(std::move(connection), stopper, options);
      *done = true;
    };
    try {
      threads_.push_back({std::jthread(std::move(session)), done});
    } catch (const std::system_error& e) {
      // Out of threads or memory: this client is closed (with the lambda that owns its socket),
      // the server goes on.
      report(std::string("cannot start a session: ") + e.what());
    }
  }
  // guide:sessions-start end

  // How many sessions are still running, after joining those that have ended.
  std::size_t running() {
    std::erase_if(threads_, [](const Running& r) { return r.done->load(); });
    return threads_.size();
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
void serve_threaded(Socket& listener, Stopper& stopper, const ServerOptions& options) {
  Sessions sessions;
  while (auto connection = accept_connection(listener, stopper)) {
    const std::size_t running = sessions.running();  // joins the sessions that have ended
    if (options.max_connections && running >= *options.max_connections) {
      // Closed here: the client learns at once instead of waiting in the backlog.
      report("refused a client: already serving " + std::to_string(*options.max_connections) +
             " connections (--max-connections)");
      continue;
    }
    sessions.start(std::move(*connection), stopper, options);
  }
  // A stop lets the sessions finish, until the drain deadline cuts them; ~Sessions joins them.
}
// guide:serve-threaded end

}  // namespace echolab
