//! Text filters: cat, wc, head, tail, uniq, cut, tee.

use crate::err;
use crate::util::{self, done, errstr, getopt, lines, open_input, out};
use std::io::{self, BufRead, BufReader, Read, Write};

fn inputs(args: &[String]) -> Vec<String> {
    if args.is_empty() {
        vec!["-".into()]
    } else {
        args.to_vec()
    }
}

/// `cat [-nbvET] [FILE]...`
pub fn cat(args: &[String]) -> i32 {
    let o = match getopt(args, "nbsuvET") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let number = o.has('n') || o.has('b');
    let show_end = o.has('E');
    let show_tab = o.has('T');
    let mut w = out();
    let mut rc = 0;
    let mut lineno = 0u64;
    let mut at_start = true;
    let mut buf = vec![0u8; 32 * 1024];
    for f in inputs(&o.args) {
        let mut r = match open_input(&f) {
            Ok(r) => r,
            Err(e) => {
                err!("{f}: {}", errstr(&e));
                rc = 1;
                continue;
            }
        };
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    err!("read error: {}", errstr(&e));
                    rc = 1;
                    break;
                }
            };
            let res = if !number && !show_end && !show_tab {
                w.write_all(&buf[..n])
            } else {
                let mut v = Vec::with_capacity(n + 64);
                for &b in &buf[..n] {
                    if at_start {
                        if !(o.has('b') && b == b'\n') {
                            lineno += 1;
                            if number {
                                v.extend_from_slice(format!("{lineno:6}\t").as_bytes());
                            }
                        }
                        at_start = false;
                    }
                    match b {
                        b'\n' => {
                            if show_end {
                                v.push(b'$');
                            }
                            v.push(b'\n');
                            at_start = true;
                        }
                        b'\t' if show_tab => v.extend_from_slice(b"^I"),
                        _ => v.push(b),
                    }
                }
                w.write_all(&v)
            };
            if res.and_then(|_| w.flush()).is_err() {
                return 1;
            }
        }
    }
    done(&mut w, rc)
}

#[derive(Default, Clone, Copy, Debug, PartialEq)]
pub struct Counts {
    pub lines: u64,
    pub words: u64,
    pub chars: u64,
    pub bytes: u64,
    pub longest: u64,
}

/// Count lines, words, bytes, characters and the longest line of a reader.
pub fn count(r: &mut dyn Read) -> io::Result<Counts> {
    let mut c = Counts::default();
    let mut buf = vec![0u8; 32 * 1024];
    let mut in_word = false;
    let mut cur = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for &b in &buf[..n] {
            c.bytes += 1;
            if b & 0xC0 != 0x80 {
                c.chars += 1;
            }
            if b == b'\n' {
                c.lines += 1;
                c.longest = c.longest.max(cur);
                cur = 0;
            } else if b == b'\t' {
                cur = (cur | 7) + 1;
            } else if b & 0xC0 != 0x80 {
                cur += 1;
            }
            if b == b' ' || (9..=13).contains(&b) {
                in_word = false;
            } else if !in_word {
                in_word = true;
                c.words += 1;
            }
        }
    }
    c.longest = c.longest.max(cur);
    Ok(c)
}

/// `wc [-lwcmL] [FILE]...`
pub fn wc(args: &[String]) -> i32 {
    let o = match getopt(args, "lwcmL") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let mut which: Vec<char> = "lwcmL".chars().filter(|&c| o.has(c)).collect();
    if which.is_empty() {
        which = vec!['l', 'w', 'c'];
    }
    let files = inputs(&o.args);
    let mut total = Counts::default();
    let mut w = out();
    let mut rc = 0;
    let pick = |c: &Counts, k: char| match k {
        'l' => c.lines,
        'w' => c.words,
        'c' => c.bytes,
        'm' => c.chars,
        _ => c.longest,
    };
    let single = which.len() == 1;
    let show = |w: &mut util::Out, c: &Counts, name: &str| {
        let mut s = String::new();
        for (i, &k) in which.iter().enumerate() {
            if single {
                s.push_str(&pick(c, k).to_string());
            } else {
                if i > 0 {
                    s.push(' ');
                }
                s.push_str(&format!("{:9}", pick(c, k)));
            }
        }
        if name != "-" || files.len() > 1 {
            s.push(' ');
            s.push_str(name);
        }
        let _ = writeln!(w, "{s}");
    };
    for f in &files {
        let res = open_input(f).and_then(|mut r| count(&mut r));
        match res {
            Ok(c) => {
                show(&mut w, &c, if f == "-" && files.len() == 1 { "-" } else { f });
                total.lines += c.lines;
                total.words += c.words;
                total.bytes += c.bytes;
                total.chars += c.chars;
                total.longest = total.longest.max(c.longest);
            }
            Err(e) => {
                err!("{f}: {}", errstr(&e));
                rc = 1;
            }
        }
    }
    if files.len() > 1 {
        show(&mut w, &total, "total");
    }
    done(&mut w, rc)
}

