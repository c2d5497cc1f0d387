//! `httpd`: the static web server of skiff's `nginx` and `httpd` images. Called as `nginx` it
//! behaves like nginx 1.23; as `httpd-foreground`/`httpd` like Apache httpd 2.4; as `ab` it is
//! ApacheBench, the benchmarking tool that comes with Apache httpd.

mod ab;
mod files;
mod flavor;
mod mime;
mod site;

use std::io::Write;

use flavor::{Kind, APACHE_VERSION, NGINX_VERSION};
use serve::time::{now_ms, Civil};

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Action {
    Serve,
    /// Print this to stdout (`.0`) or stderr (`.1`) and exit with `.2`.
    Say(String, String, i32),
}

fn nginx_args(args: &[String]) -> Action {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-g" | "-c" | "-p" | "-e" => {
                if it.next().is_none() {
                    return Action::Say(String::new(), format!("nginx: option \"{a}\" requires {}\n", if a == "-g" { "directives" } else { "file name" }), 1);
                }
            }
            "-v" => return Action::Say(String::new(), format!("nginx version: {NGINX_VERSION}\n"), 0),
            "-V" => {
                return Action::Say(
                    String::new(),
                    format!("nginx version: {NGINX_VERSION}\nbuilt for skiff (wasm32-wasip1)\nconfigure arguments: --prefix=/etc/nginx --conf-path=/etc/nginx/nginx.conf\n"),
                    0,
                )
            }
            "-t" | "-T" => {
                return Action::Say(
                    String::new(),
                    "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\nnginx: configuration file /etc/nginx/nginx.conf test is successful\n".into(),
                    0,
                )
            }
            "-q" => {}
            "-s" => return Action::Say(String::new(), "nginx: [error] invalid PID number \"\" in \"/var/run/nginx.pid\"\n".into(), 1),
            "-h" | "-?" => {
                return Action::Say(
                    String::new(),
                    format!("nginx version: {NGINX_VERSION}\nUsage: nginx [-?hvVtTq] [-s signal] [-p prefix]\n             [-e filename] [-c filename] [-g directives]\n"),
                    0,
                )
            }
            a => return Action::Say(String::new(), format!("nginx: invalid option: \"{}\"\n", a.trim_start_matches('-')), 1),
        }
    }
    Action::Serve
}

fn apache_args(args: &[String]) -> Action {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-D" | "-f" | "-d" | "-C" | "-c" | "-k" | "-E" => {
                it.next();
            }
            "-v" => return Action::Say(format!("Server version: {APACHE_VERSION}\nServer built:   Jul 12 2022 00:00:00\n"), String::new(), 0),
            "-V" => {
                return Action::Say(
                    format!("Server version: {APACHE_VERSION}\nServer built:   Jul 12 2022 00:00:00\nServer's Module Magic Number: 20120211:124\nArchitecture:   32-bit\nServer MPM:     event\n"),
                    String::new(),
                    0,
                )
            }
            "-t" => return Action::Say(String::new(), "Syntax OK\n".into(), 0),
            "-h" => {
                return Action::Say(
                    String::new(),
                    "Usage: httpd [-D name] [-d directory] [-f file]\n             [-C \"directive\"] [-c \"directive\"]\n             [-k start|restart|graceful|graceful-stop|stop]\n             [-v] [-V] [-h] [-l] [-L] [-t] [-T] [-S] [-X]\n".into(),
                    0,
                )
            }
            "-X" | "-e" | "-S" | "-M" | "-l" | "-L" | "-T" => {}
            _ => {}
        }
    }
    Action::Serve
}

/// `$PORT`, else 80.
fn port_from(env: Option<String>) -> Result<u16, String> {
    match env.filter(|p| !p.is_empty()) {
        None => Ok(80),
        Some(p) => p.parse().map_err(|_| format!("invalid $PORT: {p}")),
    }
}

fn say(out: &str, err: &str) {
    let _ = std::io::stdout().write_all(out.as_bytes());
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(err.as_bytes());
}

