# Deliberately naive: the echo client as the Julia manual's networking chapter first shows one,
# with no try/catch. Right for short lines to a healthy server.
# Flaws, each marked NAIVE where it stands:
# - a refused connection or an unknown host is an uncaught exception: a stack trace, exit 1;
# - connect(host, port) asks getaddrinfo for IPv4 before Julia 1.6, so ::1 is a DNSError there;
# - a server that has closed reads as an empty echo, printed as one;
# - readline takes "\r\n" off as a line end: a line ending in CR loses it.
# EchoClient.jl is the careful version.
using Sockets

function main()
    host = ARGS[1]
    port = length(ARGS) > 1 ? parse(Int, ARGS[2]) : 2000
    # NAIVE: nothing catches the IOError of a refused connection or the DNSError of an unknown
    # host: a stack trace, exit 1. Before Julia 1.6 this looks the host up as IPv4 only.
    sock = connect(host, port)
    # NAIVE: readline takes "\r\n" off as well as "\n", so a line ending in CR loses it.
    for line in eachline(stdin)
        line == "BYE" && break
        write(sock, line * "\n")
        # NAIVE: readline gives "" once the server has closed, printed as an empty echo.
        echo = readline(sock)
        println("Echoed: '", echo, "'")
    end
    close(sock)
end

main()