/// Turn `-5` / `+5` (old style) into `-n 5` / `-n +5`.
fn legacy_count(args: &[String]) -> Vec<String> {
    let mut v = vec![args[0].clone()];
    for (i, a) in args.iter().enumerate().skip(1) {
        let b = a.as_bytes();
        if i == 1 && b.len() > 1 && (b[0] == b'-' || b[0] == b'+') && b[1..].iter().all(u8::is_ascii_digit) {
            v.push("-n".into());
            v.push(if b[0] == b'+' { a.clone() } else { a[1..].to_string() });
        } else {
            v.push(a.clone());
        }
    }
    v
}

/// Parse a count like `10`, `+10`, `-10`, `1k` (k/m suffixes, for -c).
fn parse_count(s: &str) -> Option<(char, u64)> {
    let (sign, body) = match s.chars().next()? {
        c @ ('+' | '-') => (c, &s[1..]),
        _ => (' ', s),
    };
    let (num, mult) = match body.chars().last()? {
        'k' | 'K' => (&body[..body.len() - 1], 1024),
        'm' | 'M' => (&body[..body.len() - 1], 1024 * 1024),
        'b' => (&body[..body.len() - 1], 512),
        _ => (body, 1),
    };
    Some((sign, num.parse::<u64>().ok()? * mult))
}

fn header(w: &mut util::Out, name: &str, first: &mut bool) {
    let name = if name == "-" { "standard input" } else { name };
    let _ = writeln!(w, "{}==> {name} <==", if *first { "" } else { "\n" });
    *first = false;
}

/// `head [-n N] [-c N] [-qv] [FILE]...` (`-n -N`: all but the last N lines)
pub fn head(args: &[String]) -> i32 {
    let args = legacy_count(args);
    let o = match getopt(&args, "n:c:qv") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let by_bytes = o.last_of("nc") == Some('c');
    let spec = if by_bytes { o.val('c') } else { o.val('n') }.unwrap_or("10");
    let Some((sign, n)) = parse_count(spec) else {
        err!("invalid number '{spec}'");
        return 1;
    };
    let files = inputs(&o.args);
    let headers = (files.len() > 1 || o.has('v')) && !o.has('q');
    let mut w = out();
    let mut rc = 0;
    let mut first = true;
    for f in &files {
        let r = match open_input(f) {
            Ok(r) => r,
            Err(e) => {
                err!("{f}: {}", errstr(&e));
                rc = 1;
                continue;
            }
        };
        if headers {
            header(&mut w, f, &mut first);
        }
        let mut r = BufReader::new(r);
        let res: io::Result<()> = (|| {
            if sign == '-' {
                let mut data = Vec::new();
                r.read_to_end(&mut data)?;
                if by_bytes {
                    let keep = data.len().saturating_sub(n as usize);
                    w.write_all(&data[..keep])?;
                } else {
                    let ls = lines(&data);
                    let keep = ls.len().saturating_sub(n as usize);
                    for l in &ls[..keep] {
                        w.write_all(l)?;
                        w.write_all(b"\n")?;
                    }
                }
            } else if by_bytes {
                io::copy(&mut r.take(n), &mut w)?;
            } else {
                let mut line = Vec::new();
                for _ in 0..n {
                    line.clear();
                    if r.read_until(b'\n', &mut line)? == 0 {
                        break;
                    }
                    w.write_all(&line)?;
                }
            }
            Ok(())
        })();
        if let Err(e) = res {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return 1;
            }
            err!("{f}: {}", errstr(&e));
            rc = 1;
        }
    }
    done(&mut w, rc)
}

