//! Containers that live on: detached runs and their supervisors, logs, exec, stop/start,
//! kill, wait, rename, prune, and state that stays right when a supervisor is killed.

use super::util::Sandbox;
use std::time::{Duration, Instant};

fn inspect(s: &Sandbox, c: &str, format: &str) -> String {
    s.run(&["inspect", "-f", format, c]).ok().stdout.trim_end().to_string()
}

/// Poll `cond` for up to 10 s.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn detached_containers_outlive_the_command_and_log() {
    let s = Sandbox::new();
    let id = s
        .run(&[
            "run",
            "-d",
            "--name",
            "ticker",
            "busybox",
            "sh",
            "-c",
            "echo started; while [ ! -f /flag ]; do sleep 1; done; echo saw flag; cat /flag; exit 4",
        ])
        .ok()
        .stdout;
    assert_eq!(id.trim().len(), 64, "the full ID: {id}");
    let ps = s.run(&["ps"]).ok().stdout;
    assert!(ps.lines().nth(1).unwrap().contains("   Up ") && ps.contains("ticker"), "{ps}");
    assert_eq!(inspect(&s, "ticker", "{{.State.Status}} {{.State.Running}}"), "running true");
    let pid: u32 = inspect(&s, "ticker", "{{.State.Pid}}").parse().unwrap();
    assert_ne!(pid, 0);
    eventually("the first line", || s.run(&["logs", "ticker"]).ok().stdout == "started\n");
    // exec runs beside it over the same files: its write is seen by the main process.
    assert_eq!(s.run(&["exec", "ticker", "sh", "-c", "echo from-exec > /flag; cat /flag"]).ok().stdout, "from-exec\n");
    assert_eq!(s.run(&["wait", "ticker"]).ok().stdout, "4\n");
    assert_eq!(s.run(&["logs", "ticker"]).ok().stdout, "started\nsaw flag\nfrom-exec\n");
    assert_eq!(s.run(&["logs", "--tail", "1", "ticker"]).ok().stdout, "from-exec\n");
    let stamped = s.run(&["logs", "-t", "--tail", "1", "ticker"]).ok().stdout;
    assert!(stamped.starts_with("20") && stamped.contains("Z from-exec"), "{stamped}");
    assert_eq!(s.run(&["logs", "--since", "2000-01-01T00:00:00Z", "ticker"]).ok().stdout.lines().count(), 3);
    assert_eq!(s.run(&["logs", "--since", "1h", "ticker"]).ok().stdout.lines().count(), 3);
    let ps = s.run(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]).ok().stdout;
    assert!(ps.starts_with("ticker Exited (4) "), "{ps}");
    let r = s.run(&["exec", "ticker", "true"]).code(1);
    assert!(r.stderr.starts_with("Error: Container ") && r.stderr.ends_with(" is not running\n"), "{}", r.stderr);
    // An attached run logs too.
    s.run(&["run", "--name", "fg", "busybox", "echo", "in the foreground"]).ok();
    assert_eq!(s.run(&["logs", "fg"]).ok().stdout, "in the foreground\n");
}

#[test]
fn stop_and_start_keep_the_writable_layer() {
    let s = Sandbox::new();
    // A shell that traps TERM runs its trap on `stop` (after its foreground `sleep 1`, as ash).
    let trapping = "trap 'echo got TERM; exit 0' TERM; while true; do sleep 1; done";
    s.run(&["run", "-d", "--name", "svc", "busybox", "sh", "-c", trapping]).ok();
    s.run(&["exec", "svc", "sh", "-c", "echo kept > /state.txt"]).ok();
    let t0 = Instant::now();
    assert_eq!(s.run(&["stop", "svc"]).ok().stdout, "svc\n");
    assert!(t0.elapsed() < Duration::from_secs(5), "the trap ends it before the timeout");
    let status = inspect(&s, "svc", "{{.State.Status}} {{.State.Running}} {{.State.ExitCode}}");
    assert_eq!(status, "exited false 0", "the trap's exit 0");
    assert_eq!(s.run(&["logs", "svc"]).ok().stdout, "got TERM\n");
    assert_eq!(s.run(&["start", "svc"]).ok().stdout, "svc\n");
    assert_eq!(inspect(&s, "svc", "{{.State.Status}}"), "running");
    assert_eq!(s.run(&["exec", "svc", "cat", "/state.txt"]).ok().stdout, "kept\n");
    assert_eq!(s.run(&["restart", "-t", "1", "svc"]).ok().stdout, "svc\n");
    assert_eq!(inspect(&s, "svc", "{{.State.Status}}"), "running");
    // PID 1 does not take a signal it has no handler for (init's rule in a PID namespace).
    assert_eq!(s.run(&["kill", "-s", "SIGUSR1", "svc"]).ok().stdout, "svc\n");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(inspect(&s, "svc", "{{.State.Status}}"), "running");
    assert_eq!(s.run(&["kill", "svc"]).ok().stdout, "svc\n");
    assert_eq!(inspect(&s, "svc", "{{.State.Status}} {{.State.ExitCode}}"), "exited 137");
    let r = s.run(&["kill", "svc"]).code(1);
    assert!(r.stderr.contains("is not running"), "{}", r.stderr);
    s.run(&["rename", "svc", "svc2"]).ok();
    assert_eq!(inspect(&s, "svc2", "{{.Name}}"), "/svc2");
    s.run(&["inspect", "svc"]).code(1);
    s.run(&["rm", "svc2"]).ok();
    assert_eq!(s.run(&["ps", "-a", "-q"]).ok().stdout, "");
}

