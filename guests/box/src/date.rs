//! Calendar arithmetic (UTC only), strftime-style formatting and the `date` applet.

use crate::err;
use crate::util::{getopt, out};
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tm {
    pub year: i64,
    pub mon: u32, // 1..=12
    pub day: u32, // 1..=31
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    pub wday: u32, // 0 = Sunday
    pub yday: u32, // 0-based
    pub secs: i64,
}

const WDAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719468;
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

/// (year, month, day) → days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Seconds since the epoch → broken-down UTC time.
pub fn gmtime(secs: i64) -> Tm {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (year, mon, day) = civil(days);
    let yday = (days - days_from_civil(year, 1, 1)) as u32;
    Tm {
        year,
        mon,
        day,
        hour: (rem / 3600) as u32,
        min: (rem / 60 % 60) as u32,
        sec: (rem % 60) as u32,
        wday: (days + 4).rem_euclid(7) as u32,
        yday,
        secs,
    }
}

pub fn now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// strftime for the UTC zone.
pub fn strftime(fmt: &str, t: &Tm) -> String {
    let mut s = String::new();
    let mut it = fmt.chars().peekable();
    while let Some(c) = it.next() {
        if c != '%' {
            s.push(c);
            continue;
        }
        // GNU padding flags: %-d (no pad), %_d (space pad)
        let mut pad: Option<char> = None;
        while let Some(&f) = it.peek() {
            if f == '-' || f == '_' || f == '0' {
                pad = Some(f);
                it.next();
            } else {
                break;
            }
        }
        let Some(c) = it.next() else {
            s.push('%');
            break;
        };
        let num = |v: i64, w: usize, dflt: char| -> String {
            match pad.unwrap_or(dflt) {
                '-' => v.to_string(),
                '_' | ' ' => format!("{v:>w$}"),
                _ => format!("{v:0w$}"),
            }
        };
        let h12 = if t.hour.is_multiple_of(12) { 12 } else { t.hour % 12 };
        match c {
            'Y' => s.push_str(&t.year.to_string()),
            'C' => s.push_str(&num(t.year.div_euclid(100), 2, '0')),
            'y' => s.push_str(&num(t.year.rem_euclid(100), 2, '0')),
            'm' => s.push_str(&num(t.mon as i64, 2, '0')),
            'd' => s.push_str(&num(t.day as i64, 2, '0')),
            'e' => s.push_str(&num(t.day as i64, 2, '_')),
            'H' => s.push_str(&num(t.hour as i64, 2, '0')),
            'k' => s.push_str(&num(t.hour as i64, 2, '_')),
            'I' => s.push_str(&num(h12 as i64, 2, '0')),
            'l' => s.push_str(&num(h12 as i64, 2, '_')),
            'M' => s.push_str(&num(t.min as i64, 2, '0')),
            'S' => s.push_str(&num(t.sec as i64, 2, '0')),
            'j' => s.push_str(&num(t.yday as i64 + 1, 3, '0')),
            's' => s.push_str(&t.secs.to_string()),
            'a' => s.push_str(&WDAYS[t.wday as usize][..3]),
            'A' => s.push_str(WDAYS[t.wday as usize]),
            'b' | 'h' => s.push_str(&MONTHS[t.mon as usize - 1][..3]),
            'B' => s.push_str(MONTHS[t.mon as usize - 1]),
            'p' => s.push_str(if t.hour < 12 { "AM" } else { "PM" }),
            'P' => s.push_str(if t.hour < 12 { "am" } else { "pm" }),
            'u' => s.push_str(&(if t.wday == 0 { 7 } else { t.wday }).to_string()),
            'w' => s.push_str(&t.wday.to_string()),
            'Z' => s.push_str("UTC"),
            'z' => s.push_str("+0000"),
            'F' => s.push_str(&strftime("%Y-%m-%d", t)),
            'T' => s.push_str(&strftime("%H:%M:%S", t)),
            'D' => s.push_str(&strftime("%m/%d/%y", t)),
            'R' => s.push_str(&strftime("%H:%M", t)),
            'r' => s.push_str(&strftime("%I:%M:%S %p", t)),
            'c' => s.push_str(&strftime("%a %b %e %H:%M:%S %Y", t)),
            'x' => s.push_str(&strftime("%m/%d/%y", t)),
            'X' => s.push_str(&strftime("%H:%M:%S", t)),
            'N' => s.push_str("000000000"),
            'n' => s.push('\n'),
            't' => s.push('\t'),
            '%' => s.push('%'),
            other => {
                s.push('%');
                s.push(other);
            }
        }
    }
    s
}