/// The part of `data` that `tail` prints.
pub fn tail_slice(data: &[u8], sign: char, n: u64, by_bytes: bool) -> &[u8] {
    let n = n as usize;
    if by_bytes {
        return if sign == '+' {
            &data[(n.max(1) - 1).min(data.len())..]
        } else {
            &data[data.len().saturating_sub(n)..]
        };
    }
    if sign == '+' {
        let mut start = 0;
        let mut seen = 1;
        while seen < n && start < data.len() {
            match data[start..].iter().position(|&b| b == b'\n') {
                Some(p) => start += p + 1,
                None => start = data.len(),
            }
            seen += 1;
        }
        return &data[start..];
    }
    if n == 0 {
        return &data[data.len()..];
    }
    let mut end = data.len();
    if data.ends_with(b"\n") {
        end -= 1;
    }
    let mut count = 0;
    let mut i = end;
    while i > 0 {
        if data[i - 1] == b'\n' {
            count += 1;
            if count == n {
                return &data[i..];
            }
        }
        i -= 1;
    }
    data
}

/// `tail [-n [+]N] [-c [+]N] [-f] [-qv] [FILE]...`
pub fn tail(args: &[String]) -> i32 {
    let args = legacy_count(args);
    let o = match getopt(&args, "n:c:fFqvs:") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let by_bytes = o.last_of("nc") == Some('c');
    let spec = if by_bytes { o.val('c') } else { o.val('n') }.unwrap_or("10");
    let Some((sign, n)) = parse_count(spec) else {
        err!("invalid number '{spec}'");
        return 1;
    };
    let files = inputs(&o.args);
    let headers = (files.len() > 1 || o.has('v')) && !o.has('q');
    let mut w = out();
    let mut rc = 0;
    let mut first = true;
    for f in &files {
        match util::read_all(f) {
            Ok(data) => {
                if headers {
                    header(&mut w, f, &mut first);
                }
                if w.write_all(tail_slice(&data, sign, n, by_bytes)).is_err() {
                    return 1;
                }
            }
            Err(e) => {
                err!("{f}: {}", errstr(&e));
                rc = 1;
            }
        }
    }
    if (o.has('f') || o.has('F')) && files.len() == 1 && files[0] != "-" {
        let f = &files[0];
        let mut pos = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        loop {
            if w.flush().is_err() {
                return 1;
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
            let len = match std::fs::metadata(f) {
                Ok(m) => m.len(),
                Err(_) => continue,
            };
            if len < pos {
                pos = 0;
            }
            if len > pos {
                if let Ok(mut file) = std::fs::File::open(f) {
                    use std::io::Seek;
                    let _ = file.seek(io::SeekFrom::Start(pos));
                    let mut buf = Vec::new();
                    let _ = file.read_to_end(&mut buf);
                    pos += buf.len() as u64;
                    if w.write_all(&buf).is_err() {
                        return 1;
                    }
                }
            }
        }
    }
    done(&mut w, rc)
}

/// `uniq [-cdui] [-f N] [-s N] [INPUT [OUTPUT]]`
pub fn uniq(args: &[String]) -> i32 {
    let o = match getopt(args, "cduif:s:w:") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let inp = o.args.first().map(String::as_str).unwrap_or("-");
    let data = match util::read_all(inp) {
        Ok(d) => d,
        Err(e) => {
            err!("{inp}: {}", errstr(&e));
            return 1;
        }
    };
    let skip_f: usize = o.val('f').and_then(|v| v.parse().ok()).unwrap_or(0);
    let skip_s: usize = o.val('s').and_then(|v| v.parse().ok()).unwrap_or(0);
    let max_w: Option<usize> = o.val('w').and_then(|v| v.parse().ok());
    let key = |l: &[u8]| -> Vec<u8> {
        let mut i = 0;
        for _ in 0..skip_f {
            while i < l.len() && (l[i] == b' ' || l[i] == b'\t') {
                i += 1;
            }
            while i < l.len() && l[i] != b' ' && l[i] != b'\t' {
                i += 1;
            }
        }
        i = (i + skip_s).min(l.len());
        let mut k = l[i..].to_vec();
        if let Some(m) = max_w {
            k.truncate(m);
        }
        if o.has('i') {
            k.make_ascii_lowercase();
        }
        k
    };
    let mut dest: Box<dyn Write> = match o.args.get(1) {
        Some(p) if p != "-" => match std::fs::File::create(p) {
            Ok(f) => Box::new(io::BufWriter::new(f)),
            Err(e) => {
                err!("{p}: {}", errstr(&e));
                return 1;
            }
        },
        _ => Box::new(out()),
    };
    let ls = lines(&data);
    let mut i = 0;
    while i < ls.len() {
        let k = key(ls[i]);
        let mut j = i + 1;
        while j < ls.len() && key(ls[j]) == k {
            j += 1;
        }
        let n = j - i;
        let show = (!o.has('d') || n > 1) && (!o.has('u') || n == 1);
        if show {
            let r = if o.has('c') {
                write!(dest, "{n:7} ").and_then(|_| dest.write_all(ls[i])).and_then(|_| dest.write_all(b"\n"))
            } else {
                dest.write_all(ls[i]).and_then(|_| dest.write_all(b"\n"))
            };
            if r.is_err() {
                return 1;
            }
        }
        i = j;
    }
    done(&mut dest, 0)
}

/// A cut list (`1,3-5,7-`) as 1-based inclusive ranges.
pub fn parse_list(s: &str) -> Option<Vec<(usize, usize)>> {
    let mut v = Vec::new();
    for part in s.split(',') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (
                if a.is_empty() { 1 } else { a.parse().ok()? },
                if b.is_empty() { usize::MAX } else { b.parse().ok()? },
            ),
            None => {
                let n = part.parse().ok()?;
                (n, n)
            }
        };
        if a == 0 || b < a {
            return None;
        }
        v.push((a, b));
    }
    Some(v)
}