#[test]
fn a_killed_supervisor_leaves_a_consistent_state() {
    let s = Sandbox::new();
    s.run(&["run", "-d", "--name", "victim", "busybox", "sleep", "600"]).ok();
    let pid: i32 = inspect(&s, "victim", "{{.State.Pid}}").parse().unwrap();
    #[cfg(unix)]
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    eventually("the supervisor to die", || inspect(&s, "victim", "{{.State.Status}}") == "exited");
    assert_eq!(inspect(&s, "victim", "{{.State.ExitCode}}"), "137");
    let ps = s.run(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]).ok().stdout;
    assert!(ps.starts_with("victim Exited (137) "), "{ps}");
    s.run(&["rm", "victim"]).ok();
    // rm -f kills a running container first.
    s.run(&["run", "-d", "--name", "forced", "busybox", "sleep", "600"]).ok();
    s.run(&["rm", "victim2"]).code(1);
    let r = s.run(&["rm", "forced"]).code(1);
    assert!(r.stderr.contains("You cannot remove a running container"), "{}", r.stderr);
    assert_eq!(s.run(&["rm", "-f", "forced"]).ok().stdout, "forced\n");
    assert_eq!(s.run(&["ps", "-a", "-q"]).ok().stdout, "");
}

#[test]
fn random_names_prune_and_errors() {
    let s = Sandbox::new();
    s.run(&["run", "busybox", "true"]).ok();
    s.run(&["run", "-d", "busybox", "sleep", "600"]).ok();
    let names = s.run(&["ps", "-a", "--format", "{{.Names}}"]).ok().stdout;
    for n in names.lines() {
        let (adj, noun) = n.split_once('_').unwrap_or_else(|| panic!("a Docker-style name: {n}"));
        assert!(!adj.is_empty() && !noun.is_empty(), "{n}");
    }
    let r = s.run(&["container", "prune", "-f"]).ok().stdout;
    assert!(r.starts_with("Deleted Containers:\n") && r.lines().count() == 4, "only the stopped one:\n{r}");
    assert_eq!(s.run(&["ps", "-a", "-q"]).ok().stdout.lines().count(), 1);
    assert_eq!(s.run(&["stop", "nope"]).code(1).stderr, "Error: No such container: nope\n");
    assert_eq!(s.run(&["logs", "nope"]).code(1).stderr, "Error: No such container: nope\n");
    let r = s.run(&["run", "-d", "busybox", "nosuchcmd"]).code(127);
    assert!(r.stderr.contains("executable file not found"), "{}", r.stderr);
    let id = s.run(&["ps", "-a", "-l", "--format", "{{.Status}}"]).ok().stdout;
    assert_eq!(id, "Created\n", "a container whose program could not start stays Created");
    let all = s.run(&["ps", "-q"]).ok().stdout;
    s.run(&["rm", "-f", all.trim()]).ok();
}

#[test]
fn logs_follow_until_the_container_stops() {
    let s = Sandbox::new();
    s.run(&["run", "-d", "--name", "follow", "busybox", "sh", "-c", "for i in 1 2 3; do echo line $i; sleep 1; done"])
        .ok();
    let t0 = Instant::now();
    let out = s.run(&["logs", "-f", "follow"]).ok().stdout;
    assert_eq!(out, "line 1\nline 2\nline 3\n");
    assert!(t0.elapsed() >= Duration::from_millis(1500), "-f waited for the container");
}

