//! `sh`: a small POSIX shell for skiff's WASI images (entry point and command-line handling).

mod arith;
mod ast;
mod builtins;
mod exec;
mod expand;
mod glob;
mod io;
mod jobs;
mod lineedit;
mod parser;
mod prompt;
mod signals;
mod testcmd;
#[cfg(test)]
mod tests;

use exec::{Ctl, Host, Shell};
use io::{errstr, Io};
use parser::{ParseError, Parser};
use std::io::IsTerminal;

fn main() {
    skiff_guest::init();
    let args: Vec<String> = std::env::args().collect();
    let mut sh = Shell::new(Box::new(Host));
    let mut command: Option<String> = None;
    let mut want_c = false;
    let mut force_i = false;
    let mut from_stdin = false;
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if a == "--" || a == "-" {
            i += 1;
            break;
        }
        let on = a.starts_with('-');
        if !(on || a.starts_with('+')) || a.len() < 2 {
            break;
        }
        for c in a[1..].chars() {
            match c {
                'c' => want_c = true,
                'i' => force_i = true,
                's' => from_stdin = true,
                'e' => sh.st.opts.errexit = on,
                'x' => sh.st.opts.xtrace = on,
                'f' => sh.st.opts.noglob = on,
                'u' => sh.st.opts.nounset = on,
                'o' => {
                    i += 1;
                    match args.get(i).map(|s| s.as_str()) {
                        Some("errexit") => sh.st.opts.errexit = on,
                        Some("xtrace") => sh.st.opts.xtrace = on,
                        Some("pipefail") => sh.st.opts.pipefail = on,
                        Some("noglob") => sh.st.opts.noglob = on,
                        Some("nounset") => sh.st.opts.nounset = on,
                        _ => {}
                    }
                }
                'l' | 'v' | 'm' | 'a' | 'h' | 'C' => {}
                _ => {
                    eprintln!("sh: illegal option -{c}");
                    std::process::exit(2);
                }
            }
        }
        i += 1;
    }
    let rest = &args[i.min(args.len())..];
    let fds = sh.base.clone();
    let status = if want_c {
        let Some(cmd) = rest.first() else {
            eprintln!("sh: -c requires an argument");
            std::process::exit(2);
        };
        command = Some(cmd.clone());
        if let Some(a0) = rest.get(1) {
            sh.st.arg0 = a0.clone();
        }
        sh.st.params = rest.iter().skip(2).cloned().collect();
        sh.st.interactive = force_i;
        finish(sh.run_text(command.as_deref().unwrap(), &fds, true))
    } else if !from_stdin && !rest.is_empty() {
        let script = &rest[0];
        sh.st.arg0 = script.clone();
        sh.st.params = rest[1..].to_vec();
        sh.st.interactive = force_i;
        match std::fs::read_to_string(sh.abs(script)) {
            Ok(text) => {
                let text = if text.starts_with("#!") { text } else { text };
                finish(sh.run_text(&text, &fds, true))
            }
            Err(e) => {
                eprintln!("sh: can't open '{script}': {}", errstr(&e));
                127
            }
        }
    } else {
        sh.st.params = rest.to_vec();
        sh.st.interactive = force_i || std::io::stdin().is_terminal();
        repl(&mut sh)
    };
    let _ = command;
    exit(&mut sh, status);
}

fn finish(r: Result<i32, Ctl>) -> i32 {
    match r {
        Ok(s) | Err(Ctl::Exit(s)) | Err(Ctl::Return(s)) => s,
        Err(_) => 0,
    }
}

fn exit(sh: &mut Shell, status: i32) -> ! {
    if let Some(trap) = sh.st.exit_trap.take() {
        sh.st.status = status;
        let fds = sh.base.clone();
        let _ = sh.run_text(&trap, &fds, false);
    }
    std::process::exit(status)
}

/// PS1 with busybox's backslash escapes (`\w`, `\W`, `\u`, `\h`, `\$`).
fn prompt(sh: &Shell, ps: &str) -> String {
    let root = sh.var("USER").is_none_or(|u| u == "root");
    let mut out = String::new();
    let mut cs = ps.chars();
    while let Some(c) = cs.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match cs.next() {
            Some('w') => out.push_str(&sh.st.cwd),
            Some('W') => out.push_str(sh.st.cwd.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("/")),
            Some('u') => out.push_str(&sh.var("USER").unwrap_or_else(|| "root".into())),
            Some('h') => out.push_str(sh.var("HOSTNAME").as_deref().unwrap_or("localhost").split('.').next().unwrap_or("")),
            Some('$') => out.push(if root { '#' } else { '$' }),
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Read commands from stdin a line at a time (with prompts when interactive).
fn repl(sh: &mut Shell) -> i32 {
    let stdin = Io::Std(0);
    let mut buf = String::new();
    loop {
        if sh.st.interactive {
            let ps = if buf.is_empty() {
                sh.var("PS1").unwrap_or_else(|| "\\w \\$ ".into())
            } else {
                sh.var("PS2").unwrap_or_else(|| "> ".into())
            };
            eprint!("{}", prompt(sh, &ps));
        }
        let mut line = Vec::new();
        let mut eof = true;
        while let Some(b) = stdin.read_byte() {
            line.push(b);
            if b == b'\n' {
                eof = false;
                break;
            }
        }
        if eof && line.is_empty() && buf.is_empty() {
            if sh.st.interactive {
                eprintln!();
            }
            return sh.st.status;
        }
        buf.push_str(&String::from_utf8_lossy(&line));
        loop {
            let mut p = Parser::new(&buf);
            p.complete = eof;
            match p.next_command() {
                Ok(Some(cmd)) => {
                    let used: usize = buf.chars().take(p.consumed()).map(|c| c.len_utf8()).sum();
                    buf.drain(..used);
                    let fds = sh.base.clone();
                    match sh.exec(&cmd, &fds) {
                        Err(Ctl::Exit(s)) => exit(sh, s),
                        Err(Ctl::Return(_)) if !sh.st.interactive => return sh.st.status,
                        _ => {}
                    }
                }
                Ok(None) => {
                    buf.clear();
                    break;
                }
                Err(ParseError::Incomplete(_)) if !eof => break,
                Err(e) => {
                    eprintln!("sh: {}", e.message());
                    sh.st.status = 2;
                    buf.clear();
                    if !sh.st.interactive {
                        return 2;
                    }
                    break;
                }
            }
        }
        if eof {
            return sh.st.status;
        }
    }
}
