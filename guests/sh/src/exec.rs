//! Running commands: shell state, simple and compound commands, pipelines, spawning children.

use crate::ast::{to_source, Cmd, Redir, RedirOp};
use crate::builtins;
use crate::expand::{self, Ctx};
use crate::glob;
use crate::io::{errstr, Fds, Io, MemBuf, PipeEnd};
use crate::jobs::Jobs;
use crate::parser::Parser;
use crate::signals::{self, Traps, NSIG};
use skiff_guest::proc::{self as hostproc, Action, TtyMode};
use skiff_guest::Stdio;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Processes, pipes, signals and the terminal (the host's `skiff` imports; a fake in tests).
/// The signal and terminal calls default to the SDK, which off wasm answers `Unsupported`.
pub trait Sys {
    fn spawn(&mut self, argv: &[String], env: &[String], cwd: &str, stdio: [Stdio; 3]) -> std::io::Result<i32>;
    /// A child's status (128+N when signal N ended it); `Interrupted` when a caught signal
    /// is pending (the child can be waited for again).
    fn wait(&mut self, pid: i32) -> std::io::Result<i32>;
    fn pipe(&mut self) -> std::io::Result<(i32, i32)>;
    fn kill(&mut self, pid: i32, sig: i32) -> std::io::Result<()> {
        hostproc::kill(pid, sig)
    }
    fn sig_action(&mut self, sig: i32, action: Action) -> std::io::Result<Action> {
        hostproc::sig_action(sig, action)
    }
    fn sig_take(&mut self) -> Option<i32> {
        hostproc::sig_take()
    }
    fn getpid(&mut self) -> i32 {
        hostproc::getpid()
    }
    fn getppid(&mut self) -> i32 {
        hostproc::getppid()
    }
    fn uid(&mut self) -> u32 {
        hostproc::ids().uid
    }
    fn tty_mode(&mut self, fd: i32, mode: TtyMode) -> std::io::Result<TtyMode> {
        hostproc::tty_mode(fd, mode)
    }
    fn tty_cols(&mut self, fd: i32) -> Option<usize> {
        hostproc::tty_size(fd).ok().map(|(_, c)| c as usize).filter(|&c| c > 0)
    }
    /// The state letter of each process of the container (`proc_list`).
    fn proc_states(&mut self) -> std::io::Result<Vec<(i32, char)>> {
        hostproc::proc_list().map(|l| l.into_iter().map(|p| (p.pid, p.state)).collect())
    }
}

pub struct Host;

impl Sys for Host {
    fn spawn(&mut self, argv: &[String], env: &[String], cwd: &str, stdio: [Stdio; 3]) -> std::io::Result<i32> {
        skiff_guest::spawn(argv, env, cwd, stdio)
    }
    fn wait(&mut self, pid: i32) -> std::io::Result<i32> {
        skiff_guest::wait(pid)
    }
    fn pipe(&mut self) -> std::io::Result<(i32, i32)> {
        skiff_guest::pipe()
    }
}

/// Non-local control flow, carried as the error of a command's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ctl {
    Break(u32),
    Continue(u32),
    Return(i32),
    Exit(i32),
    /// An INT the shell caught and has no trap for: an interactive shell abandons the
    /// command line, any other shell ends with 130.
    Interrupt,
}

pub type R = Result<i32, Ctl>;

#[derive(Clone, Debug)]
pub struct Var {
    pub val: String,
    pub exported: bool,
    pub readonly: bool,
}

#[derive(Clone, Default)]
pub struct Opts {
    pub errexit: bool,
    pub xtrace: bool,
    pub noglob: bool,
    pub nounset: bool,
    pub pipefail: bool,
}

/// Everything a subshell copies (and throws away when it ends).
#[derive(Clone)]
pub struct State {
    pub vars: HashMap<String, Var>,
    pub funcs: HashMap<String, Rc<Cmd>>,
    pub params: Vec<String>,
    pub arg0: String,
    pub status: i32,
    pub last_bg: Option<i32>,
    pub opts: Opts,
    pub cwd: String,
    /// Saved values of `local` variables, one frame per function call.
    pub locals: Vec<Vec<(String, Option<Var>)>>,
    /// > 0 while running a condition (`if`, `while`, `&&`, `||`, `!`): no `set -e` exit.
    pub cond: u32,
    pub loops: u32,
    pub pid: i32,
    pub interactive: bool,
    /// `trap`: commands per signal, index 0 is EXIT (run when the shell ends).
    pub traps: Traps,
}

/// Signals as this shell process sees them (not copied into subshells: there is one process).
#[derive(Default)]
pub struct Signals {
    /// Caught signals taken from the host (`sig_take`) whose traps have not run yet (bit N).
    pub pending: u32,
    /// An interrupt seen inside a subshell that must end the command line.
    pub intr: bool,
    /// What the host was told for each signal (`sig_action`), Default until told otherwise.
    pub disp: [Option<Action>; NSIG],
    /// Signals the host holds for us (disposition Catch), bit N.
    pub catching: u32,
    pub mode: signals::Mode,
}

pub struct Shell {
    pub st: State,
    pub sys: Box<dyn Sys>,
    /// Background children not yet waited for.
    pub jobs: Jobs,
    pub sig: Signals,
    /// While a trap runs: `$?` from before it (what `exit` with no number exits with).
    pub trap_status: Option<i32>,
    /// The shell's own fds (`exec >file` changes them).
    pub base: Fds,
    /// Exit status of the last command substitution (for `x=$(false)`).
    subst_status: Option<i32>,
}

/// Output pipes a child writes into and where their data goes (read after spawning).
type Pumps = Vec<(i32, Io)>;

