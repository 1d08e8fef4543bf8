// threaded_echo_client: every client case, and what the reader thread adds: a server that goes away
// is noticed at once, even while the client waits for input or for room to send.
#include "client_cases.hpp"

namespace echolab::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Threaded, EchoClientCases, ::testing::Values(&run_threaded_client));
INSTANTIATE_TEST_SUITE_P(Threaded, ResponsiveClientCases, ::testing::Values(&run_threaded_client));

}  // namespace
}  // namespace echolab::testing
