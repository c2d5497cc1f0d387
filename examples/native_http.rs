//! The native ceiling for `benches/network.sh`: a plain Rust HTTP/1.1 keep-alive server on
//! loopback (a thread per connection) answering every request with nginx's 615-byte welcome
//! page, the same bytes skiff's nginx guest serves. The bench also runs it inside a native
//! container, where it listens on every address (`ADDR` 0.0.0.0).
//!   cargo run --release --example native_http -- PORT [ADDR]

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener};

fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8089);
    let addr: Ipv4Addr = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(Ipv4Addr::LOCALHOST);
    let body = "x".repeat(615);
    let response = format!("HTTP/1.1 200 OK\r\nServer: native\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n{body}", body.len());
    let listener = TcpListener::bind((addr, port)).expect("bind");
    println!("listening on {addr}:{port}");
    for conn in listener.incoming() {
        let Ok(stream) = conn else { continue };
        let response = response.clone();
        std::thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut out = stream;
            let mut line = String::new();
            loop {
                // Read one request: lines up to the blank one (GET has no body).
                let mut got = false;
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" || line == "\n" => break,
                        Ok(_) => got = true,
                    }
                }
                if got && out.write_all(response.as_bytes()).is_err() {
                    return;
                }
            }
        });
    }
}
