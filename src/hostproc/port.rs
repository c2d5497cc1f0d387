//! A holder's control port: one loopback TCP listener per (host process, container process
//! directory), its port number in `<dir>/<host pid>.ctl`. Other skiff processes reach a
//! holder through it without POSIX signals or Unix sockets, on every OS. A request is one
//! line of words and gets one line back; the first word says who answers it: `kill` is the
//! WASI runtime's (a signal to one guest process, `runtime/wasi/control.rs`), `signal` is
//! [`super`]'s (a signal to the holder itself, on hosts without POSIX signals).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Answers the requests whose first word it was registered for; `None`: nothing to say
/// (the request is answered `esrch`).
pub type Handler = Arc<dyn Fn(&[&str]) -> Option<String> + Send + Sync>;

/// The handlers of each directory this process listens for.
type Handlers = Arc<Mutex<HashMap<String, Handler>>>;

/// Each directory this process listens for: its port and its handlers.
fn ports() -> &'static Mutex<HashMap<PathBuf, (u16, Handlers)>> {
    static PORTS: OnceLock<Mutex<HashMap<PathBuf, (u16, Handlers)>>> = OnceLock::new();
    PORTS.get_or_init(Default::default)
}

/// This process's port file in `dir`.
pub fn file(dir: &Path, pid: u32) -> PathBuf {
    dir.join(format!("{pid}.ctl"))
}

/// Answer requests starting with `verb` on this process's control port for `dir`, opening
/// the port on first use (it then lives as long as the process; a dead holder's file is
/// removed by whoever lists the holders). Registering a verb again replaces its handler.
pub fn serve(dir: &Path, verb: &str, handler: Handler) -> std::io::Result<()> {
    let me = file(dir, std::process::id());
    let mut all = ports().lock().unwrap_or_else(|p| p.into_inner());
    if let Some((port, handlers)) = all.get(dir) {
        handlers.lock().unwrap_or_else(|p| p.into_inner()).insert(verb.to_string(), handler);
        // A container's cleanup empties its procs directory: say where the port is again.
        if !me.exists() {
            crate::store::atomic_write(&me, port.to_string().as_bytes())
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        return Ok(());
    }
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let port = l.local_addr()?.port();
    crate::store::atomic_write(&me, port.to_string().as_bytes()).map_err(|e| std::io::Error::other(e.to_string()))?;
    let handlers: Handlers = Default::default();
    handlers.lock().unwrap_or_else(|p| p.into_inner()).insert(verb.to_string(), handler);
    all.insert(dir.to_path_buf(), (port, handlers.clone()));
    std::thread::Builder::new().name("ctl".into()).spawn(move || {
        for conn in l.incoming() {
            let Ok(conn) = conn else { continue };
            let handlers = handlers.clone();
            // A slow answer must not hold up a `stop`: one thread per request.
            let _ = std::thread::Builder::new().name("ctl-req".into()).spawn(move || answer(conn, &handlers));
        }
    })?;
    Ok(())
}

fn answer(conn: TcpStream, handlers: &Handlers) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(&conn).read_line(&mut line)?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let handler = words.first().and_then(|w| handlers.lock().unwrap_or_else(|p| p.into_inner()).get(*w).cloned());
    let reply = match handler {
        Some(h) => h(&words).unwrap_or_else(|| "esrch".into()),
        None => "bad".into(),
    };
    (&conn).write_all(format!("{reply}\n").as_bytes())
}

/// Send `line` to the control port of host process `pid` in `dir`; its one-line answer, or
/// `None` if it has no port there or does not answer within a few seconds.
pub fn request(dir: &Path, pid: u32, line: &str) -> Option<String> {
    let port = std::fs::read_to_string(file(dir, pid)).ok()?.trim().parse::<u16>().ok()?;
    let ask = || -> std::io::Result<String> {
        let s = TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(1))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        (&s).write_all(format!("{line}\n").as_bytes())?;
        let mut reply = String::new();
        BufReader::new(&s).read_line(&mut reply)?;
        Ok(reply.trim().to_string())
    };
    ask().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_share_one_port() {
        let d = tempfile::tempdir().unwrap();
        serve(d.path(), "echo", Arc::new(|w: &[&str]| Some(w[1..].join(" ")))).unwrap();
        let port = std::fs::read_to_string(file(d.path(), std::process::id())).unwrap();
        serve(d.path(), "none", Arc::new(|_: &[&str]| None)).unwrap();
        assert_eq!(std::fs::read_to_string(file(d.path(), std::process::id())).unwrap(), port, "one port");
        let me = std::process::id();
        assert_eq!(request(d.path(), me, "echo a b").as_deref(), Some("a b"));
        assert_eq!(request(d.path(), me, "none").as_deref(), Some("esrch"));
        assert_eq!(request(d.path(), me, "what").as_deref(), Some("bad"));
        assert_eq!(request(d.path(), 1, "echo x"), None, "no port file");
    }
}
