//! raw-client: `--raw`: copy stdin to the socket and the socket to stdout
//! at the same time, half-close at the end of stdin, exit 0 when the server
//! has closed.
//!
//! Check your work from the lab's top folder:
//!     python3 -m conformance check raw-client path/to/this/folder
//!
//! This is the line-client stage's solution with `--raw` parsed; yours:
//! `copy_raw`. An error from it becomes one line on stderr and exit 1.

use std::io::{self, BufRead, ErrorKind, IsTerminal, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;

const USAGE: &str = "usage: echo_client [--raw] HOST [PORT]";

fn main() -> ExitCode {
    // An argument that is not valid UTF-8 becomes "", which is refused below.
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string().unwrap_or_default())
        .collect();
    let Some((raw, host, port)) = parse_args(&args) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let address = host_port(host, port);
    // connect tries every address the name resolves to, IPv6 and IPv4.
    let stream = match TcpStream::connect((host, port)) {
        Ok(stream) => stream,
        Err(e) => {
            eprintln!("echo_client: cannot connect to {address}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = if raw {
        copy_raw(stream)
    } else {
        echo_lines(stream)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_client: {address}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Sends each line of stdin and prints its echo, until BYE or end of input.
fn echo_lines(mut stream: TcpStream) -> io::Result<()> {
    let prompt = io::stdin().is_terminal();
    let mut input = io::stdin().lock();
    let mut output = io::stdout().lock();
    let mut line = Vec::new();
    loop {
        if prompt {
            output.write_all(b"Enter line:")?;
            output.flush()?;
        }
        // Bytes up to and with the '\n', never decoded: any byte passes.
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(()); // end of input
        }
        if line.last() != Some(&b'\n') {
            line.push(b'\n'); // a last line without one is still a line
        }
        let text = &line[..line.len() - 1];
        if text == b"BYE" || text == b"BYE\r" {
            return Ok(());
        }
        stream.write_all(&line)?;
        // The echo may come back in pieces: wait for all of it, no more.
        let mut echo = vec![0; line.len()];
        if let Err(e) = stream.read_exact(&mut echo) {
            if e.kind() == ErrorKind::UnexpectedEof {
                let why = "the server closed the connection before the whole echo came back";
                return Err(io::Error::new(e.kind(), why));
            }
            return Err(e);
        }
        output.write_all(b"Echoed: '")?;
        output.write_all(&echo[..echo.len() - 1])?;
        output.write_all(b"'\n")?;
        output.flush()?;
    }
}

/// --raw: copies stdin to the server and the echo to stdout, both at once.
fn copy_raw(stream: TcpStream) -> io::Result<()> {
    // TODO(raw-client): one thread cannot do both: a client that sends all
    // of stdin before reading deadlocks once the data outgrows the socket
    // buffers. So start a thread (std::thread::spawn) that copies stdin to
    // the socket (io::copy; stream.try_clone() gives it a handle of its
    // own) and then half-closes: shutdown(std::net::Shutdown::Write), which
    // tells the server we are done. Here, meanwhile, copy the socket to
    // stdout until the server closes (io::copy returns), flush, and return
    // Ok(()): the program then exits 0, even if stdin is still open.
    drop(stream); // closes the connection: nothing is sent yet
    Ok(())
}

/// `[--raw] HOST [PORT]`, the port 2000 by default; None if anything else
/// is given.
fn parse_args(args: &[String]) -> Option<(bool, &str, u16)> {
    let (raw, args) = match args {
        [first, rest @ ..] if first == "--raw" => (true, rest),
        _ => (false, args),
    };
    let (host, port) = match args {
        [host] => (host, 2000),
        // Digits only: u16's parser alone would also take "+80".
        [host, port] if port.bytes().all(|b| b.is_ascii_digit()) => (host, port.parse().ok()?),
        _ => return None,
    };
    if host.is_empty() || host.starts_with('-') {
        return None;
    }
    Some((raw, host, port))
}

/// host:port, with an IPv6 host in brackets.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}
