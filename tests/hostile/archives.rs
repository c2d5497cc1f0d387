//! Hostile archives for `load` (docker-archive and OCI layout), `import` and `ADD`: each is
//! refused with a clear error naming what is wrong, or loaded with its danger removed; the
//! canary outside the root is never touched, a refused archive leaves no image, blob, layer
//! or scratch file, and `system check` stays clean.

use super::*;
use crate::util::Sandbox;
use tar::EntryType as T;

/// What a case expects.
enum Want {
    /// Refused: exit 1 and this in the error.
    Refused(&'static str),
    /// Accepted (and then checked by the case's own assertion, if any).
    Loaded,
}

struct Case {
    name: &'static str,
    /// The archive file's bytes.
    archive: Vec<u8>,
    /// `load`, `import`.
    command: &'static str,
    want: Want,
}

fn layer(rows: &[(T, &str, &str, &[u8], u32)]) -> Vec<u8> {
    raw_tar(rows)
}

/// A docker-archive whose one layer is `rows`.
fn image(rows: &[(T, &str, &str, &[u8], u32)]) -> Vec<u8> {
    docker_archive(&[layer(rows)], &["hostile:latest"], None)
}

/// An OCI layout archive of one image (`layers` uncompressed), with `tweak` applied to the
/// list of (path, bytes) before it is written.
fn oci(layers: &[Vec<u8>], tweak: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| format!("sha256:{}", sha256_hex(l))).collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "wasm", "os": "wasip1", "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let mut files: Vec<(String, Vec<u8>)> = vec![("oci-layout".into(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec())];
    let mut descs = Vec::new();
    for l in layers {
        files.push((format!("blobs/sha256/{}", sha256_hex(l)), l.clone()));
        descs.push(serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": format!("sha256:{}", sha256_hex(l)), "size": l.len()}));
    }
    files.push((format!("blobs/sha256/{}", sha256_hex(&config)), config.clone()));
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{}", sha256_hex(&config)), "size": config.len()},
        "layers": descs,
    }))
    .unwrap();
    files.push((format!("blobs/sha256/{}", sha256_hex(&manifest)), manifest.clone()));
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": format!("sha256:{}", sha256_hex(&manifest)), "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": "docker.io/library/hostile-oci:latest"}}],
    }))
    .unwrap();
    files.push(("index.json".into(), index));
    tweak(&mut files);
    let named: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
    archive_of(&named)
}

