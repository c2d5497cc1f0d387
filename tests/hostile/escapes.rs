//! A guest trying to reach host data with busybox's shell: `..`, absolute and chained
//! symlinks, symlinks through bind mounts and volumes, renames and links across mounts,
//! writes to `:ro` mounts, other containers' layers, the shared image layers, `cp` both ways
//! and build-context symlinks. Each attempt must fail or stay inside the container; the
//! canary outside the root, the image's layers on the host and `system check` must not change.

use super::*;
use crate::util::Sandbox;
use std::os::unix::fs::MetadataExt;

/// (what, script, text that must not be in the output) — the script runs in
/// `busybox sh -c`, with the bind mount `/data` (a host dir), `/ro` (read-only) and the volume
/// `/vol`; `$C` is the canary's host path, `$UP` a `../../..` path to it.
fn attempts() -> Vec<(&'static str, &'static str)> {
    vec![
        ("dot-dot to the host", "cat /../../../../../../..$C/secret; cat $UP/secret"),
        ("absolute symlink", "ln -s $C /l1 && cat /l1/secret"),
        ("relative symlink up", "ln -s ../../../../../../../../.. /l2 && cat /l2$C/secret"),
        ("chained symlinks", "ln -s / /c1 && ln -s /c1/.. /c2 && ln -s c2/../.. /c3 && cat /c3/c3/c3$C/secret"),
        ("symlink loop", "ln -s /loop1 /loop2 && ln -s /loop2 /loop1 && cat /loop1"),
        ("write through an absolute symlink", "ln -s $C/secret /w1 && echo pwned > /w1; cat /w1"),
        ("create through a symlinked dir", "ln -s $C /w2 && echo pwned > /w2/new && ls /w2"),
        ("symlink planted in a bind mount", "ln -s $C /data/out && cat /data/out/secret; echo x > /data/out/new"),
        ("host symlink in a bind mount", "cat /data/hostlink/secret; echo pwned > /data/hostlink/new"),
        ("symlink planted in a volume", "ln -s $C /vol/out && cat /vol/out/secret; echo x > /vol/out/new"),
        ("rename from a bind mount to the root", "echo a > /data/moved && mv /data/moved /moved && cat /moved"),
        ("rename out of the read-only mount", "mv /ro/file /stolen"),
        ("hard link across mounts", "ln /data/hostfile /hard; ln /ro/file /data/hard2; echo x >> /hard"),
        ("write to :ro", "echo pwned > /ro/file; echo pwned >> /ro/file; rm /ro/file; mkdir /ro/d; ln -s / /ro/l; chmod 777 /ro/file"),
        ("write to :ro through a symlink", "ln -s /ro/file /rolink; echo pwned > /rolink; ln -s /ro /rodir; echo x > /rodir/new"),
        ("the shared image layers", "echo pwned > /etc/issue; rm -rf /bin/ls; chmod 4777 /bin/box; echo x >> /bin/sh"),
        ("symlink over a layer directory", "rm -rf /etc && ln -s $C /etc && echo pwned > /etc/new"),
        ("dot-dot in cd", "cd /../../../..$C && cat secret; cd /data/../../.. && ls"),
        ("deep directories", "mkdir -p $(seq -s / 1 400) 2>/dev/null; true"),
        ("very long name", "touch /$(seq -s x 1 2000) 2>&1; true"),
    ]
}

