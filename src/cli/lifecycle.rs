//! `start`, `stop`, `restart`, `kill`, `wait`, `rename`, `container prune`: moving containers
//! through their states. A running container's PID is its supervisor's (or the attached
//! `run`'s); signals go to it, and it records how the container ended.

use crate::container::supervisor::{self, Attach};
use crate::container::{self, signal, Container, Verb};
use crate::store::Store;
use clap::Args;
use std::time::Duration;

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

/// Run `each` on every named container: its name as given, or `Error: …`; exit 1 if any failed.
fn for_each(names: &[String], mut each: impl FnMut(&Store, Container) -> anyhow::Result<()>) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    Ok(super::each::for_each(names, |n| Ok(container::find(&store, n)?), |_, c| each(&store, c)))
}

pub fn start(a: StartArgs) -> anyhow::Result<i32> {
    if a.attach || a.interactive {
        let store = super::open_store()?;
        let [name] = a.containers.as_slice() else {
            anyhow::bail!("you cannot start and attach multiple containers at once");
        };
        let c = container::find(&store, name)?;
        if c.state.is_alive() {
            // As Docker: `start -a` of a running container attaches to it.
            let keys = container::attach::parse_detach_keys(super::attach::DEFAULT_DETACH_KEYS)?;
            return super::attach::attach_running(&store, &c, a.interactive && c.config.open_stdin, keys, true);
        }
        // Attached: this process supervises the (single) container, as `run` does.
        supervisor::block_signals();
        crate::events::container(&store, &c, "attach", &[]);
        return Ok(supervisor::supervise(&store, c, Attach::Attached { stdin: a.interactive }, &mut |_| {})?);
    }
    for_each(&a.containers.clone(), |store, c| {
        if !c.state.is_alive() {
            supervisor::spawn(store, &c)
                .map_err(|(msg, _)| anyhow::anyhow!("failed to start container {}: {msg}", c.name))?;
        }
        Ok(())
    })
}

pub fn stop(a: StopArgs) -> anyhow::Result<i32> {
    let names = a.containers.clone();
    for_each(&names, |store, c| {
        signal::stop(store, &c, Duration::from_secs(a.time));
        Ok(())
    })
}

pub fn restart(a: StopArgs) -> anyhow::Result<i32> {
    let names = a.containers.clone();
    for_each(&names, |store, c| {
        signal::stop(store, &c, Duration::from_secs(a.time));
        let c = container::find(store, &c.id)?;
        supervisor::spawn(store, &c)
            .map_err(|(msg, _)| anyhow::anyhow!("failed to start container {}: {msg}", c.name))?;
        crate::events::container(store, &c, "restart", &[]);
        Ok(())
    })
}

pub fn kill(a: KillArgs) -> anyhow::Result<i32> {
    let Some(sig) = signal::signal_number(&a.signal) else {
        eprintln!("Error: invalid signal: {}", a.signal);
        return Ok(1);
    };
    let names = a.containers.clone();
    for_each(&names, |store, c| {
        if !c.state.is_alive() {
            anyhow::bail!(
                "Cannot kill container: {}: Container {} is not running",
                names.iter().find(|n| c.name == **n).unwrap_or(&c.id),
                c.id
            );
        }
        signal::signal_and_wait(store, &c, sig, Duration::from_secs(5));
        Ok(())
    })
}

pub fn wait(a: WaitArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let mut code = 0;
    for name in &a.containers {
        let waited = container::find(&store, name).and_then(|mut c| {
            while c.state.is_alive() {
                std::thread::sleep(Duration::from_millis(10));
                c = container::find(&store, &c.id)?;
            }
            Ok(c.state.exit_code)
        });
        match waited {
            Ok(status) => println!("{status}"),
            Err(e) => {
                eprintln!("Error: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

pub fn rename(a: RenameArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    container::rename(&store, &a.container, &a.new_name)?;
    Ok(0)
}

pub fn prune(a: PruneArgs) -> anyhow::Result<i32> {
    if !a.force && !super::confirm("WARNING! This will remove all stopped containers.")? {
        println!("Total reclaimed space: 0B");
        return Ok(0);
    }
    let store = super::open_store()?;
    super::each::report(&[super::prune::containers(&store)?]);
    Ok(0)
}

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
        if let Some(why) = c.state.refusal(if pause { Verb::Pause } else { Verb::Unpause }, &c.id) {
            anyhow::bail!(why);
        }
        let backend = c.backend(store)?;
        if pause {
            backend.pause(&c.spec(store)?)?;
            c.state.set_paused();
        } else {
            backend.resume(&c.spec(store)?)?;
            c.state.set_unpaused();
        }
        c.save(store)?;
        crate::events::container(store, &c, if pause { "pause" } else { "unpause" }, &[]);
        Ok(())
    })
}
