//! SQL types and values: PostgreSQL's type OIDs, text input and output (what the wire
//! protocol's text format carries), comparison and a small exact decimal for `numeric`.

use std::cmp::Ordering;
use std::fmt;

use super::Error;

/// The column types this server knows (PostgreSQL's names and OIDs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Text,
    /// `varchar(n)` (`None`: no limit).
    Varchar(Option<u32>),
    /// `char(n)`: blank-padded.
    Char(u32),
    Timestamp,
    TimestampTz,
    Date,
    /// A string literal whose type comes from where it is used (PostgreSQL's `unknown`).
    Unknown,
    /// `name` (the catalog's identifiers).
    Name,
    Oid,
}

impl Type {
    pub fn oid(self) -> u32 {
        match self {
            Type::Bool => 16,
            Type::Int2 => 21,
            Type::Int4 => 23,
            Type::Int8 => 20,
            Type::Float4 => 700,
            Type::Float8 => 701,
            Type::Numeric => 1700,
            Type::Text => 25,
            Type::Varchar(_) => 1043,
            Type::Char(_) => 1042,
            Type::Timestamp => 1114,
            Type::TimestampTz => 1184,
            Type::Date => 1082,
            Type::Unknown => 25,
            Type::Name => 19,
            Type::Oid => 26,
        }
    }

    /// `typlen` of RowDescription (-1: variable).
    pub fn len(self) -> i16 {
        match self {
            Type::Bool => 1,
            Type::Int2 => 2,
            Type::Int4 | Type::Float4 | Type::Date | Type::Oid => 4,
            Type::Int8 | Type::Float8 | Type::Timestamp | Type::TimestampTz => 8,
            Type::Name => 64,
            _ => -1,
        }
    }

    /// `atttypmod` (-1: none).
    pub fn typmod(self) -> i32 {
        match self {
            Type::Varchar(Some(n)) | Type::Char(n) => n as i32 + 4,
            _ => -1,
        }
    }

    /// The name `format_type` gives (what `\d` shows).
    pub fn sql_name(self) -> String {
        match self {
            Type::Bool => "boolean".into(),
            Type::Int2 => "smallint".into(),
            Type::Int4 => "integer".into(),
            Type::Int8 => "bigint".into(),
            Type::Float4 => "real".into(),
            Type::Float8 => "double precision".into(),
            Type::Numeric => "numeric".into(),
            Type::Text | Type::Unknown => "text".into(),
            Type::Varchar(None) => "character varying".into(),
            Type::Varchar(Some(n)) => format!("character varying({n})"),
            Type::Char(n) => format!("character({n})"),
            Type::Timestamp => "timestamp without time zone".into(),
            Type::TimestampTz => "timestamp with time zone".into(),
            Type::Date => "date".into(),
            Type::Name => "name".into(),
            Type::Oid => "oid".into(),
        }
    }

    /// A short name for error messages (`integer`, `text`, …).
    pub fn short_name(self) -> String {
        match self {
            Type::Varchar(_) => "character varying".into(),
            Type::Char(_) => "character".into(),
            t => t.sql_name(),
        }
    }

    /// Parse a type name as written in SQL (`int`, `varchar(20)`, `double precision`).
    /// `words` are the lowercased words, `args` the numbers in parentheses.
    pub fn parse(words: &[String], args: &[u32]) -> Option<Type> {
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let w: Vec<&str> = if w.first() == Some(&"pg_catalog") { w[1..].to_vec() } else { w };
        Some(match w.as_slice() {
            ["boolean"] | ["bool"] => Type::Bool,
            ["smallint"] | ["int2"] | ["smallserial"] | ["serial2"] => Type::Int2,
            ["integer"] | ["int"] | ["int4"] | ["serial"] | ["serial4"] => Type::Int4,
            ["bigint"] | ["int8"] | ["bigserial"] | ["serial8"] => Type::Int8,
            ["real"] | ["float4"] => Type::Float4,
            ["double", "precision"] | ["float8"] | ["float"] => Type::Float8,
            ["numeric"] | ["decimal"] => Type::Numeric,
            ["text"] => Type::Text,
            ["varchar"] | ["character", "varying"] => Type::Varchar(args.first().copied()),
            ["char"] | ["character"] | ["bpchar"] => Type::Char(args.first().copied().unwrap_or(1)),
            ["timestamp"] | ["timestamp", "without", "time", "zone"] => Type::Timestamp,
            ["timestamptz"] | ["timestamp", "with", "time", "zone"] => Type::TimestampTz,
            ["date"] => Type::Date,
            ["name"] => Type::Name,
            ["oid"] | ["regclass"] => Type::Oid,
            _ => return None,
        })
    }

