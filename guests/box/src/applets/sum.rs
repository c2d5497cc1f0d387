//! md5sum, sha1sum, sha256sum (`-c` to check a list); the digests are small enough to keep
//! here rather than pull in crates.

use crate::err;
use crate::util::{self, done, errstr, getopt, out};
use std::io::{Read, Write};

/// A streaming hash.
pub trait Digest {
    fn update(&mut self, data: &[u8]);
    fn finish(self: Box<Self>) -> Vec<u8>;
}

/// Merkle–Damgård framing shared by the three: 64-byte blocks, length in bits at the end
/// (little-endian for MD5, big-endian for the SHAs).
struct Blocks {
    buf: [u8; 64],
    n: usize,
    len: u64,
}

impl Blocks {
    fn new() -> Blocks {
        Blocks { buf: [0; 64], n: 0, len: 0 }
    }
    fn update(&mut self, mut data: &[u8], mut f: impl FnMut(&[u8; 64])) {
        self.len += data.len() as u64;
        if self.n > 0 {
            let k = (64 - self.n).min(data.len());
            self.buf[self.n..self.n + k].copy_from_slice(&data[..k]);
            self.n += k;
            data = &data[k..];
            if self.n == 64 {
                f(&self.buf);
                self.n = 0;
            }
        }
        while data.len() >= 64 {
            f(data[..64].try_into().unwrap());
            data = &data[64..];
        }
        self.buf[..data.len()].copy_from_slice(data);
        self.n += data.len();
    }
    fn finish(&mut self, big_endian: bool, mut f: impl FnMut(&[u8; 64])) {
        let bits = self.len.wrapping_mul(8);
        let mut pad = vec![0x80u8];
        let rem = (self.len as usize + 1) % 64;
        pad.resize(1 + if rem <= 56 { 56 - rem } else { 120 - rem }, 0);
        pad.extend_from_slice(&if big_endian { bits.to_be_bytes() } else { bits.to_le_bytes() });
        let len = self.len;
        self.update(&pad, &mut f);
        self.len = len;
    }
}

pub struct Md5 {
    b: Blocks,
    s: [u32; 4],
}

const MD5_S: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15,
    21,
];

const MD5_K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501, 0x698098d8,
    0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
    0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87,
    0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039,
    0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
    0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
    0xeb86d391,
];

fn md5_block(s: &mut [u32; 4], blk: &[u8; 64]) {
    let m: Vec<u32> = blk.chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
    let [mut a, mut b, mut c, mut d] = *s;
    for i in 0..64 {
        let (f, g) = match i / 16 {
            0 => ((b & c) | (!b & d), i),
            1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
            2 => (b ^ c ^ d, (3 * i + 5) % 16),
            _ => (c ^ (b | !d), (7 * i) % 16),
        };
        let k = MD5_K[i];
        let t = d;
        d = c;
        c = b;
        b = b.wrapping_add(a.wrapping_add(f).wrapping_add(k).wrapping_add(m[g]).rotate_left(MD5_S[i]));
        a = t;
    }
    s[0] = s[0].wrapping_add(a);
    s[1] = s[1].wrapping_add(b);
    s[2] = s[2].wrapping_add(c);
    s[3] = s[3].wrapping_add(d);
}

impl Md5 {
    pub fn new() -> Md5 {
        Md5 { b: Blocks::new(), s: [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476] }
    }
}

impl Digest for Md5 {
    fn update(&mut self, data: &[u8]) {
        let s = &mut self.s;
        self.b.update(data, |blk| md5_block(s, blk));
    }
    fn finish(mut self: Box<Self>) -> Vec<u8> {
        let s = &mut self.s;
        self.b.finish(false, |blk| md5_block(s, blk));
        self.s.iter().flat_map(|w| w.to_le_bytes()).collect()
    }
}

pub struct Sha1 {
    b: Blocks,
    s: [u32; 5],
}

