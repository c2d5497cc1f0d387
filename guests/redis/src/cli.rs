//! `redis-cli`: the command line, reply formatting (as redis-cli shows replies on a
//! terminal, or `--raw`), one-shot commands and the line-by-line prompt.

use std::io::{self, BufRead, IsTerminal, Read, Write};

use crate::commands::VERSION;
use crate::resp::{self, parse_reply, split_args, Reply};

#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    pub host: String,
    pub port: u16,
    pub db: i64,
    pub password: Option<String>,
    /// `--raw`: print replies bare.
    pub raw: bool,
    /// The command to run; empty: read commands from stdin.
    pub command: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run(Options),
    Print(String),
    Fail(String),
}

const USAGE: &str = "Usage: redis-cli [OPTIONS] [cmd [arg [arg ...]]]\n  -h <hostname>      Server hostname (default: 127.0.0.1).\n  -p <port>          Server port (default: 6379).\n  -a <password>      Password to use when connecting to the server.\n  -n <db>            Database number.\n  --raw              Use raw formatting for replies.\n  --no-raw           Force formatted output.\n  --help             Output this help and exit.\n  --version          Output version and exit.\n";

/// Parse `redis-cli`'s arguments: options up to the first word that is not one.
pub fn parse_args(args: &[String]) -> Command {
    let mut o =
        Options { host: "127.0.0.1".into(), port: 6379, db: 0, password: None, raw: false, command: Vec::new() };
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let value = args.get(i + 1);
        let needs = |v: Option<&String>| {
            v.cloned().ok_or_else(|| format!("Unrecognized option or bad number of args for: '{a}'\n"))
        };
        match a {
            "-h" | "-p" | "-n" | "-a" | "--pass" | "--user" | "-r" | "-i" | "-s" | "-u" | "-d" => {
                let v = match needs(value) {
                    Ok(v) => v,
                    Err(e) => return Command::Fail(e),
                };
                match a {
                    "-h" => o.host = v,
                    "-p" => match v.parse() {
                        Ok(p) => o.port = p,
                        Err(_) => return Command::Fail(format!("Invalid server port: {v}\n")),
                    },
                    "-n" => o.db = v.parse().unwrap_or(0),
                    "-a" | "--pass" => o.password = Some(v),
                    "-u" => {
                        // redis://[user:pass@]host[:port][/db]
                        let rest = v.strip_prefix("redis://").unwrap_or(&v);
                        let rest = rest.rsplit_once('@').map(|(auth, r)| {
                            o.password = auth.rsplit_once(':').map(|(_, p)| p.to_string()).or(Some(auth.to_string()));
                            r
                        });
                        let rest = rest.unwrap_or(v.strip_prefix("redis://").unwrap_or(&v));
                        let (hp, db) = rest.split_once('/').unwrap_or((rest, ""));
                        let (h, p) = hp.split_once(':').unwrap_or((hp, "6379"));
                        if !h.is_empty() {
                            o.host = h.to_string();
                        }
                        o.port = p.parse().unwrap_or(6379);
                        o.db = db.parse().unwrap_or(0);
                    }
                    _ => {}
                }
                i += 2;
            }
            "--raw" => {
                o.raw = true;
                i += 1;
            }
            "--no-raw" => {
                o.raw = false;
                i += 1;
            }
            "-c" | "-e" | "--no-auth-warning" | "-x" => i += 1,
            "-v" | "--version" => return Command::Print(format!("redis-cli {VERSION}\n")),
            "--help" => return Command::Print(USAGE.into()),
            s if s.starts_with('-') && s.len() > 1 && o.command.is_empty() => {
                return Command::Fail(format!("Unrecognized option or bad number of args for: '{s}'\n"))
            }
            _ => {
                o.command = args[i..].to_vec();
                break;
            }
        }
    }
    Command::Run(o)
}

