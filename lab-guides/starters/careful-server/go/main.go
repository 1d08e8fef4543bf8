// Stage careful-server: every byte, whatever the network does. Loop on short
// writes, finish the echo after the client's half-close and then close (FIN,
// never RST), survive a client's reset, serve IPv4 and IPv6 clients on ::.
//
// Check it: python3 -m conformance check careful-server lab-guides/starters/careful-server/go
//
// Go does much of this for you. conn.Write returns only once every byte is
// written, or with an error saying why not: the loop over short writes is
// inside Go's net package. The half-close is io.EOF from Read, and it comes
// only after the client's last byte, whose echo Write has sent by then, so
// the Close that follows sends FIN. The launch code below already listens
// dual-stack and exits 0 on SIGTERM. What is left is the errors.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

// echo serves one client until it closes, or until an error, which it
// returns.
func echo(conn net.Conn) error {
	defer conn.Close() // our FIN, once the function returns
	buf := make([]byte, 64*1024)
	for {
		// Read returns whatever has arrived, not a line.
		n, err := conn.Read(buf)
		if n > 0 {
			if _, err := conn.Write(buf[:n]); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil // the client has closed
		}
		if err != nil {
			return err
		}
	}
}

// --- the launch contract: arguments, listening, readiness line, signals (already done) ---

const usage = `usage: echo_server [--host HOST] [--port PORT]
  --host HOST  address to listen on (default ::, which takes IPv4 too)
  --port PORT  port, 0 for any free one (default 2000)
example: echo_server --port 2000
`

func main() {
	host := flag.String("host", "::", "")
	port := 2000
	flag.Func("port", "", func(s string) error {
		n, err := strconv.ParseUint(s, 10, 16) // base 10, 0..65535, no sign
		if err != nil {
			return errors.New("not a port number")
		}
		port = int(n)
		return nil
	})
	flag.Usage = func() { fmt.Fprint(os.Stderr, usage) }
	flag.Parse() // a bad flag: the message and the usage on stderr, exit 2
	if *host == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}

	// Listening on "::" opens one IPv6 socket with IPV6_V6ONLY off, so IPv4
	// clients arrive too, as ::ffff:a.b.c.d. Go sets SO_REUSEADDR itself.
	address := net.JoinHostPort(*host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", address)
	if err != nil {
		fmt.Fprintf(os.Stderr, "echo_server: cannot listen on %s: %v\n", address, reason(err))
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-stop
		os.Exit(0)
	}()
	fmt.Printf("listening on %s\n", ln.Addr()) // os.Stdout is not buffered

	// TODO(careful-server): one client's error must not end the server. A
	// client that resets makes Read or Write fail with "connection reset by
	// peer" or "broken pipe": print the line as below, then go on to the next
	// client instead of os.Exit(1). The same for a failed Accept (out of file
	// descriptors, say), after time.Sleep(100 * time.Millisecond) (import
	// "time"), so as not to spin on the same error.
	for {
		conn, err := ln.Accept()
		if err != nil {
			fmt.Fprintf(os.Stderr, "echo_server: accept: %v\n", reason(err))
			os.Exit(1)
		}
		if err := echo(conn); err != nil {
			fmt.Fprintf(os.Stderr, "echo_server: %s: %v\n", conn.RemoteAddr(), reason(err))
			os.Exit(1)
		}
	}
}

// reason keeps the system's words ("bind: address already in use") and
// drops the addresses Go puts in front of them.
func reason(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err
	}
	return err
}
