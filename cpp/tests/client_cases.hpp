// Cases every good client variant must pass, written once and instantiated by each variant's test
// file: INSTANTIATE_TEST_SUITE_P(Name, EchoClientCases, ::testing::Values(&run_function)).
// ResponsiveClientCases holds what a client that watches the socket while it waits for input or
// for room to send (threaded, async) adds: a server that goes away is noticed at once.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <future>
#include <string>

#include "clients/clients.hpp"
#include "servers/servers.hpp"
#include "support.hpp"

namespace echolab::testing {

using namespace std::chrono_literals;
using RunFn = void (*)(Socket&, const ClientIo&, const ClientOptions&);

class EchoClientCases : public ::testing::TestWithParam<RunFn> {};
class ResponsiveClientCases : public ::testing::TestWithParam<RunFn> {};

// A script of 100 lines with the awkward ones among them: UTF-8, NUL, a lone CR, an empty line,
// invalid UTF-8 and one 100,000-byte line.
inline std::string hundred_lines() {
  std::string script;
  for (int i = 0; i < 100; ++i) {
    switch (i) {
      case 10:
        script += "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x9a\x80";
        break;
      case 20:
        script += std::string("nul\0inside", 10);
        break;
      case 30:
        script += "lone\rcarriage return\r";
        break;
      case 40:
        break;  // empty line
      case 50:
        script += "\xff\xfe not UTF-8";
        break;
      case 60: {
        std::string long_line = seeded_bytes(60, 100000);
        std::replace(long_line.begin(), long_line.end(), '\n', 'n');  // one line, not several
        script += long_line;
        break;
      }
      default:
        script += "line " + std::to_string(i);
    }
    script += '\n';
  }
  return script;
}

inline ClientOptions raw_mode() {
  ClientOptions options;
  options.raw = true;
  return options;
}

inline std::string read_to_end(int fd) {
  std::string data;
  std::array<std::byte, 65536> buffer;
  while (const std::size_t n = read_some(fd, buffer))
    data.append(reinterpret_cast<const char*>(buffer.data()), n);
  return data;
}

// Reads one line, '\n' included, a byte at a time: the client sends nothing more until its echo.
inline std::string read_line(int fd) {
  std::string line;
  std::array<std::byte, 1> byte;
  while (!line.ends_with('\n') && read_some(fd, byte) == 1)
    line.push_back(static_cast<char>(byte[0]));
  return line;
}

// A run whose stdin stays open after `typed`, like a user who has not typed the next line yet.
// The client must end by itself when the server goes away; if it does not within `limit`, the
// test fails and the input is closed to end the run.
inline ClientRun run_with_open_input(RunFn client_fn, std::uint16_t port, const std::string& typed,
                                     const ClientOptions& options,
                                     std::chrono::milliseconds limit = 5s) {
  int in[2];
  int out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw Error("pipe2", "", errno);
  Socket in_read(in[0]), in_write(in[1]), out_read(out[0]), out_write(out[1]);
  write_all(in_write.fd(), typed);  // small: it fits in the pipe

  auto collector = std::async(std::launch::async, [&] { return read_to_end(out_read.fd()); });
  auto client = std::async(std::launch::async, [&]() -> std::string {
    try {
      Socket connection = connect_tcp("127.0.0.1", port);
      client_fn(connection, ClientIo{in_read.fd(), out_write.fd(), false}, options);
      return "";
    } catch (const std::exception& e) {
      return e.what();
    }
  });
  EXPECT_EQ(client.wait_for(limit), std::future_status::ready)
      << "the client did not notice that the server went away";
  in_write.close();
  ClientRun result;
  result.error = client.get();
  out_write.close();
  result.output = collector.get();
  return result;
}

// What a Recorder received, once the session is over.
inline std::string received(ServerThread& server, Recorder& recorder) {
  server.stop_and_join();
  const std::lock_guard lock(recorder.mutex);
  return recorder.received;
}

// A server that reads a little, closes its side (FIN) and reads nothing more until the test is
// over: the client, blocked sending into full buffers, must still notice at once.
inline ServeFunction close_and_stall(std::shared_future<void> test_over) {
  return scripted([test_over](Socket& connection) {
    std::array<std::byte, 65536> buffer;
    read_some(connection.fd(), buffer);
    ::shutdown(connection.fd(), SHUT_WR);
    test_over.wait_for(10s);
  });
}

TEST_P(EchoClientCases, PrintsTheExactTranscriptForAHundredAwkwardLines) {
  ServerThread server(serve_iterative);
  const std::string script = hundred_lines();
  const ClientRun run = run_client(GetParam(), "127.0.0.1", server.port(), script);
  EXPECT_EQ(run.error, "");
  EXPECT_BYTES_EQ(expected_transcript(script), run.output);
}

TEST_P(EchoClientCases, TranscriptAgainstTheMultiServerOverIpv6) {
  ServerThread server(serve_multi);
  const std::string input = hundred_lines();
  const ClientRun run = run_client(GetParam(), "::1", server.port(), input);
  EXPECT_EQ(run.error, "");
  EXPECT_BYTES_EQ(expected_transcript(input), run.output);
}

TEST_P(EchoClientCases, ByeEndsTheSessionWithoutSendingIt) {
  for (const std::string bye : {"BYE", "BYE\r"}) {
    SCOPED_TRACE(bye == "BYE" ? "BYE" : "BYE\\r");
    Recorder recorder;
    ServerThread server(recorder.serve());
    // More than a pipe holds after the BYE, so the client must stop reading its input.
    const std::string input =
        "one\ntwo\r\n" + bye + "\nthree\n" + std::string(1 << 20, 'x') + "\nfour\n";
    const ClientRun run = run_client(GetParam(), "127.0.0.1", server.port(), input);
    EXPECT_EQ(run.error, "");
    EXPECT_EQ(run.output, "Echoed: 'one'\nEchoed: 'two\r'\n");
    EXPECT_BYTES_EQ("one\ntwo\r\n", received(server, recorder));
  }
}

TEST_P(EchoClientCases, ALastLineWithoutNewlineIsStillSent) {
  Recorder recorder;
  ServerThread server(recorder.serve());
  const ClientRun run = run_client(GetParam(), "127.0.0.1", server.port(), "first\nlast");
  EXPECT_EQ(run.error, "");
  EXPECT_EQ(run.output, "Echoed: 'first'\nEchoed: 'last'\n");
  EXPECT_BYTES_EQ("first\nlast\n", received(server, recorder));
}

TEST_P(EchoClientCases, NoInputNoOutput) {
  Recorder recorder;
  ServerThread server(recorder.serve());
  const ClientRun run = run_client(GetParam(), "127.0.0.1", server.port(), "");
  EXPECT_EQ(run.error, "");
  EXPECT_EQ(run.output, "");
  EXPECT_EQ(received(server, recorder), "");
}

TEST_P(EchoClientCases, RawModeCopiesEveryVectorExactly) {
  ServerThread server(serve_iterative);
  for (const Vector& v : vectors()) {
    SCOPED_TRACE(v.name);
    const ClientRun run = run_client(GetParam(), "127.0.0.1", server.port(), v.bytes, raw_mode());
    EXPECT_EQ(run.error, "");
    EXPECT_BYTES_EQ(v.bytes, run.output);
  }
}

TEST_P(EchoClientCases, RawModeCopiesEightMebibytes) {
  ServerThread server(serve_multi);
  const std::string input = seeded_bytes(8, 8 << 20);
  const ClientRun run = run_client(GetParam(), "127.0.0.1", server.port(), input, raw_mode());
  EXPECT_EQ(run.error, "");
  EXPECT_BYTES_EQ(input, run.output);
}

TEST_P(EchoClientCases, EchoInOneByteSegmentsGivesTheSameTranscript) {
  ServerThread server(scripted([](Socket& connection) {
    const int one = 1;
    ::setsockopt(connection.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::array<std::byte, 4096> buffer;
    std::size_t sent = 0;
    while (const std::size_t n = read_some(connection.fd(), buffer)) {
      for (std::size_t i = 0; i < n; ++i, ++sent) {
        write_all(connection.fd(), std::span(buffer).subspan(i, 1));
        if (sent < 300) std::this_thread::sleep_for(1ms);  // so the reads really see them apart
      }
    }
  }));
  const std::string input = hundred_lines();
  const ClientRun run = run_client(GetParam(), "127.0.0.1", server.port(), input);
  EXPECT_EQ(run.error, "");
  EXPECT_BYTES_EQ(expected_transcript(input), run.output);
}

TEST_P(EchoClientCases, ServerClosingBeforeTheWholeEchoIsAnError) {
  ServerThread server(scripted([](Socket& connection) {
    write_all(connection.fd(), read_line(connection.fd()));
    const std::string second = read_line(connection.fd());
    write_all(connection.fd(), second.substr(0, 3));
    ::shutdown(connection.fd(), SHUT_WR);
    read_to_end(connection.fd());
  }));
  const ClientRun run =
      run_client(GetParam(), "127.0.0.1", server.port(), "first\nsecond line\nthird\n");
  EXPECT_EQ(run.output, "Echoed: 'first'\n");
  EXPECT_EQ(run.error, "connection closed by the server after 3 of 12 bytes of the echo");
}

TEST_P(EchoClientCases, ServerResettingIsAnError) {
  ServerThread server(scripted([](Socket& connection) {
    write_all(connection.fd(), read_line(connection.fd()));
    read_line(connection.fd());
    const linger abort{1, 0};  // the close after this session sends RST
    ::setsockopt(connection.fd(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  }));
  const ClientRun run =
      run_client(GetParam(), "127.0.0.1", server.port(), "first\nsecond line\nthird\n");
  EXPECT_EQ(run.output, "Echoed: 'first'\n");
  EXPECT_NE(run.error.find("Connection reset by peer"), std::string::npos) << run.error;
}

TEST_P(ResponsiveClientCases, ServerClosingWhileTheClientWaitsForInputIsNoticedAtOnce) {
  ServerThread server(scripted([](Socket& connection) {
    write_all(connection.fd(), read_line(connection.fd()));
    ::shutdown(connection.fd(), SHUT_WR);
    read_to_end(connection.fd());
  }));
  const ClientRun run = run_with_open_input(GetParam(), server.port(), "first\n", {});
  EXPECT_EQ(run.output, "Echoed: 'first'\n");
  EXPECT_EQ(run.error, "connection closed by the server");
}

TEST_P(ResponsiveClientCases, RawModeServerClosingBeforeTheHalfCloseIsAnError) {
  ServerThread server(scripted([](Socket& connection) {
    write_all(connection.fd(), read_line(connection.fd()));
    ::shutdown(connection.fd(), SHUT_WR);
    read_to_end(connection.fd());
  }));
  const ClientRun run = run_with_open_input(GetParam(), server.port(), "raw\n", raw_mode());
  EXPECT_EQ(run.output, "raw\n");
  EXPECT_EQ(run.error, "connection closed by the server before the end of the input");
}

TEST_P(ResponsiveClientCases, ServerClosingWhileTheClientIsBlockedSendingIsNoticedAtOnce) {
  for (const bool raw : {false, true}) {
    SCOPED_TRACE(raw ? "raw" : "line");
    std::promise<void> test_over;
    ServerThread server(close_and_stall(test_over.get_future().share()));
    // More than the socket buffers on both sides hold, so the client blocks sending.
    const std::string input = std::string(16 << 20, 'x') + "\n";
    const auto start = std::chrono::steady_clock::now();
    const ClientRun run = run_client(GetParam(), "127.0.0.1", server.port(), input,
                                     raw ? raw_mode() : ClientOptions{});
    const auto took = std::chrono::steady_clock::now() - start;
    test_over.set_value();
    EXPECT_LT(took, 5s) << "the client noticed only once the server read again";
    EXPECT_EQ(run.output, "");
    EXPECT_EQ(run.error, raw ? "connection closed by the server before the end of the input"
                             : "connection closed by the server after 0 of 16777217 bytes of the "
                               "echo");
  }
}

}  // namespace echolab::testing