/// A bulk string the way redis-cli quotes it: `"..."` with `\n`, `\"`, `\xHH` escapes.
pub fn quote(b: &[u8]) -> String {
    let mut s = String::from("\"");
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            c if (0x20..0x7f).contains(&c) => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

/// A reply as redis-cli shows it on a terminal (ends with a newline).
pub fn format_tty(r: &Reply, prefix: &str) -> String {
    match r {
        Reply::Status(s) => format!("{}\n", String::from_utf8_lossy(s)),
        Reply::Error(s) => format!("(error) {}\n", String::from_utf8_lossy(s)),
        Reply::Int(n) => format!("(integer) {n}\n"),
        Reply::Bulk(None) | Reply::Array(None) => "(nil)\n".into(),
        Reply::Bulk(Some(b)) => format!("{}\n", quote(b)),
        Reply::Array(Some(items)) if items.is_empty() => "(empty array)\n".into(),
        Reply::Array(Some(items)) => {
            let width = items.len().to_string().len();
            let inner = format!("{prefix}{}", " ".repeat(width + 2));
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                let lead = if i == 0 { "" } else { prefix };
                out.push_str(&format!("{lead}{:>width$}) ", i + 1));
                out.push_str(&format_tty(item, &inner));
            }
            out
        }
    }
}

/// A reply bare (`--raw`), without the final newline.
pub fn format_raw(r: &Reply) -> Vec<u8> {
    match r {
        Reply::Status(s) | Reply::Error(s) => s.clone(),
        Reply::Int(n) => n.to_string().into_bytes(),
        Reply::Bulk(None) | Reply::Array(None) => Vec::new(),
        Reply::Bulk(Some(b)) => b.clone(),
        Reply::Array(Some(items)) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                }
                out.extend_from_slice(&format_raw(item));
            }
            out
        }
    }
}

/// The text of a connection error as the C library words it.
fn connect_error(e: &io::Error) -> &'static str {
    use skiff_guest::net::errno::*;
    match e.raw_os_error() {
        Some(ECONNREFUSED) => return "Connection refused",
        Some(EHOSTUNREACH) => return "No route to host",
        Some(ENETUNREACH) => return "Network is unreachable",
        Some(ETIMEDOUT) => return "Connection timed out",
        Some(ENOENT) => return "Name or service not known",
        _ => {}
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "Connection refused",
        io::ErrorKind::NotFound => "Name or service not known",
        io::ErrorKind::TimedOut => "Connection timed out",
        _ => "Connection refused",
    }
}

fn connect(host: &str, port: u16) -> io::Result<std::net::TcpStream> {
    #[cfg(target_arch = "wasm32")]
    {
        skiff_guest::net::connect_host(host, port)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::net::TcpStream::connect((host, port))
    }
}

/// A connection to the server: sends commands, reads replies.
struct Client<S> {
    stream: S,
    buf: Vec<u8>,
}

