//! The CLI under what learners do to it — broken pipes, closed stdin, bytes that are not
//! UTF-8, huge and deeply nested inputs, Ctrl-C — and the other regressions of issue 17:
//! never a panic or backtrace, a clear `Error:` line and Docker's exit code.

use super::*;
use crate::util::Sandbox;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Stdio;

#[test]
fn broken_pipes_end_quietly_like_docker() {
    let sb = Sandbox::new();
    sb.run(&["pull", "busybox"]).ok();
    // Output bigger than a pipe holds, read one line of, then closed: as `| head -1`.
    let many: Vec<&str> = std::iter::repeat_n("busybox", 300).collect();
    for args in [
        vec!["info"],
        [vec!["inspect"], many.clone()].concat(),
        [vec!["image", "inspect"], many].concat(),
        vec!["history", "--no-trunc", "busybox"],
    ] {
        let mut child = sb.cmd(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut first = [0u8; 16];
        let _ = child.stdout.as_mut().unwrap().read(&mut first);
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert!(
            out.status.success() || out.status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {:?} {stderr}",
            out.status
        );
    }
}

#[test]
fn closed_stdin_and_bad_bytes() {
    let sb = Sandbox::new();
    // stdin closed altogether (not /dev/null): load reads it.
    let mut c = sb.cmd(&["load"]);
    // SAFETY: close(2) between fork and exec.
    unsafe {
        c.pre_exec(|| {
            libc::close(0);
            Ok(())
        });
    }
    let out = c.output().unwrap();
    let r = crate::util::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    };
    assert_ne!(r.code, 0);
    assert_no_panic(&r, "load with stdin closed");
    assert!(r.stderr.starts_with("Error: "), "{}", r.stderr);
    // Arguments that are not UTF-8.
    let bad = std::ffi::OsStr::from_bytes(b"n\xffame");
    for args in [
        vec!["run", "--name"],
        vec!["volume", "create"],
        vec!["network", "create"],
        vec!["tag", "busybox"],
        vec!["inspect"],
    ] {
        let out = sb.cmd(&args).arg(bad).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} accepted a non-UTF-8 name");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // A context with a file name that is not UTF-8, and an .dockerignore naming it.
    let ctx = sb.work.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(ctx.join(std::ffi::OsStr::from_bytes(b"odd\xfe.txt")), "x").unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nCOPY . /ctx/\nRUN ls /ctx\n").unwrap();
    let r = sb.run(&["build", "-q", ctx.to_str().unwrap()]);
    assert_no_panic(&r, "non-UTF-8 file name in a context");
    sb.assert_check_clean("bad bytes");
}

#[test]
fn huge_and_deep_inputs() {
    let sb = Sandbox::new();
    sb.run(&["pull", "busybox"]).ok();
    let deep = format!("{{{{{}1{}}}}}", "(".repeat(10_000), ")".repeat(10_000));
    let r = sb.run(&["inspect", "-f", &deep, "busybox"]);
    assert_clean_error(&r, 1, "max expression depth exceeded", "10,000 nested parentheses");
    let r = sb.run(&["inspect", "-f", "{{printf \"%0999999999d\" 1}}", "busybox"]).ok();
    assert!(r.stdout.len() < 100, "printf width: {} bytes", r.stdout.len());
    assert_eq!(r.stdout.trim(), "%!(NOVERB)%!(EXTRA int=1)");
    let ctx = sb.work.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM busybox\nENV X={}y{}\n", "${x:-".repeat(5000), "}".repeat(5000)),
    )
    .unwrap();
    let r = sb.run(&["build", ctx.to_str().unwrap()]);
    assert_clean_error(&r, 1, "nested more than", "deeply nested ${x:-…}");
    let r = sb.run(&["tag", "busybox", &"a".repeat(100_000)]);
    assert_clean_error(&r, 1, "must not be more than 255 characters", "a 100k-character tag");
    let r = sb.run(&["run", "--rm", "busybox", "echo", &"x".repeat(100_000)]).ok();
    assert_eq!(r.stdout.len(), 100_001);
    let r = sb.run(&["volume", "inspect", "../.."]);
    assert_clean_error(&r, 1, "No such volume: ../..", "volume inspect ../..");
    let r = sb.run(&["volume", "rm", "../../oci"]);
    assert_clean_error(&r, 1, "No such volume", "volume rm ../../oci");
    assert!(sb.root().join("oci").exists());
}

#[test]
fn docker_refuses_these_and_so_does_skiff() {
    let sb = Sandbox::new();
    sb.run(&["pull", "busybox"]).ok();
    let r = sb.run(&["run", "--rm", "-e", "=x", "busybox", "true"]);
    assert_clean_error(
        &r,
        125,
        "invalid argument \"=x\" for \"-e, --env\" flag: invalid environment variable: =x",
        "-e =x",
    );
    let r = sb.run(&["run", "--rm", "-v", "a1:/data", "-v", "b1:/data/", "busybox", "true"]);
    assert_clean_error(&r, 125, "Duplicate mount point: /data", "duplicate mount targets");
    let r = sb.run(&["run", "--rm", "-m", "99999999999999999999t", "busybox", "true"]);
    assert_clean_error(&r, 125, "value out of range", "-m overflow");
    let ctx = sb.work.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nEXPOSE abc\n").unwrap();
    let r = sb.run(&["build", ctx.to_str().unwrap()]);
    assert_clean_error(&r, 1, "Invalid containerPort: abc", "EXPOSE abc");
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nEXPOSE 80/tcp 53/udp 8000-8010\n").unwrap();
    sb.run(&["build", "-q", ctx.to_str().unwrap()]).ok();
    assert!(sb.run(&["ps", "-aq"]).ok().stdout.is_empty(), "a refused run left a container");
    sb.assert_check_clean("refusals");
}

