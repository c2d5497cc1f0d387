//! The rest of Docker's everyday CLI, against Docker 20.10's shapes: usage and grouped help,
//! references, create/start, `-i` containers that stay up and `attach`, events (also from
//! concurrent processes), system df/prune/info, streaming stats, health checks, exec's exit
//! codes and `--user`, completions and man pages, commit/import `-c`, export times, inspect.

use super::util::Sandbox;
use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn inspect(s: &Sandbox, c: &str, format: &str) -> String {
    s.run(&["inspect", "-f", format, c]).ok().stdout.trim_end().to_string()
}

#[test]
fn usage_and_help_like_docker() {
    let s = Sandbox::new();
    let r = s.run(&[]).code(0);
    assert!(r.stdout.contains("Usage:  skiff [OPTIONS] COMMAND"), "{}", r.stdout);
    let help = s.run(&["--help"]).ok().stdout;
    assert_eq!(r.stdout, help, "no arguments prints the help");
    let mgmt = help.find("Management Commands:\n  container   Manage containers\n").expect(&help);
    let cmds = help.find("\nCommands:\n  attach      ").expect(&help);
    assert!(mgmt < cmds);
    assert!(help.ends_with("Run 'skiff COMMAND --help' for more information on a command.\n"), "{help}");
    for verb in ["create", "events", "attach", "stats"] {
        assert!(help.contains(&format!("\n  {verb:<12}")), "{verb} listed: {help}");
    }
    // Each container verb is reached both ways.
    let both = s.run(&["container", "create", "--help"]).ok().stdout.replace("skiff container create", "skiff create");
    assert_eq!(both, s.run(&["create", "--help"]).ok().stdout);
    let r = s.run(&["foo"]).code(1);
    assert_eq!(r.stderr, "skiff: 'foo' is not a skiff command.\nSee 'skiff --help'\n");
    s.run(&["ps", "--foo"]).code(125);
}

#[test]
fn references_are_checked_like_docker() {
    let s = Sandbox::new();
    s.run(&["pull", "busybox"]).ok();
    let r = s.run(&["tag", "busybox", "YeeeChen/nginx"]).code(1);
    assert_eq!(
        r.stderr,
        "Error: Error parsing reference: \"YeeeChen/nginx\" is not a valid repository/tag: invalid reference format: repository name must be lowercase\n"
    );
    let long = format!("busybox:{}", "x".repeat(129));
    let r = s.run(&["tag", "busybox", &long]).code(1);
    assert!(r.stderr.ends_with("is not a valid repository/tag: invalid reference format\n"), "{}", r.stderr);
    s.run(&["tag", "busybox", &format!("busybox:{}", "x".repeat(128))]).ok();
    let digest = format!("busybox@sha256:{}", "a".repeat(64));
    let r = s.run(&["tag", "busybox", &digest]).code(1);
    assert_eq!(r.stderr, "Error: refusing to create a tag with a digest reference\n");
    let r = s.run(&["run", "--rm", "MyImage"]).code(125);
    assert_eq!(r.stderr, "Error: invalid reference format: repository name must be lowercase\n");
    s.run(&["tag", "busybox", "localhost:5000/Team-A/app"]).code(1);
    s.run(&["tag", "busybox", "Registry.Example.com:5000/team/app:V1"]).ok();
}

#[test]
fn create_then_start() {
    let s = Sandbox::new();
    let id = s.run(&["create", "--name", "later", "-u", "1000", "busybox", "echo", "hi"]).ok().stdout;
    assert_eq!(id.trim().len(), 64, "{id}");
    assert_eq!(s.run(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]).ok().stdout, "later Created\n");
    assert_eq!(inspect(&s, "later", "{{.Config.User}}"), "1000");
    assert_eq!(s.run(&["start", "-a", "later"]).ok().stdout, "hi\n");
    let id2 = s.run(&["container", "create", "busybox", "true"]).ok().stdout;
    assert_eq!(id2.trim().len(), 64);
    // As Docker: a name in use fails with exit 1 (not run's 125), and no pull message.
    let r = s.run(&["create", "--name", "later", "busybox"]).code(1);
    assert!(r.stderr.starts_with("Error: Conflict. The container name \"/later\" is already in use"), "{}", r.stderr);
}

