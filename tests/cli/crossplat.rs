//! Cross-platform proofs on this Linux host: the portable layer form Windows uses (symlinks
//! as files holding their target, modes and owners in skiff's per-directory metadata),
//! forced here with `SKIFF_NO_HOST_SYMLINKS=1`, gives the same view, `diff`, `commit` and
//! build bytes as host symlinks and modes; and the portable store reads the same from a
//! process without the switch.

use super::util::Sandbox;
use std::ffi::OsStr;

/// A layer tar with symlinks (relative, absolute, dangling, to a directory), hard links (to
/// a file, to a symlink) and modes (set-id, sticky, private, owned by others).
fn layer_tar() -> Vec<u8> {
    use tar::EntryType as T;
    let rows: &[(T, &str, &str, u32, u64, &[u8])] = &[
        (T::Directory, "data/", "", 0o755, 0, b""),
        (T::Directory, "data/real/", "", 0o700, 1000, b""),
        (T::Regular, "data/real/file", "", 0o644, 0, b"hello\n"),
        (T::Symlink, "data/dirlink", "real", 0o777, 0, b""),
        (T::Symlink, "data/abs", "/data/real/file", 0o777, 0, b""),
        (T::Symlink, "data/rel", "real/file", 0o777, 0, b""),
        (T::Symlink, "data/dangling", "nowhere", 0o777, 0, b""),
        (T::Regular, "data/exe", "", 0o755, 0, b"#!/bin/sh\necho hi\n"),
        (T::Regular, "data/suid", "", 0o4755, 0, b"x"),
        (T::Directory, "data/sticky/", "", 0o1777, 0, b""),
        (T::Regular, "data/private", "", 0o600, 1000, b"secret\n"),
        (T::Regular, "data/hard1", "", 0o640, 0, b"same\n"),
        (T::Link, "data/hard2", "data/hard1", 0o640, 0, b""),
        (T::Link, "data/linklink", "data/rel", 0o777, 0, b""),
        (T::Directory, "data/sub/", "", 0o750, 0, b""),
    ];
    let mut b = tar::Builder::new(Vec::new());
    for (kind, path, link, mode, owner, data) in rows {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_mode(*mode);
        h.set_uid(*owner);
        h.set_gid(*owner);
        h.set_mtime(0);
        h.set_size(data.len() as u64);
        if !link.is_empty() {
            h.set_link_name(link).unwrap();
        }
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// What the container sees of the tree, then the changes it makes (through a symlinked
/// directory, chmod of a lower file, new and removed symlinks, a rename, a hard link, a new
/// directory with a mode, a chown), then what it sees again.
const SCRIPT: &str = r#"
show() {
  find /data | sort | while read -r p; do stat -c '%n %a %u:%g %F %s' "$p"; readlink "$p"; done
  for f in rel abs rel2 linklink dirlink/file sub/newlink; do [ -e "/data/$f" ] && cat "/data/$f"; done; true
}
show
echo more >> /data/dirlink/file
chmod 700 /data/exe
ln -s ../exe /data/sub/newlink
rm /data/abs
mv /data/rel /data/rel2
ln /data/hard1 /data/hard3
mkdir /data/newdir
chmod 705 /data/newdir
echo new > /data/newfile
chmod 604 /data/newfile
chown 7:8 /data/newfile
rm /data/dangling
ln -s /data/newfile /data/dangling
echo '--- after'
show
"#;

/// Everything the two runs must agree on.
#[derive(Debug, PartialEq)]
struct Outcome {
    built_id: String,
    view: String,
    diff: String,
    committed_layers: String,
    rerun: String,
}

fn run_all(s: &Sandbox, env: &[(&str, &OsStr)]) -> Outcome {
    let run = |args: &[&str]| s.run_env(args, env).ok().stdout;
    std::fs::write(s.work.path().join("layer.tar"), layer_tar()).unwrap();
    std::fs::write(s.work.path().join("Dockerfile"), "FROM busybox\nADD layer.tar /\n").unwrap();
    let mut build_env = env.to_vec();
    build_env.push(("SOURCE_DATE_EPOCH", OsStr::new("1700000000")));
    s.run_env(&["build", "-q", "-t", "links", "."], &build_env).ok();
    let built_id = run(&["images", "-q", "--no-trunc", "links"]);
    let view = run(&["run", "--name", "ctr", "links", "sh", "-c", SCRIPT]);
    let diff = run(&["diff", "ctr"]);
    s.run_env(&["commit", "ctr", "links:changed"], &build_env).ok();
    let committed_layers = run(&["inspect", "-f", "{{json .RootFS.Layers}}", "links:changed"]);
    let rerun = run(&[
        "run",
        "--rm",
        "links:changed",
        "sh",
        "-c",
        "cat /data/real/file /data/sub/newlink; readlink /data/dangling /data/rel2; ls /data",
    ]);
    Outcome { built_id, view, diff, committed_layers, rerun }
}

#[test]
fn portable_layers_give_the_same_view_diff_and_commit() {
    let host = Sandbox::new();
    let portable = Sandbox::new();
    let on: &[(&str, &OsStr)] = &[("SKIFF_NO_HOST_SYMLINKS", OsStr::new("1"))];
    let a = run_all(&host, &[]);
    let b = run_all(&portable, on);
    assert!(a.view.contains("/data/dirlink 777 0:0 symbolic link 4\nreal\n"), "{}", a.view);
    assert!(a.view.contains("/data/suid 755 0:0 regular file 1\n"), "set-id bits never reach host files:\n{}", a.view);
    assert!(a.view.contains("/data/sticky 1777 0:0 directory"), "{}", a.view);
    // ADD gives the unpacked files to root (the tar's owners are not kept), as the build does.
    assert!(a.view.contains("/data/private 600 0:0 regular file 7\n"), "{}", a.view);
    assert!(a.view.contains("/data/newfile 604 7:8 regular file 4\n"), "{}", a.view);
    assert!(a.diff.contains("C /data/real/file\n") && a.diff.contains("D /data/abs\n"), "{}", a.diff);
    // Directory sizes are the host's (a placeholder tree has the same directories).
    assert_eq!(a, b, "host symlinks and modes vs the portable form");

    // The portable store really is in the portable form: a symlink is a file holding its
    // target, and the layer's metadata says what it is.
    let layers = portable.root().join("layers");
    let mut placeholders = 0;
    let mut metas = 0;
    for l in std::fs::read_dir(&layers).unwrap().flatten() {
        let diff = l.path().join("diff");
        assert!(diff.join(".wh..wh..meta.json").is_file(), "{}: no marker", diff.display());
        metas += 1;
        let ls = diff.join("bin/ls");
        if let Ok(md) = std::fs::symlink_metadata(&ls) {
            assert!(md.is_file(), "bin/ls is a placeholder file");
            assert_eq!(std::fs::read(&ls).unwrap(), b"box");
            placeholders += 1;
        }
    }
    assert!(metas >= 3 && placeholders == 1, "{metas} layers, {placeholders} with bin/ls");
    for l in std::fs::read_dir(host.root().join("layers")).unwrap().flatten() {
        assert!(!l.path().join("diff/.wh..wh..meta.json").exists(), "host layers keep no metadata");
    }
    let upper_meta = std::fs::read_dir(portable.root().join("containers"))
        .unwrap()
        .flatten()
        .map(|c| c.path().join("upper/data/.wh..wh..meta.json"))
        .find(|p| p.exists())
        .expect("the writable layer keeps its symlinks and modes in metadata");
    let text = std::fs::read_to_string(upper_meta).unwrap();
    assert!(text.contains("\"newlink\"") || text.contains("\"dangling\""), "{text}");

    // A process without the switch reads the portable store by its markers, and checks it.
    let plain = portable.run(&["run", "--rm", "links", "sh", "-c", "readlink /data/dirlink; cat /data/abs"]).ok();
    assert_eq!(plain.stdout, "real\nhello\n");
    portable.run(&["system", "check", "--deep"]).ok();
    portable.run_env(&["system", "check", "--deep"], on).ok();
}

/// A layer whose tar names skiff's metadata file cannot plant metadata: the name is skipped,
/// as Docker skips AUFS's `.wh..wh.` bookkeeping.
#[test]
fn a_layer_cannot_plant_metadata() {
    let meta = br#"{"passwd": {"link": "/etc/shadow"}}"#;
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in [("etc/passwd", &b"root:x:0:0::/:/bin/sh\n"[..]), ("etc/.wh..wh..meta.json", &meta[..])] {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, path, data).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let on: &[(&str, &OsStr)] = &[("SKIFF_NO_HOST_SYMLINKS", OsStr::new("1"))];
    for env in [&[][..], on] {
        let s = Sandbox::new();
        std::fs::write(s.work.path().join("evil.tar"), &tar).unwrap();
        s.run_env(&["import", "evil.tar", "evil"], env).ok();
        let mut seen = 0;
        for l in std::fs::read_dir(s.root().join("layers")).unwrap().flatten() {
            let etc = l.path().join("diff/etc");
            assert!(etc.join("passwd").is_file());
            seen += 1;
            let planted = std::fs::read_to_string(etc.join(".wh..wh..meta.json")).unwrap_or_default();
            assert!(!planted.contains("shadow"), "{}: planted metadata: {planted}", etc.display());
        }
        assert_eq!(seen, 1);
    }
}
