//! Dumps: od (GNU/POSIX layout), hexdump (`-C` canonical and the BSD one-letter formats),
//! xxd (plain, `-p`, `-r`).

use crate::err;
use crate::util::{self, done, errstr, getopt, out};
use std::io::Write;

/// One od output type: kind (`o x d u c a`) and item size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OdType {
    pub kind: char,
    pub size: usize,
}

impl OdType {
    /// Digits of one item (without the separating space), as GNU od sizes them.
    fn width(&self) -> usize {
        match (self.kind, self.size) {
            ('c' | 'a', _) => 3,
            ('o', 1) => 3,
            ('o', 2) => 6,
            ('o', 4) => 11,
            ('o', _) => 22,
            ('x', s) => 2 * s,
            ('d', 1) => 4,
            ('d', 2) => 6,
            ('d', 4) => 11,
            ('d', _) => 20,
            ('u', 1) => 3,
            ('u', 2) => 5,
            ('u', 4) => 10,
            _ => 20,
        }
    }

    fn format(&self, b: &[u8]) -> String {
        let mut v: u64 = 0;
        for (i, &x) in b.iter().enumerate() {
            v |= (x as u64) << (8 * i);
        }
        match self.kind {
            'o' => format!("{:0w$o}", v, w = self.width()),
            'x' => format!("{:0w$x}", v, w = self.width()),
            'u' => v.to_string(),
            'd' => {
                let bits = 8 * self.size as u32;
                let s = if bits == 64 { v as i64 } else { ((v << (64 - bits)) as i64) >> (64 - bits) };
                s.to_string()
            }
            'c' => od_char(b[0]),
            _ => od_named(b[0]),
        }
    }
}

/// `-c`'s rendering of a byte.
pub fn od_char(b: u8) -> String {
    match b {
        0 => "\\0".into(),
        7 => "\\a".into(),
        8 => "\\b".into(),
        b'\t' => "\\t".into(),
        b'\n' => "\\n".into(),
        11 => "\\v".into(),
        12 => "\\f".into(),
        b'\r' => "\\r".into(),
        32..=126 => (b as char).to_string(),
        _ => format!("{b:03o}"),
    }
}

/// `-a`'s rendering (named characters, high bit ignored).
fn od_named(b: u8) -> String {
    const N: [&str; 33] = [
        "nul", "soh", "stx", "etx", "eot", "enq", "ack", "bel", "bs", "ht", "nl", "vt", "ff", "cr", "so", "si", "dle",
        "dc1", "dc2", "dc3", "dc4", "nak", "syn", "etb", "can", "em", "sub", "esc", "fs", "gs", "rs", "us", "sp",
    ];
    let b = b & 0x7f;
    match b {
        0..=32 => N[b as usize].into(),
        127 => "del".into(),
        _ => (b as char).to_string(),
    }
}

/// Parse a `-t` spec such as `x1`, `o2`, `d4`, `c`, `x1c` (several types).
pub fn parse_type(spec: &str) -> Result<Vec<OdType>, String> {
    let mut v = Vec::new();
    let b = spec.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let kind = b[i] as char;
        i += 1;
        match kind {
            'c' | 'a' => v.push(OdType { kind, size: 1 }),
            'o' | 'x' | 'd' | 'u' => {
                let mut size = if kind == 'd' || kind == 'u' { 4 } else { 2 };
                if i < b.len() {
                    let s = match b[i] {
                        b'1' | b'C' => Some(1),
                        b'2' | b'S' => Some(2),
                        b'4' | b'I' => Some(4),
                        b'8' | b'L' => Some(8),
                        _ => None,
                    };
                    if let Some(s) = s {
                        size = s;
                        i += 1;
                    }
                }
                v.push(OdType { kind, size });
            }
            'f' => return Err("floating point types are not supported".into()),
            _ => return Err(format!("invalid type string '{spec}'")),
        }
    }
    Ok(v)
}

/// Address radix: `o`, `d`, `x` or `n` (none) and its width.
fn addr(radix: char, n: u64) -> String {
    match radix {
        'd' => format!("{n:07}"),
        'x' => format!("{n:06x}"),
        'n' => String::new(),
        _ => format!("{n:07o}"),
    }
}

