//! `redis-server`: the command line, the start-up log, and the RESP service over the event
//! loop.

use std::io::Write;
use std::net::SocketAddrV4;
use std::ops::Range;

use serve::time::{now_ms, Civil};
use serve::{Ctx, Service, Step};

use crate::commands::{After, Server, Session, VERSION};
use crate::resp::{self, parse_request, Args, Request};

/// The server's settings from its command line (and config file).
#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    pub port: u16,
    pub config_file: Option<String>,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Serve(Options),
    /// Print this to stdout and exit 0.
    Print(String),
    /// Print this to stderr and exit 1.
    Fail(String),
}

/// `redis-server [/path/redis.conf] [--port N] [--name value ...]...`
pub fn parse_args(args: &[String], read: impl Fn(&str) -> std::io::Result<String>) -> Command {
    let mut opts = Options { port: 6379, config_file: None };
    let mut rest = args;
    match args.first().map(String::as_str) {
        Some("-v" | "--version") => {
            return Command::Print(format!("Redis server v={VERSION} sha=00000000:0 malloc=libc bits=32 build=0000000000000000\n"))
        }
        Some("-h" | "--help") => {
            return Command::Print(
                "Usage: ./redis-server [/path/to/redis.conf] [options] [-]\n       ./redis-server - (read config from stdin)\n       ./redis-server -v or --version\n       ./redis-server -h or --help\n\nExamples:\n       ./redis-server (run the server with default conf)\n       ./redis-server /etc/redis/6379.conf\n       ./redis-server --port 7777\n"
                    .into(),
            )
        }
        Some(f) if !f.starts_with("--") => {
            let text = match read(f) {
                Ok(t) => t,
                Err(e) => return Command::Fail(format!("Fatal error, can't open config file '{f}': {}\n", crate::errtext(&e))),
            };
            for line in text.lines() {
                let mut w = line.split_whitespace();
                if w.next().is_some_and(|k| k.eq_ignore_ascii_case("port")) {
                    if let Some(p) = w.next().and_then(|p| p.parse().ok()) {
                        opts.port = p;
                    }
                }
            }
            opts.config_file = Some(f.to_string());
            rest = &args[1..];
        }
        _ => {}
    }
    let mut i = 0;
    while i < rest.len() {
        let a = &rest[i];
        let Some(name) = a.strip_prefix("--") else {
            return Command::Fail(format!(
                "\n*** FATAL CONFIG FILE ERROR (Redis {VERSION}) ***\nReading the configuration file, at line 2\n>>> '{a}'\nBad directive or wrong number of arguments\n"
            ));
        };
        // The option's values run up to the next `--name`.
        let mut j = i + 1;
        while j < rest.len() && !rest[j].starts_with("--") {
            j += 1;
        }
        if name.eq_ignore_ascii_case("port") {
            match rest.get(i + 1).and_then(|p| p.parse::<u16>().ok()) {
                Some(p) if j == i + 2 => opts.port = p,
                _ => {
                    return Command::Fail(format!(
                        "\n*** FATAL CONFIG FILE ERROR (Redis {VERSION}) ***\nReading the configuration file, at line 2\n>>> 'port {}'\nInvalid port\n",
                        rest[i + 1..j].join(" ")
                    ))
                }
            }
        }
        i = j;
    }
    Command::Serve(opts)
}

/// `1:C 24 Nov 2026 10:00:00.000 # text` (role `C` before start-up, `M` after).
pub fn log_line(role: char, level: char, text: &str, ms: u64) -> String {
    let mut t = Vec::new();
    Civil::from_ms(ms).push_redis(&mut t);
    format!("1:{role} {} {level} {text}\n", String::from_utf8_lossy(&t))
}

/// The lines redis 7 logs when it starts.
pub fn startup_log(opts: &Options, had_args: bool, ms: u64) -> String {
    let mut s = log_line('C', '#', "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo", ms);
    s += &log_line(
        'C',
        '#',
        &format!("Redis version={VERSION}, bits=32, commit=00000000, modified=0, pid=1, just started"),
        ms,
    );
    if had_args {
        s += &log_line('C', '#', "Configuration loaded", ms);
    } else {
        s += &log_line(
            'C',
            '#',
            "Warning: no config file specified, using the default config. In order to specify a config file use redis-server /path/to/redis.conf",
            ms,
        );
    }
    s += &log_line('M', '*', "monotonic clock: POSIX clock_gettime", ms);
    s += &log_line('M', '*', &format!("Running mode=standalone, port={}.", opts.port), ms);
    s += &log_line('M', '#', "Server initialized", ms);
    s += &log_line('M', '*', "Ready to accept connections", ms);
    s
}

/// The RESP service: parses requests and runs them on the [`Server`].
pub struct Resp {
    pub server: Server,
    ranges: Vec<Range<usize>>,
    inline: Vec<u8>,
}

impl Resp {
    pub fn new(server: Server) -> Resp {
        Resp { server, ranges: Vec::new(), inline: Vec::new() }
    }
}

impl Service for Resp {
    type Conn = Session;

    fn stopping(&mut self, sig: i32, log: &mut Vec<u8>) {
        let ms = serve::time::now_ms();
        let name = skiff_guest::proc::sig::name(sig);
        log.extend_from_slice(
            format!("1:signal-handler ({}) Received SIG{name} scheduling shutdown...\n", ms / 1000).as_bytes(),
        );
        log.extend_from_slice(log_line('M', '#', "User requested shutdown...", ms).as_bytes());
        log.extend_from_slice(log_line('M', '#', "Redis is now ready to exit, bye bye...", ms).as_bytes());
    }

