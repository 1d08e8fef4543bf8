// Command naive_echo_client is deliberately naive: the echo client as Go's
// net package overview first shows it, with every error dropped with _
// (where the overview writes "// handle error"). Right for short lines to a
// healthy server. Flaws, each marked NAIVE where it stands:
//   - a failed Dial (refused, unknown host) is dropped: the nil connection
//     panics at the first write (exit 2);
//   - a server that has closed reads as an empty echo, printed as one;
//   - bufio.Scanner stops at a line over 64 KiB, and its error is never
//     looked at: the rest of the input is dropped silently.
//
// echo_client is the careful version.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
)

func main() {
	flag.Parse()
	host, port := flag.Arg(0), flag.Arg(1)
	if port == "" {
		port = "2000"
	}

	// NAIVE: the error is dropped. Refused or unknown host leaves conn nil,
	// and the first Fprintf to it panics with a nil pointer dereference.
	conn, _ := net.Dial("tcp", net.JoinHostPort(host, port))
	reply := bufio.NewReader(conn)
	input := bufio.NewScanner(os.Stdin)
	// NAIVE: Scan returns false on a line over 64 KiB as at the end of input,
	// and input.Err() is never checked: the rest is dropped without a word.
	for input.Scan() {
		line := input.Text()
		if line == "BYE" {
			break
		}
		fmt.Fprintf(conn, "%s\n", line)
		// NAIVE: the error is dropped. A server that has closed gives "" and
		// io.EOF, printed as an empty echo; the loop goes on.
		echo, _ := reply.ReadString('\n')
		fmt.Printf("Echoed: '%s'\n", strings.TrimSuffix(echo, "\n"))
	}
	conn.Close()
}
