//! `skiff attach [--detach-keys K] [--no-stdin] [--sig-proxy=false] CONTAINER`: this terminal's
//! streams to a running container, through its supervisor (`container::attach`): its output
//! here, this stdin to its stdin (if it was run with `-i`), signals passed on (without `-t`),
//! until it ends (exiting with its status) or the detach keys (Ctrl-P Ctrl-Q) are typed.

use crate::container::{self, attach, Container, Status};
use crate::store::Store;
use clap::Args;
use std::io::{IsTerminal, Read, Write};

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    detach_keys: Option<String>,
    /// Do not attach STDIN
    #[arg(long = "no-stdin")]
    no_stdin: bool,
    /// Proxy all received signals to the process
    #[arg(
        long = "sig-proxy",
        value_name = "bool",
        num_args = 0..=1,
        default_value = "true",
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    sig_proxy: bool,
    /// The container
    container: String,
}

/// Docker's default detach sequence.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

pub fn exec(a: AttachArgs) -> anyhow::Result<i32> {
    let keys = attach::parse_detach_keys(a.detach_keys.as_deref().unwrap_or(DEFAULT_DETACH_KEYS))?;
    let store = super::open_store()?;
    let c = container::find(&store, &a.container)?;
    let stdin = c.config.open_stdin && !a.no_stdin;
    attach_running(&store, &c, stdin, keys, a.sig_proxy)
}

/// Attach to the running container `c` (`attach`, `start -a`); the exit code: the
/// container's status when it ends, 1 after the detach keys ("read escape sequence").
pub fn attach_running(
    store: &Store,
    c: &Container,
    stdin: bool,
    keys: Vec<u8>,
    sig_proxy: bool,
) -> anyhow::Result<i32> {
    match c.state.status {
        Status::Running | Status::Restarting => {}
        Status::Paused => anyhow::bail!("You cannot attach to a paused container, unpause it first"),
        _ => anyhow::bail!("You cannot attach to a stopped container, start it first"),
    }
    if stdin && c.config.tty && !std::io::stdin().is_terminal() {
        anyhow::bail!("the input device is not a TTY");
    }
    #[cfg(unix)]
    if sig_proxy && !c.config.tty {
        forward_signals(c.state.pid);
    }
    #[cfg(not(unix))]
    if sig_proxy && !c.config.tty {
        let (procs, owner) = (c.dir(store).join("procs"), c.state.pid);
        crate::hostproc::on_console_signals(std::sync::Arc::new(move |sig| {
            crate::hostproc::signal_holder(&procs, owner, sig)
        }));
    }
    let mut conn = attach::connect(&c.dir(store), stdin)?;
    // What this side sends (input, sizes) goes through one writer, a frame at a time.
    let to = std::sync::Arc::new(std::sync::Mutex::new(attach::Connection { stream: conn.stream.try_clone()? }));
    if c.config.tty {
        follow_size(to.clone());
    }
    crate::events::container(store, c, "attach", &[]);
    let _raw = if c.config.tty && stdin { terminal::raw() } else { None };
    let detached = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if stdin {
        let detached = detached.clone();
        std::thread::spawn(move || {
            let mut scanner = attach::DetachScanner::new(keys);
            let mut buf = [0u8; 4096];
            let mut input = std::io::stdin();
            loop {
                let n = match input.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = to.lock().unwrap_or_else(|p| p.into_inner()).end_input();
                        return;
                    }
                    Ok(n) => n,
                };
                let (pass, detach) = scanner.feed(&buf[..n]);
                let mut to = to.lock().unwrap_or_else(|p| p.into_inner());
                if !pass.is_empty() && to.send_input(&pass).is_err() {
                    return;
                }
                if detach {
                    detached.store(true, std::sync::atomic::Ordering::SeqCst);
                    let _ = to.stream.shutdown(std::net::Shutdown::Both);
                    return;
                }
            }
        });
    }
    let mut code = None;
    while let Ok(Some((kind, data))) = attach::read_frame(&mut conn.stream) {
        match kind {
            attach::STDOUT => {
                let mut o = std::io::stdout().lock();
                let _ = o.write_all(&data);
                let _ = o.flush();
            }
            attach::STDERR => {
                let mut e = std::io::stderr().lock();
                let _ = e.write_all(&data);
                let _ = e.flush();
            }
            attach::EXIT => {
                code = String::from_utf8_lossy(&data).trim().parse::<i32>().ok();
                break;
            }
            _ => {}
        }
    }
    drop(_raw);
    if detached.load(std::sync::atomic::Ordering::SeqCst) {
        eprintln!("read escape sequence");
        return Ok(1);
    }
    // The owner went without saying how the container ended (killed): ask the record.
    Ok(match code {
        Some(c) => c,
        None => container::load(store, &c.id).map(|c| c.state.exit_code).unwrap_or(137),
    })
}

/// A `-t` container's terminal takes this one's size: now, and after each change.
fn follow_size(to: std::sync::Arc<std::sync::Mutex<attach::Connection>>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let Some(now) = crate::runtime::host_terminal_size() else { return };
    let open = std::sync::Arc::new(AtomicBool::new(true));
    let send = {
        let open = open.clone();
        move |(rows, cols): (u16, u16)| {
            if to.lock().unwrap_or_else(|p| p.into_inner()).resize(rows, cols).is_err() {
                open.store(false, Ordering::SeqCst);
            }
        }
    };
    send(now);
    crate::runtime::follow_host_terminal(move || open.load(Ordering::SeqCst), send);
}

/// `--sig-proxy`: the signals this process gets go to the container's owner, which hands
/// them to the main process (Ctrl-C here is SIGINT there).
#[cfg(unix)]
fn forward_signals(owner: u32) {
    let set = crate::container::supervisor::block_signals();
    std::thread::spawn(move || loop {
        let mut sig: libc::c_int = 0;
        // SAFETY: `set` is a valid sigset and `sig` a valid out pointer.
        if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
            return;
        }
        if Some(sig) == crate::hostproc::kill_container_signal() {
            continue;
        }
        crate::hostproc::signal(owner, crate::hostproc::linux_signal(sig));
    });
}

/// The attaching terminal in raw mode while a `-t` container has it (keys go to the
/// container as typed; its terminal echoes and edits).
pub mod terminal {
    /// Restores the terminal's settings when dropped.
    pub struct Raw {
        #[cfg(unix)]
        saved: libc::termios,
    }

    /// Put stdin's terminal in raw mode; `None` if stdin is not a terminal.
    #[cfg(unix)]
    pub fn raw() -> Option<Raw> {
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() {
            return None;
        }
        // SAFETY: termios calls on fd 0, which is a terminal; `t` is fully written by tcgetattr.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return None;
            }
            let saved = t;
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(0, libc::TCSANOW, &t);
            Some(Raw { saved })
        }
    }

    #[cfg(not(unix))]
    pub fn raw() -> Option<Raw> {
        None
    }

    #[cfg(unix)]
    impl Drop for Raw {
        fn drop(&mut self) {
            // SAFETY: restoring settings read from this terminal.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &self.saved);
            }
        }
    }
}
