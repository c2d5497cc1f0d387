//! Reading commands at a terminal: the prompt (`PS1` expanded as ash does), the line
//! editor with the terminal in raw mode, history kept in `$HOME/.ash_history`, and Tab
//! completion from `$PATH` and the file system.

use crate::builtins;
use crate::exec::Shell;
use crate::lineedit::{Complete, Editor, Event};
use crate::prompt::{self, PromptEnv};
use skiff_guest::proc::TtyMode;
use std::io::{Read, Write};

/// What reading a line at the terminal gave.
#[derive(Debug, PartialEq)]
pub enum Input {
    /// A line, newline included.
    Line(String),
    /// Ctrl-C: the line was abandoned.
    Interrupt,
    /// Ctrl-D on an empty line, or the end of input.
    Eof,
    /// A caught signal interrupted the read: run its trap and prompt again.
    Signal,
    /// No line editing here (not a terminal, or an old host): the prompt is printed,
    /// read the line as plain input.
    Plain,
}

#[derive(Default)]
pub struct Term {
    pub editor: Editor,
    history_file: Option<String>,
    loaded: bool,
    uid: Option<u32>,
}

impl Term {
    pub fn new() -> Term {
        Term::default()
    }

    /// Show the prompt `ps` and read one line. The terminal is in raw mode only while the
    /// line is edited; it is back in cooked mode when this returns.
    pub fn read(&mut self, sh: &mut Shell, ps: &str) -> Input {
        let uid = *self.uid.get_or_insert_with(|| sh.sys.uid());
        let (text, width) = prompt_text(sh, ps, uid);
        if sh.sys.tty_mode(0, TtyMode::Raw).is_err() {
            let _ = std::io::stderr().write_all(text.as_bytes());
            return Input::Plain;
        }
        if !self.loaded {
            self.loaded = true;
            self.load_history(sh);
        }
        let cols = sh.sys.tty_cols(0).or_else(|| sh.var("COLUMNS").and_then(|c| c.parse().ok())).unwrap_or(80);
        let mut out = Vec::new();
        self.editor.start(&text, width, cols, &mut out);
        flush(&mut out);
        let names = Names(sh);
        let ev = loop {
            let mut b = [0u8; 1];
            let r = std::io::stdin().lock().read(&mut b);
            match r {
                Ok(1) => {
                    let ev = self.editor.feed(b[0], &names, &mut out);
                    flush(&mut out);
                    if let Some(ev) = ev {
                        break Some(ev);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => break None,
                _ => break Some(Event::Eof),
            }
        };
        let _ = sh.sys.tty_mode(0, TtyMode::Cooked);
        match ev {
            Some(Event::Line(l)) => {
                if self.editor.remember(&l) {
                    self.append_history(&l);
                }
                Input::Line(format!("{l}\n"))
            }
            Some(Event::Interrupt) => Input::Interrupt,
            Some(Event::Eof) => Input::Eof,
            None => {
                let _ = std::io::stdout().write_all(b"\n");
                let _ = std::io::stdout().flush();
                Input::Signal
            }
        }
    }

    /// busybox: `$HISTFILE`, else `$HOME/.ash_history`; the last 255 lines.
    fn load_history(&mut self, sh: &Shell) {
        let file = sh.var("HISTFILE").filter(|f| !f.is_empty()).or_else(|| {
            sh.var("HOME").filter(|h| !h.is_empty()).map(|h| format!("{}/.ash_history", h.trim_end_matches('/')))
        });
        let Some(file) = file else { return };
        if let Ok(text) = std::fs::read_to_string(&file) {
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            let max = self.editor.max_history;
            let keep = &lines[lines.len().saturating_sub(max)..];
            self.editor.history = keep.iter().map(|s| s.to_string()).collect();
            if lines.len() > 2 * max {
                let _ = std::fs::write(&file, keep.iter().map(|l| format!("{l}\n")).collect::<String>());
            }
        }
        self.history_file = Some(file);
    }

    fn append_history(&mut self, line: &str) {
        if let Some(f) = &self.history_file {
            if let Ok(mut f) = std::fs::OpenOptions::new().append(true).create(true).open(f) {
                let _ = f.write_all(format!("{line}\n").as_bytes());
            }
        }
    }
}

fn flush(out: &mut Vec<u8>) {
    if out.is_empty() {
        return;
    }
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(out);
    let _ = o.flush();
    out.clear();
}

/// `PS1`/`PS2` as ash shows it: parameter, command and arithmetic expansion first (as in
/// double quotes, `\$` kept), then the backslash escapes. Returns the text and the width
/// of its last line.
pub fn prompt_text(sh: &mut Shell, ps: &str, uid: u32) -> (String, usize) {
    const KEEP: char = '\u{E000}';
    let protected = ps.replace("\\$", &KEEP.to_string());
    let expanded = if protected.contains(['$', '`']) {
        crate::expand::heredoc(sh, &protected).unwrap_or(protected)
    } else {
        protected
    };
    let ps = expanded.replace(KEEP, "\\$");
    let home = sh.var("HOME").filter(|h| !h.is_empty()).or_else(|| passwd_field(uid, 5));
    let user = passwd_field(uid, 0).or_else(|| sh.var("USER")).unwrap_or_default();
    let host = sh
        .var("HOSTNAME")
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|s| s.trim().to_string()))
        .unwrap_or_default();
    let cwd = sh.st.cwd.clone();
    prompt::render(&ps, &PromptEnv { cwd: &cwd, home: home.as_deref(), user: &user, host: &host, root: uid == 0 })
}

