//! The interactive line editor, busybox `lineedit` style: the terminal is in raw mode while
//! a line is typed (`tty_mode(0, Raw)`), every key arrives as bytes and the editor echoes.
//! A pure state machine: bytes in, the screen output and the line out (`Editor::feed`).
//!
//! Screen model: the prompt's last line starts at column 0 of some row; a character at
//! index `i` of the line is at cell `plen + i`, that is row `(plen + i) / cols`, column
//! `(plen + i) % cols`. The cursor never rests in the terminal's "pending wrap" state: when
//! output ends exactly at the right margin the editor writes `\r\n` to go to the next row.

use std::fmt::Write as _;

/// A key, decoded from the bytes a terminal sends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Key {
    Char(char),
    Enter,
    Backspace,
    Delete,
    Tab,
    Left,
    Right,
    Up,
    Down,
    Home,
    End,
    WordLeft,
    WordRight,
    /// Ctrl and a letter (`Ctrl(b'a')` for Ctrl-A).
    Ctrl(u8),
    /// A sequence the editor does not use.
    Other,
}

#[derive(Default)]
enum KeyState {
    #[default]
    Ground,
    Esc,
    Csi,
    Ss3,
}

/// Bytes to keys: UTF-8, `ESC [ … final`, `ESC O x`, `ESC b`/`ESC f` (Alt-b, Alt-f).
#[derive(Default)]
pub struct Keys {
    state: KeyState,
    params: String,
    utf8: Vec<u8>,
}

impl Keys {
    pub fn feed(&mut self, b: u8) -> Option<Key> {
        match self.state {
            KeyState::Ground => {}
            KeyState::Esc => {
                self.state = KeyState::Ground;
                return match b {
                    b'[' => {
                        self.state = KeyState::Csi;
                        self.params.clear();
                        None
                    }
                    b'O' => {
                        self.state = KeyState::Ss3;
                        None
                    }
                    b'b' | b'B' => Some(Key::WordLeft),
                    b'f' | b'F' => Some(Key::WordRight),
                    0x1b => {
                        self.state = KeyState::Esc;
                        None
                    }
                    _ => Some(Key::Other),
                };
            }
            KeyState::Ss3 => {
                self.state = KeyState::Ground;
                return Some(match b {
                    b'A' => Key::Up,
                    b'B' => Key::Down,
                    b'C' => Key::Right,
                    b'D' => Key::Left,
                    b'H' => Key::Home,
                    b'F' => Key::End,
                    _ => Key::Other,
                });
            }
            KeyState::Csi => {
                if (0x20..0x40).contains(&b) {
                    if self.params.len() < 16 {
                        self.params.push(b as char);
                    }
                    return None;
                }
                self.state = KeyState::Ground;
                let p = self.params.as_str();
                let modified = p.ends_with(";5") || p.ends_with(";3");
                return Some(match (b, p) {
                    (b'A', _) => Key::Up,
                    (b'B', _) => Key::Down,
                    (b'C', _) if modified => Key::WordRight,
                    (b'D', _) if modified => Key::WordLeft,
                    (b'C', _) => Key::Right,
                    (b'D', _) => Key::Left,
                    (b'H', _) => Key::Home,
                    (b'F', _) => Key::End,
                    (b'~', "1" | "7") => Key::Home,
                    (b'~', "4" | "8") => Key::End,
                    (b'~', "3") => Key::Delete,
                    _ => Key::Other,
                });
            }
        }
        if !self.utf8.is_empty() || b >= 0x80 {
            self.utf8.push(b);
            match std::str::from_utf8(&self.utf8) {
                Ok(s) => {
                    let c = s.chars().next();
                    self.utf8.clear();
                    return c.map(Key::Char);
                }
                Err(e) if e.error_len().is_none() && self.utf8.len() < 4 => return None,
                Err(_) => {
                    self.utf8.clear();
                    return Some(Key::Other);
                }
            }
        }
        Some(match b {
            0x1b => {
                self.state = KeyState::Esc;
                return None;
            }
            b'\r' | b'\n' => Key::Enter,
            0x7f | 0x08 => Key::Backspace,
            b'\t' => Key::Tab,
            1..=26 => Key::Ctrl(b'a' + b - 1),
            0 | 28..=31 => Key::Other,
            _ => Key::Char(b as char),
        })
    }
}

