//! The lab's production-style Rust echo server: tokio's `current_thread`
//! runtime, one event loop on one thread, a task per connection.
//!
//! A task costs a small future and its buffer instead of a thread and its
//! stack, so thousands of idle or slow clients are cheap. This is what Rust
//! servers are built on, and the peer `make bench` measures
//! async_echo_server against.
//!
//! SIGTERM and SIGINT stop it with exit status 0 (tokio's signal support).

use echo_lab::{bad_usage, report_listen_failure, ServerArgs};
use socket2::{Domain, Socket, Type};
use std::future::poll_fn;
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};

const PROGRAM: &str = "tokio_echo_server";

/// Bytes one read may take: as much as async_echo_server reads at once, so
/// the streaming comparison is about the event loops, not buffer sizes.
/// BufReader leaves the buffer uninitialised, so a connection that only ever
/// sees small messages touches one page of it.
const BUFFER: usize = 64 * 1024;

fn main() -> ExitCode {
    let args = ServerArgs::parse(std::env::args().skip(1))
        .unwrap_or_else(|why| bad_usage(PROGRAM, ServerArgs::USAGE, &why));
    // One thread: the comparison is one event loop against another.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(serve(args)),
        Err(e) => {
            eprintln!("{PROGRAM}: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServerArgs) -> ExitCode {
    // Registered before the readiness line, so no early signal is missed.
    let signals =
        signal(SignalKind::terminate()).and_then(|t| Ok((t, signal(SignalKind::interrupt())?)));
    let (mut terminate, mut interrupt) = match signals {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("{PROGRAM}: cannot handle signals: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match listen(&args.host, args.port) {
        Ok(listener) => listener,
        Err(e) => {
            report_listen_failure(PROGRAM, &args, &e);
            return ExitCode::FAILURE;
        }
    };
    // SocketAddr prints IPv6 in brackets; the newline flushes stdout.
    match listener.local_addr() {
        Ok(addr) => println!("listening on {addr}"),
        Err(e) => {
            eprintln!("{PROGRAM}: cannot read the listening address: {e}");
            return ExitCode::FAILURE;
        }
    }

    tokio::spawn(accept(listener));
    // Until either signal arrives; then returning drops the runtime, which
    // cancels every task and closes every socket.
    poll_fn(|cx| {
        if terminate.poll_recv(cx).is_ready() || interrupt.poll_recv(cx).is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    ExitCode::SUCCESS
}

/// A dual-stack listener: on "::" IPv4 clients arrive too, as ::ffff:a.b.c.d.
/// tokio's own TcpListener::bind cannot clear IPV6_V6ONLY; socket2 can.
fn listen(host: &str, port: u16) -> io::Result<TcpListener> {
    let mut last = io::Error::new(ErrorKind::AddrNotAvailable, "no address to listen on");
    let mut addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    addrs.sort_by_key(|a| !a.is_ipv6()); // IPv6 first, as the C++ programs do
    for addr in addrs {
        match bind(addr) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    if addr.is_ipv6() {
        socket.set_only_v6(false)?;
    }
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    TcpListener::from_std(socket.into())
}

async fn accept(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tokio::spawn(async move {
                    if let Err(e) = echo(stream).await {
                        // A client that resets or vanishes ends its session
                        // normally; anything else is worth a line.
                        if !matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) {
                            eprintln!("{PROGRAM}: {peer}: {e}");
                        }
                    }
                });
            }
            Err(e) => {
                // Out of file descriptors, say: this client is lost, the
                // server is not. Pause so as not to spin on the same error.
                eprintln!("{PROGRAM}: accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Serves one client: every byte back until its half-close, then our FIN.
async fn echo(mut stream: TcpStream) -> io::Result<()> {
    // Echo small writes at once instead of waiting to batch them (Nagle).
    stream.set_nodelay(true)?;
    let (reader, mut writer) = stream.split();
    // copy_buf returns at the client's FIN, after the last byte has been
    // written back; write_all inside it waits while the client is not
    // reading, which is the backpressure.
    tokio::io::copy_buf(&mut BufReader::with_capacity(BUFFER, reader), &mut writer).await?;
    writer.shutdown().await
}
