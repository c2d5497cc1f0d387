//! Appending decimal numbers to byte buffers without `fmt`.

/// Append `n` in decimal.
pub fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Append `n` in decimal, with a `-` when negative.
pub fn push_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_u64(out, n.unsigned_abs());
}

/// Append `n` in decimal, zero-padded to `width` digits.
pub fn push_padded(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut m = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    let start = i.min(buf.len().saturating_sub(width));
    out.extend_from_slice(&buf[start..]);
}

/// Append `n` in lowercase hexadecimal.
pub fn push_hex(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 16];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b"0123456789abcdef"[(n & 15) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl Fn(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn numbers() {
        assert_eq!(s(|v| push_u64(v, 0)), "0");
        assert_eq!(s(|v| push_u64(v, u64::MAX)), "18446744073709551615");
        assert_eq!(s(|v| push_i64(v, i64::MIN)), "-9223372036854775808");
        assert_eq!(s(|v| push_i64(v, -42)), "-42");
        assert_eq!(s(|v| push_padded(v, 7, 3)), "007");
        assert_eq!(s(|v| push_padded(v, 1234, 2)), "1234");
        assert_eq!(s(|v| push_hex(v, 0x62d6ba27)), "62d6ba27");
        assert_eq!(s(|v| push_hex(v, 0)), "0");
    }
}
