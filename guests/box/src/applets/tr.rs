//! `tr [-cds] SET1 [SET2]`: byte sets with ranges, escapes and [:classes:].

use crate::err;
use crate::util::{done, getopt, out};
use std::io::{self, Read, Write};

/// Expand a tr set description into its byte list.
pub fn expand_set(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    // first decode escapes into (byte, literal) pairs
    let mut items: Vec<(u8, bool)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            i += 1;
            let c = match b[i] {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                b'a' => 7,
                b'b' => 8,
                b'f' => 12,
                b'v' => 11,
                b'\\' => b'\\',
                b'0'..=b'7' => {
                    let mut v = 0u32;
                    let mut n = 0;
                    while n < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                        v = v * 8 + (b[i] - b'0') as u32;
                        i += 1;
                        n += 1;
                    }
                    items.push((v as u8, true));
                    continue;
                }
                other => other,
            };
            items.push((c, true));
            i += 1;
        } else {
            items.push((b[i], false));
            i += 1;
        }
    }
    let mut out = Vec::new();
    let mut k = 0;
    while k < items.len() {
        let (c, lit) = items[k];
        if c == b'[' && !lit {
            // [:class:], [=c=], [c*n]
            let rest: Vec<u8> = items[k + 1..].iter().map(|x| x.0).collect();
            if rest.first() == Some(&b':') {
                if let Some(end) = rest.windows(2).position(|w| w == b":]") {
                    let name = String::from_utf8_lossy(&rest[1..end]).into_owned();
                    let f: fn(&u8) -> bool = match name.as_str() {
                        "alpha" => u8::is_ascii_alphabetic,
                        "digit" => u8::is_ascii_digit,
                        "alnum" => u8::is_ascii_alphanumeric,
                        "upper" => u8::is_ascii_uppercase,
                        "lower" => u8::is_ascii_lowercase,
                        "space" => |c: &u8| c.is_ascii_whitespace() || *c == 11,
                        "blank" => |c: &u8| *c == b' ' || *c == b'\t',
                        "punct" => u8::is_ascii_punctuation,
                        "print" => |c: &u8| (32..127).contains(c),
                        "graph" => u8::is_ascii_graphic,
                        "cntrl" => u8::is_ascii_control,
                        "xdigit" => u8::is_ascii_hexdigit,
                        _ => return Err(format!("invalid character class '{name}'")),
                    };
                    out.extend((0u8..=255).filter(f));
                    k += end + 3;
                    continue;
                }
            }
            if rest.len() >= 3 && rest[0] == b'=' && rest[2] == b'=' && rest.get(3) == Some(&b']') {
                out.push(rest[1]);
                k += 5;
                continue;
            }
            if rest.len() >= 2 && rest[1] == b'*' {
                if let Some(end) = rest.iter().position(|&x| x == b']') {
                    let n: usize = std::str::from_utf8(&rest[2..end]).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
                    // n == 0: fill to SET1's length, handled by padding with the last byte
                    out.extend(std::iter::repeat_n(rest[0], n.max(1)));
                    k += end + 2;
                    continue;
                }
            }
        }
        if k + 2 < items.len() && items[k + 1] == (b'-', false) {
            let hi = items[k + 2].0;
            if hi < c {
                return Err(format!(
                    "range-endpoints of '{}-{}' are in reverse collating sequence order",
                    c as char, hi as char
                ));
            }
            out.extend(c..=hi);
            k += 3;
            continue;
        }
        out.push(c);
        k += 1;
    }
    Ok(out)
}

/// The translation state: what each byte maps to, which bytes are deleted/squeezed.
pub struct Tr {
    map: [u8; 256],
    delete: [bool; 256],
    squeeze: [bool; 256],
}

