//! `skiff tutorial`: the classroom. `skiff tutorial [NN]` walks a lesson (the learner types each command,
//! skiff checks it), resuming where the learner stopped; `--list`, `--reset`, `--check` (what the test
//! suite does) and `grade NN` (check a learner's exercises). Lessons are built in, or read from `--dir`,
//! in English or Chinese (`--lang zh`, else `LC_ALL`/`LC_MESSAGES`/`LANG`). The engine is `crate::tutorial`.

use crate::store::Store;
use crate::tutorial::{self, Classroom, Input, Lang, Lesson, Line};
use clap::{Args, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TutorialArgs {
    #[command(subcommand)]
    command: Option<TutorialCommand>,
    /// A lesson: its number (`01`) or file name; none resumes where you stopped
    name: Option<String>,
    /// List the lessons, with your progress
    #[arg(long)]
    list: bool,
    /// Forget your progress (in the named lesson, else in all) and remove the lessons' containers and files
    #[arg(long)]
    reset: bool,
    /// Run every step without pausing, in a fresh state, and report the first that does not match
    #[arg(long)]
    check: bool,
    /// Read the lessons from this folder (NN-topic.md files, translations in zh-CN/) instead of the built-in ones
    #[arg(long, value_name = "DIR", global = true)]
    dir: Option<PathBuf>,
    /// Language of the lessons: en or zh (default: from LC_ALL, LC_MESSAGES or LANG)
    #[arg(long, value_name = "LANG", global = true)]
    lang: Option<String>,
}

#[derive(Debug, Subcommand)]
enum TutorialCommand {
    /// Check the exercises of a lesson and say what is missing (a teacher can grade with it)
    Grade {
        /// The lesson: its number (`08`) or file name
        name: String,
        /// The state root to check (default: the lesson's own, where `skiff tutorial NN` ran; else yours)
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
}

/// Set by Ctrl-C while a lesson's command runs: the runner stops that command, not the lesson.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
fn catch_ctrl_c() {
    extern "C" fn on_sigint(_: libc::c_int) {
        INTERRUPTED.store(true, Ordering::SeqCst);
    }
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t);
    }
}

#[cfg(not(unix))]
fn catch_ctrl_c() {}

/// The line editor on a terminal: editing, history (kept in the classroom), Ctrl-C and Ctrl-D.
struct Editor {
    ed: rustyline::DefaultEditor,
    history: PathBuf,
}

impl Input for Editor {
    fn read_line(&mut self, prompt: &str, out: &mut dyn Write) -> std::io::Result<Line> {
        out.flush()?;
        INTERRUPTED.store(false, Ordering::SeqCst);
        match self.ed.readline(prompt) {
            Ok(l) => Ok(Line::Text(l)),
            Err(rustyline::error::ReadlineError::Interrupted) => Ok(Line::Interrupted),
            Err(rustyline::error::ReadlineError::Eof) => Ok(Line::Eof),
            Err(e) => Err(std::io::Error::other(e.to_string())),
        }
    }

    fn add_history(&mut self, line: &str) {
        let _ = self.ed.add_history_entry(line);
        let _ = self.ed.save_history(&self.history);
    }
}

fn lessons(a: &TutorialArgs, lang: Lang) -> anyhow::Result<Vec<Lesson>> {
    Ok(match &a.dir {
        Some(d) => tutorial::library::from_dir(d, lang).map_err(|e| anyhow::anyhow!("{}: {e}", d.display()))?,
        None => tutorial::library::builtin(lang),
    })
}

fn pick<'a>(all: &'a [Lesson], name: &str) -> anyhow::Result<&'a Lesson> {
    all.iter().find(|l| l.is_named(name)).ok_or_else(|| anyhow::anyhow!("No such tutorial: {name}"))
}

pub fn exec(a: TutorialArgs) -> anyhow::Result<i32> {
    let lang = match &a.lang {
        Some(l) => {
            Lang::parse(l).ok_or_else(|| anyhow::anyhow!("unknown language {l:?}: the lessons are in en and zh"))?
        }
        None => Lang::from_env(),
    };
    let all = lessons(&a, lang)?;
    anyhow::ensure!(!all.is_empty(), "no tutorials found");
    let skiff = std::env::current_exe()?;
    let classroom = Classroom::new(&Store::default_root());

    if let Some(TutorialCommand::Grade { name, root }) = &a.command {
        return grade(&classroom, pick(&all, name)?, root.as_deref(), &skiff);
    }
    if a.reset {
        match &a.name {
            Some(n) => {
                let l = pick(&all, n)?;
                classroom.reset(&l.stem, &skiff)?;
                println!("Forgot your progress in {}", l.stem);
            }
            None => {
                let gone = classroom.reset_all(&skiff)?;
                println!("Forgot your progress in {} lesson(s)", gone.len());
            }
        }
        return Ok(0);
    }
    if a.list {
        list(&all, &classroom);
        return Ok(0);
    }
    if a.check {
        let selected: Vec<&Lesson> = match &a.name {
            Some(n) => vec![pick(&all, n)?],
            None => all.iter().collect(),
        };
        let mut failed = 0;
        for l in selected {
            let t = l.parse()?;
            let mut runner = tutorial::Runner::new(skiff.clone())?;
            match tutorial::check(&t, &mut runner) {
                Ok(r) => println!("ok   {} ({} steps, {} exercises)", l.path.display(), r.steps, r.exercises),
                Err(f) => {
                    println!("FAIL {f}");
                    failed += 1;
                }
            }
        }
        return Ok(if failed > 0 { 1 } else { 0 });
    }

    // The classroom: the named lesson, else the one in progress, else the next one.
    let progress = classroom.load();
    let lesson = match &a.name {
        Some(n) => pick(&all, n)?,
        None => {
            let current = progress.current.as_ref().and_then(|c| all.iter().position(|l| &l.stem == c));
            match current {
                Some(i) if !progress.lessons.get(&all[i].stem).is_some_and(|p| p.done) => &all[i],
                Some(i) if i + 1 < all.len() => &all[i + 1],
                Some(_) => {
                    list(&all, &classroom);
                    println!("\nEvery lesson is done. Start one again with: skiff tutorial NN");
                    return Ok(0);
                }
                None => {
                    list(&all, &classroom);
                    println!();
                    &all[0]
                }
            }
        }
    };
    walk(&classroom, &all, lesson, &skiff)
}

