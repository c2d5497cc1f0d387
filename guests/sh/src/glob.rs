//! Pattern matching (`*`, `?`, `[...]`) for `case`, `${x#pat}` and pathname expansion.

/// A pattern char and whether it is literal (quoted: never special).
pub type PChar = (char, bool);

#[cfg(test)]
pub fn lit(s: &str) -> Vec<PChar> {
    s.chars().map(|c| (c, true)).collect()
}

pub fn has_meta(p: &[PChar]) -> bool {
    p.iter().any(|&(c, l)| !l && matches!(c, '*' | '?' | '['))
}

/// Does `pat` match all of `s`?
pub fn matches(pat: &[PChar], s: &[char]) -> bool {
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p < pat.len() {
            match pat[p] {
                ('*', false) => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                ('?', false) if i < s.len() => {
                    p += 1;
                    i += 1;
                    continue;
                }
                ('[', false) if i < s.len() => {
                    if let Some((ok, len)) = bracket(&pat[p..], s[i]) {
                        if ok {
                            p += len;
                            i += 1;
                            continue;
                        }
                    } else if s[i] == '[' {
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
                (c, _) if i < s.len() && c == s[i] => {
                    p += 1;
                    i += 1;
                    continue;
                }
                _ => {}
            }
        } else if i == s.len() {
            return true;
        }
        match star {
            Some((sp, si)) if si < s.len() => {
                star = Some((sp, si + 1));
                p = sp + 1;
                i = si + 1;
            }
            _ => return false,
        }
    }
}

/// `[...]` at the start of `pat`: (matches `c`, pattern length), or None when unterminated.
fn bracket(pat: &[PChar], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let neg = matches!(pat.get(1), Some(('!', false)) | Some(('^', false)));
    if neg {
        i += 1;
    }
    let mut ok = false;
    let mut first = true;
    while i < pat.len() {
        let (pc, l) = pat[i];
        if pc == ']' && !l && !first {
            return Some((ok != neg, i + 1));
        }
        first = false;
        if pc == '[' && !l && pat.get(i + 1) == Some(&(':', false)) {
            let rest: String = pat[i + 2..].iter().map(|p| p.0).collect();
            if let Some(end) = rest.find(":]") {
                ok |= match &rest[..end] {
                    "alpha" => c.is_alphabetic(),
                    "digit" => c.is_ascii_digit(),
                    "alnum" => c.is_alphanumeric(),
                    "upper" => c.is_uppercase(),
                    "lower" => c.is_lowercase(),
                    "space" => c.is_whitespace(),
                    "xdigit" => c.is_ascii_hexdigit(),
                    "punct" => c.is_ascii_punctuation(),
                    _ => false,
                };
                i += 2 + end + 2;
                continue;
            }
        }
        if pat.get(i + 1) == Some(&('-', false)) && i + 2 < pat.len() && pat[i + 2] != (']', false) {
            ok |= pc <= c && c <= pat[i + 2].0;
            i += 3;
        } else {
            ok |= pc == c;
            i += 1;
        }
    }
    None
}

/// Pathname expansion: the sorted matching paths, empty when nothing matches.
pub fn expand(pat: &[PChar]) -> Vec<String> {
    let parts: Vec<&[PChar]> = pat.split(|&(c, _)| c == '/').collect();
    let mut found = vec![if pat.first().map(|p| p.0) == Some('/') { "/".to_string() } else { String::new() }];
    for (n, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        let last = n == parts.len() - 1;
        let mut next = Vec::new();
        for base in &found {
            if !has_meta(part) {
                let name: String = part.iter().map(|p| p.0).collect();
                let path = format!("{base}{name}");
                if std::fs::symlink_metadata(if path.is_empty() { "." } else { &path }).is_ok() {
                    next.push(if last { path } else { path + "/" });
                }
                continue;
            }
            let dir = if base.is_empty() { "." } else { base.as_str() };
            let Ok(rd) = std::fs::read_dir(dir) else { continue };
            let mut names: Vec<String> =
                rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            crate::exec::sort(&mut names);
            for name in names {
                if name.starts_with('.') && part[0] != ('.', false) && part[0] != ('.', true) {
                    continue;
                }
                let cs: Vec<char> = name.chars().collect();
                if matches(part, &cs) {
                    let path = format!("{base}{name}");
                    if last {
                        next.push(path);
                    } else if std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
                        next.push(path + "/");
                    }
                }
            }
        }
        found = next;
    }
    if pat.last().map(|p| p.0) != Some('/') {
        for f in found.iter_mut() {
            if f.len() > 1 && f.ends_with('/') {
                f.pop();
            }
        }
    }
    crate::exec::sort(&mut found);
    found
}

/// Unquoted pattern from plain text (for tests and `case` with literal words).
#[cfg(test)]
pub fn pat(s: &str) -> Vec<PChar> {
    let mut out = Vec::new();
    let mut cs = s.chars();
    while let Some(c) = cs.next() {
        if c == '\\' {
            if let Some(n) = cs.next() {
                out.push((n, true));
            }
        } else {
            out.push((c, false));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        let cases = [
            ("*", "", true),
            ("*", "abc", true),
            ("a*c", "abbbc", true),
            ("a*c", "abbb", false),
            ("?", "a", true),
            ("?", "", false),
            ("[abc]x", "bx", true),
            ("[!abc]x", "bx", false),
            ("[a-z]*.txt", "q1.txt", true),
            ("*.tar.gz", "x.tar.gz", true),
            ("\\*", "*", true),
            ("\\*", "a", false),
            ("[[:digit:]]*", "1a", true),
            ("a[", "a[", true),
            ("*/*", "a/b", true),
            ("**a", "bba", true),
        ];
        for (p, s, want) in cases {
            let cs: Vec<char> = s.chars().collect();
            assert_eq!(matches(&pat(p), &cs), want, "{p} vs {s}");
        }
    }

    #[test]
    fn pathnames() {
        let d = std::env::temp_dir().join(format!("shglob{}", std::process::id()));
        std::fs::create_dir_all(d.join("sub")).unwrap();
        for f in ["a.txt", "b.txt", "c.md", ".hidden.txt", "sub/x.txt"] {
            std::fs::write(d.join(f), "").unwrap();
        }
        let base = d.to_string_lossy().to_string();
        let mut p = lit(&format!("{base}/"));
        p.extend(pat("*.txt"));
        assert_eq!(expand(&p), vec![format!("{base}/a.txt"), format!("{base}/b.txt")]);
        let mut p = lit(&format!("{base}/"));
        p.extend(pat("*/*.txt"));
        assert_eq!(expand(&p), vec![format!("{base}/sub/x.txt")]);
        let mut p = lit(&format!("{base}/"));
        p.extend(pat("*.none"));
        assert!(expand(&p).is_empty());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
