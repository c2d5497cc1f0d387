//! Small things the registry needs: random bytes and UUIDs, hex, URL-safe base64, HMAC-SHA256
//! (the upload state tokens), RFC 3339 times.

use serve::num::push_padded;
use serve::time::Civil;
use sha2::{Digest, Sha256};

/// Fill `buf` with random bytes (WASI's `random_get`; `/dev/urandom` natively).
pub fn random(buf: &mut [u8]) {
    #[cfg(target_arch = "wasm32")]
    {
        #[link(wasm_import_module = "wasi_snapshot_preview1")]
        extern "C" {
            fn random_get(buf: *mut u8, len: usize) -> u16;
        }
        if unsafe { random_get(buf.as_mut_ptr(), buf.len()) } == 0 {
            return;
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::io::Read;
        if std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(buf)).is_ok() {
            return;
        }
    }
    // No source of randomness: hash the time with std's per-process keys.
    use std::hash::{BuildHasher, Hasher};
    let st = std::collections::hash_map::RandomState::new();
    for (i, chunk) in buf.chunks_mut(8).enumerate() {
        let mut h = st.build_hasher();
        h.write_u64(serve::time::now_ms());
        h.write_usize(i);
        let v = h.finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

/// A random (version 4) UUID: `3f1c…-…`.
pub fn uuid() -> String {
    let mut b = [0u8; 16];
    random(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(char::from(b"0123456789abcdef"[(x >> 4) as usize]));
        s.push(char::from(b"0123456789abcdef"[(x & 15) as usize]));
    }
    s
}

/// The hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// URL-safe base64 with padding (Go's `base64.URLEncoding`).
pub fn b64url(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(char::from(B64URL[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Decode [`b64url`]'s text (padding required, as Go's `URLEncoding`).
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.len() % 4 != 0 {
        return None;
    }
    let val = |c: u8| B64URL.iter().position(|&x| x == c).map(|p| p as u32);
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for (q, quad) in b.chunks(4).enumerate() {
        let last = q == b.len() / 4 - 1;
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            n = n << 6 | val(c)?;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

/// HMAC-SHA256 of `msg` with `key` (RFC 2104).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// `2026-11-24T10:00:00.123Z` (RFC 3339 in UTC, milliseconds).
pub fn rfc3339_ms(ms: u64) -> String {
    let c = Civil::from_ms(ms);
    let mut v = Vec::with_capacity(24);
    push_date_time(&c, &mut v);
    v.push(b'.');
    push_padded(&mut v, c.millis as u64, 3);
    v.push(b'Z');
    String::from_utf8(v).unwrap_or_default()
}

/// `2026-11-24T10:00:00Z` (RFC 3339 in UTC, seconds: the upload's `startedat` file).
pub fn rfc3339(ms: u64) -> String {
    let c = Civil::from_ms(ms);
    let mut v = Vec::with_capacity(20);
    push_date_time(&c, &mut v);
    v.push(b'Z');
    String::from_utf8(v).unwrap_or_default()
}

fn push_date_time(c: &Civil, v: &mut Vec<u8>) {
    push_padded(v, c.year as u64, 4);
    v.push(b'-');
    push_padded(v, c.month as u64, 2);
    v.push(b'-');
    push_padded(v, c.day as u64, 2);
    v.push(b'T');
    push_padded(v, c.hour as u64, 2);
    v.push(b':');
    push_padded(v, c.min as u64, 2);
    v.push(b':');
    push_padded(v, c.sec as u64, 2);
}

/// Milliseconds since the epoch of an RFC 3339 UTC time as [`rfc3339`] writes it.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Howard Hinnant's days_from_civil.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + h * 3600 + mi * 60 + se;
    u64::try_from(secs).ok().map(|s| s * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_v4() {
        let u = uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!("89ab".contains(&u[19..20]));
        assert_ne!(u, uuid());
    }

    #[test]
    fn base64_round_trips() {
        for n in 0..40 {
            let data: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37).wrapping_add(250)).collect();
            let s = b64url(&data);
            assert_eq!(b64url_decode(&s).unwrap(), data, "{s}");
        }
        assert_eq!(b64url(b"\xfb\xff"), "-_8=");
        assert_eq!(b64url_decode("abc"), None);
        assert_eq!(b64url_decode("a=bc"), None);
    }

    #[test]
    fn hmac_vectors() {
        // RFC 4231 test case 2.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        assert_eq!(
            hex(&hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn times() {
        let t = 1_795_514_400_123;
        assert_eq!(rfc3339_ms(t), "2026-11-24T10:00:00.123Z");
        assert_eq!(rfc3339(t), "2026-11-24T10:00:00Z");
        assert_eq!(parse_rfc3339("2026-11-24T10:00:00Z"), Some(t - 123));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        assert_eq!(parse_rfc3339("nope"), None);
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
