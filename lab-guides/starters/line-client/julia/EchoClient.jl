# line-client: the chapter's client, fixed: read stdin line by line, send each line with its
# newline, wait for the whole echo (however the stream splits it), print `Echoed: 'L'`; a line
# BYE (or BYE\r) ends the session without being sent; end of input closes and exits 0;
# failing to connect or losing the connection: one line on stderr, exit 1.
#
# Check your work from the lab's top folder:
#     python3 -m conformance check line-client path/to/this/folder
#
# Done for you: the command line, the connection, and turning an error thrown by
# `echo_lines` into one line on stderr and exit status 1. Runs on Julia 1.5 and later.
using Sockets

const USAGE = "usage: julia EchoClient.jl HOST [PORT]"

"Sends each line of stdin and prints its echo, until BYE or the end of input."
function echo_lines(server)
    # TODO(line-client): until eof(stdin): take the bytes up to the next "\n", without it
    # (readuntil(stdin, UInt8('\n')): bytes, never decoded, so "\r", NUL and invalid UTF-8
    # pass; the last line may have no "\n"). A line b"BYE" or b"BYE\r" ends the session
    # unsent: return. Send the line with a "\n" added (push! it, then write(server, line)),
    # then wait for its whole echo: one read may bring part of it, but read(server, n) waits
    # for all n bytes, or returns fewer if the server closed: then throw an error saying so.
    # Print Echoed: 'E' and "\n", E being the echo without its "\n", as bytes
    # (write(stdout, ...)). If stdin is a terminal (stdin isa Base.TTY), print the prompt
    # `Enter line:` (and flush(stdout)) before each line.
end

"`HOST [PORT]`, the port 2000 by default; nothing if anything else is given."
function parse_args(args)
    1 <= length(args) <= 2 || return nothing
    host = args[1]
    (isempty(host) || startswith(host, "-")) && return nothing
    length(args) == 1 && return host, 2000
    # Digits only: parse(Int, ...) alone would also take "+80" and blanks around it.
    port = args[2]
    (occursin(r"^[0-9]{1,5}$", port) && parse(Int, port) <= 65535) || return nothing
    return host, parse(Int, port)
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
    host, port = options
    server = try
        connect_any(host, port)
    catch e
        println(stderr, "EchoClient.jl: cannot connect to ", hostport(host, port), ": ",
                sprint(showerror, e))
        exit(1)
    end
    try
        echo_lines(server)
    catch e
        println(stderr, "EchoClient.jl: ", hostport(host, port), ": ", sprint(showerror, e))
        exit(1)
    end
    close(server)
end

main(ARGS)
