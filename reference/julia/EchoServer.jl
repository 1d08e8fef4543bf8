# Echo server on the Sockets standard library (Julia 1.5 or later): a task per connection,
# bytes echoed unchanged, and after the client's half-close the rest of the echo, then FIN.
using Sockets
using FileWatching

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

# Up to length(buffer) bytes from the client; 0 once it has half-closed.
#
# Why not readavailable(client): before Julia 1.8 a TCPSocket closes itself the moment it
# reads the FIN, and the bytes that arrived with it can no longer be echoed (a half-closing
# client loses the tail of its echo). So the bytes are read from the socket's descriptor with
# read(2), and poll_fd waits, suspending this task only, when none are there yet; libuv never
# sees the FIN, and the TCPSocket stays open for the writing and the closing.
function read_some(client::TCPSocket, buffer::Vector{UInt8})
    fd = Base._fd(client)
    while true
        n = ccall(:read, Cssize_t, (RawFD, Ptr{UInt8}, Csize_t), fd, buffer, length(buffer))
        n >= 0 && return Int(n)
        errno = Libc.errno()
        if errno == Libc.EAGAIN
            poll_fd(fd; readable = true)
        elseif errno != Libc.EINTR
            throw(Base.IOError("read: " * Libc.strerror(errno), -errno))
        end
    end
end

# guide:echo begin
function echo(client)
    buffer = Vector{UInt8}(undef, 64 * 1024)
    try
        # write returns once the kernel holds every byte, so a client that does not read
        # stops this loop, and nothing piles up here.
        while (n = read_some(client, buffer)) > 0
            write(client, view(buffer, 1:n))
        end
    # guide:errors-reset begin
    catch e
        e isa Base.IOError || rethrow()
        println(stderr, PROGRAM, ": session ended: ", sprint(showerror, e))
    # guide:errors-reset end
    finally
        # Every byte has been written back and none is left unread: close sends FIN.
        close(client)
    end
end
# guide:echo end

# errormonitor (Julia 1.7) prints a task's uncaught exception, which would otherwise be lost;
# on older Julia this stands in for it.
if !isdefined(Base, :errormonitor)
    function errormonitor(task::Task)
        @async try
            wait(task)
        catch e
            println(stderr, PROGRAM, ": ", sprint(showerror, e))
        end
        return task
    end
end

# SIGTERM and SIGINT exit 0. Left to itself the runtime answers SIGTERM with a crash report
# and exit status 143, and SIGINT with an InterruptException thrown into whichever task runs
# at that moment. So a libuv signal watcher, on the runtime's own event loop, is asked for
# both; the runtime blocks them in this thread to hear them on a thread of its own, so they
# are unblocked here, where the kernel delivers a process's signals first.
const STOP = Threads.Condition()  # has its own lock: notified from an event-loop callback
const STOPPING = Ref(false)
const UV_SIGNAL = 16  # uv_handle_type: UV_SIGNAL
const SIG_UNBLOCK = 1

function on_signal(handle::Ptr{Cvoid}, signum::Cint)
    lock(STOP) do
        STOPPING[] = true  # kept, in case the signal comes before anyone waits
        notify(STOP)
    end
    return nothing
end

function stop_on_signals(signums)
    mask = zeros(UInt8, 128)  # a sigset_t, larger than glibc's
    ccall(:sigemptyset, Cint, (Ptr{UInt8},), mask)
    for signum in signums
        # calloc: the runtime reads the handle's data field when it exits; it must be NULL.
        handle = Libc.calloc(1, ccall(:uv_handle_size, Csize_t, (Cint,), UV_SIGNAL))
        ccall(:uv_signal_init, Cint, (Ptr{Cvoid}, Ptr{Cvoid}), Base.eventloop(), handle)
        ccall(:uv_signal_start, Cint, (Ptr{Cvoid}, Ptr{Cvoid}, Cint), handle,
              @cfunction(on_signal, Cvoid, (Ptr{Cvoid}, Cint)), signum)
        ccall(:sigaddset, Cint, (Ptr{UInt8}, Cint), mask, signum)
    end
    ccall(:pthread_sigmask, Cint, (Cint, Ptr{UInt8}, Ptr{Cvoid}), SIG_UNBLOCK, mask, C_NULL)
    @async begin
        lock(STOP) do
            STOPPING[] || wait(STOP)
        end
        exit(0)  # stops accepting; the sessions under way end with the process
    end
end

function main(args)
    host, port = parse_options(args)
    stop_on_signals((15, 2))  # SIGTERM, SIGINT
    # listen does not set IPV6_V6ONLY, so on Linux "::" is dual stack: IPv4 clients come in too.
    # guide:errors-port-in-use begin
    server = try
        listen(first(resolve(host)), port)
    catch e
        println(stderr, PROGRAM, ": cannot listen on ", hostport(host, port), ": ", sprint(showerror, e))
        exit(1)
    end
    # guide:errors-port-in-use end
    address, bound = getsockname(server)
    println("listening on ", hostport(address, Int(bound)))
    flush(stdout)
    # guide:accept-loop begin
    while true
        try
            # guide:errors-timeout begin
            client = accept(server)
            errormonitor(@async echo(client))
            # guide:errors-timeout end
        catch e
            e isa Base.IOError || rethrow()
            # Say, out of file descriptors: this connection is lost, the server goes on.
            println(stderr, PROGRAM, ": accept failed: ", sprint(showerror, e))
        end
    end
    # guide:accept-loop end
end

main(ARGS)