fn cases(canary: &Canary) -> Vec<Case> {
    let up = format!("{}{}", "../".repeat(12), canary.rel_from_root());
    let abs = canary.path().display().to_string();
    let up_pwned: &'static str = Box::leak(format!("{up}/pwned").into_boxed_str());
    let abs_pwned: &'static str = Box::leak(format!("{abs}/pwned").into_boxed_str());
    let abs_dir: &'static str = Box::leak(abs.clone().into_boxed_str());
    let abs_secret: &'static str = Box::leak(format!("{abs}/secret").into_boxed_str());
    let up_secret: &'static str = Box::leak(format!("{up}/secret").into_boxed_str());
    let ok = b"ok\n" as &[u8];
    let mut v = vec![
        Case {
            name: "absolute path",
            archive: image(&[(T::Regular, abs_pwned, "", ok, 0o644)]),
            command: "load",
            want: Want::Refused("absolute paths are not allowed"),
        },
        Case {
            name: "dot-dot traversal",
            archive: image(&[(T::Regular, up_pwned, "", ok, 0o644)]),
            command: "load",
            want: Want::Refused("path contains '..'"),
        },
        Case {
            name: "symlink then write through it",
            archive: image(&[(T::Symlink, "evil", abs_dir, b"", 0o777), (T::Regular, "evil/pwned", "", ok, 0o644)]),
            command: "load",
            want: Want::Refused("writes through a symlink"),
        },
        Case {
            name: "relative symlink up, then write",
            archive: image(&[
                (T::Symlink, "up", "../../../../../../../../..", b"", 0o777),
                (T::Regular, "up/pwned", "", ok, 0o644),
            ]),
            command: "load",
            want: Want::Refused("writes through a symlink"),
        },
        Case {
            name: "symlink then directory through it",
            archive: image(&[(T::Symlink, "d", abs_dir, b"", 0o777), (T::Directory, "d/sub2/", "", b"", 0o755)]),
            command: "load",
            want: Want::Refused("writes through a symlink"),
        },
        Case {
            name: "hard link to a host file",
            archive: image(&[(T::Link, "h", abs_secret, b"", 0o644)]),
            command: "load",
            want: Want::Refused("hard link points outside the layer"),
        },
        Case {
            name: "hard link up and out",
            archive: image(&[(T::Link, "h", up_secret, b"", 0o644)]),
            command: "load",
            want: Want::Refused("hard link points outside the layer"),
        },
        Case {
            name: "hard link through a symlink",
            archive: image(&[(T::Symlink, "s", abs_dir, b"", 0o777), (T::Link, "h", "s/secret", b"", 0o644)]),
            command: "load",
            want: Want::Refused("hard link points through a symlink"),
        },
        Case {
            name: "hard link to a missing file",
            archive: image(&[(T::Link, "h", "nope", b"", 0o644)]),
            command: "load",
            want: Want::Refused("hard link to a file not in the layer"),
        },
        Case {
            name: "character device",
            archive: image(&[(T::Char, "dev/mem", "", b"", 0o666)]),
            command: "load",
            want: Want::Refused("device nodes are not allowed"),
        },
        Case {
            name: "block device",
            archive: image(&[(T::Block, "dev/sda", "", b"", 0o666)]),
            command: "load",
            want: Want::Refused("device nodes are not allowed"),
        },
        Case {
            name: "fifo",
            archive: image(&[(T::Fifo, "p", "", b"", 0o644)]),
            command: "load",
            want: Want::Refused("FIFOs are not allowed"),
        },
        Case {
            name: "setuid, setgid and world-writable bits",
            archive: docker_archive(
                &[layer(&[(T::Regular, "bin/su", "", ok, 0o6777), (T::Directory, "pub/", "", b"", 0o777)])],
                &["setuid:latest"],
                None,
            ),
            command: "load",
            want: Want::Loaded,
        },
        Case {
            name: "duplicate entries (file, then dir, then file)",
            archive: docker_archive(
                &[layer(&[
                    (T::Regular, "a", "", b"1", 0o644),
                    (T::Directory, "a/", "", b"", 0o755),
                    (T::Regular, "a", "", b"2", 0o644),
                    (T::Regular, "a", "", b"3", 0o644),
                ])],
                &["dups:latest"],
                None,
            ),
            command: "load",
            want: Want::Loaded,
        },
        Case {
            name: "truncated layer tar",
            archive: {
                let l = layer(&[(T::Regular, "big", "", &[7u8; 5000], 0o644)]);
                docker_archive(&[l[..3000].to_vec()], &["trunc:latest"], None)
            },
            command: "load",
            want: Want::Refused("unexpected EOF"),
        },
        Case {
            name: "truncated gzip archive",
            archive: {
                let g = gzip(&image(&[(T::Regular, "f", "", ok, 0o644)]));
                g[..g.len() / 2].to_vec()
            },
            command: "load",
            want: Want::Refused("invalid archive"),
        },
        Case {
            name: "gzip bomb layer with a wrong diff ID",
            archive: {
                let bomb = gzip(&layer(&[(T::Regular, "zeros", "", &vec![0u8; 64 << 20], 0o644)]));
                docker_archive(&[bomb], &["bomb:latest"], Some(vec![format!("sha256:{}", "0".repeat(64))]))
            },
            command: "load",
            want: Want::Refused("not the diff ID the config names"),
        },
        Case {
            name: "layer content does not match its diff ID",
            archive: docker_archive(
                &[layer(&[(T::Regular, "f", "", ok, 0o644)])],
                &["mismatch:latest"],
                Some(vec![format!("sha256:{}", "1".repeat(64))]),
            ),
            command: "load",
            want: Want::Refused("not the diff ID the config names"),
        },
        Case {
            name: "config names more layers than the archive has",
            archive: docker_archive(
                &[layer(&[(T::Regular, "f", "", ok, 0o644)])],
                &["count:latest"],
                Some(vec![format!("sha256:{}", "1".repeat(64)), format!("sha256:{}", "2".repeat(64))]),
            ),
            command: "load",
            want: Want::Refused("names 2 layers but the archive has 1"),
        },
        Case {
            name: "OCI manifest names a missing blob",
            archive: oci(&[layer(&[(T::Regular, "f", "", ok, 0o644)])], |files| {
                files.retain(|(n, d)| !(n.starts_with("blobs/") && d.len() > 1000));
                // the layer goes
            }),
            command: "load",
            want: Want::Refused("missing"),
        },
        Case {
            name: "OCI blob does not hash to its name",
            archive: oci(&[layer(&[(T::Regular, "f", "", ok, 0o644)])], |files| {
                for (n, d) in files.iter_mut() {
                    if n.starts_with("blobs/") && d.starts_with(b"{\"architecture\"") {
                        d.extend_from_slice(b" ");
                    }
                }
            }),
            command: "load",
            want: Want::Refused("is corrupt"),
        },
        Case {
            name: "OCI index.json is a symlink to a host file",
            archive: oci(&[layer(&[(T::Regular, "f", "", ok, 0o644)])], |files| {
                files.retain(|(n, _)| n != "index.json");
                files.push(("index.json".into(), format!("link:{abs_secret}").into_bytes()));
            }),
            command: "load",
            want: Want::Refused("leaves the archive"),
        },
        Case {
            name: "manifest.json is a symlink to a host file",
            archive: archive_of(&[("manifest.json", format!("link:{abs_secret}").into_bytes())]),
            command: "load",
            want: Want::Refused("manifest.json: path leaves the archive"),
        },
        Case {
            name: "manifest.json names a config outside the archive",
            archive: archive_of(&[(
                "manifest.json",
                format!(r#"[{{"Config":"{up_secret}","RepoTags":[],"Layers":[]}}]"#).into_bytes(),
            )]),
            command: "load",
            want: Want::Refused("path leaves the archive"),
        },
        Case {
            name: "manifest.json names an absolute layer path",
            archive: archive_of(&[
                ("c.json", b"{}".to_vec()),
                (
                    "manifest.json",
                    format!(r#"[{{"Config":"c.json","RepoTags":[],"Layers":["{abs_secret}"]}}]"#).into_bytes(),
                ),
            ]),
            command: "load",
            want: Want::Refused("path leaves the archive"),
        },
        Case {
            name: "invalid JSON never quoted back",
            archive: archive_of(&[(
                "manifest.json",
                b"[{\"Config\": \"canary secret 7f3a\", \"Layers\": 5}]".to_vec(),
            )]),
            command: "load",
            want: Want::Refused("manifest.json: invalid JSON"),
        },
        Case {
            name: "huge JSON",
            archive: archive_of(&[("manifest.json", {
                let mut j = b"[".to_vec();
                j.extend(std::iter::repeat_n(b' ', 20 << 20));
                j.push(b']');
                j
            })]),
            command: "load",
            want: Want::Refused("too large"),
        },
        Case {
            name: "deeply nested JSON",
            archive: archive_of(&[(
                "manifest.json",
                format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
            )]),
            command: "load",
            want: Want::Refused("invalid JSON"),
        },
        Case {
            name: "neither layout",
            archive: archive_of(&[("hello.txt", ok.to_vec())]),
            command: "load",
            want: Want::Refused("neither a docker-archive"),
        },
        Case {
            name: "invalid RepoTag keeps no image",
            archive: docker_archive(&[layer(&[(T::Regular, "f", "", ok, 0o644)])], &["NOT VALID::tag"], None),
            command: "load",
            want: Want::Refused("invalid tag"),
        },
        Case {
            name: "second image's bad tag keeps the first out too",
            archive: {
                // Two images: the first fine, the second with a bad tag (manifest edited).
                let a = docker_archive(&[layer(&[(T::Regular, "a", "", ok, 0o644)])], &["good:latest"], None);
                let mut ar = tar::Archive::new(a.as_slice());
                let mut files: Vec<(String, Vec<u8>)> = Vec::new();
                for e in ar.entries().unwrap() {
                    let mut e = e.unwrap();
                    let mut d = Vec::new();
                    std::io::Read::read_to_end(&mut e, &mut d).unwrap();
                    files.push((e.path().unwrap().to_string_lossy().into_owned(), d));
                }
                let (_, m) = files.iter().find(|(n, _)| n == "manifest.json").unwrap().clone();
                let mut entries: Vec<serde_json::Value> = serde_json::from_slice(&m).unwrap();
                let mut bad = entries[0].clone();
                bad["RepoTags"] = serde_json::json!(["Bad Tag"]);
                entries.push(bad);
                for (n, d) in files.iter_mut() {
                    if n == "manifest.json" {
                        *d = serde_json::to_vec(&entries).unwrap();
                    }
                }
                let named: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
                archive_of(&named)
            },
            command: "load",
            want: Want::Refused("invalid tag"),
        },
        Case {
            name: "malicious whiteouts",
            archive: docker_archive(
                &[layer(&[
                    (T::Regular, ".wh...", "", b"", 0o644),
                    (T::Regular, ".wh..wh..opq", "", b"", 0o644),
                    (T::Regular, "etc/.wh.", "", b"", 0o644),
                ])],
                &["whiteouts:latest"],
                None,
            ),
            command: "load",
            want: Want::Loaded,
        },
        Case {
            name: "very long names",
            archive: docker_archive(
                &[layer(&[(T::Regular, Box::leak(format!("{}f", "d/".repeat(2100)).into_boxed_str()), "", ok, 0o644)])],
                &["long:latest"],
                None,
            ),
            command: "load",
            want: Want::Refused("invalid layer"),
        },
        Case {
            name: "a name with terminal escapes",
            archive: image(&[(
                T::Regular,
                Box::leak(format!("../\x1b]0;owned\x07\x1b[2J{}", canary.rel_from_root()).into_boxed_str()),
                "",
                ok,
                0o644,
            )]),
            command: "load",
            want: Want::Refused("\\x1b"),
        },
        Case {
            name: "not wasm, but starts like it",
            archive: docker_archive(
                &[layer(&[(T::Regular, "bin/broken", "", b"\0asm\x01\0\0\0garbage-truncated", 0o755)])],
                &["badwasm:latest"],
                None,
            ),
            command: "load",
            want: Want::Loaded,
        },
        // import: a plain tar (or gzip) that becomes one layer.
        Case {
            name: "import: traversal",
            archive: layer(&[(T::Regular, up_pwned, "", ok, 0o644)]),
            command: "import",
            want: Want::Refused("path contains '..'"),
        },
        Case {
            name: "import: symlink then write",
            archive: layer(&[(T::Symlink, "x", abs_dir, b"", 0o777), (T::Regular, "x/pwned", "", ok, 0o644)]),
            command: "import",
            want: Want::Refused("writes through a symlink"),
        },
        Case {
            name: "import: device",
            archive: layer(&[(T::Char, "null", "", b"", 0o666)]),
            command: "import",
            want: Want::Refused("device nodes are not allowed"),
        },
        Case {
            name: "import: truncated gzip",
            archive: {
                let g = gzip(&layer(&[(T::Regular, "f", "", &[1u8; 100_000], 0o644)]));
                g[..g.len() - 40].to_vec()
            },
            command: "import",
            want: Want::Refused("reading the archive: incomplete deflate stream"),
        },
        Case {
            name: "import: setuid",
            archive: layer(&[(T::Regular, "bin/suid", "", ok, 0o4755)]),
            command: "import",
            want: Want::Loaded,
        },
    ];
    v.retain(|c| !c.name.is_empty());
    v
}

#[test]
fn hostile_archives_for_load_and_import() {
    let sb = Sandbox::new();
    let canary = Canary::new();
    sb.run(&["network", "ls"]).ok(); // the built-in networks, so the root is complete
    let all = cases(&canary);
    assert!(all.len() >= 30, "{} cases", all.len());
    let mut failures = Vec::new();
    for (i, case) in all.iter().enumerate() {
        let file = sb.work.path().join(format!("case{i}.tar"));
        std::fs::write(&file, &case.archive).unwrap();
        let before_images = sb.run(&["images", "-a", "-q"]).ok().stdout;
        let before_blobs = files_under(&sb.root().join("oci/blobs"));
        let args: Vec<String> = match case.command {
            "load" => vec!["load".into(), "-i".into(), file.display().to_string()],
            _ => vec!["import".into(), file.display().to_string(), format!("imported{i}")],
        };
        let r = sb.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match case.want {
                Want::Refused(msg) => {
                    assert_clean_error(&r, 1, msg, case.name);
                    assert!(!r.stderr.contains("canary secret"), "{}: the error quotes a host file", case.name);
                    assert_eq!(
                        sb.run(&["images", "-a", "-q"]).ok().stdout,
                        before_images,
                        "{}: an image was kept",
                        case.name
                    );
                    assert_eq!(
                        files_under(&sb.root().join("oci/blobs")),
                        before_blobs,
                        "{}: blobs were left behind",
                        case.name
                    );
                }
                Want::Loaded => {
                    assert_eq!(r.code, 0, "{}: {}{}", case.name, r.stdout, r.stderr);
                    assert_no_panic(&r, case.name);
                }
            }
            assert!(
                files_under(&sb.root().join("tmp")).is_empty(),
                "{}: scratch files left: {:?}",
                case.name,
                files_under(&sb.root().join("tmp"))
            );
            canary.assert_unchanged(case.name);
            sb.assert_check_clean(case.name);
        }));
        if let Err(e) = outcome {
            failures.push(format!("{}: {}", case.name, e.downcast_ref::<String>().cloned().unwrap_or_default()));
        }
    }
    // What the accepted ones hold on the host: no setuid, setgid or world-writable bit.
    use std::os::unix::fs::MetadataExt;
    for f in files_under(&sb.root().join("layers")) {
        let md = std::fs::symlink_metadata(sb.root().join("layers").join(&f)).unwrap();
        if !md.file_type().is_symlink() {
            assert_eq!(md.mode() & 0o6002, 0, "layers/{f} has mode {:o}", md.mode());
        }
    }
    // ... while the image itself keeps its bits (save shows the layer as it came).
    let saved = sb.run(&["save", "setuid"]).ok();
    let _ = saved;
    let out = sb.work.path().join("setuid.tar");
    sb.run(&["save", "-o", out.to_str().unwrap(), "setuid"]).ok();
    let mut outer = tar::Archive::new(std::fs::File::open(&out).unwrap());
    let mut modes = Vec::new();
    for e in outer.entries().unwrap() {
        let e = e.unwrap();
        if e.path().unwrap().to_string_lossy().ends_with("layer.tar") {
            let mut inner = tar::Archive::new(e);
            for x in inner.entries().unwrap() {
                let x = x.unwrap();
                modes.push((x.path().unwrap().to_string_lossy().into_owned(), x.header().mode().unwrap()));
            }
        }
    }
    assert!(modes.contains(&("bin/su".to_string(), 0o6777)), "the blob keeps its bits: {modes:?}");
    // The not-quite-wasm file is just a file: the load warned, and running it fails cleanly.
    let r = sb.run(&["run", "--rm", "badwasm", "/bin/broken"]);
    assert_ne!(r.code, 0);
    assert_no_panic(&r, "running a broken module");
    // The whiteouts named `..` and `` hide nothing outside: the root still lists.
    let r = sb.run(&["run", "--rm", "whiteouts", "sh"]);
    assert_no_panic(&r, "whiteouts image");
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), all.len(), failures.join("\n"));
    println!("hostile archives: {} cases, 0 failures", all.len());
}

