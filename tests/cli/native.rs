//! Native Linux containers (the `linux` backend: crun/runc over overlayfs), from a real
//! Linux image made in the test: `skiff import` of a root filesystem holding Debian's
//! busybox-static and its applet links. Runs as root on Linux; elsewhere each test says why
//! it is skipped.

use crate::util::{require_tool, Sandbox};
use std::path::Path;
use std::time::{Duration, Instant};

/// Whether native containers can run here; prints why not.
pub fn native_ok() -> bool {
    if !cfg!(target_os = "linux") {
        eprintln!("skipped: native containers need Linux");
        return false;
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: native containers need root");
        return false;
    }
    require_tool("crun", "crun").is_some() && require_tool("busybox", "busybox-static").is_some()
}

/// A tar of a minimal Linux root: busybox-static, one link per applet, passwd and group.
pub fn busybox_rootfs_tar(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("rootfs");
    for d in ["bin", "etc", "tmp", "root", "home"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    let list = std::process::Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines().filter(|a| *a != "busybox") {
        let _ = std::os::unix::fs::symlink("busybox", root.join("bin").join(applet));
    }
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::fs::set_permissions(root.join("root"), std::fs::Permissions::from_mode(0o700)).unwrap();
    let tar = dir.join("rootfs.tar");
    let ok = std::process::Command::new("tar").arg("-C").arg(&root).arg("-cf").arg(&tar).arg(".").status().unwrap();
    assert!(ok.success());
    tar
}

/// A sandbox with the image `bb` (linux/amd64, busybox-static) imported.
pub fn sandbox() -> Option<Sandbox> {
    if !native_ok() {
        return None;
    }
    let s = Sandbox::new();
    let tar = busybox_rootfs_tar(s.work.path());
    s.run(&["import", tar.to_str().unwrap(), "bb"]).ok();
    Some(s)
}

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
fn import_records_linux_and_run_gives_docker_exit_codes() {
    let Some(s) = sandbox() else { return };
    assert_eq!(inspect(&s, "bb", "{{.Os}}/{{.Architecture}}"), "linux/amd64");
    let r = s.run(&["run", "--rm", "--network", "none", "bb", "sh", "-c", "uname -s; echo $0; exit 0"]).ok();
    assert_eq!(r.stdout, "Linux\nsh\n");
    s.run(&["run", "--rm", "--network", "none", "bb", "false"]).code(1);
    // An init a signal ends (SIGSEGV: endless recursion) gives 128+N, whether the runtime ran
    // it in one call or, with a memory limit, as create + start.
    s.run(&["run", "--rm", "--network", "none", "bb", "sh", "-c", "f() { f; }; f"]).code(139);
    s.run(&["run", "--rm", "--network", "none", "-m", "64m", "bb", "sh", "-c", "f() { f; }; f"]).code(139);
    let r = s.run(&["run", "--rm", "--network", "none", "bb", "nosuchcmd"]).code(127);
    assert!(r.stderr.contains("exec: \"nosuchcmd\": executable file not found in $PATH"), "{}", r.stderr);
    let r = s.run(&["run", "--rm", "--network", "none", "bb", "/etc/passwd"]).code(126);
    assert!(r.stderr.contains("permission denied"), "{}", r.stderr);
    s.run(&["run", "--rm", "--network", "none", "bb", "/nope/x"]).code(127);
    s.run(&["run", "--rm", "--network", "none", "-u", "nosuchuser", "bb", "true"]).code(125);
    assert_eq!(
        inspect(&s, "bb", "{{.Config.Env}}"),
        "[PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin]"
    );
    // The WASI image still runs on the WASI backend beside it.
    assert_eq!(s.sh("echo wasi"), "wasi\n");
}

#[test]
fn stop_traps_logs_exec_and_the_timeout() {
    let Some(s) = sandbox() else { return };
    let trap = "trap 'echo got TERM; exit 0' TERM; echo up; while true; do sleep 1; done";
    s.run(&["run", "-d", "--name", "trapper", "--network", "none", "bb", "sh", "-c", trap]).ok();
    eventually("up", || s.run(&["logs", "trapper"]).stdout.contains("up"));
    assert_eq!(s.run(&["exec", "trapper", "sh", "-c", "echo $((40+2))"]).ok().stdout, "42\n");
    s.run(&["exec", "trapper", "sh", "-c", "exit 3"]).code(3);
    s.run(&["stop", "trapper"]).ok();
    assert_eq!(inspect(&s, "trapper", "{{.State.Status}} {{.State.ExitCode}}"), "exited 0");
    assert_eq!(s.run(&["logs", "trapper"]).ok().stdout, "up\ngot TERM\n");
    s.run(&["run", "-d", "--name", "ignorer", "--network", "none", "bb", "sh", "-c", "while true; do sleep 1; done"])
        .ok();
    let t0 = Instant::now();
    s.run(&["stop", "-t", "1", "ignorer"]).ok();
    assert!(t0.elapsed() >= Duration::from_millis(900), "init ignores TERM, so stop waits");
    assert_eq!(inspect(&s, "ignorer", "{{.State.ExitCode}}"), "137");
    s.run(&["start", "ignorer"]).ok();
    s.run(&["kill", "-s", "KILL", "ignorer"]).ok();
    assert_eq!(inspect(&s, "ignorer", "{{.State.Status}} {{.State.ExitCode}}"), "exited 137");
}

#[test]
fn top_stats_pause_and_isolation() {
    let Some(s) = sandbox() else { return };
    s.run(&[
        "run",
        "-d",
        "--name",
        "box1",
        "--network",
        "none",
        "--hostname",
        "inside",
        "bb",
        "sh",
        "-c",
        "sleep 1000",
    ])
    .ok();
    eventually("running", || inspect(&s, "box1", "{{.State.Running}}") == "true");
    let top = s.run(&["top", "box1"]).ok().stdout;
    assert!(top.contains("sh -c sleep 1000") || top.contains("sleep 1000"), "{top}");
    // Its own processes only, PID 1 first; its own hostname.
    let ps = s.run(&["exec", "box1", "ps", "-o", "pid,comm"]).ok().stdout;
    assert!(ps.lines().nth(1).unwrap().trim().starts_with("1 "), "{ps}");
    assert!(ps.lines().count() <= 4, "only the container's processes: {ps}");
    assert_eq!(s.run(&["exec", "box1", "hostname"]).ok().stdout, "inside\n");
    let stats = s.run(&["stats", "--no-stream", "box1"]).ok().stdout;
    assert!(stats.contains("box1"), "{stats}");
    s.run(&["pause", "box1"]).ok();
    assert_eq!(inspect(&s, "box1", "{{.State.Status}}"), "paused");
    s.run(&["unpause", "box1"]).ok();
    assert_eq!(s.run(&["exec", "box1", "true"]).code, 0);
    // A write outside the root is impossible: / of the container is its own.
    s.run(&["exec", "box1", "sh", "-c", "echo x > /etc/skiff-canary"]).ok();
    assert!(!Path::new("/etc/skiff-canary").exists());
    let id = inspect(&s, "box1", "{{.Id}}");
    s.run(&["rm", "-f", "box1"]).ok();
    // Nothing left behind: no mount, no cgroup, no bundle.
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&id), "a mount of the container is left");
    for c in ["memory", "pids", "cpu", "freezer", ""] {
        let p = Path::new("/sys/fs/cgroup").join(c).join("skiff").join(&id);
        assert!(!p.exists(), "{} is left", p.display());
    }
    assert!(!s.root().join("containers").join(&id).exists());
}

