// Command echo_client sends lines to an echo server and prints each echo;
// with --raw it streams stdin to the server and the echo to stdout.
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

const usageText = `usage: echo_client [--raw] HOST [PORT]
  --raw  copy stdin to the server and the echo to stdout, as bytes
  HOST   a name, an IPv4 address or an IPv6 address such as ::1
  PORT   TCP port (default 2000)
`

func main() {
	raw := flag.Bool("raw", false, "")
	flag.Usage = func() { fmt.Fprint(os.Stderr, usageText) }
	flag.Parse() // on a bad flag: message and usage on stderr, exit 2
	args := flag.Args()
	if len(args) < 1 || len(args) > 2 || args[0] == "" {
		flag.Usage()
		os.Exit(2)
	}
	port := "2000"
	if len(args) == 2 {
		n, err := strconv.ParseUint(args[1], 10, 16)
		if err != nil {
			fmt.Fprintf(os.Stderr, "echo_client: not a port number in 0..65535: %q\n", args[1])
			flag.Usage()
			os.Exit(2)
		}
		port = strconv.FormatUint(n, 10)
	}

	// JoinHostPort puts an IPv6 literal in brackets: [::1]:2000.
	// guide:errors-refused begin
	// guide:errors-unknown-host begin
	addr := net.JoinHostPort(args[0], port)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		fail("cannot connect to %s: %s", addr, reason(err))
	}
	// guide:errors-refused end
	// guide:errors-unknown-host end
	defer conn.Close()

	if *raw {
		err = copyRaw(conn.(*net.TCPConn))
	} else {
		err = echoLines(conn)
	}
	if err != nil {
		fail("connection to %s: %s", addr, reason(err))
	}
}

// echoLines is the chapter's loop: send a line, wait for all of its echo,
// print it. Lines are bytes: nothing is decoded, so nothing can change.
func echoLines(conn net.Conn) error {
	prompt := stdinIsTerminal()
	in := bufio.NewReader(os.Stdin)
	for {
		if prompt {
			fmt.Print("Enter line:")
		}
		line, err := in.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("reading stdin: %v", err)
		}
		if len(line) == 0 {
			return nil // end of input
		}
		text := bytes.TrimSuffix(line, []byte("\n"))
		if string(text) == "BYE" || string(text) == "BYE\r" {
			return nil
		}
		// The last line of input may have no '\n'; the server still gets one.
		msg := append(text, '\n')
		// guide:errors-reset begin
		if _, err := conn.Write(msg); err != nil {
			return err
		}
		// guide:errors-host-vanishes begin
		// TCP has no message boundaries: one Read may return part of the
		// echo, so keep reading until every byte we sent is back.
		echo := make([]byte, len(msg))
		// guide:errors-peer-closes begin
		if _, err := io.ReadFull(conn, echo); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return errors.New("server closed the connection before the whole echo came back")
			}
			return err
		}
		// guide:errors-peer-closes end
		// guide:errors-host-vanishes end
		// guide:errors-reset end
		fmt.Printf("Echoed: '%s'\n", echo[:len(echo)-1])
	}
}

// copyRaw streams both ways at once. The echo is read here, so the client
// exits as soon as the server closes, even while stdin is still open.
func copyRaw(conn *net.TCPConn) error {
	go func() {
		// Sending stops at the end of stdin, or when the connection
		// breaks (which the reader below then reports).
		if _, err := io.Copy(conn, os.Stdin); err != nil {
			fmt.Fprintf(os.Stderr, "echo_client: sending stopped: %s\n", reason(err))
		}
		// Half-close: the server sees our FIN, finishes the echo, then closes.
		conn.CloseWrite()
	}()
	_, err := io.Copy(os.Stdout, conn)
	return err
}

// stdinIsTerminal tells whether a person is typing, so the prompt would
// help rather than pollute piped output. A terminal is a character
// device; so is /dev/null, which is not one.
func stdinIsTerminal() bool {
	info, err := os.Stdin.Stat()
	if err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(info, null)
}

// reason keeps the system's words ("connection refused") and drops the
// operation and addresses Go puts in front of them.
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

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "echo_client: "+format+"\n", args...)
	os.Exit(1)
}
