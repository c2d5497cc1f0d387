//! What stands between a command and the learner's terminal when things go wrong: no panic
//! message or backtrace ever reaches it (a panic becomes one `Error:` line), a closed pipe on
//! stdout ends the process by SIGPIPE as Docker's Go CLI does (`skiff images | head -1`), and
//! control characters in messages (names from archives and guests) are shown escaped.

use std::io::Write;
use std::sync::atomic::{AtomicI32, Ordering};

/// The exit code of a command that panicked (set to the command's failure code before it runs).
pub static PANIC_EXIT_CODE: AtomicI32 = AtomicI32::new(1);

/// Replace Rust's panic printer (message, location, backtrace hint) with one `Error:` line.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        if msg.starts_with("failed printing to std") && (msg.contains("Broken pipe") || msg.contains("os error 32")) {
            die_of_sigpipe();
        }
        let at = info.location().map(|l| format!(" (at {}:{})", l.file(), l.line())).unwrap_or_default();
        print_error(&format!("internal error: {msg}{at}; this is a bug in skiff, please report it"));
    }));
}

/// If the command failed because its stdout was closed (`| head`), end as Docker's CLI does.
pub fn exit_if_broken_pipe(e: &anyhow::Error) {
    let broken = e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<crate::Error>().is_some_and(
                |e| matches!(e, crate::Error::Io { error, .. } if error.kind() == std::io::ErrorKind::BrokenPipe),
            )
    });
    if broken {
        die_of_sigpipe();
    }
}

/// Print `Error: msg` on stderr, control characters escaped; a closed stderr is ignored.
pub fn print_error(msg: &str) {
    let _ = writeln!(std::io::stderr(), "Error: {}", crate::error::printable(msg));
}

/// Die of SIGPIPE (the shell sees 141), as a Go program does when its stdout pipe closes.
fn die_of_sigpipe() -> ! {
    crate::store::remove_own_tmp();
    #[cfg(unix)]
    // SAFETY: restoring the default action of SIGPIPE and raising it on ourselves.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(141)
}

/// The failure code of the command about to run, for [`PANIC_EXIT_CODE`].
pub fn set_failure_code(code: i32) {
    PANIC_EXIT_CODE.store(code, Ordering::Relaxed);
}
