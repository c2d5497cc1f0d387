//! Volumes: named ones that outlive containers, bind mounts of host directories, `:ro`,
//! `--mount`, anonymous volumes for an image's VOLUME, `rm -v`, and the volume commands.

use super::util::Sandbox;

#[test]
fn named_volumes_outlive_containers_and_are_shared() {
    let s = Sandbox::new();
    assert_eq!(s.run(&["volume", "create", "mydata"]).ok().stdout, "mydata\n");
    assert_eq!(s.run(&["volume", "ls"]).ok().stdout, "DRIVER    VOLUME NAME\nlocal     mydata\n");
    assert_eq!(
        s.run(&["run", "--rm", "-v", "mydata:/data", "busybox", "sh", "-c", "echo hello > /data/hello.txt; ls /data"])
            .ok()
            .stdout,
        "hello.txt\n"
    );
    assert_eq!(
        s.run(&["run", "--rm", "-v", "mydata:/data", "busybox", "cat", "/data/hello.txt"]).ok().stdout,
        "hello\n"
    );
    // Two containers at once see each other's writes; the volume is no part of `diff`.
    s.run(&[
        "run",
        "-d",
        "--name",
        "writer",
        "-v",
        "mydata:/data",
        "busybox",
        "sh",
        "-c",
        "echo live > /data/live.txt; sleep 600",
    ])
    .ok();
    let start = std::time::Instant::now();
    loop {
        let r =
            s.run(&["run", "--rm", "--mount", "type=volume,source=mydata,target=/v", "busybox", "cat", "/v/live.txt"]);
        if r.code == 0 {
            assert_eq!(r.stdout, "live\n");
            break;
        }
        assert!(start.elapsed().as_secs() < 10, "the write never showed");
    }
    assert_eq!(s.run(&["diff", "writer"]).ok().stdout, "", "volume writes are not the container's layer");
    let mounts = s.run(&["inspect", "-f", "{{json .Mounts}}", "writer"]).ok().stdout;
    let want = format!(
        "[{{\"Type\":\"volume\",\"Name\":\"mydata\",\"Source\":\"{}\",\"Destination\":\"/data\",\"Driver\":\"local\",\"Mode\":\"z\",\"RW\":true,\"Propagation\":\"\"}}]\n",
        s.root().join("volumes/mydata/_data").display()
    );
    assert_eq!(mounts, want);
    let r = s.run(&["volume", "rm", "mydata"]).code(1);
    assert!(r.stderr.starts_with("Error: remove mydata: volume is in use - ["), "{}", r.stderr);
    s.run(&["rm", "-f", "writer"]).ok();
    // :ro and readonly refuse writes.
    let r = s
        .run(&["run", "--rm", "-v", "mydata:/data:ro", "busybox", "sh", "-c", "cat /data/hello.txt; echo x > /data/x"])
        .code(1);
    assert_eq!(r.stdout, "hello\n");
    assert!(r.stderr.contains("Read-only file system"), "{}", r.stderr);
    s.run(&["run", "--rm", "--mount", "source=mydata,target=/data,readonly", "busybox", "touch", "/data/x"]).code(1);
    // `-v name:` creates a missing volume; inspect and prune.
    s.run(&["run", "--rm", "-v", "autocreated:/data", "busybox", "true"]).ok();
    assert_eq!(
        s.run(&["volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Scope}}", "autocreated"]).ok().stdout,
        "autocreated local local\n"
    );
    assert_eq!(s.run(&["volume", "inspect", "nope"]).code(1).stderr, "Error: No such volume: nope\n");
    let r = s.run(&["volume", "prune", "-f"]).ok().stdout;
    assert_eq!(r, "Deleted Volumes:\nautocreated\nmydata\n\nTotal reclaimed space: 11B\n", "hello.txt and live.txt");
    assert_eq!(s.run(&["volume", "ls", "-q"]).ok().stdout, "");
    let r = s.run(&["volume", "create", "a"]).code(1);
    assert!(r.stderr.contains("volume name is too short"), "{}", r.stderr);
}