/// `run -dit` and `run -di`: the container keeps its stdin open and stays up; `attach` types
/// into it and ends with its exit status; `start -a` of a running container attaches.
#[test]
fn interactive_containers_stay_up_and_attach() {
    let s = Sandbox::new();
    s.run(&["run", "-dit", "--name", "ubuntu", "busybox"]).ok();
    s.run(&["run", "-di", "--name", "shell", "busybox", "sh"]).ok();
    std::thread::sleep(Duration::from_millis(500));
    let ps = s.run(&["ps", "--format", "{{.Names}} {{.Status}}"]).ok().stdout;
    assert!(ps.contains("ubuntu Up") && ps.contains("shell Up"), "both stay up: {ps}");
    s.run(&["top", "ubuntu"]).ok();
    s.run(&["exec", "ubuntu", "true"]).ok();
    // A -t container needs a terminal to attach stdin, as Docker's.
    let r = s.run(&["attach", "ubuntu"]).code(1);
    assert_eq!(r.stderr, "Error: the input device is not a TTY\n");
    // Attach, type, read the answer; the container's exit status is attach's.
    let mut child = s.cmd(&["attach", "shell"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    stdin.write_all(b"echo typed into $((6*7))\n").unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&got).contains("typed into 42\n") {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "attach ended early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    // A second client sees the same output (start -a of a running container attaches).
    let mut watcher = s.cmd(&["start", "-a", "shell"]).stdout(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    stdin.write_all(b"echo bye; exit 7\n").unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(7));
    let mut seen = String::new();
    watcher.stdout.take().unwrap().read_to_string(&mut seen).unwrap();
    assert_eq!(watcher.wait().unwrap().code(), Some(7));
    assert!(seen.contains("bye\n"), "{seen}");
    assert_eq!(inspect(&s, "shell", "{{.State.Status}} {{.State.ExitCode}}"), "exited 7");
    // start of a stopped -i container keeps it up again.
    s.run(&["start", "shell"]).ok();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(inspect(&s, "shell", "{{.State.Status}}"), "running");
    let r = s.run(&["attach", "nope"]).code(1);
    assert_eq!(r.stderr, "Error: No such container: nope\n");
    s.run(&["create", "--name", "idle", "busybox"]).ok();
    let r = s.run(&["attach", "idle"]).code(1);
    assert_eq!(r.stderr, "Error: You cannot attach to a stopped container, start it first\n");
    let r = s.run(&["attach", "--detach-keys", "alt-x", "shell"]).code(1);
    assert_eq!(r.stderr, "Error: Invalid detach keys (alt-x) provided\n");
    s.run(&["rm", "-f", "ubuntu", "shell"]).ok();
}

#[test]
fn detach_keys_leave_the_container_running() {
    let s = Sandbox::new();
    s.run(&["run", "-di", "--name", "stay", "busybox", "sh"]).ok();
    let r = s.run_stdin(&["attach", "--detach-keys", "ctrl-a,x", "stay"], "echo before\n\x01x");
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr, "read escape sequence\n");
    assert_eq!(inspect(&s, "stay", "{{.State.Status}}"), "running");
    eventually("the typed line", || s.run(&["logs", "stay"]).ok().stdout == "before\n");
    s.run(&["rm", "-f", "stay"]).ok();
}

#[test]
fn attach_types_into_a_dash_dit_container_at_this_terminals_size() {
    let s = Sandbox::new();
    s.run(&["run", "-dit", "--name", "sized", "busybox", "sh"]).ok();
    // What is typed reaches the shell through its terminal; 8 columns: `ls` (which asks the
    // terminal's width) prints one name a line, not one row.
    let mut p = crate::util::Pty::spawn(s.cmd(&["attach", "sized"]), 30, 8);
    std::thread::sleep(Duration::from_millis(300));
    p.type_in(b"ls /\r");
    assert!(p.wait_for(|t| t.lines().any(|l| l.trim() == "etc")), "ls in 8 columns: {}", p.text());
    p.type_in(b"\x10\x11");
    assert_eq!(p.wait(), Some(1), "ctrl-p ctrl-q detaches: {}", p.text());
    s.run(&["rm", "-f", "sized"]).ok();
}

#[test]
fn run_dash_it_follows_this_terminals_size() {
    let s = Sandbox::new();
    s.run(&["pull", "busybox"]).ok();
    let mut p = crate::util::Pty::spawn(s.cmd(&["run", "--rm", "-it", "busybox", "sh"]), 30, 200);
    std::thread::sleep(Duration::from_millis(500));
    p.type_in(b"ls /\r");
    assert!(p.wait_for(|t| t.lines().any(|l| l.contains("bin") && l.contains("etc"))), "200 columns: {}", p.text());
    // A narrower window: the guest's `ls` sees it (and its shell a SIGWINCH).
    p.resize(30, 8);
    std::thread::sleep(Duration::from_millis(600));
    p.type_in(b"ls /\r");
    assert!(p.wait_for(|t| t.lines().any(|l| l.trim() == "etc")), "8 columns: {}", p.text());
    p.type_in(b"exit 5\r");
    assert_eq!(p.wait(), Some(5), "{}", p.text());
}

#[test]
fn events_are_recorded_and_read_like_dockers() {
    let s = Sandbox::new();
    s.run(&["run", "--name", "once", "busybox", "true"]).ok();
    s.run(&["volume", "create", "vol1"]).ok();
    s.run(&["network", "create", "labnet"]).ok();
    s.run(&["tag", "busybox", "mybox:v1"]).ok();
    s.run(&["rm", "once"]).ok();
    let all = s.run(&["events", "--until", "0s"]).ok().stdout;
    let actions: Vec<String> = all
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            format!("{} {}", w[1], w[2])
        })
        .collect();
    for want in [
        "image pull",
        "container create",
        "container attach",
        "container start",
        "container die",
        "volume create",
        "network create",
        "image tag",
        "container destroy",
    ] {
        assert!(actions.iter().any(|a| a == want), "{want} in:\n{all}");
    }
    let start = all.lines().find(|l| l.contains(" container start ")).unwrap();
    // 2026-…T…Z container start <id> (image=busybox, name=once)
    let words: Vec<&str> = start.split(' ').collect();
    assert!(words[0].len() >= 30 && words[0].contains('T'), "{start}");
    assert_eq!(words[3].len(), 64, "{start}");
    assert!(start.ends_with(" (image=busybox, name=once)"), "{start}");
    let die = all.lines().find(|l| l.contains(" container die ")).unwrap();
    assert!(die.ends_with("(exitCode=0, image=busybox, name=once)"), "{die}");
    let filtered = s
        .run(&["events", "--until", "0s", "--filter", "type=volume", "--format", "{{.Type}} {{.Action}} {{.Actor.ID}}"])
        .ok()
        .stdout;
    assert_eq!(filtered, "volume create vol1\n");
    let json = s.run(&["events", "--until", "0s", "--filter", "event=tag", "--format", "{{json .}}"]).ok().stdout;
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["Actor"]["Attributes"]["name"], "mybox:v1");
    assert_eq!(s.run(&["events", "--since", "1h", "--until", "1h"]).ok().stdout, "", "a window in the past");
    let r = s.run(&["events", "--until", "0s", "--filter", "colour=red"]).code(1);
    assert_eq!(r.stderr, "Error: invalid filter 'colour'\n");
    // Following: an event that happens after `events` started is printed.
    let mut follow = s.cmd(&["events", "--filter", "type=volume"]).stdout(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    s.run(&["volume", "create", "vol2"]).ok();
    let mut out = follow.stdout.take().unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while !String::from_utf8_lossy(&got).contains("volume create vol2") {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    follow.kill().unwrap();
    let _ = follow.wait();
}

/// Two skiff processes acting at once: every event each recorded is read, once, in time order.
#[test]
fn events_from_concurrent_processes_are_all_read_in_order() {
    let s = Sandbox::new();
    let n = 25;
    let spawn = |prefix: &'static str| {
        let mut script = String::new();
        for i in 0..n {
            script.push_str(&format!("\"$SKIFF\" volume create {prefix}{i} >/dev/null || exit 1\n"));
        }
        std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .env("SKIFF", super::util::skiff_bin())
            .env("SKIFF_ROOT", s.root())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn("a"), spawn("b"));
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    let out = s
        .run(&["events", "--until", "0s", "--filter", "type=volume", "--format", "{{.TimeNano}} {{.Actor.ID}}"])
        .ok()
        .stdout;
    let lines: Vec<(i64, String)> = out
        .lines()
        .map(|l| {
            let (t, id) = l.split_once(' ').unwrap();
            (t.parse().unwrap(), id.to_string())
        })
        .collect();
    assert_eq!(lines.len(), 2 * n, "{out}");
    assert!(lines.windows(2).all(|w| w[0].0 <= w[1].0), "in time order:\n{out}");
    for prefix in ["a", "b"] {
        let mine: Vec<&str> = lines.iter().map(|(_, id)| id.as_str()).filter(|id| id.starts_with(prefix)).collect();
        let want: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
        assert_eq!(mine, want, "each process's events in its own order");
    }
}

