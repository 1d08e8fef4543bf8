//! The lab's Rust echo client: sends lines to an echo server and prints
//! each echo; with --raw it streams stdin up and the echo down at once.

use echo_lab::{bad_usage, host_port, parse_port, DEFAULT_PORT};
use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;
use std::thread;

const USAGE: &str = "[--raw] HOST [PORT]\n  \
    --raw  copy stdin to the server and the echo to stdout, as bytes\n  \
    HOST   a name, an IPv4 address or an IPv6 address such as ::1\n  \
    PORT   TCP port (default 2000)";

struct Args {
    raw: bool,
    host: String,
    port: u16,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = args.peekable();
    let raw = args.next_if_eq("--raw").is_some();
    let words: Vec<String> = args.collect();
    let (host, port) = match words.as_slice() {
        [host] => (host, DEFAULT_PORT),
        [host, port] => (
            host,
            parse_port(port).ok_or(format!("not a port number in 0..65535: {port:?}"))?,
        ),
        _ => return Err("expected HOST and at most one PORT".to_string()),
    };
    if host.is_empty() || host.starts_with('-') {
        return Err(format!("not a host: {host:?}"));
    }
    Ok(Args {
        raw,
        host: host.clone(),
        port,
    })
}

fn main() -> ExitCode {
    let args = parse_args(std::env::args().skip(1))
        .unwrap_or_else(|why| bad_usage("echo_client", USAGE, &why));

    // guide:errors-refused begin
    // guide:errors-unknown-host begin
    let addr = host_port(&args.host, args.port);
    let result = match TcpStream::connect((args.host.as_str(), args.port)) {
        Err(e) => Err(format!("cannot connect to {addr}: {e}")),
        Ok(stream) if args.raw => copy_raw(stream, &addr),
        Ok(stream) => echo_lines(&stream, &addr),
    };
    // guide:errors-refused end
    // guide:errors-unknown-host end
    // Returning drops the stream, which closes the connection.
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("echo_client: {why}");
            ExitCode::FAILURE
        }
    }
}

/// The chapter's loop: send a line, wait for all of its echo, print it.
/// Lines are bytes (Vec<u8>, not String), so nothing is decoded or changed.
fn echo_lines(mut stream: &TcpStream, addr: &str) -> Result<(), String> {
    let prompt = io::stdin().is_terminal();
    let mut input = io::stdin().lock();
    let mut out = io::stdout().lock();
    let mut line = Vec::new();
    loop {
        if prompt {
            out.write_all(b"Enter line:")
                .and_then(|()| out.flush())
                .map_err(|e| format!("writing stdout: {e}"))?;
        }
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("reading stdin: {e}"))?;
        if n == 0 {
            return Ok(()); // end of input
        }
        // The last line of input may have no '\n'; the server still gets one.
        if line.last() != Some(&b'\n') {
            line.push(b'\n');
        }
        let text = &line[..line.len() - 1];
        if text == b"BYE" || text == b"BYE\r" {
            return Ok(());
        }
        // guide:errors-reset begin
        stream.write_all(&line).map_err(|e| lost(addr, e))?;
        // guide:errors-host-vanishes begin
        // TCP has no message boundaries: one read may return part of the
        // echo, so read_exact keeps reading until every byte is back.
        let mut echo = vec![0; line.len()];
        stream.read_exact(&mut echo).map_err(|e| lost(addr, e))?;
        // guide:errors-host-vanishes end
        // guide:errors-reset end
        echo.pop(); // its '\n'
        [b"Echoed: '", &echo[..], b"'\n"]
            .iter()
            .try_for_each(|part| out.write_all(part))
            .and_then(|()| out.flush())
            .map_err(|e| format!("writing stdout: {e}"))?;
    }
}

/// Streams both ways at once: stdin goes up on its own thread while the echo
/// comes down here, so the client exits as soon as the server closes, even
/// while stdin is still open.
fn copy_raw(stream: TcpStream, addr: &str) -> Result<(), String> {
    let mut upstream = stream.try_clone().map_err(|e| lost(addr, e))?;
    thread::spawn(move || {
        // Sending stops at the end of stdin, or when the connection breaks
        // (which the reader below then reports).
        if let Err(e) = io::copy(&mut io::stdin().lock(), &mut upstream) {
            eprintln!("echo_client: sending stopped: {e}");
        }
        // Half-close: the server sees our FIN, finishes the echo, then closes.
        let _ = upstream.shutdown(Shutdown::Write);
    });
    let mut out = io::stdout().lock();
    io::copy(&mut &stream, &mut out).map_err(|e| lost(addr, e))?;
    out.flush().map_err(|e| format!("writing stdout: {e}"))
}

// guide:errors-peer-closes begin
fn lost(addr: &str, e: io::Error) -> String {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        format!("connection to {addr}: server closed it before the whole echo came back")
    } else {
        format!("connection to {addr}: {e}")
    }
}
// guide:errors-peer-closes end
