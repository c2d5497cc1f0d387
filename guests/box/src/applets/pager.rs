//! `less` and `more`: page through files or stdin on a terminal (raw mode from the host's
//! `tty_mode`, size from `tty_size`). When stdout is not a terminal they copy their input to
//! stdout, as the real ones do; keys come from stdin, so input piped into them is shown whole.

use crate::err;
use crate::regex::Regex;
use crate::term::{self, Key};
use crate::util::{self, errstr};
use std::io::{self, Write};

/// Expand tabs (8 columns) and make control characters visible (`^X`).
pub fn display_text(line: &str) -> String {
    let mut s = String::new();
    let mut col = 0;
    for c in line.chars() {
        match c {
            '\t' => {
                let n = 8 - col % 8;
                s.push_str(&" ".repeat(n));
                col += n;
            }
            '\r' => {}
            c if (c as u32) < 32 || c == '\x7f' => {
                s.push('^');
                s.push(if c == '\x7f' { '?' } else { (c as u8 + b'@') as char });
                col += 2;
            }
            c => {
                s.push(c);
                col += 1;
            }
        }
    }
    s
}

/// Split text into screen rows `width` columns wide (long lines wrap).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows = Vec::new();
    let body = text.strip_suffix('\n').unwrap_or(text);
    if text.is_empty() {
        return rows;
    }
    for line in body.split('\n') {
        let d: Vec<char> = display_text(line).chars().collect();
        if d.is_empty() {
            rows.push(String::new());
            continue;
        }
        for chunk in d.chunks(width) {
            rows.push(chunk.iter().collect());
        }
    }
    rows
}

/// What a key did to the pager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Redraw,
    Quit,
    NextFile,
    PrevFile,
    Nothing,
}

/// less's state over one file's screen rows (pure: keys in, screens out).
pub struct Pager {
    pub rows: Vec<String>,
    pub top: usize,
    /// Rows of text on the screen (the terminal's rows less the status line).
    pub height: usize,
    pub name: String,
    pub prompt: Option<(char, String)>,
    pub pattern: Option<String>,
    pub msg: String,
    first_screen: bool,
    pending: String,
}

impl Pager {
    pub fn new(text: &str, name: &str, height: usize, width: usize) -> Pager {
        Pager {
            rows: wrap(text, width),
            top: 0,
            height: height.max(1),
            name: name.to_string(),
            prompt: None,
            pattern: None,
            msg: String::new(),
            first_screen: true,
            pending: String::new(),
        }
    }

    fn max_top(&self) -> usize {
        self.rows.len().saturating_sub(self.height)
    }

    pub fn at_end(&self) -> bool {
        self.top >= self.max_top()
    }

    fn scroll(&mut self, delta: isize) {
        let t = self.top as isize + delta;
        self.top = (t.max(0) as usize).min(self.max_top());
    }

    /// Find the pattern from row `from` forward (or backward); moves `top` there.
    fn search(&mut self, forward: bool, from: usize) {
        let Some(p) = self.pattern.clone() else {
            self.msg = "No previous regular expression".into();
            return;
        };
        let re = match Regex::new(&p, true, false) {
            Ok(r) => r,
            Err(e) => {
                self.msg = e;
                return;
            }
        };
        let n = self.rows.len();
        let hit = if forward {
            (from..n).find(|&i| re.is_match(&self.rows[i]))
        } else {
            (0..from.min(n)).rev().find(|&i| re.is_match(&self.rows[i]))
        };
        match hit {
            Some(i) => self.top = i.min(self.max_top()),
            None => self.msg = "Pattern not found".into(),
        }
    }

