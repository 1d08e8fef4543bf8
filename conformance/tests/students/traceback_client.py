"""wrong-exit-status: a line client that never checks its arguments: a bad port is a traceback."""
import socket
import sys

host = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
try:
    conn = socket.create_connection((host, port))
except OSError as e:
    print(f"cannot connect to {host}:{port}: {e.strerror or e}", file=sys.stderr)
    sys.exit(1)
for line in sys.stdin.buffer:
    line = line.rstrip(b"\n")
    if line in (b"BYE", b"BYE\r"):
        break
    conn.sendall(line + b"\n")
    echo = b""
    while len(echo) < len(line) + 1:
        data = conn.recv(65536)
        if not data:
            print(f"lost the connection to {host}:{port}", file=sys.stderr)
            sys.exit(1)
        echo += data
    sys.stdout.buffer.write(b"Echoed: '" + echo[:-1] + b"'\n")
    sys.stdout.flush()
conn.close()