pub fn quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c)) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn is_literal(w: &str) -> bool {
    !w.contains(['$', '`', '\'', '"', '\\', '*', '?', '[', '~'])
}

/// Sort strings (one sort instantiation for the whole program keeps the module small).
pub fn sort(v: &mut [String]) {
    v.sort_unstable();
}

pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

enum Stage {
    External(Vec<String>, Vec<(String, String)>),
    Internal(Option<Vec<String>>),
    Failed,
}

impl Shell {
    pub fn new(sys: Box<dyn Sys>) -> Shell {
        let mut vars = HashMap::new();
        for (k, v) in std::env::vars() {
            vars.insert(k, Var { val: v, exported: true, readonly: false });
        }
        let cwd = std::env::current_dir().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| "/".into());
        let cwd = match vars.get("PWD") {
            Some(v) if v.val.starts_with('/') && normalize(&v.val) == normalize(&cwd) => v.val.clone(),
            _ => cwd,
        };
        let mut sys = sys;
        let pid = sys.getpid();
        let ppid = sys.getppid();
        let mut sh = Shell {
            st: State {
                vars,
                funcs: HashMap::new(),
                params: Vec::new(),
                arg0: "sh".into(),
                status: 0,
                last_bg: None,
                opts: Opts::default(),
                cwd: cwd.clone(),
                locals: Vec::new(),
                cond: 0,
                loops: 0,
                pid,
                interactive: false,
                traps: Traps::default(),
            },
            sys,
            jobs: Jobs::default(),
            sig: Signals::default(),
            trap_status: None,
            base: Fds::std(),
            subst_status: None,
        };
        let exported = sh.st.vars.contains_key("PWD");
        sh.st.vars.insert("PWD".into(), Var { val: cwd, exported, readonly: false });
        let exported = sh.st.vars.get("PPID").is_some_and(|v| v.exported);
        sh.st.vars.insert("PPID".into(), Var { val: ppid.to_string(), exported, readonly: false });
        for (k, v) in [("IFS", " \t\n"), ("PS2", "> "), ("PS4", "+ "), ("OPTIND", "1")] {
            sh.st.vars.entry(k.into()).or_insert(Var { val: v.into(), exported: false, readonly: false });
        }
        if !sh.st.vars.contains_key("PATH") {
            let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
            sh.st.vars.insert("PATH".into(), Var { val: path.into(), exported: true, readonly: false });
        }
        sh
    }

    // ---- variables ----

    pub fn var(&self, name: &str) -> Option<String> {
        self.st.vars.get(name).map(|v| v.val.clone())
    }

    pub fn set_var(&mut self, name: &str, val: String) -> Result<(), String> {
        match self.st.vars.get_mut(name) {
            Some(v) if v.readonly => Err(format!("{name}: is read only")),
            Some(v) => {
                v.val = val;
                Ok(())
            }
            None => {
                self.st.vars.insert(name.to_string(), Var { val, exported: false, readonly: false });
                Ok(())
            }
        }
    }

    pub fn env_list(&self, extra: &[(String, String)]) -> Vec<String> {
        let mut env: Vec<String> = self
            .st
            .vars
            .iter()
            .filter(|(k, v)| v.exported && !extra.iter().any(|(n, _)| n == *k))
            .map(|(k, v)| format!("{k}={}", v.val))
            .collect();
        env.extend(extra.iter().map(|(k, v)| format!("{k}={v}")));
        sort(&mut env);
        env
    }

    pub fn abs(&self, p: &str) -> String {
        if p.starts_with('/') {
            p.to_string()
        } else if self.st.cwd.ends_with('/') {
            format!("{}{p}", self.st.cwd)
        } else {
            format!("{}/{p}", self.st.cwd)
        }
    }

    pub fn err(&self, fds: &Fds, msg: &str) {
        fds.err(&format!("sh: {msg}\n"));
    }

    fn errexit(&self, s: i32) -> R {
        if s != 0 && self.st.opts.errexit && self.st.cond == 0 {
            return Err(Ctl::Exit(s));
        }
        Ok(s)
    }

    // ---- running source text ----

    /// Parse and run `src` command by command. A syntax error is status 2 (and ends a
    /// non-interactive shell when `fatal`).
    pub fn run_text(&mut self, src: &str, fds: &Fds, fatal: bool) -> R {
        self.st.status = 0;
        self.run_source(src, fds, fatal)
    }

    /// `run_text` that leaves `$?` as it is for the first command (traps).
    pub fn run_source(&mut self, src: &str, fds: &Fds, fatal: bool) -> R {
        let mut p = Parser::new(src);
        let mut status = 0;
        loop {
            match p.next_command() {
                Ok(Some(c)) => status = self.exec(&c, fds)?,
                Ok(None) => return Ok(status),
                Err(e) => {
                    self.err(fds, &e.message());
                    self.st.status = 2;
                    if fatal && !self.st.interactive {
                        return Err(Ctl::Exit(2));
                    }
                    return Ok(2);
                }
            }
        }
    }

    /// Run `f` as a subshell: nothing it changes survives; `exit` ends only it. An EXIT trap
    /// set inside runs when it ends; an interrupt inside ends the command line after it.
    pub fn subshell(&mut self, f: impl FnOnce(&mut Shell) -> R) -> i32 {
        let saved = self.st.clone();
        let r = f(self);
        let mut s = match r {
            Ok(s) | Err(Ctl::Exit(s)) | Err(Ctl::Return(s)) => s,
            Err(Ctl::Interrupt) => {
                self.sig.intr = true;
                130
            }
            Err(_) => self.st.status,
        };
        if self.st.traps.0[0] != saved.traps.0[0] {
            if let Some(t) = self.st.traps.0[0].take() {
                self.st.status = s;
                if let Err(Ctl::Exit(n)) = self.run_trap(&t) {
                    s = n;
                }
            }
        }
        if self.st.cwd != saved.cwd {
            let _ = std::env::set_current_dir(&saved.cwd);
        }
        self.st = saved;
        self.st.status = s;
        self.sync_signals();
        s
    }

    // ---- signals and traps ----

    /// Tell the host the disposition each signal should have now (after `trap`, at start).
    pub fn sync_signals(&mut self) {
        let mut catching = 0u32;
        for n in 1..NSIG as i32 {
            let want = signals::disposition(self.st.traps.get(n), n, self.sig.mode);
            let had = self.sig.disp[n as usize].unwrap_or(Action::Default);
            if want != had && n != hostproc::sig::KILL && n != hostproc::sig::STOP {
                let _ = self.sys.sig_action(n, want);
                self.sig.disp[n as usize] = Some(want);
            }
            if self.sig.disp[n as usize] == Some(Action::Catch) {
                catching |= 1 << n;
            }
        }
        self.sig.catching = catching;
    }

    /// Take every caught signal the host holds for us into `sig.pending`.
    pub fn take_signals(&mut self) {
        for _ in 0..NSIG {
            match self.sys.sig_take() {
                Some(n) if (1..NSIG as i32).contains(&n) => self.sig.pending |= 1 << n,
                _ => break,
            }
        }
    }

    /// Whether a caught signal makes the shell do something: a trap, or INT's interrupt.
    fn acts_on(&self, n: i32) -> bool {
        self.st.traps.action(n).is_some()
            || (n == hostproc::sig::INT && self.st.traps.get(n).is_none() && self.sig.mode.catch_int)
    }

    /// A safe point: run the traps of the signals that arrived (lowest number first), or
    /// raise the interrupt of an untrapped INT.
    pub fn run_traps(&mut self) -> Result<(), Ctl> {
        if self.sig.catching == 0 && self.sig.pending == 0 && !self.sig.intr {
            return Ok(());
        }
        if self.sig.catching != 0 {
            self.take_signals();
        }
        while let Some(n) = signals::lowest(self.sig.pending) {
            self.sig.pending &= !(1 << n);
            if let Some(t) = self.st.traps.action(n).map(|t| t.to_string()) {
                self.run_trap(&t)?;
            } else if self.acts_on(n) {
                self.sig.intr = true;
            }
        }
        if std::mem::take(&mut self.sig.intr) {
            return Err(Ctl::Interrupt);
        }
        Ok(())
    }

    /// The shell ends with `status`: run the EXIT trap (`exit N` in it changes the status).
    pub fn exit_status(&mut self, status: i32) -> i32 {
        if let Some(t) = self.st.traps.0[0].take() {
            self.st.status = status;
            if let Err(Ctl::Exit(n)) = self.run_trap(&t) {
                return n;
            }
        }
        status
    }

    /// Run trap commands: `$?` inside is the status before, and is put back after;
    /// only `exit` gets out of a trap.
    pub fn run_trap(&mut self, src: &str) -> Result<(), Ctl> {
        let saved = self.st.status;
        let outer = self.trap_status.replace(saved);
        let fds = self.base.clone();
        let r = self.run_source(src, &fds, false);
        self.trap_status = outer;
        self.st.status = saved;
        match r {
            Err(Ctl::Exit(n)) => Err(Ctl::Exit(n)),
            Err(Ctl::Interrupt) => Err(Ctl::Interrupt),
            _ => Ok(()),
        }
    }

    /// Wait for a foreground child. A caught signal makes the host's `wait` return EINTR:
    /// the signal is taken and the wait goes on; its trap runs at the next safe point, once
    /// the child is done (as ash: "the trap will not be executed until the command completes").
    pub fn wait_child(&mut self, pid: i32) -> i32 {
        loop {
            match self.sys.wait(pid) {
                Ok(s) => return s,
                Err(e) if hostproc::interrupted(&e) => self.take_signals(),
                Err(_) => return 127,
            }
        }
    }

    /// `exec PROG`: the shell stays as PROG's parent, so it catches the signals one sends to
    /// a process (not INT and QUIT when they come from our terminal, which sends them to
    /// PROG itself) and passes them on ([`Shell::wait_forwarding`]).
    pub fn forward_signals(&mut self) {
        use hostproc::sig::*;
        let tty = std::io::IsTerminal::is_terminal(&std::io::stdin());
        for n in [HUP, INT, QUIT, USR1, USR2, ALRM, TERM] {
            if !(tty && (n == INT || n == QUIT)) {
                let _ = self.sys.sig_action(n, Action::Catch);
                self.sig.disp[n as usize] = Some(Action::Catch);
            }
        }
    }

    /// Wait for the program of `exec`, sending it each signal the shell catches meanwhile.
    pub fn wait_forwarding(&mut self, pid: i32) -> i32 {
        loop {
            match self.sys.wait(pid) {
                Ok(s) => return s,
                Err(e) if hostproc::interrupted(&e) => {
                    for _ in 0..NSIG {
                        let Some(n) = self.sys.sig_take() else { break };
                        let _ = self.sys.kill(pid, n);
                    }
                }
                Err(_) => return 127,
            }
        }
    }

    /// Wait for a background job (the `wait` builtin): a caught signal the shell acts on
    /// ends the wait at once with 128+N (its trap runs right after, at the next safe
    /// point); the job stays in the table.
    pub fn wait_job(&mut self, pid: i32) -> i32 {
        loop {
            match self.sys.wait(pid) {
                Ok(s) => {
                    self.jobs.remove(pid);
                    return s;
                }
                Err(e) if hostproc::interrupted(&e) => {
                    self.take_signals();
                    let mut set = self.sig.pending;
                    while let Some(n) = signals::lowest(set) {
                        if self.acts_on(n) {
                            return 128 + n;
                        }
                        set &= !(1 << n);
                    }
                }
                Err(_) => {
                    self.jobs.remove(pid);
                    return 127;
                }
            }
        }
    }

    fn subst_run(&mut self, src: &str) -> String {
        let (io, buf) = Io::mem();
        let mut fds = self.base.clone();
        fds.0[1] = io;
        let s = self.subshell(|sh| sh.run_text(src, &fds, false));
        drop(fds);
        self.subst_status = Some(s);
        let data = std::mem::take(&mut buf.borrow_mut().data);
        let mut out = String::from_utf8_lossy(&data).into_owned();
        while out.ends_with('\n') {
            out.pop();
        }
        out
    }

    // ---- commands ----

    pub fn exec(&mut self, cmd: &Cmd, fds: &Fds) -> R {
        let r = self.exec_inner(cmd, fds);
        if let Ok(s) = r {
            self.st.status = s;
            self.run_traps()?;
        }
        r
    }

    fn in_cond(&mut self, cmd: &Cmd, fds: &Fds) -> R {
        self.st.cond += 1;
        let r = self.exec(cmd, fds);
        self.st.cond -= 1;
        r
    }

    fn exec_inner(&mut self, cmd: &Cmd, fds: &Fds) -> R {
        match cmd {
            Cmd::Simple { assigns, words, redirs } => self.simple(assigns, words, redirs, fds),
            Cmd::Pipeline { neg, cmds } => {
                let s = if cmds.len() == 1 {
                    if *neg {
                        self.in_cond(&cmds[0], fds)?
                    } else {
                        self.exec(&cmds[0], fds)?
                    }
                } else {
                    if *neg {
                        self.st.cond += 1;
                    }
                    let s = self.pipeline(cmds, fds);
                    if *neg {
                        self.st.cond -= 1;
                    }
                    s
                };
                if *neg {
                    return Ok((s == 0) as i32);
                }
                self.errexit(s)
            }
            Cmd::And(a, b) => match self.in_cond(a, fds)? {
                0 => self.exec(b, fds),
                s => Ok(s),
            },
            Cmd::Or(a, b) => match self.in_cond(a, fds)? {
                0 => Ok(0),
                _ => self.exec(b, fds),
            },
            Cmd::List(items) => {
                let mut s = 0;
                for (c, bg) in items {
                    s = if *bg { self.background(c, fds) } else { self.exec(c, fds)? };
                    self.st.status = s;
                }
                Ok(s)
            }
            Cmd::If { arms, els } => {
                for (c, body) in arms {
                    if self.in_cond(c, fds)? == 0 {
                        return self.exec(body, fds);
                    }
                }
                match els {
                    Some(e) => self.exec(e, fds),
                    None => Ok(0),
                }
            }
            Cmd::For { var, items, body } => {
                let items = match items {
                    Some(ws) => match expand::words(self, ws) {
                        Ok(v) => v,
                        Err(e) => {
                            self.err(fds, &e);
                            return Ok(1);
                        }
                    },
                    None => self.st.params.clone(),
                };
                self.st.loops += 1;
                let mut s = 0;
                let mut r = Ok(0);
                for it in items {
                    if let Err(e) = self.set_var(var, it) {
                        self.err(fds, &e);
                        r = Ok(1);
                        break;
                    }
                    match self.exec(body, fds) {
                        Ok(x) => s = x,
                        Err(Ctl::Break(n)) => {
                            if n > 1 {
                                r = Err(Ctl::Break(n - 1));
                            }
                            break;
                        }
                        Err(Ctl::Continue(n)) => {
                            if n > 1 {
                                r = Err(Ctl::Continue(n - 1));
                                break;
                            }
                        }
                        Err(e) => {
                            r = Err(e);
                            break;
                        }
                    }
                }
                self.st.loops -= 1;
                r.map(|_| s)
            }
            Cmd::While { until, cond, body } => {
                self.st.loops += 1;
                let mut s = 0;
                let r = loop {
                    let c = match self.in_cond(cond, fds) {
                        Ok(c) => c,
                        Err(e) => break Err(e),
                    };
                    if (c == 0) == *until {
                        break Ok(s);
                    }
                    match self.exec(body, fds) {
                        Ok(x) => s = x,
                        Err(Ctl::Break(n)) => break if n > 1 { Err(Ctl::Break(n - 1)) } else { Ok(s) },
                        Err(Ctl::Continue(n)) if n > 1 => break Err(Ctl::Continue(n - 1)),
                        Err(Ctl::Continue(_)) => {}
                        Err(e) => break Err(e),
                    }
                };
                self.st.loops -= 1;
                r
            }
            Cmd::Case { word, arms } => {
                let w = match expand::string(self, word) {
                    Ok(w) => w,
                    Err(e) => {
                        self.err(fds, &e);
                        return Ok(1);
                    }
                };
                let cs: Vec<char> = w.chars().collect();
                for (pats, body) in arms {
                    for p in pats {
                        let pat = match expand::pattern(self, p) {
                            Ok(p) => p,
                            Err(e) => {
                                self.err(fds, &e);
                                return Ok(1);
                            }
                        };
                        if glob::matches(&pat, &cs) {
                            return self.exec(body, fds);
                        }
                    }
                }
                Ok(0)
            }
            Cmd::Group(b) => self.exec(b, fds),
            Cmd::Subshell(b) => {
                let s = self.subshell(|sh| sh.exec(b, fds));
                self.errexit(s)
            }
            Cmd::Func { name, body } => {
                self.st.funcs.insert(name.clone(), body.clone());
                Ok(0)
            }
            Cmd::Redirected(c, rs) => match self.redirect(rs, fds) {
                Ok(f) => self.exec(c, &f),
                Err(e) => {
                    self.err(fds, &e);
                    self.errexit(1)
                }
            },
        }
    }

    fn expand_assigns(&mut self, assigns: &[(String, String)]) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for (n, w) in assigns {
            out.push((n.clone(), expand::string(self, w)?));
        }
        Ok(out)
    }

    fn simple(&mut self, assigns: &[(String, String)], words: &[String], redirs: &[Redir], fds: &Fds) -> R {
        self.subst_status = None;
        let expanded = expand::words(self, words).and_then(|argv| Ok((argv, self.expand_assigns(assigns)?)));
        let (argv, vals) = match expanded {
            Ok(x) => x,
            Err(e) => {
                self.err(fds, &e);
                return if self.st.interactive { Ok(1) } else { Err(Ctl::Exit(1)) };
            }
        };
        if argv.is_empty() {
            let mut s = self.subst_status.unwrap_or(0);
            if self.st.opts.xtrace && !vals.is_empty() {
                let t: Vec<String> = vals.iter().map(|(n, v)| format!("{n}={}", quote(v))).collect();
                fds.err(&format!("+ {}\n", t.join(" ")));
            }
            for (n, v) in vals {
                if let Err(e) = self.set_var(&n, v) {
                    self.err(fds, &e);
                    s = 1;
                }
            }
            if let Err(e) = self.redirect(redirs, fds) {
                self.err(fds, &e);
                s = 1;
            }
            return self.errexit(s);
        }
        let s = self.run_argv(argv, vals, redirs, fds)?;
        self.errexit(s)
    }

    /// Run an expanded command line (function, builtin or program).
    fn run_argv(&mut self, argv: Vec<String>, vals: Vec<(String, String)>, redirs: &[Redir], fds: &Fds) -> R {
        let f = match self.redirect(redirs, fds) {
            Ok(f) => f,
            Err(e) => {
                self.err(fds, &e);
                return Ok(1);
            }
        };
        if self.st.opts.xtrace {
            let mut t: Vec<String> = vals.iter().map(|(n, v)| format!("{n}={}", quote(v))).collect();
            t.extend(argv.iter().map(|a| quote(a)));
            f.err(&format!("+ {}\n", t.join(" ")));
        }
        let name = argv[0].as_str();
        if let Some(body) = self.st.funcs.get(name).cloned() {
            let saved = self.temp_vars(&vals);
            let r = self.call(&body, argv, &f);
            self.restore_vars(saved);
            return r;
        }
        if builtins::is_builtin(name) {
            if builtins::is_special(name) {
                for (n, v) in vals {
                    if let Err(e) = self.set_var(&n, v) {
                        self.err(&f, &e);
                    }
                }
                return builtins::run(self, &argv, &f);
            }
            let saved = self.temp_vars(&vals);
            let r = builtins::run(self, &argv, &f);
            self.restore_vars(saved);
            return r;
        }
        Ok(self.external(&argv, &vals, &f))
    }

    fn temp_vars(&mut self, vals: &[(String, String)]) -> Vec<(String, Option<Var>)> {
        let mut saved = Vec::new();
        for (n, v) in vals {
            saved.push((n.clone(), self.st.vars.get(n).cloned()));
            let _ = self.set_var(n, v.clone());
        }
        saved
    }

    pub fn restore_vars(&mut self, saved: Vec<(String, Option<Var>)>) {
        for (n, old) in saved.into_iter().rev() {
            match old {
                Some(v) => self.st.vars.insert(n, v),
                None => self.st.vars.remove(&n),
            };
        }
    }

    pub fn call(&mut self, body: &Cmd, argv: Vec<String>, fds: &Fds) -> R {
        let saved = std::mem::replace(&mut self.st.params, argv[1..].to_vec());
        self.st.locals.push(Vec::new());
        let loops = std::mem::replace(&mut self.st.loops, 0);
        let r = self.exec(body, fds);
        self.st.loops = loops;
        let frame = self.st.locals.pop().unwrap_or_default();
        self.restore_vars(frame);
        self.st.params = saved;
        match r {
            Err(Ctl::Return(s)) => Ok(s),
            Err(Ctl::Break(_)) | Err(Ctl::Continue(_)) => Ok(self.st.status),
            r => r,
        }
    }

    // ---- children ----

    fn external(&mut self, argv: &[String], vals: &[(String, String)], fds: &Fds) -> i32 {
        let env = self.env_list(vals);
        match self.spawn_with(argv, &env, fds) {
            Ok((pid, pumps)) => {
                self.run_pumps(pumps);
                self.wait_child(pid)
            }
            Err(e) => self.spawn_failed(&argv[0], &e, fds),
        }
    }

    fn spawn_failed(&self, name: &str, e: &std::io::Error, fds: &Fds) -> i32 {
        let s = skiff_guest::spawn_error_status(e);
        if s == 127 || e.kind() == std::io::ErrorKind::Unsupported {
            self.err(fds, &format!("{name}: not found"));
            127
        } else {
            self.err(fds, &format!("{name}: Permission denied"));
            s
        }
    }

    /// The child's stdio for our fds 0..2. Streams a child cannot be given directly (our
    /// memory, a pipe end already opened by the shell, our fd 2 as its fd 1) go through a
    /// new pipe that the shell copies after spawning. Pipe handles are moved into the child.
    fn child_stdio(&mut self, fds: &Fds) -> std::io::Result<([Stdio; 3], Vec<(i32, Vec<u8>)>, Pumps)> {
        let mut out: Vec<Stdio> = Vec::new();
        let mut ins = Vec::new();
        let mut pumps = Vec::new();
        for k in 0..3 {
            let io = &fds.0[k];
            if let Some(j) = (0..k).find(|&j| fds.0[j].same(io) && !matches!(io, Io::Null)) {
                out.push(Stdio::Dup(j as u32));
                continue;
            }
            let pump = |sh: &mut Shell, pumps: &mut Pumps| -> std::io::Result<Stdio> {
                let (r, w) = sh.sys.pipe()?;
                pumps.push((r, io.clone()));
                Ok(Stdio::Pipe(w))
            };
            let s = match io {
                Io::Std(n) if *n as usize == k => Stdio::Inherit,
                Io::Std(1) | Io::Std(2) if k > 0 => pump(self, &mut pumps)?,
                Io::Std(_) | Io::Null | Io::Closed => Stdio::Null,
                Io::In(_, p) => Stdio::File { mode: "r", path: p.clone() },
                Io::Out(_, p) => Stdio::File { mode: "a", path: p.clone() },
                Io::Mem(m) if k == 0 => {
                    let (r, w) = self.sys.pipe()?;
                    let mut m = m.borrow_mut();
                    ins.push((w, m.data[m.pos..].to_vec()));
                    m.pos = m.data.len();
                    Stdio::Pipe(r)
                }
                Io::Mem(_) => pump(self, &mut pumps)?,
                Io::Pipe(p) => match p.borrow_mut().raw.take() {
                    Some(h) => Stdio::Pipe(h),
                    None if k == 0 => Stdio::Null,
                    None => pump(self, &mut pumps)?,
                },
            };
            out.push(s);
        }
        let [a, b, c]: [Stdio; 3] = out.try_into().unwrap();
        Ok(([a, b, c], ins, pumps))
    }

    /// Spawn with our fds; returns the PID and the output pumps still to run.
    pub fn spawn_with(&mut self, argv: &[String], env: &[String], fds: &Fds) -> std::io::Result<(i32, Pumps)> {
        let (stdio, ins, pumps) = self.child_stdio(fds)?;
        let mine: Vec<i32> =
            stdio.iter().filter_map(|s| if let Stdio::Pipe(h) = s { Some(*h) } else { None }).collect();
        let cwd = self.st.cwd.clone();
        match self.sys.spawn(argv, env, &cwd, stdio) {
            Ok(pid) => {
                for (w, data) in ins {
                    if let Ok(mut f) = skiff_guest::pipe_file(w) {
                        use std::io::Write;
                        let _ = f.write_all(&data);
                    }
                }
                Ok((pid, pumps))
            }
            Err(e) => {
                for h in mine.into_iter().chain(pumps.iter().map(|p| p.0)).chain(ins.iter().map(|i| i.0)) {
                    let _ = skiff_guest::pipe_close(h);
                }
                Err(e)
            }
        }
    }

    pub fn run_pumps(&mut self, pumps: Pumps) {
        for (h, target) in pumps {
            match skiff_guest::pipe_file(h) {
                Ok(mut f) => {
                    use std::io::Read;
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = f.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        let _ = target.write(&buf[..n]);
                    }
                }
                Err(_) => {
                    let _ = skiff_guest::pipe_close(h);
                }
            }
        }
    }

    /// `sh -c` arguments that recreate this shell's variables and functions around `src`.
    fn subshell_argv(&self, src: &str) -> Vec<String> {
        let mut script = String::new();
        let mut names: Vec<String> = self.st.vars.keys().cloned().collect();
        sort(&mut names);
        for n in names {
            let v = &self.st.vars[&n];
            if !v.exported && !matches!(n.as_str(), "PS1" | "PS2" | "PS4" | "PWD" | "OLDPWD" | "OPTIND") {
                script.push_str(&format!("{n}={}\n", quote(&v.val)));
            }
        }
        let mut fnames: Vec<String> = self.st.funcs.keys().cloned().collect();
        sort(&mut fnames);
        for n in fnames {
            script.push_str(&format!("{n}() {}\n", to_source(&self.st.funcs[&n])));
        }
        if self.st.opts.errexit {
            script.push_str("set -e\n");
        }
        for n in 1..NSIG as i32 {
            if self.st.traps.get(n) == Some("") {
                script.push_str(&format!("trap '' {}\n", signals::name(n)));
            }
        }
        script.push_str(src);
        let mut argv = vec!["/bin/sh".to_string(), "-c".into(), script, self.st.arg0.clone()];
        argv.extend(self.st.params.iter().cloned());
        argv
    }

    fn classify(&mut self, cmd: &Cmd, fds: &Fds) -> Stage {
        let Cmd::Simple { assigns, words, .. } = cmd else { return Stage::Internal(None) };
        let Some(w0) = words.first() else { return Stage::Internal(None) };
        let internal = |sh: &Shell, n: &str| builtins::is_builtin(n) || sh.st.funcs.contains_key(n);
        if is_literal(w0) && internal(self, w0) {
            return Stage::Internal(None);
        }
        let expanded = expand::words(self, words).and_then(|argv| Ok((argv, self.expand_assigns(assigns)?)));
        match expanded {
            Ok((argv, _)) if argv.is_empty() || internal(self, &argv[0]) => Stage::Internal(Some(argv)),
            Ok((argv, vals)) => Stage::External(argv, vals),
            Err(e) => {
                self.err(fds, &e);
                Stage::Failed
            }
        }
    }

    /// `a | b | c`: programs are spawned with pipe handles; the last stage that is a builtin,
    /// function or compound command runs inside this shell (as a subshell, after the others
    /// are started, so that it never waits on a stage not yet running). Builtin/compound
    /// stages before it that start the pipeline run first, inside this shell, into memory
    /// that becomes the next stage's input (`echo x | grep x` spawns only grep); any other
    /// such stage runs in a child `/bin/sh -c` given this shell's variables and functions.
    fn pipeline(&mut self, cmds: &[Cmd], fds: &Fds) -> i32 {
        let n = cmds.len();
        let stages: Vec<Stage> = cmds.iter().map(|c| self.classify(c, fds)).collect();
        let inproc = stages.iter().rposition(|s| matches!(s, Stage::Internal(_)));
        let mut to_mem = vec![false; n];
        for i in 0..n {
            to_mem[i] = matches!(stages[i], Stage::Internal(_)) && Some(i) != inproc && (i == 0 || to_mem[i - 1]);
        }
        let mut stage_fds = Vec::new();
        let mut prev: Option<Io> = None;
        for i in 0..n {
            let mut f = fds.clone();
            if let Some(r) = prev.take() {
                f.0[0] = r;
            }
            if i + 1 < n && to_mem[i] {
                let (m, _) = Io::mem();
                f.0[1] = m.clone();
                prev = Some(m);
            } else if i + 1 < n {
                match self.sys.pipe() {
                    Ok((r, w)) => {
                        f.0[1] = Io::Pipe(PipeEnd::new(w));
                        prev = Some(Io::Pipe(PipeEnd::new(r)));
                    }
                    Err(e) => {
                        self.err(fds, &format!("can't create pipe: {}", errstr(&e)));
                        return 1;
                    }
                }
            }
            stage_fds.push(f);
        }
        let mut statuses: Vec<Result<i32, i32>> = Vec::new(); // Err(pid) = still running
        let mut pumps = Vec::new();
        let mut inproc_fds = None;
        for (i, (stage, f)) in stages.into_iter().zip(stage_fds).enumerate() {
            if Some(i) == inproc {
                statuses.push(Ok(0));
                inproc_fds = Some((f, stage));
                continue;
            }
            if to_mem[i] {
                let s = self.run_stage(stage, &cmds[i], f);
                statuses.push(Ok(s));
                continue;
            }
            let redirs: &[Redir] = match &cmds[i] {
                Cmd::Simple { redirs, .. } => redirs,
                _ => &[],
            };
            let (argv, env) = match stage {
                Stage::Failed => {
                    statuses.push(Ok(1));
                    continue;
                }
                Stage::External(argv, vals) => (argv, self.env_list(&vals)),
                Stage::Internal(Some(argv)) => {
                    let src = Cmd::Simple {
                        assigns: Vec::new(),
                        words: argv.iter().map(|a| quote(a)).collect(),
                        redirs: redirs.to_vec(),
                    };
                    (self.subshell_argv(&to_source(&src)), self.env_list(&[]))
                }
                Stage::Internal(None) => (self.subshell_argv(&to_source(&cmds[i])), self.env_list(&[])),
            };
            let is_sub = argv[0] == "/bin/sh" && argv.len() > 2 && argv[1] == "-c";
            let f = if is_sub {
                f
            } else {
                match self.redirect(redirs, &f) {
                    Ok(f) => f,
                    Err(e) => {
                        self.err(fds, &e);
                        statuses.push(Ok(1));
                        continue;
                    }
                }
            };
            if self.st.opts.xtrace && !is_sub {
                let t: Vec<String> = argv.iter().map(|a| quote(a)).collect();
                f.err(&format!("+ {}\n", t.join(" ")));
            }
            match self.spawn_with(&argv, &env, &f) {
                Ok((pid, p)) => {
                    statuses.push(Err(pid));
                    pumps.extend(p);
                }
                Err(e) => statuses.push(Ok(self.spawn_failed(&argv[0], &e, fds))),
            }
        }
        if let (Some(i), Some((f, stage))) = (inproc, inproc_fds) {
            statuses[i] = Ok(self.run_stage(stage, &cmds[i], f));
        }
        self.run_pumps(pumps);
        let mut last = 0;
        let mut failed = 0;
        for st in statuses {
            last = match st {
                Ok(s) => s,
                Err(pid) => self.wait_child(pid),
            };
            if last != 0 {
                failed = last;
            }
        }
        if self.st.opts.pipefail {
            failed
        } else {
            last
        }
    }

    /// Run a pipeline stage inside this shell, as a subshell; its fds are closed after.
    fn run_stage(&mut self, stage: Stage, cmd: &Cmd, f: Fds) -> i32 {
        let s = self.subshell(|sh| match (stage, cmd) {
            (Stage::Internal(Some(argv)), Cmd::Simple { redirs, assigns, .. }) if !argv.is_empty() => {
                let vals = sh.expand_assigns(assigns).unwrap_or_default();
                sh.run_argv(argv, vals, redirs, &f)
            }
            _ => sh.exec(cmd, &f),
        });
        drop(f);
        s
    }

    /// `cmd &`: a program is spawned and not waited for; anything else runs in `/bin/sh -c`.
    fn background(&mut self, cmd: &Cmd, fds: &Fds) -> i32 {
        let mut f = fds.clone();
        // Not even an interactive shell gives a job the terminal: with no job control, this
        // keeps Ctrl-C (sent to the processes attached to the terminal) away from it.
        if matches!(f.0[0], Io::Std(0)) {
            f.0[0] = Io::Null;
        }
        let (argv, env, f) = match self.classify(cmd, &f) {
            Stage::External(argv, vals) => {
                let redirs: &[Redir] = match cmd {
                    Cmd::Simple { redirs, .. } => redirs,
                    _ => &[],
                };
                match self.redirect(redirs, &f) {
                    Ok(f) => (argv, self.env_list(&vals), f),
                    Err(e) => {
                        self.err(fds, &e);
                        return 1;
                    }
                }
            }
            Stage::Failed => return 1,
            Stage::Internal(_) => (self.subshell_argv(&to_source(cmd)), self.env_list(&[]), f),
        };
        match self.spawn_with(&argv, &env, &f) {
            Ok((pid, pumps)) => {
                self.run_pumps(pumps);
                self.jobs.add(pid, &to_source(cmd));
                self.st.last_bg = Some(pid);
                0
            }
            Err(e) => self.spawn_failed(&argv[0], &e, fds),
        }
    }

    /// Before a prompt: report background jobs that ended (`[1]+  Done    sleep 1`) and
    /// forget them. A job has ended when `proc_list` shows its process as `Z`.
    pub fn notify_jobs(&mut self) {
        if self.jobs.list.is_empty() {
            return;
        }
        let Ok(states) = self.sys.proc_states() else { return };
        let mut msg = String::new();
        for job in self.jobs.list.clone() {
            if states.iter().any(|&(p, st)| p == job.pid && st == 'Z') {
                let s = self.wait_child(job.pid);
                msg.push_str(&self.jobs.line(&job, crate::jobs::State::Done(s)));
                self.jobs.remove(job.pid);
            }
        }
        self.base.err(&msg);
    }

    // ---- redirections ----

    pub fn redirect(&mut self, redirs: &[Redir], fds: &Fds) -> Result<Fds, String> {
        let mut f = fds.clone();
        for r in redirs {
            let fd = r.fd as usize;
            if fd > 9 {
                return Err(format!("{}: bad file descriptor", r.fd));
            }
            if let RedirOp::Heredoc { quoted } = r.op {
                let body = r.body.borrow().clone();
                let text = if quoted { body } else { expand::heredoc(self, &body)? };
                f.0[fd] = Io::Mem(Rc::new(RefCell::new(MemBuf { data: text.into_bytes(), pos: 0 })));
                continue;
            }
            let target = expand::string(self, &r.target)?;
            if r.op == RedirOp::Dup {
                if target == "-" {
                    f.0[fd] = Io::Closed;
                } else if let Ok(n) = target.parse::<usize>() {
                    if n > 9 || matches!(f.0[n], Io::Closed) {
                        return Err(format!("{target}: bad file descriptor"));
                    }
                    f.0[fd] = f.0[n].clone();
                } else if fd == 1 {
                    let io = self.open(&target, RedirOp::Out, &f)?;
                    f.0[1] = io.clone();
                    f.0[2] = io;
                } else {
                    return Err(format!("{target}: bad file descriptor"));
                }
                continue;
            }
            f.0[fd] = self.open(&target, r.op.clone(), &f)?;
        }
        Ok(f)
    }

    fn open(&self, target: &str, op: RedirOp, f: &Fds) -> Result<Io, String> {
        match target {
            "/dev/null" => return Ok(Io::Null),
            "/dev/stdin" => return Ok(f.0[0].clone()),
            "/dev/stdout" => return Ok(f.0[1].clone()),
            "/dev/stderr" => return Ok(f.0[2].clone()),
            _ => {}
        }
        let path = self.abs(target);
        let mut oo = std::fs::OpenOptions::new();
        let res = match op {
            RedirOp::In => oo.read(true).open(&path).map(|x| Io::In(Rc::new(RefCell::new(x)), path.clone())),
            RedirOp::ReadWrite => oo
                .read(true)
                .write(true)
                .create(true)
                .open(&path)
                .map(|x| Io::In(Rc::new(RefCell::new(x)), path.clone())),
            RedirOp::Out => std::fs::File::create(&path)
                .and_then(|_| std::fs::OpenOptions::new().append(true).open(&path))
                .map(|x| Io::Out(Rc::new(RefCell::new(x)), path.clone())),
            _ => oo.append(true).create(true).open(&path).map(|x| Io::Out(Rc::new(RefCell::new(x)), path.clone())),
        };
        res.map_err(|e| match op {
            RedirOp::In => format!("can't open '{target}': {}", errstr(&e)),
            _ => format!("can't create {target}: {}", errstr(&e)),
        })
    }
}

impl Ctx for Shell {
    fn get(&self, name: &str) -> Option<String> {
        match name {
            "?" => Some(self.st.status.to_string()),
            "$" => Some(self.st.pid.to_string()),
            "!" => self.st.last_bg.map(|p| p.to_string()),
            "#" => Some(self.st.params.len().to_string()),
            "0" => Some(self.st.arg0.clone()),
            "-" => {
                let o = &self.st.opts;
                let mut s = String::new();
                for (on, c) in
                    [(o.errexit, 'e'), (o.noglob, 'f'), (o.nounset, 'u'), (o.xtrace, 'x'), (self.st.interactive, 'i')]
                {
                    if on {
                        s.push(c);
                    }
                }
                Some(s)
            }
            _ => match name.parse::<usize>() {
                Ok(n) => self.st.params.get(n.wrapping_sub(1)).cloned(),
                Err(_) => self.var(name),
            },
        }
    }

    fn set(&mut self, name: &str, value: String) {
        let _ = self.set_var(name, value);
    }

    fn params(&self) -> Vec<String> {
        self.st.params.clone()
    }

    fn subst(&mut self, src: &str) -> String {
        self.subst_run(src)
    }

    fn noglob(&self) -> bool {
        self.st.opts.noglob
    }
}