#[test]
fn logs_are_bounded_and_tailed_from_the_end() {
    let sb = Sandbox::new();
    sb.run(&["pull", "busybox"]).ok();
    // 400 lines of 1 KiB with a 64 KiB × 2 log: at most ~128 KiB kept.
    let script =
        "x=$(seq -s _ 1 300); i=0; while [ $i -lt 400 ]; do echo \"$i $x\"; i=$((i+1)); done; printf no-newline-at-end";
    sb.run(&[
        "run",
        "--name",
        "chatty",
        "--log-opt",
        "max-size=64k",
        "--log-opt",
        "max-file=2",
        "busybox",
        "sh",
        "-c",
        script,
    ])
    .ok();
    let id = sb.run(&["inspect", "-f", "{{.Id}}", "chatty"]).ok().stdout.trim().to_string();
    let dir = sb.root().join("containers").join(&id);
    let total: u64 = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("-json.log"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    assert!(total <= 2 * 70 * 1024, "the log holds {total} bytes");
    assert!(dir.join(format!("{id}-json.log.1")).exists(), "the log was rotated");
    let tail = sb.run(&["logs", "--tail", "2", "chatty"]).ok().stdout;
    let lines: Vec<&str> = tail.lines().collect();
    assert_eq!(lines.len(), 2, "{tail}");
    assert!(lines[0].starts_with("399 1_2_3"), "{tail}");
    assert_eq!(lines[1], "no-newline-at-end");
    let r = sb.run(&["run", "--rm", "--log-opt", "max-size=banana", "busybox", "true"]);
    assert_clean_error(&r, 125, "invalid size: 'banana'", "--log-opt max-size=banana");
    let r = sb.run(&["run", "--rm", "--log-opt", "colour=red", "busybox", "true"]);
    assert_clean_error(&r, 125, "unknown log opt 'colour' for json-file log driver", "--log-opt colour");
    let r = sb.run(&["inspect", "-f", "{{.HostConfig.LogConfig.Config}}", "chatty"]).ok();
    assert_eq!(r.stdout.trim(), "map[max-file:2 max-size:64k]");
}

#[test]
fn not_quite_wasm_files_are_just_files() {
    let sb = Sandbox::new();
    sb.run(&["pull", "busybox"]).ok();
    sb.run(&[
        "run",
        "--name",
        "wasmy",
        "busybox",
        "sh",
        "-c",
        "printf '\\000asm\\001\\000\\000\\000truncated' > /bin/partial",
    ])
    .ok();
    let r = sb.run(&["commit", "wasmy", "partial:1"]).ok();
    assert!(r.stderr.contains("/bin/partial starts like a wasm module but is not one"), "{}", r.stderr);
    let ctx = sb.work.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nRUN printf '\\000asm\\001\\000\\000\\000x' > /bin/half\nRUN ls -l /bin/half\n",
    )
    .unwrap();
    let r = sb.run(&["build", "-t", "half", ctx.to_str().unwrap()]).ok();
    assert!(r.stderr.contains("/bin/half starts like a wasm module"), "{}", r.stderr);
    let r = sb.run(&["run", "--rm", "half", "/bin/half"]);
    assert_ne!(r.code, 0);
    assert_no_panic(&r, "running a file that is not a module");
    assert!(!sb.run(&["ps", "-a"]).ok().stdout.contains("Created"), "a Created container was left");
    sb.run(&["rm", "wasmy"]).ok();
    sb.assert_check_clean("not-quite-wasm");
}

#[test]
fn ctrl_c_during_a_build_run_leaves_no_container() {
    let sb = Sandbox::new();
    sb.run(&["pull", "busybox"]).ok();
    let ctx = sb.work.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nRUN echo started && sleep 30\n").unwrap();
    let mut child =
        sb.cmd(&["build", ctx.to_str().unwrap()]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    // "started" is in the `Step 2/2 : RUN` line too: the signal lands anywhere from the
    // making of the step's container to its command, and each must leave nothing.
    while !String::from_utf8_lossy(&seen).contains("started") {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "the build ended early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_eq!(sb.run(&["ps", "-aq"]).ok().stdout, "", "the step's container was left");
    sb.assert_check_clean("after Ctrl-C");
}

#[test]
fn refused_loads_keep_nothing() {
    let sb = Sandbox::new();
    // A layer that does not match its diff ID after a big decompression: no blob stays.
    let big = raw_tar(&[(tar::EntryType::Regular, "z", "", &vec![0u8; 8 << 20], 0o644)]);
    let ar = docker_archive(&[gzip(&big)], &["refused:1"], Some(vec![format!("sha256:{}", "2".repeat(64))]));
    std::fs::write(sb.work.path().join("r.tar"), ar).unwrap();
    let r = sb.run(&["load", "-i", "r.tar"]);
    assert_clean_error(&r, 1, "not the diff ID", "mismatched layer");
    let blobs = files_under(&sb.root().join("oci/blobs/sha256"));
    assert!(blobs.is_empty(), "{blobs:?}");
    assert!(files_under(&sb.root().join("tmp")).is_empty());
    sb.assert_check_clean("refused load");
}