#[test]
fn pause_freezes_and_unpause_resumes() {
    let s = Sandbox::new();
    s.run(&["run", "-d", "--name", "counter", "busybox", "sh", "-c", "while true; do date +%s > /now; sleep 1; done"])
        .ok();
    assert_eq!(s.run(&["pause", "counter"]).ok().stdout, "counter\n");
    let ps = s.run(&["ps", "--format", "{{.Names}} {{.State}} {{.Status}}"]).ok().stdout;
    assert!(ps.starts_with("counter paused Up ") && ps.trim_end().ends_with("(Paused)"), "{ps}");
    assert_eq!(inspect(&s, "counter", "{{.State.Status}} {{.State.Running}} {{.State.Paused}}"), "paused true true");
    let r = s.run(&["exec", "counter", "true"]).code(1);
    assert!(r.stderr.contains("is paused, unpause the container before exec"), "{}", r.stderr);
    assert!(s.run(&["pause", "counter"]).code(1).stderr.contains("is already paused"));
    assert_eq!(s.run(&["unpause", "counter"]).ok().stdout, "counter\n");
    assert_eq!(inspect(&s, "counter", "{{.State.Status}}"), "running");
    s.run(&["exec", "counter", "true"]).ok();
    s.run(&["pause", "counter"]).ok();
    assert_eq!(s.run(&["stop", "-t", "1", "counter"]).ok().stdout, "counter\n", "a paused container can be stopped");
    assert_eq!(inspect(&s, "counter", "{{.State.Status}}"), "exited");
    assert!(s.run(&["unpause", "counter"]).code(1).stderr.contains("is not paused"));
}

#[test]
fn restart_policies() {
    let s = Sandbox::new();
    s.run(&["run", "-d", "--restart", "on-failure:2", "--name", "flaky", "busybox", "sh", "-c", "echo try; exit 3"])
        .ok();
    eventually("two restarts", || inspect(&s, "flaky", "{{.State.Status}} {{.RestartCount}}") == "exited 2");
    assert_eq!(s.run(&["logs", "flaky"]).ok().stdout, "try\ntry\ntry\n");
    assert_eq!(
        inspect(
            &s,
            "flaky",
            "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}} {{.State.ExitCode}}"
        ),
        "on-failure 2 3"
    );
    s.run(&["run", "-d", "--restart", "always", "--name", "forever", "busybox", "sh", "-c", "echo up; exit 0"]).ok();
    eventually("a restart", || inspect(&s, "forever", "{{.RestartCount}}") != "0");
    s.run(&["stop", "forever"]).ok();
    assert_eq!(inspect(&s, "forever", "{{.State.Status}}"), "exited", "stop ends an `always` container");
    assert!(s
        .run(&["run", "--rm", "--restart", "always", "busybox", "true"])
        .code(125)
        .stderr
        .contains("Conflicting options: --restart and --rm"));
    assert!(s
        .run(&["run", "--restart", "sometimes", "busybox", "true"])
        .code(125)
        .stderr
        .contains("invalid restart policy format"));
}

#[test]
fn a_memory_limit_ends_a_runaway_guest() {
    let s = Sandbox::new();
    let r = s
        .run(&[
            "run",
            "-m",
            "16m",
            "--name",
            "hog",
            "busybox",
            "sh",
            "-c",
            "x=aaaaaaaaaaaaaaaa; while true; do x=\"$x$x\"; done",
        ])
        .code(137);
    let _ = r;
    assert_eq!(
        inspect(&s, "hog", "{{.State.ExitCode}} {{.State.OOMKilled}} {{.HostConfig.Memory}}"),
        "137 true 16777216"
    );
    s.run(&["run", "-m", "16m", "busybox", "echo", "small is fine"]).ok();
    assert!(s
        .run(&["run", "-m", "1m", "busybox", "true"])
        .code(125)
        .stderr
        .contains("Minimum memory limit allowed is 6MB"));
}

#[test]
fn cp_copies_both_ways() {
    let s = Sandbox::new();
    s.run(&["run", "-d", "--name", "box1", "-h", "boxhost", "busybox", "sleep", "600"]).ok();
    let w = s.work.path();
    // Out of the container: a file into a directory, a directory tree.
    s.run(&["cp", "box1:/etc/hostname", w.to_str().unwrap()]).ok();
    assert_eq!(std::fs::read_to_string(w.join("hostname")).unwrap(), "boxhost\n");
    s.run(&["exec", "box1", "sh", "-c", "mkdir -p /out/sub && echo deep > /out/sub/f"]).ok();
    s.run(&["cp", "box1:/out", w.join("copied").to_str().unwrap()]).ok();
    assert_eq!(std::fs::read_to_string(w.join("copied/sub/f")).unwrap(), "deep\n");
    // Into it: the running process sees the file at once; it is in the writable layer.
    std::fs::write(w.join("note.txt"), "from the host\n").unwrap();
    s.run(&["cp", w.join("note.txt").to_str().unwrap(), "box1:/tmp/"]).ok();
    assert_eq!(s.run(&["exec", "box1", "cat", "/tmp/note.txt"]).ok().stdout, "from the host\n");
    std::fs::create_dir_all(w.join("tree/a")).unwrap();
    std::fs::write(w.join("tree/a/b.txt"), "b\n").unwrap();
    s.run(&["cp", w.join("tree").to_str().unwrap(), "box1:/srv"]).ok();
    assert_eq!(s.run(&["exec", "box1", "cat", "/srv/a/b.txt"]).ok().stdout, "b\n");
    let diff = s.run(&["diff", "box1"]).ok().stdout;
    assert!(diff.contains("A /tmp/note.txt") && diff.contains("A /srv/a/b.txt"), "{diff}");
    let r = s.run(&["cp", "box1:/nope", w.to_str().unwrap()]).code(1);
    assert_eq!(r.stderr, "Error: Could not find the file /nope in container box1\n");
    let r = s.run(&["cp", "/no/such/file", "box1:/tmp/"]).code(1);
    assert_eq!(r.stderr, "Error: lstat /no/such/file: no such file or directory\n");
    s.run(&["cp", "nope:/etc/hostname", w.to_str().unwrap()]).code(1);
    s.run(&["rm", "-f", "box1"]).ok();
}