/// Field `k` of the `/etc/passwd` line of `uid` (0: the name, 5: the home directory).
fn passwd_field(uid: u32, k: usize) -> Option<String> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 5 && f[2].parse() == Ok(uid)).then(|| f[k].to_string())
    })
}

/// Completion from the shell: builtins, functions and `$PATH` for a command name, else
/// file names (`~/` is the home directory).
pub struct Names<'a>(pub &'a Shell);

impl Complete for Names<'_> {
    fn complete(&self, word: &str, command: bool) -> Vec<String> {
        let sh = self.0;
        let mut v: Vec<String> = Vec::new();
        if command && !word.contains('/') {
            v.extend(builtins::BUILTINS.iter().filter(|b| b.starts_with(word)).map(|b| b.to_string()));
            v.extend(sh.st.funcs.keys().filter(|f| f.starts_with(word)).cloned());
            for dir in sh.var("PATH").unwrap_or_default().split(':').filter(|d| !d.is_empty()) {
                if let Ok(rd) = std::fs::read_dir(sh.abs(dir)) {
                    for e in rd.flatten() {
                        let name = e.file_name().to_string_lossy().into_owned();
                        if name.starts_with(word) && !e.file_type().is_ok_and(|t| t.is_dir()) {
                            v.push(name);
                        }
                    }
                }
            }
        } else {
            let (dir, base) = match word.rfind('/') {
                Some(i) => (&word[..=i], &word[i + 1..]),
                None => ("", word),
            };
            let real = match dir.strip_prefix('~') {
                Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                    format!("{}{rest}", sh.var("HOME").unwrap_or_default())
                }
                _ => dir.to_string(),
            };
            let real = if real.is_empty() { sh.st.cwd.clone() } else { sh.abs(&real) };
            if let Ok(rd) = std::fs::read_dir(&real) {
                for e in rd.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if !name.starts_with(base) || (name.starts_with('.') && !base.starts_with('.')) {
                        continue;
                    }
                    let is_dir =
                        std::fs::metadata(format!("{}/{name}", real.trim_end_matches('/'))).is_ok_and(|m| m.is_dir());
                    v.push(format!("{dir}{name}{}", if is_dir { "/" } else { "" }));
                }
            }
        }
        crate::exec::sort(&mut v);
        v.dedup();
        v
    }
}
