# Echo server on the Sockets standard library (Julia 1.8 or later): a task per connection,
# bytes echoed unchanged, and after the client's half-close the rest of the echo, then FIN.
using Sockets

const PROGRAM = "EchoServer.jl"
const USAGE = "usage: julia EchoServer.jl [--host HOST] [--port PORT]"

function usage_error()
    println(stderr, USAGE)
    exit(2)
end

function parse_options(args)
    host, port = "::", 2000
    for i in 1:2:length(args)
        flag = args[i]
        (flag in ("--host", "--port") && i < length(args)) || usage_error()
        value = args[i + 1]
        if flag == "--host"
            host = value
        else
            # Digits only: parse(Int, ...) alone would also take "+80" and surrounding blanks.
            occursin(r"^[0-9]{1,5}$", value) || usage_error()
            port = parse(Int, value)
            port <= 65535 || usage_error()
        end
    end
    isempty(host) && usage_error()
    return host, port
end

# host:port with brackets around an IPv6 host; Julia prints IPv6 addresses in their short form.
hostport(host, port) = occursin(':', string(host)) ? "[$host]:$port" : "$host:$port"

# An IP literal, IPv6 included, is taken as it is; anything else is looked up.
function resolve(host)
    literal = try
        parse(IPAddr, host)
    catch
        nothing
    end
    return literal === nothing ? getalladdrinfo(host) : [literal]
end

# guide:echo begin
function echo(client)
    try
        # eof waits for data; readavailable then takes whatever has arrived, a line or not.
        while !eof(client)
            write(client, readavailable(client))
        end
        # The client has half-closed and has every byte back: send our FIN too.
        closewrite(client)
    catch e
        e isa Base.IOError || rethrow()
        println(stderr, PROGRAM, ": session ended: ", sprint(showerror, e))
    finally
        close(client)
    end
end
# guide:echo end

function main(args)
    host, port = parse_options(args)
    # listen does not set IPV6_V6ONLY, so on Linux "::" is dual stack: IPv4 clients come in too.
    server = try
        listen(first(resolve(host)), port)
    catch e
        println(stderr, PROGRAM, ": cannot listen on ", hostport(host, port), ": ", sprint(showerror, e))
        exit(1)
    end
    address, bound = getsockname(server)
    println("listening on ", hostport(address, bound))
    flush(stdout)
    # guide:accept-loop begin
    while true
        try
            client = accept(server)
            errormonitor(@async echo(client))
        catch e
            e isa Base.IOError || rethrow()
            # Say, out of file descriptors: this connection is lost, the server goes on.
            println(stderr, PROGRAM, ": accept failed: ", sprint(showerror, e))
        end
    end
    # guide:accept-loop end
end

main(ARGS)
