//! Keeping a container's main process: the guest runs with its output in the container's log
//! and its exit status in the record. A detached container gets a supervisor process of its
//! own (skiff re-executed as `skiff __supervise ID`, like Podman's conmon), which outlives the
//! command that started it; an attached `run`/`start -a` supervises in the CLI process.
//! A signal to the supervisor (`stop`, `kill`, Ctrl-C) ends the container with 128+signal.
//! The supervisor also serves attach clients (`attach.rs`), holds the stdin of a container
//! run with `-i`, runs its health check (`health.rs`) and records the events of its life.

use super::{attach, health, logs, now, remove, Container};
use crate::error::{Error, Result};
use crate::runtime::{Input, Output, ProcessSpec, Stdio, Task};
use crate::store::Store;
use std::sync::{Arc, Mutex, Weak};

/// How the main process is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attach {
    /// Output only to the log (a detached container).
    Detached,
    /// Output to the log and to this process's stdout/stderr; stdin when `stdin`.
    Attached { stdin: bool },
}

/// The exit status a failure to start gives, as Docker's: not found 127, not executable 126.
pub fn start_failure_code(e: &Error) -> i32 {
    match e {
        Error::ExecNotFound(_) | Error::ExecNoSuchFile(_) => 127,
        Error::ExecPermission(_) => 126,
        _ => 125,
    }
}