#[test]
fn guest_escape_attempts() {
    let sb = Sandbox::new();
    let canary = Canary::new();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("hostfile"), "host file\n").unwrap();
    std::os::unix::fs::symlink(canary.path(), host.path().join("hostlink")).unwrap();
    let ro = tempfile::tempdir().unwrap();
    std::fs::write(ro.path().join("file"), "read only\n").unwrap();
    let ro_before = std::fs::metadata(ro.path().join("file")).unwrap();
    sb.run(&["volume", "create", "hostilevol"]).ok();
    sb.run(&["pull", "busybox"]).ok();
    let layers_before = layer_fingerprint(&sb);
    let up = format!("{}{}", "../".repeat(12), canary.rel_from_root());
    let all = attempts();
    assert!(all.len() >= 20);
    for (what, script) in &all {
        let data = format!("{}:/data", host.path().display());
        let rov = format!("{}:/ro:ro", ro.path().display());
        let r = sb
            .cmd(&["run", "--rm", "-v", &data, "-v", &rov, "-v", "hostilevol:/vol", "busybox", "sh", "-c", script])
            .env("C", canary.path())
            .env("UP", &up)
            .output()
            .unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr));
        assert!(
            !stdout.contains("canary secret") && !stderr.contains("canary secret"),
            "{what}: read the host:\n{stdout}{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        canary.assert_unchanged(what);
        assert_eq!(std::fs::read_to_string(ro.path().join("file")).unwrap(), "read only\n", "{what}: :ro changed");
        assert_eq!(std::fs::metadata(ro.path().join("file")).unwrap().mode(), ro_before.mode(), "{what}: :ro mode");
        assert_eq!(
            std::fs::read_to_string(host.path().join("hostfile")).unwrap(),
            "host file\n",
            "{what}: bind mount file changed"
        );
        assert_eq!(layer_fingerprint(&sb), layers_before, "{what}: the image's layers changed on the host");
        sb.assert_check_clean(what);
        // A file the guest made never carries setuid/world-write bits onto the host.
        for f in files_under(host.path()) {
            let md = std::fs::symlink_metadata(host.path().join(&f)).unwrap();
            if !md.file_type().is_symlink() {
                assert_eq!(md.mode() & 0o6000, 0, "{what}: {f} is setuid on the host");
            }
        }
    }
    // The next container sees the image as it was.
    assert_eq!(sb.sh("cat /etc/issue; ls /bin/ls"), sb.sh("cat /etc/issue; ls /bin/ls"));
    assert!(sb.sh("ls /bin").contains("ls"), "a container's rm -rf reached the image");
    // Another container's writable layer is out of reach.
    sb.run(&["run", "--name", "victim", "busybox", "sh", "-c", "echo victim-secret > /secret"]).ok();
    let victim = sb.run(&["inspect", "-f", "{{.Id}}", "victim"]).ok().stdout.trim().to_string();
    let upper = sb.root().join("containers").join(&victim).join("upper");
    let out = sb.sh(&format!(
        "cat {}/secret 2>&1; cat /../../../../../..{}/secret 2>&1; true",
        upper.display(),
        upper.display()
    ));
    assert!(!out.contains("victim-secret"), "one container read another's layer: {out}");
    let r = sb.run(&["system", "check", "--deep"]);
    assert_eq!(r.code, 0, "deep check after the attempts:\n{}{}", r.stdout, r.stderr);
    canary.assert_unchanged("after all attempts");
    println!("guest escapes: {} attempts, 0 escaped", all.len() + 1);
}

/// Paths, sizes and modes of every extracted layer file (what a guest must not change).
fn layer_fingerprint(sb: &Sandbox) -> Vec<(String, u64, u32)> {
    files_under(&sb.root().join("layers"))
        .into_iter()
        .map(|f| {
            let md = std::fs::symlink_metadata(sb.root().join("layers").join(&f)).unwrap();
            (f, md.len(), md.mode())
        })
        .collect()
}

/// A guest cannot set the times of a file in a shared layer or behind `:ro` with futimens
/// (`touch -d` on an opened file): the times go to the container's copy-up or are refused.
#[test]
fn guest_cannot_change_times_in_shared_layers() {
    let sb = Sandbox::new();
    let ro = tempfile::tempdir().unwrap();
    std::fs::write(ro.path().join("file"), "x").unwrap();
    sb.run(&["pull", "busybox"]).ok();
    let layers = layer_mtimes(&sb);
    let ro_before = std::fs::metadata(ro.path().join("file")).unwrap().mtime();
    let rov = format!("{}:/ro:ro", ro.path().display());
    sb.run(&["run", "--rm", "-v", &rov, "busybox", "sh", "-c", "touch -d 2001-01-01 /etc/issue /bin/sh /ro/file"]);
    assert_eq!(layer_mtimes(&sb), layers, "times in a shared layer changed");
    assert_eq!(std::fs::metadata(ro.path().join("file")).unwrap().mtime(), ro_before, "times behind :ro changed");
}

