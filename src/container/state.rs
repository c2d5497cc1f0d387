//! The container lifecycle as a state machine: `created → running → exited`, saved in the
//! container's record; what a command may do in each state is asked of the state, not guessed.

use serde::{Deserialize, Serialize};

/// What a command asks of a container (see [`State::refusal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Start,
    Remove,
    Kill,
    Pause,
    Unpause,
    Exec,
}

/// Where a container is in its life (Docker's `State.Status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    /// Running, but frozen by `pause` (its supervisor is stopped with SIGSTOP).
    Paused,
    /// Between two runs of a `--restart` policy (the supervisor waits to start it again).
    Restarting,
    Exited,
}

/// Docker's `State` object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct State {
    pub status: Status,
    /// Host PID of the process that owns the guest (skiff itself), 0 when not running.
    pub pid: u32,
    pub exit_code: i32,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub started_at: String,
    pub finished_at: String,
    /// The health check's findings, for a container that has one (Docker's `State.Health`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
}

/// `State.Health`: `starting` until a check passes (`healthy`) or enough fail in a row
/// (`unhealthy`); the last five probes are kept.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    pub status: String,
    pub failing_streak: u32,
    pub log: Vec<Probe>,
}

/// One run of the health check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Probe {
    pub start: String,
    pub end: String,
    pub exit_code: i32,
    pub output: String,
}

pub const STARTING: &str = "starting";
pub const HEALTHY: &str = "healthy";
pub const UNHEALTHY: &str = "unhealthy";

impl Health {
    pub fn starting() -> Health {
        Health { status: STARTING.into(), failing_streak: 0, log: Vec::new() }
    }

    /// Take a probe's result, as Docker's monitor does: success makes the container healthy;
    /// a failure counts unless the container is still in its start period and not yet
    /// healthy; `retries` failures in a row make it unhealthy. Returns whether the status
    /// changed.
    pub fn record(&mut self, probe: Probe, in_start_period: bool, retries: u32) -> bool {
        let before = self.status.clone();
        if probe.exit_code == 0 {
            self.failing_streak = 0;
            self.status = HEALTHY.into();
        } else if !(in_start_period && self.status == STARTING) {
            self.failing_streak += 1;
            if self.failing_streak >= retries.max(1) {
                self.status = UNHEALTHY.into();
            }
        }
        self.log.push(probe);
        if self.log.len() > 5 {
            self.log.remove(0);
        }
        self.status != before
    }
}

pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

impl Default for State {
    fn default() -> Self {
        State {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            oom_killed: false,
            started_at: ZERO_TIME.into(),
            finished_at: ZERO_TIME.into(),
            health: None,
        }
    }
}

impl State {
    /// Running or paused: a process owns the container.
    pub fn is_alive(&self) -> bool {
        matches!(self.status, Status::Running | Status::Paused | Status::Restarting)
    }

    pub fn can_start(&self) -> bool {
        !self.is_alive()
    }

    pub fn can_remove(&self) -> bool {
        !self.is_alive()
    }

    /// A stop or kill reaches it (paused ones too: they are thawed first).
    pub fn can_kill(&self) -> bool {
        self.is_alive()
    }

    pub fn can_pause(&self) -> bool {
        self.status == Status::Running
    }

    pub fn can_unpause(&self) -> bool {
        self.status == Status::Paused
    }

    /// More processes can start in it.
    pub fn can_exec(&self) -> bool {
        self.status == Status::Running
    }

    /// Why `verb` cannot be done to container `id` now, in Docker's words; `None` if it can.
    pub fn refusal(&self, verb: Verb, id: &str) -> Option<String> {
        let ok = match verb {
            Verb::Start => self.can_start(),
            Verb::Remove => self.can_remove(),
            Verb::Kill => self.can_kill(),
            Verb::Pause => self.can_pause(),
            Verb::Unpause => self.can_unpause(),
            Verb::Exec => self.can_exec(),
        };
        if ok {
            return None;
        }
        Some(match (verb, self.status) {
            (Verb::Start, _) => format!("container {id} is already running"),
            (Verb::Remove, Status::Paused) => format!(
                "You cannot remove a paused container {id}. Unpause and then stop the container before attempting removal or force remove"
            ),
            (Verb::Remove, _) => format!(
                "You cannot remove a running container {id}. Stop the container before attempting removal or force remove"
            ),
            (Verb::Kill, _) => format!("Container {id} is not running"),
            (Verb::Pause, Status::Paused) => format!("Container {id} is already paused"),
            (Verb::Pause, _) => format!("Container {id} is not running"),
            (Verb::Unpause, _) => format!("Container {id} is not paused"),
            (Verb::Exec, Status::Paused) => {
                format!("Container {id} is paused, unpause the container before exec")
            }
            (Verb::Exec, Status::Restarting) => {
                format!("Container {id} is restarting, wait until the container is running")
            }
            (Verb::Exec, _) => format!("Container {id} is not running"),
        })
    }