/// Run the container's main process here until it ends. The record says Running (with this
/// process's PID) from just before the guest starts; `started` is told whether it did.
/// Returns the exit status (the container is saved Exited, or removed if `--rm`).
pub fn supervise(
    store: &Store,
    c: Container,
    attach: Attach,
    started: &mut dyn FnMut(std::result::Result<(), (String, i32)>),
) -> Result<i32> {
    let fail = |started: &mut dyn FnMut(std::result::Result<(), (String, i32)>), e: Error| {
        started(Err((e.to_string(), 125)));
        Err(e)
    };
    let backend = match c.backend(store) {
        Ok(b) => b,
        Err(e) => return fail(started, e),
    };
    let mut spec = c.spec(store)?;
    spec.owner = std::process::id();
    // Published ports are bound before the container counts as started: a port in use fails
    // the start, with nothing left bound.
    let published = match publish(store, &c) {
        Ok(p) => p,
        Err(e) => return fail(started, e),
    };
    let mut c = c;
    c.ports = published.ports;
    let task = match backend.create(&spec, published.listeners) {
        Ok(t) => t,
        Err(e) => return fail(started, e),
    };
    let rotation = c.log_config.rotation().unwrap_or(logs::Rotation { max_size: 10 << 20, max_file: 3 });
    let (out, err) = logs::writers_rotating(&logs::path(&c.dir(store), &c.id), attach != Attach::Detached, rotation)
        .map_err(|e| Error::io(c.dir(store), e))?;
    // `-i` on a detached container: its stdin stays open, fed by whoever attaches.
    let feed = (attach == Attach::Detached && c.config.open_stdin).then(attach::StdinFeed::default);
    let size = crate::runtime::WindowSize::default();
    let clients = attach::serve(&c.dir(store), feed.clone(), c.config.stdin_once, size.clone()).unwrap_or_default();
    let io = Stdio {
        size,
        stdin: match (&feed, stdin_flag(attach)) {
            (Some(f), _) => Input::reader(f.clone()),
            (None, true) => Input::Inherit,
            (None, false) => Input::Null,
        },
        stdout: Output::writer(attach::Tee { inner: out, clients: clients.clone(), kind: attach::STDOUT }),
        stderr: Output::writer(attach::Tee { inner: err, clients: clients.clone(), kind: attach::STDERR }),
    };
    let process = ProcessSpec {
        argv: c.argv(),
        env: c.config.env.clone(),
        cwd: c.config.working_dir.clone(),
        user: c.config.user.clone(),
        tty: c.config.tty,
    };
    let record = c.dir(store).join("container.json");
    let check = c.config.healthcheck.as_ref().and_then(health::Check::from_config);
    let shared =
        Arc::new(Mutex::new(Final { store: store.clone(), c, done: false, stopping: false, clients, generation: 0 }));
    // A weak reference: the task's last drop (below) releases what the container holds (its
    // network namespace and interfaces, its root mount) when the main process ends.
    watch_signals(shared.clone(), Arc::downgrade(&task), attach);
    if attach == Attach::Detached {
        watch_record(record);
    }
    let mut mark_running = || {
        let mut f = shared.lock().unwrap_or_else(|p| p.into_inner());
        f.started(check.is_some());
        let saved = f.save().map_err(|e| (e.to_string(), 125));
        f.announce_start();
        started(saved);
    };
    if let Some(check) = check.clone() {
        monitor_health(shared.clone(), check);
    }
    let mut result = task.run(&process, io.clone(), &mut mark_running);
    // `--restart`: a detached container's main process goes again, as its policy says
    // (after 100 ms, doubling to at most 2 s, as Docker backs off). A container stopped or
    // killed by a command is not restarted.
    let mut delay = std::time::Duration::from_millis(100);
    while attach == Attach::Detached {
        let (policy, count, stopping) = {
            let f = shared.lock().unwrap_or_else(|p| p.into_inner());
            (f.c.restart_policy.clone(), f.c.restart_count, f.stopping)
        };
        let code = match &result {
            Ok(exit) => exit.code,
            Err(_) => break,
        };
        if stopping || !policy.restarts(code, count) {
            break;
        }
        {
            let mut f = shared.lock().unwrap_or_else(|p| p.into_inner());
            crate::events::container(&f.store, &f.c, "die", &[("exitCode", &code.to_string())]);
            f.c.state.set_restarting(code, std::process::id(), now());
            f.c.restart_count += 1;
            f.save()?;
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(std::time::Duration::from_secs(2));
        let mut again = || {
            let mut f = shared.lock().unwrap_or_else(|p| p.into_inner());
            f.started(check.is_some());
            let _ = f.save();
            f.announce_start();
        };
        result = task.run(&process, io.clone(), &mut again);
    }
    drop(task);
    let mut f = shared.lock().unwrap_or_else(|p| p.into_inner());
    match result {
        Ok(exit) => {
            f.c.state.oom_killed = exit.oom_killed;
            f.finish(exit.code, true)?;
            Ok(exit.code)
        }
        Err(e) => {
            // As Docker: a container whose program could not start stays "Created".
            let code = start_failure_code(&e);
            f.c.state = super::State { exit_code: code, ..Default::default() };
            f.finish(code, false)?;
            started(Err((e.to_string(), code)));
            Err(e)
        }
    }
}

fn stdin_flag(a: Attach) -> bool {
    matches!(a, Attach::Attached { stdin: true })
}

/// The container record, written once when the main process ends (by the guest's return or
/// by a signal, whichever is first).
struct Final {
    store: Store,
    c: Container,
    done: bool,
    /// A command stopped or killed the container: no restart.
    stopping: bool,
    /// The attached clients, told the exit status at the end.
    clients: attach::Clients,
    /// Counts the runs of the main process (restarts), so a health probe that outlived its
    /// run records nothing.
    generation: u64,
}

impl Final {
    /// The main process (re)started: Running, health starting again.
    fn started(&mut self, has_check: bool) {
        self.c.state.set_running(std::process::id(), now());
        self.c.state.health = has_check.then(super::state::Health::starting);
        self.generation += 1;
    }

    fn announce_start(&self) {
        crate::events::container(&self.store, &self.c, "start", &[]);
        for m in self.c.mounts.iter().filter(|m| m.kind == "volume") {
            crate::events::record(
                &self.store,
                crate::events::Event::new(
                    "volume",
                    "mount",
                    &m.name,
                    &[
                        ("container", self.c.id.as_str()),
                        ("destination", m.destination.as_str()),
                        ("driver", "local"),
                        ("propagation", ""),
                        ("read/write", if m.rw { "true" } else { "false" }),
                    ],
                ),
            );
        }
    }

    fn finish(&mut self, code: i32, exited: bool) -> Result<()> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        if exited {
            self.c.state.set_exited(code, now());
            crate::events::container(&self.store, &self.c, "die", &[("exitCode", &code.to_string())]);
        }
        let _ = std::fs::remove_file(attach::endpoint_path(&self.c.dir(&self.store)));
        self.c.ports.clear();
        let saved = if self.c.auto_remove {
            remove(&self.store, &self.c, true).and_then(|_| super::remove_anonymous_volumes(&self.store, &self.c))
        } else {
            self.save()
        };
        // Attached clients hear of the end once the record says it.
        self.clients.finish(code);
        saved
    }

    /// Save what the supervisor owns (state, restarts, bound ports) into the record as it is
    /// now: `rename` and `network connect` change a running container's record too.
    fn save(&self) -> Result<()> {
        let Ok(mut rec) = super::load(&self.store, &self.c.id) else {
            return Ok(()); // removed (`rm -f`) while it ran
        };
        rec.state = self.c.state.clone();
        rec.restart_count = self.c.restart_count;
        rec.ports = self.c.ports.clone();
        rec.save(&self.store)
    }
}