fn layer_mtimes(sb: &Sandbox) -> Vec<(String, i64)> {
    files_under(&sb.root().join("layers"))
        .into_iter()
        .map(|f| (f.clone(), std::fs::symlink_metadata(sb.root().join("layers").join(&f)).unwrap().mtime()))
        .collect()
}

#[test]
fn cp_both_ways_stays_contained() {
    let sb = Sandbox::new();
    let canary = Canary::new();
    let script = "mkdir -p /out/d && echo inside > /out/d/f && ln -s /etc /out/l && ln -s $C/secret /out/abs";
    let made =
        sb.cmd(&["run", "--name", "cpsrc", "busybox", "sh", "-c", script]).env("C", canary.path()).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    // cp out, twice into the same place: a symlink the first copy made is not written through.
    let dest = tempfile::tempdir().unwrap();
    let r = sb.cmd(&["cp", "cpsrc:/out", dest.path().to_str().unwrap()]).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(std::fs::symlink_metadata(dest.path().join("out/l")).unwrap().file_type().is_symlink());
    // The container now puts a directory with a file where the link was.
    sb.run(&["commit", "cpsrc", "cpstage"]).ok();
    sb.run(&[
        "run",
        "--name",
        "cpsrc2",
        "cpstage",
        "sh",
        "-c",
        "rm /out/l && mkdir /out/l && echo over > /out/l/passwd",
    ])
    .ok();
    let r = sb.run(&["cp", "cpsrc2:/out", dest.path().to_str().unwrap()]);
    assert_no_panic(&r, "second cp out");
    assert!(std::fs::symlink_metadata("/etc/passwd").unwrap().len() > 0);
    assert_ne!(std::fs::read_to_string("/etc/passwd").unwrap(), "over\n", "cp out wrote through a link");
    assert_eq!(std::fs::read_to_string(dest.path().join("out/l/passwd")).unwrap(), "over\n");
    canary.assert_unchanged("cp out");
    // cp in: host symlinks arrive as symlinks, never as the host file's content; a FIFO in
    // the directory is skipped, not waited on.
    let src = tempfile::tempdir().unwrap();
    std::fs::create_dir(src.path().join("in")).unwrap();
    std::os::unix::fs::symlink(canary.path().join("secret"), src.path().join("in/secretlink")).unwrap();
    let fifo = src.path().join("in/fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let start = std::time::Instant::now();
    let r = sb.run(&["cp", src.path().join("in").to_str().unwrap(), "cpsrc:/in"]);
    assert!(start.elapsed() < std::time::Duration::from_secs(10), "cp waited on a FIFO");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("skipping"), "{}", r.stderr);
    let r = sb.run(&["cp", "cpsrc:/in/secretlink", dest.path().join("back").to_str().unwrap()]);
    assert_no_panic(&r, "cp the link back");
    sb.run(&["commit", "cpsrc", "cpin"]).ok();
    let cat = sb.run(&["run", "--rm", "cpin", "sh", "-c", "cat /in/secretlink; ls -l /in"]);
    assert!(!cat.stdout.contains("canary secret"), "{}", cat.stdout);
    assert!(cat.stdout.contains("secretlink ->"), "the link arrived as a link: {}", cat.stdout);
    canary.assert_unchanged("cp in");
    sb.run(&["rm", "-f", "cpsrc", "cpsrc2"]).ok();
    sb.assert_check_clean("cp both ways");
}
