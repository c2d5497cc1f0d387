//! Signals for WASI guests (`docs/guest-abi.md`, "Signals"): each guest process has a
//! disposition per signal and a set of pending caught signals; the host applies default
//! actions itself. A process being killed is interrupted wherever it is: in wasm code by
//! epoch interruption (the engine's epoch is bumped, every store's callback looks at its own
//! process), in a blocking import (`wait`, `sleep_ms`, `net_poll`) because those wake up to
//! look. A caught signal makes those imports return `EINTR` so the guest runs its handler.
//!
//! PID 1 is init: a signal whose action is the default is ignored there, except KILL (and
//! STOP), as in a Linux PID namespace — so `stop` of a shell that does not trap TERM waits
//! for the timeout, as Docker's does.

use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGKILL: i32 = 9;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGTSTP: i32 = 20;
pub const SIGTTIN: i32 = 21;
pub const SIGTTOU: i32 = 22;
pub const SIGURG: i32 = 23;
pub const SIGWINCH: i32 = 28;

/// What a process does with a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Default = 0,
    Ignore = 1,
    Catch = 2,
}

/// Signals whose default action is to do nothing.
fn ignored_by_default(sig: i32) -> bool {
    matches!(sig, SIGCHLD | SIGCONT | SIGURG | SIGWINCH)
}

