//! Calendar dates from Unix time (UTC) in the shapes servers print: HTTP dates, access logs,
//! error logs.

use crate::num::push_padded;

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A UTC calendar time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    /// 0 = Sunday
    pub weekday: u32,
    pub millis: u32,
}

impl Civil {
    /// The UTC time `ms` milliseconds after the epoch.
    pub fn from_ms(ms: u64) -> Civil {
        let secs = (ms / 1000) as i64;
        let days = secs.div_euclid(86400);
        let rem = secs.rem_euclid(86400) as u32;
        // Howard Hinnant's civil_from_days.
        let z = days + 719468;
        let era = z.div_euclid(146097);
        let doe = z.rem_euclid(146097);
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            min: rem / 60 % 60,
            sec: rem % 60,
            weekday: (days + 4).rem_euclid(7) as u32,
            millis: (ms % 1000) as u32,
        }
    }

    fn month_name(&self) -> &'static str {
        MONTHS[(self.month - 1) as usize]
    }

    fn weekday_name(&self) -> &'static str {
        DAYS[self.weekday as usize]
    }

    fn push_hms(&self, out: &mut Vec<u8>) {
        push_padded(out, self.hour as u64, 2);
        out.push(b':');
        push_padded(out, self.min as u64, 2);
        out.push(b':');
        push_padded(out, self.sec as u64, 2);
    }

    /// `Tue, 24 Nov 2026 10:00:00 GMT` (HTTP `Date`, `Last-Modified`).
    pub fn push_http(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.weekday_name().as_bytes());
        out.extend_from_slice(b", ");
        push_padded(out, self.day as u64, 2);
        out.push(b' ');
        out.extend_from_slice(self.month_name().as_bytes());
        out.push(b' ');
        push_padded(out, self.year as u64, 4);
        out.push(b' ');
        self.push_hms(out);
        out.extend_from_slice(b" GMT");
    }

    /// `24/Nov/2026:10:00:00 +0000` (access logs' `[time]`).
    pub fn push_clf(&self, out: &mut Vec<u8>) {
        push_padded(out, self.day as u64, 2);
        out.push(b'/');
        out.extend_from_slice(self.month_name().as_bytes());
        out.push(b'/');
        push_padded(out, self.year as u64, 4);
        out.push(b':');
        self.push_hms(out);
        out.extend_from_slice(b" +0000");
    }

    /// `2026/11/24 10:00:00` (nginx's error log).
    pub fn push_nginx(&self, out: &mut Vec<u8>) {
        push_padded(out, self.year as u64, 4);
        out.push(b'/');
        push_padded(out, self.month as u64, 2);
        out.push(b'/');
        push_padded(out, self.day as u64, 2);
        out.push(b' ');
        self.push_hms(out);
    }

    /// `24 Nov 2026 10:00:00.000` (redis' log).
    pub fn push_redis(&self, out: &mut Vec<u8>) {
        push_padded(out, self.day as u64, 2);
        out.push(b' ');
        out.extend_from_slice(self.month_name().as_bytes());
        out.push(b' ');
        push_padded(out, self.year as u64, 4);
        out.push(b' ');
        self.push_hms(out);
        out.push(b'.');
        push_padded(out, self.millis as u64, 3);
    }

    /// `Tue Nov 24 10:00:00.000000 2026` (Apache's error log).
    pub fn push_apache(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.weekday_name().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.month_name().as_bytes());
        out.push(b' ');
        push_padded(out, self.day as u64, 2);
        out.push(b' ');
        self.push_hms(out);
        out.push(b'.');
        push_padded(out, self.millis as u64 * 1000, 6);
        out.push(b' ');
        push_padded(out, self.year as u64, 4);
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// A formatted date remembered for the second it names (servers stamp every response).
#[derive(Debug, Default)]
pub struct Cached {
    sec: Option<u64>,
    text: Vec<u8>,
}

impl Cached {
    /// The text `fmt` makes for the second of `now_ms`, formatted once per second.
    pub fn get(&mut self, now_ms: u64, fmt: fn(&Civil, &mut Vec<u8>)) -> &[u8] {
        let sec = now_ms / 1000;
        if self.sec != Some(sec) {
            self.text.clear();
            fmt(&Civil::from_ms(sec * 1000), &mut self.text);
            self.sec = Some(sec);
        }
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(ms: u64, f: fn(&Civil, &mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&Civil::from_ms(ms), &mut v);
        String::from_utf8(v).unwrap()
    }

    // 2026-11-24T10:00:00.123Z (a Tuesday).
    const T: u64 = 1_795_514_400_123;

    #[test]
    fn formats() {
        assert_eq!(s(T, Civil::push_http), "Tue, 24 Nov 2026 10:00:00 GMT");
        assert_eq!(s(T, Civil::push_clf), "24/Nov/2026:10:00:00 +0000");
        assert_eq!(s(T, Civil::push_nginx), "2026/11/24 10:00:00");
        assert_eq!(s(T, Civil::push_redis), "24 Nov 2026 10:00:00.123");
        assert_eq!(s(T, Civil::push_apache), "Tue Nov 24 10:00:00.123000 2026");
        assert_eq!(s(0, Civil::push_http), "Thu, 01 Jan 1970 00:00:00 GMT");
        // 2000-02-29 (leap day), 2022-07-19 14:05:27 (nginx's index.html).
        assert_eq!(s(951_782_400_000, Civil::push_http), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(s(1_658_239_527_000, Civil::push_http), "Tue, 19 Jul 2022 14:05:27 GMT");
    }

    #[test]
    fn cached_per_second() {
        let mut c = Cached::default();
        assert_eq!(c.get(T, Civil::push_http), b"Tue, 24 Nov 2026 10:00:00 GMT");
        assert_eq!(c.get(T + 800, Civil::push_http), b"Tue, 24 Nov 2026 10:00:00 GMT");
        assert_eq!(c.get(T + 1000, Civil::push_http), b"Tue, 24 Nov 2026 10:00:01 GMT");
    }
}