/// Tab completion's source of names.
pub trait Complete {
    /// Completions of `word` (as typed, backslashes removed): whole words that replace it;
    /// a directory ends with `/`. `command`: the word is where a command name goes.
    fn complete(&self, word: &str, command: bool) -> Vec<String>;
}

/// What a key did to the line.
#[derive(Debug, PartialEq)]
pub enum Event {
    /// Enter: the line (without a newline).
    Line(String),
    /// Ctrl-C: the line is abandoned (`^C` was echoed).
    Interrupt,
    /// Ctrl-D on an empty line.
    Eof,
}

pub struct Editor {
    pub buf: Vec<char>,
    pub cursor: usize,
    prompt: String,
    plen: usize,
    cols: usize,
    /// The cursor's row, counted from the row where the prompt's last line starts.
    row: usize,
    keys: Keys,
    pub history: Vec<String>,
    pub max_history: usize,
    hpos: usize,
    saved: Vec<char>,
    last_tab: bool,
}

/// Characters a completed word gets a backslash before.
const SPECIAL: &str = " \t\n'\"\\$`&|;<>()*?[]#~=%!{}";

impl Default for Editor {
    fn default() -> Self {
        Editor::new()
    }
}

impl Editor {
    pub fn new() -> Editor {
        Editor {
            buf: Vec::new(),
            cursor: 0,
            prompt: String::new(),
            plen: 0,
            cols: 80,
            row: 0,
            keys: Keys::default(),
            history: Vec::new(),
            max_history: 255,
            hpos: 0,
            saved: Vec::new(),
            last_tab: false,
        }
    }

    /// Begin a line: print the prompt (`plen`: the width of its last line) on a terminal
    /// `cols` wide.
    pub fn start(&mut self, prompt: &str, plen: usize, cols: usize, out: &mut Vec<u8>) {
        self.buf.clear();
        self.cursor = 0;
        self.prompt = prompt.to_string();
        self.plen = plen;
        self.cols = cols.max(1);
        self.keys = Keys::default();
        self.hpos = self.history.len();
        self.saved.clear();
        self.last_tab = false;
        self.draw_prompt(out);
    }

    pub fn line(&self) -> String {
        self.buf.iter().collect()
    }

    /// Add a line to the history (not an empty one, nor the same as the last); true when added.
    pub fn remember(&mut self, line: &str) -> bool {
        if line.trim().is_empty() || self.history.last().is_some_and(|l| l == line) {
            return false;
        }
        self.history.push(line.to_string());
        if self.history.len() > self.max_history {
            let extra = self.history.len() - self.max_history;
            self.history.drain(..extra);
        }
        true
    }

    /// One byte typed; screen output is appended to `out`.
    pub fn feed(&mut self, b: u8, comp: &dyn Complete, out: &mut Vec<u8>) -> Option<Event> {
        let key = self.keys.feed(b)?;
        let ev = self.key(key, comp, out);
        self.last_tab = key == Key::Tab;
        ev
    }

