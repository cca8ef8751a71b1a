//! The server `cargo workbook bench` measures: [`serve_one`] in a loop, one connection
//! after another, on a port of 127.0.0.1 the kernel picks.
//!
//! Usage: `ch12-resumption-server CHAIN KEY`. Prints `LISTENING <address>` once it listens,
//! and one line on stderr for each connection that failed.

use std::net::TcpListener;
use std::path::Path;
use std::process::ExitCode;

use ch12_resumption::{acceptor, serve_one};

/// An HTTP/1.0 answer about the size of `openssl s_server -www`'s page, so that both
/// servers send a similar amount of data per connection.
fn reply() -> Vec<u8> {
    let body = "resumed or not, this is the same page\n".repeat(50);
    format!(
        "HTTP/1.0 200 ok\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [chain, key] = args.as_slice() else {
        eprintln!("usage: ch12-resumption-server CHAIN KEY");
        return ExitCode::from(2);
    };
    let acceptor = match acceptor(Path::new(chain), Path::new(key), None) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("cannot build the server context: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind("127.0.0.1:0").and_then(|l| {
        let addr = l.local_addr()?;
        Ok((l, addr))
    }) {
        Ok((l, addr)) => {
            println!("LISTENING {addr}");
            l
        }
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1: {e}");
            return ExitCode::FAILURE;
        }
    };
    let reply = reply();
    for tcp in listener.incoming() {
        match tcp {
            Ok(tcp) => {
                if let Err(e) = serve_one(&acceptor, tcp, &reply) {
                    eprintln!("serve_one: {e}");
                }
            }
            Err(e) => eprintln!("accept: {e}"),
        }
    }
    ExitCode::SUCCESS
}
