//! Docker-shaped output: tables padded like Go's tabwriter (min width 10, padding 3) and
//! durations (`About a minute ago`); sizes are in `crate::units`.

/// Render rows as Docker does: every column but the last padded to max(width + 3, 10).
/// Control characters in cells (an image's `CREATED BY` from an archive, a command line) are
/// shown escaped, so a table cannot drive the terminal.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> =
        rows.iter().map(|r| r.iter().map(|c| crate::error::printable_name(c)).collect()).collect();
    let rows = rows.as_slice();
    let n = header.len();
    let mut widths = vec![0usize; n];
    for (i, h) in header.iter().enumerate() {
        widths[i] = h.chars().count();
    }
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == n {
                s.push_str(c);
            } else {
                let w = (widths[i] + 3).max(10);
                s.push_str(c);
                s.push_str(&" ".repeat(w - c.chars().count()));
            }
        }
        out.push_str(s.trim_end_matches(' '));
        out.push('\n');
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
}

/// Docker's `units.HumanDuration`.
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    let minutes = s / 60;
    let hours = minutes / 60;
    if s < 1 {
        "Less than a second".into()
    } else if s == 1 {
        "1 second".into()
    } else if s < 60 {
        format!("{s} seconds")
    } else if minutes == 1 {
        "About a minute".into()
    } else if minutes < 60 {
        format!("{minutes} minutes")
    } else if hours == 1 {
        "About an hour".into()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", hours / 24 / 365)
    }
}

/// Seconds since an RFC 3339 time (0 when it cannot be parsed).
pub fn seconds_since(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds())
        .unwrap_or(0)
}

/// Go's `time.Time.String()` of an RFC 3339 time, in UTC: `2026-11-23 17:07:01 +0000 UTC`
/// (what `{{.CreatedAt}}` prints).
pub fn go_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
        .unwrap_or_default()
}

/// `5 seconds ago`, as the CREATED column shows.
pub fn ago(rfc3339: &str) -> String {
    format!("{} ago", human_duration(seconds_since(rfc3339)))
}

/// Docker's `stringutils.Ellipsis`: at most `max` characters, the last one `…` when cut.
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_docker() {
        for (n, s) in [
            (0, "Less than a second"),
            (1, "1 second"),
            (9, "9 seconds"),
            (61, "About a minute"),
            (300, "5 minutes"),
            (3600, "About an hour"),
            (7200, "2 hours"),
            (3 * 86400, "3 days"),
        ] {
            assert_eq!(human_duration(n), s);
        }
    }

    #[test]
    fn table_pads_like_tabwriter() {
        let t = render(
            &["REPOSITORY", "TAG", "IMAGE ID"],
            &[vec!["busybox".into(), "latest".into(), "9c4441c3c812".into()]],
        );
        assert_eq!(t, "REPOSITORY   TAG       IMAGE ID\nbusybox      latest    9c4441c3c812\n");
        assert_eq!(ellipsis("sh -c 'i=0; while true'", 20), "sh -c 'i=0; while t…");
    }
}
