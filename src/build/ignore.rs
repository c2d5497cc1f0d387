//! `.dockerignore` reading and matching with the semantics of Docker's `patternmatcher`.

/// A parsed `.dockerignore`.
///
/// Patterns: `#` comment lines (only with `#` in the first column), blank lines skipped,
/// surrounding whitespace trimmed, `!` for exceptions, then `filepath.Clean` and a leading `/`
/// dropped. `*` and `?` do not match `/`; `**` matches any number of directories (`**/x`
/// matches `x` too; a trailing `**` matches everything below); `[a-z]`/`[^a-z]` classes; `\`
/// escapes the next character. The last matching pattern wins, and a path is also matched when
/// one of its parent directories is.
#[derive(Debug, Clone, Default)]
pub struct IgnoreMatcher {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    exclusion: bool,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone)]
enum Token {
    Char(char),
    /// `*`: any run of characters other than `/`.
    Star,
    /// `?`: one character other than `/`.
    Question,
    /// `[...]`: inclusive ranges, possibly negated (which, as in Docker, may match `/`).
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// `**` (or `**/`) followed by more pattern: nothing, or anything ending in `/`.
    AnyDirs,
    /// `**` at the end: anything.
    AnyRest,
}

impl IgnoreMatcher {
    /// Reads `.dockerignore` text. Fails on a malformed pattern (Docker then refuses to build).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut matcher = IgnoreMatcher::default();
        for line in text.lines() {
            if !line.starts_with('#') {
                matcher.add_pattern(line)?;
            }
        }
        Ok(matcher)
    }

    /// Appends one pattern (a `.dockerignore` line; `!` makes it an exception). Docker's client
    /// does this with `!Dockerfile` and `!.dockerignore` when those files are excluded.
    pub fn add_pattern(&mut self, line: &str) -> Result<(), String> {
        let mut text = line.trim();
        if text.is_empty() {
            return Ok(());
        }
        let exclusion = text.starts_with('!');
        if exclusion {
            text = text[1..].trim();
        }
        let mut cleaned = if text.is_empty() { String::new() } else { clean(text) };
        if cleaned.len() > 1 && cleaned.starts_with('/') {
            cleaned.remove(0);
        }
        if cleaned.is_empty() {
            return Err("illegal exclusion pattern: \"!\"".into());
        }
        let tokens = compile(&cleaned).ok_or("syntax error in pattern")?;
        self.patterns.push(Pattern { exclusion, tokens });
        Ok(())
    }

    /// Whether `rel_path` (slash-separated, relative to the context) is left out of the build
    /// context. The context root itself (`.` or ``) never is.
    pub fn is_excluded(&self, rel_path: &str) -> bool {
        let path: Vec<char> = clean(rel_path).trim_start_matches('/').chars().collect();
        if path.is_empty() || path == ['.'] {
            return false;
        }
        let parents: Vec<&[char]> = (0..path.len()).filter(|&i| path[i] == '/').map(|i| &path[..i]).collect();
        let mut excluded = false;
        for pattern in &self.patterns {
            // An exception only matters once something matched, and an exclusion only until.
            if pattern.exclusion != excluded {
                continue;
            }
            let hit =
                matches(&pattern.tokens, &path, false) || parents.iter().any(|p| matches(&pattern.tokens, p, false));
            if hit {
                excluded = !pattern.exclusion;
            }
        }
        excluded
    }

    /// Whether a walker must still descend into directory `rel_dir`: true unless the directory
    /// is excluded and no exception (`!pattern`) could match anything below it. Conservative:
    /// it only answers false when nothing inside can be in the context.
    pub fn dir_may_contain_included(&self, rel_dir: &str) -> bool {
        if !self.is_excluded(rel_dir) {
            return true;
        }
        let mut dir: Vec<char> = clean(rel_dir).trim_start_matches('/').chars().collect();
        dir.push('/');
        self.patterns.iter().any(|p| p.exclusion && matches(&p.tokens, &dir, true))
    }
}

