//! `psql`: a line-based client for the image (`skiff exec -it pg psql -U postgres`): it
//! connects over TCP (`PGHOST`, default 127.0.0.1, which the image's pg_hba.conf trusts),
//! authenticates (trust, password, md5, SCRAM-SHA-256), runs `-c` commands or what stdin
//! gives it, and prints results as psql does (aligned tables, `-A`, `-t`).

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};

use crate::auth::{md5_response, ScramClient};
use crate::proto::{self, Reader};
use crate::sql::catalog;

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub db: String,
    pub password: Option<String>,
    pub commands: Vec<String>,
    pub file: Option<String>,
    pub tuples_only: bool,
    pub unaligned: bool,
    pub field_sep: String,
    pub quiet: bool,
    pub on_error_stop: bool,
    pub list: bool,
    pub no_password: bool,
}

pub enum Parsed {
    Run(Box<Options>),
    Print(String),
    Fail(String),
}

const HELP: &str = "psql is the PostgreSQL interactive terminal (skiff's teaching edition).

Usage:
  psql [OPTION]... [DBNAME [USERNAME]]

General options:
  -c, --command=COMMAND    run only single command (SQL or internal) and exit
  -d, --dbname=DBNAME      database name to connect to
  -f, --file=FILENAME      execute commands from file, then exit
  -l, --list               list available databases, then exit
  -v, --set=NAME=VALUE     set psql variable NAME to VALUE (ON_ERROR_STOP=1 is honored)
  -V, --version            output version information, then exit
  -X, --no-psqlrc          do not read startup file (there is none)
  -?, --help               show this help, then exit

