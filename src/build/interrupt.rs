//! A build interrupted (Ctrl-C, `kill`) or failing inside skiff leaves no step container
//! behind: each step's container is registered while it exists ([`Step`], made and
//! registered as one act: [`creating`]); a step that ends
//! early by an error removes it when its guard drops, and [`watch`] removes the registered
//! ones when a stop signal arrives, then exits with 128 + the signal. (A failed RUN command
//! keeps its container, as Docker's does: the step calls [`Step::keep`].)

use crate::store::Store;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// A stop signal is being handled: the step containers are going, the process is ending.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// A RUN step's command is running (in this process, or through its runtime).
static RUNNING: AtomicBool = AtomicBool::new(false);
/// The RUN step's command has returned and its step waits in [`ran`] (the watcher may
/// remove its container: nothing writes there any more).
static HELD: AtomicBool = AtomicBool::new(false);

/// A RUN step's command is about to run.
pub fn running() {
    RUNNING.store(true, Ordering::SeqCst);
}

/// A RUN step's command has returned. If the watcher stopped it, wait here for the process to
/// end: going on would save the container's record (a killed command is a failed step) into
/// the directory the watcher is about to remove, bringing it back.
pub fn ran() {
    if INTERRUPTED.load(Ordering::SeqCst) {
        HELD.store(true, Ordering::SeqCst);
        loop {
            std::thread::park();
        }
    }
    RUNNING.store(false, Ordering::SeqCst);
}

/// The step containers that exist now: (store, container ID).
static STEPS: Mutex<Vec<(Store, String)>> = Mutex::new(Vec::new());

/// Held while a step's container is made and registered ([`creating`]). The watcher takes it
/// for good before it reads [`STEPS`], so a container half made when the signal comes is
/// finished and removed, and none is started after.
static CREATING: Mutex<()> = Mutex::new(());

/// Make a step's container and register it (`make` returns it with its [`Step`]) as one
/// act for the watcher.
pub fn creating<T>(make: impl FnOnce() -> T) -> T {
    let _held = CREATING.lock().unwrap_or_else(|p| p.into_inner());
    make()
}

/// A step's container, removed unless [`Step::keep`] is called.
pub struct Step {
    id: String,
    store: Store,
    armed: bool,
}

impl Step {
    pub fn new(store: &Store, id: &str) -> Step {
        STEPS.lock().unwrap_or_else(|p| p.into_inner()).push((store.clone(), id.to_string()));
        Step { id: id.to_string(), store: store.clone(), armed: true }
    }

    /// The step dealt with its container itself (removed it, or keeps a failed one).
    pub fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        STEPS.lock().unwrap_or_else(|p| p.into_inner()).retain(|(_, id)| *id != self.id);
        if self.armed {
            remove(&self.store, &self.id);
        }
    }
}

fn remove(store: &Store, id: &str) {
    if let Ok(c) = crate::container::load(store, id) {
        let _ = crate::container::remove(store, &c, true);
    }
}

/// Take SIGINT, SIGTERM and SIGHUP on a thread of their own for the rest of this process:
/// remove the step containers, then exit as the signal would have. Call before any other
/// thread starts.
#[cfg(unix)]
pub fn watch() {
    // SAFETY: plain libc calls on a local, fully initialised sigset.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    std::thread::spawn(move || {
        let mut sig: libc::c_int = 0;
        // SAFETY: `set` is a valid sigset and `sig` a valid out pointer.
        if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
            return;
        }
        INTERRUPTED.store(true, Ordering::SeqCst);
        // Kept until the process exits: no step container is made from here on.
        std::mem::forget(CREATING.lock().unwrap_or_else(|p| p.into_inner()));
        let steps = std::mem::take(&mut *STEPS.lock().unwrap_or_else(|p| p.into_inner()));
        // Stop the commands first, and let a RUN step's command return (up to 2 s) before its
        // container goes: it writes into the container's directory as it ends.
        for (store, id) in &steps {
            if let Ok(c) = crate::container::load(store, id) {
                crate::container::signal::cleanup(store, &c);
            }
        }
        let start = std::time::Instant::now();
        while RUNNING.load(Ordering::SeqCst)
            && !HELD.load(Ordering::SeqCst)
            && start.elapsed() < std::time::Duration::from_secs(2)
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        for (store, id) in steps {
            remove(&store, &id);
        }
        crate::store::remove_own_tmp();
        std::process::exit(128 + sig);
    });
}

#[cfg(not(unix))]
pub fn watch() {}