    pub fn is_serial_name(words: &[String]) -> bool {
        matches!(
            words.first().map(String::as_str),
            Some("serial" | "bigserial" | "smallserial" | "serial2" | "serial4" | "serial8")
        )
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Type::Int2 | Type::Int4 | Type::Int8 | Type::Float4 | Type::Float8 | Type::Numeric)
    }

    pub fn is_text(self) -> bool {
        matches!(self, Type::Text | Type::Varchar(_) | Type::Char(_) | Type::Unknown | Type::Name)
    }

    pub fn is_time(self) -> bool {
        matches!(self, Type::Timestamp | Type::TimestampTz | Type::Date)
    }

    /// The type of `a op b` for arithmetic.
    pub fn arith(a: Type, b: Type) -> Type {
        let rank = |t: Type| match t {
            Type::Int2 => 1,
            Type::Int4 | Type::Unknown => 2,
            Type::Int8 => 3,
            Type::Numeric => 4,
            Type::Float4 => 5,
            Type::Float8 => 6,
            _ => 0,
        };
        let (ra, rb) = (rank(a), rank(b));
        let t = if ra >= rb { a } else { b };
        match t {
            Type::Int2 | Type::Unknown => Type::Int4,
            Type::Float4 if ra.min(rb) >= 1 && a != b => Type::Float8,
            t => t,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.sql_name())
    }
}

