//! Deliberately naive: the echo server as the Rust book first shows a server,
//! every `Result` opened with `.unwrap()`. Right for a healthy client; every
//! error is a panic that ends the whole server (exit 101).
//! Flaws, each marked NAIVE where it stands:
//! - a failure to listen (port in use, bad host) or a bad port is a panic;
//! - one client at a time: the others wait in the backlog;
//! - a failed accept (out of descriptors) is a panic that ends the server;
//! - a client's reset or broken pipe is a panic that ends the whole server;
//! - no signal handling: SIGTERM kills it.
//!
//! echo_server.rs is the careful version.
use std::io::{Read, Write};
use std::net::TcpListener;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut host = "::".to_string();
    let mut port = "2000".to_string();
    for pair in args[1..].chunks(2) {
        match pair[0].as_str() {
            "--host" => host = pair[1].clone(),
            "--port" => port = pair[1].clone(),
            _ => {}
        }
    }

    // NAIVE: unwrap: a bad port or a port in use is a panic.
    let listener = TcpListener::bind((host.as_str(), port.parse::<u16>().unwrap())).unwrap();
    println!("listening on {}", listener.local_addr().unwrap());
    // NAIVE: no signal handling: SIGTERM kills the process.
    // NAIVE: one client at a time; the others wait in the backlog.
    for stream in listener.incoming() {
        // NAIVE: unwrap: accept failing (out of descriptors) is a panic.
        let mut stream = stream.unwrap();
        let mut buffer = [0; 1024];
        loop {
            // NAIVE: unwrap: one client's reset or broken pipe is a panic that
            // ends the whole server, not just this session.
            let n = stream.read(&mut buffer).unwrap();
            if n == 0 {
                break;
            }
            stream.write_all(&buffer[..n]).unwrap();
        }
    }
}