    pub fn set_paused(&mut self) {
        self.status = Status::Paused;
    }

    pub fn set_unpaused(&mut self) {
        self.status = Status::Running;
    }

    /// The main process ended with `code` and a `--restart` policy starts it again; `owner`
    /// (the supervisor) keeps the container meanwhile.
    pub fn set_restarting(&mut self, code: i32, owner: u32, now: String) {
        self.set_exited(code, now);
        self.status = Status::Restarting;
        self.pid = owner;
    }

    pub fn set_running(&mut self, pid: u32, now: String) {
        self.status = Status::Running;
        self.pid = pid;
        self.exit_code = 0;
        self.started_at = now;
        self.finished_at = ZERO_TIME.into();
    }

    pub fn set_exited(&mut self, code: i32, now: String) {
        self.status = Status::Exited;
        self.pid = 0;
        self.exit_code = code;
        self.finished_at = now;
    }

    /// A record says "running" but its owner process is gone (killed with SIGKILL, machine
    /// rebooted): the container is in fact exited, as if killed.
    pub fn reconcile(&mut self, owner_alive: impl Fn(u32) -> bool) -> bool {
        if self.is_alive() && !owner_alive(self.pid) {
            let at = if self.started_at == ZERO_TIME { ZERO_TIME.to_string() } else { self.started_at.clone() };
            self.set_exited(137, at);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        let mut s = State::default();
        assert!(s.can_start() && s.can_remove());
        s.set_running(42, "t1".into());
        assert!(!s.can_start() && !s.can_remove());
        s.set_exited(3, "t2".into());
        assert_eq!((s.status, s.exit_code, s.pid), (Status::Exited, 3, 0));
        assert!(s.can_remove());
    }

    #[test]
    fn what_each_state_allows() {
        let mut s = State::default();
        assert_eq!(s.refusal(Verb::Exec, "c"), Some("Container c is not running".into()));
        s.set_running(1, "t".into());
        assert!(s.refusal(Verb::Exec, "c").is_none() && s.refusal(Verb::Pause, "c").is_none());
        assert!(s.refusal(Verb::Remove, "c").is_some());
        s.set_paused();
        assert_eq!(s.refusal(Verb::Pause, "c"), Some("Container c is already paused".into()));
        assert!(s.refusal(Verb::Exec, "c").unwrap().contains("paused"));
        assert!(s.refusal(Verb::Kill, "c").is_none());
        s.set_unpaused();
        s.set_restarting(1, 7, "t".into());
        assert!(s.is_alive() && !s.can_exec() && s.pid == 7);
    }

    #[test]
    fn health_follows_dockers_rules() {
        let probe = |code| Probe { start: "s".into(), end: "e".into(), exit_code: code, output: String::new() };
        let mut h = Health::starting();
        // Failures in the start period do not count while starting.
        assert!(!h.record(probe(1), true, 2));
        assert_eq!((h.status.as_str(), h.failing_streak), (STARTING, 0));
        assert!(h.record(probe(0), true, 2));
        assert_eq!(h.status, HEALTHY);
        assert!(!h.record(probe(1), false, 2));
        assert_eq!((h.status.as_str(), h.failing_streak), (HEALTHY, 1));
        assert!(h.record(probe(1), false, 2));
        assert_eq!(h.status, UNHEALTHY);
        for _ in 0..5 {
            h.record(probe(1), false, 2);
        }
        assert_eq!(h.log.len(), 5);
        assert!(h.record(probe(0), false, 2) && h.failing_streak == 0);
    }

    #[test]
    fn a_dead_owner_means_exited() {
        let mut s = State::default();
        s.set_running(42, "t1".into());
        assert!(!s.reconcile(|_| true));
        assert!(s.reconcile(|_| false));
        assert_eq!((s.status, s.exit_code), (Status::Exited, 137));
    }
}
