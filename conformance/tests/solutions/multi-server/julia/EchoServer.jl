# multi-server: many clients at once: a task per connection.
#
# Check your work from the lab's top folder:
#     python3 -m conformance check multi-server path/to/this/folder
#
# This is the careful-server stage's solution; the TODO(multi-server) block says what to
# change. As there, this folder's echo-lab.json does not declare half_close: Julia 1.5 closes
# the socket itself as soon as it reads the client's FIN, so bytes that arrived with the FIN
# can no longer be echoed (Julia 1.8 keeps the socket writable). Runs on Julia 1.5 and later.
using Sockets

const USAGE = "usage: julia EchoServer.jl [--host HOST] [--port PORT]"

"Sends every byte the client sends straight back to it, until it closes."
function serve(client)
    # eof waits for bytes; readavailable then takes whatever has arrived, a line or not.
    while !eof(client)
        write(client, readavailable(client))
    end
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

    # Each client in a task of its own: the loop goes straight back to accept.
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
        # Tasks take turns on one thread: each waits on its own socket.
        @async session(client)
    end
end

main(ARGS)
