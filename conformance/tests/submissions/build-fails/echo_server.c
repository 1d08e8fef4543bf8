/* A submission whose build fails: the compiler's message must reach the student. */
#include <stdio.h>

int main(void) {
  puts("listening on [::]:2000")
  return 0;
}