    pub fn key(&mut self, k: Key) -> Act {
        self.msg.clear();
        if let Some((kind, mut text)) = self.prompt.take() {
            match k {
                Key::Enter => {
                    if !text.is_empty() {
                        self.pattern = Some(text);
                    }
                    if kind == '/' {
                        self.search(true, self.top + 1);
                    } else {
                        self.search(false, self.top);
                    }
                }
                Key::Esc | Key::Ctrl('c') => {}
                Key::Backspace => {
                    if text.pop().is_some() {
                        self.prompt = Some((kind, text));
                    }
                }
                Key::Char(c) => {
                    text.push(c);
                    self.prompt = Some((kind, text));
                }
                _ => self.prompt = Some((kind, text)),
            }
            return Act::Redraw;
        }
        self.first_screen = false;
        let h = self.height as isize;
        if !self.pending.is_empty() {
            let p = std::mem::take(&mut self.pending);
            return match (p.as_str(), k) {
                (":", Key::Char('n')) => Act::NextFile,
                (":", Key::Char('p')) => Act::PrevFile,
                (":", Key::Char('q')) | ("Z", Key::Char('Z')) => Act::Quit,
                _ => Act::Redraw,
            };
        }
        match k {
            Key::Char('q') | Key::Char('Q') | Key::Ctrl('c') => return Act::Quit,
            Key::Char(':') | Key::Char('Z') => {
                if let Key::Char(c) = k {
                    self.pending.push(c);
                }
                return Act::Nothing;
            }
            Key::Char(' ') | Key::Char('f') | Key::PageDown | Key::Ctrl('f') | Key::Ctrl('v') => self.scroll(h),
            Key::Char('b') | Key::PageUp | Key::Ctrl('b') => self.scroll(-h),
            Key::Char('j') | Key::Char('e') | Key::Enter | Key::Down | Key::Ctrl('n') | Key::Ctrl('e') => {
                self.scroll(1)
            }
            Key::Char('k') | Key::Char('y') | Key::Up | Key::Ctrl('p') | Key::Ctrl('y') => self.scroll(-1),
            Key::Char('d') | Key::Ctrl('d') => self.scroll(h / 2),
            Key::Char('u') | Key::Ctrl('u') => self.scroll(-h / 2),
            Key::Char('g') | Key::Char('<') | Key::Home => self.top = 0,
            Key::Char('G') | Key::Char('>') | Key::End => self.top = self.max_top(),
            Key::Char('/') => self.prompt = Some(('/', String::new())),
            Key::Char('?') => self.prompt = Some(('?', String::new())),
            Key::Char('n') => self.search(true, self.top + 1),
            Key::Char('N') => self.search(false, self.top),
            Key::Char('r') | Key::Ctrl('l') => {}
            _ => return Act::Nothing,
        }
        Act::Redraw
    }

    /// The screen: `height` text rows (`~` past the end) and the status line.
    pub fn screen(&self) -> (Vec<String>, String) {
        let mut v = Vec::new();
        for i in self.top..self.top + self.height {
            match self.rows.get(i) {
                Some(r) => v.push(r.clone()),
                None => v.push("~".into()),
            }
        }
        let status = if let Some((k, t)) = &self.prompt {
            format!("{k}{t}")
        } else if !self.msg.is_empty() {
            self.msg.clone()
        } else if self.at_end() {
            if self.name.is_empty() {
                "(END)".into()
            } else {
                format!("{} (END)", self.name)
            }
        } else if self.first_screen && !self.name.is_empty() {
            self.name.clone()
        } else {
            ":".into()
        };
        (v, status)
    }

    /// The screen with `pattern` matches in reverse video.
    pub fn draw(&self, cols: usize) -> String {
        let (rows, status) = self.screen();
        let re = self.pattern.as_ref().and_then(|p| Regex::new(p, true, false).ok());
        let mut s = String::from(term::CLEAR);
        for r in &rows {
            match &re {
                Some(re) => s.push_str(&highlight(r, re)),
                None => s.push_str(r),
            }
            s.push_str("\r\n");
        }
        s.push_str(term::REVERSE);
        s.push_str(term::fit(&status, cols.saturating_sub(1)));
        s.push_str(term::NORMAL);
        s
    }
}

/// `line` with the matches of `re` in reverse video.
pub fn highlight(line: &str, re: &Regex) -> String {
    let t: Vec<char> = line.chars().collect();
    let mut s = String::new();
    let mut i = 0;
    while i <= t.len() {
        match re.find_at(&t, i) {
            Some(c) if c[1] > c[0] => {
                let (a, b) = (c[0].unwrap(), c[1].unwrap());
                s.extend(&t[i..a]);
                s.push_str(term::REVERSE);
                s.extend(&t[a..b]);
                s.push_str(term::NORMAL);
                i = b;
            }
            _ => break,
        }
    }
    if i < t.len() {
        s.extend(&t[i..]);
    }
    s
}

fn read_input(name: &str) -> Result<String, String> {
    util::read_all(name)
        .map(|d| String::from_utf8_lossy(&d).into_owned())
        .map_err(|e| format!("{name}: {}", errstr(&e)))
}

/// Copy inputs to stdout (not a terminal). `headers`: more's `::::` banners between files.
fn copy_all(files: &[String], headers: bool) -> i32 {
    let mut out = io::stdout().lock();
    let mut rc = 0;
    for f in files {
        if headers && files.len() > 1 {
            let _ = write!(out, "::::::::::::::\n{f}\n::::::::::::::\n");
        }
        match util::open_input(f) {
            Ok(mut r) => {
                if let Err(e) = io::copy(&mut r, &mut out) {
                    if e.kind() == io::ErrorKind::BrokenPipe {
                        return rc;
                    }
                    err!("{f}: {}", errstr(&e));
                    rc = 1;
                }
            }
            Err(e) => {
                err!("{f}: {}", errstr(&e));
                rc = 1;
            }
        }
    }
    let _ = out.flush();
    rc
}