#[test]
fn bind_mounts_share_a_host_directory() {
    let s = Sandbox::new();
    let site = s.work.path().join("site");
    std::fs::create_dir(&site).unwrap();
    std::fs::write(site.join("index.html"), "<h1>from the host</h1>\n").unwrap();
    let spec = format!("{}:/site", site.display());
    let out = s
        .run(&[
            "run",
            "--rm",
            "-v",
            &spec,
            "busybox",
            "sh",
            "-c",
            "cat /site/index.html; echo written-in-container > /site/from-container.txt",
        ])
        .ok()
        .stdout;
    assert_eq!(out, "<h1>from the host</h1>\n");
    assert_eq!(std::fs::read_to_string(site.join("from-container.txt")).unwrap(), "written-in-container\n");
    let ro = format!("{}:/site:ro", site.display());
    s.run(&["run", "--rm", "-v", &ro, "busybox", "touch", "/site/new"]).code(1);
    // -v creates a missing host directory; --mount does not.
    let newdir = s.work.path().join("newdir");
    s.run(&["run", "--rm", "-v", &format!("{}:/x", newdir.display()), "busybox", "true"]).ok();
    assert!(newdir.is_dir());
    let r = s
        .run(&[
            "run",
            "--rm",
            "--mount",
            &format!("type=bind,source={}/nope,target=/data", s.work.path().display()),
            "busybox",
            "true",
        ])
        .code(125);
    assert!(r.stderr.contains("bind source path does not exist"), "{}", r.stderr);
    let r = s.run(&["run", "--rm", "-v", "./site:/site", "busybox", "true"]).code(125);
    assert!(r.stderr.contains("includes invalid characters for a local volume name"), "{}", r.stderr);
    let r = s.run(&["run", "--rm", "-v", &format!("{}:site", site.display()), "busybox", "true"]).code(125);
    assert!(r.stderr.contains("mount path must be absolute"), "{}", r.stderr);
    assert_eq!(
        s.run(&["run", "--rm", "-v", "mydata:/data:bogus", "busybox", "true"]).code(125).stderr,
        "Error: invalid mode: bogus\n"
    );
}

#[test]
fn an_images_volume_gets_an_anonymous_volume() {
    let s = Sandbox::new();
    std::fs::write(
        s.work.path().join("Dockerfile"),
        "FROM busybox\nVOLUME /data\nCMD [\"sh\", \"-c\", \"echo kept > /data/f\"]\n",
    )
    .unwrap();
    s.run(&["build", "-q", "-t", "withvol", "."]).ok();
    assert_eq!(s.run(&["volume", "ls", "-q"]).ok().stdout, "", "building makes no volume");
    s.run(&["run", "--name", "r1", "withvol"]).ok();
    let name =
        s.run(&["inspect", "-f", "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}}{{end}}", "r1"]).ok().stdout;
    let parts: Vec<&str> = name.split_whitespace().collect();
    assert_eq!((parts[0], parts[1].len(), parts[2]), ("volume", 64, "/data"), "{name}");
    s.run(&["rm", "r1"]).ok();
    assert_eq!(s.run(&["volume", "ls", "-q"]).ok().stdout.trim(), parts[1], "rm keeps it");
    s.run(&["run", "--name", "r2", "-v", "named:/data", "withvol"]).ok();
    s.run(&["run", "--name", "r3", "withvol"]).ok();
    s.run(&["rm", "-v", "r2", "r3"]).ok();
    let left = s.run(&["volume", "ls", "-q"]).ok().stdout;
    assert_eq!(left.lines().count(), 2, "rm -v removed r3's anonymous volume, not the named one:\n{left}");
    assert!(left.contains("named\n"));
    s.run(&["run", "--rm", "withvol"]).ok();
    assert_eq!(s.run(&["volume", "ls", "-q"]).ok().stdout, left, "--rm removes the anonymous volume too");
}

#[test]
fn a_new_volume_starts_with_the_images_files_there() {
    let s = Sandbox::new();
    // busybox has /etc: a new named volume mounted there starts with its files, as in Docker.
    let ls =
        s.run(&["run", "--rm", "-v", "etcvol:/etc", "busybox", "sh", "-c", "cat /etc/hostname >/dev/null; ls /etc"]);
    assert!(ls.ok().stdout.contains("passwd\n"), "the image's /etc was copied in");
    let data = s.run(&["volume", "inspect", "-f", "{{.Mountpoint}}", "etcvol"]).ok().stdout;
    assert!(std::path::Path::new(data.trim()).join("passwd").is_file());
    // Once it holds something, it is the volume's own: nothing is copied over it again.
    s.run(&["run", "--rm", "-v", "etcvol:/etc", "busybox", "sh", "-c", "rm /etc/passwd && echo mine > /etc/motd"]).ok();
    let after =
        s.run(&["run", "--rm", "-v", "etcvol:/etc", "busybox", "sh", "-c", "ls /etc; cat /etc/motd"]).ok().stdout;
    assert!(!after.contains("passwd\n") && after.ends_with("mine\n"), "{after}");
    // A bind mount is never filled from the image.
    let dir = tempfile::tempdir().unwrap();
    let bind = format!("{}:/etc", dir.path().display());
    s.run(&["run", "--rm", "-v", &bind, "busybox", "true"]).ok();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
