//! careful-server: every byte, whatever the network does: loop on short
//! writes, finish the echo after the client's half-close and then close (FIN,
//! never RST), survive a client's reset, serve IPv4 and IPv6 clients on ::.
//!
//! Check your work from the lab's top folder:
//!     python3 -m conformance check careful-server path/to/this/folder
//!
//! This is the echo-server stage's solution; the TODO(careful-server) blocks
//! say what to make careful. The launch contract (the command line, the
//! dual-stack listening socket, the `listening on` line, SIGTERM) is done.

use std::io::{self, prelude::*, ErrorKind};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

const USAGE: &str = "usage: echo_server [--host HOST] [--port PORT]";

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

    // One client at a time: the next one is accepted when serve returns.
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                // A reset or a vanished client ends its own session only.
                if let Err(e) = serve(stream) {
                    eprintln!("echo_server: session ended: {e}");
                }
            }
            Err(e) => {
                // The client is lost, the server is not; the pause keeps a
                // lasting failure (no file descriptors left) from spinning.
                eprintln!("echo_server: accept: {e}");
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
    ExitCode::SUCCESS
}

/// Sends every byte the client sends straight back to it, until it closes.
fn serve(mut stream: TcpStream) -> io::Result<()> {
    let mut buffer = [0; 8192];
    loop {
        // Whatever has arrived, a line or not; 0 means the client has closed.
        let n = match stream.read(&mut buffer) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            // The client has half-closed and every byte it sent is back:
            // our FIN follows the last of them.
            return stream.shutdown(Shutdown::Write);
        }
        // write may take only part of the buffer; write_all loops (and
        // retries Interrupted) until it has taken all of it.
        stream.write_all(&buffer[..n])?;
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

/// Binds, then prints the readiness line the harness waits for.
fn listen(host: &str, port: u16) -> io::Result<TcpListener> {
    // std sets SO_REUSEADDR but cannot clear IPV6_V6ONLY before binding:
    // "::" also takes IPv4 clients (as ::ffff:a.b.c.d) only because Linux's
    // net.ipv6.bindv6only is 0 by default. Where it is 1, this is IPv6 only.
    let listener = TcpListener::bind((host, port))?;
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