/// Can we page interactively: stdout and stdin terminals, and raw mode?
fn interactive() -> Option<term::Raw> {
    if !term::stdout_is_tty() || !term::stdin_is_tty() {
        return None;
    }
    term::Raw::enter().ok()
}

/// `less [FILE]...`: q, space/f, b, j/k, arrows, d/u, g/G, /pattern, ?pattern, n/N, :n/:p.
pub fn less(args: &[String]) -> i32 {
    let o = match util::getopt(args, "EFIMNRSXcm~") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let files = if o.args.is_empty() { vec!["-".to_string()] } else { o.args.clone() };
    if !term::stdout_is_tty() {
        return copy_all(&files, false);
    }
    if files.iter().any(|f| f == "-") && !term::stdin_is_tty() {
        // Keys come from stdin; with input on it there is nothing to read them from.
        return copy_all(&files, false);
    }
    let Some(raw) = interactive() else {
        return copy_all(&files, false);
    };
    term::put(term::ALT_SCREEN);
    let mut keys = term::Keys::new();
    let mut idx = 0;
    let mut rc = 0;
    'files: while idx < files.len() {
        let text = match read_input(&files[idx]) {
            Ok(t) => t,
            Err(m) => {
                term::put(term::MAIN_SCREEN);
                err!("{m}");
                term::put(term::ALT_SCREEN);
                rc = 1;
                idx += 1;
                continue;
            }
        };
        let (rows, cols) = term::size();
        let name = if files[idx] == "-" { String::new() } else { files[idx].clone() };
        let mut p = Pager::new(&text, &name, rows.saturating_sub(1), cols);
        if o.has('F') && p.rows.len() <= p.height {
            drop(raw);
            term::put(term::MAIN_SCREEN);
            return copy_all(&files, false);
        }
        loop {
            term::put(&p.draw(cols));
            let Some(k) = keys.next() else { break 'files };
            match p.key(k) {
                Act::Quit => break 'files,
                Act::NextFile => {
                    if idx + 1 < files.len() {
                        idx += 1;
                        continue 'files;
                    }
                    p.msg = "No next file".into();
                }
                Act::PrevFile => {
                    if idx > 0 {
                        idx -= 1;
                        continue 'files;
                    }
                    p.msg = "No previous file".into();
                }
                _ => {}
            }
        }
    }
    drop(raw);
    term::put(&format!("{}\r", term::MAIN_SCREEN));
    rc
}

/// more's next position after a key: `Some(new top)`, or `None` to quit.
pub fn more_step(k: Key, top: usize, height: usize, total: usize) -> Option<usize> {
    match k {
        Key::Char('q') | Key::Char('Q') | Key::Ctrl('c') => None,
        Key::Char(' ') | Key::Char('f') | Key::PageDown => Some(top + height),
        Key::Enter | Key::Char('j') | Key::Down => Some(top + 1),
        Key::Char('b') | Key::PageUp => Some(top.saturating_sub(height)),
        Key::Char('d') => Some(top + height / 2),
        _ => Some(top.min(total)),
    }
}