/// Bind the host ports `c` publishes (none on the `host` and `none` networks).
pub fn publish(store: &Store, c: &Container) -> Result<crate::network::ports::Published> {
    if c.networks.contains_key("host") || c.networks.contains_key("none") {
        return Ok(Default::default());
    }
    let others = || -> Vec<(String, u16)> {
        super::list(store)
            .unwrap_or_default()
            .into_iter()
            .filter(|o| o.id != c.id && o.state.is_alive())
            .flat_map(|o| o.ports.into_values().flatten().filter_map(|b| Some((b.host_ip, b.host_port.parse().ok()?))))
            .collect()
    };
    crate::network::ports::bind(&c.name, &c.port_bindings, &c.exposed_ports, c.publish_all, &others)
}

/// Signals for the container (`stop`, `kill -s`, Ctrl-C of an attached `run`) go to its
/// main process through the task. Where the backend says the signal ends the container at
/// once (a WASI guest takes no signals yet) and the guest does not return by itself within
/// a moment (it sits in a host call), the supervisor records 128+signal and exits. They
/// arrive as POSIX signals on Unix, over the container's control port elsewhere
/// ([`crate::hostproc::receive_signals`]).
fn watch_signals(f: Arc<Mutex<Final>>, task: Weak<dyn Task>, attach: Attach) {
    #[cfg(unix)]
    {
        let set = block_signals();
        std::thread::spawn(move || loop {
            let mut sig: libc::c_int = 0;
            // SAFETY: `set` is a valid sigset and `sig` a valid out pointer.
            if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
                return;
            }
            let sig = match crate::hostproc::kill_container_signal() {
                Some(k) if k == sig => crate::hostproc::sig::KILL,
                _ => crate::hostproc::linux_signal(sig),
            };
            take_signal(&f, &task, attach, sig);
        });
    }
    #[cfg(not(unix))]
    {
        let dir = {
            let f = f.lock().unwrap_or_else(|p| p.into_inner());
            f.c.dir(&f.store).join("procs")
        };
        let _ = std::fs::create_dir_all(&dir);
        let handler: Arc<dyn Fn(i32) + Send + Sync> = Arc::new(move |sig| take_signal(&f, &task, attach, sig));
        if let Err(e) = crate::hostproc::receive_signals(&dir, handler) {
            eprintln!("WARNING: the container cannot be signalled ({e}): `stop` will kill it");
        }
    }
}

/// Act on signal `sig` (Linux numbering) sent to the container's owner; KILL is "kill the
/// container now" (a process never sees a real SIGKILL).
fn take_signal(f: &Arc<Mutex<Final>>, task: &Weak<dyn Task>, attach: Attach, sig: i32) {
    let Some(task) = task.upgrade() else {
        return; // the main process has ended
    };
    f.lock().unwrap_or_else(|p| p.into_inner()).stopping = true;
    if sig == crate::hostproc::sig::KILL {
        if !task.kill_all() {
            return;
        }
        let f = f.clone();
        // As for any ending signal: if the processes linger in a host call, finish anyway.
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(500));
            let mut f = f.lock().unwrap_or_else(|p| p.into_inner());
            if !f.done {
                let _ = f.finish(137, true);
                std::process::exit(if attach == Attach::Detached { 0 } else { 137 });
            }
        });
        return;
    }
    if !task.signal(sig) {
        return;
    }
    let f = f.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        let mut f = f.lock().unwrap_or_else(|p| p.into_inner());
        if f.done {
            return;
        }
        let code = 128 + sig;
        let _ = f.finish(code, true);
        std::process::exit(if attach == Attach::Detached { 0 } else { code });
    });
}

