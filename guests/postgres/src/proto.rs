//! The PostgreSQL frontend/backend protocol version 3: framing and the messages both
//! sides send (the server's in `Backend`, psql's in `Frontend`).

use crate::sql::engine::OutCol;
use crate::sql::Error;

pub const PROTOCOL_3: i32 = 196608;
pub const SSL_REQUEST: i32 = 80877103;
pub const GSSENC_REQUEST: i32 = 80877104;
pub const CANCEL_REQUEST: i32 = 80877102;

/// The largest message this server takes (PostgreSQL allows 1 GB; a teaching server less).
pub const MAX_MESSAGE: usize = 64 << 20;

/// A message at the front of `input`: `(type, body, bytes used)`; None until it is whole.
pub fn message(input: &[u8]) -> Result<Option<(u8, &[u8], usize)>, String> {
    if input.len() < 5 {
        return Ok(None);
    }
    let len = i32::from_be_bytes([input[1], input[2], input[3], input[4]]);
    if len < 4 || len as usize > MAX_MESSAGE {
        return Err(format!("invalid message length {len}"));
    }
    let total = 1 + len as usize;
    if input.len() < total {
        return Ok(None);
    }
    Ok(Some((input[0], &input[5..total], total)))
}

/// A start-up packet (no type byte): `(body, bytes used)`.
pub fn startup(input: &[u8]) -> Result<Option<(&[u8], usize)>, String> {
    if input.len() < 4 {
        return Ok(None);
    }
    let len = i32::from_be_bytes([input[0], input[1], input[2], input[3]]);
    if !(8..=10000).contains(&len) {
        return Err("invalid length of startup packet".into());
    }
    let len = len as usize;
    if input.len() < len {
        return Ok(None);
    }
    Ok(Some((&input[4..len], len)))
}

/// Reads the fields of a message body.
pub struct Reader<'a> {
    b: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8]) -> Reader<'a> {
        Reader { b, pos: 0 }
    }

    fn bad() -> String {
        "invalid message format".into()
    }

    pub fn i32(&mut self) -> Result<i32, String> {
        let s = self.b.get(self.pos..self.pos + 4).ok_or_else(Self::bad)?;
        self.pos += 4;
        Ok(i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }

    pub fn i16(&mut self) -> Result<i16, String> {
        let s = self.b.get(self.pos..self.pos + 2).ok_or_else(Self::bad)?;
        self.pos += 2;
        Ok(i16::from_be_bytes([s[0], s[1]]))
    }

    pub fn u8(&mut self) -> Result<u8, String> {
        let c = *self.b.get(self.pos).ok_or_else(Self::bad)?;
        self.pos += 1;
        Ok(c)
    }

    pub fn cstr(&mut self) -> Result<String, String> {
        let rest = self.b.get(self.pos..).ok_or_else(Self::bad)?;
        let n = rest.iter().position(|&c| c == 0).ok_or_else(Self::bad)?;
        self.pos += n + 1;
        Ok(String::from_utf8_lossy(&rest[..n]).into_owned())
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self.b.get(self.pos..self.pos + n).ok_or_else(Self::bad)?;
        self.pos += n;
        Ok(s)
    }

    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.b[self.pos.min(self.b.len())..];
        self.pos = self.b.len();
        s
    }
}

/// Append a message: type byte, then the length, then what `body` writes.
pub fn put(out: &mut Vec<u8>, tag: u8, body: impl FnOnce(&mut Vec<u8>)) {
    out.push(tag);
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    body(out);
    let len = (out.len() - at) as i32;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
}

