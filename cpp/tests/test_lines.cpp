// Line mode: splitting bytes into lines and the transcript's format.
#include <gtest/gtest.h>
#include <unistd.h>

#include "echolab/lines.hpp"
#include "echolab/socket.hpp"

namespace echolab {
namespace {

std::span<const std::byte> bytes(std::string_view text) {
  return std::as_bytes(std::span(text));
}

TEST(LineSplitter, LinesMayArriveInAnyPieces) {
  LineSplitter splitter;
  splitter.append(bytes("ab"));
  EXPECT_FALSE(splitter.next_line());
  splitter.append(bytes("c\nd\n\ne"));
  EXPECT_EQ(splitter.next_line(), "abc");
  EXPECT_EQ(splitter.next_line(), "d");
  EXPECT_EQ(splitter.next_line(), "");
  EXPECT_FALSE(splitter.next_line());
  EXPECT_EQ(splitter.rest(), "e");
  EXPECT_FALSE(splitter.rest());
}

TEST(LineSplitter, KeepsEveryByteButTheNewline) {
  LineSplitter splitter;
  const std::string line("a\0b\r\xff", 5);
  splitter.append(bytes(line + "\n"));
  EXPECT_EQ(splitter.next_line(), line);
}

TEST(LineReader, ReadsLinesAndTheUnterminatedLastOne) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const Socket read_end(fds[0]);
  {
    const Socket write_end(fds[1]);
    write_all(write_end.fd(), std::string_view("one\ntwo\nthree"));
  }
  LineReader reader(read_end.fd());
  EXPECT_EQ(reader.next(), "one");
  EXPECT_EQ(reader.next(), "two");
  EXPECT_EQ(reader.next(), "three");
  EXPECT_FALSE(reader.next());
}

TEST(Transcript, ByeAndItsCrlfFormEndTheSession) {
  EXPECT_TRUE(is_bye("BYE"));
  EXPECT_TRUE(is_bye("BYE\r"));
  EXPECT_FALSE(is_bye("BYE "));
  EXPECT_FALSE(is_bye("bye"));
  EXPECT_FALSE(is_bye(" BYE"));
}

TEST(Transcript, EchoedLineDropsOnlyTheFinalNewline) {
  EXPECT_EQ(echoed("hello\n"), "Echoed: 'hello'\n");
  EXPECT_EQ(echoed("cr\r\n"), "Echoed: 'cr\r'\n");
  EXPECT_EQ(echoed("\n"), "Echoed: ''\n");
  EXPECT_EQ(echoed("no newline"), "Echoed: 'no newline'\n");
  EXPECT_EQ(framed("x"), "x\n");
}

}  // namespace
}  // namespace echolab