/// One value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Numeric(Decimal),
    Text(String),
    /// Microseconds since 2000-01-01 00:00:00 (PostgreSQL's epoch), UTC.
    Timestamp(i64),
    /// Days since 2000-01-01.
    Date(i32),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The text format of the wire protocol (and of `COPY`, and of the table files).
    pub fn to_text(&self, ty: Type) -> Option<String> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(b) => if *b { "t" } else { "f" }.into(),
            Value::Int(i) => i.to_string(),
            Value::Float(x) => format_float(*x, ty == Type::Float4),
            Value::Numeric(d) => d.to_string(),
            Value::Text(s) => match ty {
                Type::Char(n) => format!("{s:<width$}", width = n as usize),
                _ => s.clone(),
            },
            Value::Timestamp(us) => {
                let mut s = format_timestamp(*us);
                if ty == Type::TimestampTz {
                    s.push_str("+00");
                }
                if ty == Type::Date {
                    s.truncate(10);
                }
                s
            }
            Value::Date(d) => format_date(*d),
        })
    }

    /// Convert to `ty` (an assignment or an explicit cast); `Err` as PostgreSQL reports it.
    pub fn cast(self, ty: Type) -> Result<Value, Error> {
        let bad = |v: &Value| {
            Error::new(
                "22P02",
                format!(
                    "invalid input syntax for type {}: \"{}\"",
                    ty.short_name(),
                    v.to_text(Type::Text).unwrap_or_default()
                ),
            )
        };
        Ok(match (self, ty) {
            (Value::Null, _) => Value::Null,
            (Value::Text(s), _) => return Value::parse(&s, ty),
            (Value::Bool(b), Type::Bool) => Value::Bool(b),
            (Value::Bool(b), t) if t.is_text() => Value::Text(if b { "true" } else { "false" }.into()),
            (Value::Bool(b), Type::Int4) => Value::Int(b as i64),
            (Value::Int(i), Type::Int2) => {
                if i < i16::MIN as i64 || i > i16::MAX as i64 {
                    return Err(Error::new("22003", "smallint out of range"));
                }
                Value::Int(i)
            }
            (Value::Int(i), Type::Int4) => {
                if i < i32::MIN as i64 || i > i32::MAX as i64 {
                    return Err(Error::new("22003", "integer out of range"));
                }
                Value::Int(i)
            }
            (Value::Int(i), Type::Int8 | Type::Oid) => Value::Int(i),
            (Value::Int(i), Type::Float4 | Type::Float8) => Value::Float(i as f64),
            (Value::Int(i), Type::Numeric) => Value::Numeric(Decimal::from_i64(i)),
            (Value::Int(i), Type::Bool) => Value::Bool(i != 0),
            (Value::Float(x), Type::Float4 | Type::Float8) => Value::Float(x),
            (Value::Float(x), Type::Int2 | Type::Int4 | Type::Int8) => {
                let r = x.round_ties_even();
                if !r.is_finite() || r.abs() > i64::MAX as f64 {
                    return Err(Error::new("22003", format!("{} out of range", ty.short_name())));
                }
                return Value::Int(r as i64).cast(ty);
            }
            (Value::Float(x), Type::Numeric) => match Decimal::parse(&format_float(x, false)) {
                Some(d) => Value::Numeric(d),
                None => {
                    return Err(Error::new("22P02", format!("cannot convert {} to numeric", format_float(x, false))))
                }
            },
            (Value::Numeric(d), Type::Numeric) => Value::Numeric(d),
            (Value::Numeric(d), Type::Float4 | Type::Float8) => Value::Float(d.to_f64()),
            (Value::Numeric(d), Type::Int2 | Type::Int4 | Type::Int8) => {
                let i = d.round(0);
                return Value::Int(i.mant as i64).cast(ty);
            }
            (Value::Timestamp(t), Type::Timestamp | Type::TimestampTz) => Value::Timestamp(t),
            (Value::Timestamp(t), Type::Date) => Value::Date(t.div_euclid(86_400_000_000) as i32),
            (Value::Date(d), Type::Date) => Value::Date(d),
            (Value::Date(d), Type::Timestamp | Type::TimestampTz) => Value::Timestamp(d as i64 * 86_400_000_000),
            (v, t) if t.is_text() => {
                let s = v.to_text(Type::Text).unwrap_or_default();
                return Value::Text(s).cast(t);
            }
            (v, _) => return Err(bad(&v)),
        })
    }

    /// Text input for `ty` (`'42'::int`, a parameter, a table file's field).
    pub fn parse(s: &str, ty: Type) -> Result<Value, Error> {
        let bad = || Error::new("22P02", format!("invalid input syntax for type {}: \"{s}\"", ty.short_name()));
        let t = s.trim();
        Ok(match ty {
            Type::Bool => match t.to_ascii_lowercase().as_str() {
                "t" | "true" | "yes" | "y" | "on" | "1" => Value::Bool(true),
                "f" | "false" | "no" | "n" | "off" | "0" => Value::Bool(false),
                _ => return Err(Error::new("22P02", format!("invalid input syntax for type boolean: \"{s}\""))),
            },
            Type::Int2 | Type::Int4 | Type::Int8 | Type::Oid => {
                let i: i64 = t.parse().map_err(|_| {
                    if !t.is_empty() && t.trim_start_matches(['-', '+']).bytes().all(|b| b.is_ascii_digit()) {
                        Error::new("22003", format!("value \"{s}\" is out of range for type {}", ty.short_name()))
                    } else {
                        bad()
                    }
                })?;
                let (lo, hi) = match ty {
                    Type::Int2 => (i16::MIN as i64, i16::MAX as i64),
                    Type::Int4 => (i32::MIN as i64, i32::MAX as i64),
                    _ => (i64::MIN, i64::MAX),
                };
                if i < lo || i > hi {
                    return Err(Error::new(
                        "22003",
                        format!("value \"{s}\" is out of range for type {}", ty.short_name()),
                    ));
                }
                Value::Int(i)
            }
            Type::Float4 | Type::Float8 => match t.to_ascii_lowercase().as_str() {
                "nan" => Value::Float(f64::NAN),
                "infinity" | "inf" | "+infinity" => Value::Float(f64::INFINITY),
                "-infinity" | "-inf" => Value::Float(f64::NEG_INFINITY),
                _ => Value::Float(t.parse().map_err(|_| bad())?),
            },
            Type::Numeric => Value::Numeric(Decimal::parse(t).ok_or_else(bad)?),
            Type::Text | Type::Unknown | Type::Name => Value::Text(s.to_string()),
            Type::Varchar(n) => {
                if let Some(n) = n {
                    if s.chars().count() > n as usize {
                        return Err(Error::new("22001", format!("value too long for type character varying({n})")));
                    }
                }
                Value::Text(s.to_string())
            }
            Type::Char(n) => {
                let trimmed = s.trim_end_matches(' ');
                if trimmed.chars().count() > n as usize {
                    return Err(Error::new("22001", format!("value too long for type character({n})")));
                }
                Value::Text(trimmed.to_string())
            }
            Type::Timestamp | Type::TimestampTz => Value::Timestamp(parse_timestamp(t).ok_or_else(|| {
                Error::new("22007", format!("invalid input syntax for type {}: \"{s}\"", ty.sql_name()))
            })?),
            Type::Date => {
                let us = parse_timestamp(t)
                    .ok_or_else(|| Error::new("22007", format!("invalid input syntax for type date: \"{s}\"")))?;
                Value::Date(us.div_euclid(86_400_000_000) as i32)
            }
        })
    }

    /// PostgreSQL's ordering of two non-null values of comparable types.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        use Value::*;
        Some(match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Null, _) => Ordering::Greater,
            (_, Null) => Ordering::Less,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Int(a), Float(b)) => (*a as f64).total_cmp(b),
            (Float(a), Int(b)) => a.total_cmp(&(*b as f64)),
            (Float(a), Float(b)) => float_cmp(*a, *b),
            (Numeric(a), Numeric(b)) => a.cmp(b),
            (Int(a), Numeric(b)) => Decimal::from_i64(*a).cmp(b),
            (Numeric(a), Int(b)) => a.cmp(&Decimal::from_i64(*b)),
            (Numeric(a), Float(b)) => float_cmp(a.to_f64(), *b),
            (Float(a), Numeric(b)) => float_cmp(*a, b.to_f64()),
            (Text(a), Text(b)) => a.cmp(b),
            (Timestamp(a), Timestamp(b)) => a.cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            (Date(a), Timestamp(b)) => (*a as i64 * 86_400_000_000).cmp(b),
            (Timestamp(a), Date(b)) => a.cmp(&(*b as i64 * 86_400_000_000)),
            _ => return None,
        })
    }

    /// A key for grouping and DISTINCT (equal values, equal keys).
    pub fn key(&self) -> String {
        match self {
            Value::Null => "\u{0}N".into(),
            Value::Int(i) => format!("n{}", Decimal::from_i64(*i)),
            Value::Numeric(d) => format!("n{}", d.normalized()),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("n{}", *f as i64),
            v => format!("{:?}", v),
        }
    }
}

