//! Running tutorial commands: `sh -c` in a per-tutorial working directory and SKIFF_ROOT, output merged, with a timeout.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::parse::Step;

/// How long to wait for the output pipe to close after the shell exited (a background process that kept
/// stdout/stderr open would otherwise block forever).
const PIPE_GRACE: Duration = Duration::from_secs(1);

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// stdout and stderr merged in the order written (lossy UTF-8, CRLF normalised to LF).
    pub output: String,
    /// Exit code; 128+N when killed by signal N (as shells report it); -1 when unknown.
    pub exit: i32,
    /// The command ran longer than the timeout and was killed (with its process group).
    pub timed_out: bool,
}

/// Runs the steps of one tutorial, each through `sh -c`, in `workdir` with `SKIFF_ROOT=root`.
pub struct Runner {
    /// The skiff binary under test: a command's first word `skiff` is replaced by it, and its
    /// directory goes first on PATH.
    pub skiff: PathBuf,
    pub root: PathBuf,
    pub workdir: PathBuf,
    /// Per command (default 60 s).
    pub timeout: Duration,
    /// Extra environment for every command (after SKIFF_ROOT and PATH, so it can override them).
    pub env: Vec<(String, String)>,
    /// Set (by a Ctrl-C handler) to stop the command running now: it is killed with its process group and
    /// reported with exit code 130, as a shell reports a command ended by Ctrl-C. Cleared when seen.
    pub interrupt: Option<&'static std::sync::atomic::AtomicBool>,
    /// Directory after the last command (`cd` persists between steps); None = `workdir`.
    cwd: Option<PathBuf>,
    /// The shell writes its final directory here.
    pwd_file: PathBuf,
    /// The root is this runner's own: containers a tutorial leaves running are removed with it.
    owns_root: bool,
    _temps: Vec<TempDir>,
}

impl Drop for Runner {
    /// A lesson that stopped half-way may leave detached containers: remove them (their
    /// supervisors) before the temporary root goes.
    fn drop(&mut self) {
        if self.owns_root {
            self.remove_containers();
        }
    }
}

fn temp(prefix: &str) -> io::Result<TempDir> {
    tempfile::Builder::new().prefix(prefix).tempdir()
}

impl Runner {
    /// A runner with a fresh temporary SKIFF_ROOT and working directory (removed when the Runner is dropped).
    pub fn new(skiff: PathBuf) -> io::Result<Runner> {
        let root = temp("skiff-tutorial-root-")?;
        let work = temp("skiff-tutorial-work-")?;
        let mut r = Runner::with_dirs(skiff, root.path().to_path_buf(), work.path().to_path_buf())?;
        r._temps.push(root);
        r._temps.push(work);
        r.owns_root = true;
        Ok(r)
    }

    /// A runner using the given (existing) root and working directory, which it leaves in place.
    pub fn with_dirs(skiff: PathBuf, root: PathBuf, workdir: PathBuf) -> io::Result<Runner> {
        let state = temp("skiff-tutorial-state-")?;
        let skiff = std::path::absolute(&skiff)?;
        Ok(Runner {
            skiff,
            root,
            workdir,
            timeout: Duration::from_secs(60),
            env: Vec::new(),
            interrupt: None,
            cwd: None,
            pwd_file: state.path().join("pwd"),
            owns_root: false,
            _temps: vec![state],
        })
    }

    /// The directory the next command runs in (the working directory unless a step did `cd`).
    pub fn cwd(&self) -> PathBuf {
        self.cwd.clone().unwrap_or_else(|| self.workdir.clone())
    }

    /// Continues in `dir` (a lesson resumed where a `cd` had left it); `None` goes back to `workdir`.
    pub fn set_cwd(&mut self, dir: Option<PathBuf>) {
        self.cwd = dir.filter(|d| d.is_dir());
    }

