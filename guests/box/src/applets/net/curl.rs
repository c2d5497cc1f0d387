//! `curl`: its options, exit codes and messages, `-H` merging and `-w` output (curl 8).

mod transfer;

use super::http::header_line;
use super::secs_arg;
use crate::util::{self, getopt_long, Opts};
use std::io::Write;
use std::time::{Duration, Instant};

const C_DATA_RAW: char = '\u{e010}';
const C_DATA_BIN: char = '\u{e011}';
const C_URL: char = '\u{e012}';
const C_IGNORED_ARG: char = '\u{e013}';
const C_IGNORED: char = '\u{e014}';
const CURL_UA: &str = "curl/8.5.0";
const CURL_TRY: &str = "curl: try 'curl --help' or 'curl --manual' for more information";

/// curl's options.
#[derive(Default)]
struct Curl {
    silent: bool,
    show_error: bool,
    verbose: bool,
    fail: bool,
    head: bool,
    include: bool,
    location: bool,
    output: Option<String>,
    remote_name: bool,
    method: Option<String>,
    headers: Vec<String>,
    data: Option<Vec<u8>>,
    max_time: Option<Duration>,
    write_out: Option<String>,
    agent: String,
    user: Option<String>,
    url: String,
}

/// A failed transfer: curl's exit code and message.
#[derive(Debug)]
struct CurlErr(i32, String);

/// What a transfer got, for `-w`.
#[derive(Default)]
struct Got {
    code: u16,
    body: u64,
    header: u64,
    content_type: String,
    url: String,
    ip: String,
    port: u16,
    redirects: u32,
    error: String,
}

