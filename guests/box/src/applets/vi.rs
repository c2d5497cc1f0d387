//! `vi`: a small real one. Normal, insert and command-line modes; `h j k l`, arrows, `w b`,
//! `0 ^ $`, `gg G NG`, Ctrl-F/B/D/U; `i a I A o O C`, `x X dd dw d$ yy p P D J r ~ u`; counts
//! (`3dd`, `5j`); `/pattern ?pattern n N`; `:w [file] :q :q! :wq :x ZZ :N :$ :e!`. The editor
//! is a pure state machine (keys in, screen out); the applet adds the terminal (raw mode and
//! size from the host's `tty_mode`/`tty_size`).

use crate::err;
use crate::regex::Regex;
use crate::term::{self, Key};
use crate::util;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Insert,
    /// `:` or `/`/`?` line being typed.
    Cmdline(char, String),
}

#[derive(Debug, Clone)]
struct Yank {
    lines: Vec<Vec<char>>,
    /// Whole lines (`yy`, `dd`) or characters (`x`).
    linewise: bool,
}

pub struct Editor {
    pub lines: Vec<Vec<char>>,
    pub cy: usize,
    pub cx: usize,
    pub top: usize,
    pub left: usize,
    pub rows: usize,
    pub cols: usize,
    pub mode: Mode,
    pub file: Option<String>,
    pub dirty: bool,
    pub msg: String,
    pub quit: bool,
    yank: Option<Yank>,
    pending: String,
    count: String,
    search: Option<(String, bool)>,
    undo: Option<(Vec<Vec<char>>, usize, usize)>,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn class(c: char) -> u8 {
    if c.is_whitespace() {
        0
    } else if is_word(c) {
        1
    } else {
        2
    }
}

impl Editor {
    /// An editor on `text` (a file's contents) for a `rows` x `cols` terminal.
    pub fn new(text: &str, file: Option<&str>, rows: usize, cols: usize) -> Editor {
        let mut lines: Vec<Vec<char>> = text.split('\n').map(|l| l.chars().collect()).collect();
        if text.ends_with('\n') {
            lines.pop();
        }
        if lines.is_empty() {
            lines.push(Vec::new());
        }
        Editor {
            lines,
            cy: 0,
            cx: 0,
            top: 0,
            left: 0,
            rows: rows.max(2),
            cols: cols.max(10),
            mode: Mode::Normal,
            file: file.map(String::from),
            dirty: false,
            msg: String::new(),
            quit: false,
            yank: None,
            pending: String::new(),
            count: String::new(),
            search: None,
            undo: None,
        }
    }

    /// The buffer as file text (every line ends with a newline).
    pub fn text(&self) -> String {
        let mut s = String::new();
        for l in &self.lines {
            s.extend(l);
            s.push('\n');
        }
        s
    }

    fn text_rows(&self) -> usize {
        self.rows - 1
    }

    fn line_len(&self) -> usize {
        self.lines[self.cy].len()
    }

    /// Keep the cursor on a character (normal mode) or after the last one (insert mode).
    fn clamp(&mut self) {
        self.cy = self.cy.min(self.lines.len() - 1);
        let len = self.line_len();
        let max = if self.mode == Mode::Insert { len } else { len.saturating_sub(1) };
        self.cx = self.cx.min(max);
    }

    fn snapshot(&mut self) {
        self.undo = Some((self.lines.clone(), self.cy, self.cx));
    }

    fn changed(&mut self) {
        self.dirty = true;
    }

    fn first_nonblank(&self, y: usize) -> usize {
        self.lines[y].iter().position(|c| !c.is_whitespace()).unwrap_or(0)
    }

    fn word_forward(&mut self) {
        let (mut y, mut x) = (self.cy, self.cx);
        let line = &self.lines[y];
        if x < line.len() {
            let c = class(line[x]);
            while x < line.len() && class(line[x]) == c && c != 0 {
                x += 1;
            }
        }
        loop {
            let line = &self.lines[y];
            while x < line.len() && class(line[x]) == 0 {
                x += 1;
            }
            if x < line.len() || y + 1 >= self.lines.len() {
                break;
            }
            y += 1;
            x = 0;
            if self.lines[y].is_empty() {
                break;
            }
        }
        self.cy = y;
        self.cx = x;
    }

