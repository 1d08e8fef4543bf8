// Command echo_server is the lab's Go echo server: one goroutine per
// connection, every byte sent straight back until the client is done.
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
	"time"
)

const usageText = `usage: echo_server [--host HOST] [--port PORT]
  --host HOST  address to listen on (default ::, IPv6 and IPv4 at once)
  --port PORT  TCP port, 0 for any free one (default 2000)
`

func main() {
	host := flag.String("host", "::", "")
	port := 2000
	flag.Func("port", "", func(s string) error {
		// ParseUint in base 10 refuses signs, hex and anything past 65535.
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil {
			return errors.New("not a port number in 0..65535")
		}
		port = int(n)
		return nil
	})
	flag.Usage = func() { fmt.Fprint(os.Stderr, usageText) }
	flag.Parse() // on a bad flag: message and usage on stderr, exit 2
	if *host == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}

	// For "tcp" and the wildcard "::", Go opens one IPv6 socket with
	// IPV6_V6ONLY off: it is dual stack by default, and IPv4 clients
	// show up as ::ffff:a.b.c.d.
	// guide:errors-port-in-use begin
	addr := net.JoinHostPort(*host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "echo_server: cannot listen on %s: %s\n", addr, reason(err))
		os.Exit(1)
	}
	// guide:errors-port-in-use end

	// Closing the listener is how a signal stops the accept loop below.
	// Registered before the readiness line, so no early signal is missed.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-stop
		ln.Close()
	}()

	fmt.Printf("listening on %s\n", ln.Addr()) // os.Stdout is unbuffered

	// guide:accept-loop begin
	for {
		conn, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return // stopped by a signal: exit 0
		}
		if err != nil {
			// Out of file descriptors, say: this client is lost, the
			// server is not. Pause so as not to spin on the same error.
			fmt.Fprintf(os.Stderr, "echo_server: accept: %v\n", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		// guide:errors-timeout begin
		go echo(conn.(*net.TCPConn))
		// guide:errors-timeout end
	}
	// guide:accept-loop end
}

// guide:echo begin

// echo serves one client. Its errors end this session only.
func echo(conn *net.TCPConn) {
	defer conn.Close()
	// io.Copy returns nil at the client's FIN (its half-close), after the
	// last byte has been written back: only then do we send our own FIN.
	// guide:errors-reset begin
	if _, err := io.Copy(conn, conn); err != nil {
		fmt.Fprintf(os.Stderr, "echo_server: %s: %v\n", conn.RemoteAddr(), reason(err))
		return
	}
	// guide:errors-reset end
	if err := conn.CloseWrite(); err != nil {
		fmt.Fprintf(os.Stderr, "echo_server: %s: %v\n", conn.RemoteAddr(), reason(err))
	}
}

// guide:echo end

// reason keeps the system's words ("address already in use") and drops
// the operation and addresses Go puts in front of them.
func reason(err error) string {
	var sys *os.SyscallError
	if errors.As(err, &sys) {
		return sys.Err.Error()
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err.Error()
	}
	return err.Error()
}