    fn key(&mut self, key: Key, comp: &dyn Complete, out: &mut Vec<u8>) -> Option<Event> {
        let len = self.buf.len();
        match key {
            Key::Char(c) => self.insert(&[c], out),
            Key::Enter => {
                self.newline(out);
                return Some(Event::Line(self.line()));
            }
            Key::Ctrl(b'c') => {
                self.move_to(len, out);
                out.extend_from_slice(b"^C\r\n");
                return Some(Event::Interrupt);
            }
            Key::Ctrl(b'd') if len == 0 => return Some(Event::Eof),
            Key::Ctrl(b'd') | Key::Delete => {
                if self.cursor < len {
                    self.buf.remove(self.cursor);
                    self.refresh(out);
                }
            }
            Key::Backspace => {
                if self.cursor > 0 {
                    self.cursor -= 1;
                    self.buf.remove(self.cursor);
                    self.refresh(out);
                }
            }
            Key::Left | Key::Ctrl(b'b') => self.move_to(self.cursor.saturating_sub(1), out),
            Key::Right | Key::Ctrl(b'f') => self.move_to((self.cursor + 1).min(len), out),
            Key::Home | Key::Ctrl(b'a') => self.move_to(0, out),
            Key::End | Key::Ctrl(b'e') => self.move_to(len, out),
            Key::WordLeft => self.move_to(self.word_start(), out),
            Key::WordRight => {
                let mut i = self.cursor;
                while i < len && self.buf[i].is_whitespace() {
                    i += 1;
                }
                while i < len && !self.buf[i].is_whitespace() {
                    i += 1;
                }
                self.move_to(i, out);
            }
            Key::Ctrl(b'k') => {
                self.buf.truncate(self.cursor);
                self.refresh(out);
            }
            Key::Ctrl(b'u') => {
                self.buf.drain(..self.cursor);
                self.cursor = 0;
                self.refresh(out);
            }
            Key::Ctrl(b'w') => {
                let s = self.word_start();
                self.buf.drain(s..self.cursor);
                self.cursor = s;
                self.refresh(out);
            }
            Key::Ctrl(b'l') => {
                out.extend_from_slice(b"\x1b[H\x1b[J");
                self.draw_prompt(out);
                self.refresh(out);
            }
            Key::Up | Key::Ctrl(b'p') => {
                if self.hpos == 0 {
                    out.push(0x07);
                } else {
                    if self.hpos == self.history.len() {
                        self.saved = self.buf.clone();
                    }
                    self.hpos -= 1;
                    self.load(self.history[self.hpos].chars().collect(), out);
                }
            }
            Key::Down | Key::Ctrl(b'n') => {
                if self.hpos < self.history.len() {
                    self.hpos += 1;
                    let l = match self.history.get(self.hpos) {
                        Some(h) => h.chars().collect(),
                        None => std::mem::take(&mut self.saved),
                    };
                    self.load(l, out);
                }
            }
            Key::Tab => self.tab(comp, out),
            _ => {}
        }
        None
    }

    fn load(&mut self, line: Vec<char>, out: &mut Vec<u8>) {
        self.buf = line;
        self.cursor = self.buf.len();
        self.refresh(out);
    }

    /// Where the word before the cursor starts (after spaces, as Ctrl-W and Alt-b).
    fn word_start(&self) -> usize {
        let mut i = self.cursor;
        while i > 0 && self.buf[i - 1].is_whitespace() {
            i -= 1;
        }
        while i > 0 && !self.buf[i - 1].is_whitespace() {
            i -= 1;
        }
        i
    }

    fn pos(&self, idx: usize) -> (usize, usize) {
        let p = self.plen + idx;
        (p / self.cols, p % self.cols)
    }

