// The launch contract's command lines.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "echolab/cli.hpp"
#include "support.hpp"

namespace echolab {
namespace {

using testing::Args;

TEST(ServerArgs, DefaultsAreDualStackPort2000) {
  const auto options = parse_server_args(Args{}.span(), ServerKind::bad);
  EXPECT_EQ(options.host, "::");
  EXPECT_EQ(options.port, 2000);
}

TEST(ServerArgs, HostAndPortInBothSpellings) {
  const auto options =
      parse_server_args(Args{"--host", "127.0.0.1", "--port=0"}.span(), ServerKind::bad);
  EXPECT_EQ(options.host, "127.0.0.1");
  EXPECT_EQ(options.port, 0);
}

TEST(ServerArgs, BadArgumentsAreUsageErrors) {
  for (const auto& args : {Args{"--port", "70000"}, Args{"--port", "abc"}, Args{"--port", "-1"},
                           Args{"--port", "20 00"}, Args{"--port"}, Args{"--host", ""},
                           Args{"--verbose"}, Args{"extra"}}) {
    EXPECT_THROW(parse_server_args(args.span(), ServerKind::bad), UsageError);
  }
}

TEST(ServerArgs, EachKindTakesTheFlagsItsDesignAllows) {
  const Args drain{"--drain-timeout", "3"};
  const Args idle{"--idle-timeout", "2"};
  const Args cap{"--max-connections", "5"};
  const Args threads{"--threads", "2"};
  EXPECT_THROW(parse_server_args(drain.span(), ServerKind::bad), UsageError);
  EXPECT_THROW(parse_server_args(idle.span(), ServerKind::bad), UsageError);
  EXPECT_DOUBLE_EQ(parse_server_args(drain.span(), ServerKind::iterative).drain_timeout_seconds,
                   3.0);
  EXPECT_DOUBLE_EQ(*parse_server_args(idle.span(), ServerKind::iterative).idle_timeout_seconds,
                   2.0);
  EXPECT_THROW(parse_server_args(cap.span(), ServerKind::iterative), UsageError);
  EXPECT_EQ(*parse_server_args(cap.span(), ServerKind::multi).max_connections, 5u);
  EXPECT_THROW(parse_server_args(threads.span(), ServerKind::multi), UsageError);
  EXPECT_EQ(parse_server_args(threads.span(), ServerKind::async).threads, 2u);
  const std::string usage = server_usage("multi_echo_server", ServerKind::multi);
  for (const char* flag :
       {"--drain-timeout SECONDS", "--idle-timeout SECONDS", "--max-connections N"})
    EXPECT_NE(usage.find(flag), std::string::npos) << flag;
  EXPECT_EQ(server_usage("bad_echo_server", ServerKind::bad).find("--drain-timeout"),
            std::string::npos);
}

TEST(ServerArgs, DrainTimeoutIsTenSecondsByDefaultAndZeroCutsAtOnce) {
  EXPECT_DOUBLE_EQ(parse_server_args(Args{}.span(), ServerKind::iterative).drain_timeout_seconds,
                   10.0);
  EXPECT_DOUBLE_EQ(parse_server_args(Args{"--drain-timeout=0"}.span(), ServerKind::iterative)
                       .drain_timeout_seconds,
                   0.0);
  EXPECT_DOUBLE_EQ(parse_server_args(Args{"--drain-timeout", "0.25"}.span(), ServerKind::async)
                       .drain_timeout_seconds,
                   0.25);
  for (const auto& args :
       {Args{"--drain-timeout", "-1"}, Args{"--drain-timeout", "abc"}, Args{"--drain-timeout", ""},
        Args{"--drain-timeout", "1s"}, Args{"--drain-timeout", "inf"},
        Args{"--drain-timeout", "nan"}, Args{"--drain-timeout", "-0"}, Args{"--drain-timeout"}}) {
    try {
      parse_server_args(args.span(), ServerKind::multi);
      ADD_FAILURE() << "accepted a bad --drain-timeout";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--drain-timeout"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(to_milliseconds(0.0001), std::chrono::milliseconds(1));
  EXPECT_EQ(to_milliseconds(1e300), std::chrono::milliseconds(365LL * 86400 * 1000));
}

// --idle-timeout comes with the iterative server, --max-connections with the multi server, so
// together they need the multi or the async server; and their values are checked.
TEST(ServerArgs, IdleTimeoutWithMaxConnectionsOnlyForTheMultiAndAsyncServers) {
  const Args args{"--idle-timeout", "2.5", "--max-connections", "10"};
  EXPECT_THROW(parse_server_args(args.span(), ServerKind::bad), UsageError);
  EXPECT_THROW(parse_server_args(args.span(), ServerKind::iterative), UsageError);
  for (const ServerKind kind : {ServerKind::multi, ServerKind::async}) {
    const auto options = parse_server_args(args.span(), kind);
    EXPECT_DOUBLE_EQ(options.idle_timeout_seconds.value(), 2.5);
    EXPECT_EQ(options.max_connections.value(), 10u);
    EXPECT_THROW(parse_server_args(Args{"--idle-timeout", "0"}.span(), kind), UsageError);
    EXPECT_THROW(parse_server_args(Args{"--max-connections", "x"}.span(), kind), UsageError);
  }
}

TEST(ServerArgs, ThreadsOnlyForTheAsyncServer) {
  EXPECT_EQ(parse_server_args(Args{}.span(), ServerKind::async).threads, 1u);
  EXPECT_EQ(parse_server_args(Args{"--threads", "4"}.span(), ServerKind::async).threads, 4u);
  EXPECT_EQ(parse_server_args(Args{"--threads=2"}.span(), ServerKind::async).threads, 2u);
  EXPECT_THROW(parse_server_args(Args{"--threads", "2"}.span(), ServerKind::bad), UsageError);
  EXPECT_THROW(parse_server_args(Args{"--threads", "2"}.span(), ServerKind::multi), UsageError);
  for (const auto& args : {Args{"--threads", "0"}, Args{"--threads", "-1"}, Args{"--threads", "x"},
                           Args{"--threads", "1025"}, Args{"--threads"}})
    EXPECT_THROW(parse_server_args(args.span(), ServerKind::async), UsageError);
  EXPECT_NE(server_usage("async_echo_server", ServerKind::async).find("--threads N"),
            std::string::npos);
  EXPECT_EQ(server_usage("echo_server", ServerKind::bad).find("--threads"), std::string::npos);
}

// The same parsers serve echo_bench: what a flag is and what it must be are in the message.
TEST(NumberArgs, NumbersAndCountsSayWhatTheyMustBe) {
  EXPECT_DOUBLE_EQ(parse_number(".5", "--rate", false, " of messages per second"), 0.5);
  EXPECT_DOUBLE_EQ(parse_number("0", "--warmup", true, " of seconds"), 0.0);
  try {
    parse_number("-1", "--rate", false, " of messages per second");
    ADD_FAILURE() << "accepted a negative rate";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--rate must be a positive number of messages per second, not '-1'");
  }
  try {
    parse_number("x", "--drain-timeout", true, " of seconds");
    ADD_FAILURE() << "accepted x";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--drain-timeout must be a number of seconds, 0 or more, not 'x'");
  }
  EXPECT_EQ(parse_count("7", "--window", 1024), 7u);
  for (const char* bad : {"0", "1025", "-1", "1.5", ""}) {
    try {
      parse_count(bad, "--window", 1024);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()), std::string("--window must be a whole number above 0 and at "
                                                   "most 1024, not '") +
                                           bad + "'");
    }
  }
}

TEST(ServerArgs, HelpIsNotAnError) {
  EXPECT_THROW(parse_server_args(Args{"--help"}.span(), ServerKind::bad), HelpRequested);
}

TEST(ClientArgs, HostAndOptionalPort) {
  auto options = parse_client_args(Args{"::1"}.span(), true);
  EXPECT_EQ(options.host, "::1");
  EXPECT_EQ(options.port, 2000);
  EXPECT_FALSE(options.raw);
  options = parse_client_args(Args{"--raw", "localhost", "7"}.span(), true);
  EXPECT_EQ(options.host, "localhost");
  EXPECT_EQ(options.port, 7);
  EXPECT_TRUE(options.raw);
}

TEST(ClientArgs, BadArgumentsAreUsageErrors) {
  for (const auto& args : {Args{}, Args{"host", "0"}, Args{"host", "65536"}, Args{"host", "x"},
                           Args{"a", "1", "b"}, Args{""}, Args{"--bogus", "host"}}) {
    EXPECT_THROW(parse_client_args(args.span(), true), UsageError);
  }
  EXPECT_THROW(parse_client_args(Args{"--raw", "host"}.span(), false), UsageError);
}

TEST(Usage, ShowsAnExample) {
  EXPECT_NE(server_usage("echo_server", ServerKind::bad).find("example: echo_server"),
            std::string::npos);
  EXPECT_NE(client_usage("echo_client", true).find("--raw"), std::string::npos);
  EXPECT_EQ(client_usage("bad_echo_client", false).find("--raw"), std::string::npos);
}

}  // namespace
}  // namespace echolab
