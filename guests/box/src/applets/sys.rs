//! The container's resources from the host's `sysinfo`: free, df, uptime.

use super::procs::{sysinfo, SysInfo};
use crate::err;
use crate::util::getopt;

/// busybox's human-readable size of `kb` KiB: `1023K`, `1.5M`, `58.4G` (one decimal).
pub fn human_kb(kb: u64) -> String {
    let units = ['K', 'M', 'G', 'T', 'P'];
    let mut v = kb as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{kb}K")
    } else {
        format!("{:.1}{}", v, units[u])
    }
}

/// How `free` shows sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Kilo,
    Mega,
    Giga,
    Human,
}

fn show(kb: u64, u: Unit) -> String {
    match u {
        Unit::Bytes => (kb * 1024).to_string(),
        Unit::Kilo => kb.to_string(),
        Unit::Mega => (kb / 1024).to_string(),
        Unit::Giga => (kb / 1024 / 1024).to_string(),
        Unit::Human => human_kb(kb),
    }
}

/// busybox `free`'s table (no swap in a container: all zero).
pub fn free_table(si: &SysInfo, u: Unit) -> String {
    let total = si.int("mem_total_kb");
    let used = si.int("mem_used_kb");
    let free =
        if si.0.iter().any(|(k, _)| k == "mem_free_kb") { si.int("mem_free_kb") } else { total.saturating_sub(used) };
    let mut s =
        format!("{:>19}{:>12}{:>12}{:>12}{:>12}{:>12}\n", "total", "used", "free", "shared", "buff/cache", "available");
    s.push_str(&format!(
        "Mem:{:>15}{:>12}{:>12}{:>12}{:>12}{:>12}\n",
        show(total, u),
        show(used, u),
        show(free, u),
        show(0, u),
        show(0, u),
        show(free, u)
    ));
    s.push_str(&format!("Swap:{:>14}{:>12}{:>12}\n", show(0, u), show(0, u), show(0, u)));
    s
}

/// `free [-b|-k|-m|-g|-h]`
pub fn free(args: &[String]) -> i32 {
    let o = match getopt(args, "bkmgh") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let unit = match o.last_of("bkmgh") {
        Some('b') => Unit::Bytes,
        Some('m') => Unit::Mega,
        Some('g') => Unit::Giga,
        Some('h') => Unit::Human,
        _ => Unit::Kilo,
    };
    match sysinfo() {
        Ok(si) => {
            print!("{}", free_table(&si, unit));
            0
        }
        Err(c) => c,
    }
}

/// busybox df's table: one `overlay` line for the container's root filesystem.
pub fn df_table(si: &SysInfo, unit: Unit, posix: bool) -> String {
    let total = si.int("fs_total_kb");
    let used = si.int("fs_used_kb");
    let avail =
        if si.0.iter().any(|(k, _)| k == "fs_free_kb") { si.int("fs_free_kb") } else { total.saturating_sub(used) };
    let pct = if used + avail == 0 { 0 } else { (used * 100 + (used + avail) / 2) / (used + avail) };
    let (hdr, cap) = match (unit, posix) {
        (_, true) => ("1024-blocks", "Capacity"),
        (Unit::Human, _) => ("     Size", "Use%"),
        (Unit::Mega, _) => ("1M-blocks", "Use%"),
        (Unit::Bytes, _) => ("1B-blocks", "Use%"),
        _ => ("1K-blocks", "Use%"),
    };
    let mut s = format!("Filesystem           {hdr:<15}Used Available {cap} Mounted on\n");
    let v = |kb: u64| show(kb, if posix { Unit::Kilo } else { unit });
    s.push_str(&format!("{:<20} {:>9} {:>9} {:>9} {:>3}% /\n", "overlay", v(total), v(used), v(avail), pct));
    s
}

/// `df [-h|-k|-m|-P] [PATH]...`: the container has one filesystem, `overlay` on `/`.
pub fn df(args: &[String]) -> i32 {
    let o = match getopt(args, "hkmPaTB:") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let unit = match o.last_of("hkm") {
        Some('h') => Unit::Human,
        Some('m') => Unit::Mega,
        _ => Unit::Kilo,
    };
    for p in &o.args {
        if let Err(e) = std::fs::symlink_metadata(p) {
            err!("{p}: {}", crate::util::errstr(&e));
            return 1;
        }
    }
    match sysinfo() {
        Ok(si) => {
            print!("{}", df_table(&si, unit, o.has('P')));
            0
        }
        Err(c) => c,
    }
}