    fn draw_prompt(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.prompt.replace('\n', "\r\n").as_bytes());
        if self.plen > 0 && self.plen % self.cols == 0 {
            out.extend_from_slice(b"\r\n");
        }
        self.row = self.pos(0).0;
    }

    fn insert(&mut self, cs: &[char], out: &mut Vec<u8>) {
        if self.cursor == self.buf.len() {
            self.buf.extend_from_slice(cs);
            self.cursor += cs.len();
            let mut s = String::new();
            s.extend(cs);
            out.extend_from_slice(s.as_bytes());
            let (r, c) = self.pos(self.cursor);
            if c == 0 {
                out.extend_from_slice(b"\r\n");
            }
            self.row = r;
        } else {
            self.buf.splice(self.cursor..self.cursor, cs.iter().copied());
            self.cursor += cs.len();
            self.refresh(out);
        }
    }

    /// Move the cursor to `idx` (the text is on the screen already).
    fn move_to(&mut self, idx: usize, out: &mut Vec<u8>) {
        let (r, c) = self.pos(idx);
        let mut s = String::new();
        if r < self.row {
            let _ = write!(s, "\x1b[{}A", self.row - r);
        } else if r > self.row {
            let _ = write!(s, "\x1b[{}B", r - self.row);
        }
        s.push('\r');
        if c > 0 {
            let _ = write!(s, "\x1b[{c}C");
        }
        out.extend_from_slice(s.as_bytes());
        self.row = r;
        self.cursor = idx;
    }

    /// Redraw the prompt's last line and the whole line, clear what was below, put the cursor back.
    fn refresh(&mut self, out: &mut Vec<u8>) {
        let mut s = String::new();
        if self.row > 0 {
            let _ = write!(s, "\x1b[{}A", self.row);
        }
        s.push('\r');
        s.push_str(self.prompt.rsplit('\n').next().unwrap_or(""));
        s.extend(self.buf.iter());
        let len = self.buf.len();
        let (end_row, end_col) = self.pos(len);
        if end_col == 0 && self.plen + len > 0 {
            s.push_str("\r\n");
        }
        s.push_str("\x1b[J");
        let (r, c) = self.pos(self.cursor);
        if end_row > r {
            let _ = write!(s, "\x1b[{}A", end_row - r);
        }
        s.push('\r');
        if c > 0 {
            let _ = write!(s, "\x1b[{c}C");
        }
        out.extend_from_slice(s.as_bytes());
        self.row = r;
    }

    /// Go past the end of the line to the start of a new row.
    fn newline(&mut self, out: &mut Vec<u8>) {
        let len = self.buf.len();
        self.move_to(len, out);
        let (_, c) = self.pos(len);
        out.extend_from_slice(if c == 0 && self.plen + len > 0 { b"\r" } else { b"\r\n" });
    }

    fn tab(&mut self, comp: &dyn Complete, out: &mut Vec<u8>) {
        let mut start = self.cursor;
        while start > 0 {
            let c = self.buf[start - 1];
            let escaped = start >= 2 && self.buf[start - 2] == '\\';
            if (c.is_whitespace() || ";|&<>()".contains(c)) && !escaped {
                break;
            }
            start -= 1;
        }
        let mut word = String::new();
        let mut esc = false;
        for &c in &self.buf[start..self.cursor] {
            if c == '\\' && !esc {
                esc = true;
                continue;
            }
            esc = false;
            word.push(c);
        }
        let mut j = start;
        while j > 0 && self.buf[j - 1].is_whitespace() {
            j -= 1;
        }
        let command = j == 0 || ";|&(".contains(self.buf[j - 1]);
        let cands = comp.complete(&word, command);
        if cands.is_empty() {
            out.push(0x07);
            return;
        }
        if cands.len() > 1 && self.last_tab {
            self.show(&cands, out);
            return;
        }
        let text = if cands.len() == 1 {
            let c = &cands[0];
            format!("{}{}", escape(c), if c.ends_with('/') { "" } else { " " })
        } else {
            let pre = common_prefix(&cands);
            if pre.chars().count() <= word.chars().count() {
                out.push(0x07);
                return;
            }
            escape(&pre)
        };
        let new: Vec<char> = text.chars().collect();
        self.buf.splice(start..self.cursor, new.iter().copied());
        self.cursor = start + new.len();
        self.refresh(out);
    }

    /// List completions in columns (a second Tab), then draw the prompt and line again.
    fn show(&mut self, cands: &[String], out: &mut Vec<u8>) {
        let names: Vec<String> = cands
            .iter()
            .map(|c| match c.strip_suffix('/') {
                Some(d) => format!("{}/", d.rsplit('/').next().unwrap_or(d)),
                None => c.rsplit('/').next().unwrap_or(c).to_string(),
            })
            .collect();
        self.newline(out);
        let w = names.iter().map(|n| n.chars().count()).max().unwrap_or(0) + 2;
        let ncols = (self.cols.saturating_sub(1) / w).max(1);
        let nrows = names.len().div_ceil(ncols);
        let mut s = String::new();
        for r in 0..nrows {
            let mut k = r;
            while k < names.len() {
                let last = k + nrows >= names.len();
                if last {
                    s.push_str(&names[k]);
                } else {
                    let _ = write!(s, "{:<w$}", names[k]);
                }
                k += nrows;
            }
            s.push_str("\r\n");
        }
        out.extend_from_slice(s.as_bytes());
        self.draw_prompt(out);
        self.refresh(out);
    }
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        // A leading ~ stays: it is the home directory.
        if SPECIAL.contains(c) && !(c == '~' && i == 0) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn common_prefix(v: &[String]) -> String {
    let mut pre: Vec<char> = v[0].chars().collect();
    for s in &v[1..] {
        let n = pre.iter().zip(s.chars()).take_while(|(a, b)| **a == *b).count();
        pre.truncate(n);
    }
    pre.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Names(Vec<&'static str>);

    impl Complete for Names {
        fn complete(&self, word: &str, command: bool) -> Vec<String> {
            self.0
                .iter()
                .filter(|n| n.starts_with(word) && (command || !n.starts_with("cmd:")))
                .map(|s| s.to_string())
                .collect()
        }
    }

    fn keys(bytes: &[u8]) -> Vec<Key> {
        let mut k = Keys::default();
        bytes.iter().filter_map(|&b| k.feed(b)).collect()
    }

    /// A fresh editor after the prompt `$ ` on a terminal `cols` wide, fed `input`.
    fn typed(cols: usize, input: &[u8]) -> (Editor, Vec<Event>, String) {
        let mut e = Editor::new();
        let mut out = Vec::new();
        e.start("$ ", 2, cols, &mut out);
        let (evs, out) = feed(&mut e, input);
        (e, evs, out)
    }

    fn feed(e: &mut Editor, input: &[u8]) -> (Vec<Event>, String) {
        let comp = Names(vec!["echo", "env", "exit", "/etc/", "/etc/passwd", "my file"]);
        let mut out = Vec::new();
        let evs = input.iter().filter_map(|&b| e.feed(b, &comp, &mut out)).collect();
        (evs, String::from_utf8(out).unwrap())
    }

    #[test]
    fn decoding() {
        use Key::*;
        assert_eq!(keys(b"a\r\n\x7f\x08\t"), vec![Char('a'), Enter, Enter, Backspace, Backspace, Tab]);
        assert_eq!(keys(b"\x1b[A\x1b[B\x1b[C\x1b[D"), vec![Up, Down, Right, Left]);
        assert_eq!(
            keys(b"\x1b[H\x1b[F\x1bOH\x1bOF\x1b[1~\x1b[4~\x1b[7~\x1b[8~"),
            vec![Home, End, Home, End, Home, End, Home, End]
        );
        assert_eq!(
            keys(b"\x1b[3~\x1bOA\x1b[1;5C\x1b[1;5D\x1bb\x1bf"),
            vec![Delete, Up, WordRight, WordLeft, WordLeft, WordRight]
        );
        assert_eq!(
            keys(b"\x01\x05\x03\x04\x15\x0b\x17\x0c"),
            vec![Ctrl(b'a'), Ctrl(b'e'), Ctrl(b'c'), Ctrl(b'd'), Ctrl(b'u'), Ctrl(b'k'), Ctrl(b'w'), Ctrl(b'l')]
        );
        assert_eq!(keys("é€x".as_bytes()), vec![Char('é'), Char('€'), Char('x')]);
        assert_eq!(keys(b"\x1b[5~\x1bx\x1b[200~"), vec![Other, Other, Other]);
    }

    #[test]
    fn typing_and_moving() {
        let (e, evs, out) = typed(80, b"echo hi");
        assert_eq!((e.line().as_str(), e.cursor, evs.len()), ("echo hi", 7, 0));
        assert_eq!(out, "echo hi");
        let (e, _, out) = typed(80, b"ac\x1b[Db");
        assert_eq!((e.line().as_str(), e.cursor), ("abc", 2));
        // Insert in the middle: redraw the line from the prompt, then put the cursor back.
        assert!(out.ends_with("\r$ abc\x1b[J\r\x1b[4C"), "{out:?}");
        let (e, _, _) = typed(80, b"abc\x01X\x05Y");
        assert_eq!((e.line().as_str(), e.cursor), ("XabcY", 5));
        let (e, _, _) = typed(80, b"abc\x1b[HX\x1b[FY\x1bOHZ\x1b[4~W");
        assert_eq!(e.line(), "ZXabcYW");
        let (e, _, _) = typed(80, b"abc\x02\x02\x06");
        assert_eq!(e.cursor, 2);
        let (e, _, _) = typed(80, b"one two  three\x1bb\x1bb");
        assert_eq!(e.cursor, 4);
        let (e, _, _) = typed(80, b"one two\x01\x1b[1;5C");
        assert_eq!(e.cursor, 3);
    }

    #[test]
    fn deleting() {
        let (e, _, _) = typed(80, b"abcd\x7f\x7f");
        assert_eq!((e.line().as_str(), e.cursor), ("ab", 2));
        let (e, _, _) = typed(80, b"abcd\x01\x1b[3~\x04");
        assert_eq!((e.line().as_str(), e.cursor), ("cd", 0));
        let (e, _, _) = typed(80, b"abcd\x1b[D\x1b[D\x0b");
        assert_eq!(e.line(), "ab");
        let (e, _, _) = typed(80, b"abcd\x1b[D\x15");
        assert_eq!((e.line().as_str(), e.cursor), ("d", 0));
        let (e, _, _) = typed(80, b"ls -l  /tmp \x17");
        assert_eq!(e.line(), "ls -l  ");
        let (e, _, _) = typed(80, b"ls -l  /tmp\x17\x17");
        assert_eq!(e.line(), "ls ");
        // Backspace at the start and Delete at the end do nothing.
        let (e, _, out) = typed(80, b"\x7fa\x1b[3~");
        assert_eq!((e.line().as_str(), out.as_str()), ("a", "a"));
    }

    #[test]
    fn ending_a_line() {
        let (_, evs, out) = typed(80, b"ls\r");
        assert_eq!(evs, vec![Event::Line("ls".into())]);
        assert!(out.ends_with("\r\n"), "{out:?}");
        let (_, evs, out) = typed(80, b"ab\x1b[D\x03");
        assert_eq!(evs, vec![Event::Interrupt]);
        assert!(out.ends_with("\r\x1b[4C^C\r\n"), "{out:?}");
        let (_, evs, _) = typed(80, b"\x04");
        assert_eq!(evs, vec![Event::Eof]);
        let (e, evs, _) = typed(80, b"x\x04");
        assert_eq!((evs.len(), e.line().as_str()), (0, "x"));
    }

    #[test]
    fn history() {
        let mut e = Editor::new();
        assert!(e.remember("ls"));
        assert!(!e.remember("ls"));
        assert!(!e.remember("  "));
        assert!(e.remember("pwd"));
        let mut out = Vec::new();
        e.start("$ ", 2, 80, &mut out);
        let (_, _) = feed(&mut e, b"ec");
        feed(&mut e, b"\x1b[A");
        assert_eq!(e.line(), "pwd");
        feed(&mut e, b"\x10");
        assert_eq!(e.line(), "ls");
        let (_, out) = feed(&mut e, b"\x1b[A");
        assert_eq!((e.line().as_str(), out.as_str()), ("ls", "\x07"));
        feed(&mut e, b"\x1b[B");
        assert_eq!(e.line(), "pwd");
        feed(&mut e, b"\x0e");
        assert_eq!((e.line().as_str(), e.cursor), ("ec", 2));
        feed(&mut e, b"\x1b[B");
        assert_eq!(e.line(), "ec");
        e.max_history = 2;
        e.remember("a");
        assert_eq!(e.history, vec!["pwd", "a"]);
    }

    #[test]
    fn completion() {
        let (e, _, _) = typed(80, b"ex\t");
        assert_eq!(e.line(), "exit ");
        // Several: the common prefix, then a bell, then the list on a second Tab.
        let (e, _, out) = typed(80, b"e\t");
        assert_eq!((e.line().as_str(), out.as_str()), ("e", "e\x07"));
        let (e, _, out) = typed(80, b"e\t\t");
        assert_eq!(e.line(), "e");
        assert!(out.contains("\r\necho  env   exit\r\n$ "), "{out:?}");
        let (e, _, _) = typed(80, b"cat /et\t");
        assert_eq!(e.line(), "cat /etc/");
        let (e, _, _) = typed(80, b"cat /etc/p\t");
        assert_eq!(e.line(), "cat /etc/passwd ");
        let (e, _, _) = typed(80, b"cat my\t");
        assert_eq!(e.line(), "cat my\\ file ");
        let (e, _, _) = typed(80, b"cat my\\ f\t");
        assert_eq!(e.line(), "cat my\\ file ");
        let (e, _, out) = typed(80, b"zz\t");
        assert_eq!((e.line().as_str(), out.as_str()), ("zz", "zz\x07"));
        // In the middle of a line: only the word before the cursor.
        let (e, _, _) = typed(80, b"ex | wc\x01\x1b[C\x1b[C\t");
        assert_eq!((e.line().as_str(), e.cursor), ("exit  | wc", 5));
    }

    #[test]
    fn long_lines() {
        // 10 columns, prompt "$ ": the 8th character fills the first row; the editor goes
        // to the next row itself so that the cursor is never left at the margin.
        let (e, _, out) = typed(10, b"abcdefgh");
        assert_eq!(out, "abcdefgh\r\n");
        assert_eq!((e.row, e.cursor), (1, 8));
        let (e, _, out) = typed(10, b"abcdefghij");
        assert_eq!(out, "abcdefgh\r\nij");
        assert_eq!(e.row, 1);
        // Home goes up a row; End comes back.
        let (mut e, _, _) = typed(10, b"abcdefghij");
        let (_, out) = feed(&mut e, b"\x01");
        assert_eq!((out.as_str(), e.row), ("\x1b[1A\r\x1b[2C", 0));
        let (_, out) = feed(&mut e, b"\x05");
        assert_eq!((out.as_str(), e.row), ("\x1b[1B\r\x1b[2C", 1));
        // Insert at the start: redraw from the prompt's row, cursor back on the first row.
        let (_, out) = feed(&mut e, b"\x01X");
        assert_eq!(out, "\x1b[1A\r\x1b[2C\r$ Xabcdefghij\x1b[J\x1b[1A\r\x1b[3C");
        assert_eq!((e.row, e.cursor), (0, 1));
        // Deleting back to one row clears the row below.
        let (_, out) = feed(&mut e, b"\x0b");
        assert_eq!(out, "\r$ X\x1b[J\r\x1b[3C");
        // Enter at the end of a line that ends at the margin: the new row is already there.
        let (mut e, _, _) = typed(10, b"abcdefgh");
        let (evs, out) = feed(&mut e, b"\r");
        assert_eq!((evs, out.as_str()), (vec![Event::Line("abcdefgh".into())], "\r\r"));
        // A redraw of a line ending at the margin goes on to the next row before clearing.
        let (mut e, _, _) = typed(10, b"abcdefh");
        let (_, out) = feed(&mut e, b"\x01X");
        assert!(out.ends_with("\r$ Xabcdefh\r\n\x1b[J\x1b[1A\r\x1b[3C"), "{out:?}");
        assert_eq!((e.row, e.cursor), (0, 1));
        let (_, out) = feed(&mut e, b"\x05");
        assert_eq!((out.as_str(), e.row), ("\x1b[1B\r", 1));
    }

    #[test]
    fn multiline_prompt_and_clear() {
        let mut e = Editor::new();
        let mut out = Vec::new();
        e.start("/tmp\n$ ", 2, 80, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "/tmp\r\n$ ");
        let (_, out) = feed(&mut e, b"ab\x01X");
        assert!(out.ends_with("\r$ Xab\x1b[J\r\x1b[3C"), "{out:?}");
        let (_, out) = feed(&mut e, b"\x0c");
        assert_eq!(out, "\x1b[H\x1b[J/tmp\r\n$ \r$ Xab\x1b[J\r\x1b[3C");
    }
}