    fn word_back(&mut self) {
        let (mut y, mut x) = (self.cy, self.cx);
        loop {
            if x == 0 {
                if y == 0 {
                    break;
                }
                y -= 1;
                x = self.lines[y].len();
                if x == 0 {
                    break;
                }
                continue;
            }
            let line = &self.lines[y];
            while x > 0 && class(line[x - 1]) == 0 {
                x -= 1;
            }
            if x == 0 {
                continue;
            }
            let c = class(line[x - 1]);
            while x > 0 && class(line[x - 1]) == c {
                x -= 1;
            }
            break;
        }
        self.cy = y;
        self.cx = x;
    }

    fn find(&mut self, forward: bool) {
        let Some((pat, dir)) = self.search.clone() else {
            self.msg = "No previous regular expression".into();
            return;
        };
        let fwd = forward == dir;
        let re = match Regex::new(&pat, false, false) {
            Ok(r) => r,
            Err(e) => {
                self.msg = e;
                return;
            }
        };
        let n = self.lines.len();
        // Search from the cursor, wrapping around the end.
        for step in 0..=n {
            let y = if fwd { (self.cy + step) % n } else { (self.cy + n - step % n) % n };
            let line = &self.lines[y];
            let hits: Vec<usize> = {
                let mut v = Vec::new();
                let mut i = 0;
                while i <= line.len() {
                    match re.find_at(line, i) {
                        Some(c) => {
                            let a = c[0].unwrap();
                            v.push(a);
                            i = a + 1;
                        }
                        None => break,
                    }
                }
                v
            };
            let pick = if step == 0 {
                if fwd {
                    hits.into_iter().find(|&a| a > self.cx)
                } else {
                    hits.into_iter().rev().find(|&a| a < self.cx)
                }
            } else if step == n {
                // back at the start line: matches on the other side of the cursor
                if fwd {
                    hits.into_iter().find(|&a| a <= self.cx)
                } else {
                    hits.into_iter().rev().find(|&a| a >= self.cx)
                }
            } else if fwd {
                hits.into_iter().next()
            } else {
                hits.into_iter().last()
            };
            if let Some(x) = pick {
                if (fwd && y < self.cy) || (!fwd && y > self.cy) {
                    self.msg = "search hit BOTTOM, continuing at TOP".into();
                }
                self.cy = y;
                self.cx = x;
                return;
            }
        }
        self.msg = format!("Pattern not found: {pat}");
    }

    fn take_count(&mut self) -> usize {
        let n = self.count.parse().unwrap_or(1);
        self.count.clear();
        n
    }

    fn scroll_into_view(&mut self) {
        let h = self.text_rows();
        if self.cy < self.top {
            self.top = self.cy;
        } else if self.cy >= self.top + h {
            self.top = self.cy + 1 - h;
        }
        let x = self.display_x();
        if x < self.left {
            self.left = x;
        } else if x >= self.left + self.cols {
            self.left = x + 1 - self.cols;
        }
    }

    /// The cursor's screen column in its line (tabs are 8 wide).
    fn display_x(&self) -> usize {
        let mut col = 0;
        for &c in self.lines[self.cy].iter().take(self.cx) {
            col += if c == '\t' { 8 - col % 8 } else { 1 };
        }
        col
    }

    pub fn key(&mut self, k: Key) {
        match self.mode.clone() {
            Mode::Insert => self.insert_key(k),
            Mode::Cmdline(kind, text) => self.cmdline_key(kind, text, k),
            Mode::Normal => self.normal_key(k),
        }
        if !self.quit {
            self.clamp();
            self.scroll_into_view();
        }
    }

    fn insert_key(&mut self, k: Key) {
        match k {
            Key::Esc | Key::Ctrl('c') => {
                self.mode = Mode::Normal;
                self.cx = self.cx.saturating_sub(1);
            }
            Key::Enter => {
                let rest = self.lines[self.cy].split_off(self.cx);
                self.lines.insert(self.cy + 1, rest);
                self.cy += 1;
                self.cx = 0;
                self.changed();
            }
            Key::Backspace => {
                if self.cx > 0 {
                    self.lines[self.cy].remove(self.cx - 1);
                    self.cx -= 1;
                    self.changed();
                } else if self.cy > 0 {
                    let line = self.lines.remove(self.cy);
                    self.cy -= 1;
                    self.cx = self.lines[self.cy].len();
                    self.lines[self.cy].extend(line);
                    self.changed();
                }
            }
            Key::Tab => {
                self.lines[self.cy].insert(self.cx, '\t');
                self.cx += 1;
                self.changed();
            }
            Key::Char(c) => {
                self.lines[self.cy].insert(self.cx, c);
                self.cx += 1;
                self.changed();
            }
            Key::Delete => {
                if self.cx < self.line_len() {
                    self.lines[self.cy].remove(self.cx);
                    self.changed();
                }
            }
            other => {
                self.motion(other, 1);
            }
        }
    }

