// EchoConnection, async_echo_server's connection state machine, driven without sockets; and
// the fuzz harness's seed corpus (plus seeded random scripts) replayed through the harness's own
// entry point, so its invariants are checked in every build, not only under libFuzzer.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "echolab/echo_connection.hpp"
#include "support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace echolab::testing {
namespace {

std::vector<std::byte> bytes(const std::string& text) {
  const auto view = std::as_bytes(std::span(text));
  return {view.begin(), view.end()};
}

std::string text(std::span<const std::byte> data) {
  return {reinterpret_cast<const char*>(data.data()), data.size()};
}

TEST(EchoConnection, AReadTheSocketTakesWholeGoesStraightBackWithoutACopy) {
  EchoConnection c(16);
  EXPECT_EQ(c.step().interest, Interest::read);
  const auto data = bytes("hello");
  const Step& step = c.readable(data);
  EXPECT_EQ(step.write.data(), data.data()) << "the read was copied";
  EXPECT_EQ(step.write.size(), 5u);
  EXPECT_EQ(c.wrote(5).interest, Interest::read);
  EXPECT_TRUE(c.step().write.empty());
  EXPECT_EQ(c.buffered(), 0u);
}

TEST(EchoConnection, WhatTheSocketDoesNotTakeIsKeptAndReadingStopsUntilItIsSent) {
  EchoConnection c(8);
  auto data = bytes("abcdefgh");
  c.readable(data);
  EXPECT_EQ(text(c.wrote(3).write), "defgh");  // a partial write: the rest is asked for at once
  const Step& blocked = c.would_block();
  EXPECT_TRUE(blocked.write.empty());
  EXPECT_EQ(blocked.interest, Interest::write) << "backpressure: no reading while bytes are owed";
  EXPECT_EQ(c.buffered(), 5u);
  data.assign(data.size(), std::byte{'x'});  // the loop reuses its read buffer
  EXPECT_EQ(text(c.writable().write), "defgh");
  EXPECT_EQ(c.wrote(2).write.size(), 3u);
  EXPECT_EQ(c.would_block().interest, Interest::write);
  EXPECT_EQ(text(c.writable().write), "fgh");
  EXPECT_EQ(c.wrote(3).interest, Interest::read);
  EXPECT_EQ(c.buffered(), 0u);
}

TEST(EchoConnection, TheClientsEndOfInputShutsDownTheWriteSideThenCloses) {
  EchoConnection c(8);
  const auto data = bytes("last");
  c.readable(data);
  c.wrote(4);
  const Step& end = c.end_of_input();
  EXPECT_TRUE(end.shutdown_write);
  EXPECT_TRUE(end.close);
  EXPECT_TRUE(c.closed());
}

TEST(EchoConnection, AnErrorClosesWithoutFinAndNothingIsAcceptedAfterClose) {
  EchoConnection c(8);
  const auto data = bytes("abc");
  c.readable(data);
  const Step& failed = c.failed();
  EXPECT_TRUE(failed.close);
  EXPECT_FALSE(failed.shutdown_write);
  EXPECT_EQ(c.buffered(), 0u);
  EXPECT_THROW(c.writable(), std::logic_error);
  EXPECT_THROW(c.end_of_input(), std::logic_error);
  EXPECT_THROW(c.failed(), std::logic_error);
}

TEST(EchoConnection, EventsTheLastStepDoesNotAllowAreRefused) {
  EchoConnection c(4);
  const auto big = bytes("12345");
  EXPECT_THROW(c.readable(big), std::logic_error) << "a read over the cap";
  EXPECT_THROW(c.writable(), std::logic_error) << "writable while reading";
  EXPECT_THROW(c.would_block(), std::logic_error) << "would-block with no write";
  const auto data = bytes("1234");
  c.readable(data);
  EXPECT_THROW(c.readable(data), std::logic_error) << "a read while a write is due";
  EXPECT_THROW(c.wrote(5), std::logic_error) << "wrote more than asked";
  c.wrote(1);
  c.would_block();
  EXPECT_THROW(c.end_of_input(), std::logic_error) << "end of input while bytes are owed";
}

TEST(FuzzReplay, TheSeedCorpusKeepsEveryInvariant) {
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(ECHO_LAB_FUZZ_CORPUS)) {
    std::ifstream file(entry.path(), std::ios::binary);
    const std::vector<char> input((std::istreambuf_iterator<char>(file)),
                                  std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().string());
    EXPECT_EQ(
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size()),
        0);
    ++files;
  }
  EXPECT_GE(files, 3u) << "the seed corpus is missing";
}

TEST(FuzzReplay, TwoThousandSeededRandomScriptsKeepEveryInvariant) {
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    const std::string input = seeded_bytes(seed, 64 + seed % 2048);
    EXPECT_EQ(
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size()),
        0);
  }
}

}  // namespace
}  // namespace echolab::testing