fn sha1_block(s: &mut [u32; 5], blk: &[u8; 64]) {
    let mut w = [0u32; 80];
    for i in 0..16 {
        w[i] = u32::from_be_bytes(blk[4 * i..4 * i + 4].try_into().unwrap());
    }
    for i in 16..80 {
        w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
    }
    let [mut a, mut b, mut c, mut d, mut e] = *s;
    for (i, &wi) in w.iter().enumerate() {
        let (f, k) = match i / 20 {
            0 => ((b & c) | (!b & d), 0x5a827999),
            1 => (b ^ c ^ d, 0x6ed9eba1),
            2 => ((b & c) | (b & d) | (c & d), 0x8f1bbcdc),
            _ => (b ^ c ^ d, 0xca62c1d6u32),
        };
        let t = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(wi);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = t;
    }
    for (x, v) in s.iter_mut().zip([a, b, c, d, e]) {
        *x = x.wrapping_add(v);
    }
}

impl Sha1 {
    pub fn new() -> Sha1 {
        Sha1 { b: Blocks::new(), s: [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0] }
    }
}

impl Digest for Sha1 {
    fn update(&mut self, data: &[u8]) {
        let s = &mut self.s;
        self.b.update(data, |blk| sha1_block(s, blk));
    }
    fn finish(mut self: Box<Self>) -> Vec<u8> {
        let s = &mut self.s;
        self.b.finish(true, |blk| sha1_block(s, blk));
        self.s.iter().flat_map(|w| w.to_be_bytes()).collect()
    }
}

pub struct Sha256 {
    b: Blocks,
    s: [u32; 8],
}

const K256: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];

fn sha256_block(s: &mut [u32; 8], blk: &[u8; 64]) {
    let mut w = [0u32; 64];
    for i in 0..16 {
        w[i] = u32::from_be_bytes(blk[4 * i..4 * i + 4].try_into().unwrap());
    }
    for i in 16..64 {
        let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
        let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
    }
    let mut h = *s;
    for i in 0..64 {
        let [a, b, c, d, e, f, g, hh] = h;
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = hh.wrapping_add(s1).wrapping_add(ch).wrapping_add(K256[i]).wrapping_add(w[i]);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        h = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
    }
    for (x, v) in s.iter_mut().zip(h) {
        *x = x.wrapping_add(v);
    }
}

impl Sha256 {
    pub fn new() -> Sha256 {
        Sha256 {
            b: Blocks::new(),
            s: [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19],
        }
    }
}

