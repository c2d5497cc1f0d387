//! Docker's `go-units` sizes: decimal for disk (`1.99MB`, `images`, `system df`) and binary
//! for memory (`9.58MiB`, `stats`), shared by the CLI and the builder.

/// Docker's `units.HumanSizeWithPrecision(size, 3)`: decimal units, 3 significant digits.
pub fn human_size(size: u64) -> String {
    human_size_precision(size, 3)
}

/// Docker's `units.HumanSizeWithPrecision(size, precision)` (`HumanSize` is precision 4).
pub fn human_size_precision(size: u64, precision: usize) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = size as f64;
    let mut i = 0;
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    format!("{}{}", go_g(v, precision), UNITS[i])
}

/// Go's `%.{precision}g` for the values sizes take (0 ≤ v < 1024).
fn go_g(v: f64, precision: usize) -> String {
    let int_digits = if v >= 1000.0 {
        4
    } else if v >= 100.0 {
        3
    } else if v >= 10.0 {
        2
    } else {
        1
    };
    let s = format!("{:.*}", precision.saturating_sub(int_digits), v);
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if s.len() > precision && !s.contains('.') {
        // Rounded up to 10^precision: Go switches to exponent form.
        return format!("1e+{:02}", s.len() - 1);
    }
    s
}

/// Docker's `units.BytesSize`: binary units, 4 significant digits (`9.58MiB`, `23.54GiB`).
pub fn binary_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{}{}", go_g(v, 4), UNITS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_docker() {
        for (n, s) in [
            (0, "0B"),
            (506, "506B"),
            (3216, "3.22kB"),
            (1982256, "1.98MB"),
            (1_990_000, "1.99MB"),
            (2_000_000, "2MB"),
            (12_345, "12.3kB"),
            (123_456, "123kB"),
        ] {
            assert_eq!(human_size(n), s, "{n}");
        }
    }

    #[test]
    fn binary_sizes_like_docker() {
        assert_eq!(binary_size(0), "0B");
        assert_eq!(binary_size(720 * 1024), "720KiB");
        assert_eq!(binary_size(10_045_440), "9.58MiB");
        assert_eq!(binary_size(25_275_000_000), "23.54GiB");
    }
}
