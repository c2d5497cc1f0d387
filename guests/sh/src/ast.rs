//! The syntax tree of shell commands, and printing it back as shell source (for `sh -c`).

use std::cell::RefCell;
use std::rc::Rc;

/// A word exactly as written (quotes and `$` included); expanded only when it runs.
pub type Word = String;

#[derive(Debug, Clone, PartialEq)]
pub enum RedirOp {
    In,
    Out,
    Append,
    ReadWrite,
    /// `>&N`, `<&N`, `>&-`.
    Dup,
    /// `<<` / `<<-`: `quoted` when the delimiter had quotes (no expansion of the body).
    Heredoc {
        quoted: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Redir {
    pub fd: u32,
    pub op: RedirOp,
    /// The file name, the fd after `>&`, or the (unquoted) here-document delimiter.
    pub target: Word,
    /// Here-document body, filled in when the lexer reaches the next line.
    pub body: Rc<RefCell<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    Simple {
        assigns: Vec<(String, Word)>,
        words: Vec<Word>,
        redirs: Vec<Redir>,
    },
    Pipeline {
        neg: bool,
        cmds: Vec<Cmd>,
    },
    And(Box<Cmd>, Box<Cmd>),
    Or(Box<Cmd>, Box<Cmd>),
    /// Commands in sequence; `true` marks one started in the background (`&`).
    List(Vec<(Cmd, bool)>),
    If {
        arms: Vec<(Cmd, Cmd)>,
        els: Option<Box<Cmd>>,
    },
    For {
        var: String,
        items: Option<Vec<Word>>,
        body: Box<Cmd>,
    },
    While {
        until: bool,
        cond: Box<Cmd>,
        body: Box<Cmd>,
    },
    Case {
        word: Word,
        arms: Vec<(Vec<Word>, Cmd)>,
    },
    Group(Box<Cmd>),
    Subshell(Box<Cmd>),
    Func {
        name: String,
        body: Rc<Cmd>,
    },
    Redirected(Box<Cmd>, Vec<Redir>),
}

/// Shell source that parses back to `cmd` (here-document bodies follow their line).
pub fn to_source(cmd: &Cmd) -> String {
    let mut u = Unparser { out: String::new(), pending: Vec::new() };
    u.cmd(cmd);
    u.flush();
    u.out
}

struct Unparser {
    out: String,
    pending: Vec<(String, String)>,
}

impl Unparser {
    /// A command separator; a newline (and the pending bodies) when here-documents wait.
    fn sep(&mut self) {
        if self.pending.is_empty() {
            self.out.push_str("; ");
        } else {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.out.push('\n');
        for (body, delim) in std::mem::take(&mut self.pending) {
            self.out.push_str(&body);
            self.out.push_str(&delim);
            self.out.push('\n');
        }
    }

    fn redirs(&mut self, rs: &[Redir]) {
        for r in rs {
            self.out.push(' ');
            let (op, default_fd) = match r.op {
                RedirOp::In => ("<", 0),
                RedirOp::Out => (">", 1),
                RedirOp::Append => (">>", 1),
                RedirOp::ReadWrite => ("<>", 0),
                RedirOp::Dup => (">&", 1),
                RedirOp::Heredoc { .. } => ("<<", 0),
            };
            if r.fd != default_fd || r.op == RedirOp::Dup {
                self.out.push_str(&r.fd.to_string());
            }
            self.out.push_str(op);
            if let RedirOp::Heredoc { quoted } = r.op {
                let mut delim = r.target.clone();
                while r.body.borrow().lines().any(|l| l == delim) {
                    delim.push('_');
                }
                if quoted {
                    self.out.push_str(&format!("'{delim}'"));
                } else {
                    self.out.push_str(&delim);
                }
                self.pending.push((r.body.borrow().clone(), delim));
            } else {
                self.out.push_str(&r.target);
            }
        }
    }

    fn cmd(&mut self, c: &Cmd) {
        match c {
            Cmd::Simple { assigns, words, redirs } => {
                let mut parts: Vec<String> = assigns.iter().map(|(n, v)| format!("{n}={v}")).collect();
                parts.extend(words.iter().cloned());
                self.out.push_str(&parts.join(" "));
                self.redirs(redirs);
            }
            Cmd::Pipeline { neg, cmds } => {
                if *neg {
                    self.out.push_str("! ");
                }
                for (i, c) in cmds.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(" | ");
                    }
                    self.cmd(c);
                }
            }
            Cmd::And(a, b) | Cmd::Or(a, b) => {
                self.cmd(a);
                self.out.push_str(if matches!(c, Cmd::And(..)) { " && " } else { " || " });
                self.cmd(b);
            }
            Cmd::List(items) => {
                for (i, (c, bg)) in items.iter().enumerate() {
                    if i > 0 {
                        self.sep();
                    }
                    self.cmd(c);
                    if *bg {
                        self.out.push_str(" &");
                    }
                }
            }
            Cmd::If { arms, els } => {
                for (i, (cond, body)) in arms.iter().enumerate() {
                    self.out.push_str(if i == 0 { "if " } else { "elif " });
                    self.cmd(cond);
                    self.sep();
                    self.out.push_str("then ");
                    self.cmd(body);
                    self.sep();
                }
                if let Some(e) = els {
                    self.out.push_str("else ");
                    self.cmd(e);
                    self.sep();
                }
                self.out.push_str("fi");
            }
            Cmd::For { var, items, body } => {
                self.out.push_str(&format!("for {var}"));
                if let Some(items) = items {
                    self.out.push_str(" in");
                    for w in items {
                        self.out.push(' ');
                        self.out.push_str(w);
                    }
                }
                self.out.push_str("; do ");
                self.cmd(body);
                self.sep();
                self.out.push_str("done");
            }
            Cmd::While { until, cond, body } => {
                self.out.push_str(if *until { "until " } else { "while " });
                self.cmd(cond);
                self.sep();
                self.out.push_str("do ");
                self.cmd(body);
                self.sep();
                self.out.push_str("done");
            }
            Cmd::Case { word, arms } => {
                self.out.push_str(&format!("case {word} in "));
                for (pats, body) in arms {
                    self.out.push_str(&pats.join(" | "));
                    self.out.push_str(") ");
                    if !matches!(body, Cmd::List(v) if v.is_empty()) {
                        self.cmd(body);
                        self.sep();
                    }
                    self.out.push_str(";; ");
                }
                self.out.push_str("esac");
            }
            Cmd::Group(b) => {
                self.out.push_str("{ ");
                self.cmd(b);
                self.sep();
                self.out.push('}');
            }
            Cmd::Subshell(b) => {
                self.out.push_str("( ");
                self.cmd(b);
                self.flush();
                self.out.push_str(" )");
            }
            Cmd::Func { name, body } => {
                self.out.push_str(&format!("{name}() "));
                self.cmd(body);
            }
            Cmd::Redirected(c, rs) => {
                self.cmd(c);
                self.redirs(rs);
            }
        }
    }
}