impl Digest for Sha256 {
    fn update(&mut self, data: &[u8]) {
        let s = &mut self.s;
        self.b.update(data, |blk| sha256_block(s, blk));
    }
    fn finish(mut self: Box<Self>) -> Vec<u8> {
        let s = &mut self.s;
        self.b.finish(true, |blk| sha256_block(s, blk));
        self.s.iter().flat_map(|w| w.to_be_bytes()).collect()
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The digest of `data` by algorithm name (`md5`, `sha1`, `sha256`), as hex.
#[cfg(test)]
pub fn digest_hex(algo: &str, data: &[u8]) -> String {
    let mut d = new_digest(algo);
    d.update(data);
    hex(&d.finish())
}

fn new_digest(algo: &str) -> Box<dyn Digest> {
    match algo {
        "md5" => Box::new(Md5::new()),
        "sha1" => Box::new(Sha1::new()),
        _ => Box::new(Sha256::new()),
    }
}

fn hash_file(algo: &str, path: &str) -> std::io::Result<String> {
    let mut r = util::open_input(path)?;
    let mut d = new_digest(algo);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        d.update(&buf[..n]);
    }
    Ok(hex(&d.finish()))
}

/// One line of a `-c` list: `HEX  FILE` (or `HEX *FILE` for binary mode).
pub fn parse_check_line(line: &str, hex_len: usize) -> Option<(&str, &str)> {
    let (h, rest) = line.split_at_checked(hex_len)?;
    if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let name = rest.strip_prefix("  ").or_else(|| rest.strip_prefix(" *"))?;
    (!name.is_empty()).then_some((h, name))
}

fn sum_main(args: &[String], algo: &str, hex_len: usize) -> i32 {
    let o = match getopt(args, "cswbtq") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let files = if o.args.is_empty() { vec!["-".to_string()] } else { o.args.clone() };
    let mut w = out();
    let mut rc = 0;
    if !o.has('c') {
        for f in &files {
            match hash_file(algo, f) {
                Ok(h) => {
                    if writeln!(w, "{h}  {f}").is_err() {
                        return 1;
                    }
                }
                Err(e) => {
                    err!("{f}: {}", errstr(&e));
                    rc = 1;
                }
            }
        }
        return done(&mut w, rc);
    }
    let (quiet, status) = (o.has('q'), o.has('s'));
    let mut bad = 0;
    for list in &files {
        let text = match util::read_all(list) {
            Ok(t) => String::from_utf8_lossy(&t).into_owned(),
            Err(e) => {
                err!("{list}: {}", errstr(&e));
                rc = 1;
                continue;
            }
        };
        let mut any = false;
        for line in text.lines() {
            let Some((want, name)) = parse_check_line(line, hex_len) else {
                if o.has('w') {
                    err!("{list}: improperly formatted line");
                }
                continue;
            };
            any = true;
            let ok = match hash_file(algo, name) {
                Ok(h) => h.eq_ignore_ascii_case(want),
                Err(e) => {
                    if !status {
                        err!("{name}: {}", errstr(&e));
                    }
                    false
                }
            };
            if !ok {
                bad += 1;
            }
            if !status && !(quiet && ok) {
                let _ = writeln!(w, "{name}: {}", if ok { "OK" } else { "FAILED" });
            }
        }
        if !any {
            err!("{list}: no checksum lines found");
            rc = 1;
        }
    }
    if bad > 0 {
        rc = 1;
        if !status {
            let _ = w.flush();
            err!("WARNING: {bad} of computed checksums did NOT match");
        }
    }
    done(&mut w, rc)
}

/// `md5sum [-c [-s] [-w]] [FILE]...`
pub fn md5sum(args: &[String]) -> i32 {
    sum_main(args, "md5", 32)
}

/// `sha1sum [-c [-s] [-w]] [FILE]...`
pub fn sha1sum(args: &[String]) -> i32 {
    sum_main(args, "sha1", 40)
}

/// `sha256sum [-c [-s] [-w]] [FILE]...`
pub fn sha256sum(args: &[String]) -> i32 {
    sum_main(args, "sha256", 64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testutil::{argv, tempdir};

    #[test]
    fn vectors() {
        assert_eq!(digest_hex("md5", b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(digest_hex("md5", b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            digest_hex("md5", b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
        assert_eq!(digest_hex("sha1", b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            digest_hex("sha1", b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(digest_hex("sha256", b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(
            digest_hex("sha256", b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        // Chunked updates across block boundaries give the same digest.
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let mut d: Box<dyn Digest> = Box::new(Sha256::new());
        for c in data.chunks(37) {
            d.update(c);
        }
        assert_eq!(hex(&d.finish()), digest_hex("sha256", &data));
        let million = vec![b'a'; 1_000_000];
        assert_eq!(digest_hex("sha1", &million), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    }

    #[test]
    fn check_mode() {
        assert_eq!(
            parse_check_line("900150983cd24fb0d6963f7d28e17f72  a b", 32),
            Some(("900150983cd24fb0d6963f7d28e17f72", "a b"))
        );
        assert_eq!(parse_check_line("900150983cd24fb0d6963f7d28e17f72 *x", 32).map(|x| x.1), Some("x"));
        assert_eq!(parse_check_line("zz0150983cd24fb0d6963f7d28e17f72  x", 32), None);
        assert_eq!(parse_check_line("short", 32), None);
        let d = tempdir();
        let f = format!("{d}/f");
        std::fs::write(&f, "abc").unwrap();
        let list = format!("{d}/list");
        std::fs::write(&list, format!("900150983cd24fb0d6963f7d28e17f72  {f}\n")).unwrap();
        assert_eq!(md5sum(&argv(&["md5sum", "-c", "-s", &list])), 0);
        std::fs::write(&f, "abd").unwrap();
        assert_eq!(md5sum(&argv(&["md5sum", "-c", "-s", &list])), 1);
        assert_eq!(md5sum(&argv(&["md5sum", &format!("{d}/missing")])), 1);
    }
}