/// The od text of `data` (starting at offset `start`), GNU's layout: 16 bytes a line, every
/// type on its own line, columns aligned across types, `*` for repeated lines (unless `all`).
pub fn od_dump(data: &[u8], start: u64, types: &[OdType], radix: char, all: bool) -> String {
    const BLOCK: usize = 16;
    let wpb = types.iter().map(|t| (t.width() + 1) * (BLOCK / t.size)).max().unwrap_or(0);
    let mut s = String::new();
    let mut prev: Option<&[u8]> = None;
    let mut starred = false;
    for (k, chunk) in data.chunks(BLOCK).enumerate() {
        let off = start + (k * BLOCK) as u64;
        if !all && chunk.len() == BLOCK && prev == Some(chunk) {
            if !starred {
                s.push_str("*\n");
                starred = true;
            }
            continue;
        }
        starred = false;
        prev = Some(chunk);
        for (ti, t) in types.iter().enumerate() {
            let a = addr(radix, off);
            if ti == 0 {
                s.push_str(&a);
            } else {
                s.push_str(&" ".repeat(a.len()));
            }
            let fields = BLOCK / t.size;
            let pad = wpb - t.width() * fields;
            let mut pad_rem = pad;
            let have = chunk.len().div_ceil(t.size);
            for f in 0..have {
                let i = fields - f;
                let next_pad = pad * (i - 1) / fields;
                let w = pad_rem - next_pad + t.width();
                pad_rem = next_pad;
                let mut item = [0u8; 8];
                let lo = f * t.size;
                let hi = (lo + t.size).min(chunk.len());
                item[..hi - lo].copy_from_slice(&chunk[lo..hi]);
                s.push_str(&format!("{:>w$}", t.format(&item[..t.size])));
            }
            s.push('\n');
        }
    }
    let end = addr(radix, start + data.len() as u64);
    if !end.is_empty() {
        s.push_str(&end);
        s.push('\n');
    }
    s
}

fn read_inputs(files: &[String], skip: u64, count: Option<u64>) -> Result<Vec<u8>, String> {
    let files = if files.is_empty() { vec!["-".to_string()] } else { files.to_vec() };
    let mut data = Vec::new();
    for f in &files {
        match util::read_all(f) {
            Ok(d) => data.extend(d),
            Err(e) => return Err(format!("{f}: {}", errstr(&e))),
        }
    }
    let skip = (skip as usize).min(data.len());
    data.drain(..skip);
    if let Some(n) = count {
        data.truncate(n as usize);
    }
    Ok(data)
}

/// `123`, `0x1f`, `010`, `1k`, `2b` (512), `1m`.
pub fn parse_size(s: &str) -> Option<u64> {
    let (num, mult) = match s.chars().last()? {
        'b' if !s.starts_with("0x") => (&s[..s.len() - 1], 512),
        'k' | 'K' => (&s[..s.len() - 1], 1024),
        'm' | 'M' => (&s[..s.len() - 1], 1024 * 1024),
        _ => (s, 1),
    };
    let v = if let Some(h) = num.strip_prefix("0x").or_else(|| num.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()?
    } else if num.len() > 1 && num.starts_with('0') {
        u64::from_str_radix(&num[1..], 8).ok()?
    } else {
        num.parse().ok()?
    };
    Some(v * mult)
}

/// `od [-abcdiosxv] [-A RADIX] [-t TYPE]... [-j SKIP] [-N COUNT] [FILE]...`
pub fn od(args: &[String]) -> i32 {
    let o = match getopt(args, "A:t:j:N:abcdiosxvlw:") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let radix = match o.val('A') {
        None => 'o',
        Some(r) if r.len() == 1 && "odxn".contains(r) => r.chars().next().unwrap(),
        Some(r) => {
            err!("bad output address radix '{r}'");
            return 1;
        }
    };
    let mut types = Vec::new();
    // Type options in command-line order would need the parser's order; these letters map to
    // fixed types, -t specs come after them.
    for (c, t) in [
        ('a', "a"),
        ('b', "o1"),
        ('c', "c"),
        ('d', "u2"),
        ('i', "d4"),
        ('l', "d8"),
        ('o', "o2"),
        ('s', "d2"),
        ('x', "x2"),
    ] {
        if o.has(c) {
            types.extend(parse_type(t).unwrap());
        }
    }
    for t in o.vals('t') {
        match parse_type(t) {
            Ok(v) => types.extend(v),
            Err(m) => {
                err!("{m}");
                return 1;
            }
        }
    }
    if types.is_empty() {
        types.push(OdType { kind: 'o', size: 2 });
    }
    let skip = match o.val('j').map(parse_size) {
        None => 0,
        Some(Some(n)) => n,
        Some(None) => {
            err!("invalid number '{}'", o.val('j').unwrap());
            return 1;
        }
    };
    let count = match o.val('N').map(parse_size) {
        None => None,
        Some(Some(n)) => Some(n),
        Some(None) => {
            err!("invalid number '{}'", o.val('N').unwrap());
            return 1;
        }
    };
    let data = match read_inputs(&o.args, skip, count) {
        Ok(d) => d,
        Err(m) => {
            err!("{m}");
            return 1;
        }
    };
    let mut w = out();
    let _ = w.write_all(od_dump(&data, skip, &types, radix, o.has('v')).as_bytes());
    done(&mut w, 0)
}

