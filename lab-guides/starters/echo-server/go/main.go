// Stage echo-server: echo one client at a time. Accept a connection, send
// back every byte it sends, as soon as it arrives, until it closes; then
// serve the next.
//
// Check it: python3 -m conformance check echo-server lab-guides/starters/echo-server/go
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

// echo serves one client until it closes. An error it returns ends the
// whole server, for now.
func echo(conn net.Conn) error {
	defer conn.Close() // our FIN, once the function returns
	// TODO(echo-server): loop: n, err := conn.Read(buf) fills buf (make it
	// 64 KiB, once, before the loop) with whatever has arrived, part of a
	// line or several, and n says how much. Send buf[:n] straight back with
	// conn.Write, then look at err: io.EOF (import "io") means the client
	// has closed: return nil. Return any other error, from Read or Write.
	return nil
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