    fn open(&mut self, _peer: SocketAddrV4) -> Session {
        self.server.connect()
    }

    fn close(&mut self, _s: Session) {
        self.server.disconnect();
    }

    fn max_input(&self) -> usize {
        (crate::resp::MAX_BULK as usize) + (1 << 20)
    }

    fn step(&mut self, s: &mut Session, input: &[u8], cx: &mut Ctx) -> Step {
        match parse_request(input, &mut self.ranges, &mut self.inline) {
            Request::Need => Step::Need,
            Request::Empty { used } => Step::Used(used),
            Request::Error(msg) => {
                resp::error(cx.out, &format!("ERR Protocol error: {msg}"));
                Step::Close(input.len())
            }
            Request::Command { used, inline } => {
                let src = if inline { &self.inline[..] } else { input };
                let args = Args::new(src, &self.ranges);
                match self.server.execute(s, &args, cx.now_ms, cx.out) {
                    After::Continue => Step::Used(used),
                    After::Close => Step::Close(used),
                    After::Shutdown => {
                        let ms = now_ms();
                        let mut o = std::io::stdout();
                        let _ = o.write_all(cx.log);
                        let _ = o.write_all(
                            (log_line('M', '#', "User requested shutdown...", ms)
                                + &log_line('M', '#', "Redis is now ready to exit, bye bye...", ms))
                                .as_bytes(),
                        );
                        let _ = o.flush();
                        std::process::exit(0);
                    }
                }
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

    fn no_file(_: &str) -> std::io::Result<String> {
        Err(std::io::ErrorKind::NotFound.into())
    }

    #[test]
    fn command_lines() {
        assert_eq!(parse_args(&v(&[]), no_file), Command::Serve(Options { port: 6379, config_file: None }));
        assert_eq!(
            parse_args(&v(&["--port", "7000"]), no_file),
            Command::Serve(Options { port: 7000, config_file: None })
        );
        assert_eq!(
            parse_args(&v(&["--save", "60", "1", "--appendonly", "yes", "--port", "7001"]), no_file),
            Command::Serve(Options { port: 7001, config_file: None })
        );
        assert!(matches!(parse_args(&v(&["--port", "x"]), no_file), Command::Fail(_)));
        assert!(
            matches!(parse_args(&v(&["/etc/redis.conf"]), no_file), Command::Fail(e) if e.starts_with("Fatal error, can't open config file '/etc/redis.conf'"))
        );
        let conf = |_: &str| Ok("# comment\nport 6380\nsave 60 1\n".to_string());
        assert_eq!(
            parse_args(&v(&["/r.conf", "--loglevel", "debug"]), conf),
            Command::Serve(Options { port: 6380, config_file: Some("/r.conf".into()) })
        );
        assert!(
            matches!(parse_args(&v(&["-v"]), no_file), Command::Print(p) if p.starts_with("Redis server v=7.0.4 "))
        );
    }

    #[test]
    fn startup_lines() {
        let log = startup_log(&Options { port: 6379, config_file: None }, false, 1_795_514_400_000);
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines[0], "1:C 24 Nov 2026 10:00:00.000 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo");
        assert_eq!(lines[1], "1:C 24 Nov 2026 10:00:00.000 # Redis version=7.0.4, bits=32, commit=00000000, modified=0, pid=1, just started");
        assert_eq!(*lines.last().unwrap(), "1:M 24 Nov 2026 10:00:00.000 * Ready to accept connections");
    }

    /// Feed `input` through the service as one connection.
    fn talk(r: &mut Resp, input: &[u8]) -> (String, Vec<Step>) {
        let (mut out, mut log) = (Vec::new(), Vec::new());
        let mut s = r.open(SocketAddrV4::new([127, 0, 0, 1].into(), 1));
        let mut pos = 0;
        let mut steps = Vec::new();
        while pos < input.len() {
            let mut cx = Ctx { out: &mut out, log: &mut log, now_ms: 0, wake: 1 };
            let st = r.step(&mut s, &input[pos..], &mut cx);
            steps.push(st);
            match st {
                Step::Need => break,
                Step::Used(n) => pos += n,
                Step::Close(_) => break,
            }
        }
        (String::from_utf8(out).unwrap(), steps)
    }

    #[test]
    fn service_pipelines_mixed_requests() {
        let mut r = Resp::new(Server::new(6379, 0));
        let (out, steps) = talk(
            &mut r,
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\n\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nQUIT\r\nPING\r\n",
        );
        assert_eq!(out, "+OK\r\n$1\r\nv\r\n$1\r\nv\r\n+OK\r\n");
        assert_eq!(steps.last(), Some(&Step::Close(6)));
        let (out, steps) = talk(&mut r, b"*1\r\n+PING\r\n");
        assert_eq!(out, "-ERR Protocol error: expected '$', got '+'\r\n");
        assert!(matches!(steps[0], Step::Close(_)));
        let (_, steps) = talk(&mut r, b"*2\r\n$3\r\nGET\r\n$1\r\n");
        assert_eq!(steps, vec![Step::Need]);
    }
}