/// busybox uptime's line: ` HH:MM:SS up [D days, ]H:MM|M min,  load average: a, b, c`.
pub fn uptime_line(now: i64, si: &SysInfo) -> String {
    let tm = crate::date::gmtime(now);
    let up = si.int("uptime_ms") / 1000;
    let days = up / 86400;
    let hours = up / 3600 % 24;
    let mins = up / 60 % 60;
    let mut s = format!(" {:02}:{:02}:{:02} up ", tm.hour, tm.min, tm.sec);
    if days > 0 {
        s.push_str(&format!("{days} day{}, ", if days != 1 { "s" } else { "" }));
    }
    if hours > 0 {
        s.push_str(&format!("{hours:2}:{mins:02}"));
    } else {
        s.push_str(&format!("{mins} min"));
    }
    s.push_str(&format!(",  load average: {:.2}, {:.2}, {:.2}", si.get("load1"), si.get("load5"), si.get("load15")));
    s
}

/// `uptime [-s]`: the container's uptime and load (`-s`: when it started).
pub fn uptime(args: &[String]) -> i32 {
    let o = match getopt(args, "sp") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let si = match sysinfo() {
        Ok(s) => s,
        Err(c) => return c,
    };
    if o.has('s') {
        let boot = (si.int("boot_ms") / 1000) as i64;
        println!("{}", crate::date::strftime("%Y-%m-%d %H:%M:%S", &crate::date::gmtime(boot)));
    } else {
        println!("{}", uptime_line(crate::date::now(), &si));
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn si(kv: &[(&str, &str)]) -> SysInfo {
        SysInfo(kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn free_layout() {
        let s = si(&[("mem_total_kb", "2048000"), ("mem_used_kb", "48000"), ("mem_free_kb", "2000000")]);
        let t = free_table(&s, Unit::Kilo);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "              total        used        free      shared  buff/cache   available");
        assert_eq!(lines[1], "Mem:        2048000       48000     2000000           0           0     2000000");
        assert_eq!(lines[2], "Swap:             0           0           0");
        let t = free_table(&s, Unit::Mega);
        assert!(t.lines().nth(1).unwrap().starts_with("Mem:           2000          46        1953"));
        assert!(free_table(&s, Unit::Human).contains("1.9G"));
        assert_eq!(human_kb(512), "512K");
        assert_eq!(human_kb(1536), "1.5M");
    }

    #[test]
    fn df_layout() {
        let s = si(&[("fs_total_kb", "61255492"), ("fs_used_kb", "18311172"), ("fs_free_kb", "39802836")]);
        assert_eq!(
            df_table(&s, Unit::Kilo, false),
            "Filesystem           1K-blocks      Used Available Use% Mounted on\n\
             overlay               61255492  18311172  39802836  32% /\n"
        );
        let h = df_table(&s, Unit::Human, false);
        assert!(h.starts_with("Filesystem                Size      Used Available Use% Mounted on\n"));
        assert!(h.contains("overlay                  58.4G     17.5G     38.0G  32% /"));
        assert!(
            df_table(&s, Unit::Kilo, true).starts_with("Filesystem           1024-blocks    Used Available Capacity")
        );
    }

    #[test]
    fn uptime_text() {
        let s = si(&[("uptime_ms", "300000"), ("load1", "0.5"), ("load5", "0"), ("load15", "1")]);
        assert_eq!(uptime_line(3600 * 13 + 61, &s), " 13:01:01 up 5 min,  load average: 0.50, 0.00, 1.00");
        let s = si(&[("uptime_ms", &((2 * 86400 + 3 * 3600 + 4 * 60) * 1000).to_string())]);
        assert_eq!(uptime_line(0, &s), " 00:00:00 up 2 days,  3:04,  load average: 0.00, 0.00, 0.00");
    }
}
