"""(none): a careful line client, as a good student writes one."""
import socket
import sys


def main():
    if len(sys.argv) not in (2, 3) or not (len(sys.argv) == 2 or sys.argv[2].isdigit()) or not sys.argv[1]:
        print("usage: careful_client.py HOST [PORT]", file=sys.stderr)
        return 2
    host, port = sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 2000
    if port > 65535:
        print("usage: careful_client.py HOST [PORT]: the port is 0..65535", file=sys.stderr)
        return 2
    try:
        conn = socket.create_connection((host, port))
    except OSError as e:
        print(f"cannot connect to {host}:{port}: {e.strerror or e}", file=sys.stderr)
        return 1
    with conn:
        for line in sys.stdin.buffer:
            line = line.rstrip(b"\n")
            if line in (b"BYE", b"BYE\r"):
                break
            conn.sendall(line + b"\n")
            echo = b""
            while len(echo) < len(line) + 1:
                try:
                    data = conn.recv(65536)
                except OSError as e:
                    data = b""
                    print(f"lost the connection to {host}:{port}: {e}", file=sys.stderr)
                if not data:
                    print(f"lost the connection to {host}:{port}", file=sys.stderr)
                    return 1
                echo += data
            sys.stdout.buffer.write(b"Echoed: '" + echo[:-1] + b"'\n")
            sys.stdout.flush()
    return 0


sys.exit(main())
