# The chapter's echo client on the Sockets standard library (Julia 1.8 or later), byte exact:
# a line is the bytes before "\n", sent with its "\n", and the whole echo is read back
# before it is printed.
using Sockets

const PROGRAM = "EchoClient.jl"
const USAGE = "usage: julia EchoClient.jl HOST [PORT]"

function usage_error()
    println(stderr, USAGE)
    exit(2)
end

function parse_options(args)
    (1 <= length(args) <= 2 && !isempty(args[1]) && !startswith(args[1], "-")) || usage_error()
    length(args) == 1 && return args[1], 2000
    # Digits only: parse(Int, ...) alone would also take "+80" and surrounding blanks.
    (occursin(r"^[0-9]{1,5}$", args[2]) && parse(Int, args[2]) <= 65535) || usage_error()
    return args[1], parse(Int, args[2])
end

hostport(host, port) = occursin(':', host) ? "[$host]:$port" : "$host:$port"

# connect(host, port) would ask getaddrinfo, which in the chapter's Julia wanted IPv4 only and
# so refused "::1". An IP literal is parsed here instead, and a name may have several addresses.
function resolve(host)
    literal = try
        parse(IPAddr, host)
    catch
        nothing
    end
    return literal === nothing ? getalladdrinfo(host) : [literal]
end

function connect_any(host, port)
    failure = nothing
    try
        for address in resolve(host)
            try
                return connect(address, port)
            catch e
                failure = e  # refused or unreachable: try the next address
            end
        end
    catch e
        failure = e  # the name did not resolve
    end
    println(stderr, PROGRAM, ": cannot connect to ", hostport(host, port), ": ", sprint(showerror, failure))
    exit(1)
end

function lost(host, port, reason)
    println(stderr, PROGRAM, ": connection to ", hostport(host, port), " lost: ", reason)
    exit(1)
end

function main(args)
    host, port = parse_options(args)
    server = connect_any(host, port)
    interactive = stdin isa Base.TTY
    while true
        if interactive
            print("Enter line:")
            flush(stdout)
        end
        eof(stdin) && break
        # Bytes up to "\n", without it; the last line may have none. Nothing is decoded or
        # stripped, so "\r", NUL and invalid UTF-8 pass through.
        line = readuntil(stdin, UInt8('\n'))
        (line == b"BYE" || line == b"BYE\r") && break
        push!(line, UInt8('\n'))
        echo = try
            write(server, line)
            # Blocks until all length(line) bytes are back, or the server has closed.
            read(server, length(line))
        catch e
            e isa Base.IOError || rethrow()
            lost(host, port, sprint(showerror, e))
        end
        length(echo) == length(line) || lost(host, port, "the server closed the connection mid-echo")
        write(stdout, "Echoed: '", echo[1:end-1], "'\n")
    end
    close(server)
end

main(ARGS)
