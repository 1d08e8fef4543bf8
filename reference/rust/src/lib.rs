//! What the lab's Rust programs share: the command lines of the launch
//! contract (conformance/CONTRACT.md).

use std::process;

/// The port used when none is given.
pub const DEFAULT_PORT: u16 = 2000;

/// A port as the contract allows it: decimal digits only, 0 to 65535.
pub fn parse_port(s: &str) -> Option<u16> {
    // u16's parser alone would also take "+5".
    if s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// `host:port` as people write it, an IPv6 literal in brackets: `[::1]:2000`.
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A server's command line: `[--host HOST] [--port PORT]`.
#[derive(Debug, PartialEq)]
pub struct ServerArgs {
    pub host: String,
    pub port: u16,
}

impl ServerArgs {
    pub const USAGE: &'static str = "[--host HOST] [--port PORT]\n  \
        --host HOST  address to listen on (default ::, IPv6 and IPv4 at once)\n  \
        --port PORT  TCP port, 0 for any free one (default 2000)";

    /// Reads the arguments after the program name.
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<ServerArgs, String> {
        let mut parsed = ServerArgs {
            host: "::".to_string(),
            port: DEFAULT_PORT,
        };
        while let Some(flag) = args.next() {
            if flag != "--host" && flag != "--port" {
                return Err(format!("unknown argument {flag:?}"));
            }
            let value = args.next().ok_or(format!("{flag} needs a value"))?;
            if flag == "--host" {
                if value.is_empty() {
                    return Err("--host must not be empty".to_string());
                }
                parsed.host = value;
            } else {
                parsed.port = parse_port(&value)
                    .ok_or(format!("not a port number in 0..65535: {value:?}"))?;
            }
        }
        Ok(parsed)
    }
}

/// The contract's line for a server that cannot listen, naming the address
/// and the reason; the caller then exits with status 1.
pub fn report_listen_failure(program: &str, args: &ServerArgs, error: &std::io::Error) {
    let addr = host_port(&args.host, args.port);
    eprintln!("{program}: cannot listen on {addr}: {error}");
}

/// Ends the program the way the contract asks for a bad command line:
/// what was wrong and the usage on stderr, exit status 2.
pub fn bad_usage(program: &str, usage: &str, why: &str) -> ! {
    eprintln!("{program}: {why}\nusage: {program} {usage}");
    process::exit(2)
}