Output format options:
  -A, --no-align           unaligned table output mode
  -F, --field-separator=STRING
                           field separator for unaligned output (default: \"|\")
  -q, --quiet              run quietly (no messages, only query output)
  -t, --tuples-only        print rows only

Connection options:
  -h, --host=HOSTNAME      database server host (default: \"127.0.0.1\")
  -p, --port=PORT          database server port (default: \"5432\")
  -U, --username=USERNAME  database user name
  -w, --no-password        never prompt for password
  -W, --password           force password prompt (should happen automatically)
";

pub fn parse_args(args: &[String]) -> Parsed {
    let envv = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut o = Options {
        // Empty (or a directory): the server's Unix socket, as psql's default.
        host: envv("PGHOST").unwrap_or_default(),
        port: envv("PGPORT").and_then(|p| p.parse().ok()).unwrap_or(5432),
        user: envv("PGUSER").or_else(|| envv("USER")).unwrap_or_else(|| "root".into()),
        db: String::new(),
        password: envv("PGPASSWORD"),
        commands: vec![],
        file: None,
        tuples_only: false,
        unaligned: false,
        field_sep: "|".into(),
        quiet: false,
        on_error_stop: false,
        list: false,
        no_password: false,
    };
    let mut db = envv("PGDATABASE");
    let mut user_given = false;
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        // --name=value and -xVALUE forms
        let (flag, inline): (String, Option<String>) = if let Some(rest) = a.strip_prefix("--") {
            match rest.split_once('=') {
                Some((k, v)) => (format!("--{k}"), Some(v.to_string())),
                None => (a.to_string(), None),
            }
        } else if a.len() > 2 && a.starts_with('-') && "hpUdcfvF".contains(&a[1..2]) {
            (a[..2].to_string(), Some(a[2..].to_string()))
        } else if a.len() > 2 && a.starts_with('-') && a[1..].chars().all(|c| "AtqXwWlenaxs".contains(c)) {
            // bundled flags: -At
            for c in a[1..].chars() {
                match c {
                    'A' => o.unaligned = true,
                    't' => o.tuples_only = true,
                    'q' => o.quiet = true,
                    'l' => o.list = true,
                    'w' => o.no_password = true,
                    _ => {}
                }
            }
            i += 1;
            continue;
        } else {
            (a.to_string(), None)
        };
        let takes = matches!(
            flag.as_str(),
            "-h" | "--host"
                | "-p"
                | "--port"
                | "-U"
                | "--username"
                | "-d"
                | "--dbname"
                | "-c"
                | "--command"
                | "-f"
                | "--file"
                | "-v"
                | "--set"
                | "--variable"
                | "-F"
                | "--field-separator"
        );
        let value = if takes {
            match inline.or_else(|| {
                i += 1;
                args.get(i).cloned()
            }) {
                Some(v) => v,
                None => return Parsed::Fail(format!("psql: error: option requires an argument -- '{}'\npsql: hint: Try \"psql --help\" for more information.\n", flag.trim_start_matches('-'))),
            }
        } else {
            String::new()
        };
        match flag.as_str() {
            "-h" | "--host" => o.host = value,
            "-p" | "--port" => match value.parse() {
                Ok(p) => o.port = p,
                Err(_) => return Parsed::Fail(format!("psql: error: invalid port number: \"{value}\"\n")),
            },
            "-U" | "--username" => {
                o.user = value;
                user_given = true;
            }
            "-d" | "--dbname" => db = Some(value),
            "-c" | "--command" => o.commands.push(value),
            "-f" | "--file" => o.file = Some(value),
            "-F" | "--field-separator" => o.field_sep = value,
            "-v" | "--set" | "--variable" => {
                let v = value.to_ascii_uppercase().replace(' ', "");
                if v == "ON_ERROR_STOP=1" || v == "ON_ERROR_STOP=ON" || v == "ON_ERROR_STOP=TRUE" {
                    o.on_error_stop = true;
                }
            }
            "-A" | "--no-align" => o.unaligned = true,
            "-t" | "--tuples-only" => o.tuples_only = true,
            "-q" | "--quiet" => o.quiet = true,
            "-l" | "--list" => o.list = true,
            "-w" | "--no-password" => o.no_password = true,
            "-W" | "--password" | "-X" | "--no-psqlrc" | "-e" | "-a" | "-n" | "--echo-queries" | "--echo-all"
            | "--no-readline" => {}
            "-V" | "--version" => return Parsed::Print(format!("psql (PostgreSQL) {}\n", crate::server_version())),
            "-?" | "--help" => return Parsed::Print(HELP.into()),
            s if s.starts_with('-') && s.len() > 1 => {
                return Parsed::Fail(format!(
                    "psql: error: unrecognized option '{s}'\npsql: hint: Try \"psql --help\" for more information.\n"
                ));
            }
            _ => positional.push(value_or(a)),
        }
        i += 1;
    }
    if let Some(p) = positional.first() {
        if let Some(uri) = p.strip_prefix("postgresql://").or_else(|| p.strip_prefix("postgres://")) {
            apply_uri(&mut o, uri, &mut db, &mut user_given);
        } else {
            db = Some(p.clone());
        }
    }
    if let Some(u) = positional.get(1) {
        o.user = u.clone();
        user_given = true;
    }
    let _ = user_given;
    o.db = db.unwrap_or_else(|| o.user.clone());
    Parsed::Run(Box::new(o))
}

fn value_or(a: &str) -> String {
    a.to_string()
}

/// `user:password@host:port/db`
fn apply_uri(o: &mut Options, uri: &str, db: &mut Option<String>, user_given: &mut bool) {
    let uri = uri.split('?').next().unwrap_or(uri);
    let (auth, rest) = match uri.rsplit_once('@') {
        Some((a, r)) => (Some(a), r),
        None => (None, uri),
    };
    if let Some(a) = auth {
        let (u, p) = a.split_once(':').map(|(u, p)| (u, Some(p))).unwrap_or((a, None));
        if !u.is_empty() {
            o.user = u.to_string();
            *user_given = true;
        }
        if let Some(p) = p {
            o.password = Some(p.to_string());
        }
    }
    let (hp, d) = rest.split_once('/').unwrap_or((rest, ""));
    let (h, p) = hp.split_once(':').unwrap_or((hp, ""));
    if !h.is_empty() {
        o.host = h.to_string();
    }
    if let Ok(p) = p.parse() {
        o.port = p;
    }
    if !d.is_empty() {
        *db = Some(d.to_string());
    }
}

// ---- the connection ----

/// One result of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Res {
    Rows {
        cols: Vec<(String, u32)>,
        rows: Vec<Vec<Option<String>>>,
        tag: String,
    },
    Command(String),
    Empty,
    /// ErrorResponse / NoticeResponse fields.
    Error(Vec<(u8, String)>),
    Notice(Vec<(u8, String)>),
}

pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    pub superuser: bool,
    pub server_version: String,
    pub user: String,
    pub db: String,
    pub host: String,
    pub port: u16,
}

fn resolve(host: &str) -> Result<Ipv4Addr, String> {
    let h = if host == "localhost" { "127.0.0.1" } else { host };
    serve::sys::resolve(h)
        .map_err(|_| format!("could not translate host name \"{host}\" to address: Name or service not known"))
}

fn field(fields: &[(u8, String)], code: u8) -> Option<&str> {
    fields.iter().find(|(c, _)| *c == code).map(|(_, v)| v.as_str())
}