/// `more [FILE]...`: a screen at a time with a `--More--(NN%)` prompt; space, Enter, b, q.
pub fn more(args: &[String]) -> i32 {
    let o = match util::getopt(args, "dlfpcsu") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let files = if o.args.is_empty() { vec!["-".to_string()] } else { o.args.clone() };
    if !term::stdout_is_tty() || (files.iter().any(|f| f == "-") && !term::stdin_is_tty()) {
        return copy_all(&files, true);
    }
    let Some(raw) = interactive() else {
        return copy_all(&files, true);
    };
    let mut keys = term::Keys::new();
    let mut rc = 0;
    'files: for (n, f) in files.iter().enumerate() {
        let mut text = match read_input(f) {
            Ok(t) => t,
            Err(m) => {
                err!("{m}");
                rc = 1;
                continue;
            }
        };
        if files.len() > 1 {
            text = format!("::::::::::::::\n{f}\n::::::::::::::\n{text}");
        }
        let (rows, cols) = term::size();
        let height = rows.saturating_sub(1).max(1);
        let lines = wrap(&text, cols);
        let mut shown = 0;
        let mut top = 0;
        let mut full = false;
        loop {
            // Print the lines not on the screen yet; after `b`, the whole screen again.
            let end = (top + height).min(lines.len());
            let mut s = String::new();
            let from = if full { top } else { shown.max(top) };
            if full {
                s.push_str(term::CLEAR);
                full = false;
            }
            for l in &lines[from.min(end)..end] {
                s.push_str(l);
                s.push_str("\r\n");
            }
            shown = end;
            if end >= lines.len() && n + 1 == files.len() {
                term::put(&s);
                break 'files;
            }
            let pct = if lines.is_empty() { 100 } else { end * 100 / lines.len() };
            let prompt = if end >= lines.len() {
                format!("--More--(Next file: {})", files[n + 1])
            } else {
                format!("--More--({pct}%)")
            };
            s.push_str(&format!("{}{prompt}{}", term::REVERSE, term::NORMAL));
            term::put(&s);
            let Some(k) = keys.next() else { break 'files };
            term::put(&format!("\r{}", term::CLEAR_LINE));
            if end >= lines.len() && k != Key::Char('b') {
                if matches!(k, Key::Char('q') | Key::Ctrl('c')) {
                    break 'files;
                }
                continue 'files;
            }
            match more_step(k, top, height, lines.len()) {
                None => break 'files,
                Some(t) => {
                    if t < top {
                        full = true;
                    }
                    top = t.min(lines.len().saturating_sub(1));
                }
            }
        }
    }
    drop(raw);
    rc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping() {
        assert_eq!(wrap("abcdef\ngh\n", 4), vec!["abcd", "ef", "gh"]);
        assert_eq!(wrap("a\tb\n\n", 80), vec!["a       b", ""]);
        assert_eq!(wrap("", 80), Vec::<String>::new());
        assert_eq!(display_text("x\x01y"), "x^Ay");
    }

    fn pager(n: usize) -> Pager {
        let text: String = (1..=n).map(|i| format!("line {i}\n")).collect();
        Pager::new(&text, "f.txt", 10, 80)
    }

    #[test]
    fn paging_keys() {
        let mut p = pager(35);
        assert_eq!(p.screen().1, "f.txt");
        assert_eq!(p.screen().0[0], "line 1");
        p.key(Key::Char(' '));
        assert_eq!(p.screen().0[0], "line 11");
        assert_eq!(p.screen().1, ":");
        p.key(Key::Char('j'));
        p.key(Key::Down);
        assert_eq!(p.top, 12);
        p.key(Key::Char('k'));
        assert_eq!(p.top, 11);
        p.key(Key::Char('b'));
        assert_eq!(p.top, 1);
        p.key(Key::Char('G'));
        assert_eq!(p.top, 25);
        assert_eq!(p.screen().1, "f.txt (END)");
        p.key(Key::Char(' '));
        assert_eq!(p.top, 25);
        p.key(Key::Char('g'));
        assert_eq!(p.top, 0);
        assert_eq!(p.key(Key::Char('q')), Act::Quit);
        let mut short = pager(3);
        assert_eq!(short.screen().0, vec!["line 1", "line 2", "line 3", "~", "~", "~", "~", "~", "~", "~"]);
        short.key(Key::Char(' '));
        assert_eq!(short.top, 0);
    }

    #[test]
    fn searching() {
        let mut p = pager(35);
        for k in [Key::Char('/'), Key::Char('2'), Key::Char('0')] {
            p.key(k);
        }
        assert_eq!(p.screen().1, "/20");
        p.key(Key::Enter);
        assert_eq!(p.top, 19);
        p.key(Key::Char('/'));
        for c in "line 3".chars() {
            p.key(Key::Char(c));
        }
        p.key(Key::Enter);
        assert_eq!(p.top, 25); // "line 30" at row 29, clamped to the last screen
        p.key(Key::Char('N'));
        assert_eq!(p.top, 2);
        p.key(Key::Char('/'));
        for c in "nomatch".chars() {
            p.key(Key::Char(c));
        }
        p.key(Key::Enter);
        assert_eq!(p.screen().1, "Pattern not found");
        assert_eq!(p.key(Key::Char(':')), Act::Nothing);
        assert_eq!(p.key(Key::Char('n')), Act::NextFile);
        let re = Regex::new("b+", true, false).unwrap();
        assert_eq!(highlight("abbc", &re), format!("a{}bb{}c", term::REVERSE, term::NORMAL));
    }

    #[test]
    fn more_keys() {
        assert_eq!(more_step(Key::Char(' '), 0, 23, 100), Some(23));
        assert_eq!(more_step(Key::Enter, 23, 23, 100), Some(24));
        assert_eq!(more_step(Key::Char('b'), 10, 23, 100), Some(0));
        assert_eq!(more_step(Key::Char('q'), 10, 23, 100), None);
    }
}