#[test]
fn top_and_stats_show_the_processes() {
    let s = Sandbox::new();
    s.run(&["run", "-d", "--name", "busy", "-m", "64m", "busybox", "sh", "-c", "while true; do sleep 1; done"]).ok();
    s.run(&["exec", "-d", "busy", "sleep", "30"]).ok();
    eventually("the exec'd sleep", || s.run(&["top", "busy"]).ok().stdout.contains("sleep 30"));
    let top = s.run(&["top", "busy"]).ok().stdout;
    let lines: Vec<&str> = top.lines().collect();
    assert!(lines[0].starts_with("UID") && lines[0].contains("PID") && lines[0].ends_with("CMD"), "{top}");
    let pid = inspect(&s, "busy", "{{.State.Pid}}");
    let main =
        lines.iter().find(|l| l.ends_with("sh -c while true; do sleep 1; done")).unwrap_or_else(|| panic!("{top}"));
    let cols: Vec<&str> = main.split_whitespace().collect();
    assert_eq!(
        (cols[1], cols[2], cols[3]),
        ("1", "0", pid.as_str()),
        "the main process is 1, held by the supervisor:\n{top}"
    );
    let stats = s.run(&["stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}"]).ok().stdout;
    let f: Vec<&str> = stats.split_whitespace().collect();
    assert_eq!(f[0], "busy", "{stats}");
    assert!(f[1].ends_with("MiB") && f[3] == "64MiB", "{stats}");
    assert!(f[4].parse::<u32>().unwrap() >= 2, "{stats}");
    s.run(&["rm", "-f", "busy"]).ok();
    assert!(s.run(&["top", "busy"]).code(1).stderr.contains("No such container"));
}

#[test]
fn start_attached_runs_again_in_the_foreground() {
    let s = Sandbox::new();
    s.run(&["run", "--name", "again", "busybox", "sh", "-c", "echo run >> /runs; cat /runs; exit 2"]).code(2);
    let r = s.run(&["start", "-a", "again"]).code(2);
    assert_eq!(r.stdout, "run\nrun\n", "the same writable layer, the output here");
    assert_eq!(s.run(&["logs", "again"]).ok().stdout, "run\nrun\nrun\n");
    let r = s.run_stdin(&["start", "-a", "-i", "again"], "");
    assert_eq!(r.code, 2);
    assert_eq!(inspect(&s, "again", "{{.State.Status}} {{.State.ExitCode}}"), "exited 2");
}

#[test]
fn exec_takes_env_workdir_and_stdin() {
    let s = Sandbox::new();
    s.run(&["run", "-d", "--name", "ex", "-e", "FROM_RUN=1", "busybox", "sleep", "600"]).ok();
    let out =
        s.run(&["exec", "-e", "EXTRA=2", "-w", "/tmp", "ex", "sh", "-c", "echo $FROM_RUN $EXTRA $(pwd)"]).ok().stdout;
    assert_eq!(out, "1 2 /tmp\n");
    assert_eq!(s.run_stdin(&["exec", "-i", "ex", "cat"], "piped in\n").ok().stdout, "piped in\n");
    assert_eq!(s.run(&["exec", "ex", "sh", "-c", "exit 7"]).code(7).stdout, "");
    // As `docker exec`: a program that cannot start is 126, not run's 127.
    assert!(s.run(&["exec", "ex", "nosuchcmd"]).code(126).stderr.contains("executable file not found"));
    s.run(&["rm", "-f", "ex"]).ok();
}

#[test]
fn a_supervisor_whose_store_is_gone_exits() {
    let s = Sandbox::new();
    let id =
        s.run(&["run", "-d", "busybox", "sh", "-c", "while true; do sleep 1; done"]).ok().stdout.trim().to_string();
    let pid: u32 = inspect(&s, &id, "{{.State.Pid}}").parse().unwrap();
    std::fs::remove_dir_all(s.root().join("containers").join(&id)).unwrap();
    let alive = || {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z")
    };
    eventually("the orphaned supervisor to exit", || !alive());
}
