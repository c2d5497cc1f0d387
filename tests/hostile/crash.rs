//! Crash consistency: every command that writes is killed (SIGKILL, through the
//! `SKIFF_CRASH_AT=<point>:<n>` switch) at each named point it passes — between a temp file
//! and its rename, a blob and the index naming it, a container's directory and its record —
//! and then `system check` must find no damage (leftovers are allowed: they are garbage the
//! next command or `--repair` reclaims), the next command must work, and after
//! `system check --repair` the store must be clean.
//!
//! `pull` and `push` talk to skiff's own `registry:2`, run in a second state root and
//! published on a loopback port.

use super::*;
use crate::util::Sandbox;
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::sync::OnceLock;

/// The loopback port of the registry `pull` and `push` use.
static REGISTRY_PORT: OnceLock<u16> = OnceLock::new();

/// `127.0.0.1:PORT/crash/NAME:TAG` on that registry.
fn remote(name: &str, i: usize) -> String {
    format!("127.0.0.1:{}/crash/{name}:{i}", REGISTRY_PORT.get().expect("registry started"))
}

/// A `registry:2` in its own sandbox, published on a free loopback port, answering `/v2/`.
fn start_registry() -> Sandbox {
    let reg = Sandbox::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    reg.run(&["run", "-d", "--name", "crashreg", "-p", &format!("127.0.0.1:{port}:5000"), "registry:2"]).ok();
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "the registry never listened");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    REGISTRY_PORT.set(port).ok();
    reg
}

/// A small image of its own (one RUN layer) named `tag`.
fn unique_image(sb: &Sandbox, what: &str, i: usize, tag: &str) {
    let ctx = sb.work.path().join(format!("{what}{i}"));
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), format!("FROM busybox\nRUN echo {what} {i} > /{what}\n")).unwrap();
    sb.run(&["build", "-q", "-t", tag, ctx.to_str().unwrap()]).ok();
}