    /// Removes every container of the root (`rm -f`), stopping their supervisors; errors are ignored.
    pub fn remove_containers(&self) {
        let run = |args: &[&str]| {
            Command::new(&self.skiff)
                .args(args)
                .env("SKIFF_ROOT", &self.root)
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .output()
        };
        if let Ok(out) = run(&["ps", "-a", "-q", "--no-trunc"]) {
            let ids: Vec<String> =
                String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect();
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f"];
                args.extend(ids.iter().map(String::as_str));
                let _ = run(&args);
            }
        }
    }

    /// Writes a tutorial's ```file block, relative to the current directory (creating parent directories).
    pub fn write_file(&self, name: &str, content: &str) -> io::Result<()> {
        let path = self.cwd().join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, content)
    }

    /// Runs one step's command (whether or not it is marked skip).
    pub fn run(&mut self, step: &Step) -> io::Result<Outcome> {
        self.run_command(&step.command)
    }

    /// The shell text actually run for a tutorial command.
    fn script(&self, command: &str) -> String {
        let skiff = shell_quote(&self.skiff.to_string_lossy());
        let command = match command.strip_prefix("skiff") {
            Some(rest) if rest.is_empty() || rest.starts_with([' ', '\t', '\n']) => {
                format!("{skiff}{rest}")
            }
            _ => command.to_string(),
        };
        // On the command's first line so that shell error messages keep the tutorial's line numbers.
        format!("__skiff_pwd=$1; shift; trap 'pwd > \"$__skiff_pwd\" 2>/dev/null' EXIT; {command}")
    }

    /// The `sh -c` command for a tutorial command, in the current directory with the runner's environment.
    fn shell(&self, command: &str) -> io::Result<Command> {
        let mut path_var: Vec<PathBuf> = Vec::new();
        if let Some(dir) = self.skiff.parent() {
            path_var.push(dir.to_path_buf());
        }
        if let Some(p) = std::env::var_os("PATH") {
            path_var.extend(std::env::split_paths(&p));
        }
        let path_var: OsString = std::env::join_paths(path_var).map_err(io::Error::other)?;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(self.script(command))
            .arg("sh")
            .arg(&self.pwd_file)
            .current_dir(self.cwd())
            .env("SKIFF_ROOT", &self.root)
            .env("PATH", path_var)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        Ok(cmd)
    }

    /// Reads the directory the last command ended in.
    fn follow_cd(&mut self) {
        if let Ok(dir) = fs::read_to_string(&self.pwd_file) {
            let dir = dir.trim_end_matches('\n');
            if !dir.is_empty() {
                self.cwd = Some(PathBuf::from(dir));
            }
        }
    }

    /// Runs a command with the terminal (stdin, stdout, stderr inherited, in skiff's process group), for
    /// interactive commands (`run -it`) in the classroom; its output is not captured. Returns its exit code.
    pub fn run_attached(&mut self, command: &str) -> io::Result<i32> {
        let _ = fs::remove_file(&self.pwd_file);
        let status = self.shell(command)?.status()?;
        self.follow_cd();
        if let Some(flag) = &self.interrupt {
            flag.store(false, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(exit_code(&status))
    }

    /// Runs a command line as a tutorial step would (`$ ` already removed).
    pub fn run_command(&mut self, command: &str) -> io::Result<Outcome> {
        self.run_command_streaming(command, &mut io::sink())
    }

    /// `run_command`, also copying the output to `echo` as it comes (what the learner sees).
    pub fn run_command_streaming(&mut self, command: &str, echo: &mut dyn io::Write) -> io::Result<Outcome> {
        let _ = fs::remove_file(&self.pwd_file);
        let (mut reader, writer) = io::pipe()?;
        let mut cmd = self.shell(command)?;
        cmd.stdin(Stdio::null()).stdout(writer.try_clone()?).stderr(writer);
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let spawned = cmd.spawn();
        drop(cmd); // closes our copies of the pipe's write end
        let mut child = spawned?;

        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });

        let deadline = Instant::now() + self.timeout;
        let mut output = Vec::new();
        let mut timed_out = false;
        let mut interrupted = false;
        let status = loop {
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok(chunk) => {
                    let _ = echo.write_all(&chunk).and_then(|_| echo.flush());
                    output.extend_from_slice(&chunk)
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => std::thread::sleep(Duration::from_millis(5)),
            }
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() >= deadline {
                timed_out = true;
                kill_tree(&mut child);
                break child.wait()?;
            }
            if let Some(flag) = &self.interrupt {
                if flag.swap(false, std::sync::atomic::Ordering::SeqCst) {
                    interrupted = true;
                    kill_tree(&mut child);
                    break child.wait()?;
                }
            }
        };
        let grace_end = Instant::now() + PIPE_GRACE;
        loop {
            let left = grace_end.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(chunk) => {
                    let _ = echo.write_all(&chunk).and_then(|_| echo.flush());
                    output.extend_from_slice(&chunk)
                }
                Err(_) => break,
            }
        }
        self.follow_cd();
        let output = String::from_utf8_lossy(&output).replace("\r\n", "\n");
        let exit = if interrupted { 130 } else { exit_code(&status) };
        Ok(Outcome { output, exit, timed_out })
    }
}

