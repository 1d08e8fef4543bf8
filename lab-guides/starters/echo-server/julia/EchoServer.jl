# echo-server: echo one client at a time: accept a connection, send back every byte it sends,
# as soon as it arrives, until it closes; then serve the next.
#
# Check your work from the lab's top folder:
#     python3 -m conformance check echo-server path/to/this/folder
#
# All but `serve` is done for you: the command line, the listening socket, the `listening on`
# line and stopping on SIGTERM or Ctrl-C. Runs on Julia 1.5 and later.
using Sockets

const USAGE = "usage: julia EchoServer.jl [--host HOST] [--port PORT]"

"Sends every byte the client sends straight back to it, until it closes."
function serve(client)
    # TODO(echo-server): loop while !eof(client) (eof waits until bytes arrive or the client
    # has closed): take what has arrived with readavailable(client) and send it back with
    # write(client, bytes). Send back whatever arrived, at once: never wait for a newline.
    # (The accept loop closes the connection when serve returns.)
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

    # One client at a time: the next one is accepted when serve returns.
    try
        while true
            client = accept(server)
            serve(client)
            close(client)
        end
    catch e
        # For now any error, a client's included, ends the server.
        println(stderr, "EchoServer.jl: ", sprint(showerror, e))
        ccall(:_exit, Cvoid, (Cint,), 1)  # not exit(1): the atexit hook would make it 0
    end
end

main(ARGS)
