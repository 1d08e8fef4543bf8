// bad_echo_client: short lines to a healthy server work; its documented flaws are really there.
#include "clients/clients.hpp"
#include "servers/servers.hpp"
#include "support.hpp"

namespace echolab::testing {
namespace {

ClientRun run_bad(std::uint16_t port, const std::string& input) {
  return run_with_io(
      [port](const ClientIo& io) { EXPECT_EQ(run_bad_client("127.0.0.1", port, io), 0); }, input);
}

TEST(BadEchoClient, ShortLinesWork) {
  ServerThread server(serve_iterative);
  const ClientRun run = run_bad(server.port(), "hello\nworld\nBYE\nafter\n");
  EXPECT_BYTES_EQ("Echoed: 'hello'\nEchoed: 'world'\n", run.output);
}

TEST(BadEchoClient, LongLinesAndEchoesInPiecesWork) {
  ServerThread server(in_two_pieces());
  const std::string script = "abcdef\n" + std::string(100000, 'x') + "\n";
  EXPECT_BYTES_EQ(expected_transcript(script), run_bad(server.port(), script).output);
}

TEST(BadEchoClient, FlawAServerThatVanishesGoesUnnoticed) {
  ServerThread server(then_vanish());  // echoes "he\n", then closes
  const ClientRun run = run_bad(server.port(), "he\nworld\n");
  // The lost connection shows up as an empty echo (a FIN) or the vague line (a reset), never
  // with the address or the reason; run_bad checks the exit status is still 0.
  EXPECT_TRUE(run.output == "Echoed: 'he'\nEchoed: ''\n" ||
              run.output == "Echoed: 'he'\nOops, that did not work\n")
      << run.output;
}

TEST(BadEchoClient, FlawARefusedConnectionIsOneVagueLineAndSuccess) {
  std::uint16_t port = 0;
  {
    ServerThread gone(serve_iterative);
    port = gone.port();
  }
  const ClientRun run = run_bad(port, "hello\n");
  EXPECT_EQ(run.output, "Oops, that did not work\n");
}

}  // namespace
}  // namespace echolab::testing
