// The stopper: a request drains, a second request or the deadline cuts, and none of it needs a
// thread: SIGTERM and SIGINT arrive through a signal handler, the deadline through a timer's
// signal.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <iterator>
#include <stdexcept>
#include <thread>

#include "echolab/stop.hpp"
#include "support.hpp"

namespace echolab::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::size_t threads_of_this_process() {
  return static_cast<std::size_t>(
      std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                    std::filesystem::directory_iterator()));
}

// Whether `fd` becomes readable within `limit`. The drain timer's signal may interrupt poll().
bool readable_within(int fd, std::chrono::milliseconds limit) {
  const auto give_up = Clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(give_up - Clock::now());
    pollfd ready{fd, POLLIN, 0};
    const int n = ::poll(&ready, 1, static_cast<int>(std::max(left.count(), 0L)));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) throw Error("poll", "test", errno);
  }
}

// Both ends of a connected stream; shutting one down shows at the other as the end of stream.
struct Pair {
  Socket near;
  Socket far;
  Pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      throw Error("socketpair", "test", errno);
    near = Socket(fds[0]);
    far = Socket(fds[1]);
  }
  bool far_sees_the_end() const {
    std::array<std::byte, 1> byte;
    return readable_within(far.fd(), 0ms) && read_some(far.fd(), byte) == 0;
  }
};

TEST(Stopper, TheDeadlineCutsTheConnectionsWithoutAThreadOfItsOwn) {
  const std::size_t before = threads_of_this_process();
  Stopper stopper(300ms);
  const Pair connection;
  const auto tracked = stopper.track(connection.near.fd());
  const auto start = Clock::now();
  stopper.request();
  EXPECT_TRUE(stopper.requested());
  EXPECT_TRUE(readable_within(stopper.fd(), 0ms)) << "a request did not wake the accept loop";
  EXPECT_FALSE(stopper.cut()) << "the drain cut at once";
  EXPECT_FALSE(connection.far_sees_the_end()) << "the drain shut the connection down";
  EXPECT_EQ(threads_of_this_process(), before) << "the stopper started a thread";

  ASSERT_TRUE(readable_within(stopper.cut_fd(), 3s)) << "the deadline never cut";
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 250ms) << "cut before the deadline";
  EXPECT_LT(took, 2s) << "cut long after the 0.3 s deadline";
  EXPECT_TRUE(stopper.cut());
  EXPECT_TRUE(connection.far_sees_the_end()) << "the cut left the connection open";
  EXPECT_EQ(threads_of_this_process(), before);
}

TEST(Stopper, AFirstRequestRefusesNewClientsAndASecondCutsAtOnce) {
  Stopper stopper;  // the default 10 s drain
  const Socket listener = listen_tcp("127.0.0.1", 0);
  const std::uint16_t port = local_host_port(listener.fd()).port;
  const auto refusing = stopper.track_listener(listener.fd());
  const Pair connection;
  const auto tracked = stopper.track(connection.near.fd());
  stopper.request();
  EXPECT_THROW(connect_tcp("127.0.0.1", port), Error) << "a new client was not refused";
  EXPECT_FALSE(connection.far_sees_the_end());
  stopper.request();
  EXPECT_TRUE(stopper.cut());
  EXPECT_TRUE(readable_within(stopper.cut_fd(), 0ms));
  EXPECT_TRUE(connection.far_sees_the_end());
}

TEST(Stopper, WhatIsTrackedAfterTheStopIsShutDownAtOnceAndNothingAfterItsGuard) {
  Stopper stopper(0ms);  // the first request cuts
  stopper.request();
  EXPECT_TRUE(stopper.cut());
  const Pair late;
  { const auto tracked = stopper.track(late.near.fd()); }
  EXPECT_TRUE(late.far_sees_the_end()) << "a connection tracked after the cut was left open";
  const Pair untracked;
  stopper.request();
  EXPECT_FALSE(untracked.far_sees_the_end()) << "an untracked connection was shut down";
}

TEST(Stopper, SigtermAndSigintRequestTheStopThroughAHandler) {
  const std::size_t before = threads_of_this_process();
  Stopper stopper;
  stop_on_signals();
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  ASSERT_TRUE(readable_within(stopper.fd(), 2s)) << "SIGTERM did not request the stop";
  EXPECT_FALSE(stopper.cut());
  ASSERT_EQ(::kill(::getpid(), SIGINT), 0);
  ASSERT_TRUE(readable_within(stopper.cut_fd(), 2s)) << "a second signal did not cut";
  EXPECT_EQ(threads_of_this_process(), before) << "signals are watched by a thread";
}

TEST(Stopper, AProcessHasOneAtATime) {
  { const Stopper first; }
  const Stopper second;  // the first is gone: allowed
  EXPECT_THROW(const Stopper third, std::logic_error);
}

}  // namespace
}  // namespace echolab::testing
