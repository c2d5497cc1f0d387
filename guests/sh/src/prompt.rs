//! The prompt: busybox's backslash escapes in `PS1`/`PS2` (with `FEATURE_EDITING_FANCY_PROMPT`).

/// What the escapes stand for.
pub struct PromptEnv<'a> {
    pub cwd: &'a str,
    pub home: Option<&'a str>,
    pub user: &'a str,
    pub host: &'a str,
    pub root: bool,
}

/// busybox's default `PS1` (`/ # ` for root in `/`, `~ $ ` for a user at home).
pub const DEFAULT_PS1: &str = "\\w \\$ ";

/// Expand the escapes: `\u` user, `\h` host up to the first dot, `\H` host, `\w` directory
/// with `$HOME` as `~`, `\W` its last part, `\$` `#` for root else `$`, `\n`, `\r`, `\a`,
/// `\e`, `\\`, `\NNN` octal, `\[` `\]` around non-printing text. Returns the text and the
/// width on the screen of its last line (without escape sequences and `\[…\]`).
pub fn render(ps: &str, env: &PromptEnv) -> (String, usize) {
    let mut out = String::new();
    let mut marks: Vec<(usize, usize)> = Vec::new();
    let mut open: Option<usize> = None;
    let cs: Vec<char> = ps.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        i += 1;
        if c != '\\' || i >= cs.len() {
            out.push(c);
            continue;
        }
        let e = cs[i];
        i += 1;
        match e {
            'u' => out.push_str(env.user),
            'h' => out.push_str(env.host.split('.').next().unwrap_or("")),
            'H' => out.push_str(env.host),
            '$' => out.push(if env.root { '#' } else { '$' }),
            'w' | 'W' => {
                let mut d = env.cwd.to_string();
                if let Some(h) = env.home.filter(|h| !h.is_empty()) {
                    if let Some(rest) = d.strip_prefix(h) {
                        if rest.is_empty() || rest.starts_with('/') {
                            d = format!("~{rest}");
                        }
                    }
                }
                if e == 'W' {
                    d = d.rsplit('/').next().unwrap_or("").to_string();
                }
                out.push_str(&d);
            }
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'e' | 'E' => out.push('\x1b'),
            '\\' => out.push('\\'),
            '[' => open = Some(out.len()),
            ']' => {
                if let Some(s) = open.take() {
                    marks.push((s, out.len()));
                }
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap();
                let mut k = 1;
                while k < 3 && i < cs.len() && cs[i].is_digit(8) {
                    v = v * 8 + cs[i].to_digit(8).unwrap();
                    i += 1;
                    k += 1;
                }
                out.push(char::from_u32(v & 0xff).unwrap_or('?'));
            }
            o => {
                out.push('\\');
                out.push(o);
            }
        }
    }
    // Width of the last line: skip \[…\] spans and ESC sequences.
    let start = out.rfind('\n').map(|p| p + 1).unwrap_or(0);
    let mut width = 0;
    let b = out.as_bytes();
    let mut p = start;
    while p < b.len() {
        if let Some(&(_, e)) = marks.iter().find(|(s, e)| *s <= p && p < *e) {
            p = e;
            continue;
        }
        let ch = out[p..].chars().next().unwrap();
        if ch == '\x1b' {
            p += 1;
            if p < b.len() && b[p] == b'[' {
                p += 1;
                while p < b.len() && !(0x40..=0x7e).contains(&b[p]) {
                    p += 1;
                }
            }
            p += 1;
            continue;
        }
        if ch >= ' ' && ch != '\x7f' {
            width += 1;
        } else if ch == '\r' {
            width = 0;
        }
        p += ch.len_utf8();
    }
    (out, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(cwd: &'a str, root: bool) -> PromptEnv<'a> {
        PromptEnv { cwd, home: Some("/root"), user: if root { "root" } else { "app" }, host: "box1.example", root }
    }

    #[test]
    fn escapes() {
        assert_eq!(render(DEFAULT_PS1, &env("/", true)), ("/ # ".into(), 4));
        assert_eq!(render(DEFAULT_PS1, &env("/usr/bin", false)), ("/usr/bin $ ".into(), 11));
        assert_eq!(render(DEFAULT_PS1, &env("/root", true)).0, "~ # ");
        assert_eq!(render(DEFAULT_PS1, &env("/root/src", true)).0, "~/src # ");
        assert_eq!(render(DEFAULT_PS1, &env("/rootless", true)).0, "/rootless # ");
        assert_eq!(render("\\u@\\h:\\W\\$ ", &env("/usr/bin", true)).0, "root@box1:bin# ");
        assert_eq!(render("\\H \\W>", &env("/", false)).0, "box1.example >");
        assert_eq!(render("\\W>", &env("/root", false)).0, "~>");
        assert_eq!(render("a\\\\b \\101 \\q", &env("/", true)).0, "a\\b A \\q");
        assert_eq!(render("$ ", &env("/", true)), ("$ ".into(), 2));
        assert_eq!(render("x\\", &env("/", true)).0, "x\\");
    }

    #[test]
    fn widths() {
        // Colours inside \[ \] and bare escape sequences take no room; only the last line counts.
        let (s, w) = render("\\[\\e[1;32m\\]\\u\\[\\e[0m\\] \\$ ", &env("/", true));
        assert_eq!(s, "\x1b[1;32mroot\x1b[0m # ");
        assert_eq!(w, 7);
        assert_eq!(render("\\e[31m>\\e[0m ", &env("/", true)).1, 2);
        assert_eq!(render("first line\\n\\w \\$ ", &env("/tmp", true)), ("first line\n/tmp # ".into(), 7));
    }
}
