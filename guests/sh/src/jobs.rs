//! Background jobs (`cmd &`): their numbers, `%N` specs and the lines `jobs` prints.
//! A job here is one process (a program, or a child `sh -c` for anything else).

use crate::signals;

#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub id: usize,
    pub pid: i32,
    pub cmd: String,
}

/// The jobs not yet waited for, oldest first; the last one is the current job (`%+`).
#[derive(Clone, Default, Debug)]
pub struct Jobs {
    pub list: Vec<Job>,
}

/// What `jobs` says about a job.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum State {
    Running,
    Stopped,
    /// Ended with this status (128+N: ended by signal N).
    Done(i32),
}

impl Jobs {
    /// Record a started job; it gets the lowest free number (as ash).
    pub fn add(&mut self, pid: i32, cmd: &str) -> usize {
        let id = (1..).find(|i| !self.list.iter().any(|j| j.id == *i)).unwrap();
        self.list.push(Job { id, pid, cmd: cmd.to_string() });
        id
    }

    pub fn remove(&mut self, pid: i32) -> Option<Job> {
        let i = self.list.iter().position(|j| j.pid == pid)?;
        Some(self.list.remove(i))
    }

    pub fn has(&self, pid: i32) -> bool {
        self.list.iter().any(|j| j.pid == pid)
    }

    pub fn pids(&self) -> Vec<i32> {
        self.list.iter().map(|j| j.pid).collect()
    }

    /// The job a spec names: `%N`, `%%`, `%+`, `%-`, `%NAME` (its command starts with
    /// NAME), `%?TEXT` (its command contains TEXT).
    pub fn find(&self, spec: &str) -> Result<&Job, String> {
        let none = || format!("{spec}: no such job");
        let s = spec.strip_prefix('%').ok_or_else(none)?;
        let n = self.list.len();
        let j = match s {
            "" | "%" | "+" => self.list.last(),
            "-" => n.checked_sub(2).and_then(|i| self.list.get(i)).or(self.list.last()),
            _ if s.chars().all(|c| c.is_ascii_digit()) => {
                let id: usize = s.parse().map_err(|_| none())?;
                self.list.iter().find(|j| j.id == id)
            }
            _ => {
                let hits: Vec<&Job> = match s.strip_prefix('?') {
                    Some(t) => self.list.iter().filter(|j| j.cmd.contains(t)).collect(),
                    None => self.list.iter().filter(|j| j.cmd.starts_with(s)).collect(),
                };
                if hits.len() > 1 {
                    return Err(format!("{spec}: ambiguous"));
                }
                hits.first().copied()
            }
        };
        j.ok_or_else(none)
    }

    /// `+` for the current job, `-` for the previous one, else a space.
    pub fn mark(&self, pid: i32) -> char {
        let n = self.list.len();
        match self.list.iter().position(|j| j.pid == pid) {
            Some(i) if i + 1 == n => '+',
            Some(i) if i + 2 == n => '-',
            _ => ' ',
        }
    }

    /// The line `jobs` and the "job done" notice print: `[1]+  Done                       sleep 1`.
    pub fn line(&self, job: &Job, state: State) -> String {
        format_line(job, self.mark(job.pid), state)
    }
}

pub fn format_line(job: &Job, mark: char, state: State) -> String {
    let head = format!("[{}]{mark}  {}", job.id, state_text(state));
    let pad = 33usize.saturating_sub(head.len()).max(1);
    format!("{head}{}{}\n", " ".repeat(pad), job.cmd)
}

/// `Running`, `Stopped`, `Done`, `Done(3)`, or the signal that ended it (`Terminated`).
pub fn state_text(state: State) -> String {
    match state {
        State::Running => "Running".into(),
        State::Stopped => "Stopped".into(),
        State::Done(0) => "Done".into(),
        State::Done(s) if s > 128 && s < 128 + signals::NSIG as i32 => signals::describe(s - 128),
        State::Done(s) => format!("Done({s})"),
    }
}

/// A job's state from its process's `proc_list` state letter (`None`: not listed).
pub fn state_of(letter: Option<char>) -> Option<State> {
    match letter {
        Some('T') => Some(State::Stopped),
        Some('Z') => None,
        _ => Some(State::Running),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookkeeping() {
        let mut j = Jobs::default();
        assert_eq!(j.add(10, "sleep 10"), 1);
        assert_eq!(j.add(11, "sleep 20"), 2);
        assert_eq!(j.add(12, "top"), 3);
        assert_eq!((j.mark(12), j.mark(11), j.mark(10)), ('+', '-', ' '));
        assert_eq!(j.find("%1").unwrap().pid, 10);
        assert_eq!(j.find("%%").unwrap().pid, 12);
        assert_eq!(j.find("%+").unwrap().pid, 12);
        assert_eq!(j.find("%").unwrap().pid, 12);
        assert_eq!(j.find("%-").unwrap().pid, 11);
        assert_eq!(j.find("%top").unwrap().pid, 12);
        assert_eq!(j.find("%?20").unwrap().pid, 11);
        assert_eq!(j.find("%sleep"), Err("%sleep: ambiguous".into()));
        assert_eq!(j.find("%7"), Err("%7: no such job".into()));
        assert_eq!(j.find("7"), Err("7: no such job".into()));
        assert_eq!(j.remove(11).unwrap().id, 2);
        assert!(j.remove(11).is_none());
        // The lowest free number is reused.
        assert_eq!(j.add(13, "cat"), 2);
        assert_eq!(j.pids(), vec![10, 12, 13]);
        assert!(j.has(13) && !j.has(11));
    }

    #[test]
    fn lines() {
        let mut j = Jobs::default();
        j.add(10, "sleep 10");
        j.add(11, "sleep 20");
        let a = j.list[0].clone();
        let b = j.list[1].clone();
        assert_eq!(j.line(&b, State::Running), "[2]+  Running                    sleep 20\n");
        assert_eq!(j.line(&a, State::Done(0)), "[1]-  Done                       sleep 10\n");
        assert_eq!(j.line(&a, State::Done(3)), "[1]-  Done(3)                    sleep 10\n");
        assert_eq!(j.line(&a, State::Done(143)), "[1]-  Terminated                 sleep 10\n");
        assert_eq!(j.line(&a, State::Done(137)), "[1]-  Killed                     sleep 10\n");
        assert_eq!(j.line(&a, State::Stopped), "[1]-  Stopped                    sleep 10\n");
        let long = Job { id: 1, pid: 1, cmd: "x".into() };
        assert_eq!(format_line(&long, ' ', State::Done(128 + 10)), "[1]   User defined signal 1      x\n");
        assert_eq!(state_of(Some('S')), Some(State::Running));
        assert_eq!(state_of(Some('T')), Some(State::Stopped));
        assert_eq!(state_of(Some('Z')), None);
    }
}