#[test]
fn system_df_prune_and_info() {
    let s = Sandbox::new();
    s.run(&["run", "--name", "done", "busybox", "sh", "-c", "echo data > /file"]).ok();
    s.run(&["volume", "create", "spare"]).ok();
    s.run(&["network", "create", "unused"]).ok();
    let df = s.run(&["system", "df"]).ok().stdout;
    let lines: Vec<&str> = df.lines().collect();
    assert_eq!(lines[0], "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE", "{df}");
    assert!(lines[1].starts_with("Images          1         1         "), "{df}");
    assert!(lines[1].ends_with("0B (0%)"), "the only image is used: {df}");
    assert!(lines[2].starts_with("Containers      1         0         "), "{df}");
    assert!(lines[2].ends_with("(100%)"), "{df}");
    assert!(lines[3].starts_with("Local Volumes   1         0         0B        0B"), "{df}");
    assert_eq!(lines[4], "Build Cache     0         0         0B        0B");
    let v = s.run(&["system", "df", "-v"]).ok().stdout;
    assert!(v.starts_with("Images space usage:\n\nREPOSITORY   TAG       IMAGE ID       CREATED"), "{v}");
    assert!(v.contains("\nContainers space usage:\n\nCONTAINER ID   IMAGE     COMMAND"), "{v}");
    assert!(
        v.contains("\nLocal Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE\nspare         0         0B\n"),
        "{v}"
    );
    assert!(v.contains("\nBuild cache usage: 0B\n"), "{v}");
    // Without a terminal the prompt reads "no": nothing is removed, nothing more printed.
    let r = s.run(&["system", "prune"]).ok();
    assert_eq!(
        r.stdout,
        "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n  - all dangling build cache\n\nAre you sure you want to continue? [y/N] "
    );
    let r = s.run(&["system", "prune", "-f", "--volumes"]).ok().stdout;
    assert!(r.starts_with("Deleted Containers:\n"), "{r}");
    assert!(r.contains("\n\nDeleted Networks:\nunused\n\nDeleted Volumes:\nspare\n\nTotal reclaimed space: "), "{r}");
    assert_eq!(s.run(&["ps", "-aq"]).ok().stdout, "");
    assert_eq!(s.run(&["images", "-q"]).ok().stdout.lines().count(), 1, "busybox is tagged: kept without -a");
    let r = s.run(&["system", "prune", "-a", "-f"]).ok().stdout;
    assert!(r.starts_with("Deleted Images:\nuntagged: busybox:latest\n"), "{r}");
    let info = s.run(&["system", "info"]).ok().stdout;
    assert_eq!(info, s.run(&["info"]).ok().stdout);
    assert!(info.contains(" Containers: 0\n"), "{info}");
}

