"""(none, as written): the chapter's way: no arguments, port 2000, nothing printed, one client
at a time, every byte echoed, SIGTERM not handled."""
import socket

server = socket.create_server(("::", 2000), family=socket.AF_INET6, dualstack_ipv6=True)
while True:
    conn, _ = server.accept()
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data)