/// Whether a `COPY`/`ADD` source glob matches `path` (both slash-separated, relative to the
/// context). Go's `filepath.Match`: `*` and `?` stay within one path element. A malformed
/// pattern matches nothing.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let path: Vec<char> = path.chars().collect();
    compile(&clean(pattern)).is_some_and(|tokens| matches(&tokens, &path, false))
}

/// Whether `tokens` match all of `path`; with `prefix`, whether they match `path` followed by
/// some further text. Dynamic programming over (token, position), from the end: time is
/// tokens × path length and there is no recursion, so a pattern like `**/**/**/…` cannot
/// take exponential time or overflow the stack.
fn matches(tokens: &[Token], path: &[char], prefix: bool) -> bool {
    let n = path.len();
    // next[p]: whether tokens[t+1..] match path[p..]; start with t+1 == tokens.len().
    let mut next: Vec<bool> = (0..=n).map(|p| p == n).collect();
    for token in tokens.iter().rev() {
        let mut cur = vec![false; n + 1];
        let mut any_dir = false; // AnyDirs: some '/' at k >= p with next[k + 1]
        for p in (0..=n).rev() {
            let one = |ok: &dyn Fn(char) -> bool| p < n && ok(path[p]) && next[p + 1];
            cur[p] = match token {
                Token::Char(want) => one(&|c| c == *want),
                Token::Question => one(&|c| c != '/'),
                Token::Class { negated, ranges } => {
                    one(&|c| ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated)
                }
                Token::Star => next[p] || (p < n && path[p] != '/' && cur[p + 1]),
                Token::AnyDirs => {
                    any_dir = any_dir || (p < n && path[p] == '/' && next[p + 1]);
                    next[p] || any_dir
                }
                Token::AnyRest => true,
            };
        }
        if prefix {
            cur[n] = true;
        }
        next = cur;
    }
    next[0] || (prefix && n == 0)
}

/// Compiles a cleaned pattern; `None` where Go's `filepath.Match` reports a syntax error.
fn compile(pattern: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        let token = match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i == chars.len() {
                    Token::AnyRest
                } else {
                    Token::AnyDirs
                }
            }
            '*' => Token::Star,
            '?' => Token::Question,
            '\\' => {
                let escaped = *chars.get(i)?;
                i += 1;
                Token::Char(escaped)
            }
            '[' => {
                let negated = chars.get(i) == Some(&'^');
                if negated {
                    i += 1;
                }
                let mut ranges = Vec::new();
                loop {
                    if chars.get(i) == Some(&']') && !ranges.is_empty() {
                        i += 1;
                        break;
                    }
                    let lo = class_char(&chars, &mut i)?;
                    let mut hi = lo;
                    if chars.get(i) == Some(&'-') {
                        i += 1;
                        hi = class_char(&chars, &mut i)?;
                    }
                    if lo > hi {
                        return None;
                    }
                    ranges.push((lo, hi));
                }
                Token::Class { negated, ranges }
            }
            c => Token::Char(c),
        };
        // `**/**/` is `**/`: a run of them costs one token, not one per repeat.
        if matches!(token, Token::AnyDirs) && matches!(tokens.last(), Some(Token::AnyDirs)) {
            continue;
        }
        tokens.push(token);
    }
    Some(tokens)
}

/// One (possibly escaped) character of a class; `]`, `-` and the end are errors here.
fn class_char(chars: &[char], i: &mut usize) -> Option<char> {
    let mut c = *chars.get(*i)?;
    if c == ']' || c == '-' {
        return None;
    }
    if c == '\\' {
        *i += 1;
        c = *chars.get(*i)?;
    }
    *i += 1;
    Some(c)
}

/// Go's `filepath.Clean` for slash-separated paths.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            part => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
#[path = "ignore_tests.rs"]
mod tests;