#[test]
fn stats_streams_and_formats() {
    let s = Sandbox::new();
    s.run(&["run", "-d", "--name", "busy", "busybox", "sh", "-c", "while true; do sleep 1; done"]).ok();
    let mut child =
        s.cmd(&["stats", "--format", "{{.Name}} {{.NetIO}} {{.BlockIO}}"]).stdout(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(2700));
    child.kill().unwrap();
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let _ = child.wait();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() >= 2, "a sample a second, one per line without a terminal: {out}");
    assert!(lines.iter().all(|l| l.starts_with("busy ") && l.contains(" / ")), "{out}");
    let table = s.run(&["stats", "--no-stream", "--all"]).ok().stdout;
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   "), "{table}");
    assert!(header.ends_with("   MEM %     NET I/O   BLOCK I/O   PIDS"), "{table}");
    s.run(&["rm", "-f", "busy"]).ok();
}

#[test]
fn stats_counts_block_and_net_io() {
    let s = Sandbox::new();
    s.run(&["run", "-d", "--name", "web", "whoami"]).ok();
    s.run(&[
        "run",
        "-d",
        "--name",
        "writer",
        "--link",
        "web",
        "busybox",
        "sh",
        "-c",
        "while true; do echo 0123456789abcdef >> /tmp/log; wget -q -O /dev/null http://web:3000/ ; sleep 1; done",
    ])
    .ok();
    let mut seen = String::new();
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(250));
        seen = s.run(&["stats", "--no-stream", "--format", "{{.BlockIO}}|{{.NetIO}}", "writer"]).ok().stdout;
        let [block, net] = [0, 1].map(|i| seen.trim().split('|').nth(i).unwrap_or("").to_string());
        if block != "0B / 0B" && !net.starts_with("0B / ") {
            break;
        }
    }
    let [block, net] = [0, 1].map(|i| seen.trim().split('|').nth(i).unwrap_or("").to_string());
    assert!(!block.starts_with("0B / 0B") && block.contains(" / "), "writes to /tmp/log count: {seen}");
    assert!(!net.starts_with("0B / "), "wget's replies count as received: {seen}");
    s.run(&["rm", "-f", "writer", "web"]).ok();
}