#[test]
fn a_pseudo_terminal_for_dash_it() {
    let Some(s) = sandbox() else { return };
    let Some(script) = require_tool("script", "bsdutils") else { return };
    let cmd = format!(
        "{} run --rm -it --network none bb sh -c 'tty; [ -t 0 ] && echo TERMINAL'",
        crate::util::skiff_bin().display()
    );
    let out = std::process::Command::new(script)
        .args(["-qefc", &cmd, "/dev/null"])
        .env("SKIFF_ROOT", s.root())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/dev/pts/0") && text.contains("TERMINAL"), "{text}");
}

#[test]
fn attach_gives_the_container_this_terminals_size() {
    let Some(s) = sandbox() else { return };
    s.run(&["run", "-dit", "--name", "sized", "--network", "none", "bb", "sh"]).ok();
    let mut p = crate::util::Pty::spawn(s.cmd(&["attach", "sized"]), 33, 111);
    // The client sends its size at once, and again when its window is resized.
    sizes_follow_the_window(&mut p);
    p.type_in(b"\x10\x11");
    assert_eq!(p.wait(), Some(1), "ctrl-p ctrl-q detaches: {}", p.text());
    assert_eq!(inspect(&s, "sized", "{{.State.Status}}"), "running");
    s.run(&["rm", "-f", "sized"]).ok();
}

