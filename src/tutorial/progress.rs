//! A learner's classroom: where each lesson stopped, and the lesson's own sandbox, under the learner's
//! state root.
//!
//! ```text
//! <state root>/classroom/progress.json            which lesson is current, and per lesson the next stop
//! <state root>/classroom/<lesson>/root/           the lesson's SKIFF_ROOT (its images and containers)
//! <state root>/classroom/<lesson>/work/           the lesson's working directory (its files)
//! ```
//!
//! A lesson runs in a sandbox of its own because its expected outputs assume a fresh store (`Unable to
//! find image … locally`, `ps -a` listing only the lesson's containers); the learner's own images and
//! containers are not touched. The sandbox lives on between sessions, so a resumed lesson finds the
//! containers and files it left. A "stop" is a step or an exercise, numbered from 0 in file order.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::runner::Runner;

/// Where one lesson stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonProgress {
    /// The next stop to do (0 = the lesson's start).
    pub next: usize,
    /// The command of that stop, to notice a lesson that changed since (then it starts over).
    #[serde(default)]
    pub command: String,
    /// The directory the lesson's shell was in (a step may `cd`).
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// Every stop was done.
    #[serde(default)]
    pub done: bool,
}

/// `progress.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The lesson last worked on.
    pub current: Option<String>,
    #[serde(default)]
    pub lessons: BTreeMap<String, LessonProgress>,
}

/// A learner's classroom directory.
#[derive(Debug, Clone)]
pub struct Classroom {
    /// `<state root>/classroom`.
    pub dir: PathBuf,
    /// The learner's state root (its module cache is shared with the lessons).
    pub state_root: PathBuf,
}

impl Classroom {
    pub fn new(state_root: &Path) -> Classroom {
        Classroom { dir: state_root.join("classroom"), state_root: state_root.to_path_buf() }
    }

    fn file(&self) -> PathBuf {
        self.dir.join("progress.json")
    }

    /// The saved progress (empty when there is none or it cannot be read).
    pub fn load(&self) -> Progress {
        fs::read(self.file()).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// Saves progress atomically (temp file + rename).
    pub fn save(&self, p: &Progress) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(format!(".progress.json.{}", std::process::id()));
        fs::write(&tmp, serde_json::to_vec_pretty(p).map_err(io::Error::other)?)?;
        fs::rename(&tmp, self.file())
    }

    /// The lesson's sandbox: (state root, working directory).
    pub fn sandbox(&self, lesson: &str) -> (PathBuf, PathBuf) {
        let d = self.dir.join(lesson);
        (d.join("root"), d.join("work"))
    }

    /// A runner in the lesson's sandbox (created if needed), sharing the learner's compiled modules.
    pub fn runner(&self, lesson: &str, skiff: PathBuf) -> io::Result<Runner> {
        let (root, work) = self.sandbox(lesson);
        fs::create_dir_all(&root)?;
        fs::create_dir_all(&work)?;
        let mut r = Runner::with_dirs(skiff, root, work)?;
        if std::env::var_os("SKIFF_MODULE_CACHE").is_none_or(|v| v.is_empty()) {
            r.env.push(("SKIFF_MODULE_CACHE".into(), self.state_root.join("modules").to_string_lossy().into_owned()));
        }
        Ok(r)
    }

    /// Forgets a lesson: removes its containers and its sandbox, and its progress.
    pub fn reset(&self, lesson: &str, skiff: &Path) -> io::Result<()> {
        let (root, _) = self.sandbox(lesson);
        if root.is_dir() {
            if let Ok(r) = self.runner(lesson, skiff.to_path_buf()) {
                r.remove_containers();
            }
        }
        let d = self.dir.join(lesson);
        if d.exists() {
            fs::remove_dir_all(&d)?;
        }
        let mut p = self.load();
        p.lessons.remove(lesson);
        if p.current.as_deref() == Some(lesson) {
            p.current = None;
        }
        self.save(&p)
    }

    /// Forgets every lesson.
    pub fn reset_all(&self, skiff: &Path) -> io::Result<Vec<String>> {
        let mut names: Vec<String> = self.load().lessons.keys().cloned().collect();
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if e.path().is_dir() && !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names.sort();
        for n in &names {
            self.reset(n, skiff)?;
        }
        let _ = fs::remove_file(self.file());
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_resets() {
        let dir = tempfile::tempdir().unwrap();
        let c = Classroom::new(dir.path());
        assert_eq!(c.load(), Progress::default());
        let mut p = Progress { current: Some("01-a".into()), ..Progress::default() };
        p.lessons.insert("01-a".into(), LessonProgress { next: 3, command: "skiff ps".into(), cwd: None, done: false });
        p.lessons.insert("02-b".into(), LessonProgress { next: 9, done: true, ..LessonProgress::default() });
        c.save(&p).unwrap();
        assert_eq!(c.load(), p);
        let (root, work) = c.sandbox("01-a");
        assert!(root.ends_with("classroom/01-a/root") && work.ends_with("classroom/01-a/work"));
        fs::create_dir_all(&work).unwrap();
        // no skiff needed: the sandbox has no root yet, so no container to remove
        c.reset("01-a", Path::new("/nonexistent/skiff")).unwrap();
        assert!(!dir.path().join("classroom/01-a").exists());
        let after = c.load();
        assert_eq!(after.current, None);
        assert_eq!(after.lessons.keys().collect::<Vec<_>>(), ["02-b"]);
        assert_eq!(c.reset_all(Path::new("/nonexistent/skiff")).unwrap(), ["02-b"]);
        assert_eq!(c.load(), Progress::default());
    }
}