fn float_cmp(a: f64, b: f64) -> Ordering {
    // NaN sorts above every other value, as in PostgreSQL.
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// `float8out`: the shortest text that reads back as the same value.
pub fn format_float(x: f64, single: bool) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let s = if single { format!("{}", x as f32) } else { format!("{x}") };
    let exp = if x == 0.0 { 0 } else { x.abs().log10().floor() as i32 };
    let limit = if single { 7 } else { 15 };
    if exp < -4 || exp >= limit {
        // PostgreSQL switches to exponent notation: 1e+20, 1.5e-05.
        let e = if single { format!("{:e}", x as f32) } else { format!("{x:e}") };
        let (m, p) = e.split_once('e').unwrap_or((&e, "0"));
        let p: i32 = p.parse().unwrap_or(0);
        return format!("{m}e{}{:02}", if p < 0 { '-' } else { '+' }, p.abs());
    }
    s
}

// ---- timestamps ----

const DAY_US: i64 = 86_400_000_000;

/// Days from 2000-01-01 to y-m-d (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468 - 10957
}

pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 10957 + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2024-05-01 12:30:00.25` (fraction only when there is one, trailing zeros dropped).
pub fn format_timestamp(us: i64) -> String {
    let days = us.div_euclid(DAY_US);
    let rem = us.rem_euclid(DAY_US);
    let (y, m, d) = civil_from_days(days);
    let secs = rem / 1_000_000;
    let frac = rem % 1_000_000;
    let mut s = format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if frac != 0 {
        let f = format!("{frac:06}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s
}

/// Unix milliseconds to PostgreSQL microseconds.
pub fn from_unix_ms(ms: u64) -> i64 {
    ms as i64 * 1000 - 946_684_800_000_000
}

/// `YYYY-MM-DD[( |T)HH:MM[:SS[.frac]]][Z|±HH[:MM]]`, and `epoch`, `now` is not accepted here.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("epoch") {
        return Some(from_unix_ms(0));
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)? as u32, num(8, 2)? as u32);
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return None;
    }
    let mut us = days_from_civil(y, mo, d) * DAY_US;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(us);
    }
    let rest = rest.strip_prefix(['T', ' '])?.trim_start();
    let rb = rest.as_bytes();
    if rb.len() < 5 || rb[2] != b':' {
        return None;
    }
    let h: i64 = rest[0..2].parse().ok()?;
    let mi: i64 = rest[3..5].parse().ok()?;
    let mut i = 5;
    let mut sec = 0i64;
    let mut frac = 0i64;
    if rb.get(5) == Some(&b':') {
        sec = rest.get(6..8)?.parse().ok()?;
        i = 8;
        if rb.get(8) == Some(&b'.') {
            let digits: String = rest[9..].chars().take_while(|c| c.is_ascii_digit()).collect();
            i = 9 + digits.len();
            let mut dd = digits.clone();
            dd.truncate(6);
            while dd.len() < 6 {
                dd.push('0');
            }
            frac = dd.parse().ok()?;
        }
    }
    if h > 24 || mi > 59 || sec > 60 {
        return None;
    }
    us += ((h * 60 + mi) * 60 + sec) * 1_000_000 + frac;
    let tz = rest[i..].trim();
    if tz.is_empty() || tz.eq_ignore_ascii_case("z") || tz.eq_ignore_ascii_case("utc") {
        return Some(us);
    }
    let sign = match tz.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let t = &tz[1..];
    let (oh, om) = match t.split_once(':') {
        Some((a, b)) => (a.parse::<i64>().ok()?, b.parse::<i64>().ok()?),
        None if t.len() == 4 => (t[..2].parse().ok()?, t[2..].parse().ok()?),
        None => (t.parse().ok()?, 0),
    };
    Some(us - sign * (oh * 60 + om) * 60_000_000)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// ---- numeric ----

/// An exact decimal: `mant × 10^-scale`.
#[derive(Debug, Clone, Copy)]
pub struct Decimal {
    pub mant: i128,
    pub scale: u32,
}

impl Decimal {
    pub fn from_i64(i: i64) -> Decimal {
        Decimal { mant: i as i128, scale: 0 }
    }

    pub fn parse(s: &str) -> Option<Decimal> {
        let s = s.trim();
        let (neg, digits) = match s.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if (int.is_empty() && frac.is_empty()) || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            // 1e5 forms
            let (m, e) = digits.split_once(['e', 'E'])?;
            let base = Decimal::parse(m)?;
            let e: i32 = e.parse().ok()?;
            let d = if e >= 0 {
                Decimal { mant: base.mant.checked_mul(10i128.checked_pow(e as u32)?)?, scale: base.scale }
                    .rescale_down()
            } else {
                Decimal { mant: base.mant, scale: base.scale + (-e) as u32 }
            };
            return Some(if neg { d.neg() } else { d });
        }
        let mut mant: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            mant = mant.checked_mul(10)?.checked_add((b - b'0') as i128)?;
        }
        Some(Decimal { mant: if neg { -mant } else { mant }, scale: frac.len() as u32 })
    }

    fn rescale_down(self) -> Decimal {
        self
    }

    pub fn neg(self) -> Decimal {
        Decimal { mant: -self.mant, scale: self.scale }
    }

    fn with_scale(self, scale: u32) -> Option<Decimal> {
        if scale >= self.scale {
            Some(Decimal { mant: self.mant.checked_mul(10i128.checked_pow(scale - self.scale)?)?, scale })
        } else {
            Some(self.round(scale))
        }
    }

    pub fn round(self, scale: u32) -> Decimal {
        if scale >= self.scale {
            return self.with_scale(scale).unwrap_or(self);
        }
        let div = 10i128.pow(self.scale - scale);
        let q = self.mant / div;
        let r = self.mant % div;
        let q = if r.abs() * 2 >= div { q + self.mant.signum() } else { q };
        Decimal { mant: q, scale }
    }

    pub fn normalized(self) -> Decimal {
        let mut d = self;
        while d.scale > 0 && d.mant % 10 == 0 {
            d.mant /= 10;
            d.scale -= 1;
        }
        d
    }

    pub fn add(self, o: Decimal) -> Option<Decimal> {
        let s = self.scale.max(o.scale);
        let (a, b) = (self.with_scale(s)?, o.with_scale(s)?);
        Some(Decimal { mant: a.mant.checked_add(b.mant)?, scale: s })
    }

    pub fn sub(self, o: Decimal) -> Option<Decimal> {
        self.add(o.neg())
    }

    pub fn mul(self, o: Decimal) -> Option<Decimal> {
        Some(Decimal { mant: self.mant.checked_mul(o.mant)?, scale: self.scale + o.scale })
    }

    /// Division with PostgreSQL's result scale (at least 16 significant digits after the
    /// point for small values).
    pub fn div(self, o: Decimal) -> Option<Decimal> {
        if o.mant == 0 {
            return None;
        }
        // PostgreSQL's select_div_scale, with weights and first digits in base 10000.
        let weight = |d: Decimal| -> (i32, u32) {
            let digits = d.mant.unsigned_abs().to_string();
            let intdigits = digits.len() as i32 - d.scale as i32;
            if intdigits > 0 {
                let w = (intdigits - 1) / 4;
                let lead = (intdigits - 1) % 4 + 1;
                (w, digits[..lead as usize].parse().unwrap_or(0))
            } else {
                let zeros = -intdigits;
                let w = -(zeros / 4) - 1;
                let lead = 4 - zeros % 4;
                let first: String = digits.chars().chain(std::iter::repeat('0')).take(lead as usize).collect();
                (w, first.parse().unwrap_or(0))
            }
        };
        let (w1, f1) = weight(self);
        let (w2, f2) = weight(o);
        let mut qweight = w1 - w2;
        if f1 < f2 {
            qweight -= 1;
        }
        let scale = (16 - qweight * 4).max(self.scale as i32).max(o.scale as i32).clamp(0, 30) as u32;
        // self / o at `scale` digits: (a * 10^(scale + o.scale - self.scale + 1)) / b, then round.
        let shift = scale as i32 + o.scale as i32 - self.scale as i32 + 1;
        let (num, den) = if shift >= 0 {
            (self.mant.checked_mul(10i128.checked_pow(shift as u32)?)?, o.mant)
        } else {
            (self.mant, o.mant.checked_mul(10i128.checked_pow((-shift) as u32)?)?)
        };
        let q = num / den;
        let q = if q % 10 >= 5 || q % 10 <= -5 { q / 10 + q.signum() } else { q / 10 };
        Some(Decimal { mant: q, scale })
    }

    pub fn to_f64(self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }
}

impl PartialEq for Decimal {
    fn eq(&self, o: &Decimal) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}

impl Eq for Decimal {}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, o: &Decimal) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Decimal {
    fn cmp(&self, o: &Decimal) -> Ordering {
        let s = self.scale.max(o.scale);
        match (self.with_scale(s), o.with_scale(s)) {
            (Some(a), Some(b)) => a.mant.cmp(&b.mant),
            _ => self.to_f64().total_cmp(&o.to_f64()),
        }
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let digits = self.mant.unsigned_abs().to_string();
        let sign = if self.mant < 0 { "-" } else { "" };
        if self.scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let sc = self.scale as usize;
        let padded = if digits.len() <= sc { format!("{}{digits}", "0".repeat(sc + 1 - digits.len())) } else { digits };
        let (i, fr) = padded.split_at(padded.len() - sc);
        write!(f, "{sign}{i}.{fr}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let t = parse_timestamp("2024-02-29 13:45:10.5").unwrap();
        assert_eq!(format_timestamp(t), "2024-02-29 13:45:10.5");
        assert_eq!(format_timestamp(parse_timestamp("2000-01-01").unwrap()), "2000-01-01 00:00:00");
        assert_eq!(format_timestamp(parse_timestamp("1999-12-31T23:00:00+01:00").unwrap()), "1999-12-31 22:00:00");
        assert_eq!(format_timestamp(from_unix_ms(0)), "1970-01-01 00:00:00");
        assert!(parse_timestamp("2023-02-29").is_none());
        assert!(parse_timestamp("hello").is_none());
        assert_eq!(Value::Timestamp(0).to_text(Type::TimestampTz).unwrap(), "2000-01-01 00:00:00+00");
    }

    #[test]
    fn decimals() {
        let d = Decimal::parse("12.50").unwrap();
        assert_eq!(d.to_string(), "12.50");
        assert_eq!(Decimal::parse("-0.05").unwrap().to_string(), "-0.05");
        assert_eq!(Decimal::from_i64(5).div(Decimal::from_i64(2)).unwrap().to_string(), "2.5000000000000000");
        assert_eq!(Decimal::from_i64(10).div(Decimal::from_i64(3)).unwrap().to_string(), "3.3333333333333333");
        assert_eq!(
            Decimal::from_i64(1).div(Decimal::parse("3.0").unwrap()).unwrap().to_string(),
            "0.33333333333333333333"
        );
        assert_eq!(Decimal::from_i64(56).div(Decimal::from_i64(2)).unwrap().to_string(), "28.0000000000000000");
        assert_eq!(Decimal::parse("1.5").unwrap().add(Decimal::parse("2.25").unwrap()).unwrap().to_string(), "3.75");
        assert_eq!(Decimal::parse("2.5").unwrap().round(0).to_string(), "3");
        assert_eq!(Decimal::parse("1.10").unwrap(), Decimal::parse("1.1").unwrap());
    }

    #[test]
    fn text_input_and_output() {
        assert_eq!(Value::parse("42", Type::Int4).unwrap(), Value::Int(42));
        assert_eq!(Value::parse("x", Type::Int4).unwrap_err().message, "invalid input syntax for type integer: \"x\"");
        assert_eq!(Value::parse("3000000000", Type::Int4).unwrap_err().code, "22003");
        assert_eq!(Value::parse("yes", Type::Bool).unwrap(), Value::Bool(true));
        assert_eq!(
            Value::parse("abcdef", Type::Varchar(Some(3))).unwrap_err().message,
            "value too long for type character varying(3)"
        );
        assert_eq!(format_float(0.1 + 0.2, false), "0.30000000000000004");
        assert_eq!(format_float(1e20, false), "1e+20");
        assert_eq!(format_float(2.5, false), "2.5");
        assert_eq!(format_float(3.0, false), "3");
        assert_eq!(Value::Bool(true).to_text(Type::Bool).unwrap(), "t");
    }
}