    fn cmdline_key(&mut self, kind: char, mut text: String, k: Key) {
        match k {
            Key::Esc | Key::Ctrl('c') => self.mode = Mode::Normal,
            Key::Backspace => {
                if text.pop().is_none() {
                    self.mode = Mode::Normal;
                } else {
                    self.mode = Mode::Cmdline(kind, text);
                }
            }
            Key::Enter => {
                self.mode = Mode::Normal;
                if kind == ':' {
                    self.ex(text.trim());
                } else {
                    if !text.is_empty() {
                        self.search = Some((text, kind == '/'));
                    } else if let Some((p, _)) = self.search.take() {
                        self.search = Some((p, kind == '/'));
                    }
                    self.find(true);
                }
            }
            Key::Char(c) => {
                text.push(c);
                self.mode = Mode::Cmdline(kind, text);
            }
            Key::Tab => {
                text.push('\t');
                self.mode = Mode::Cmdline(kind, text);
            }
            _ => self.mode = Mode::Cmdline(kind, text),
        }
    }

    /// Write the buffer to `path` (the file's name when None).
    fn write(&mut self, path: Option<&str>) -> bool {
        let Some(p) = path.map(String::from).or_else(|| self.file.clone()) else {
            self.msg = "No current filename".into();
            return false;
        };
        let text = self.text();
        match std::fs::write(&p, &text) {
            Ok(()) => {
                if self.file.is_none() {
                    self.file = Some(p.clone());
                }
                if Some(&p) == self.file.as_ref() {
                    self.dirty = false;
                }
                self.msg = format!("\"{p}\" {}L, {}C written", self.lines.len(), text.chars().count());
                true
            }
            Err(e) => {
                self.msg = format!("\"{p}\" {}", util::errstr(&e));
                false
            }
        }
    }

    /// Run an ex command line.
    pub fn ex(&mut self, cmd: &str) {
        if cmd.is_empty() {
            return;
        }
        if let Ok(n) = cmd.parse::<usize>() {
            self.cy = n.max(1).min(self.lines.len()) - 1;
            self.cx = self.first_nonblank(self.cy);
            return;
        }
        if cmd == "$" {
            self.cy = self.lines.len() - 1;
            return;
        }
        let (name, arg) = match cmd.find(' ') {
            Some(i) => (&cmd[..i], Some(cmd[i + 1..].trim()).filter(|a| !a.is_empty())),
            None => (cmd, None),
        };
        match name {
            "w" | "w!" => {
                self.write(arg);
            }
            "q" => {
                if self.dirty {
                    self.msg = "No write since last change (:q! overrides)".into();
                } else {
                    self.quit = true;
                }
            }
            "q!" => self.quit = true,
            "wq" | "wq!" => {
                if self.write(arg) {
                    self.quit = true;
                }
            }
            "x" | "x!" => {
                if !self.dirty || self.write(arg) {
                    self.quit = true;
                }
            }
            "e!" => {
                if let Some(f) = self.file.clone() {
                    let text = std::fs::read_to_string(&f).unwrap_or_default();
                    let e = Editor::new(&text, Some(&f), self.rows, self.cols);
                    self.lines = e.lines;
                    self.dirty = false;
                    self.cy = self.cy.min(self.lines.len() - 1);
                }
            }
            _ => self.msg = format!("Not an editor command: {cmd}"),
        }
    }