fn printable(b: u8) -> char {
    if (32..127).contains(&b) {
        b as char
    } else {
        '.'
    }
}

/// hexdump's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HexFmt {
    /// The default: 7-digit address, 16-bit words `%04x`.
    Words,
    Canonical,
    TwoHex,
    TwoDec,
    TwoOct,
    Chars,
    OneOct,
}

/// hexdump's text of `data` from offset `start`.
pub fn hexdump_text(data: &[u8], start: u64, fmt: HexFmt, all: bool) -> String {
    let mut s = String::new();
    let mut prev: Option<&[u8]> = None;
    let mut starred = false;
    for (k, chunk) in data.chunks(16).enumerate() {
        let off = start + k as u64 * 16;
        if !all && chunk.len() == 16 && prev == Some(chunk) {
            if !starred {
                s.push_str("*\n");
                starred = true;
            }
            continue;
        }
        starred = false;
        prev = Some(chunk);
        let word = |i: usize| -> Option<u16> {
            let lo = *chunk.get(2 * i)?;
            Some(lo as u16 | (*chunk.get(2 * i + 1).unwrap_or(&0) as u16) << 8)
        };
        match fmt {
            HexFmt::Canonical => {
                s.push_str(&format!("{off:08x}  "));
                for i in 0..16 {
                    match chunk.get(i) {
                        Some(b) => s.push_str(&format!("{b:02x} ")),
                        None => s.push_str("   "),
                    }
                    if i == 7 {
                        s.push(' ');
                    }
                }
                s.push_str(" |");
                s.extend(chunk.iter().map(|&b| printable(b)));
                s.push_str("|\n");
            }
            _ => {
                s.push_str(&format!("{off:07x}"));
                let (n, w) = match fmt {
                    HexFmt::Words => (8, 5),
                    HexFmt::Chars | HexFmt::OneOct => (16, 4),
                    _ => (8, 8),
                };
                for i in 0..n {
                    let item = match fmt {
                        HexFmt::Words => word(i).map(|v| format!(" {v:04x}")),
                        HexFmt::TwoHex => word(i).map(|v| format!("    {v:04x}")),
                        HexFmt::TwoDec => word(i).map(|v| format!("   {v:05}")),
                        HexFmt::TwoOct => word(i).map(|v| format!("  {v:06o}")),
                        HexFmt::OneOct => chunk.get(i).map(|b| format!(" {b:03o}")),
                        _ => chunk.get(i).map(|&b| format!("{:>4}", od_char(b))),
                    };
                    s.push_str(&item.unwrap_or_else(|| " ".repeat(w)));
                }
                s.push('\n');
            }
        }
    }
    if !data.is_empty() || start > 0 {
        let end = start + data.len() as u64;
        if fmt == HexFmt::Canonical {
            s.push_str(&format!("{end:08x}\n"));
        } else {
            s.push_str(&format!("{end:07x}\n"));
        }
    }
    s
}

/// `hexdump [-bcCdovx] [-n LEN] [-s SKIP] [FILE]...`
pub fn hexdump(args: &[String]) -> i32 {
    let o = match getopt(args, "bcCdoxvn:s:") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let fmt = match o.last_of("bcCdox") {
        Some('b') => HexFmt::OneOct,
        Some('c') => HexFmt::Chars,
        Some('C') => HexFmt::Canonical,
        Some('d') => HexFmt::TwoDec,
        Some('o') => HexFmt::TwoOct,
        Some('x') => HexFmt::TwoHex,
        _ => HexFmt::Words,
    };
    let num = |c: char| -> Result<Option<u64>, i32> {
        match o.val(c).map(parse_size) {
            None => Ok(None),
            Some(Some(n)) => Ok(Some(n)),
            Some(None) => {
                err!("invalid number '{}'", o.val(c).unwrap());
                Err(1)
            }
        }
    };
    let (skip, len) = match (num('s'), num('n')) {
        (Ok(s), Ok(n)) => (s.unwrap_or(0), n),
        _ => return 1,
    };
    let data = match read_inputs(&o.args, skip, len) {
        Ok(d) => d,
        Err(m) => {
            err!("{m}");
            return 1;
        }
    };
    let mut w = out();
    let _ = w.write_all(hexdump_text(&data, skip, fmt, o.has('v')).as_bytes());
    done(&mut w, 0)
}

