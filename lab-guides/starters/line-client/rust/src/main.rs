//! line-client: the chapter's client, fixed: read stdin line by line, send
//! each line with its newline, wait for the whole echo (however the stream
//! splits it), print `Echoed: 'L'`; a line BYE (or BYE\r) ends the session
//! without being sent; end of input closes and exits 0; failing to connect
//! or losing the connection: one line on stderr, exit 1.
//!
//! Check your work from the lab's top folder:
//!     python3 -m conformance check line-client path/to/this/folder
//!
//! Done for you: the command line, the connection, and turning an error
//! from `echo_lines` into one line on stderr and exit status 1.

use std::io;
use std::net::TcpStream;
use std::process::ExitCode;

const USAGE: &str = "usage: echo_client HOST [PORT]";

fn main() -> ExitCode {
    // An argument that is not valid UTF-8 becomes "", which is refused below.
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string().unwrap_or_default())
        .collect();
    let Some((host, port)) = parse_args(&args) else {
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
    match echo_lines(stream) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_client: {address}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Sends each line of stdin and prints its echo, until BYE or end of input.
fn echo_lines(stream: TcpStream) -> io::Result<()> {
    // TODO(line-client): for each line of stdin, read as bytes up to and
    // with its '\n' (io::stdin().lock().read_until): lines are bytes, not
    // text, so a String would refuse invalid UTF-8. The last line may have
    // no '\n': add one. A line BYE or BYE\r ends the session unsent: return
    // Ok(()); so does the end of input (read_until returns 0). Send the line
    // with its '\n' (write_all), then wait for its whole echo: one read may
    // bring part of it, but read_exact into a buffer of the line's length
    // waits for all of it (its UnexpectedEof error means the server closed
    // early). Print Echoed: 'E' and a newline, E being the echo without its
    // '\n', as bytes (io::stdout().lock().write_all). If stdin is a terminal
    // (io::IsTerminal), print the prompt `Enter line:` before each line.
    // These traits do it: use std::io::{BufRead, IsTerminal, Read, Write};
    drop(stream); // closes the connection: nothing is sent yet
    Ok(())
}

/// `HOST [PORT]`, the port 2000 by default; None if anything else is given.
fn parse_args(args: &[String]) -> Option<(&str, u16)> {
    let (host, port) = match args {
        [host] => (host, 2000),
        // Digits only: u16's parser alone would also take "+80".
        [host, port] if port.bytes().all(|b| b.is_ascii_digit()) => (host, port.parse().ok()?),
        _ => return None,
    };
    if host.is_empty() || host.starts_with('-') {
        return None;
    }
    Some((host, port))
}

/// host:port, with an IPv6 host in brackets.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}
