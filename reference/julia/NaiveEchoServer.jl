# Deliberately naive: the echo server as the Julia manual's networking chapter first shows it, a
# task per connection and no try/catch. Right for a healthy client.
# Flaws, each marked NAIVE where it stands:
# - a failure to listen (port in use, bad host) is an uncaught exception: a stack trace, exit 1;
# - a failed accept (out of descriptors) is uncaught too, and ends the whole server;
# - an error in a session's task is lost: nobody waits for the task, so nothing is printed;
# - no signal handling: SIGTERM kills it.
# EchoServer.jl is the careful version.
using Sockets

function main()
    host, port = "::", 2000
    for i in 1:2:length(ARGS)-1
        ARGS[i] == "--host" && (host = ARGS[i+1])
        ARGS[i] == "--port" && (port = parse(Int, ARGS[i+1]))
    end
    # NAIVE: nothing catches the IOError of a port in use: a stack trace, exit 1.
    server = listen(parse(IPAddr, host), port)
    address, bound = getsockname(server)
    println(address isa IPv6 ? "listening on [$address]:$bound" : "listening on $address:$bound")
    flush(stdout)
    # NAIVE: no signal handling: SIGTERM kills the process.
    while true
        # NAIVE: accept failing (out of descriptors) throws out of main and ends the server.
        sock = accept(server)
        # NAIVE: nothing waits for this task, so an exception in it (a reset, a vanished client)
        # ends the session without a word.
        @async begin
            while !eof(sock)
                write(sock, readavailable(sock))
            end
            close(sock)
        end
    end
end

main()
