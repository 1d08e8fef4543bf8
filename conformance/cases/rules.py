"""The sentences the cases check, each with where it is written."""

from conformance.cases.case import Rule

CONTRACT = "conformance/CONTRACT.md"
ROBUSTNESS = "conformance/MANIFESTS.md, Robustness cases"

# RFC 862 and the protocol
ECHO = Rule("Once a connection is established any data received is sent back.", "RFC 862")
CONTINUES = Rule("This continues until the calling user terminates the connection.", "RFC 862")
OCTETS = Rule("Every octet comes back unchanged and in order: any byte value, no framing, no banner, "
              "no trimming, no added newline.", f"{CONTRACT}, The protocol")
AT_ONCE = Rule("What arrives is echoed as it arrives. A server does not wait for a newline, for more bytes, "
               "or for the client's half-close before it sends back what it has.", f"{CONTRACT}, The protocol")
ANY_SPLIT = Rule("A stream has no message boundaries: bytes may arrive one at a time or in pieces of any size, "
                 "and each comes back whatever the pieces.", f"{CONTRACT}, The protocol")
EVERY_BYTE = Rule("A send may take fewer bytes than it was given (or be interrupted before it takes any); a "
                  "server loops until all of them are written.", f"{CONTRACT}, The protocol")
HALF_CLOSE = Rule("Half-close: when the client shuts down its sending side, the server sends everything "
                  "it still owes, then closes (FIN, never RST, never a lost tail).", f"{CONTRACT}, The protocol")
SESSION_END = Rule("A client that resets the connection or vanishes ends its own session only; the server "
                   "goes on serving the others and the next.", f"{CONTRACT}, The protocol")
BYE = Rule("A server may end the session when a line equal to BYE arrives, after echoing it.",
           f"{CONTRACT}, The protocol (capability bye)")

# servers
READY = Rule("When ready to accept, print exactly one line to stdout and flush it: "
             "listening on <address>.", f"{CONTRACT}, Servers")
STDOUT = Rule("Stdout carries nothing else; diagnostics go to stderr.", f"{CONTRACT}, Servers")
STOP = Rule("SIGTERM or SIGINT: stop accepting and exit 0.", f"{CONTRACT}, Servers (capability graceful_stop)")
DUAL_STACK = Rule("Defaults: host :: (dual stack, IPV6_V6ONLY set to 0); IPv4 clients arrive as "
                  "::ffff:a.b.c.d.", f"{CONTRACT}, Servers")
CONCURRENT = Rule("Serve clients at the same time: a client that is slow, silent or stuck never keeps "
                  "another waiting; at least 5 at once.", f"{CONTRACT}, Servers (capability concurrent)")

# clients
LINE_MODE = Rule("Every other line L is sent as L followed by \\n. The client then reads until all "
                 "len(L) + 1 bytes of the echo are back and prints Echoed: 'E' and \\n.",
                 f"{CONTRACT}, Clients")
BYTES_NOT_TEXT = Rule("Lines are bytes, not text: any byte but \\n may appear in a line, invalid UTF-8 and "
                      "NUL included, and is sent and printed unchanged.", f"{CONTRACT}, Clients")
ONE_READ = Rule("One read may return part of a line or more than one; never assume one read is one line.",
                f"{CONTRACT}, Clients")
LAST_LINE = Rule("A last line with no \\n before end of input is still a line.", f"{CONTRACT}, Clients")
CLIENT_BYE = Rule("A line equal to BYE (or BYE\\r) ends the session: the client closes the connection "
                  "without sending it and exits 0.", f"{CONTRACT}, Clients")
END_OF_INPUT = Rule("End of stdin without BYE: close and exit 0.", f"{CONTRACT}, Clients")
HOSTS = Rule("HOST may be a name, an IPv4 literal or an IPv6 literal such as ::1.", f"{CONTRACT}, Clients")
REFUSED = Rule("Cannot resolve or connect: one line on stderr naming the address and the reason, exit 1.",
               f"{CONTRACT}, Clients, Errors")
LOST = Rule("Connection lost mid-session (the server closed or reset before the whole echo came back): "
            "one line on stderr, exit 1.", f"{CONTRACT}, Clients, Errors")
BAD_ARGUMENTS = Rule("Bad arguments: a usage text on stderr, exit 2.", f"{CONTRACT}, Clients, Errors")
RAW = Rule("Raw mode: copy stdin to the socket and the socket to stdout at the same time; at the end of "
           "stdin shut down the sending side; exit 0 when the server has closed.",
           f"{CONTRACT}, Clients (capability raw)")

# pairs
PAIRS = Rule("Any client can talk to any server: the same line script gives the same transcript "
             "whichever language wrote either end.", "README.md; conformance/CONTRACT.md")
