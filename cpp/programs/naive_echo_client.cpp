// naive_echo_client's main(): HOST [PORT], taken as they come (they are not the lesson; a missing
// host is not noticed). The client is cpp/clients/naive_echo_client.cpp.
int naive_echo_client(const char* host, const char* port);  // cpp/clients/naive_echo_client.cpp

int main(int argc, char** argv) {
  return naive_echo_client(argv[1], argc > 2 ? argv[2] : "2000");
}