/// The signal state of one guest process, shared by its thread, its parent and whoever
/// signals it.
pub struct ProcState {
    pub pid: i32,
    pub ppid: i32,
    /// The first process of the container: init's rules.
    pub init: bool,
    actions: Mutex<[Action; 32]>,
    pending: AtomicU32,
    /// Nonzero: the process is being killed and ends with this status.
    killed: AtomicI32,
    /// STOP/TSTP: the process waits here until CONT.
    stopped: Mutex<bool>,
    /// Woken when anything above changes (blocking imports and stopped processes wait on it).
    wake: Condvar,
    wake_lock: Mutex<()>,
    /// Its linear memory's size in bytes (what `ps` calls RSS).
    pub mem: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Its stdin is the terminal: Ctrl-C and `Ctrl-\` reach it.
    on_tty: std::sync::atomic::AtomicBool,
    /// The CPU clock of the host thread running it (Linux), for `ps`'s TIME.
    #[cfg(target_os = "linux")]
    clock: Mutex<Option<libc::clockid_t>>,
}

impl ProcState {
    pub fn new(pid: i32, ppid: i32, init: bool) -> ProcState {
        ProcState {
            pid,
            ppid,
            init,
            actions: Mutex::new([Action::Default; 32]),
            pending: AtomicU32::new(0),
            killed: AtomicI32::new(0),
            stopped: Mutex::new(false),
            wake: Condvar::new(),
            wake_lock: Mutex::new(()),
            mem: Default::default(),
            on_tty: Default::default(),
            #[cfg(target_os = "linux")]
            clock: Mutex::new(None),
        }
    }

    pub fn set_on_tty(&self, yes: bool) {
        self.on_tty.store(yes, Ordering::SeqCst);
    }

    pub fn on_tty(&self) -> bool {
        self.on_tty.load(Ordering::SeqCst)
    }

    /// Record the calling thread as the one running this process (for its CPU time).
    pub fn set_thread(&self) {
        #[cfg(target_os = "linux")]
        {
            let mut id: libc::clockid_t = 0;
            // SAFETY: pthread_self is always valid; the out pointer is a local.
            if unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut id) } == 0 {
                *self.clock.lock().unwrap_or_else(|e| e.into_inner()) = Some(id);
            }
        }
    }

    /// CPU time used so far, milliseconds (0 where unknown).
    pub fn cpu_ms(&self) -> i64 {
        #[cfg(target_os = "linux")]
        if let Some(id) = *self.clock.lock().unwrap_or_else(|e| e.into_inner()) {
            // SAFETY: timespec is plain data; a stale clock id fails harmlessly.
            let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
            if unsafe { libc::clock_gettime(id, &mut ts) } == 0 {
                return ts.tv_sec as i64 * 1000 + ts.tv_nsec as i64 / 1_000_000;
            }
        }
        0
    }

    /// The status the process is being killed with, if it is.
    pub fn killed(&self) -> Option<i32> {
        let k = self.killed.load(Ordering::SeqCst);
        (k != 0).then_some(k)
    }

    pub fn is_stopped(&self) -> bool {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a caught signal waits to be taken.
    pub fn has_pending(&self) -> bool {
        self.pending.load(Ordering::SeqCst) != 0
    }

    /// Take the lowest pending caught signal (0: none).
    pub fn take(&self) -> i32 {
        loop {
            let p = self.pending.load(Ordering::SeqCst);
            if p == 0 {
                return 0;
            }
            let sig = p.trailing_zeros() as i32;
            if self.pending.compare_exchange(p, p & !(1 << sig), Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                return sig;
            }
        }
    }

    /// Set the action for `sig`; returns the previous one. KILL and STOP cannot be changed.
    pub fn set_action(&self, sig: i32, a: Action) -> Option<Action> {
        if !(1..32).contains(&sig) || sig == SIGKILL || sig == SIGSTOP {
            return None;
        }
        let mut t = self.actions.lock().unwrap_or_else(|e| e.into_inner());
        let prev = t[sig as usize];
        t[sig as usize] = a;
        if a != Action::Catch {
            self.pending.fetch_and(!(1 << sig), Ordering::SeqCst);
        }
        Some(prev)
    }

    pub fn action(&self, sig: i32) -> Action {
        self.actions.lock().unwrap_or_else(|e| e.into_inner())[sig as usize]
    }

    fn notify(&self) {
        let _g = self.wake_lock.lock().unwrap_or_else(|e| e.into_inner());
        self.wake.notify_all();
    }

    /// End the process with `status` (the first kill wins).
    pub fn kill(&self, status: i32, engine: &wasmtime::Engine) {
        let _ = self.killed.compare_exchange(0, status, Ordering::SeqCst, Ordering::SeqCst);
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.notify();
        engine.increment_epoch();
    }

    /// Deliver `sig` as Linux would. Returns false for a signal number out of range.
    pub fn deliver(&self, sig: i32, engine: &wasmtime::Engine) -> bool {
        if !(0..32).contains(&sig) {
            return false;
        }
        match sig {
            0 => {}
            SIGKILL => self.kill(128 + SIGKILL, engine),
            SIGSTOP => self.stop(engine),
            SIGCONT => {
                *self.stopped.lock().unwrap_or_else(|e| e.into_inner()) = false;
                if self.action(SIGCONT) == Action::Catch {
                    self.pending.fetch_or(1 << sig, Ordering::SeqCst);
                }
                self.notify();
            }
            _ => match self.action(sig) {
                Action::Ignore => {}
                Action::Catch => {
                    self.pending.fetch_or(1 << sig, Ordering::SeqCst);
                    self.notify();
                }
                Action::Default if ignored_by_default(sig) || self.init => {}
                Action::Default if matches!(sig, SIGTSTP | SIGTTIN | SIGTTOU) => self.stop(engine),
                Action::Default => self.kill(128 + sig, engine),
            },
        }
        true
    }

    fn stop(&self, engine: &wasmtime::Engine) {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
        engine.increment_epoch();
    }

    /// Block while stopped (the epoch callback calls this); returns when continued or killed.
    pub fn wait_while_stopped(&self) {
        let mut s = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        while *s && self.killed().is_none() {
            s = self
                .wake
                .wait_timeout(s, Duration::from_millis(100))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// Sleep up to `d`; returns early (with why) when killed or when a caught signal is pending.
    pub fn sleep(&self, d: Duration) -> Wake {
        let end = Instant::now() + d;
        let mut g = self.wake_lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(k) = self.killed() {
                return Wake::Killed(k);
            }
            if self.has_pending() {
                return Wake::Signal;
            }
            let now = Instant::now();
            if now >= end {
                return Wake::Time;
            }
            g = self.wake.wait_timeout(g, end - now).map(|(g, _)| g).unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// Why a blocking import should stop waiting now, if it should.
    pub fn interrupted(&self) -> Option<Wake> {
        if let Some(k) = self.killed() {
            return Some(Wake::Killed(k));
        }
        self.has_pending().then_some(Wake::Signal)
    }
}

thread_local! {
    static CURRENT: std::cell::RefCell<Option<std::sync::Arc<ProcState>>> = const { std::cell::RefCell::new(None) };
}

/// Make `st` the process the calling thread runs (what a blocking read looks at).
pub fn set_current(st: Option<std::sync::Arc<ProcState>>) {
    CURRENT.with(|c| *c.borrow_mut() = st);
}

/// The process the calling thread runs, if it runs one.
pub fn current() -> Option<std::sync::Arc<ProcState>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    Time,
    /// A caught signal is pending (the import returns EINTR).
    Signal,
    /// The process is being killed with this status (the import traps).
    Killed(i32),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions() {
        let e = wasmtime::Engine::default();
        let p = ProcState::new(5, 1, false);
        assert!(p.deliver(SIGCHLD, &e));
        assert_eq!(p.killed(), None, "CHLD is ignored by default");
        assert_eq!(p.set_action(15, Action::Catch), Some(Action::Default));
        p.deliver(15, &e);
        p.deliver(10, &e);
        assert_eq!(p.killed(), Some(138), "USR1's default ends the process");
        assert_eq!(p.take(), 15);
        assert_eq!(p.take(), 0);
        assert_eq!(p.set_action(SIGKILL, Action::Ignore), None);
        let init = ProcState::new(1, 0, true);
        init.deliver(15, &e);
        assert_eq!(init.killed(), None, "init ignores default-action signals");
        init.set_action(1, Action::Ignore);
        init.deliver(1, &e);
        assert_eq!(init.killed(), None);
        init.deliver(SIGKILL, &e);
        assert_eq!(init.killed(), Some(137));
        let s = ProcState::new(2, 1, false);
        s.set_action(2, Action::Catch);
        s.deliver(2, &e);
        assert_eq!(s.sleep(Duration::from_secs(5)), Wake::Signal);
    }
}
