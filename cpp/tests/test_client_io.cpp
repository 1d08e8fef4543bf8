// What every client says and does with the server's echo: the one place its lost-connection
// messages are worded, and reading an echo back however the stream splits it.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>

#include "echolab/client_io.hpp"
#include "echolab/socket.hpp"

namespace echolab {
namespace {

TEST(ClosedByServer, SaysHowMuchOfTheEchoCameBack) {
  EXPECT_STREQ(closed_by_server().what(), "connection closed by the server");
  EXPECT_STREQ(closed_by_server(3, 12).what(),
               "connection closed by the server after 3 of 12 bytes of the echo");
  EXPECT_STREQ(closed_by_server(0, 2).what(),
               "connection closed by the server after 0 of 2 bytes of the echo");
  EXPECT_STREQ(closed_before_end_of_input().what(),
               "connection closed by the server before the end of the input");
}

TEST(ReadExactly, ReadsAcrossManySmallWritesAndReportsAnEarlyEnd) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  Socket writer(pair[0]);
  const Socket reader(pair[1]);
  for (const char c : std::string("abcdef")) write_all(writer.fd(), std::string_view(&c, 1));
  EXPECT_EQ(read_exactly(reader.fd(), 4), "abcd");
  writer.close();
  try {
    read_exactly(reader.fd(), 3);
    ADD_FAILURE() << "read 3 bytes of a stream that had 2 left";
  } catch (const ConnectionLost& e) {
    EXPECT_STREQ(e.what(), "connection closed by the server after 2 of 3 bytes of the echo");
  }
}

}  // namespace
}  // namespace echolab