fn exit_code(status: &std::process::ExitStatus) -> i32 {
    if let Some(code) = status.code() {
        return code;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return 128 + sig;
        }
    }
    -1
}

/// Kills the command and everything it started in its process group.
fn kill_tree(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        unsafe extern "C" {
            fn kill(pid: i32, sig: i32) -> i32;
        }
        if let Ok(pid) = i32::try_from(child.id()) {
            // SAFETY: plain syscall wrapper; the group was created for this child (process_group(0)).
            unsafe {
                kill(-pid, 9);
            }
        }
    }
    let _ = child.kill();
}

/// Quotes a string for sh (single quotes unless it is plainly safe).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@%".contains(&b)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn runs_in_sandbox() {
        let mut r = Runner::new(PathBuf::from("/nonexistent/bin/skiff")).unwrap();
        r.env.push(("GREETING".into(), "hi".into()));
        let cases: &[(&str, &str, i32)] = &[
            ("echo out; echo err >&2; echo out2", "out\nerr\nout2\n", 0),
            ("exit 3", "", 3),
            ("echo $GREETING", "hi\n", 0),
            ("printf 'a\\r\\nb'", "a\nb", 0),
            ("echo \"$SKIFF_ROOT\" | grep -c skiff-tutorial-root-", "1\n", 0),
            ("echo \"$PATH\" | cut -d: -f1", "/nonexistent/bin\n", 0),
            ("pwd | grep -c skiff-tutorial-work-", "1\n", 0),
            ("cat <<EOF\nline $GREETING\nEOF", "line hi\n", 0),
            ("if then", "sh: 1: Syntax error: \"then\" unexpected\n", 2),
            ("kill -TERM $$", "", 143),
            ("mkdir -p sub/dir && cd sub", "", 0),
            ("basename \"$(pwd)\"", "sub\n", 0),
            ("cd dir; exit 1", "", 1),
            ("basename \"$(pwd)\"", "dir\n", 0),
        ];
        for (cmd, out, exit) in cases {
            let o = r.run_command(cmd).unwrap();
            assert_eq!((o.output.as_str(), o.exit, o.timed_out), (*out, *exit, false), "{cmd}");
        }
        r.write_file("f/x.txt", "content\n").unwrap();
        assert_eq!(fs::read_to_string(r.workdir.join("sub/dir/f/x.txt")).unwrap(), "content\n");
    }

    #[test]
    fn replaces_skiff_and_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("my skiff");
        fs::write(&fake, "#!/bin/sh\necho \"fake: $*\"\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
        let mut r = Runner::new(fake).unwrap();
        assert_eq!(r.run_command("skiff ps -a").unwrap().output, "fake: ps -a\n");
        assert_eq!(r.run_command("skiff").unwrap().output, "fake: \n");
        assert_eq!(r.run_command("echo skiff").unwrap().output, "skiff\n");

        r.timeout = Duration::from_millis(300);
        let start = Instant::now();
        // the background sleep holds the pipe: it must be killed with the group
        let o = r.run_command("echo before; sleep 30 & sleep 30").unwrap();
        assert!(o.timed_out);
        assert_eq!(o.output, "before\n");
        assert_eq!(o.exit, 137);
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    }

    #[test]
    fn quotes() {
        assert_eq!(shell_quote("/usr/bin/skiff"), "/usr/bin/skiff");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