    /// Cursor motions shared by normal and insert mode.
    fn motion(&mut self, k: Key, n: usize) -> bool {
        let page = self.text_rows().saturating_sub(2).max(1);
        match k {
            Key::Char('h') | Key::Left | Key::Backspace => self.cx = self.cx.saturating_sub(n),
            Key::Char('l') | Key::Right | Key::Char(' ') => self.cx += n,
            Key::Char('j') | Key::Down | Key::Ctrl('n') | Key::Ctrl('j') => {
                self.cy = (self.cy + n).min(self.lines.len() - 1)
            }
            Key::Char('k') | Key::Up | Key::Ctrl('p') => self.cy = self.cy.saturating_sub(n),
            Key::Char('0') | Key::Home => self.cx = 0,
            Key::Char('^') => self.cx = self.first_nonblank(self.cy),
            Key::Char('$') | Key::End => self.cx = usize::MAX / 2,
            Key::Char('w') => (0..n).for_each(|_| self.word_forward()),
            Key::Char('b') => (0..n).for_each(|_| self.word_back()),
            Key::Char('+') | Key::Enter => {
                self.cy = (self.cy + n).min(self.lines.len() - 1);
                self.cx = self.first_nonblank(self.cy);
            }
            Key::Char('-') => {
                self.cy = self.cy.saturating_sub(n);
                self.cx = self.first_nonblank(self.cy);
            }
            Key::Ctrl('f') | Key::PageDown => {
                self.top = (self.top + page * n).min(self.lines.len().saturating_sub(1));
                self.cy = self.top;
            }
            Key::Ctrl('b') | Key::PageUp => {
                self.top = self.top.saturating_sub(page * n);
                self.cy = (self.top + self.text_rows() - 1).min(self.lines.len() - 1);
            }
            Key::Ctrl('d') => self.cy = (self.cy + self.text_rows() / 2).min(self.lines.len() - 1),
            Key::Ctrl('u') => self.cy = self.cy.saturating_sub(self.text_rows() / 2),
            _ => return false,
        }
        true
    }