#[test]
fn run_dash_it_follows_this_terminals_size() {
    let Some(s) = sandbox() else { return };
    let mut p = crate::util::Pty::spawn(s.cmd(&["run", "--rm", "-it", "--network", "none", "bb", "sh"]), 33, 111);
    sizes_follow_the_window(&mut p);
    p.type_in(b"exit 5\r");
    assert_eq!(p.wait(), Some(5), "{}", p.text());
}

/// At a shell in a 33x111 pty: `stty size` says so, and 40 90 once the window is resized.
fn sizes_follow_the_window(p: &mut crate::util::Pty) {
    std::thread::sleep(Duration::from_millis(400));
    p.type_in(b"stty size\r");
    assert!(p.wait_for(|t| t.contains("33 111")), "the size at first: {}", p.text());
    p.resize(40, 90);
    std::thread::sleep(Duration::from_millis(600));
    p.type_in(b"stty size\r");
    assert!(p.wait_for(|t| t.contains("40 90")), "the size after a resize: {}", p.text());
}

#[test]
fn volumes_read_only_user_and_memory() {
    let Some(s) = sandbox() else { return };
    let host = s.work.path().join("shared");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("in.txt"), "from the host\n").unwrap();
    let bind = format!("{}:/data", host.display());
    let out = s
        .run(&[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            &bind,
            "-v",
            "vol:/vol",
            "bb",
            "sh",
            "-c",
            "cat /data/in.txt; echo out > /data/out.txt; echo kept > /vol/k",
        ])
        .ok();
    assert_eq!(out.stdout, "from the host\n");
    assert_eq!(std::fs::read_to_string(host.join("out.txt")).unwrap(), "out\n");
    assert_eq!(
        s.run(&["run", "--rm", "--network", "none", "-v", "vol:/vol", "bb", "cat", "/vol/k"]).ok().stdout,
        "kept\n"
    );
    let ro = format!("{}:/data:ro", host.display());
    let r = s.run(&["run", "--rm", "--network", "none", "-v", &ro, "bb", "touch", "/data/x"]).code(1);
    assert!(r.stderr.contains("Read-only file system"), "{}", r.stderr);
    let r = s.run(&["run", "--rm", "--network", "none", "--read-only", "bb", "touch", "/x"]).code(1);
    assert!(r.stderr.contains("Read-only file system"), "{}", r.stderr);
    let r = s.run(&["run", "--rm", "--network", "none", "-u", "nobody", "bb", "sh", "-c", "id; touch /root/x"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n");
    assert!(r.stderr.contains("Permission denied"), "{}", r.stderr);
    s.run(&[
        "run",
        "--name",
        "oom",
        "--network",
        "none",
        "-m",
        "8m",
        "bb",
        "sh",
        "-c",
        "x=a; while true; do x=$x$x; done",
    ])
    .code(137);
    assert_eq!(inspect(&s, "oom", "{{.State.OOMKilled}} {{.State.ExitCode}}"), "true 137");
}

#[test]
fn diff_commit_and_build_make_linux_images() {
    let Some(s) = sandbox() else { return };
    let _net = crate::util::native_net_lock(); // RUN steps are on the default bridge
    s.run(&[
        "run",
        "--name",
        "c1",
        "--network",
        "none",
        "bb",
        "sh",
        "-c",
        "echo hi > /greeting; rm /bin/vi; chown 65534 /greeting",
    ])
    .ok();
    assert_eq!(s.run(&["diff", "c1"]).ok().stdout, "C /bin\nD /bin/vi\nA /greeting\n");
    s.run(&["commit", "c1", "bb:v2"]).ok();
    let out = s.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "bb:v2",
        "sh",
        "-c",
        "cat /greeting; ls -ln /greeting; ls /bin/vi",
    ]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.starts_with("hi\n-rw-r--r--    1 65534    0 "), "{}", out.stdout);
    assert_eq!(inspect(&s, "bb:v2", "{{.Os}}"), "linux");
    std::fs::write(
        s.work.path().join("Dockerfile"),
        "FROM bb\nRUN echo built > /built && mkdir /app\nWORKDIR /app\nRUN pwd > where\nCMD [\"cat\", \"/built\", \"/app/where\"]\n",
    )
    .unwrap();
    s.run(&["build", "-t", "nat", "."]).ok();
    assert_eq!(s.run(&["run", "--rm", "--network", "none", "nat"]).ok().stdout, "built\n/app\n");
    let again = s.run(&["build", "-t", "nat", "."]).ok().stdout;
    assert!(again.contains("Using cache"), "{again}");
}

