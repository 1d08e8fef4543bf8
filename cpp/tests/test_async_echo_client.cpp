// async_echo_client: every client case, and what multiplexing with poll adds: a server that goes
// away is noticed at once, even while the client waits for input or for room to send.
#include "client_cases.hpp"

namespace echolab::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Async, EchoClientCases, ::testing::Values(&run_async_client));
INSTANTIATE_TEST_SUITE_P(Async, ResponsiveClientCases, ::testing::Values(&run_async_client));

}  // namespace
}  // namespace echolab::testing