    fn normal_key(&mut self, k: Key) {
        self.msg.clear();
        if let Key::Char(c) = k {
            if c.is_ascii_digit() && (c != '0' || !self.count.is_empty()) && self.pending.is_empty() {
                self.count.push(c);
                return;
            }
        }
        if !self.pending.is_empty() {
            let p = std::mem::take(&mut self.pending);
            let n = self.take_count();
            match (p.as_str(), k) {
                ("d", Key::Char('d')) => {
                    self.snapshot();
                    let end = (self.cy + n).min(self.lines.len());
                    let cut: Vec<Vec<char>> = self.lines.drain(self.cy..end).collect();
                    self.yank = Some(Yank { lines: cut, linewise: true });
                    if self.lines.is_empty() {
                        self.lines.push(Vec::new());
                    }
                    self.cy = self.cy.min(self.lines.len() - 1);
                    self.cx = self.first_nonblank(self.cy);
                    self.changed();
                }
                ("d", Key::Char('w')) => {
                    self.snapshot();
                    let (y, x) = (self.cy, self.cx);
                    for _ in 0..n {
                        self.word_forward();
                    }
                    let end = if self.cy == y { self.cx } else { self.lines[y].len() };
                    self.cy = y;
                    self.cx = x;
                    let cut: Vec<char> = self.lines[y].drain(x..end.max(x)).collect();
                    self.yank = Some(Yank { lines: vec![cut], linewise: false });
                    self.changed();
                }
                ("d", Key::Char('$')) => {
                    self.snapshot();
                    let cut: Vec<char> = self.lines[self.cy].drain(self.cx..).collect();
                    self.yank = Some(Yank { lines: vec![cut], linewise: false });
                    self.changed();
                }
                ("y", Key::Char('y')) => {
                    let end = (self.cy + n).min(self.lines.len());
                    self.yank = Some(Yank { lines: self.lines[self.cy..end].to_vec(), linewise: true });
                    if end - self.cy > 1 {
                        self.msg = format!("{} lines yanked", end - self.cy);
                    }
                }
                ("g", Key::Char('g')) => {
                    self.cy = 0;
                    self.cx = self.first_nonblank(0);
                }
                ("Z", Key::Char('Z')) => self.ex("x"),
                ("r", Key::Char(c)) => {
                    if self.cx < self.line_len() {
                        self.snapshot();
                        self.lines[self.cy][self.cx] = c;
                        self.changed();
                    }
                }
                _ => {}
            }
            return;
        }
        let has_count = !self.count.is_empty();
        let n = self.take_count();
        match k {
            Key::Char(c @ ('d' | 'y' | 'g' | 'Z' | 'r')) => {
                if has_count {
                    self.count = n.to_string();
                }
                self.pending.push(c);
            }
            Key::Char('i') | Key::Insert => {
                self.snapshot();
                self.mode = Mode::Insert;
            }
            Key::Char('a') => {
                self.snapshot();
                self.mode = Mode::Insert;
                if self.line_len() > 0 {
                    self.cx += 1;
                }
            }
            Key::Char('I') => {
                self.snapshot();
                self.mode = Mode::Insert;
                self.cx = self.first_nonblank(self.cy);
            }
            Key::Char('A') => {
                self.snapshot();
                self.mode = Mode::Insert;
                self.cx = self.line_len();
            }
            Key::Char('o') | Key::Char('O') => {
                self.snapshot();
                let at = if k == Key::Char('o') { self.cy + 1 } else { self.cy };
                self.lines.insert(at, Vec::new());
                self.cy = at;
                self.cx = 0;
                self.mode = Mode::Insert;
                self.changed();
            }
            Key::Char('x') | Key::Delete => {
                if self.line_len() > 0 {
                    self.snapshot();
                    let end = (self.cx + n).min(self.line_len());
                    let cut: Vec<char> = self.lines[self.cy].drain(self.cx..end).collect();
                    self.yank = Some(Yank { lines: vec![cut], linewise: false });
                    self.changed();
                }
            }
            Key::Char('X') => {
                if self.cx > 0 {
                    self.snapshot();
                    let st = self.cx.saturating_sub(n);
                    let cut: Vec<char> = self.lines[self.cy].drain(st..self.cx).collect();
                    self.cx = st;
                    self.yank = Some(Yank { lines: vec![cut], linewise: false });
                    self.changed();
                }
            }
            Key::Char('D') => {
                self.snapshot();
                let from = self.cx.min(self.line_len());
                let cut: Vec<char> = self.lines[self.cy].drain(from..).collect();
                self.yank = Some(Yank { lines: vec![cut], linewise: false });
                self.changed();
            }
            Key::Char('C') => {
                self.snapshot();
                self.lines[self.cy].truncate(self.cx);
                self.mode = Mode::Insert;
                self.changed();
            }
            Key::Char('J') => {
                if self.cy + 1 < self.lines.len() {
                    self.snapshot();
                    let next = self.lines.remove(self.cy + 1);
                    let next: Vec<char> = next.into_iter().skip_while(|c| c.is_whitespace()).collect();
                    let line = &mut self.lines[self.cy];
                    while line.last().is_some_and(|c| c.is_whitespace()) {
                        line.pop();
                    }
                    self.cx = line.len();
                    if !next.is_empty() && !line.is_empty() {
                        line.push(' ');
                    }
                    line.extend(next);
                    self.changed();
                }
            }
            Key::Char('~') => {
                if self.cx < self.line_len() {
                    self.snapshot();
                    let c = self.lines[self.cy][self.cx];
                    let t = if c.is_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() };
                    self.lines[self.cy][self.cx] = t;
                    self.cx += 1;
                    self.changed();
                }
            }
            Key::Char('p') | Key::Char('P') => {
                let Some(y) = self.yank.clone() else { return };
                self.snapshot();
                for _ in 0..n {
                    if y.linewise {
                        let at = if k == Key::Char('p') { self.cy + 1 } else { self.cy };
                        for (i, l) in y.lines.iter().enumerate() {
                            self.lines.insert(at + i, l.clone());
                        }
                        self.cy = at;
                        self.cx = self.first_nonblank(at);
                    } else {
                        let at = if k == Key::Char('p') && self.line_len() > 0 { self.cx + 1 } else { self.cx };
                        let at = at.min(self.line_len());
                        let text = &y.lines[0];
                        for (i, &c) in text.iter().enumerate() {
                            self.lines[self.cy].insert(at + i, c);
                        }
                        self.cx = at + text.len().saturating_sub(1);
                    }
                }
                self.changed();
            }
            Key::Char('u') => match self.undo.take() {
                Some((lines, y, x)) => {
                    self.undo = Some((std::mem::replace(&mut self.lines, lines), self.cy, self.cx));
                    self.cy = y;
                    self.cx = x;
                    self.dirty = true;
                }
                None => self.msg = "Already at oldest change".into(),
            },
            Key::Char('G') => {
                self.cy = if has_count { n.max(1).min(self.lines.len()) - 1 } else { self.lines.len() - 1 };
                self.cx = self.first_nonblank(self.cy);
            }
            Key::Char(':') => self.mode = Mode::Cmdline(':', String::new()),
            Key::Char('/') => self.mode = Mode::Cmdline('/', String::new()),
            Key::Char('?') => self.mode = Mode::Cmdline('?', String::new()),
            Key::Char('n') => self.find(true),
            Key::Char('N') => self.find(false),
            Key::Ctrl('g') => {
                let name = self.file.clone().unwrap_or_else(|| "[No Name]".into());
                self.msg = format!(
                    "\"{name}\"{} line {} of {} --{}%--",
                    if self.dirty { " [Modified]" } else { "" },
                    self.cy + 1,
                    self.lines.len(),
                    (self.cy + 1) * 100 / self.lines.len()
                );
            }
            Key::Esc => {}
            other => {
                self.motion(other, n);
            }
        }
    }