impl Tr {
    pub fn new(set1: &[u8], set2: Option<&[u8]>, complement: bool, del: bool, squeeze: bool) -> Tr {
        let mut in1 = [false; 256];
        for &c in set1 {
            in1[c as usize] = true;
        }
        let s1: Vec<u8> = if complement { (0u8..=255).filter(|&c| !in1[c as usize]).collect() } else { set1.to_vec() };
        let mut t = Tr { map: [0; 256], delete: [false; 256], squeeze: [false; 256] };
        for i in 0..256 {
            t.map[i] = i as u8;
        }
        if del {
            for &c in &s1 {
                t.delete[c as usize] = true;
            }
            if let (true, Some(s2)) = (squeeze, set2) {
                for &c in s2 {
                    t.squeeze[c as usize] = true;
                }
            }
            return t;
        }
        match set2 {
            Some(s2) if !s2.is_empty() => {
                for (i, &c) in s1.iter().enumerate() {
                    t.map[c as usize] = *s2.get(i).unwrap_or(s2.last().unwrap());
                }
                if squeeze {
                    for &c in s2 {
                        t.squeeze[c as usize] = true;
                    }
                }
            }
            _ => {
                if squeeze {
                    for &c in &s1 {
                        t.squeeze[c as usize] = true;
                    }
                }
            }
        }
        t
    }

    /// Translate a chunk; `last` carries the previous output byte across chunks (for -s).
    pub fn apply(&self, input: &[u8], last: &mut Option<u8>) -> Vec<u8> {
        let mut v = Vec::with_capacity(input.len());
        for &c in input {
            if self.delete[c as usize] {
                continue;
            }
            let m = self.map[c as usize];
            if self.squeeze[m as usize] && *last == Some(m) {
                continue;
            }
            v.push(m);
            *last = Some(m);
        }
        v
    }
}

pub fn tr(args: &[String]) -> i32 {
    let o = match getopt(args, "cCdst") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let del = o.has('d');
    let sq = o.has('s');
    let need = if del && !sq || (sq && !del && o.args.len() == 1) { 1 } else { 2 };
    if o.args.len() < need {
        err!("missing operand");
        return 1;
    }
    let sets: Result<Vec<Vec<u8>>, String> = o.args.iter().take(2).map(|s| expand_set(s)).collect();
    let sets = match sets {
        Ok(s) => s,
        Err(m) => {
            err!("{m}");
            return 1;
        }
    };
    let mut s1 = sets[0].clone();
    if o.has('t') {
        if let Some(s2) = sets.get(1) {
            s1.truncate(s2.len());
        }
    }
    let t = Tr::new(&s1, sets.get(1).map(|v| v.as_slice()), o.has('c') || o.has('C'), del, sq);
    let mut w = out();
    let mut stdin = io::stdin().lock();
    let mut buf = vec![0u8; 16 * 1024];
    let mut last = None;
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return 1,
        };
        if w.write_all(&t.apply(&buf[..n], &mut last)).is_err() {
            return 1;
        }
    }
    done(&mut w, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s1: &str, s2: Option<&str>, c: bool, d: bool, s: bool, input: &str) -> String {
        let a = expand_set(s1).unwrap();
        let b = s2.map(|x| expand_set(x).unwrap());
        let t = Tr::new(&a, b.as_deref(), c, d, s);
        String::from_utf8(t.apply(input.as_bytes(), &mut None)).unwrap()
    }

    #[test]
    fn sets() {
        assert_eq!(expand_set("a-e").unwrap(), b"abcde");
        assert_eq!(expand_set("\\n\\t\\101x").unwrap(), b"\n\tAx");
        assert_eq!(expand_set("[:digit:]").unwrap(), b"0123456789");
        assert_eq!(expand_set("a-").unwrap(), b"a-");
        assert_eq!(expand_set("[x*3]").unwrap(), b"xxx");
        assert!(expand_set("z-a").is_err());
    }

    #[test]
    fn translate() {
        assert_eq!(run("a-z", Some("A-Z"), false, false, false, "Hello, World"), "HELLO, WORLD");
        assert_eq!(run("[:lower:]", Some("[:upper:]"), false, false, false, "abc"), "ABC");
        assert_eq!(run("abc", Some("x"), false, false, false, "aabbcd"), "xxxxxd");
        assert_eq!(run("aeiou", None, false, true, false, "education"), "dctn");
        assert_eq!(run(" ", None, false, false, true, "a   b  c"), "a b c");
        assert_eq!(run("a-z", Some("\\n"), true, false, true, "ab12cd!!e"), "ab\ncd\ne");
        assert_eq!(run("0-9", None, true, true, false, "a1b2\n"), "12");
        assert_eq!(run("a", Some("b"), false, true, true, "aaxbbb"), "xb");
    }
}
