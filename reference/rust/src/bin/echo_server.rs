//! The lab's Rust echo server: a thread per connection, each sending every
//! byte back until its client is done.
//!
//! std has no signal handling: SIGTERM or SIGINT ends this server by the
//! signal's default action (no exit status 0).

use echo_lab::{bad_usage, report_listen_failure, ServerArgs};
use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

fn main() -> ExitCode {
    let args = ServerArgs::parse(std::env::args().skip(1))
        .unwrap_or_else(|why| bad_usage("echo_server", ServerArgs::USAGE, &why));

    // guide:errors-port-in-use begin
    let listener = match listen(&args.host, args.port) {
        Ok(listener) => listener,
        Err(e) => {
            report_listen_failure("echo_server", &args, &e);
            return ExitCode::FAILURE;
        }
    };
    // guide:errors-port-in-use end

    // guide:accept-loop begin
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                // guide:errors-timeout begin
                let session = thread::Builder::new().spawn(move || {
                    // guide:errors-reset begin
                    if let Err(e) = echo(stream) {
                        eprintln!("echo_server: {peer}: {e}");
                    }
                    // guide:errors-reset end
                });
                // guide:errors-timeout end
                // Out of threads: the stream was dropped (closed), the
                // server goes on.
                if let Err(e) = session {
                    eprintln!("echo_server: {peer}: cannot start a thread: {e}");
                }
            }
            Err(e) => {
                // Out of file descriptors, say: this client is lost, the
                // server is not. Pause so as not to spin on the same error.
                eprintln!("echo_server: accept: {e}");
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
    // guide:accept-loop end
}

/// Binds and prints the readiness line; a failure here means we cannot listen.
fn listen(host: &str, port: u16) -> io::Result<TcpListener> {
    // std gives no way to clear IPV6_V6ONLY before bind(). Binding "::" takes
    // IPv4 clients too (as ::ffff:a.b.c.d) only because Linux's
    // net.ipv6.bindv6only is 0 by default; where it is 1, this is IPv6 only.
    let listener = TcpListener::bind((host, port))?;
    // SocketAddr prints IPv6 in brackets. stdout is line buffered, so the
    // newline sends this line out at once.
    println!("listening on {}", listener.local_addr()?);
    Ok(listener)
}

// guide:echo begin
/// Serves one client; its errors end this session only.
fn echo(stream: TcpStream) -> io::Result<()> {
    // Each echo is a reply: send it at once. With Nagle's algorithm on, a partial segment
    // waits for the client's delayed ACK, up to 40 ms per echo.
    stream.set_nodelay(true)?;
    // A &TcpStream reads and writes, so the socket is copied onto itself.
    // copy returns at the client's FIN (its half-close), after the last byte
    // has gone back: only then do we send our own FIN.
    io::copy(&mut &stream, &mut &stream)?;
    stream.shutdown(Shutdown::Write)
}
// guide:echo end