/// xxd's text: `cols` bytes a line in groups of `group` bytes; `plain` is `-p`.
pub fn xxd_text(data: &[u8], start: u64, cols: usize, group: usize, upper: bool, plain: bool) -> String {
    let hx = |b: u8| if upper { format!("{b:02X}") } else { format!("{b:02x}") };
    let mut s = String::new();
    if plain {
        for chunk in data.chunks(if cols == 16 { 30 } else { cols.max(1) }) {
            for &b in chunk {
                s.push_str(&hx(b));
            }
            s.push('\n');
        }
        return s;
    }
    let cols = cols.max(1);
    let group = group.max(1);
    let ngroups = cols.div_ceil(group);
    let width = cols * 2 + ngroups - 1;
    for (k, chunk) in data.chunks(cols).enumerate() {
        let mut h = String::new();
        for (i, &b) in chunk.iter().enumerate() {
            if i > 0 && i % group == 0 {
                h.push(' ');
            }
            h.push_str(&hx(b));
        }
        let text: String = chunk.iter().map(|&b| printable(b)).collect();
        s.push_str(&format!("{:08x}: {:<width$}  {}\n", start + (k * cols) as u64, h, text));
    }
    s
}

/// `xxd -r -p`: hex digits back to bytes (anything else is skipped).
pub fn xxd_unplain(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter_map(|c| (c as char).to_digit(16).map(|d| d as u8)).collect();
    digits.chunks(2).filter(|c| c.len() == 2).map(|c| c[0] << 4 | c[1]).collect()
}

/// `xxd -r`: a normal dump back to bytes (the offset before `:`, then hex groups).
pub fn xxd_unhex(text: &str) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    for line in text.lines() {
        let Some((off, rest)) = line.split_once(':') else { continue };
        let Ok(off) = usize::from_str_radix(off.trim(), 16) else { continue };
        // The hex area ends at two spaces (before the text column).
        let hexpart = match rest.trim_start_matches(' ').find("  ") {
            Some(i) => &rest.trim_start_matches(' ')[..i],
            None => rest,
        };
        let bytes = xxd_unplain(hexpart);
        if out.len() < off {
            out.resize(off, 0);
        }
        out.truncate(off);
        out.extend(bytes);
    }
    out
}

