// Command naive_echo_server is deliberately naive: the echo server as Go's
// net package overview first shows it, with every error dropped with _
// (where the overview writes "// handle error"). Right for a healthy client.
// Flaws, each marked NAIVE where it stands:
//   - a failure to listen is dropped: the nil listener panics (exit 2);
//   - a failed Accept (out of descriptors) is dropped: the nil connection
//     panics in its goroutine and takes the whole server down;
//   - io.Copy's error is dropped: a session's reset goes unreported;
//   - no signal handling: SIGTERM kills it.
//
// echo_server is the careful version.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
)

func main() {
	host := flag.String("host", "::", "address to listen on")
	port := flag.String("port", "2000", "TCP port")
	flag.Parse()

	// NAIVE: the error is dropped. A port in use leaves ln nil, and the
	// first method called on it panics with a nil pointer dereference.
	ln, _ := net.Listen("tcp", net.JoinHostPort(*host, *port))
	fmt.Println("listening on", ln.Addr())
	// NAIVE: no signal handling: SIGTERM kills the process.
	for {
		// NAIVE: the error is dropped. Out of descriptors, conn is nil and
		// io.Copy panics in the goroutine, which ends the whole program.
		conn, _ := ln.Accept()
		go func(c net.Conn) {
			// NAIVE: io.Copy's error (a reset, a vanished client) is dropped:
			// the session just ends, and nothing says why.
			io.Copy(c, c)
			c.Close()
		}(conn)
	}
}
