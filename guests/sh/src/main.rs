//! `sh`: a small POSIX shell for skiff's WASI images (entry point and command-line handling).

mod arith;
mod ast;
mod builtins;
mod exec;
mod expand;
mod glob;
mod interactive;
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
use interactive::{Input, Term};
use io::{errstr, Io};
use parser::{ParseError, Parser};
use skiff_guest::proc::sig;
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
        start(&mut sh, force_i, true);
        finish(sh.run_text(command.as_deref().unwrap(), &fds, true))
    } else if !from_stdin && !rest.is_empty() {
        let script = &rest[0];
        sh.st.arg0 = script.clone();
        sh.st.params = rest[1..].to_vec();
        start(&mut sh, force_i, true);
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
        let tty = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        start(&mut sh, force_i || tty, false);
        repl(&mut sh)
    };
    let _ = command;
    exit(&mut sh, status);
}

fn finish(r: Result<i32, Ctl>) -> i32 {
    match r {
        Ok(s) | Err(Ctl::Exit(s)) | Err(Ctl::Return(s)) => s,
        Err(Ctl::Interrupt) => 130,
        Err(_) => 0,
    }
}

fn exit(sh: &mut Shell, status: i32) -> ! {
    let status = sh.exit_status(status);
    std::process::exit(status)
}

/// Set up the shell's signals (ash's `setsignal`): an interactive shell catches INT and
/// ignores TERM; `-c` and scripts catch INT (to end with 130 after the foreground child);
/// every shell ignores QUIT. An interactive shell gets busybox's `PS1`.
fn start(sh: &mut Shell, interactive: bool, script: bool) {
    sh.st.interactive = interactive;
    sh.sig.mode = signals::Mode { interactive, catch_int: interactive || script };
    if interactive && sh.var("PS1").is_none() {
        let _ = sh.set_var("PS1", prompt::DEFAULT_PS1.into());
    }
    sh.sync_signals();
}

/// Read commands from stdin a line at a time: at a terminal with the line editor and
/// prompts; between commands (and before each prompt) run the traps of signals that came.
fn repl(sh: &mut Shell) -> i32 {
    let stdin = Io::Std(0);
    let mut term = Term::new();
    let mut buf = String::new();
    loop {
        if let Err(c) = sh.run_traps() {
            if let Some(s) = stop(sh, c, &mut buf) {
                return s;
            }
            continue;
        }
        let mut plain = !sh.st.interactive;
        let mut text = String::new();
        let mut eof = false;
        if sh.st.interactive {
            sh.notify_jobs();
            let ps = if buf.is_empty() {
                sh.var("PS1").unwrap_or_default()
            } else {
                sh.var("PS2").unwrap_or_else(|| "> ".into())
            };
            match term.read(sh, &ps) {
                Input::Line(l) => text = l,
                Input::Eof => eof = true,
                Input::Plain => plain = true,
                Input::Signal => continue,
                Input::Interrupt => {
                    buf.clear();
                    match sh.st.traps.action(sig::INT).map(|t| t.to_string()) {
                        Some(t) => {
                            if let Err(c) = sh.run_trap(&t) {
                                if let Some(s) = stop(sh, c, &mut buf) {
                                    return s;
                                }
                            }
                        }
                        None => sh.st.status = 130,
                    }
                    continue;
                }
            }
        }
        if plain {
            let mut line = Vec::new();
            eof = true;
            while let Some(b) = stdin.read_byte() {
                line.push(b);
                if b == b'\n' {
                    eof = false;
                    break;
                }
            }
            text = String::from_utf8_lossy(&line).into_owned();
        }
        if eof && text.is_empty() && buf.is_empty() {
            if sh.st.interactive {
                eprintln!();
            }
            return sh.st.status;
        }
        buf.push_str(&text);
        // A signal that came while the line was typed acts before the line runs.
        if let Err(c) = sh.run_traps() {
            if let Some(s) = stop(sh, c, &mut buf) {
                return s;
            }
            continue;
        }
        loop {
            let mut p = Parser::new(&buf);
            p.complete = eof;
            match p.next_command() {
                Ok(Some(cmd)) => {
                    let used: usize = buf.chars().take(p.consumed()).map(|c| c.len_utf8()).sum();
                    buf.drain(..used);
                    let fds = sh.base.clone();
                    if let Err(c) = sh.exec(&cmd, &fds) {
                        if let Some(s) = stop(sh, c, &mut buf) {
                            return s;
                        }
                        if buf.is_empty() {
                            break;
                        }
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

/// Control that reached the top level: `exit` ends the shell (EXIT trap first); an
/// interrupt abandons the command line of an interactive shell (newline, `$?` 130) and
/// ends any other with 130. `Some(status)`: return from the REPL with it.
fn stop(sh: &mut Shell, c: Ctl, buf: &mut String) -> Option<i32> {
    match c {
        Ctl::Exit(s) => exit(sh, s),
        Ctl::Interrupt if sh.st.interactive => {
            eprintln!();
            sh.st.status = 130;
            buf.clear();
            None
        }
        Ctl::Interrupt => exit(sh, 130),
        Ctl::Return(_) if !sh.st.interactive => Some(sh.st.status),
        _ => None,
    }
}