impl Conn {
    pub fn connect(o: &Options) -> Result<Conn, String> {
        // The socket: WASI has none, so it is TCP to 127.0.0.1 showing the token the server
        // left in the socket file (which only this container can read).
        let socket = o.host.is_empty() || o.host.starts_with('/');
        let dir = if o.host.starts_with('/') { o.host.trim_end_matches('/') } else { "/var/run/postgresql" };
        let path = format!("{dir}/.s.PGSQL.{}", o.port);
        let token = std::fs::read_to_string(&path).ok().map(|t| t.trim().to_string());
        let (ip, at) = if socket {
            let at = format!("connection to server on socket \"{path}\" failed");
            if token.is_none() {
                return Err(format!("{at}: No such file or directory\n\tIs the server running locally and accepting connections on that socket?"));
            }
            (Ipv4Addr::LOCALHOST, at)
        } else {
            let ip = resolve(&o.host)?;
            let at = if o.host.parse::<Ipv4Addr>().is_ok() {
                format!("connection to server at \"{}\", port {} failed", o.host, o.port)
            } else {
                format!("connection to server at \"{}\" ({ip}), port {} failed", o.host, o.port)
            };
            (ip, at)
        };
        let stream = serve::sys::connect(SocketAddrV4::new(ip, o.port)).map_err(|e| {
            let why = match e.kind() {
                io::ErrorKind::ConnectionRefused => "Connection refused".to_string(),
                _ => {
                    let s = e.to_string();
                    s.split(" (os error").next().unwrap_or(&s).to_string()
                }
            };
            if socket {
                format!("{at}: {why}\n\tIs the server running locally and accepting connections on that socket?")
            } else {
                format!("{at}: {why}\n\tIs the server running on that host and accepting TCP/IP connections?")
            }
        })?;
        let mut c = Conn {
            stream,
            buf: Vec::new(),
            superuser: false,
            server_version: String::new(),
            user: o.user.clone(),
            db: o.db.clone(),
            host: o.host.clone(),
            port: o.port,
        };
        let mut m = Vec::new();
        proto::startup_message(
            &mut m,
            &[("user", &o.user), ("database", &o.db), ("application_name", "psql"), ("client_encoding", "UTF8")],
        );
        if let Some(t) = token.filter(|_| socket || ip.is_loopback()) {
            // (appended to the start-up packet before its final NUL)
            m.pop();
            for (k, v) in [("skiff_local", t.as_str())].into_iter().chain(socket.then_some(("skiff_socket", "1"))) {
                proto::cstr(&mut m, k);
                proto::cstr(&mut m, v);
            }
            m.push(0);
            let len = m.len() as i32;
            m[..4].copy_from_slice(&len.to_be_bytes());
        }
        c.send(&m).map_err(|e| format!("{at}: {e}"))?;
        let mut scram: Option<ScramClient> = None;
        let password = |o: &Options| -> Result<String, String> {
            if let Some(p) = &o.password {
                return Ok(p.clone());
            }
            if !o.no_password && io::stdin().is_terminal() {
                eprint!("Password for user {}: ", o.user);
                let _ = io::stderr().flush();
                let mut line = String::new();
                let _ = io::stdin().lock().read_line(&mut line);
                return Ok(line.trim_end_matches(['\r', '\n']).to_string());
            }
            Err(format!("{at}: fe_sendauth: no password supplied"))
        };
        loop {
            let (tag, body) =
                c.read_msg().map_err(|e| format!("{at}: server closed the connection unexpectedly ({e})"))?;
            match tag {
                b'R' => {
                    let mut r = Reader::new(&body);
                    match r.i32().unwrap_or(-1) {
                        0 => {}
                        3 => {
                            let pw = password(o)?;
                            let mut m = Vec::new();
                            proto::put(&mut m, b'p', |b| proto::cstr(b, &pw));
                            c.send(&m).map_err(|e| e.to_string())?;
                        }
                        5 => {
                            let salt = r.bytes(4).map_err(|e| e.to_string())?.to_vec();
                            let pw = password(o)?;
                            let mut m = Vec::new();
                            proto::put(&mut m, b'p', |b| proto::cstr(b, &md5_response(&o.user, &pw, &salt)));
                            c.send(&m).map_err(|e| e.to_string())?;
                        }
                        10 => {
                            let pw = password(o)?;
                            let client = ScramClient::new(&pw);
                            let first = client.client_first();
                            let mut m = Vec::new();
                            proto::put(&mut m, b'p', |b| {
                                proto::cstr(b, "SCRAM-SHA-256");
                                proto::i32be(b, first.len() as i32);
                                b.extend_from_slice(first.as_bytes());
                            });
                            c.send(&m).map_err(|e| e.to_string())?;
                            scram = Some(client);
                        }
                        11 => {
                            let client = scram.as_mut().ok_or("unexpected SASL message")?;
                            let fin = client.client_final(&String::from_utf8_lossy(r.rest()))?;
                            let mut m = Vec::new();
                            proto::put(&mut m, b'p', |b| b.extend_from_slice(fin.as_bytes()));
                            c.send(&m).map_err(|e| e.to_string())?;
                        }
                        12 => {
                            let ok = scram.as_ref().is_some_and(|s| s.verify(&String::from_utf8_lossy(r.rest())));
                            if !ok {
                                return Err(format!("{at}: invalid SCRAM server signature"));
                            }
                        }
                        n => {
                            return Err(format!(
                                "{at}: authentication method requested by the server is not supported ({n})"
                            ))
                        }
                    }
                }
                b'S' => {
                    let mut r = Reader::new(&body);
                    let k = r.cstr().unwrap_or_default();
                    let v = r.cstr().unwrap_or_default();
                    match k.as_str() {
                        "is_superuser" => c.superuser = v == "on",
                        "server_version" => c.server_version = v,
                        _ => {}
                    }
                }
                b'K' | b'N' => {}
                b'E' => {
                    let f = proto::error_fields(&body);
                    return Err(format!(
                        "{at}: {}:  {}",
                        field(&f, b'S').unwrap_or("FATAL"),
                        field(&f, b'M').unwrap_or("")
                    ));
                }
                b'Z' => return Ok(c),
                _ => {}
            }
        }
    }

