//! WASI containers that behave like Linux ones: signals and init's rules, a terminal for
//! `-t`, users and permissions, the everyday busybox applets, bounded processes.

use crate::util::{require_tool, Sandbox};
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn inspect(s: &Sandbox, c: &str, format: &str) -> String {
    s.run(&["inspect", "-f", format, c]).ok().stdout.trim().to_string()
}

fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn stop_runs_traps_and_init_ignores_what_it_does_not_handle() {
    let s = Sandbox::new();
    // A trap runs at once when the shell waits for a background job.
    let trap = "trap 'echo got TERM; exit 3' TERM; sleep 100 & wait";
    s.run(&["run", "-d", "--name", "trapper", "busybox", "sh", "-c", trap]).ok();
    eventually("the trap set", || s.run(&["exec", "trapper", "ps"]).stdout.contains("sleep 100"));
    let t0 = Instant::now();
    s.run(&["stop", "trapper"]).ok();
    assert!(t0.elapsed() < Duration::from_secs(3), "took {:?}", t0.elapsed());
    assert_eq!(inspect(&s, "trapper", "{{.State.ExitCode}}"), "3");
    assert_eq!(s.run(&["logs", "trapper"]).ok().stdout, "got TERM\n");

    // Init ignores TERM it does not handle: stop waits -t, then kills (137).
    s.run(&["run", "-d", "--name", "ignorer", "busybox", "sh", "-c", "while true; do sleep 1; done"]).ok();
    let t0 = Instant::now();
    s.run(&["stop", "-t", "1", "ignorer"]).ok();
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(inspect(&s, "ignorer", "{{.State.ExitCode}}"), "137");

    // `exec` hands PID 1 to the program; sleep takes TERM's default action.
    s.run(&["run", "-d", "--name", "execd", "busybox", "sh", "-c", "exec sleep 100"]).ok();
    std::thread::sleep(Duration::from_millis(200));
    let t0 = Instant::now();
    s.run(&["stop", "execd"]).ok();
    assert!(t0.elapsed() < Duration::from_secs(3));
    assert_eq!(inspect(&s, "execd", "{{.State.ExitCode}}"), "143");

    // kill -s delivers any signal to PID 1; HUP is trapped here.
    let hup = "trap 'echo HUP' HUP; while true; do sleep 1; done";
    s.run(&["run", "-d", "--name", "hup", "busybox", "sh", "-c", hup]).ok();
    std::thread::sleep(Duration::from_millis(200));
    s.run(&["kill", "-s", "HUP", "hup"]).ok();
    eventually("the HUP trap", || s.run(&["logs", "hup"]).stdout.contains("HUP"));
    assert_eq!(inspect(&s, "hup", "{{.State.Status}}"), "running");
    // `kill 1` from inside: init takes no signal it does not handle, not even KILL.
    s.run(&["exec", "hup", "kill", "-9", "1"]).ok();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(inspect(&s, "hup", "{{.State.Status}}"), "running");
    s.run(&["kill", "hup"]).ok();
    assert_eq!(inspect(&s, "hup", "{{.State.Status}} {{.State.ExitCode}}"), "exited 137");
}