#[test]
fn health_checks_run_and_show() {
    let s = Sandbox::new();
    s.run(&[
        "run",
        "-d",
        "--name",
        "warming",
        "--health-cmd",
        "test -f /tmp/ready",
        "--health-interval",
        "200ms",
        "--health-retries",
        "2",
        "busybox",
        "sh",
        "-c",
        "sleep 1; touch /tmp/ready; while true; do sleep 1; done",
    ])
    .ok();
    s.run(&[
        "run",
        "-d",
        "--name",
        "sick",
        "--health-cmd",
        "echo not yet; exit 1",
        "--health-interval",
        "200ms",
        "--health-retries",
        "2",
        "busybox",
        "sh",
        "-c",
        "while true; do sleep 1; done",
    ])
    .ok();
    let status = |c: &str| s.run(&["ps", "--filter", &format!("name={c}"), "--format", "{{.Status}}"]).ok().stdout;
    assert!(status("warming").ends_with("(health: starting)\n") || status("warming").contains("unhealthy"));
    eventually("warming turns healthy", || status("warming").ends_with(" (healthy)\n"));
    eventually("sick turns unhealthy", || status("sick").ends_with(" (unhealthy)\n"));
    assert_eq!(s.run(&["ps", "--filter", "health=unhealthy", "--format", "{{.Names}}"]).ok().stdout, "sick\n");
    assert_eq!(s.run(&["ps", "--filter", "health=healthy", "--format", "{{.Names}}"]).ok().stdout, "warming\n");
    let h: serde_json::Value = serde_json::from_str(&inspect(&s, "sick", "{{json .State.Health}}")).unwrap();
    assert_eq!(h["Status"], "unhealthy");
    assert!(h["FailingStreak"].as_u64().unwrap() >= 2);
    let log = h["Log"].as_array().unwrap();
    assert!(!log.is_empty() && log.len() <= 5);
    assert_eq!(log[0]["ExitCode"], 1);
    assert_eq!(log[0]["Output"], "not yet\n");
    assert!(log[0]["Start"].as_str().unwrap() <= log[0]["End"].as_str().unwrap());
    let cfg: serde_json::Value = serde_json::from_str(&inspect(&s, "sick", "{{json .Config.Healthcheck}}")).unwrap();
    assert_eq!(
        cfg,
        serde_json::json!({"Test": ["CMD-SHELL", "echo not yet; exit 1"], "Interval": 200_000_000, "Retries": 2})
    );
    let events = s.run(&["events", "--until", "0s", "--filter", "event=health_status"]).ok().stdout;
    assert!(events.contains(" container health_status: healthy ") && events.contains("name=warming"), "{events}");
    // The teaching redis has a check (redis-cli ping); --no-healthcheck turns it off.
    s.run(&["run", "-d", "--name", "nocheck", "--no-healthcheck", "redis"]).ok();
    assert_eq!(inspect(&s, "nocheck", "{{json .Config.Healthcheck}}"), r#"{"Test":["NONE"]}"#);
    assert!(status("nocheck").starts_with("Up ") && !status("nocheck").contains('('));
    let image_check = s.run(&["image", "inspect", "-f", "{{json .Config.Healthcheck.Test}}", "redis"]).ok().stdout;
    assert_eq!(image_check, "[\"CMD\",\"redis-cli\",\"ping\"]\n");
    let r = s.run(&["run", "--health-interval", "5", "busybox", "true"]).code(125);
    assert!(r.stderr.contains("--health-interval"), "{}", r.stderr);
    s.run(&["rm", "-f", "warming", "sick", "nocheck"]).ok();
}

#[test]
fn exec_codes_user_and_events() {
    let s = Sandbox::new();
    s.run(&["run", "-d", "--name", "box", "busybox", "sh", "-c", "while true; do sleep 1; done"]).ok();
    let r = s.run(&["exec", "box", "nosuchcmd"]).code(126);
    assert_eq!(
        r.stderr,
        "OCI runtime exec failed: exec failed: unable to start container process: exec: \"nosuchcmd\": executable file not found in $PATH: unknown\n"
    );
    let r = s.run(&["exec", "box", "/etc/passwd"]).code(126);
    assert!(r.stderr.starts_with("OCI runtime exec failed: "), "{}", r.stderr);
    assert_eq!(s.run(&["exec", "box", "sh", "-c", "exit 5"]).code, 5);
    s.run(&["exec", "-u", "1000", "box", "true"]).ok();
    let r = s.run(&["exec", "-it", "box", "sh"]).code(1);
    assert_eq!(r.stderr, "the input device is not a TTY\n");
    let ev = s.run(&["events", "--until", "0s", "--filter", "event=exec_start", "--format", "{{.Action}}"]).ok().stdout;
    assert!(ev.contains("exec_start: sh -c exit 5\n"), "{ev}");
    s.run(&["rm", "-f", "box"]).ok();
}

#[test]
fn completions_and_man_pages() {
    let s = Sandbox::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = s.run(&["completion", shell]).ok().stdout;
        assert!(out.contains("skiff") && out.contains("attach") && out.len() > 1000, "{shell}");
    }
    s.run(&["completion", "tcsh"]).code(125);
    let dir = s.work.path().join("man");
    s.run(&["__man", dir.to_str().unwrap()]).ok();
    let page = std::fs::read_to_string(dir.join("skiff.1")).unwrap();
    assert!(page.starts_with(".ie"), "roff: {}", &page[..40]);
    assert!(page.contains("skiff\\-run(1)") || page.contains("skiff-run"), "{page}");
    let run = std::fs::read_to_string(dir.join("skiff-run.1")).unwrap();
    assert!(run.contains("health\\-cmd"), "{run}");
    assert!(dir.join("skiff-container-ls.1").is_file() && dir.join("skiff-system-df.1").is_file());
    assert!(!dir.join("skiff-__supervise.1").exists());
}

