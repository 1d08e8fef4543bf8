//! Deliberately naive: the echo client as Rust tutorials first show one,
//! every `Result` opened with `.unwrap()`. Right for short lines to a healthy
//! server; every failure is a panic (exit 101).
//! Flaws, each marked NAIVE where it stands:
//! - a refused connection, an unknown host or a bad port is a panic;
//! - lines are `String`s: input that is not UTF-8 is a panic;
//! - a server that has closed reads as an empty echo, printed as one.
//!
//! echo_client.rs is the careful version.
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let host = &args[1];
    let port: u16 = args.get(2).map_or(2000, |p| p.parse().unwrap());

    // NAIVE: unwrap: refused or unknown host is a panic.
    let mut stream = TcpStream::connect((host.as_str(), port)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    for line in std::io::stdin().lines() {
        // NAIVE: unwrap: a line that is not UTF-8 is a panic.
        let line = line.unwrap();
        if line == "BYE" {
            break;
        }
        stream.write_all(format!("{line}\n").as_bytes()).unwrap();
        let mut echo = String::new();
        // NAIVE: read_line gives Ok(0) when the server has closed, and the
        // empty echo is printed as if it were one; the loop goes on.
        reader.read_line(&mut echo).unwrap();
        println!("Echoed: '{}'", echo.trim_end_matches('\n'));
    }
}