#[test]
fn hostile_add_in_builds() {
    let sb = Sandbox::new();
    let canary = Canary::new();
    let up = format!("{}{}", "../".repeat(12), canary.rel_from_root());
    let abs = canary.path().display().to_string();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("ADD: traversal", raw_tar(&[(T::Regular, &format!("{up}/pwned"), "", b"x", 0o644)]), "path contains '..'"),
        (
            "ADD: symlink then write",
            raw_tar(&[(T::Symlink, "l", &abs, b"", 0o777), (T::Regular, "l/pwned", "", b"x", 0o644)]),
            "writes through a symlink",
        ),
        (
            "ADD: hard link out",
            raw_tar(&[(T::Link, "h", &format!("{abs}/secret"), b"", 0o644)]),
            "hard link points outside",
        ),
        ("ADD: fifo", raw_tar(&[(T::Fifo, "p", "", b"", 0o644)]), "FIFOs are not allowed"),
        ("ADD: device", raw_tar(&[(T::Block, "b", "", b"", 0o644)]), "device nodes are not allowed"),
    ];
    for (i, (what, tar, msg)) in cases.iter().enumerate() {
        let ctx = sb.work.path().join(format!("ctx{i}"));
        std::fs::create_dir(&ctx).unwrap();
        std::fs::write(ctx.join("evil.tar"), tar).unwrap();
        std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nADD evil.tar /x/\n").unwrap();
        let r = sb.run(&["build", "-q", ctx.to_str().unwrap()]);
        assert_ne!(r.code, 0, "{what}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(msg) || r.stdout.contains(msg), "{what}: {}{}", r.stdout, r.stderr);
        assert_no_panic(&r, what);
        canary.assert_unchanged(what);
        sb.assert_check_clean(what);
    }
    // The context itself: a symlink out of it, and ADD/COPY of ../ paths.
    let ctx = sb.work.path().join("ctxlinks");
    std::fs::create_dir(&ctx).unwrap();
    std::os::unix::fs::symlink(canary.path().join("secret"), ctx.join("link")).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nCOPY link /copied\nRUN cat /copied || true\n").unwrap();
    let r = sb.run(&["build", "-t", "links", ctx.to_str().unwrap()]);
    assert!(!r.stdout.contains("canary secret"), "a context symlink read a host file:\n{}", r.stdout);
    assert_no_panic(&r, "context symlink");
    // `../` is the context's root, as in Docker (the path is taken inside the context).
    std::fs::write(sb.work.path().join("outside.txt"), "outside the context\n").unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nCOPY ../ /up/\nRUN ls /up\n").unwrap();
    let r = sb.run(&["build", ctx.to_str().unwrap()]).ok();
    assert!(r.stdout.contains("Dockerfile") && !r.stdout.contains("outside.txt"), "COPY ../: {}", r.stdout);
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nCOPY ../outside.txt /up/\n").unwrap();
    let r = sb.run(&["build", ctx.to_str().unwrap()]);
    assert_ne!(r.code, 0, "COPY ../outside.txt must be refused");
    assert_no_panic(&r, "COPY ../outside.txt");
    canary.assert_unchanged("context links");
    sb.assert_check_clean("context links");
}