#[test]
fn processes_signal_each_other() {
    let s = Sandbox::new();
    let out = s.sh("sleep 100 & kill $!; wait $!; echo status $?; echo $$ $PPID; trap 'echo usr1' USR1; kill -USR1 $$; echo after; kill 4242; echo $?");
    assert_eq!(out, "status 143\n1 0\nusr1\nafter\n1\n");
    // ps and kill from one process of the container reach the others.
    s.run(&["run", "-d", "--name", "cc", "busybox", "sh", "-c", "sleep 300 & sleep 301"]).ok();
    eventually("both sleeps", || s.run(&["exec", "cc", "ps"]).stdout.contains("sleep 301"));
    let ps = s.run(&["exec", "cc", "ps", "-o", "pid,args"]).ok().stdout;
    let pid = ps
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("sleep") && l.ends_with(" 300"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    s.run(&["exec", "cc", "kill", &pid]).ok();
    eventually("sleep 300 gone", || {
        !s.run(&["exec", "cc", "ps", "-o", "args"]).stdout.lines().any(|l| l == "sleep 300")
    });
    let r = s.run(&["exec", "cc", "kill", "9999"]).code(1);
    assert!(r.stderr.contains("can't kill pid 9999: No such process"), "{}", r.stderr);
    s.run(&["rm", "-f", "cc"]).ok();
}

/// The host PIDs of the skiff processes that hold a container's guests.
fn holders(s: &Sandbox, name: &str) -> Vec<u32> {
    let id = inspect(s, name, "{{.Id}}");
    std::fs::read_dir(s.root().join("containers").join(id).join("procs"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().strip_suffix(".json")?.parse().ok())
        .filter(|p: &u32| std::path::Path::new(&format!("/proc/{p}")).exists())
        .collect()
}

#[test]
fn stop_and_pause_reach_exec_processes() {
    let s = Sandbox::new();
    s.run(&["run", "-d", "--name", "svc", "busybox", "sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"])
        .ok();
    s.run(&["exec", "-d", "svc", "sh", "-c", "while true; do date >> /ticks; sleep 0.1; done"]).ok();
    eventually("the exec'd loop", || s.run(&["exec", "svc", "cat", "/ticks"]).stdout.lines().count() >= 2);
    assert!(holders(&s, "svc").len() >= 2, "the supervisor and the exec");
    s.run(&["pause", "svc"]).ok();
    let id = inspect(&s, "svc", "{{.Id}}");
    let ticks = s.root().join("containers").join(&id).join("upper/ticks");
    let n = std::fs::metadata(&ticks).unwrap().len();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(std::fs::metadata(&ticks).unwrap().len(), n, "the exec'd process is frozen too");
    s.run(&["unpause", "svc"]).ok();
    eventually("ticking again", || std::fs::metadata(&ticks).unwrap().len() > n);
    s.run(&["stop", "svc"]).ok();
    eventually("every holder gone", || holders(&s, "svc").is_empty());
}

#[test]
fn a_spinning_guest_is_stopped_at_once() {
    let s = Sandbox::new();
    s.run(&["run", "-d", "--name", "spin", "busybox", "sh", "-c", "while :; do :; done"]).ok();
    std::thread::sleep(Duration::from_millis(200));
    let t0 = Instant::now();
    s.run(&["stop", "-t", "0", "spin"]).ok();
    assert!(t0.elapsed() < Duration::from_secs(2), "took {:?}", t0.elapsed());
    assert_eq!(inspect(&s, "spin", "{{.State.ExitCode}}"), "137");
}

#[test]
fn pids_limit_bounds_a_spawn_loop() {
    let s = Sandbox::new();
    let spawn = "i=0; while [ $i -lt 60 ]; do sleep 300 & i=$((i+1)); done 2>/dev/null; echo spawned; wait";
    s.run(&["run", "-d", "--name", "bomb", "--pids-limit", "20", "busybox", "sh", "-c", spawn]).ok();
    eventually("the loop done", || s.run(&["logs", "bomb"]).stdout.contains("spawned"));
    let top = s.run(&["top", "bomb"]).ok().stdout;
    let procs = top.lines().count() - 1;
    assert!((15..=20).contains(&procs), "at most 20 processes, got {procs}:\n{top}");
    assert_eq!(inspect(&s, "bomb", "{{.State.Status}}"), "running", "the limit refuses spawns, nothing crashes");
    s.run(&["rm", "-f", "bomb"]).ok();
}

#[test]
fn a_terminal_for_dash_t() {
    let s = Sandbox::new();
    let r =
        s.run(&["run", "--rm", "-t", "busybox", "sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo TTY; echo $COLUMNS"]).ok();
    assert_eq!(r.stdout, "TTY\r\n80\r\n", "a terminal's output has \\r\\n");
    assert_eq!(s.run(&["run", "--rm", "busybox", "sh", "-c", "[ -t 1 ] || echo no"]).ok().stdout, "no\n");
}

#[test]
fn ctrl_c_reaches_the_foreground_command_and_the_shell_stays() {
    let Some(script) = require_tool("script", "bsdutils") else { return };
    let s = Sandbox::new();
    s.run(&["pull", "busybox"]).ok();
    let cmd = format!("{} run --rm -it --name tty busybox sh", crate::util::skiff_bin().display());
    let mut child = std::process::Command::new(script)
        .args(["-qefc", &cmd, "/dev/null"])
        .env("SKIFF_ROOT", s.root())
        .env("SKIFF_MODULE_CACHE", crate::util::shared_module_cache())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let typed = std::thread::spawn(move || {
        let steps: &[(&[u8], u64)] =
            &[(b"sleep 30\r", 1500), (b"\x03", 700), (b"echo status $?\r", 700), (b"exit 7\r", 500)];
        for (bytes, wait) in steps {
            std::thread::sleep(Duration::from_millis(*wait));
            let _ = input.write_all(bytes);
            let _ = input.flush();
        }
        std::thread::sleep(Duration::from_millis(3000));
    });
    let out = child.wait_with_output().unwrap();
    let _ = typed.join();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("^C"), "{text}");
    assert!(text.contains("status 130"), "Ctrl-C ended sleep (130) and the shell stayed: {text}");
    assert_eq!(out.status.code(), Some(7), "{text}");
}

#[test]
fn users_and_permissions() {
    let s = Sandbox::new();
    let r = s.run(&[
        "run",
        "--rm",
        "-u",
        "nobody",
        "busybox",
        "sh",
        "-c",
        "id; echo x > /root/f; echo rc=$?; echo ok > /tmp/f && ls -ln /tmp/f",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)");
    assert_eq!(lines[1], "rc=1");
    assert!(lines[2].starts_with("-rw-r--r--    1 65534    65534"), "{}", lines[2]);
    assert!(r.stderr.contains("/root/f: Permission denied"), "{}", r.stderr);
    assert_eq!(
        s.run(&["run", "--rm", "--user", "1000:1000", "busybox", "id"]).ok().stdout,
        "uid=1000 gid=1000 groups=1000\n"
    );
    std::fs::write(
        s.work.path().join("Dockerfile"),
        "FROM busybox\nRUN echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:1000:' >> /etc/group && mkdir -p /home/app && chown app:app /home/app\nUSER app\nWORKDIR /home/app\nRUN touch mine && whoami\nCMD [\"sh\", \"-c\", \"ls -l mine; touch /etc/no\"]\n",
    )
    .unwrap();
    s.run(&["build", "-q", "-t", "appuser", "."]).ok();
    let r = s.run(&["run", "--rm", "appuser"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains(" app      app "), "{}", r.stdout);
    assert!(r.stderr.contains("/etc/no: Permission denied"), "{}", r.stderr);
    // Root may give files away; others may not.
    let out = s.sh("touch /f && chown 1000:1000 /f && ls -ln /f");
    assert!(out.contains("1000     1000"), "{out}");
    let r = s.run(&["run", "--rm", "-u", "nobody", "busybox", "chmod", "777", "/bin"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Operation not permitted"), "{}", r.stderr);
}

#[test]
fn everyday_applets() {
    let s = Sandbox::new();
    let data = "hello layers\n";
    let want = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(data.as_bytes()))
    };
    let out = s.sh("printf 'hello layers\\n' | sha256sum");
    assert_eq!(out, format!("{want}  -\n"));
    assert_eq!(s.sh("echo 'a b c' | awk '{ print $2, NF }'"), "b 3\n");
    let out = s.sh("mkdir -p /d/e && echo one > /d/e/f && tar czf /t.tgz -C / d && rm -r /d && tar xzf /t.tgz -C / && cat /d/e/f && gzip -c /d/e/f | gunzip");
    assert_eq!(out, "one\none\n");
    assert_eq!(s.sh("printf 'a\\nb\\n' > /1; printf 'a\\nc\\n' > /2; diff /1 /2; echo $?"), "2c2\n< b\n---\n> c\n1\n");
    assert_eq!(s.sh("printf 'AB' | od -c | head -1"), "0000000   A   B\n");
    let ps = s.sh("ps");
    assert!(ps.starts_with("PID   USER     TIME  COMMAND\n    1 root"), "{ps}");
    for cmd in ["free", "uptime", "df -h /", "top -b -n 1"] {
        let r = s.run(&["run", "--rm", "busybox", "sh", "-c", cmd]);
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
        assert!(!r.stdout.is_empty(), "{cmd}");
    }
}