/// `curl [-sSfiIvLO] [-o FILE] [-X METHOD] [-H 'K: V'] [-d DATA] [-m SECS] [-w FMT] URL`
pub fn curl(args: &[String]) -> i32 {
    let c = match Curl::parse(args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let start = Instant::now();
    let mut got = Got { url: c.url.clone(), ..Got::default() };
    let code = match c.run(start, &mut got) {
        Ok(()) => 0,
        Err(CurlErr(code, msg)) => {
            if !c.silent || c.show_error {
                eprintln!("curl: ({code}) {msg}");
            }
            got.error = msg;
            code
        }
    };
    if let Some(w) = &c.write_out {
        let secs = start.elapsed().as_secs_f64();
        let text = write_out(w, |v| got.var(v, code, secs));
        let mut o = util::out();
        let _ = o.write_all(text.as_bytes());
        let _ = o.flush();
    }
    code
}

impl Got {
    /// The value of `%{name}` for `-w`.
    fn var(&self, name: &str, exit: i32, secs: f64) -> Option<String> {
        Some(match name {
            "http_code" | "response_code" => format!("{:03}", self.code),
            "size_download" => self.body.to_string(),
            "size_header" => self.header.to_string(),
            "content_type" => self.content_type.clone(),
            "url_effective" | "url" => self.url.clone(),
            "time_total" => format!("{secs:.6}"),
            "remote_ip" => self.ip.clone(),
            "remote_port" => {
                if self.port == 0 {
                    String::new()
                } else {
                    self.port.to_string()
                }
            }
            "exitcode" => exit.to_string(),
            "num_redirects" => self.redirects.to_string(),
            "http_version" => {
                if self.code == 0 {
                    "0".into()
                } else {
                    "1.1".into()
                }
            }
            "errormsg" => self.error.clone(),
            _ => return None,
        })
    }
}

/// Expand a `-w` format: `%{var}`, `%%`, `\n`, `\r`, `\t`, `\\`.
fn write_out(fmt: &str, var: impl Fn(&str) -> Option<String>) -> String {
    let mut s = String::new();
    let mut rest = fmt;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("%{") {
            if let Some(end) = r.find('}') {
                s.push_str(&var(&r[..end]).unwrap_or_default());
                rest = &r[end + 1..];
                continue;
            }
        }
        let esc = match (c, rest[1..].chars().next()) {
            ('%', Some('%')) => Some('%'),
            ('\\', Some('n')) => Some('\n'),
            ('\\', Some('r')) => Some('\r'),
            ('\\', Some('t')) => Some('\t'),
            ('\\', Some('\\')) => Some('\\'),
            _ => None,
        };
        match esc {
            Some(e) => {
                s.push(e);
                rest = &rest[2..];
            }
            None => {
                s.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    s
}

/// Apply curl's `-H` rules to the default headers: `K: V` replaces or adds, `K:` removes,
/// `K;` adds an empty one.
fn merge_headers(defaults: Vec<(String, String)>, user: &[String]) -> Vec<(String, String)> {
    let mut h = defaults;
    for u in user {
        if let Some(name) = u.strip_suffix(';').filter(|n| !n.contains(':')) {
            h.push((name.trim().to_string(), String::new()));
            continue;
        }
        let Some((k, v)) = header_line(u) else {
            continue;
        };
        let pos = h.iter().position(|(n, _)| n.eq_ignore_ascii_case(&k));
        match (pos, v.is_empty()) {
            (Some(i), true) => {
                h.remove(i);
            }
            (Some(i), false) => h[i] = (k, v),
            (None, true) => {}
            (None, false) => h.push((k, v)),
        }
    }
    h
}

/// The bytes of a `-d` value: `@FILE` (`@-`: stdin) is read, newlines dropped unless `binary`.
fn curl_data(v: &str, binary: bool) -> Vec<u8> {
    let Some(f) = v.strip_prefix('@') else {
        return v.as_bytes().to_vec();
    };
    let r = if f == "-" { util::read_all("-") } else { std::fs::read(f) };
    let d = r.unwrap_or_else(|_| {
        eprintln!("Warning: Couldn't read data from file \"{f}\", this makes an empty POST.");
        Vec::new()
    });
    if binary {
        d
    } else {
        d.into_iter().filter(|&b| b != b'\n' && b != b'\r').collect()
    }
}

impl Curl {
    fn parse(args: &[String]) -> Result<Curl, i32> {
        let longs = [
            ("silent", 's'),
            ("show-error", 'S'),
            ("output", 'o'),
            ("remote-name", 'O'),
            ("head", 'I'),
            ("include", 'i'),
            ("fail", 'f'),
            ("verbose", 'v'),
            ("location", 'L'),
            ("insecure", 'k'),
            ("request", 'X'),
            ("header", 'H'),
            ("data", 'd'),
            ("data-ascii", 'd'),
            ("data-raw", C_DATA_RAW),
            ("data-binary", C_DATA_BIN),
            ("max-time", 'm'),
            ("write-out", 'w'),
            ("user-agent", 'A'),
            ("user", 'u'),
            ("url", C_URL),
            ("ipv4", '4'),
            ("connect-timeout", C_IGNORED_ARG),
            ("retry", C_IGNORED_ARG),
            ("retry-delay", C_IGNORED_ARG),
            ("compressed", C_IGNORED),
            ("http1.1", C_IGNORED),
            ("no-progress-meter", C_IGNORED),
            ("fail-early", C_IGNORED),
        ];
        let spec = format!("sSo:OIifvLkX:H:d:m:w:A:u:4{C_DATA_RAW}:{C_DATA_BIN}:{C_URL}:{C_IGNORED_ARG}:{C_IGNORED}");
        let o = getopt_long(args, &spec, &longs).map_err(|_| {
            eprintln!("{CURL_TRY}");
            2
        })?;
        let Some(url) = o.val(C_URL).or(o.args.first().map(String::as_str)) else {
            eprintln!("curl: no URL specified!\n{CURL_TRY}");
            return Err(2);
        };
        let max_time = match o.val('m') {
            None => None,
            Some(m) => Some(secs_arg(m).ok_or_else(|| {
                eprintln!("curl: option --max-time: expected a proper numerical parameter\n{CURL_TRY}");
                2
            })?),
        };
        Ok(Curl {
            silent: o.has('s'),
            show_error: o.has('S'),
            verbose: o.has('v'),
            fail: o.has('f'),
            head: o.has('I'),
            include: o.has('i'),
            location: o.has('L'),
            output: o.val('o').map(String::from),
            remote_name: o.has('O'),
            method: o.val('X').map(String::from),
            headers: o.vals('H').iter().map(|s| s.to_string()).collect(),
            data: Self::data(&o),
            max_time,
            write_out: o.val('w').map(String::from),
            agent: o.val('A').unwrap_or(CURL_UA).to_string(),
            user: o.val('u').map(String::from),
            url: url.to_string(),
        })
    }

    /// All `-d`/`--data-*` values joined with `&` (None when there are none).
    fn data(o: &Opts) -> Option<Vec<u8>> {
        let mut parts: Vec<Vec<u8>> = o.vals('d').iter().map(|v| curl_data(v, false)).collect();
        parts.extend(o.vals(C_DATA_BIN).iter().map(|v| curl_data(v, true)));
        parts.extend(o.vals(C_DATA_RAW).iter().map(|v| v.as_bytes().to_vec()));
        (!parts.is_empty()).then(|| parts.join(&b'&'))
    }

    /// The method to send: `-X`, else HEAD for -I, POST with data, GET.
    fn initial_method(&self) -> String {
        match (&self.method, self.head, &self.data) {
            (Some(m), _, _) => m.clone(),
            (None, true, _) => "HEAD".into(),
            (None, false, Some(_)) => "POST".into(),
            _ => "GET".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applets::net::http::request;

    #[test]
    fn requests() {
        let h = vec![("Host".to_string(), "c2".to_string())];
        assert_eq!(request("GET", "/", &h, b""), b"GET / HTTP/1.1\r\nHost: c2\r\n\r\n");
        let m = merge_headers(
            vec![("Host".into(), "a".into()), ("Accept".into(), "*/*".into())],
            &["host: b".into(), "Accept:".into(), "X-A: 1".into(), "X-E;".into()],
        );
        let names: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(names, ["host=b", "X-A=1", "X-E="]);
    }
    #[test]
    fn write_outs() {
        let v = |n: &str| (n == "http_code").then(|| "200".to_string());
        assert_eq!(write_out("%{http_code}\\n", v), "200\n");
        assert_eq!(write_out("a%%b %{nope}\\t%{http_code", v), "a%b \t%{http_code");
    }
}
