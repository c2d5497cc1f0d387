//! `start`, `stop`, `restart`, `kill`, `wait`, `rename`, `container prune`: moving containers
//! through their states. A running container's PID is its supervisor's (or the attached
//! `run`'s); signals go to it, and it records how the container ended.

use crate::container::supervisor::{self, Attach};
use crate::container::{self, Container, Status};
use crate::store::Store;
use clap::Args;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short, long)]
    attach: bool,
    /// Attach container's STDIN
    #[arg(short, long)]
    interactive: bool,
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait for stop before killing it
    #[arg(short, long, default_value_t = 10, value_name = "int")]
    time: u64,
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short, long, default_value = "KILL", value_name = "string")]
    signal: String,
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RenameArgs {
    container: String,
    new_name: String,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

/// Run `each` on every named container, reporting errors Docker's way; exit 1 if any failed.
fn for_each(names: &[String], mut each: impl FnMut(&Store, Container) -> anyhow::Result<()>) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let mut code = 0;
    for n in names {
        match container::find(&store, n).map_err(anyhow::Error::from).and_then(|c| each(&store, c)) {
            Ok(()) => {}
            Err(e) => {
                eprintln!("Error: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

pub fn start(a: StartArgs) -> anyhow::Result<i32> {
    if a.attach || a.interactive {
        // Attached: this process supervises the (single) container, as `run` does.
        supervisor::block_signals();
        let store = super::open_store()?;
        let [name] = a.containers.as_slice() else {
            anyhow::bail!("you cannot start and attach multiple containers at once");
        };
        let c = container::find(&store, name)?;
        if c.state.is_alive() {
            anyhow::bail!("container {} is already running", c.name);
        }
        return Ok(supervisor::supervise(&store, c, Attach::Attached { stdin: a.interactive }, &mut |_| {})?);
    }
    for_each(&a.containers.clone(), |store, c| {
        if !c.state.is_alive() {
            supervisor::spawn(store, &c).map_err(|(msg, _)| anyhow::anyhow!("failed to start container {}: {msg}", c.name))?;
        }
        println!("{}", a.containers.iter().find(|n| c.name == **n || c.id.starts_with(n.as_str())).cloned().unwrap_or(c.name.clone()));
        Ok(())
    })
}

/// Send `sig` to a running container's supervisor; wait up to `timeout` for it to end.
/// Returns whether it ended.
fn signal_and_wait(c: &Container, sig: i32, timeout: Duration) -> bool {
    if !c.state.is_alive() {
        return true;
    }
    if c.state.status == Status::Paused {
        send(c.state.pid, SIGCONT); // a frozen supervisor takes no signal but KILL
    }
    send(c.state.pid, sig);
    let start = Instant::now();
    while container::process_alive(c.state.pid) {
        if start.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

/// SIGKILL a running container's owner and wait for it to go.
pub fn kill_now(c: &Container) {
    signal_and_wait(c, SIGKILL, Duration::from_secs(5));
}

#[cfg(unix)]
fn send(pid: u32, sig: i32) {
    // SAFETY: kill(2) with a PID we recorded; a stale one fails harmlessly (ESRCH).
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

#[cfg(not(unix))]
fn send(_: u32, _: i32) {}

/// Stop: the image's STOPSIGNAL (SIGTERM by default), then SIGKILL after the timeout.
pub fn stop_container(store: &Store, c: &Container, timeout: Duration) -> anyhow::Result<()> {
    let stop_signal = store
        .find_image(&c.image.to_string())
        .ok()
        .and_then(|i| i.config.config.and_then(|cc| cc.stop_signal))
        .and_then(|s| signal_number(&s))
        .unwrap_or(SIGTERM);
    if !signal_and_wait(c, stop_signal, timeout) {
        signal_and_wait(c, SIGKILL, Duration::from_secs(5));
    }
    Ok(())
}

pub fn stop(a: StopArgs) -> anyhow::Result<i32> {
    let names = a.containers.clone();
    for_each(&names, |store, c| {
        stop_container(store, &c, Duration::from_secs(a.time))?;
        println!("{}", names.iter().find(|n| c.name == **n || c.id.starts_with(n.as_str())).cloned().unwrap_or(c.name.clone()));
        Ok(())
    })
}

pub fn restart(a: StopArgs) -> anyhow::Result<i32> {
    let names = a.containers.clone();
    for_each(&names, |store, c| {
        stop_container(store, &c, Duration::from_secs(a.time))?;
        let c = container::find(store, &c.id)?;
        supervisor::spawn(store, &c).map_err(|(msg, _)| anyhow::anyhow!("failed to start container {}: {msg}", c.name))?;
        println!("{}", names.iter().find(|n| c.name == **n || c.id.starts_with(n.as_str())).cloned().unwrap_or(c.name.clone()));
        Ok(())
    })
}

pub fn kill(a: KillArgs) -> anyhow::Result<i32> {
    let Some(sig) = signal_number(&a.signal) else {
        eprintln!("Error: invalid signal: {}", a.signal);
        return Ok(1);
    };
    let names = a.containers.clone();
    for_each(&names, |_, c| {
        if !c.state.is_alive() {
            anyhow::bail!("Cannot kill container: {}: Container {} is not running", names.iter().find(|n| c.name == **n).unwrap_or(&c.id), c.id);
        }
        signal_and_wait(&c, sig, Duration::from_secs(5));
        println!("{}", names.iter().find(|n| c.name == **n || c.id.starts_with(n.as_str())).cloned().unwrap_or(c.name.clone()));
        Ok(())
    })
}

pub fn wait(a: WaitArgs) -> anyhow::Result<i32> {
    for_each(&a.containers, |store, c| {
        let mut c = c;
        while c.state.is_alive() {
            std::thread::sleep(Duration::from_millis(10));
            c = container::find(store, &c.id)?;
        }
        println!("{}", c.state.exit_code);
        Ok(())
    })
}

pub fn rename(a: RenameArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    container::rename(&store, &a.container, &a.new_name)?;
    Ok(0)
}

pub fn prune(a: PruneArgs) -> anyhow::Result<i32> {
    if !a.force && !super::confirm("WARNING! This will remove all stopped containers.")? {
        return Ok(0);
    }
    let store = super::open_store()?;
    let mut removed = Vec::new();
    let mut reclaimed = 0u64;
    for c in container::list(&store)? {
        if c.state.is_alive() {
            continue;
        }
        reclaimed += crate::hostfs::dir_size(&c.upper(&store));
        container::remove(&store, &c, false)?;
        removed.push(c.id);
    }
    if !removed.is_empty() {
        println!("Deleted Containers:");
        for id in removed {
            println!("{id}");
        }
        println!();
    }
    println!("Total reclaimed space: {}", super::table::human_size(reclaimed));
    Ok(0)
}


const SIGTERM: i32 = 15;
const SIGKILL: i32 = 9;
#[cfg(unix)]
const SIGCONT: i32 = libc::SIGCONT;
#[cfg(unix)]
const SIGSTOP: i32 = libc::SIGSTOP;
#[cfg(not(unix))]
const SIGCONT: i32 = 18;
#[cfg(not(unix))]
const SIGSTOP: i32 = 19;

#[derive(Debug, Args)]
pub struct PauseArgs {
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

/// `pause`: freeze the container (its owner process is stopped, guests and all).
pub fn pause(a: PauseArgs) -> anyhow::Result<i32> {
    set_paused(&a.containers, true)
}

/// `unpause`: let it run on.
pub fn unpause(a: PauseArgs) -> anyhow::Result<i32> {
    set_paused(&a.containers, false)
}

fn set_paused(names: &[String], pause: bool) -> anyhow::Result<i32> {
    for_each(names, |store, c| {
        let _lock = store.lock()?;
        let mut c = container::find(store, &c.id)?;
        match (pause, c.state.status) {
            (true, Status::Running) => {
                send(c.state.pid, SIGSTOP);
                c.state.status = Status::Paused;
            }
            (true, Status::Paused) => anyhow::bail!("Container {} is already paused", c.id),
            (false, Status::Paused) => {
                send(c.state.pid, SIGCONT);
                c.state.status = Status::Running;
            }
            (false, _) => anyhow::bail!("Container {} is not paused", c.id),
            (true, _) => anyhow::bail!("Container {} is not running", c.id),
        }
        c.save(store)?;
        println!("{}", names.iter().find(|n| c.name == **n || c.id.starts_with(n.as_str())).cloned().unwrap_or(c.name.clone()));
        Ok(())
    })
}

/// `SIGTERM`, `TERM`, `15` → 15 (the numbers are Linux's, which Docker's images use).
pub fn signal_number(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let name = s.to_ascii_uppercase();
    let name = name.strip_prefix("SIG").unwrap_or(&name);
    const NAMES: [(&str, i32); 14] = [
        ("HUP", 1),
        ("INT", 2),
        ("QUIT", 3),
        ("ILL", 4),
        ("ABRT", 6),
        ("KILL", 9),
        ("USR1", 10),
        ("SEGV", 11),
        ("USR2", 12),
        ("PIPE", 13),
        ("ALRM", 14),
        ("TERM", 15),
        ("CHLD", 17),
        ("WINCH", 28),
    ];
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}