#[test]
fn commit_import_changes_and_export_times() {
    let s = Sandbox::new();
    s.run(&["run", "--name", "src", "busybox", "sh", "-c", "echo hi > /greeting"]).ok();
    let id = s
        .run(&[
            "commit",
            "-c",
            "ENV GREETING=\"hello world\"",
            "-c",
            "CMD [\"cat\", \"/greeting\"]",
            "-c",
            "EXPOSE 8080",
            "src",
            "greeter:v1",
        ])
        .ok()
        .stdout;
    assert!(id.starts_with("sha256:"), "{id}");
    let cfg =
        s.run(&["image", "inspect", "-f", "{{json .Config.Cmd}} {{.Config.ExposedPorts}}", "greeter:v1"]).ok().stdout;
    assert_eq!(cfg, "[\"cat\",\"/greeting\"] map[8080/tcp:{}]\n");
    assert!(s.run(&["run", "--rm", "greeter:v1", "sh", "-c", "echo $GREETING"]).ok().stdout == "hello world\n");
    let r = s.run(&["commit", "-c", "RUN echo no", "src"]).code(1);
    assert_eq!(r.stderr, "Error: RUN is not a valid change command\n");
    // export keeps each file's time (Docker's export does; a fixed 1970 said nothing).
    let tar = s.work.path().join("src.tar");
    s.run(&["export", "-o", tar.to_str().unwrap(), "src"]).ok();
    let mut archive = tar::Archive::new(std::fs::File::open(&tar).unwrap());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let greeting = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap())
        .find(|e| e.path().unwrap().to_str() == Some("greeting"))
        .expect("the file is in the export");
    let mtime = greeting.header().mtime().unwrap();
    assert!(now - mtime < 600, "mtime {mtime} is the file's, not 1970");
    let id = s
        .run(&["import", "-c", "CMD [\"/bin/sh\"]", "-c", "WORKDIR /srv", tar.to_str().unwrap(), "imported"])
        .ok()
        .stdout;
    assert!(id.starts_with("sha256:"));
    assert_eq!(s.run(&["image", "inspect", "-f", "{{.Config.WorkingDir}}", "imported"]).ok().stdout, "/srv\n");
    let ev = s.run(&["events", "--until", "0s", "--filter", "type=image", "--format", "{{.Action}}"]).ok().stdout;
    assert!(ev.contains("import\n") && ev.contains("tag\n"), "{ev}");
}