/// `xxd [-p] [-r] [-u] [-c COLS] [-g BYTES] [-l LEN] [-s SEEK] [FILE]`
pub fn xxd(args: &[String]) -> i32 {
    let o = match getopt(args, "prupc:g:l:s:") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let num = |c: char, d: u64| -> Option<u64> {
        match o.val(c) {
            None => Some(d),
            Some(v) => parse_size(v),
        }
    };
    let (Some(cols), Some(group), Some(seek)) = (num('c', 16), num('g', 2), num('s', 0)) else {
        err!("invalid number");
        return 1;
    };
    let files: Vec<String> = o.args.iter().take(1).cloned().collect();
    let mut w = out();
    if o.has('r') {
        let text = match read_inputs(&files, 0, None) {
            Ok(d) => String::from_utf8_lossy(&d).into_owned(),
            Err(m) => {
                err!("{m}");
                return 1;
            }
        };
        let data = if o.has('p') { xxd_unplain(&text) } else { xxd_unhex(&text) };
        let _ = w.write_all(&data);
        return done(&mut w, 0);
    }
    let len = o.val('l').and_then(parse_size);
    let data = match read_inputs(&files, seek, len) {
        Ok(d) => d,
        Err(m) => {
            err!("{m}");
            return 1;
        }
    };
    let text = xxd_text(&data, seek, cols as usize, group as usize, o.has('u'), o.has('p'));
    let _ = w.write_all(text.as_bytes());
    done(&mut w, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &[u8] = b"hello world, this is a test\n\0\x01\xff";

    #[test]
    fn od_gnu_layout() {
        let o2 = parse_type("o2").unwrap();
        assert_eq!(
            od_dump(T, 0, &o2, 'o', false),
            "0000000 062550 066154 020157 067567 066162 026144 072040 064550\n\
             0000020 020163 071551 060440 072040 071545 005164 000400 000377\n0000037\n"
        );
        let c = parse_type("c").unwrap();
        assert_eq!(
            od_dump(T, 0, &c, 'o', false),
            "0000000   h   e   l   l   o       w   o   r   l   d   ,       t   h   i\n\
             0000020   s       i   s       a       t   e   s   t  \\n  \\0 001 377\n0000037\n"
        );
        let both = parse_type("x1c").unwrap();
        assert_eq!(
            od_dump(&T[..20], 0, &both, 'x', false),
            "000000  68  65  6c  6c  6f  20  77  6f  72  6c  64  2c  20  74  68  69\n\
             \x20        h   e   l   l   o       w   o   r   l   d   ,       t   h   i\n\
             000010  73  20  69  73\n\
             \x20        s       i   s\n000014\n"
        );
        assert_eq!(
            od_dump(
                b"abc",
                0,
                &parse_type("o2").unwrap().into_iter().chain(parse_type("x1").unwrap()).collect::<Vec<_>>(),
                'o',
                false
            ),
            "0000000 061141 000143\n         61 62  63\n0000003\n"
        );
        assert_eq!(
            od_dump(&T[..16], 0, &parse_type("d2").unwrap(), 'o', false),
            "0000000  25960  27756   8303  28535  27762  11364  29728  26984\n0000020\n"
        );
        assert_eq!(od_dump(&[0xff, 0xff], 0, &parse_type("d2").unwrap(), 'n', false), "     -1\n");
        assert_eq!(
            od_dump(&[0u8; 64], 0, &o2, 'o', false),
            "0000000 000000 000000 000000 000000 000000 000000 000000 000000\n*\n0000100\n"
        );
        assert_eq!(od_dump(b"", 0, &o2, 'o', false), "0000000\n");
        assert_eq!(parse_type("a").unwrap()[0], OdType { kind: 'a', size: 1 });
        assert!(parse_type("q").is_err());
        assert_eq!(od_named(b' '), "sp");
        assert_eq!(parse_size("0x10"), Some(16));
        assert_eq!(parse_size("1k"), Some(1024));
    }

    #[test]
    fn hexdump_layouts() {
        assert_eq!(
            hexdump_text(T, 0, HexFmt::Canonical, false),
            "00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64 2c 20 74 68 69  |hello world, thi|\n\
             00000010  73 20 69 73 20 61 20 74  65 73 74 0a 00 01 ff     |s is a test....|\n\
             0000001f\n"
        );
        assert_eq!(
            hexdump_text(b"abc", 0, HexFmt::Canonical, false),
            "00000000  61 62 63                                          |abc|\n00000003\n"
        );
        assert_eq!(
            hexdump_text(b"abc", 0, HexFmt::Words, false),
            "0000000 6261 0063                              \n0000003\n"
        );
        assert_eq!(
            hexdump_text(&T[..16], 0, HexFmt::TwoDec, false),
            "0000000   25960   27756   08303   28535   27762   11364   29728   26984\n0000010\n"
        );
        assert_eq!(
            hexdump_text(b"abc", 0, HexFmt::Chars, false),
            format!("0000000   a   b   c{}\n0000003\n", " ".repeat(52))
        );
        assert_eq!(
            hexdump_text(&[0u8; 48], 0, HexFmt::Canonical, false),
            "00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n*\n00000030\n"
        );
        assert_eq!(hexdump_text(b"", 0, HexFmt::Canonical, false), "");
    }

    #[test]
    fn xxd_layouts() {
        assert_eq!(
            xxd_text(T, 0, 16, 2, false, false),
            "00000000: 6865 6c6c 6f20 776f 726c 642c 2074 6869  hello world, thi\n\
             00000010: 7320 6973 2061 2074 6573 740a 0001 ff    s is a test....\n"
        );
        assert_eq!(xxd_text(b"abc", 0, 16, 2, false, true), "616263\n");
        assert_eq!(xxd_unplain("6162\n63\n"), b"abc");
        assert_eq!(xxd_unhex(&xxd_text(T, 0, 16, 2, false, false)), T);
    }
}
