//! `printf` (format reuse, %s %d %i %u %x %X %o %c %b %e %f %g %%, widths) and escape decoding.

use crate::err;
use crate::util::{done, out};
use std::io::Write;

/// Decode backslash escapes from `s` into `out`. `echo` mode is `echo -e`/`%b` (octal is
/// `\0NNN`); otherwise octal is `\NNN`. Returns true when `\c` (stop output) was seen.
pub fn unescape(s: &[u8], out: &mut Vec<u8>, echo: bool) -> bool {
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' || i >= s.len() {
            out.push(c);
            continue;
        }
        let e = s[i];
        i += 1;
        let simple = match e {
            b'\\' => Some(b'\\'),
            b'a' => Some(7),
            b'b' => Some(8),
            b'e' | b'E' => Some(27),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(11),
            b'"' if !echo => Some(b'"'),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            continue;
        }
        match e {
            b'c' => return true,
            b'0'..=b'7' => {
                let mut v: u32 = 0;
                let mut n = 0;
                if echo && e == b'0' {
                    // \0NNN: up to three more digits
                } else {
                    v = (e - b'0') as u32;
                    n = 1;
                }
                while n < 3 && i < s.len() && (b'0'..=b'7').contains(&s[i]) {
                    v = v * 8 + (s[i] - b'0') as u32;
                    i += 1;
                    n += 1;
                }
                out.push(v as u8);
            }
            b'x' => {
                let mut v: u32 = 0;
                let mut n = 0;
                while n < 2 && i < s.len() && s[i].is_ascii_hexdigit() {
                    v = v * 16 + (s[i] as char).to_digit(16).unwrap();
                    i += 1;
                    n += 1;
                }
                if n == 0 {
                    out.extend_from_slice(b"\\x");
                } else {
                    out.push(v as u8);
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    false
}

#[derive(Default, Clone, Copy)]
pub struct Spec {
    pub left: bool,
    pub zero: bool,
    pub plus: bool,
    pub space: bool,
    pub alt: bool,
    pub width: Option<usize>,
    pub prec: Option<usize>,
}

pub fn pad(spec: &Spec, body: String, numeric: bool) -> String {
    let w = spec.width.unwrap_or(0);
    let len = body.chars().count();
    if len >= w {
        return body;
    }
    let fill = w - len;
    if spec.left {
        format!("{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        let sign_len = if body.starts_with(['-', '+', ' ']) { 1 } else { 0 };
        let prefix_len = if body[sign_len..].starts_with("0x") || body[sign_len..].starts_with("0X") {
            sign_len + 2
        } else {
            sign_len
        };
        format!("{}{}{}", &body[..prefix_len], "0".repeat(fill), &body[prefix_len..])
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

/// Parse a printf numeric argument (`'c` is the char code, 0x hex, 0 octal).
fn parse_int(s: &str, bad: &mut bool) -> i128 {
    let t = s.trim_start();
    if let Some(r) = t.strip_prefix(['\'', '"']) {
        return r.chars().next().map(|c| c as i128).unwrap_or(0);
    }
    if t.is_empty() {
        return 0;
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (radix, digits) = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        (16, h)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    let end = digits.find(|c: char| !c.is_digit(radix)).unwrap_or(digits.len());
    if end != digits.len() || (end == 0 && radix != 8) {
        *bad = true;
        err!("invalid number '{s}'");
    }
    let v = i128::from_str_radix(&digits[..end], radix).unwrap_or(0);
    if neg {
        -v
    } else {
        v
    }
}

fn parse_float(s: &str, bad: &mut bool) -> f64 {
    let t = s.trim();
    if let Some(r) = t.strip_prefix(['\'', '"']) {
        return r.chars().next().map(|c| c as u32 as f64).unwrap_or(0.0);
    }
    if t.is_empty() {
        return 0.0;
    }
    match t.parse::<f64>() {
        Ok(v) => v,
        Err(_) => {
            let mut b = false;
            let v = parse_int(t, &mut b);
            if b {
                *bad = true;
            }
            v as f64
        }
    }
}

/// C-style `%e`: `1.500000e+03`.
pub fn fmt_e(v: f64, prec: usize, upper: bool) -> String {
    let s = format!("{v:.prec$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let ev: i32 = e.parse().unwrap_or(0);
    let r = format!("{m}e{}{:02}", if ev < 0 { '-' } else { '+' }, ev.abs());
    if upper {
        r.to_ascii_uppercase()
    } else {
        r
    }
}

pub fn fmt_g(v: f64, prec: usize, alt: bool, upper: bool) -> String {
    let p = if prec == 0 { 1 } else { prec };
    if v == 0.0 {
        return "0".into();
    }
    // The exponent after rounding to `p` significant digits, as C's %g decides.
    let e = format!("{:.*e}", p - 1, v);
    let x: i32 = e.split_once('e').and_then(|(_, x)| x.parse().ok()).unwrap_or(0);
    let s = if x < -4 || x >= p as i32 {
        fmt_e(v, p - 1, upper)
    } else {
        format!("{v:.*}", (p as i32 - 1 - x).max(0) as usize)
    };
    if alt {
        return s;
    }
    // strip trailing zeros of the fraction
    let (m, e) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], &s[i..]),
        None => (&s[..], ""),
    };
    let m = if m.contains('.') { m.trim_end_matches('0').trim_end_matches('.') } else { m };
    format!("{m}{e}")
}

/// Format `args` with `fmt`, reusing the format while arguments remain.
/// Returns (output, ok); output stops early at `\c` in the format or a `%b` argument.
pub fn format(fmt: &str, args: &[String]) -> (Vec<u8>, bool) {
    let f = fmt.as_bytes();
    let mut out = Vec::new();
    let mut ai = 0;
    let mut ok = true;
    loop {
        let start_ai = ai;
        let mut i = 0;
        while i < f.len() {
            let c = f[i];
            if c == b'\\' {
                // find the extent of this escape and decode it alone
                let mut j = i + 2;
                if i + 1 < f.len() {
                    match f[i + 1] {
                        b'0'..=b'7' => {
                            while j < f.len() && j < i + 4 && (b'0'..=b'7').contains(&f[j]) {
                                j += 1;
                            }
                        }
                        b'x' => {
                            while j < f.len() && j < i + 4 && f[j].is_ascii_hexdigit() {
                                j += 1;
                            }
                        }
                        _ => {}
                    }
                }
                let j = j.min(f.len());
                if unescape(&f[i..j], &mut out, false) {
                    return (out, ok);
                }
                i = j;
                continue;
            }
            if c != b'%' {
                out.push(c);
                i += 1;
                continue;
            }
            i += 1;
            if i < f.len() && f[i] == b'%' {
                out.push(b'%');
                i += 1;
                continue;
            }
            let mut sp = Spec::default();
            while i < f.len() {
                match f[i] {
                    b'-' => sp.left = true,
                    b'0' => sp.zero = true,
                    b'+' => sp.plus = true,
                    b' ' => sp.space = true,
                    b'#' => sp.alt = true,
                    _ => break,
                }
                i += 1;
            }
            let next_arg = |ai: &mut usize| -> Option<String> {
                let a = args.get(*ai).cloned();
                if a.is_some() {
                    *ai += 1;
                }
                a
            };
            let num = |i: &mut usize, ai: &mut usize, ok: &mut bool| -> Option<i128> {
                if *i < f.len() && f[*i] == b'*' {
                    *i += 1;
                    let mut bad = false;
                    let v = parse_int(&next_arg(ai).unwrap_or_default(), &mut bad);
                    if bad {
                        *ok = false;
                    }
                    return Some(v);
                }
                let st = *i;
                while *i < f.len() && f[*i].is_ascii_digit() {
                    *i += 1;
                }
                (st != *i).then(|| std::str::from_utf8(&f[st..*i]).unwrap().parse().unwrap_or(0))
            };
            if let Some(w) = num(&mut i, &mut ai, &mut ok) {
                if w < 0 {
                    sp.left = true;
                }
                sp.width = Some(w.unsigned_abs() as usize);
            }
            if i < f.len() && f[i] == b'.' {
                i += 1;
                sp.prec = Some(num(&mut i, &mut ai, &mut ok).unwrap_or(0).max(0) as usize);
            }
            while i < f.len() && b"hlLqjzt".contains(&f[i]) {
                i += 1;
            }
            if i >= f.len() {
                err!("%{}: invalid format", "");
                return (out, false);
            }
            let conv = f[i];
            i += 1;
            let arg = args.get(ai).cloned();
            let consumes = b"diouxXcsbeEfFgGaA".contains(&conv);
            if consumes && arg.is_some() {
                ai += 1;
            }
            let a = arg.unwrap_or_default();
            let mut bad = false;
            let piece = match conv {
                b's' => {
                    let s = match sp.prec {
                        Some(p) => a.chars().take(p).collect(),
                        None => a,
                    };
                    pad(&sp, s, false)
                }
                b'b' => {
                    let mut v = Vec::new();
                    let stop = unescape(a.as_bytes(), &mut v, true);
                    let s = String::from_utf8_lossy(&v).into_owned();
                    out.extend_from_slice(pad(&sp, s, false).as_bytes());
                    if stop {
                        return (out, ok);
                    }
                    continue;
                }
                b'c' => pad(&sp, a.chars().next().map(String::from).unwrap_or_default(), false),
                b'd' | b'i' => {
                    let v = parse_int(&a, &mut bad);
                    let mut digits = v.unsigned_abs().to_string();
                    if let Some(p) = sp.prec {
                        if digits.len() < p {
                            digits = format!("{}{digits}", "0".repeat(p - digits.len()));
                        }
                        if p == 0 && v == 0 {
                            digits.clear();
                        }
                    }
                    let sign = if v < 0 {
                        "-"
                    } else if sp.plus {
                        "+"
                    } else if sp.space {
                        " "
                    } else {
                        ""
                    };
                    let mut s2 = sp;
                    if sp.prec.is_some() {
                        s2.zero = false;
                    }
                    pad(&s2, format!("{sign}{digits}"), true)
                }
                b'o' | b'u' | b'x' | b'X' => {
                    let v = parse_int(&a, &mut bad);
                    let u = if v < 0 { (v as i64) as u64 } else { v as u64 };
                    let mut digits = match conv {
                        b'o' => format!("{u:o}"),
                        b'u' => u.to_string(),
                        b'x' => format!("{u:x}"),
                        _ => format!("{u:X}"),
                    };
                    if let Some(p) = sp.prec {
                        if digits.len() < p {
                            digits = format!("{}{digits}", "0".repeat(p - digits.len()));
                        }
                    }
                    if sp.alt && u != 0 {
                        digits = match conv {
                            b'o' if !digits.starts_with('0') => format!("0{digits}"),
                            b'x' => format!("0x{digits}"),
                            b'X' => format!("0X{digits}"),
                            _ => digits,
                        };
                    }
                    let mut s2 = sp;
                    if sp.prec.is_some() {
                        s2.zero = false;
                    }
                    pad(&s2, digits, true)
                }
                b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'a' | b'A' => {
                    let v = parse_float(&a, &mut bad);
                    let p = sp.prec.unwrap_or(6);
                    let body = match conv {
                        b'e' | b'E' => fmt_e(v, p, conv == b'E'),
                        b'g' | b'G' => fmt_g(v, p, sp.alt, conv == b'G'),
                        _ => format!("{v:.p$}"),
                    };
                    let body = if v >= 0.0 && sp.plus {
                        format!("+{body}")
                    } else if v >= 0.0 && sp.space {
                        format!(" {body}")
                    } else {
                        body
                    };
                    pad(&sp, body, true)
                }
                other => {
                    err!("%{}: invalid format", other as char);
                    return (out, false);
                }
            };
            if bad {
                ok = false;
            }
            out.extend_from_slice(piece.as_bytes());
        }
        if ai >= args.len() || ai == start_ai {
            break;
        }
    }
    (out, ok)
}

pub fn printf(args: &[String]) -> i32 {
    let mut a = &args[1..];
    if a.first().map(String::as_str) == Some("--") {
        a = &a[1..];
    }
    let Some(fmt) = a.first() else {
        err!("usage: printf FORMAT [ARGUMENT]...");
        return 1;
    };
    let (bytes, ok) = format(fmt, &a[1..]);
    let mut w = out();
    let _ = w.write_all(&bytes);
    done(&mut w, if ok { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(f: &str, a: &[&str]) -> String {
        let args: Vec<String> = a.iter().map(|s| s.to_string()).collect();
        String::from_utf8(format(f, &args).0).unwrap()
    }

    #[test]
    fn conversions() {
        assert_eq!(p("%s-%s\\n", &["a", "b"]), "a-b\n");
        assert_eq!(p("%d %i %x %X %o %u", &["10", "-3", "255", "255", "8", "7"]), "10 -3 ff FF 10 7");
        assert_eq!(p("[%5s][%-5s][%.2s]", &["ab", "cd", "xyz"]), "[   ab][cd   ][xy]");
        assert_eq!(p("[%05d][%-4d][%+d][%3d]", &["42", "7", "5", "-1"]), "[00042][7   ][+5][ -1]");
        assert_eq!(p("%c%c", &["hello", "w"]), "hw");
        assert_eq!(p("%s\\n", &["a", "b", "c"]), "a\nb\nc\n");
        assert_eq!(p("%s %s\\n", &["a", "b", "c"]), "a b\nc \n");
        assert_eq!(p("100%%\\n", &[]), "100%\n");
        assert_eq!(p("%b|", &["x\\ty", "\\0101"]), "x\ty|A|");
        assert_eq!(p("a\\101\\x42\\c", &[]), "aAB");
        assert_eq!(p("%d", &["'A"]), "65");
        assert_eq!(p("%#x %#o", &["255", "8"]), "0xff 010");
        assert_eq!(p("%.2f %5.1f %e", &["3.14159", "2.25", "1500"]), "3.14   2.2 1.500000e+03");
        assert_eq!(p("%g %g %g", &["100000", "1000000", "0.0001"]), "100000 1e+06 0.0001");
        assert_eq!(p("%*d|%-*d|", &["4", "1", "3", "2"]), "   1|2  |");
        assert_eq!(p("%d", &[]), "0");
        assert_eq!(p("%05.1f", &["-1.25"]), "-01.2");
        let (_, ok) = format("%d", &["abc".to_string()]);
        assert!(!ok);
    }

    #[test]
    fn escapes() {
        let mut v = Vec::new();
        assert!(!unescape(b"a\\nb\\\\\\0101\\x41", &mut v, true));
        assert_eq!(v, b"a\nb\\AA");
        let mut v = Vec::new();
        assert!(unescape(b"x\\cy", &mut v, true));
        assert_eq!(v, b"x");
        let mut v = Vec::new();
        unescape(b"\\q", &mut v, true);
        assert_eq!(v, b"\\q");
    }
}
