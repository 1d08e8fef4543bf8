// echo_client: the blocking client passes every client case. It notices a server that has gone
// only when it next reads the socket, so the responsive cases are not its own.
#include "client_cases.hpp"

namespace echolab::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Blocking, EchoClientCases, ::testing::Values(&run_blocking_client));

}  // namespace

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ResponsiveClientCases);

}  // namespace echolab::testing