#[test]
fn inspect_has_the_keys_lessons_use() {
    let s = Sandbox::new();
    let vol = s.work.path().join("site");
    std::fs::create_dir(&vol).unwrap();
    let bind = format!("{}:/site:ro", vol.display());
    s.run(&["run", "-d", "--name", "web", "-v", &bind, "--label", "tier=front", "--init", "busybox", "sleep", "30"])
        .ok();
    let log = inspect(&s, "web", "{{.LogPath}}");
    assert!(log.ends_with("-json.log") && std::path::Path::new(&log).is_file(), "{log}");
    assert_eq!(inspect(&s, "web", "{{json .HostConfig.Binds}}"), format!("[{:?}]", bind));
    assert_eq!(inspect(&s, "web", "{{.HostConfig.LogConfig.Type}}"), "json-file");
    assert_eq!(inspect(&s, "web", "{{.HostConfig.Init}}"), "true");
    let resolv = inspect(&s, "web", "{{.ResolvConfPath}}");
    assert!(std::fs::read_to_string(&resolv).unwrap().contains("nameserver"), "{resolv}");
    assert_eq!(inspect(&s, "web", "{{.Config.Labels.tier}}"), "front");
    assert_eq!(s.run(&["ps", "--filter", "label=tier=front", "--format", "{{.Names}}"]).ok().stdout, "web\n");
    assert_eq!(s.run(&["ps", "--filter", "ancestor=busybox", "--format", "{{.Names}}"]).ok().stdout, "web\n");
    assert_eq!(s.run(&["ps", "--filter", "ancestor=redis", "--format", "{{.Names}}"]).ok().stdout, "");
    let img = s
        .run(&[
            "image",
            "inspect",
            "-f",
            "{{json .RepoDigests}} {{.DockerVersion}}|{{.ContainerConfig.Image}}|",
            "busybox",
        ])
        .ok()
        .stdout;
    assert_eq!(img, "[] ||\n");
    s.run(&["tag", "busybox", "me/tools:1"]).ok();
    let out = s.run(&["images", "--filter", "reference=me/*", "--format", "{{.Repository}}:{{.Tag}}"]).ok().stdout;
    assert_eq!(out, "me/tools:1\n");
    s.run(&["rm", "-f", "web"]).ok();
}
