# raw-client: `--raw`: copy stdin to the socket and the socket to stdout at the same time,
# half-close at the end of stdin, exit 0 when the server has closed.
#
# Check your work from the lab's top folder:
#     python3 -m conformance check raw-client path/to/this/folder
#
# This is the line-client stage's solution with `--raw` parsed; yours: `copy_raw`. An error
# thrown by it becomes one line on stderr and exit status 1. Runs on Julia 1.5 and later.
using Sockets

const USAGE = "usage: julia EchoClient.jl [--raw] HOST [PORT]"

"Sends each line of stdin and prints its echo, until BYE or the end of input."
function echo_lines(server)
    interactive = stdin isa Base.TTY
    while true
        if interactive
            print("Enter line:")
            flush(stdout)
        end
        eof(stdin) && return
        # The bytes before "\n", never decoded: "\r", NUL and invalid UTF-8 pass unchanged.
        line = readuntil(stdin, UInt8('\n'))
        (line == b"BYE" || line == b"BYE\r") && return
        push!(line, UInt8('\n'))
        write(server, line)
        # Waits until all of the echo is back, however it is split, or the server has closed.
        echo = read(server, length(line))
        length(echo) == length(line) ||
            error("the server closed the connection before the whole echo came back")
        write(stdout, "Echoed: '", echo[1:end-1], "'\n")
    end
end

"--raw: copies stdin to the server and the echo to stdout, both at once."
function copy_raw(server)
    # Sending runs in a task of its own, so the echo is read while we write.
    @async begin
        while !eof(stdin)
            write(server, readavailable(stdin))
        end
        half_close(server)  # the server sees our FIN, finishes the echo, then closes
    end
    while !eof(server)
        write(stdout, readavailable(server))
    end
end

"Sends our FIN while the echo still comes in. Julia 1.5 has no closewrite (it came in 1.8),
so this calls the C library's shutdown on the socket's descriptor."
half_close(sock) = ccall(:shutdown, Cint, (RawFD, Cint), Base._fd(sock), 1)  # 1: SHUT_WR

"`[--raw] HOST [PORT]`, the port 2000 by default; nothing if anything else is given."
function parse_args(args)
    raw = !isempty(args) && args[1] == "--raw"
    raw && (args = args[2:end])
    1 <= length(args) <= 2 || return nothing
    host = args[1]
    (isempty(host) || startswith(host, "-")) && return nothing
    length(args) == 1 && return raw, host, 2000
    # Digits only: parse(Int, ...) alone would also take "+80" and blanks around it.
    port = args[2]
    (occursin(r"^[0-9]{1,5}$", port) && parse(Int, port) <= 65535) || return nothing
    return raw, host, parse(Int, port)
end

"host:port, with an IPv6 host in brackets."
hostport(host, port) = occursin(':', string(host)) ? "[$host]:$port" : "$host:$port"

"Connects to an IP literal, or to the first address of a name that answers."
function connect_any(host, port)
    # connect(host, port) would look up IPv4 addresses only, and refuse "::1".
    addresses = try
        [parse(IPAddr, host)]
    catch
        getalladdrinfo(host)
    end
    failure = nothing
    for address in addresses
        try
            return connect(address, port)
        catch e
            failure = e  # refused or unreachable: try the next address
        end
    end
    throw(failure)
end

function main(args)
    options = parse_args(args)
    if options === nothing
        println(stderr, USAGE)
        exit(2)
    end
    raw, host, port = options
    server = try
        connect_any(host, port)
    catch e
        println(stderr, "EchoClient.jl: cannot connect to ", hostport(host, port), ": ",
                sprint(showerror, e))
        exit(1)
    end
    try
        raw ? copy_raw(server) : echo_lines(server)
    catch e
        println(stderr, "EchoClient.jl: ", hostport(host, port), ": ", sprint(showerror, e))
        exit(1)
    end
    close(server)
end

main(ARGS)
