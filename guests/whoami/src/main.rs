//! `whoami`: an HTTP server that answers every request with its host name, addresses, author,
//! the caller's address and the request itself (the `robeeerto/whoami` exercise image).

mod page;

use std::io::Write;

use page::Page;

/// The port from `--port N`, else `$PORT`, else 3000.
fn port(args: &[String], env_port: Option<String>) -> Result<u16, String> {
    let mut port = env_port.filter(|p| !p.is_empty()).unwrap_or_else(|| "3000".into());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--port" || a == "-port" || a == "-p" {
            port = it.next().ok_or("--port needs a value")?.clone();
        } else if let Some(v) = a.strip_prefix("--port=") {
            port = v.to_string();
        }
    }
    port.parse().map_err(|_| format!("invalid port: {port}"))
}

fn hostname() -> String {
    if let Ok(h) = std::env::var("HOSTNAME") {
        if !h.is_empty() {
            return h;
        }
    }
    std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_default()
}

/// Addresses of the container's interfaces other than `lo`, in the order the host lists them.
fn interfaces() -> Vec<std::net::Ipv4Addr> {
    skiff_guest::net::interfaces().unwrap_or_default().into_iter().filter(|i| i.name != "lo").map(|i| i.ip).collect()
}

fn main() {
    skiff_guest::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match port(&args, std::env::var("PORT").ok()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("whoami: {e}");
            std::process::exit(2);
        }
    };
    let author = std::env::var("AUTHOR").ok().filter(|a| !a.is_empty()).unwrap_or_else(|| "unknown".into());
    let listener = match serve::listen(port) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("whoami: listen on :{port}: {e}");
            std::process::exit(1);
        }
    };
    println!("Listening on :{port}");
    let _ = std::io::stdout().flush();
    let mut page = Page::new(&hostname(), &author, interfaces);
    if let Err(e) = serve::run(listener, &mut page) {
        eprintln!("whoami: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(port(&v(&[]), None), Ok(3000));
        assert_eq!(port(&v(&[]), Some("8080".into())), Ok(8080));
        assert_eq!(port(&v(&["--port", "81"]), Some("8080".into())), Ok(81));
        assert_eq!(port(&v(&["--port=82"]), None), Ok(82));
        assert!(port(&v(&["--port", "x"]), None).is_err());
    }
}
