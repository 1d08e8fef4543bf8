//! echo-server: echo one client at a time: accept a connection, send back
//! every byte it sends, as soon as it arrives, until it closes; then serve
//! the next.
//!
//! Check your work from the lab's top folder:
//!     python3 -m conformance check echo-server path/to/this/folder
//!
//! All but `serve` is done for you: the command line, the listening socket,
//! the `listening on` line and stopping on SIGTERM or Ctrl-C.

use std::io::{self, prelude::*};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;

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
        // For now any error, a client's included, ends the server.
        if let Err(e) = stream.and_then(serve) {
            eprintln!("echo_server: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// Sends every byte the client sends straight back to it, until it closes.
fn serve(mut stream: TcpStream) -> io::Result<()> {
    let mut buffer = [0; 8192];
    loop {
        // Whatever has arrived, a line or not; 0 means the client has closed.
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            return Ok(());
        }
        stream.write(&buffer[..n])?;
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