/// One command to kill: its arguments for iteration `i` (fresh names, so a retry after the
/// crash is a new command, not a conflict), and what to prepare before it.
struct Scenario {
    name: &'static str,
    args: fn(&Sandbox, usize) -> Vec<String>,
    prepare: fn(&Sandbox, usize),
    /// Kill points to try at most (sampled evenly from those the command passes).
    budget: usize,
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "build",
            prepare: |sb, i| {
                let ctx = sb.work.path().join(format!("ctx{i}"));
                std::fs::create_dir_all(&ctx).unwrap();
                std::fs::write(ctx.join("f"), format!("file {i}\n")).unwrap();
                std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nARG N\nRUN echo $N > /n\nCOPY f /f\nENV X=1\n")
                    .unwrap();
            },
            args: |sb, i| {
                let ctx = sb.work.path().join(format!("ctx{i}"));
                s(&[
                    "build",
                    "-q",
                    "--build-arg",
                    &format!("N={i}"),
                    "-t",
                    &format!("crash-build:{i}"),
                    ctx.to_str().unwrap(),
                ])
            },
            budget: 90,
        },
        Scenario {
            name: "commit",
            prepare: |sb, i| {
                sb.run(&["run", "--name", &format!("tocommit{i}"), "busybox", "sh", "-c", &format!("echo {i} > /c")])
                    .ok();
            },
            args: |_, i| s(&["commit", &format!("tocommit{i}"), &format!("crash-commit:{i}")]),
            budget: 24,
        },
        Scenario {
            name: "load",
            prepare: |sb, i| {
                let layer =
                    raw_tar(&[(tar::EntryType::Regular, &format!("f{i}"), "", format!("{i}").as_bytes(), 0o644)]);
                let big = raw_tar(&[(tar::EntryType::Regular, "big", "", &vec![i as u8; 600_000], 0o644)]);
                let ar = docker_archive(&[layer, big], &[&format!("crash-load:{i}")], None);
                std::fs::write(sb.work.path().join(format!("load{i}.tar")), ar).unwrap();
            },
            args: |sb, i| s(&["load", "-q", "-i", sb.work.path().join(format!("load{i}.tar")).to_str().unwrap()]),
            budget: 40,
        },
        Scenario {
            name: "rmi",
            prepare: |sb, i| {
                let ctx = sb.work.path().join(format!("rmi{i}"));
                std::fs::create_dir_all(&ctx).unwrap();
                std::fs::write(ctx.join("Dockerfile"), format!("FROM busybox\nRUN echo {i} > /r\n")).unwrap();
                sb.run(&["build", "-q", "-t", &format!("crash-rmi:{i}"), ctx.to_str().unwrap()]).ok();
            },
            args: |_, i| s(&["rmi", &format!("crash-rmi:{i}")]),
            budget: 14,
        },
        Scenario {
            name: "image prune",
            prepare: |sb, i| {
                let ctx = sb.work.path().join(format!("prune{i}"));
                std::fs::create_dir_all(&ctx).unwrap();
                std::fs::write(
                    ctx.join("Dockerfile"),
                    format!("FROM busybox\nRUN echo {i} > /p\nRUN echo {i} >> /p\n"),
                )
                .unwrap();
                sb.run(&["image", "prune", "-a", "-f"]).ok(); // the same work each time
                sb.run(&["build", "-q", ctx.to_str().unwrap()]).ok(); // untagged: dangling
            },
            args: |_, _| s(&["image", "prune", "-a", "-f"]),
            budget: 16,
        },
        Scenario {
            name: "run -d",
            prepare: |_, _| {},
            args: |_, i| {
                s(&["run", "-d", "--name", &format!("crash-run{i}"), "busybox", "sh", "-c", "echo hi; sleep 0.2"])
            },
            budget: 16,
        },
        Scenario {
            name: "network create",
            prepare: |_, _| {},
            args: |_, i| s(&["network", "create", &format!("crashnet{i}")]),
            budget: 6,
        },
        Scenario {
            name: "volume create",
            prepare: |_, _| {},
            args: |_, i| s(&["volume", "create", &format!("crashvol{i}")]),
            budget: 4,
        },
        Scenario {
            name: "volume rm",
            prepare: |sb, i| {
                sb.run(&["volume", "create", &format!("rmvol{i}")]).ok();
            },
            args: |_, i| s(&["volume", "rm", &format!("rmvol{i}")]),
            budget: 4,
        },
        Scenario {
            name: "push",
            prepare: |sb, i| unique_image(sb, "push", i, &remote("push", i)),
            args: |_, i| s(&["push", &remote("push", i)]),
            budget: 10,
        },
        Scenario {
            name: "pull",
            prepare: |sb, i| {
                unique_image(sb, "pull", i, &remote("pull", i));
                sb.run(&["push", &remote("pull", i)]).ok();
                sb.run(&["rmi", &remote("pull", i)]).ok();
            },
            args: |_, i| s(&["pull", &remote("pull", i)]),
            budget: 16,
        },
        Scenario {
            name: "tag",
            prepare: |_, _| {},
            args: |_, i| s(&["tag", "busybox", &format!("crash-tag:{i}")]),
            budget: 4,
        },
    ]
}

/// The kill points a command passes: (point, how many times).
fn points_of(sb: &Sandbox, args: &[String]) -> BTreeMap<String, usize> {
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = sb.cmd(&argv).env("SKIFF_CRASH_AT", "list").output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let mut m = BTreeMap::new();
    for l in String::from_utf8_lossy(&out.stderr).lines() {
        if let Some(p) = l.strip_prefix("crash-point ") {
            *m.entry(p.to_string()).or_insert(0) += 1;
        }
    }
    m
}