fn in_list(list: &[(usize, usize)], i: usize) -> bool {
    list.iter().any(|&(a, b)| a <= i && i <= b)
}

/// Cut one line by fields (`Some(delim)`) or characters.
pub fn cut_line(
    line: &str,
    list: &[(usize, usize)],
    delim: Option<&str>,
    only_delim: bool,
    out_delim: &str,
) -> Option<String> {
    match delim {
        Some(d) => {
            if !line.contains(d) {
                return (!only_delim).then(|| line.to_string());
            }
            let parts: Vec<&str> =
                line.split(d).enumerate().filter(|(i, _)| in_list(list, i + 1)).map(|(_, p)| p).collect();
            Some(parts.join(out_delim))
        }
        None => Some(line.chars().enumerate().filter(|(i, _)| in_list(list, i + 1)).map(|(_, c)| c).collect()),
    }
}

/// `cut -f LIST [-d C] [-s] | -c LIST | -b LIST [FILE]...`
pub fn cut(args: &[String]) -> i32 {
    let o = match getopt_cut(args) {
        Ok(o) => o,
        Err(c) => return c,
    };
    let (spec, fields) = match (o.val('f'), o.val('c').or(o.val('b'))) {
        (Some(f), None) => (f, true),
        (None, Some(c)) => (c, false),
        _ => {
            err!("expected a list of bytes, characters, or fields");
            return 1;
        }
    };
    let Some(list) = parse_list(spec) else {
        err!("invalid list '{spec}'");
        return 1;
    };
    let d = o.val('d').unwrap_or("\t");
    if fields && d.chars().count() != 1 {
        err!("the delimiter must be a single character");
        return 1;
    }
    let od = o.val('O').unwrap_or(d);
    let mut w = out();
    let mut rc = 0;
    for f in inputs(&o.args) {
        let data = match util::read_all(&f) {
            Ok(d) => d,
            Err(e) => {
                err!("{f}: {}", errstr(&e));
                rc = 1;
                continue;
            }
        };
        for l in lines(&data) {
            let l = String::from_utf8_lossy(l);
            if let Some(s) = cut_line(&l, &list, fields.then_some(d), o.has('s'), od) {
                if writeln!(w, "{s}").is_err() {
                    return 1;
                }
            }
        }
    }
    done(&mut w, rc)
}