pub fn cstr(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

pub fn i32be(out: &mut Vec<u8>, v: i32) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub fn i16be(out: &mut Vec<u8>, v: i16) {
    out.extend_from_slice(&v.to_be_bytes());
}

// ---- backend messages ----

pub fn auth(out: &mut Vec<u8>, code: i32, extra: &[u8]) {
    put(out, b'R', |b| {
        i32be(b, code);
        b.extend_from_slice(extra);
    });
}

pub fn auth_sasl(out: &mut Vec<u8>) {
    put(out, b'R', |b| {
        i32be(b, 10);
        cstr(b, "SCRAM-SHA-256");
        b.push(0);
    });
}

pub fn param_status(out: &mut Vec<u8>, k: &str, v: &str) {
    put(out, b'S', |b| {
        cstr(b, k);
        cstr(b, v);
    });
}

pub fn backend_key(out: &mut Vec<u8>, pid: i32, key: i32) {
    put(out, b'K', |b| {
        i32be(b, pid);
        i32be(b, key);
    });
}

pub fn ready(out: &mut Vec<u8>, status: u8) {
    put(out, b'Z', |b| b.push(status));
}

/// RowDescription; `formats` per column (0 text, 1 binary), or empty for all text.
pub fn row_description(out: &mut Vec<u8>, cols: &[OutCol], formats: &[i16]) {
    put(out, b'T', |b| {
        i16be(b, cols.len() as i16);
        for (i, c) in cols.iter().enumerate() {
            cstr(b, &c.name);
            i32be(b, 0);
            i16be(b, 0);
            i32be(b, c.ty.oid() as i32);
            i16be(b, c.ty.len());
            i32be(b, c.ty.typmod());
            i16be(b, format_of(formats, i));
        }
    });
}

pub fn format_of(formats: &[i16], i: usize) -> i16 {
    match formats.len() {
        0 => 0,
        1 => formats[0],
        _ => formats.get(i).copied().unwrap_or(0),
    }
}

pub fn data_row(out: &mut Vec<u8>, row: &[Option<Vec<u8>>]) {
    put(out, b'D', |b| {
        i16be(b, row.len() as i16);
        for f in row {
            match f {
                None => i32be(b, -1),
                Some(v) => {
                    i32be(b, v.len() as i32);
                    b.extend_from_slice(v);
                }
            }
        }
    });
}

pub fn command_complete(out: &mut Vec<u8>, tag: &str) {
    put(out, b'C', |b| cstr(b, tag));
}

pub fn empty_query(out: &mut Vec<u8>) {
    put(out, b'I', |_| {});
}

/// ErrorResponse, or NoticeResponse for a WARNING/NOTICE.
pub fn error(out: &mut Vec<u8>, e: &Error) {
    let tag = if matches!(e.severity, "ERROR" | "FATAL" | "PANIC") { b'E' } else { b'N' };
    put(out, tag, |b| {
        b.push(b'S');
        cstr(b, e.severity);
        b.push(b'V');
        cstr(b, e.severity);
        b.push(b'C');
        cstr(b, e.code);
        b.push(b'M');
        cstr(b, &e.message);
        if let Some(d) = &e.detail {
            b.push(b'D');
            cstr(b, d);
        }
        if let Some(h) = &e.hint {
            b.push(b'H');
            cstr(b, h);
        }
        if let Some(p) = e.position {
            b.push(b'P');
            cstr(b, &p.to_string());
        }
        b.push(0);
    });
}

pub fn simple(out: &mut Vec<u8>, tag: u8) {
    put(out, tag, |_| {});
}

// ---- frontend messages (psql, pg_isready) ----

pub fn startup_message(out: &mut Vec<u8>, params: &[(&str, &str)]) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    i32be(out, PROTOCOL_3);
    for (k, v) in params {
        cstr(out, k);
        cstr(out, v);
    }
    out.push(0);
    let len = (out.len() - at) as i32;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
}

pub fn query(out: &mut Vec<u8>, sql: &str) {
    put(out, b'Q', |b| cstr(b, sql));
}

/// A parsed ErrorResponse/NoticeResponse: (field code, value) pairs.
pub fn error_fields(body: &[u8]) -> Vec<(u8, String)> {
    let mut r = Reader::new(body);
    let mut v = Vec::new();
    while let Ok(code) = r.u8() {
        if code == 0 {
            break;
        }
        match r.cstr() {
            Ok(s) => v.push((code, s)),
            Err(_) => break,
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::value::Type;

    #[test]
    fn framing() {
        let mut out = Vec::new();
        command_complete(&mut out, "SELECT 1");
        assert_eq!(out, b"C\0\0\0\x0dSELECT 1\0");
        let (tag, body, used) = message(&out).unwrap().unwrap();
        assert_eq!((tag, body, used), (b'C', &b"SELECT 1\0"[..], out.len()));
        assert_eq!(message(&out[..5]).unwrap(), None);
        assert!(message(b"Q\0\0\0\x01").is_err());
        let mut s = Vec::new();
        startup_message(&mut s, &[("user", "postgres")]);
        let (body, used) = startup(&s).unwrap().unwrap();
        assert_eq!(used, s.len());
        let mut r = Reader::new(body);
        assert_eq!(r.i32().unwrap(), PROTOCOL_3);
        assert_eq!(r.cstr().unwrap(), "user");
        assert_eq!(r.cstr().unwrap(), "postgres");
    }

    #[test]
    fn rows_and_errors() {
        let mut out = Vec::new();
        row_description(&mut out, &[OutCol { name: "id".into(), ty: Type::Int4 }], &[]);
        assert_eq!(&out[..7], b"T\0\0\0\x1b\0\x01");
        assert_eq!(&out[7..10], b"id\0");
        // table oid 0, attnum 0, type 23, len 4, typmod -1, text
        assert_eq!(&out[10..], b"\0\0\0\0\0\0\0\0\0\x17\0\x04\xff\xff\xff\xff\0\0");
        out.clear();
        data_row(&mut out, &[Some(b"1".to_vec()), None]);
        assert_eq!(out, b"D\0\0\0\x0f\0\x02\0\0\0\x011\xff\xff\xff\xff");
        out.clear();
        error(&mut out, &Error::new("42601", "syntax error at or near \"x\"").at(0));
        let (tag, body, _) = message(&out).unwrap().unwrap();
        assert_eq!(tag, b'E');
        let f = error_fields(body);
        assert!(
            f.contains(&(b'C', "42601".into()))
                && f.contains(&(b'P', "1".into()))
                && f.contains(&(b'S', "ERROR".into()))
        );
    }
}
