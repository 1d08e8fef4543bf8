# event-loop-server: one thread, non-blocking sockets and a readiness loop, with bounded
# buffers and backpressure.
#
# Check your work from the lab's top folder:
#     python3 -m conformance check event-loop-server path/to/this/folder
#
# Julia's own idiom is already an event loop: its tasks take turns on one thread, and each
# waits on libuv, the readiness loop (epoll, here) under every Julia socket. So the loop is not
# yours to write; the bounded buffer and the backpressure are. Done for you: the command line,
# the listening socket, the `listening on` line, SIGTERM, and the accept loop that starts a
# task per client. Yours: `serve`. As in the earlier stages, echo-lab.json does not declare
# half_close: Julia 1.5 closes the socket itself as soon as it reads the client's FIN, so bytes
# that arrived with the FIN can no longer be echoed (Julia 1.8 keeps the socket writable).
# Runs on Julia 1.5 and later.
using Sockets

const USAGE = "usage: julia EchoServer.jl [--host HOST] [--port PORT]"
# The most a connection holds for its client: bytes read, not yet sent back.
const BUFFER_CAP = 64 * 1024

"Sends every byte the client sends straight back to it, until it closes, holding at most
about BUFFER_CAP bytes for it."
function serve(client)
    # TODO(event-loop-server): Julia reads ahead from a socket into the stream's own buffer
    # until 10 MB are waiting there, so a client that sends and never reads its echo would
    # cost that much, each. Cap it first: client.throttle = BUFFER_CAP (how much Julia reads
    # ahead; a field of every Julia stream, and the only such knob Julia 1.5 has). Then echo
    # as before: while !eof(client), write(client, readavailable(client)). The backpressure
    # comes with it: write suspends this task until libuv has handed every byte to the
    # kernel, and while it waits nobody reads, so Julia stops reading this socket and TCP
    # makes the client wait. Meanwhile the other tasks run.
end

"Serves one client; whatever goes wrong ends this session only, and the socket is closed."
function session(client)
    try
        serve(client)
    catch e
        println(stderr, "EchoServer.jl: session ended: ", sprint(showerror, e))
    finally
        close(client)
    end
end

"`[--host HOST] [--port PORT]`, defaults `::` and 2000; nothing if anything else is given."
function parse_args(args)
    host, port = "::", 2000
    isodd(length(args)) && return nothing
    for (flag, value) in zip(args[1:2:end], args[2:2:end])
        if flag == "--host" && !isempty(value)
            host = value
        # Digits only: parse(Int, ...) alone would also take "+80" and blanks around it.
        elseif flag == "--port" && occursin(r"^[0-9]{1,5}$", value) && parse(Int, value) <= 65535
            port = parse(Int, value)
        else
            return nothing
        end
    end
    return host, port
end

"host:port, with an IPv6 host in brackets."
hostport(host, port) = occursin(':', string(host)) ? "[$host]:$port" : "$host:$port"

"Listens, then prints the readiness line the harness waits for."
function start_listening(host, port)
    # An IP literal is taken as it is; a name is looked up.
    address = try
        parse(IPAddr, host)
    catch
        first(getalladdrinfo(host))
    end
    # On "::", libuv clears IPV6_V6ONLY, so IPv4 clients come in too (as ::ffff:a.b.c.d);
    # it sets SO_REUSEADDR as well.
    server = listen(address, port)
    bound, bound_port = getsockname(server)
    println("listening on ", hostport(bound, bound_port))
    flush(stdout)
    return server
end

# Julia answers SIGTERM and SIGINT by printing a backtrace on stderr, running the atexit
# hooks and exiting 143 or 130. Ending the process from a hook with _exit(0) makes a
# requested stop exit 0. Registered once listening: the exits before it keep their status.
exit_0_on_sigterm() = atexit(() -> ccall(:_exit, Cvoid, (Cint,), 0))

function main(args)
    options = parse_args(args)
    if options === nothing
        println(stderr, USAGE)
        exit(2)
    end
    host, port = options
    server = try
        start_listening(host, port)
    catch e
        println(stderr, "EchoServer.jl: cannot listen on ", hostport(host, port), ": ",
                sprint(showerror, e))
        exit(1)
    end
    exit_0_on_sigterm()

    # Each client in a task of its own: the loop goes straight back to accept. Tasks take
    # turns on one thread, each waiting on its own socket through libuv.
    while true
        client = try
            accept(server)
        catch e
            # The client is lost, the server is not; the pause keeps a lasting failure (no
            # file descriptors left) from spinning.
            println(stderr, "EchoServer.jl: accept: ", sprint(showerror, e))
            sleep(0.1)
            continue
        end
        @async session(client)
    end
end

main(ARGS)