#[test]
fn load_a_docker_archive_made_by_podman() {
    let Some(s) = sandbox() else { return };
    let Some(podman) = require_tool("podman", "podman") else { return };
    let tar = busybox_rootfs_tar(&s.work.path().join("p"));
    let store = s.work.path().join("podman");
    let pod = |args: &[&str]| {
        std::process::Command::new(&podman)
            .arg("--root")
            .arg(store.join("root"))
            .arg("--runroot")
            .arg(store.join("run"))
            .arg("--storage-driver")
            .arg("vfs")
            .args(args)
            .output()
            .unwrap()
    };
    let o = pod(&["import", tar.to_str().unwrap(), "localhost/podbox:1"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let archive = s.work.path().join("podbox.tar");
    let o = pod(&["save", "--format", "docker-archive", "-o", archive.to_str().unwrap(), "localhost/podbox:1"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    s.run(&["load", "-i", archive.to_str().unwrap()]).ok();
    let out = s.run(&["run", "--rm", "--network", "none", "localhost/podbox:1", "sh", "-c", "echo from podman"]).ok();
    assert_eq!(out.stdout, "from podman\n");
}

#[test]
fn runc_runs_them_too() {
    let Some(s) = sandbox() else { return };
    let Some(runc) = require_tool("runc", "runc") else { return };
    let env = [("SKIFF_OCI_RUNTIME", runc.as_os_str())];
    let r = s.run_env(&["run", "--rm", "--network", "none", "bb", "sh", "-c", "echo hi; exit 4"], &env).code(4);
    assert_eq!(r.stdout, "hi\n");
    s.run_env(&["run", "--rm", "--network", "none", "bb", "sh", "-c", "f() { f; }; f"], &env).code(139);
    s.run_env(&["run", "-d", "--name", "rc1", "--network", "none", "bb", "sleep", "30"], &env).ok();
    assert_eq!(s.run_env(&["exec", "rc1", "echo", "in"], &env).ok().stdout, "in\n");
    s.run_env(&["kill", "rc1"], &env).ok();
    assert_eq!(inspect(&s, "rc1", "{{.State.Status}} {{.State.ExitCode}}"), "exited 137");
    // runc takes a console socket only when it detaches: `-t` goes through create + start.
    let Some(script) = require_tool("script", "bsdutils") else { return };
    let cmd = format!("{} run --rm -t --network none bb sh -c 'tty; exit 2'", crate::util::skiff_bin().display());
    let out = std::process::Command::new(script)
        .args(["-qefc", &cmd, "/dev/null"])
        .env("SKIFF_ROOT", s.root())
        .env("SKIFF_OCI_RUNTIME", &runc)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("/dev/pts/0"), "{out:?}");
    assert_eq!(out.status.code(), Some(2));
}
