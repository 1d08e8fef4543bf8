# The chapter's echo client on the Sockets standard library (Julia 1.5 or later), byte exact:
# a line is the bytes before "\n", sent with its "\n", and the whole echo is read back
# before it is printed. --raw copies bytes both ways instead, with no lines.
using Sockets

const PROGRAM = "EchoClient.jl"
const USAGE = "usage: julia EchoClient.jl [--raw] HOST [PORT]"

function usage_error()
    println(stderr, USAGE)
    exit(2)
end

function parse_options(args)
    raw = !isempty(args) && args[1] == "--raw"
    args = raw ? args[2:end] : args
    (1 <= length(args) <= 2 && !isempty(args[1]) && !startswith(args[1], "-")) || usage_error()
    length(args) == 1 && return raw, args[1], 2000
    # Digits only: parse(Int, ...) alone would also take "+80" and surrounding blanks.
    (occursin(r"^[0-9]{1,5}$", args[2]) && parse(Int, args[2]) <= 65535) || usage_error()
    return raw, args[1], parse(Int, args[2])
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
    # guide:errors-refused begin
    failure = nothing
    try
        for address in resolve(host)
            try
                return connect(address, port)
            catch e
                failure = e  # refused or unreachable: try the next address
            end
        end
    # guide:errors-unknown-host begin
    catch e
        failure = e  # the name did not resolve
    end
    println(stderr, PROGRAM, ": cannot connect to ", hostport(host, port), ": ", sprint(showerror, failure))
    exit(1)
    # guide:errors-unknown-host end
    # guide:errors-refused end
end

function lost(host, port, reason)
    println(stderr, PROGRAM, ": connection to ", hostport(host, port), " lost: ", reason)
    exit(1)
end

function line_mode(server, host, port)
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
        # guide:errors-reset begin
        echo = try
            write(server, line)
            # guide:errors-host-vanishes begin
            # Blocks until all length(line) bytes are back, or the server has closed.
            read(server, length(line))
            # guide:errors-host-vanishes end
        catch e
            e isa Base.IOError || rethrow()
            # guide:errors-peer-closes begin
            # Before Julia 1.8 a TCPSocket closes itself when the server's FIN arrives, so a
            # server that half-closed early shows up here, as a write to a closed stream.
            isopen(server) || lost(host, port, "the server closed the connection")
            lost(host, port, sprint(showerror, e))
        end
        # guide:errors-reset end
        length(echo) == length(line) || lost(host, port, "the server closed the connection mid-echo")
        # guide:errors-peer-closes end
        write(stdout, "Echoed: '", echo[1:end-1], "'\n")
    end
end

# closewrite (Julia 1.8) sends FIN and keeps the receiving side open. Older Julia has no such
# call; shutdown(2) on the socket's descriptor does the same, once every write has returned.
if !isdefined(Base, :closewrite)
    function closewrite(socket::TCPSocket)
        if ccall(:shutdown, Cint, (RawFD, Cint), Base._fd(socket), 1) != 0  # 1: SHUT_WR
            errno = Libc.errno()
            throw(Base.IOError("shutdown: " * Libc.strerror(errno), -errno))
        end
        return nothing
    end
end

# Both ways at once, in two tasks: a client that wrote everything before reading would
# deadlock against a server that stops reading while its echo is not being read.
function raw_mode(server, host, port)
    @async try
        while !eof(stdin)
            write(server, readavailable(stdin))
        end
        closewrite(server)  # half-close: the server finishes the echo, then closes
    catch e
        e isa Base.IOError || rethrow()
        # The connection is gone: the receiving side below sees it and reports it.
    end
    try
        while !eof(server)
            write(stdout, readavailable(server))
        end
    catch e
        e isa Base.IOError || rethrow()
        lost(host, port, sprint(showerror, e))
    end
    flush(stdout)
end

function main(args)
    raw, host, port = parse_options(args)
    server = connect_any(host, port)
    (raw ? raw_mode : line_mode)(server, host, port)
    close(server)
end

main(ARGS)
