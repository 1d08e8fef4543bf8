// multi_echo_server: echo_server with a thread per connection. The session is the same function;
// only the loop around it changed: each accepted socket moves into a thread of its own, so
// clients no longer wait for each other. With N clients the process has N + 1 threads, this
// accept loop and one per session: stopping needs no thread of its own (echolab/stop.hpp).
#include <atomic>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

#include "echolab/accept.hpp"
#include "echolab/diagnostics.hpp"
#include "echolab/session.hpp"
#include "servers/servers.hpp"

namespace echolab {

namespace {

// Hardening: the session threads, kept so that a stop can wait for every one of them (each
// std::jthread joins when destroyed), and joined as they end so the list does not grow without
// bound. Defined below the lesson.
class SessionThreads {
 public:
  // Runs session() on a thread of its own, after joining the threads whose session has ended;
  // out of threads, says so and drops the session.
  template <typename Session>
  void start(Session session);
  // --max-connections: true, after saying so, when `limit` sessions are running already; the
  // caller closes the new connection then, so its client learns at once instead of waiting in
  // the backlog.
  bool over(std::optional<std::size_t> limit);

 private:
  // How many sessions are still running, after joining those that have ended.
  std::size_t running();

  struct Running {
    std::jthread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<Running> threads_;
};

}  // namespace

// guide:serve-multi begin
void serve_multi(Socket& listener, Stopper& stopper, const ServerOptions& options) {
  SessionThreads sessions;
  while (auto connection = accept_connection(listener, stopper)) {
    if (sessions.over(options.max_connections)) continue;  // hardening: --max-connections
    // A thread of its own for each client; the thread owns the socket.
    sessions.start([connection = std::move(*connection), &stopper, &options]() mutable {
      serve_connection(std::move(connection), stopper, options);
    });
  }
  // A stop lets the sessions finish, until the drain's end cuts them; ~SessionThreads joins them.
}
// guide:serve-multi end

// --- Hardening: the session threads' bookkeeping --------------------------------------------

namespace {

// guide:sessions-start begin
template <typename Session>
void SessionThreads::start(Session session) {
  running();  // joins the threads whose session has ended
  auto done = std::make_shared<std::atomic<bool>>(false);
  try {
    threads_.push_back({std::jthread([session = std::move(session), done]() mutable {
                          session();
                          *done = true;
                        }),
                        done});
  } catch (const std::system_error& e) {
    // Out of threads or memory: this client is closed (with the lambda that owns its socket),
    // the server goes on.
    report(std::string("cannot start a session: ") + e.what());
  }
}
// guide:sessions-start end

bool SessionThreads::over(std::optional<std::size_t> limit) {
  if (!limit || running() < *limit) return false;
  report("refused a client: already serving " + std::to_string(*limit) +
         " connections (--max-connections)");
  return true;
}

std::size_t SessionThreads::running() {
  std::erase_if(threads_, [](const Running& r) { return r.done->load(); });
  return threads_.size();
}

}  // namespace

}  // namespace echolab