impl<S: Read + Write> Client<S> {
    fn call(&mut self, args: &[Vec<u8>]) -> io::Result<Reply> {
        self.stream.write_all(&resp::command(args))?;
        loop {
            match parse_reply(&self.buf) {
                Ok(Some((r, used))) => {
                    self.buf.drain(..used);
                    return Ok(r);
                }
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Commands whose text replies redis-cli prints bare even on a terminal (`INFO`).
fn raw_strings(args: &[Vec<u8>]) -> bool {
    let word = |i: usize| args.get(i).map(|a| a.to_ascii_lowercase()).unwrap_or_default();
    let cmd = word(0);
    cmd == b"info" || cmd == b"lolwut" || (cmd == b"client" && matches!(&word(1)[..], b"list" | b"info"))
}

fn print_reply(out: &mut impl Write, r: &Reply, raw: bool) {
    if raw {
        let mut b = format_raw(r);
        b.push(b'\n');
        let _ = out.write_all(&b);
    } else {
        let _ = out.write_all(format_tty(r, "").as_bytes());
    }
    let _ = out.flush();
}

/// Run `redis-cli`; returns the exit status.
pub fn main(args: &[String]) -> i32 {
    let o = match parse_args(args) {
        Command::Print(s) => {
            print!("{s}");
            return 0;
        }
        Command::Fail(s) => {
            eprint!("{s}");
            return 1;
        }
        Command::Run(o) => o,
    };
    let stream = match connect(&o.host, o.port) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("Could not connect to Redis at {}:{}: {}", o.host, o.port, connect_error(&e));
            return 1;
        }
    };
    let mut c = Client { stream, buf: Vec::new() };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if let Some(p) = &o.password {
        eprintln!("Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.");
        if let Ok(Reply::Error(e)) = c.call(&[b"AUTH".to_vec(), p.as_bytes().to_vec()]) {
            eprintln!("AUTH failed: {}", String::from_utf8_lossy(&e));
        }
    }
    let mut db = 0;
    if o.db != 0 {
        match c.call(&[b"SELECT".to_vec(), o.db.to_string().into_bytes()]) {
            Ok(Reply::Error(_)) | Err(_) => {}
            Ok(_) => db = o.db,
        }
    }
    if !o.command.is_empty() {
        let args: Vec<Vec<u8>> = o.command.iter().map(|a| a.as_bytes().to_vec()).collect();
        return match c.call(&args) {
            Ok(r) => {
                print_reply(&mut out, &r, o.raw || raw_strings(&args));
                if matches!(r, Reply::Error(_)) {
                    1
                } else {
                    0
                }
            }
            // SHUTDOWN answers by closing the connection.
            Err(_) if args[0].eq_ignore_ascii_case(b"shutdown") => 0,
            Err(_) => {
                let _ = writeln!(out, "Error: Server closed the connection");
                1
            }
        };
    }
    // Read commands line by line; a prompt only for a terminal.
    let tty = io::stdin().is_terminal();
    let stdin = io::stdin();
    let mut lines = stdin.lock();
    loop {
        if tty {
            let dbs = if db != 0 { format!("[{db}]") } else { String::new() };
            let _ = write!(out, "{}:{}{}> ", o.host, o.port, dbs);
            let _ = out.flush();
        }
        let mut line = String::new();
        match lines.read_line(&mut line) {
            Ok(0) | Err(_) => return 0,
            Ok(_) => {}
        }
        let Some(words) = split_args(line.trim_end_matches(['\n', '\r']).as_bytes()) else {
            let _ = writeln!(out, "Invalid argument(s)");
            continue;
        };
        if words.is_empty() {
            continue;
        }
        let first = words[0].to_ascii_lowercase();
        if first == b"quit" || first == b"exit" {
            return 0;
        }
        match c.call(&words) {
            Ok(r) => {
                if first == b"select" && !matches!(r, Reply::Error(_)) {
                    db = std::str::from_utf8(&words.get(1).cloned().unwrap_or_default())
                        .ok()
                        .and_then(|d| d.parse().ok())
                        .unwrap_or(0);
                }
                print_reply(&mut out, &r, o.raw || raw_strings(&words));
            }
            Err(_) if first == b"shutdown" => return 0,
            Err(_) => {
                let _ = writeln!(out, "Error: Server closed the connection");
                return 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(Some(s.as_bytes().to_vec()))
    }

    #[test]
    fn arguments() {
        match parse_args(&v(&["-h", "redis", "-p", "7000", "set", "k", "-h"])) {
            Command::Run(o) => {
                assert_eq!((o.host.as_str(), o.port), ("redis", 7000));
                assert_eq!(o.command, v(&["set", "k", "-h"]));
            }
            other => panic!("{other:?}"),
        }
        match parse_args(&v(&[])) {
            Command::Run(o) => {
                assert!(o.command.is_empty() && o.host == "127.0.0.1" && o.port == 6379)
            }
            other => panic!("{other:?}"),
        }
        match parse_args(&v(&["-u", "redis://:pw@cache:6380/2", "ping"])) {
            Command::Run(o) => {
                assert_eq!((o.host.as_str(), o.port, o.db, o.password.as_deref()), ("cache", 6380, 2, Some("pw")))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(parse_args(&v(&["-v"])), Command::Print("redis-cli 7.0.4\n".into()));
        assert!(matches!(parse_args(&v(&["-p"])), Command::Fail(_)));
        assert!(matches!(parse_args(&v(&["-p", "x"])), Command::Fail(_)));
    }

    #[test]
    fn terminal_formatting() {
        assert_eq!(format_tty(&Reply::Status(b"PONG".to_vec()), ""), "PONG\n");
        assert_eq!(format_tty(&Reply::Status(b"OK".to_vec()), ""), "OK\n");
        assert_eq!(format_tty(&bulk("value"), ""), "\"value\"\n");
        assert_eq!(format_tty(&bulk("a\"b\n\x01"), ""), "\"a\\\"b\\n\\x01\"\n");
        assert_eq!(format_tty(&Reply::Bulk(None), ""), "(nil)\n");
        assert_eq!(format_tty(&Reply::Int(3), ""), "(integer) 3\n");
        assert_eq!(format_tty(&Reply::Error(b"ERR x".to_vec()), ""), "(error) ERR x\n");
        assert_eq!(format_tty(&Reply::Array(Some(vec![])), ""), "(empty array)\n");
        assert_eq!(format_tty(&Reply::Array(Some(vec![bulk("a"), bulk("b")])), ""), "1) \"a\"\n2) \"b\"\n");
        let ten: Vec<Reply> = (1..=10).map(|i| Reply::Int(i)).collect();
        let t = format_tty(&Reply::Array(Some(ten)), "");
        assert!(t.starts_with(" 1) (integer) 1\n 2) (integer) 2\n") && t.ends_with("10) (integer) 10\n"), "{t}");
        let nested = Reply::Array(Some(vec![bulk("x"), Reply::Array(Some(vec![bulk("a"), Reply::Bulk(None)]))]));
        assert_eq!(format_tty(&nested, ""), "1) \"x\"\n2) 1) \"a\"\n   2) (nil)\n");
    }

    #[test]
    fn info_is_printed_bare() {
        let w = |s: &[&str]| s.iter().map(|x| x.as_bytes().to_vec()).collect::<Vec<_>>();
        assert!(raw_strings(&w(&["INFO"])) && raw_strings(&w(&["client", "LIST"])));
        assert!(!raw_strings(&w(&["get", "info"])) && !raw_strings(&w(&["client", "getname"])));
    }

    #[test]
    fn raw_formatting() {
        assert_eq!(format_raw(&bulk("v")), b"v");
        assert_eq!(format_raw(&Reply::Int(3)), b"3");
        assert_eq!(format_raw(&Reply::Array(Some(vec![bulk("a"), bulk("b")]))), b"a\nb");
        assert_eq!(format_raw(&Reply::Bulk(None)), b"");
    }

    #[test]
    fn client_reads_split_replies() {
        /// Replays canned reply bytes a few at a time; records what was written.
        struct Fake {
            reply: Vec<u8>,
            pos: usize,
            sent: Vec<u8>,
        }
        impl Read for Fake {
            fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
                let n = (self.reply.len() - self.pos).min(3).min(b.len());
                b[..n].copy_from_slice(&self.reply[self.pos..self.pos + n]);
                self.pos += n;
                Ok(n)
            }
        }
        impl Write for Fake {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.sent.extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut c = Client {
            stream: Fake { reply: b"*2\r\n$5\r\nhello\r\n:7\r\n+OK\r\n".to_vec(), pos: 0, sent: Vec::new() },
            buf: Vec::new(),
        };
        let r = c.call(&[b"X".to_vec()]).unwrap();
        assert_eq!(r, Reply::Array(Some(vec![bulk("hello"), Reply::Int(7)])));
        assert_eq!(c.call(&[b"Y".to_vec()]).unwrap(), Reply::Status(b"OK".to_vec()));
        assert_eq!(c.stream.sent, b"*1\r\n$1\r\nX\r\n*1\r\n$1\r\nY\r\n");
        assert!(c.call(&[b"Z".to_vec()]).is_err());
    }
}