fn main() {
    skiff_guest::init();
    let argv: Vec<String> = std::env::args().collect();
    let argv0 = argv.first().map(String::as_str).unwrap_or("");
    if argv0.rsplit('/').next() == Some("ab") {
        std::process::exit(ab::main(&argv));
    }
    let kind = Kind::from_argv0(argv.first().map(String::as_str).unwrap_or("nginx"));
    let args = argv.get(1..).unwrap_or(&[]);
    let action = match kind {
        Kind::Nginx => nginx_args(args),
        Kind::Apache => apache_args(args),
    };
    if let Action::Say(out, err, code) = action {
        say(&out, &err);
        std::process::exit(code);
    }
    let port = match port_from(std::env::var("PORT").ok()) {
        Ok(p) => p,
        Err(e) => {
            say("", &format!("{e}\n"));
            std::process::exit(1);
        }
    };
    // `$DOCROOT` overrides the image's document root (for running the server elsewhere).
    let root =
        std::env::var("DOCROOT").ok().filter(|r| !r.is_empty()).unwrap_or_else(|| kind.default_root().to_string());
    let mut stamp = Vec::new();
    let listener = match serve::listen(port) {
        Ok(l) => l,
        Err(e) => {
            let text = e.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text);
            let msg = match kind {
                Kind::Nginx => {
                    Civil::from_ms(now_ms()).push_nginx(&mut stamp);
                    format!("{} [emerg] 1#1: bind() to 0.0.0.0:{port} failed ({text})\nnginx: [emerg] bind() to 0.0.0.0:{port} failed ({text})\n", String::from_utf8_lossy(&stamp))
                }
                Kind::Apache => format!("({text}): AH00072: make_sock: could not bind to address 0.0.0.0:{port}\nno listening sockets available, shutting down\nAH00015: Unable to open logs\n"),
            };
            say("", &msg);
            std::process::exit(1);
        }
    };
    Civil::from_ms(now_ms()).push_nginx(&mut stamp);
    let stamp = String::from_utf8_lossy(&stamp).into_owned();
    let notice = match kind {
        Kind::Nginx => format!(
            "{stamp} [notice] 1#1: using the \"poll\" event method\n{stamp} [notice] 1#1: {NGINX_VERSION}\n{stamp} [notice] 1#1: OS: WASI wasm32-wasip1\n{stamp} [notice] 1#1: start worker processes\n{stamp} [notice] 1#1: start worker process 1\n"
        ),
        Kind::Apache => {
            let ip = skiff_guest::net::interfaces().ok().and_then(|v| v.into_iter().find(|i| i.name != "lo")).map(|i| i.ip.to_string()).unwrap_or_else(|| "127.0.0.1".into());
            let mut t = Vec::new();
            Civil::from_ms(now_ms()).push_apache(&mut t);
            let t = String::from_utf8_lossy(&t);
            let ah = format!("AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using {ip}. Set the 'ServerName' directive globally to suppress this message\n");
            format!(
                "{ah}{ah}[{t}] [mpm_event:notice] [pid 1:tid 1] AH00489: {APACHE_VERSION} configured -- resuming normal operations\n[{t}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'\n"
            )
        }
    };
    say("", &notice);
    let mut site = site::Site::new(kind, &root);
    if let Err(e) = serve::run(listener, &mut site) {
        say("", &format!("{}: {e}\n", if kind == Kind::Nginx { "nginx" } else { "httpd" }));
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn nginx_command_line() {
        assert_eq!(nginx_args(&v(&["-g", "daemon off;"])), Action::Serve);
        assert_eq!(nginx_args(&v(&[])), Action::Serve);
        assert_eq!(nginx_args(&v(&["-v"])), Action::Say(String::new(), "nginx version: nginx/1.23.1\n".into(), 0));
        assert!(matches!(nginx_args(&v(&["-g"])), Action::Say(_, _, 1)));
        assert!(matches!(nginx_args(&v(&["-x"])), Action::Say(_, e, 1) if e == "nginx: invalid option: \"x\"\n"));
    }

    #[test]
    fn apache_command_line() {
        assert_eq!(apache_args(&v(&["-DFOREGROUND"])), Action::Serve);
        assert_eq!(apache_args(&v(&["-D", "FOREGROUND"])), Action::Serve);
        assert!(
            matches!(apache_args(&v(&["-v"])), Action::Say(o, _, 0) if o.starts_with("Server version: Apache/2.4.54 (Unix)\n"))
        );
    }

    #[test]
    fn ports() {
        assert_eq!(port_from(None), Ok(80));
        assert_eq!(port_from(Some("8080".into())), Ok(8080));
        assert!(port_from(Some("x".into())).is_err());
    }
}