#[test]
fn kill_points_leave_no_damage() {
    let sb = Sandbox::new();
    let _registry = start_registry();
    sb.run(&["pull", "busybox"]).ok();
    sb.run(&["network", "ls"]).ok();
    let mut total = 0;
    let mut per_command = Vec::new();
    for sc in scenarios() {
        // Learn the points from a run that is not killed.
        (sc.prepare)(&sb, 10_000);
        let points = points_of(&sb, &(sc.args)(&sb, 10_000));
        assert!(!points.is_empty(), "{}: passes no kill point", sc.name);
        let mut all: Vec<(String, usize)> =
            points.iter().flat_map(|(p, n)| (1..=*n).map(move |k| (p.clone(), k))).collect();
        if all.len() > sc.budget {
            // Every point's first pass, then evenly spread later passes.
            let firsts: Vec<_> = all.iter().filter(|(_, k)| *k == 1).cloned().collect();
            let rest: Vec<_> = all.iter().filter(|(_, k)| *k > 1).cloned().collect();
            let room = sc.budget.saturating_sub(firsts.len()).max(1);
            let step = rest.len().div_ceil(room).max(1);
            all = firsts.into_iter().chain(rest.into_iter().step_by(step)).collect();
        }
        let mut killed = 0;
        for (i, (point, n)) in all.iter().enumerate() {
            (sc.prepare)(&sb, i);
            let args = (sc.args)(&sb, i);
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let what = format!("{} killed at {point}:{n}", sc.name);
            let out = sb.cmd(&argv).env("SKIFF_CRASH_AT", format!("{point}:{n}")).output().unwrap();
            if out.status.signal() == Some(9) {
                killed += 1;
            }
            // A run -d's supervisor may be the one killed: wait for it to be gone.
            std::thread::sleep(std::time::Duration::from_millis(if sc.name == "run -d" { 300 } else { 0 }));
            sb.assert_no_damage(&what);
            // The next command works: the same again, not killed.
            let again = sb.run(&argv);
            assert_no_panic(&again, &what);
            // The killed command may have done its work already (a tag removed, a name taken).
            let conflict =
                ["already", "in use", "No such image", "No such volume"].iter().any(|m| again.stderr.contains(m));
            assert!(again.code == 0 || conflict, "{what}: the next command failed:\n{}{}", again.stdout, again.stderr);
            let r = sb.run(&["system", "check", "--repair"]);
            assert!(!r.stdout.contains("damage:"), "{what}: {}", r.stdout);
            // A temp file younger than the check's grace period (60 s) is left alone, as a
            // write in progress; one of an earlier kill may come of age between the repair
            // and the next check: a second repair takes it.
            let r = sb.run(&["system", "check"]);
            let findings: Vec<&str> =
                r.stdout.lines().filter(|l| l.starts_with("garbage") || l.starts_with("damage")).collect();
            if r.code != 0
                && findings.iter().all(|l| l.starts_with("garbage: ") && l.contains("a temporary file left by"))
            {
                sb.run(&["system", "check", "--repair"]);
            }
            sb.assert_check_clean(&format!("{what}, after --repair"));
        }
        // (run -d passes on the switch to its supervisor, which may be the one killed.)
        let min = if sc.name == "run -d" { 1 } else { all.len().div_ceil(2) };
        assert!(killed >= min, "{}: only {killed} of {} kill points killed it", sc.name, all.len());
        total += killed;
        per_command.push(format!("{} {killed}", sc.name));
        // Containers left running by run -d: remove them before the next scenario.
        let ids = sb.run(&["ps", "-aq"]).ok().stdout;
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids);
            sb.run(&args).ok();
        }
    }
    println!("crash consistency: killed at {total} points ({})", per_command.join(", "));
    assert!(total >= 100, "only {total} kill points");
    sb.assert_check_clean("after every scenario");
}

#[test]
fn a_killed_command_leaks_no_disk() {
    let sb = Sandbox::new();
    sb.run(&["pull", "busybox"]).ok();
    // An ingest killed half-way (a layer of 2 MB) leaves its scratch, and the next writer
    // reclaims it.
    let layer = raw_tar(&[(tar::EntryType::Regular, "big", "", &vec![3u8; 2 << 20], 0o644)]);
    std::fs::write(sb.work.path().join("big.tar"), docker_archive(&[layer], &["big:1"], None)).unwrap();
    let out = sb.cmd(&["load", "-i", "big.tar"]).env("SKIFF_CRASH_AT", "ingest:4").output().unwrap();
    assert_eq!(out.status.signal(), Some(9));
    let report = sb.assert_no_damage("killed load");
    assert!(report.contains("garbage: tmp/"), "the killed load's scratch is reported:\n{report}");
    sb.run(&["tag", "busybox", "other"]).ok(); // any writer reclaims
    assert!(files_under(&sb.root().join("tmp")).is_empty(), "{:?}", files_under(&sb.root().join("tmp")));
    // A blob stored by a killed load before its image was: image prune -a reclaims it.
    let out = sb.cmd(&["load", "-i", "big.tar"]).env("SKIFF_CRASH_AT", "load-image:1").output().unwrap();
    assert_eq!(out.status.signal(), Some(9));
    let report = sb.assert_no_damage("killed load");
    assert!(report.contains("is used by no image"), "{report}");
    let r = sb.run(&["image", "prune", "-a", "-f"]).ok();
    assert!(r.stdout.contains("Total reclaimed space"), "{}", r.stdout);
    sb.assert_check_clean("after prune");
}
