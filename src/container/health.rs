//! HEALTHCHECK: the supervisor runs the container's check as an exec in it every `Interval`
//! (default 30 s), gives each run `Timeout` (default 30 s), and records the result in the
//! record's `State.Health` (see [`super::state::Health`] for the rules): `Retries` failures
//! in a row (default 3) make the container unhealthy, failures in the `StartPeriod` do not
//! count while it is still starting. A change of status is an event
//! (`health_status: healthy`).
//!
//! Each probe runs in a helper process (`skiff __probe ID CMD…`, a `Backend::exec` with its
//! output captured), not in the supervisor: a backend keeps the process table of a container
//! per host process, and the supervisor's holds the main process.

use crate::store::Store;
use serde_json::Value;
use std::time::Duration;

const DEFAULT: Duration = Duration::from_secs(30);
/// Docker keeps at most this much of a probe's output.
const MAX_OUTPUT: usize = 4096;

/// A container's health check, with Docker's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The program and arguments to run (`CMD-SHELL c` is `/bin/sh -c c`).
    pub argv: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub start_period: Duration,
    pub retries: u32,
}

impl Check {
    /// The check a container's `Config.Healthcheck` describes; `None` for none or `NONE`.
    pub fn from_config(v: &Value) -> Option<Check> {
        let test: Vec<String> =
            v.get("Test")?.as_array()?.iter().filter_map(|s| s.as_str().map(String::from)).collect();
        let argv = match test.first().map(String::as_str) {
            Some("CMD") if test.len() > 1 => test[1..].to_vec(),
            Some("CMD-SHELL") if test.len() > 1 => vec!["/bin/sh".into(), "-c".into(), test[1..].join(" ")],
            _ => return None,
        };
        let duration = |key: &str| match v.get(key).and_then(Value::as_i64) {
            Some(n) if n > 0 => Duration::from_nanos(n as u64),
            _ => DEFAULT,
        };
        Some(Check {
            argv,
            interval: duration("Interval"),
            timeout: duration("Timeout"),
            start_period: match v.get("StartPeriod").and_then(Value::as_i64) {
                Some(n) if n > 0 => Duration::from_nanos(n as u64),
                _ => Duration::ZERO,
            },
            retries: match v.get("Retries").and_then(Value::as_u64) {
                Some(n) if n > 0 => n as u32,
                _ => 3,
            },
        })
    }
}

/// Run one probe of `check` in the running container `id`: its exit status and output
/// (-1 and Docker's message when it ran out of time or could not run).
pub fn probe(store: &Store, id: &str, check: &Check) -> (i32, String) {
    use std::process::{Command, Stdio};
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return (-1, e.to_string()),
    };
    let mut child = match Command::new(exe)
        .arg("__probe")
        .arg(id)
        .args(&check.argv)
        .env("SKIFF_ROOT", store.root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return (-1, e.to_string()),
    };
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = read(Box::new(child.stdout.take().expect("piped")));
    let err = read(Box::new(child.stderr.take().expect("piped")));
    let start = std::time::Instant::now();
    let code = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.code().unwrap_or(-1),
            Ok(None) if start.elapsed() < check.timeout => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return (-1, format!("Health check exceeded timeout ({})", go_duration(check.timeout)));
            }
        }
    };
    let mut output = out.join().unwrap_or_default();
    output.extend(err.join().unwrap_or_default());
    output.truncate(MAX_OUTPUT);
    (code, String::from_utf8_lossy(&output).into_owned())
}

/// Go's `time.Duration.String()` for whole and fractional seconds (`30s`, `1.5s`, `500ms`).
pub fn go_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        let s = format!("{secs:.3}");
        return format!("{}s", s.trim_end_matches('0').trim_end_matches('.'));
    }
    let (m, s) = (d.as_secs() / 60, d.as_secs() % 60);
    if m < 60 {
        format!("{m}m{s}s")
    } else {
        format!("{}h{}m{s}s", m / 60, m % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_from_dockers_config() {
        let c = Check::from_config(
            &serde_json::json!({"Test": ["CMD-SHELL", "redis-cli ping"], "Interval": 2_000_000_000i64, "Retries": 5}),
        )
        .unwrap();
        assert_eq!(c.argv, ["/bin/sh", "-c", "redis-cli ping"]);
        assert_eq!(
            (c.interval, c.timeout, c.start_period, c.retries),
            (Duration::from_secs(2), DEFAULT, Duration::ZERO, 5)
        );
        let c = Check::from_config(&serde_json::json!({"Test": ["CMD", "pg_isready", "-U", "postgres"]})).unwrap();
        assert_eq!(c.argv, ["pg_isready", "-U", "postgres"]);
        assert_eq!(c.retries, 3);
        assert!(Check::from_config(&serde_json::json!({"Test": ["NONE"]})).is_none());
        assert!(Check::from_config(&serde_json::json!({})).is_none());
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(200)), "200ms");
    }
}