    /// The screen: text rows (`~` past the end), the status line, and the cursor position.
    pub fn screen(&self) -> (Vec<String>, String, (usize, usize)) {
        let mut rows = Vec::new();
        for y in self.top..self.top + self.text_rows() {
            match self.lines.get(y) {
                Some(l) => {
                    let mut d = String::new();
                    let mut col = 0;
                    for &c in l {
                        if c == '\t' {
                            let n = 8 - col % 8;
                            d.push_str(&" ".repeat(n));
                            col += n;
                        } else if (c as u32) < 32 {
                            d.push('^');
                            d.push((c as u8 + b'@') as char);
                            col += 2;
                        } else {
                            d.push(c);
                            col += 1;
                        }
                    }
                    let vis: String = d.chars().skip(self.left).take(self.cols).collect();
                    rows.push(vis);
                }
                None => rows.push("~".into()),
            }
        }
        let status = match &self.mode {
            Mode::Cmdline(k, t) => format!("{k}{t}"),
            _ if !self.msg.is_empty() => self.msg.clone(),
            Mode::Insert => "-- INSERT --".into(),
            Mode::Normal => {
                let name = self.file.clone().unwrap_or_else(|| "[No Name]".into());
                format!("\"{name}\"{} {}L", if self.dirty { " [Modified]" } else { "" }, self.lines.len())
            }
        };
        let pos = format!("{},{}", self.cy + 1, self.cx + 1);
        let status = if matches!(self.mode, Mode::Cmdline(..)) {
            status
        } else {
            let room = self.cols.saturating_sub(pos.len() + 2);
            format!("{:<room$}  {pos}", term::fit(&status, room))
        };
        let cursor = match &self.mode {
            Mode::Cmdline(_, t) => (self.rows - 1, 1 + t.chars().count()),
            _ => (self.cy - self.top, self.display_x() - self.left),
        };
        (rows, status, cursor)
    }

    /// The whole screen as terminal output.
    pub fn draw(&self) -> String {
        let (rows, status, (cy, cx)) = self.screen();
        let mut s = String::from(term::HIDE_CURSOR);
        s.push_str("\x1b[H");
        for r in &rows {
            s.push_str(r);
            s.push_str(term::CLEAR_LINE);
            s.push_str("\r\n");
        }
        s.push_str(term::fit(&status, self.cols.saturating_sub(1)));
        s.push_str(term::CLEAR_LINE);
        s.push_str(&term::goto(cy, cx));
        s.push_str(term::SHOW_CURSOR);
        s
    }
}

