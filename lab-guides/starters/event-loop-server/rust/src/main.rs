//! event-loop-server: one thread, non-blocking sockets and a readiness loop,
//! with bounded buffers and backpressure.
//!
//! Check your work from the lab's top folder:
//!     python3 -m conformance check event-loop-server path/to/this/folder
//!
//! std cannot wait for readiness on many sockets at once, so this uses mio
//! (pinned in Cargo.toml), a thin layer over epoll that leaves the loop to
//! you. (tokio would hide the loop; here the point is to see it.)
//! Done for you: the command line, the listening socket, the `listening on`
//! line, SIGTERM, and the loop that accepts clients and calls `pump` for each
//! connection that is ready. Yours: `pump`.

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use std::collections::HashMap;
use std::io::{self, prelude::*, ErrorKind};
use std::net::ToSocketAddrs;
use std::process::ExitCode;

const USAGE: &str = "usage: echo_server [--host HOST] [--port PORT]";
const LISTENER: Token = Token(0);
/// The most a connection holds for its client: bytes read, not yet sent back.
const BUFFER_CAP: usize = 16 * 1024;

/// One client: its socket and what it sent that has not gone back yet.
struct Connection {
    stream: TcpStream,
    pending: Vec<u8>,
    /// read returned 0: the client has half-closed.
    client_done: bool,
}

impl Connection {
    /// Nothing more will come and nothing is owed: time to close.
    fn finished(&self) -> bool {
        self.client_done && self.pending.is_empty()
    }
}

/// Moves what it can between the client and `pending`, until the socket has
/// nothing more to give or take right now.
fn pump(connection: &mut Connection) -> io::Result<()> {
    // TODO(event-loop-server): loop until no byte moves:
    // - read into `pending` (connection.stream.read), but only while the
    //   client is not done and `pending` holds less than BUFFER_CAP: not
    //   reading from a client that does not read its echo is the
    //   backpressure. read returning Ok(0) means client_done.
    // - write `pending` out (connection.stream.write) and drain what it took.
    // Err(e) with e.kind() == ErrorKind::WouldBlock means "not now": that
    // direction is stuck until mio reports the socket again. mio reports a
    // socket once each time it becomes ready, so stop only at WouldBlock (or
    // a full buffer), never earlier. ErrorKind::Interrupted: try again.
    // When finished(), send the FIN: stream.shutdown(std::net::Shutdown::Write).
    // Until then, each connection is closed at once, unechoed:
    connection.client_done = true;
    Ok(())
}

fn main() -> ExitCode {
    // An argument that is not valid UTF-8 becomes "", which is refused below.
    let args = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string().unwrap_or_default());
    let Some((host, port)) = parse_args(args) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let listener = match listen(&host, port) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!(
                "echo_server: cannot listen on {}: {e}",
                host_port(&host, port)
            );
            return ExitCode::FAILURE;
        }
    };
    exit_0_on_sigterm();
    if let Err(e) = run(listener) {
        eprintln!("echo_server: {e}");
    }
    ExitCode::FAILURE
}

/// The readiness loop: wait until sockets are ready, serve them, repeat.
fn run(mut listener: TcpListener) -> io::Result<()> {
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut connections = HashMap::new();
    let mut next_token = 1;
    let mut events = Events::with_capacity(1024);
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for event in events.iter() {
            let token = event.token();
            if token == LISTENER {
                accept_all(&listener, &poll, &mut connections, &mut next_token);
                continue;
            }
            let Some(connection) = connections.get_mut(&token) else {
                continue; // closed earlier in this round
            };
            let result = pump(connection);
            if let Err(e) = &result {
                // A reset ends this session only.
                eprintln!("echo_server: session ended: {e}");
            }
            if result.is_err() || connection.finished() {
                // Stop watching it; dropping it closes the socket.
                let _ = poll.registry().deregister(&mut connection.stream);
                connections.remove(&token);
            }
        }
    }
}

/// Accepts every client waiting; each is watched for reading and writing.
fn accept_all(
    listener: &TcpListener,
    poll: &Poll,
    connections: &mut HashMap<Token, Connection>,
    next_token: &mut usize,
) {
    loop {
        let (mut stream, _) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) => {
                // Out of file descriptors, say: the client waits in the queue
                // and is taken when the next one arrives.
                eprintln!("echo_server: accept: {e}");
                return;
            }
        };
        let token = Token(*next_token);
        *next_token += 1;
        let interest = Interest::READABLE | Interest::WRITABLE;
        match poll.registry().register(&mut stream, token, interest) {
            Ok(()) => {
                let pending = Vec::with_capacity(BUFFER_CAP);
                connections.insert(
                    token,
                    Connection {
                        stream,
                        pending,
                        client_done: false,
                    },
                );
            }
            Err(e) => eprintln!("echo_server: cannot watch a client: {e}"),
        }
    }
}

/// `[--host HOST] [--port PORT]`, defaults `::` and 2000; None if anything
/// else is given.
fn parse_args(mut args: impl Iterator<Item = String>) -> Option<(String, u16)> {
    let (mut host, mut port) = ("::".to_string(), 2000);
    while let Some(flag) = args.next() {
        let value = args.next()?;
        match flag.as_str() {
            "--host" if !value.is_empty() => host = value,
            // Digits only: u16's parser alone would also take "+80".
            "--port" if value.bytes().all(|b| b.is_ascii_digit()) => port = value.parse().ok()?,
            _ => return None,
        }
    }
    Some((host, port))
}

/// Binds (non-blocking), then prints the readiness line the harness waits for.
fn listen(host: &str, port: u16) -> io::Result<TcpListener> {
    let address = (host, port).to_socket_addrs()?.next();
    let address = address.ok_or_else(|| io::Error::new(ErrorKind::NotFound, "no address"))?;
    // mio sets SO_REUSEADDR but, like std, cannot clear IPV6_V6ONLY: "::"
    // also takes IPv4 clients (as ::ffff:a.b.c.d) only because Linux's
    // net.ipv6.bindv6only is 0 by default. Where it is 1, this is IPv6 only.
    let listener = TcpListener::bind(address)?;
    // A SocketAddr prints IPv6 in brackets: [::]:2000.
    println!("listening on {}", listener.local_addr()?);
    io::stdout().flush()?;
    Ok(listener)
}

/// host:port, with an IPv6 host in brackets.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

// std has no signal API, so this declares the two C library functions it
// needs (std links the C library already). Without this, SIGTERM would kill
// the process by signal instead of letting it exit 0.
extern "C" {
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    fn _exit(status: i32) -> !;
}

extern "C" fn exit_0(_signum: i32) {
    // _exit is safe in a signal handler; process::exit is not.
    unsafe { _exit(0) }
}

/// SIGTERM or SIGINT (Ctrl-C): stop at once with status 0.
fn exit_0_on_sigterm() {
    const SIGINT: i32 = 2; // the same numbers on every Unix
    const SIGTERM: i32 = 15;
    unsafe {
        signal(SIGINT, exit_0);
        signal(SIGTERM, exit_0);
    }
}
