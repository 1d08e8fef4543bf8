// Stage line-client: the chapter's client, fixed. Read stdin line by line,
// send each line with its newline, wait for the whole echo (however the
// stream splits it), print Echoed: 'L'. A line BYE (or BYE\r) ends the
// session unsent; end of input closes and exits 0; failing to connect or
// losing the connection: one line on stderr, exit 1.
//
// Check it: python3 -m conformance check line-client lab-guides/starters/line-client/go
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
)

// talk is the line-mode session. An error it returns means the connection
// was lost. Lines are bytes, not text: []byte, never string conversions that
// could change them.
func talk(conn net.Conn) error {
	// TODO(line-client): in := bufio.NewReader(os.Stdin) (import "bufio"),
	// then loop: line, err := in.ReadBytes('\n') keeps the '\n'; the last
	// line may lack it (err is io.EOF then, with len(line) > 0), and
	// len(line) == 0 with io.EOF is the end of input: return nil.
	// - A line "BYE" or "BYE\r" (without its '\n') ends the session: return nil.
	// - Otherwise conn.Write the line and its '\n', then read the echo back:
	//   it is len(line)+1 bytes, and one Read may return only part of it, so
	//   io.ReadFull(conn, echo) (import "io") with echo := make([]byte, ...).
	//   ReadFull's io.EOF or io.ErrUnexpectedEOF: the server closed first.
	// - Print "Echoed: '" + the echo without its '\n' + "'\n" to os.Stdout.
	//   If stdin is a terminal, print the prompt "Enter line:" before each
	//   line: st, _ := os.Stdin.Stat(); st.Mode()&os.ModeCharDevice != 0.
	return nil
}

// --- the launch contract: arguments, connecting, errors (already done) ---

const usage = `usage: echo_client HOST [PORT]
  HOST  server name, IPv4 or IPv6 address
  PORT  server port (default 2000)
example: echo_client ::1 2000
`

func main() {
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
	if err := talk(conn); err != nil {
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