/// `vi [FILE]`
pub fn vi(args: &[String]) -> i32 {
    let o = match util::getopt(args, "Rc:") {
        Ok(o) => o,
        Err(c) => return c,
    };
    if o.args.len() > 1 {
        err!("only one file at a time");
        return 1;
    }
    if !term::stdin_is_tty() || !term::stdout_is_tty() {
        err!("standard input and output must be a terminal");
        return 1;
    }
    let file = o.args.first().cloned();
    let text = match &file {
        Some(f) => match std::fs::read(f) {
            Ok(d) => String::from_utf8_lossy(&d).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                err!("{f}: {}", util::errstr(&e));
                return 1;
            }
        },
        None => String::new(),
    };
    let raw = match term::Raw::enter() {
        Ok(r) => r,
        Err(e) => {
            err!("can't use the terminal: {}", term::raw_error(&e));
            return 1;
        }
    };
    let (rows, cols) = term::size();
    let mut ed = Editor::new(&text, file.as_deref(), rows, cols);
    if let Some(f) = &file {
        ed.msg = if std::fs::metadata(f).is_ok() {
            format!("\"{f}\" {}L, {}C", ed.lines.len(), text.chars().count())
        } else {
            format!("\"{f}\" [New file]")
        };
    }
    if let Some(c) = o.val('c') {
        ed.ex(c.trim_start_matches(':'));
    }
    term::put(term::ALT_SCREEN);
    let mut keys = term::Keys::new();
    while !ed.quit {
        let (r, c) = term::size();
        if (r, c) != (ed.rows, ed.cols) {
            ed.rows = r.max(2);
            ed.cols = c.max(10);
            ed.scroll_into_view();
        }
        term::put(&ed.draw());
        match keys.next() {
            Some(k) => ed.key(k),
            None => break,
        }
    }
    term::put(&format!("{}{}", term::CLEAR, term::MAIN_SCREEN));
    drop(raw);
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testutil::tempdir;

    fn keys(ed: &mut Editor, s: &str) {
        for c in s.chars() {
            let k = match c {
                '\x1b' => Key::Esc,
                '\n' => Key::Enter,
                '\x08' => Key::Backspace,
                c => Key::Char(c),
            };
            ed.key(k);
        }
    }

    fn ed(text: &str) -> Editor {
        Editor::new(text, None, 10, 40)
    }

    #[test]
    fn motions() {
        let mut e = ed("hello world\n  second line\nthird\n");
        keys(&mut e, "l");
        assert_eq!((e.cy, e.cx), (0, 1));
        keys(&mut e, "$");
        assert_eq!(e.cx, 10);
        keys(&mut e, "j");
        assert_eq!((e.cy, e.cx), (1, 10));
        keys(&mut e, "0");
        assert_eq!(e.cx, 0);
        keys(&mut e, "^");
        assert_eq!(e.cx, 2);
        keys(&mut e, "G");
        assert_eq!(e.cy, 2);
        keys(&mut e, "gg");
        assert_eq!(e.cy, 0);
        keys(&mut e, "w");
        assert_eq!(e.cx, 6);
        keys(&mut e, "w");
        assert_eq!((e.cy, e.cx), (1, 2));
        keys(&mut e, "b");
        assert_eq!((e.cy, e.cx), (0, 6));
        keys(&mut e, "2G");
        assert_eq!(e.cy, 1);
        keys(&mut e, "k");
        e.key(Key::Down);
        e.key(Key::Down);
        assert_eq!(e.cy, 2);
        e.key(Key::Up);
        assert_eq!(e.cy, 1);
        keys(&mut e, "5j");
        assert_eq!(e.cy, 2);
        keys(&mut e, "h");
        assert_eq!(e.cx, 1);
    }

    #[test]
    fn editing() {
        let mut e = ed("abc\ndef\n");
        keys(&mut e, "iX\x1b");
        assert_eq!(e.text(), "Xabc\ndef\n");
        assert_eq!(e.cx, 0);
        keys(&mut e, "aY\x1b");
        assert_eq!(e.text(), "XYabc\ndef\n");
        keys(&mut e, "A!\x1b");
        assert_eq!(e.text(), "XYabc!\ndef\n");
        keys(&mut e, "I>\x1b");
        assert_eq!(e.text(), ">XYabc!\ndef\n");
        keys(&mut e, "onew\x1b");
        assert_eq!(e.text(), ">XYabc!\nnew\ndef\n");
        keys(&mut e, "Otop\x1b");
        assert_eq!(e.text(), ">XYabc!\ntop\nnew\ndef\n");
        keys(&mut e, "0x");
        assert_eq!(e.text(), ">XYabc!\nop\nnew\ndef\n");
        keys(&mut e, "dd");
        assert_eq!(e.text(), ">XYabc!\nnew\ndef\n");
        keys(&mut e, "p");
        assert_eq!(e.text(), ">XYabc!\nnew\nop\ndef\n");
        keys(&mut e, "ggyyGp");
        assert_eq!(e.text(), ">XYabc!\nnew\nop\ndef\n>XYabc!\n");
        keys(&mut e, "gg2dd");
        assert_eq!(e.text(), "op\ndef\n>XYabc!\n");
        keys(&mut e, "u");
        assert_eq!(e.text(), ">XYabc!\nnew\nop\ndef\n>XYabc!\n");
        keys(&mut e, "Gdd");
        keys(&mut e, "ggJ");
        assert_eq!(e.text(), ">XYabc! new\nop\ndef\n");
        keys(&mut e, "0ra");
        assert_eq!(e.text(), "aXYabc! new\nop\ndef\n");
        keys(&mut e, "jA\nz\x1b");
        assert_eq!(e.text(), "aXYabc! new\nop\nz\ndef\n");
        keys(&mut e, "iq\x08\x08\x1b");
        assert_eq!(e.text(), "aXYabc! new\nopz\ndef\n");
        keys(&mut e, "ggdw");
        assert_eq!(e.text(), "! new\nopz\ndef\n");
        keys(&mut e, "jD");
        assert_eq!(e.text(), "! new\n\ndef\n");
        assert!(e.dirty);
        let mut e = ed("");
        keys(&mut e, "ihi\x1bdd");
        assert_eq!(e.text(), "\n");
        keys(&mut e, "x");
        assert_eq!(e.text(), "\n");
    }

    #[test]
    fn search_and_commands() {
        let d = tempdir();
        let f = format!("{d}/f.txt");
        let mut e = Editor::new("one\ntwo\nthree\ntwo again\n", Some(&f), 10, 40);
        keys(&mut e, "/two\n");
        assert_eq!((e.cy, e.cx), (1, 0));
        keys(&mut e, "n");
        assert_eq!((e.cy, e.cx), (3, 0));
        keys(&mut e, "n");
        assert_eq!(e.cy, 1);
        assert!(e.msg.contains("continuing at TOP"));
        keys(&mut e, "N");
        assert_eq!(e.cy, 3);
        keys(&mut e, "/nothere\n");
        assert!(e.msg.starts_with("Pattern not found"));
        keys(&mut e, ":3\n");
        assert_eq!(e.cy, 2);
        keys(&mut e, "x:q\n");
        assert!(!e.quit);
        assert!(e.msg.contains("No write since last change"));
        keys(&mut e, ":w\n");
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "one\ntwo\nhree\ntwo again\n");
        assert!(!e.dirty);
        keys(&mut e, ":q\n");
        assert!(e.quit);
        let mut e = Editor::new("x\n", Some(&f), 10, 40);
        keys(&mut e, "dd:q!\n");
        assert!(e.quit);
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "one\ntwo\nhree\ntwo again\n");
        let mut e = Editor::new("x\n", Some(&f), 10, 40);
        keys(&mut e, "iy\x1b:wq\n");
        assert!(e.quit);
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "yx\n");
        let mut e = Editor::new("x\n", None, 10, 40);
        keys(&mut e, ":w\n");
        assert_eq!(e.msg, "No current filename");
        keys(&mut e, &format!(":w {d}/new.txt\n:x\n"));
        assert!(e.quit);
        assert_eq!(std::fs::read_to_string(format!("{d}/new.txt")).unwrap(), "x\n");
        let mut e = ed("a\n");
        keys(&mut e, ":bogus\n");
        assert!(e.msg.contains("Not an editor command"));
        keys(&mut e, ":\x08");
        assert_eq!(e.mode, Mode::Normal);
        keys(&mut e, "ZZ");
        assert!(e.quit);
    }

    #[test]
    fn screen_and_scrolling() {
        let text: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        let mut e = Editor::new(&text, Some("f"), 10, 40);
        let (rows, status, cur) = e.screen();
        assert_eq!(rows.len(), 9);
        assert_eq!(rows[0], "line 1");
        assert!(status.starts_with("\"f\" 30L"));
        assert!(status.ends_with("1,1"));
        assert_eq!(cur, (0, 0));
        keys(&mut e, "20G");
        assert_eq!(e.top, 11);
        let (rows, _, cur) = e.screen();
        assert_eq!(rows[8], "line 20");
        assert_eq!(cur, (8, 0));
        keys(&mut e, "i");
        assert!(e.screen().1.starts_with("-- INSERT --"));
        keys(&mut e, "\x1b:wq");
        assert_eq!(e.screen().1, ":wq");
        assert_eq!(e.screen().2, (9, 3));
        let mut e = ed("a\tb\n");
        keys(&mut e, "$");
        assert_eq!(e.screen().0[0], "a       b");
        assert_eq!(e.screen().2, (0, 8));
        let short = ed("x\n");
        assert_eq!(short.screen().0[1], "~");
        let long = "y".repeat(100);
        let mut e = ed(&long);
        keys(&mut e, "$");
        assert_eq!(e.left, 60);
        assert_eq!(e.screen().2, (0, 39));
    }
}