/// Run the health check every interval while the main process runs, recording each result
/// in the record (and an event when the status changes).
fn monitor_health(f: Arc<Mutex<Final>>, check: health::Check) {
    std::thread::spawn(move || loop {
        std::thread::sleep(check.interval);
        let (store, id, generation, started_at) = {
            let f = f.lock().unwrap_or_else(|p| p.into_inner());
            if f.done {
                return;
            }
            if f.c.state.status != super::Status::Running {
                continue; // restarting or paused: no probe now
            }
            (f.store.clone(), f.c.id.clone(), f.generation, f.c.state.started_at.clone())
        };
        let start = now();
        let (exit_code, output) = health::probe(&store, &id, &check);
        let probe = super::state::Probe { start, end: now(), exit_code, output };
        let in_start_period = chrono::DateTime::parse_from_rfc3339(&started_at)
            .map(|t| chrono::Utc::now() - t.with_timezone(&chrono::Utc))
            .is_ok_and(|age| age.to_std().unwrap_or_default() < check.start_period);
        let mut f = f.lock().unwrap_or_else(|p| p.into_inner());
        if f.done || f.generation != generation {
            continue;
        }
        let Some(h) = f.c.state.health.as_mut() else { continue };
        if h.record(probe, in_start_period, check.retries) {
            let status = h.status.clone();
            crate::events::container(&f.store, &f.c, &format!("health_status: {status}"), &[]);
        }
        let _ = f.save();
    });
}

/// A detached supervisor whose container record is gone (its store deleted, say) has nothing
/// left to keep: it exits rather than run a guest whose files may have gone too.
fn watch_record(record: std::path::PathBuf) {
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_millis(500));
        if !record.exists() {
            std::process::exit(0);
        }
    });
}

/// Block the stop signals in this thread (and the threads it starts), so only the watcher
/// thread takes them. Call first thing in a process that will supervise.
#[cfg(unix)]
pub fn block_signals() -> libc::sigset_t {
    // SAFETY: plain libc calls on a local, fully initialised sigset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGTERM, libc::SIGINT, libc::SIGQUIT, libc::SIGHUP, libc::SIGUSR1, libc::SIGUSR2] {
            libc::sigaddset(&mut set, s);
        }
        if let Some(k) = crate::hostproc::kill_container_signal() {
            libc::sigaddset(&mut set, k);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

#[cfg(not(unix))]
pub fn block_signals() {}

/// Start a detached supervisor for `c` and wait until it reports the container running (or
/// why it could not start: the message and exit status).
pub fn spawn(store: &Store, c: &Container) -> std::result::Result<(), (String, i32)> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().map_err(|e| (format!("cannot find skiff's own executable: {e}"), 125))?;
    let mut cmd = Command::new(exe);
    cmd.args(["__supervise", &c.id])
        .env("SKIFF_ROOT", store.root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    crate::hostproc::detach(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| (format!("cannot start the container's supervisor: {e}"), 125))?;
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped");
    std::io::BufReader::new(stdout).read_line(&mut line).map_err(|e| (e.to_string(), 125))?;
    match line.trim_end().split_once(' ') {
        _ if line.trim_end() == "ok" => Ok(()),
        Some(("err", rest)) => {
            let (code, msg) = rest.split_once(' ').unwrap_or(("125", rest));
            let _ = child.wait();
            Err((msg.to_string(), code.parse().unwrap_or(125)))
        }
        _ => {
            let _ = child.wait();
            Err(("the container's supervisor exited before starting it".into(), 125))
        }
    }
}

/// The supervisor process (`skiff __supervise ID`): report on stdout, then keep the guest.
pub fn supervisor_main(store: &Store, id: &str) -> i32 {
    use std::io::Write;
    block_signals();
    let c = match super::find(store, id) {
        Ok(c) => c,
        Err(e) => {
            println!("err 125 {e}");
            return 1;
        }
    };
    let mut report = |r: std::result::Result<(), (String, i32)>| {
        let mut out = std::io::stdout();
        let _ = match &r {
            Ok(()) => writeln!(out, "ok"),
            Err((msg, code)) => writeln!(out, "err {code} {msg}"),
        };
        let _ = out.flush();
        // The starter stops reading once told; the guest's output goes to the log.
        crate::hostproc::detach_stdout();
    };
    match supervise(store, c, Attach::Detached, &mut report) {
        Ok(_) => 0,
        Err(_) => 1,
    }
}
