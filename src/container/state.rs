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
    fn a_dead_owner_means_exited() {
        let mut s = State::default();
        s.set_running(42, "t1".into());
        assert!(!s.reconcile(|_| true));
        assert!(s.reconcile(|_| false));
        assert_eq!((s.status, s.exit_code), (Status::Exited, 137));
    }
}
