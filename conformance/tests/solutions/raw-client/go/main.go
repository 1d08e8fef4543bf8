// Stage raw-client: --raw copies stdin to the socket and the socket to
// stdout at the same time, half-closes at the end of stdin, and exits 0 when
// the server has closed. Without --raw, the line mode of line-client.
//
// Check it: python3 -m conformance check raw-client lab-guides/starters/raw-client/go
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
)

// copyBoth is --raw: bytes both ways at once, no lines. An error it returns
// means the connection was lost.
func copyBoth(conn *net.TCPConn) error {
	go func() {
		// An error here ends the copy; the reading side finds out what
		// became of the connection, and says so.
		io.Copy(conn, os.Stdin)
		conn.CloseWrite() // the half-close: the server ends once it has echoed all
	}()
	_, err := io.Copy(os.Stdout, conn) // nil once the server has closed
	return err
}

// talk is the line-mode session. An error it returns means the connection
// was lost. Lines are bytes, not text: []byte, never string conversions that
// could change them.
func talk(conn net.Conn) error {
	in := bufio.NewReader(os.Stdin)
	st, _ := os.Stdin.Stat()
	prompt := st != nil && st.Mode()&os.ModeCharDevice != 0 // a terminal
	for {
		if prompt {
			fmt.Print("Enter line:")
		}
		line, err := in.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			return nil // end of input
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("reading stdin: %w", err)
		}
		line = bytes.TrimSuffix(line, []byte("\n")) // the last line may lack it
		if string(line) == "BYE" || string(line) == "BYE\r" {
			return nil
		}
		if _, err := conn.Write(append(line, '\n')); err != nil {
			return err
		}
		// One Read may return part of the echo: ReadFull loops until it has all.
		echo := make([]byte, len(line)+1)
		if _, err := io.ReadFull(conn, echo); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return errors.New("the server closed before the whole echo came back")
			}
			return err
		}
		fmt.Printf("Echoed: '%s'\n", echo[:len(line)])
	}
}

// --- the launch contract: arguments, connecting, errors (already done) ---

const usage = `usage: echo_client [--raw] HOST [PORT]
  --raw  copy bytes both ways, no lines
  HOST   server name, IPv4 or IPv6 address
  PORT   server port (default 2000)
example: echo_client --raw ::1 2000 < file
`

func main() {
	raw := flag.Bool("raw", false, "")
	flag.Usage = func() { fmt.Fprint(os.Stderr, usage) }
	flag.Parse() // a bad flag: the message and the usage on stderr, exit 2
	args := flag.Args()
	if len(args) < 1 || len(args) > 2 || args[0] == "" {
		flag.Usage()
		os.Exit(2)
	}
	host, port := args[0], "2000"
	if len(args) == 2 {
		port = args[1]
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil { // base 10, 0..65535
		fmt.Fprintf(os.Stderr, "echo_client: not a port number: %q\n", port)
		flag.Usage()
		os.Exit(2)
	}

	// Dial tries every address the name has, IPv6 and IPv4, until one connects.
	server := net.JoinHostPort(host, port)
	conn, err := net.Dial("tcp", server)
	if err != nil {
		fmt.Fprintf(os.Stderr, "echo_client: cannot connect to %s: %v\n", server, reason(err))
		os.Exit(1)
	}
	defer conn.Close()
	if *raw {
		err = copyBoth(conn.(*net.TCPConn))
	} else {
		err = talk(conn)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "echo_client: connection to %s lost: %v\n", server, reason(err))
		os.Exit(1)
	}
}

// reason keeps the system's words ("connect: connection refused") and drops
// the addresses Go puts in front of them.
func reason(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err
	}
	return err
}