fn getopt_cut(args: &[String]) -> Result<util::Opts, i32> {
    util::getopt_long(args, "b:c:d:f:snO:", &[("output-delimiter", 'O')])
}

/// `tee [-a] [FILE]...`
pub fn tee(args: &[String]) -> i32 {
    let o = match getopt(args, "ai") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let mut rc = 0;
    let mut files: Vec<(String, std::fs::File)> = Vec::new();
    for p in &o.args {
        let r = if o.has('a') {
            std::fs::OpenOptions::new().append(true).create(true).open(p)
        } else {
            std::fs::File::create(p)
        };
        match r {
            Ok(f) => files.push((p.clone(), f)),
            Err(e) => {
                err!("{p}: {}", errstr(&e));
                rc = 1;
            }
        }
    }
    let mut stdout = io::stdout().lock();
    let mut stdin = io::stdin().lock();
    let mut buf = vec![0u8; 16 * 1024];
    let mut stdout_ok = true;
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                err!("read error: {}", errstr(&e));
                return 1;
            }
        };
        if stdout_ok && stdout.write_all(&buf[..n]).and_then(|_| stdout.flush()).is_err() {
            stdout_ok = false;
            rc = 1;
        }
        for (p, f) in files.iter_mut() {
            if let Err(e) = f.write_all(&buf[..n]) {
                err!("{p}: {}", errstr(&e));
                rc = 1;
            }
        }
    }
    rc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting() {
        let c = count(&mut &b"hello world\nfoo\tbar baz\n\nlast"[..]).unwrap();
        assert_eq!((c.lines, c.words, c.bytes), (3, 6, 29));
        assert_eq!(c.longest, 15);
    }

    #[test]
    fn tails() {
        let d = b"1\n2\n3\n4\n";
        assert_eq!(tail_slice(d, ' ', 2, false), b"3\n4\n");
        assert_eq!(tail_slice(d, ' ', 10, false), d);
        assert_eq!(tail_slice(d, '+', 3, false), b"3\n4\n");
        assert_eq!(tail_slice(d, ' ', 3, true), b"\n4\n");
        assert_eq!(tail_slice(b"a\nb", ' ', 1, false), b"b");
        assert_eq!(tail_slice(d, ' ', 0, false), b"");
        assert_eq!(parse_count("+5"), Some(('+', 5)));
        assert_eq!(parse_count("2k"), Some((' ', 2048)));
        let a = crate::util::testutil::argv(&["head", "-3", "f"]);
        assert_eq!(legacy_count(&a), vec!["head", "-n", "3", "f"]);
    }

    #[test]
    fn cutting() {
        let l = parse_list("1,3-4,6-").unwrap();
        assert_eq!(cut_line("a:b:c:d:e:f:g", &l, Some(":"), false, ":").unwrap(), "a:c:d:f:g");
        assert_eq!(cut_line("abcdefg", &l, None, false, "").unwrap(), "acdfg");
        assert_eq!(cut_line("nodelim", &l, Some(":"), true, ":"), None);
        assert_eq!(cut_line("nodelim", &l, Some(":"), false, ":").unwrap(), "nodelim");
        assert!(parse_list("0").is_none());
        assert_eq!(parse_list("-2").unwrap(), vec![(1, 2)]);
    }

    #[test]
    fn files_on_host() {
        let d = crate::util::testutil::tempdir();
        let f = format!("{d}/in");
        std::fs::write(&f, "a\na\nb\nc\nc\nc\n").unwrap();
        let o = format!("{d}/out");
        let a = crate::util::testutil::argv;
        assert_eq!(uniq(&a(&["uniq", "-c", &f, &o])), 0);
        assert_eq!(std::fs::read_to_string(&o).unwrap(), "      2 a\n      1 b\n      3 c\n");
        assert_eq!(uniq(&a(&["uniq", "-d", &f, &o])), 0);
        assert_eq!(std::fs::read_to_string(&o).unwrap(), "a\nc\n");
        assert_eq!(uniq(&a(&["uniq", "-u", &f, &o])), 0);
        assert_eq!(std::fs::read_to_string(&o).unwrap(), "b\n");
        assert_eq!(cat(&a(&["cat", &format!("{d}/nope")])), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