fn list(all: &[Lesson], classroom: &Classroom) {
    let progress = classroom.load();
    println!("Lessons:");
    for l in all {
        let title = l.parse().map(|t| t.title).unwrap_or_else(|e| format!("({e})"));
        let mark = match progress.lessons.get(&l.stem) {
            Some(p) if p.done => "  ✓ done".to_string(),
            Some(p) => format!("  ▸ at stop {}", p.next + 1),
            None => String::new(),
        };
        println!("  {}  {title}{mark}", l.stem);
    }
    println!("\nStart one with: skiff tutorial 01   (check your exercises: skiff tutorial grade NN)");
}

fn walk(classroom: &Classroom, all: &[Lesson], lesson: &Lesson, skiff: &Path) -> anyhow::Result<i32> {
    let t = lesson.parse()?;
    let stem = lesson.stem.clone();
    let mut progress = classroom.load();
    let mut start = 0;
    let mut cwd = None;
    match progress.lessons.get(&stem) {
        Some(p) if p.done => {
            println!("(you finished this lesson before: starting it over)");
            classroom.reset(&stem, skiff)?;
        }
        Some(p) if tutorial::stop_command(&t, p.next) == p.command && p.next > 0 => {
            start = p.next;
            cwd = p.cwd.clone();
        }
        Some(_) => {
            println!("(this lesson changed since you left it: starting it over)");
            classroom.reset(&stem, skiff)?;
        }
        None => {
            if classroom.sandbox(&stem).0.exists() {
                classroom.reset(&stem, skiff)?;
            }
        }
    }
    progress = classroom.load();
    progress.current = Some(stem.clone());
    classroom.save(&progress)?;

    let mut runner = classroom.runner(&stem, skiff.to_path_buf())?;
    runner.set_cwd(cwd);
    // A learner's command runs until it ends or Ctrl-C stops it (`logs -f` of a server).
    runner.timeout = std::time::Duration::from_secs(24 * 3600);
    catch_ctrl_c();
    runner.interrupt = Some(&INTERRUPTED);
    let stops = tutorial::stops(&t.items);
    let mut saved = |next: usize, r: &tutorial::Runner| {
        let mut p = classroom.load();
        p.current = Some(stem.clone());
        p.lessons.insert(
            stem.clone(),
            tutorial::LessonProgress {
                next,
                command: tutorial::stop_command(&t, next),
                cwd: Some(r.cwd()),
                done: next >= stops,
            },
        );
        let _ = classroom.save(&p);
    };
    let mut out = std::io::stdout();
    let res = if std::io::stdin().is_terminal() {
        let history = classroom.dir.join("history.txt");
        let mut ed = rustyline::DefaultEditor::new()?;
        let _ = ed.load_history(&history);
        let mut input = Editor { ed, history };
        tutorial::walk(&t, &mut runner, &mut input, &mut out, start, &mut saved)?
    } else {
        let stdin = std::io::stdin();
        let mut input = tutorial::Lines(stdin.lock());
        tutorial::walk(&t, &mut runner, &mut input, &mut out, start, &mut saved)?
    };
    if !res.quit {
        if let Some(next) = all.iter().skip_while(|l| l.stem != lesson.stem).nth(1) {
            println!("Next: skiff tutorial {}", next.stem.split('-').next().unwrap_or(&next.stem));
        }
    }
    Ok(0)
}

fn grade(classroom: &Classroom, lesson: &Lesson, root: Option<&Path>, skiff: &Path) -> anyhow::Result<i32> {
    let t = lesson.parse()?;
    let sandbox = classroom.sandbox(&lesson.stem).0;
    let (root, mut runner) = match root {
        Some(r) => (
            r.to_path_buf(),
            tutorial::Runner::with_dirs(skiff.to_path_buf(), r.to_path_buf(), std::env::current_dir()?)?,
        ),
        None if sandbox.is_dir() => (sandbox, classroom.runner(&lesson.stem, skiff.to_path_buf())?),
        None => {
            let r = Store::default_root();
            (r.clone(), tutorial::Runner::with_dirs(skiff.to_path_buf(), r, std::env::current_dir()?)?)
        }
    };
    println!("Grading {} in {}", lesson.stem, root.display());
    let graded = tutorial::grade(&t, &mut runner);
    print!("{}", tutorial::render_grades(&t, &graded));
    Ok(if graded.iter().all(|g| g.passed()) { 0 } else { 1 })
}