    fn send(&mut self, b: &[u8]) -> io::Result<()> {
        self.stream.write_all(b)
    }

    fn read_msg(&mut self) -> io::Result<(u8, Vec<u8>)> {
        loop {
            match proto::message(&self.buf) {
                Ok(Some((t, body, n))) => {
                    let r = (t, body.to_vec());
                    self.buf.drain(..n);
                    return Ok(r);
                }
                Ok(None) => {}
                Err(e) => return Err(io::Error::other(e)),
            }
            let mut chunk = [0u8; 16384];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Run `sql` (simple protocol): every result up to ReadyForQuery.
    pub fn query(&mut self, sql: &str) -> io::Result<Vec<Res>> {
        let mut m = Vec::new();
        proto::query(&mut m, sql);
        self.send(&m)?;
        let mut out = Vec::new();
        let mut cur: Option<(Vec<(String, u32)>, Vec<Vec<Option<String>>>)> = None;
        loop {
            let (tag, body) = self.read_msg()?;
            let mut r = Reader::new(&body);
            match tag {
                b'T' => {
                    let n = r.i16().unwrap_or(0);
                    let mut cols = Vec::new();
                    for _ in 0..n {
                        let name = r.cstr().unwrap_or_default();
                        let _ = r.i32();
                        let _ = r.i16();
                        let oid = r.i32().unwrap_or(25) as u32;
                        let _ = r.i16();
                        let _ = r.i32();
                        let _ = r.i16();
                        cols.push((name, oid));
                    }
                    cur = Some((cols, Vec::new()));
                }
                b'D' => {
                    let n = r.i16().unwrap_or(0);
                    let mut row = Vec::new();
                    for _ in 0..n {
                        let len = r.i32().unwrap_or(-1);
                        row.push(if len < 0 {
                            None
                        } else {
                            Some(String::from_utf8_lossy(r.bytes(len as usize).unwrap_or_default()).into_owned())
                        });
                    }
                    if let Some((_, rows)) = cur.as_mut() {
                        rows.push(row);
                    }
                }
                b'C' => {
                    let t = r.cstr().unwrap_or_default();
                    match cur.take() {
                        Some((cols, rows)) => out.push(Res::Rows { cols, rows, tag: t }),
                        None => out.push(Res::Command(t)),
                    }
                }
                b'I' => out.push(Res::Empty),
                b'E' => {
                    cur = None;
                    out.push(Res::Error(proto::error_fields(&body)));
                }
                b'N' => out.push(Res::Notice(proto::error_fields(&body))),
                b'Z' => return Ok(out),
                _ => {}
            }
        }
    }

    pub fn terminate(mut self) {
        let mut m = Vec::new();
        proto::simple(&mut m, b'X');
        let _ = self.send(&m);
    }
}

/// For pg_isready: does a server answer a start-up packet at all?
pub fn probe(host: &str, port: u16) -> Result<(), String> {
    let ip = resolve(host)?;
    let mut s = serve::sys::connect(SocketAddrV4::new(ip, port)).map_err(|e| e.to_string())?;
    let mut m = Vec::new();
    proto::startup_message(&mut m, &[("user", "")]);
    s.write_all(&m).map_err(|e| e.to_string())?;
    let mut b = [0u8; 1];
    match s.read(&mut b) {
        Ok(1) if b[0] == b'E' || b[0] == b'R' => Ok(()),
        _ => Err("no response".into()),
    }
}

// ---- output ----

fn right_aligned(oid: u32) -> bool {
    matches!(oid, 20 | 21 | 23 | 26 | 700 | 701 | 1700)
}

fn width(s: &str) -> usize {
    s.chars().count()
}

pub struct Format {
    pub tuples_only: bool,
    pub unaligned: bool,
    pub field_sep: String,
}

/// A result table as psql prints it (with `title` centered above, for `\dt` and `\l`).
pub fn table(cols: &[(String, u32)], rows: &[Vec<Option<String>>], f: &Format, title: Option<&str>) -> String {
    let mut s = String::new();
    let cell = |v: &Option<String>| v.clone().unwrap_or_default();
    let footer = if rows.len() == 1 { "(1 row)\n".to_string() } else { format!("({} rows)\n", rows.len()) };
    if f.unaligned {
        if !f.tuples_only {
            if let Some(t) = title {
                s += t;
                s.push('\n');
            }
            s += &cols.iter().map(|c| c.0.clone()).collect::<Vec<_>>().join(&f.field_sep);
            s.push('\n');
        }
        for r in rows {
            s += &r.iter().map(cell).collect::<Vec<_>>().join(&f.field_sep);
            s.push('\n');
        }
        if !f.tuples_only {
            s += &footer;
        }
        return s;
    }
    let mut w: Vec<usize> = cols.iter().map(|c| if f.tuples_only { 0 } else { width(&c.0) }).collect();
    for r in rows {
        for (i, v) in r.iter().enumerate() {
            if i < w.len() {
                for line in cell(v).split('\n') {
                    w[i] = w[i].max(width(line));
                }
            }
        }
    }
    let total: usize = w.iter().sum::<usize>() + 3 * w.len().saturating_sub(1) + 2;
    if !f.tuples_only {
        if let Some(t) = title {
            let pad = total.saturating_sub(width(t)) / 2;
            s += &" ".repeat(pad);
            s += t;
            s.push('\n');
        }
        let mut line = String::new();
        for (i, c) in cols.iter().enumerate() {
            let extra = w[i] - width(&c.0);
            let left = extra / 2;
            line += if i == 0 { " " } else { " | " };
            line += &" ".repeat(left);
            line += &c.0;
            line += &" ".repeat(extra - left);
        }
        line.push(' ');
        s += &line;
        s.push('\n');
        s += &w.iter().map(|n| "-".repeat(n + 2)).collect::<Vec<_>>().join("+");
        s.push('\n');
    }
    for r in rows {
        // A multi-line value: one printed line per line of text.
        let lines: Vec<Vec<String>> = r.iter().map(|v| cell(v).split('\n').map(str::to_string).collect()).collect();
        let height = lines.iter().map(Vec::len).max().unwrap_or(1);
        for k in 0..height {
            let mut line = String::new();
            for (i, col) in cols.iter().enumerate() {
                let text = lines.get(i).and_then(|l| l.get(k)).cloned().unwrap_or_default();
                let more = lines.get(i).is_some_and(|l| k + 1 < l.len());
                line += if i == 0 { " " } else { " | " };
                let pad = w[i] - width(&text);
                let last = i + 1 == cols.len();
                if right_aligned(col.1) {
                    line += &" ".repeat(pad);
                    line += &text;
                } else {
                    line += &text;
                    if !last || more {
                        line += &" ".repeat(pad);
                    }
                }
                if more {
                    line.push('+');
                }
            }
            s += &line;
            s.push('\n');
        }
    }
    if !f.tuples_only && title != Some("List of roles") {
        s += &footer;
    }
    s.push('\n');
    s
}

/// An error as psql shows it, with `LINE n:` and a caret when the server gave a position.
pub fn error_text(fields: &[(u8, String)], sql: &str) -> String {
    let sev = field(fields, b'S').unwrap_or("ERROR");
    let mut s = format!("{sev}:  {}\n", field(fields, b'M').unwrap_or(""));
    if let Some(p) = field(fields, b'P').and_then(|p| p.parse::<usize>().ok()) {
        let chars: Vec<char> = sql.chars().collect();
        let p = p.saturating_sub(1).min(chars.len());
        let line_start = chars[..p].iter().rposition(|&c| c == '\n').map(|i| i + 1).unwrap_or(0);
        let line_end = chars[p..].iter().position(|&c| c == '\n').map(|i| p + i).unwrap_or(chars.len());
        let line_no = chars[..p].iter().filter(|&&c| c == '\n').count() + 1;
        let prefix = format!("LINE {line_no}: ");
        let text: String = chars[line_start..line_end].iter().collect();
        s += &format!("{prefix}{text}\n");
        s += &" ".repeat(width(&prefix) + (p - line_start));
        s += "^\n";
    }
    if let Some(d) = field(fields, b'D') {
        s += &format!("DETAIL:  {d}\n");
    }
    if let Some(h) = field(fields, b'H') {
        s += &format!("HINT:  {h}\n");
    }
    s
}

// ---- the program ----

struct Client {
    conn: Conn,
    opts: Options,
    fmt: Format,
    failed: bool,
}

impl Client {
    /// Run one SQL string and print what it gave; false when an error happened.
    fn run_sql(&mut self, sql: &str, title: Option<&str>) -> io::Result<bool> {
        let results = self.conn.query(sql)?;
        let mut ok = true;
        let mut out = io::stdout().lock();
        for r in results {
            match r {
                Res::Rows { cols, rows, tag } => {
                    if title.is_some() && rows.is_empty() && !self.fmt.tuples_only {
                        if let Some(msg) = empty_message(title.unwrap_or("")) {
                            let _ = out.flush();
                            eprintln!("{msg}");
                            continue;
                        }
                    }
                    let _ = tag;
                    write!(out, "{}", table(&cols, &rows, &self.fmt, title))?;
                }
                Res::Command(tag) => {
                    if !self.opts.quiet {
                        writeln!(out, "{tag}")?;
                    }
                }
                Res::Empty => {}
                Res::Error(f) => {
                    ok = false;
                    out.flush()?;
                    eprint!("{}", error_text(&f, sql));
                }
                Res::Notice(f) => {
                    out.flush()?;
                    eprint!("{}", error_text(&f, ""));
                }
            }
        }
        out.flush()?;
        Ok(ok)
    }

    /// A backslash command; Ok(false) for `\q`.
    fn meta(&mut self, line: &str) -> io::Result<bool> {
        let mut words = line.split_whitespace();
        let cmd = words.next().unwrap_or("");
        let arg = words.next();
        match cmd {
            "\\q" | "\\quit" => return Ok(false),
            "\\dt" | "\\dt+" => {
                let ok = self.run_sql(&catalog::psql_list_tables(arg), Some("List of relations"))?;
                self.failed |= !ok;
            }
            "\\d" | "\\d+" => match arg {
                None => {
                    let ok = self.run_sql(&catalog::psql_list_relations(), Some("List of relations"))?;
                    self.failed |= !ok;
                }
                Some(name) => self.describe(name)?,
            },
            "\\l" | "\\list" | "\\l+" => {
                let ok = self.run_sql(catalog::PSQL_LIST_DATABASES, Some("List of databases"))?;
                self.failed |= !ok;
            }
            "\\dn" => {
                let ok = self.run_sql(catalog::PSQL_LIST_SCHEMAS, Some("List of schemas"))?;
                self.failed |= !ok;
            }
            "\\du" => {
                let ok = self.run_sql(catalog::PSQL_LIST_ROLES, Some("List of roles"))?;
                self.failed |= !ok;
            }
            "\\conninfo" => {
                if self.conn.host.is_empty() || self.conn.host.starts_with('/') {
                    let dir = if self.conn.host.is_empty() { "/var/run/postgresql" } else { self.conn.host.as_str() };
                    println!("You are connected to database \"{}\" as user \"{}\" via socket in \"{dir}\" at port \"{}\".", self.conn.db, self.conn.user, self.conn.port);
                } else {
                    println!("You are connected to database \"{}\" as user \"{}\" on host \"{}\" at port \"{}\".", self.conn.db, self.conn.user, self.conn.host, self.conn.port);
                }
            }
            "\\c" | "\\connect" => {
                let mut o = self.opts.clone();
                if let Some(d) = arg {
                    o.db = d.to_string();
                }
                if let Some(u) = words.next() {
                    o.user = u.to_string();
                }
                match Conn::connect(&o) {
                    Ok(c) => {
                        println!("You are now connected to database \"{}\" as user \"{}\".", o.db, o.user);
                        let old = std::mem::replace(&mut self.conn, c);
                        old.terminate();
                        self.opts = o;
                    }
                    Err(e) => {
                        eprintln!("{e}");
                        eprintln!("Previous connection kept");
                        self.failed = true;
                    }
                }
            }
            "\\?" => print!("General\n  \\q                     quit psql\n  \\c [DBNAME [USER]]     connect to new database\n  \\conninfo              display information about current connection\n\nInformational\n  \\d [NAME]              list tables, or describe table NAME\n  \\dt [PATTERN]          list tables\n  \\dn                    list schemas\n  \\du                    list roles\n  \\l                     list databases\n"),
            _ => {
                eprintln!("invalid command {cmd}\nTry \\? for help.");
                self.failed = true;
            }
        }
        Ok(true)
    }

    /// `\d name`: the table's columns and indexes, as psql shows them.
    fn describe(&mut self, name: &str) -> io::Result<()> {
        let res = self.conn.query(&catalog::psql_describe_columns(name))?;
        let rows = match res.into_iter().next() {
            Some(Res::Rows { rows, .. }) if !rows.is_empty() => rows,
            _ => {
                eprintln!("Did not find any relation named \"{name}\".");
                self.failed = true;
                return Ok(());
            }
        };
        let cols = vec![
            ("Column".to_string(), 25),
            ("Type".to_string(), 25),
            ("Collation".to_string(), 25),
            ("Nullable".to_string(), 25),
            ("Default".to_string(), 25),
        ];
        let body: Vec<Vec<Option<String>>> = rows
            .iter()
            .map(|r| {
                let get = |i: usize| r.get(i).cloned().flatten();
                vec![
                    get(0),
                    get(1),
                    Some(get(4).unwrap_or_default()),
                    Some(if get(3).as_deref() == Some("t") { "not null".into() } else { String::new() }),
                    Some(get(2).unwrap_or_default()),
                ]
            })
            .collect();
        let shown = name.rsplit('.').next().unwrap_or(name).trim_matches('"');
        let text = table(&cols, &body, &self.fmt, Some(&format!("Table \"public.{shown}\"")));
        // \d prints no row count; its footers list the indexes.
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        while lines.last().is_some_and(|l| l.is_empty() || (l.starts_with('(') && l.ends_with(')'))) {
            lines.pop();
        }
        let idx = self.conn.query(&catalog::psql_describe_indexes(name))?;
        if let Some(Res::Rows { rows, .. }) = idx.into_iter().next() {
            if !rows.is_empty() {
                lines.push("Indexes:".into());
                for r in rows {
                    let get = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
                    let using = get(5).split(" USING ").nth(1).unwrap_or("").to_string();
                    let kind = if get(7) == "p" { "PRIMARY KEY" } else { "UNIQUE CONSTRAINT" };
                    lines.push(format!("    \"{}\" {kind}, {using}", get(0)));
                }
            }
        }
        println!("{}\n", lines.join("\n"));
        Ok(())
    }
}

fn empty_message(title: &str) -> Option<&'static str> {
    match title {
        "List of relations" => Some("Did not find any relations."),
        _ => None,
    }
}

/// Split input into complete statements at `;` outside quotes and comments; returns the
/// statements and what is left over.
pub fn split_statements(buf: &str) -> (Vec<String>, String) {
    let mut out = Vec::new();
    let b: Vec<char> = buf.chars().collect();
    let mut start = 0;
    let mut i = 0;
    let mut quote: Option<char> = None;
    let mut depth = 0i32;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '-' if b.get(i + 1) == Some(&'-') => {
                    while i < b.len() && b[i] != '\n' {
                        i += 1;
                    }
                    continue;
                }
                '(' => depth += 1,
                ')' => depth -= 1,
                ';' if depth <= 0 => {
                    let stmt: String = b[start..=i].iter().collect();
                    out.push(stmt.trim().to_string());
                    start = i + 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    (out, b[start..].iter().collect())
}

pub fn main(args: &[String]) -> i32 {
    let opts = match parse_args(args) {
        Parsed::Run(o) => *o,
        Parsed::Print(s) => {
            print!("{s}");
            return 0;
        }
        Parsed::Fail(s) => {
            eprint!("{s}");
            return 1;
        }
    };
    let conn = match Conn::connect(&opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("psql: error: {e}");
            return 2;
        }
    };
    let fmt = Format { tuples_only: opts.tuples_only, unaligned: opts.unaligned, field_sep: opts.field_sep.clone() };
    let mut cl = Client { conn, opts: opts.clone(), fmt, failed: false };
    let code = run(&mut cl, &opts).unwrap_or_else(|e| {
        eprintln!("psql: error: {e}");
        2
    });
    cl.conn.terminate();
    code
}

fn run(cl: &mut Client, opts: &Options) -> io::Result<i32> {
    if opts.list {
        cl.meta("\\l")?;
        return Ok(if cl.failed { 1 } else { 0 });
    }
    if !opts.commands.is_empty() {
        for c in &opts.commands {
            if c.trim_start().starts_with('\\') {
                for part in c.split("\\\\") {
                    if !cl.meta(part.trim())? {
                        break;
                    }
                }
            } else if !cl.run_sql(c, None)? {
                return Ok(1);
            }
            if cl.failed {
                return Ok(1);
            }
        }
        return Ok(0);
    }
    let input: Box<dyn BufRead> = match &opts.file {
        Some(f) if f != "-" => match std::fs::File::open(f) {
            Ok(file) => Box::new(io::BufReader::new(file)),
            Err(e) => {
                let why = e.to_string();
                eprintln!("psql: error: {f}: {}", why.split(" (os error").next().unwrap_or(&why));
                return Ok(1);
            }
        },
        _ => Box::new(io::BufReader::new(io::stdin())),
    };
    let interactive = opts.file.is_none() && io::stdin().is_terminal();
    if interactive {
        println!("psql ({})\nType \"help\" for help.\n", cl.conn.server_version);
    }
    let mut buf = String::new();
    let mut lines = input.lines();
    loop {
        if interactive {
            let mark = if cl.conn.superuser { '#' } else { '>' };
            let cont = if buf.trim().is_empty() { '=' } else { '-' };
            print!("{}{cont}{mark} ", cl.conn.db);
            io::stdout().flush()?;
        }
        let Some(line) = lines.next() else { break };
        let line = line?;
        let trimmed = line.trim();
        if buf.trim().is_empty() && interactive && (trimmed == "help" || trimmed == "quit" || trimmed == "exit") {
            if trimmed == "help" {
                println!("You are using psql, the command-line interface to PostgreSQL.\nType:  \\? for help with psql commands\n       \\q to quit\n");
            } else {
                break;
            }
            continue;
        }
        if buf.trim().is_empty() && trimmed.starts_with('\\') {
            if !cl.meta(trimmed)? {
                break;
            }
            if cl.failed && opts.on_error_stop {
                return Ok(3);
            }
            continue;
        }
        buf.push_str(&line);
        buf.push('\n');
        let (stmts, rest) = split_statements(&buf);
        buf = rest;
        for s in stmts {
            if !cl.run_sql(&s, None)? {
                cl.failed = true;
                if opts.on_error_stop {
                    return Ok(3);
                }
            }
        }
    }
    // What is left without a `;` runs at end of input, as psql does.
    if !buf.trim().is_empty() && !cl.run_sql(buf.trim(), None)? && opts.on_error_stop {
        return Ok(3);
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt() -> Format {
        Format { tuples_only: false, unaligned: false, field_sep: "|".into() }
    }

    #[test]
    fn aligned_tables() {
        let cols = vec![("id".to_string(), 23), ("name".to_string(), 25)];
        let rows = vec![vec![Some("1".into()), Some("ann".into())], vec![Some("10".into()), None]];
        assert_eq!(table(&cols, &rows, &fmt(), None), " id | name \n----+------\n  1 | ann\n 10 | \n(2 rows)\n\n");
        let one = vec![("?column?".to_string(), 23)];
        assert_eq!(
            table(&one, &[vec![Some("1".into())]], &fmt(), None),
            " ?column? \n----------\n        1\n(1 row)\n\n"
        );
        let f = Format { tuples_only: true, unaligned: true, field_sep: "|".into() };
        assert_eq!(table(&cols, &rows, &f, None), "1|ann\n10|\n");
        let f = Format { tuples_only: false, unaligned: true, field_sep: "|".into() };
        assert_eq!(table(&cols, &rows[..1], &f, None), "id|name\n1|ann\n(1 row)\n");
    }

    #[test]
    fn errors_with_a_caret() {
        let f = vec![
            (b'S', "ERROR".to_string()),
            (b'M', "syntax error at or near \"SELEC\"".to_string()),
            (b'P', "1".to_string()),
        ];
        assert_eq!(
            error_text(&f, "SELEC 1;"),
            "ERROR:  syntax error at or near \"SELEC\"\nLINE 1: SELEC 1;\n        ^\n"
        );
    }

    #[test]
    fn statements_split_at_semicolons() {
        let (v, rest) = split_statements("select 1; select ';' as x;\nselect (1;");
        assert_eq!(v, vec!["select 1;".to_string(), "select ';' as x;".to_string()]);
        assert_eq!(rest, "\nselect (1;");
    }

    #[test]
    fn arguments() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let Parsed::Run(o) = parse_args(&v(&["-h", "db", "-U", "postgres", "-c", "select 1", "-At"])) else { panic!() };
        assert_eq!((o.host.as_str(), o.user.as_str(), o.db.as_str()), ("db", "postgres", "postgres"));
        assert!(o.tuples_only && o.unaligned);
        assert_eq!(o.commands, vec!["select 1".to_string()]);
        let Parsed::Run(o) = parse_args(&v(&["postgresql://bob:pw@h:6000/shop"])) else { panic!() };
        assert_eq!(
            (o.user.as_str(), o.password.as_deref(), o.host.as_str(), o.port, o.db.as_str()),
            ("bob", Some("pw"), "h", 6000, "shop")
        );
        let Parsed::Run(o) = parse_args(&v(&["--username=x", "mydb"])) else { panic!() };
        assert_eq!((o.user.as_str(), o.db.as_str()), ("x", "mydb"));
    }
}
