// Stage event-loop-server: one thread, non-blocking sockets and a readiness
// loop, with bounded buffers and backpressure.
//
// Check it: python3 -m conformance check event-loop-server lab-guides/starters/event-loop-server/go
//
// Go has no readiness loop for a program to write: its runtime already runs
// one, the netpoller (epoll on Linux), under every Read and Write. A
// goroutine whose socket is not ready is parked, its thread runs others, and
// the netpoller wakes it when the socket is ready. So in Go this stage is
// goroutines over that loop, with what an event loop makes you write by hand
// written out: a bounded buffer per connection, and no reading while it is
// full. (multi-server's loop had that without saying so: Write blocks, so it
// stops reading, and its one buffer is the bound.)
//
// Here reading and writing go their own ways, as in an event loop: a reader
// goroutine hands what arrives to a writer through a channel that holds at
// most maxQueued chunks.
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

const (
	chunkSize = 16 * 1024 // the most one Read asks for
	maxQueued = 4         // chunks read and not yet written back, per connection
)

// serve echoes one client: a reader goroutine, and this one, the writer.
func serve(conn net.Conn) {
	defer conn.Close() // our FIN, once everything owed is written
	chunks := make(chan []byte, maxQueued)
	go read(conn, chunks)
	write(conn, chunks)
}

// read hands what the client sends to write, and closes chunks at the end:
// the client's half-close (io.EOF), or an error.
func read(conn net.Conn, chunks chan<- []byte) {
	defer close(chunks)
	for {
		buf := make([]byte, chunkSize) // a fresh one: the last may be queued
		n, err := conn.Read(buf)
		if n > 0 {
			// Blocks while maxQueued chunks wait: we stop reading, and the
			// client is made to wait too. That is the backpressure.
			chunks <- buf[:n]
		}
		if err != nil {
			// io.EOF is the client's half-close; net.ErrClosed, write's Close.
			if err != io.EOF && !errors.Is(err, net.ErrClosed) {
				report(conn, err)
			}
			return
		}
	}
}

// write sends back every chunk, until read closes chunks.
func write(conn net.Conn, chunks <-chan []byte) {
	for chunk := range chunks {
		if _, err := conn.Write(chunk); err != nil {
			report(conn, err)
			conn.Close() // read's Read now fails, and read returns...
			for range chunks {
				// ...and is never left blocked on a full channel meanwhile.
			}
			return
		}
	}
}

func report(conn net.Conn, err error) {
	fmt.Fprintf(os.Stderr, "echo_server: %s: %v\n", conn.RemoteAddr(), reason(err))
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
			// Out of file descriptors, say: this client is lost, the server
			// is not. Pause, so as not to spin on the same error.
			fmt.Fprintf(os.Stderr, "echo_server: accept: %v\n", reason(err))
			time.Sleep(100 * time.Millisecond)
			continue
		}
		go serve(conn)
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