/// Parse `@SECS`, `YYYY-MM-DD[ HH:MM[:SS]]` or `HH:MM[:SS]` (today) for `date -d`.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(n) = s.strip_prefix('@') {
        return n.parse().ok();
    }
    let (d, t) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (Some(d), Some(t)),
        None if s.contains('-') => (Some(s), None),
        None => (None, Some(s)),
    };
    let days = match d {
        Some(d) => {
            let p: Vec<&str> = d.split('-').collect();
            if p.len() != 3 {
                return None;
            }
            let (y, m, dd) = (p[0].parse().ok()?, p[1].parse().ok()?, p[2].parse().ok()?);
            if !(1..=12).contains(&m) || !(1..=31).contains(&dd) {
                return None;
            }
            days_from_civil(y, m, dd)
        }
        None => now().div_euclid(86400),
    };
    let mut secs = 0i64;
    if let Some(t) = t {
        let p: Vec<&str> = t.split(':').collect();
        if p.len() < 2 || p.len() > 3 {
            return None;
        }
        let mut mult = 3600;
        for x in p {
            let v: i64 = x.parse().ok()?;
            secs += v * mult;
            mult /= 60;
        }
    }
    Some(days * 86400 + secs)
}

/// `date [-u] [-d TIME] [-R] [-I] [+FORMAT]`
pub fn date(args: &[String]) -> i32 {
    let o = match getopt(args, "ud:r:RI") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let mut t = now();
    if let Some(d) = o.val('d') {
        match parse_date(d) {
            Some(v) => t = v,
            None => {
                err!("invalid date '{d}'");
                return 1;
            }
        }
    }
    if let Some(f) = o.val('r') {
        match crate::util::meta(f, true) {
            Ok(st) => t = st.mtime,
            Err(e) => {
                err!("{f}: {}", crate::util::errstr(&e));
                return 1;
            }
        }
    }
    let mut fmt = if o.has('R') {
        "%a, %d %b %Y %H:%M:%S %z".to_string()
    } else if o.has('I') {
        "%Y-%m-%d".to_string()
    } else {
        "%a %b %e %H:%M:%S %Z %Y".to_string()
    };
    for a in &o.args {
        match a.strip_prefix('+') {
            Some(f) => fmt = f.to_string(),
            None => {
                err!("setting the date is not supported");
                return 1;
            }
        }
    }
    let mut w = out();
    let _ = writeln!(w, "{}", strftime(&fmt, &gmtime(t)));
    crate::util::done(&mut w, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar() {
        assert_eq!(gmtime(0), Tm { year: 1970, mon: 1, day: 1, hour: 0, min: 0, sec: 0, wday: 4, yday: 0, secs: 0 });
        let t = gmtime(951782400); // 2000-02-29
        assert_eq!((t.year, t.mon, t.day, t.wday, t.yday), (2000, 2, 29, 2, 59));
        let t = gmtime(1795435200); // 2026-11-23 12:00:00 (Monday)
        assert_eq!((t.year, t.mon, t.day, t.hour, t.wday), (2026, 11, 23, 12, 1));
        assert_eq!(days_from_civil(2026, 11, 23) * 86400 + 12 * 3600, 1795435200);
        let t = gmtime(-1);
        assert_eq!((t.year, t.mon, t.day, t.hour, t.min, t.sec), (1969, 12, 31, 23, 59, 59));
        for d in [-800000i64, -1, 0, 59, 60, 365, 11016, 20000, 2932896] {
            let (y, m, dd) = civil(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn formats() {
        let t = gmtime(1795435200);
        assert_eq!(strftime("%a %b %e %H:%M:%S %Z %Y", &t), "Mon Nov 23 12:00:00 UTC 2026");
        assert_eq!(strftime("%F %T %s %j %%", &t), "2026-11-23 12:00:00 1795435200 327 %");
        assert_eq!(strftime("%Y%m%d-%H%M%S", &gmtime(3 * 86400 + 3661)), "19700104-010101");
        assert_eq!(strftime("%e|%-d|%I%p", &gmtime(3 * 86400 + 13 * 3600)), " 4|4|01PM");
        assert_eq!(strftime("%A %B", &t), "Monday November");
    }

    #[test]
    fn parse() {
        assert_eq!(parse_date("@86400"), Some(86400));
        assert_eq!(parse_date("1970-01-02"), Some(86400));
        assert_eq!(parse_date("2026-11-23 12:00"), Some(1795435200));
        assert_eq!(parse_date("junk"), None);
    }
}
