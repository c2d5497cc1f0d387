//! `run`, `ps`, `diff`, `rm`: the first container end to end, and its failure modes.

use super::util::Sandbox;

#[test]
fn first_run_imports_busybox_then_runs() {
    let s = Sandbox::new();
    let r = s.run(&["run", "--rm", "busybox", "echo", "hello"]).ok();
    assert_eq!(r.stdout, "hello\n");
    assert!(
        r.stderr.starts_with("Unable to find image 'busybox:latest' locally\nlatest: Pulling from library/busybox\n"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(": Pull complete\n")
            && r.stderr.contains("Status: Downloaded newer image for busybox:latest"),
        "{}",
        r.stderr
    );
    // second run: no pull, and --rm left no container
    let r = s.run(&["run", "--rm", "busybox", "echo", "again"]).ok();
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("again\n", ""));
    assert_eq!(s.run(&["ps", "-aq"]).ok().stdout, "");
}

#[test]
fn writable_layer_diff_ps_and_rm() {
    let s = Sandbox::new();
    let r = s
        .run(&[
            "run",
            "--name",
            "c1",
            "busybox",
            "sh",
            "-c",
            "echo hi > /greeting && rm /bin/sleep && cat /greeting | wc -c",
        ])
        .ok();
    assert_eq!(r.stdout.trim(), "3");
    assert_eq!(s.run(&["diff", "c1"]).ok().stdout, "C /bin\nD /bin/sleep\nA /greeting\n");
    assert_eq!(s.run(&["container", "diff", "c1"]).ok().stdout, "C /bin\nD /bin/sleep\nA /greeting\n");
    let ps = s.run(&["ps", "-a"]).ok().stdout;
    let lines: Vec<&str> = ps.lines().collect();
    assert!(lines[0].starts_with("CONTAINER ID   IMAGE     COMMAND"), "{ps}");
    assert!(lines[1].contains("Exited (0)") && lines[1].ends_with("c1"), "{ps}");
    assert!(lines[1].contains("\"sh -c 'echo hi > /g…\""), "{ps}");
    assert_eq!(s.run(&["ps"]).ok().stdout.lines().count(), 1, "only the header: c1 is not running");
    // the image itself is untouched: a new container still has /bin/sleep
    assert_eq!(s.sh("test -e /bin/sleep && test ! -e /greeting && echo intact"), "intact\n");
    assert_eq!(s.run(&["rm", "c1"]).ok().stdout, "c1\n");
    assert_eq!(s.run(&["ps", "-aq"]).ok().stdout, "");
    let images = s.run(&["images"]).ok().stdout;
    assert!(images.starts_with("REPOSITORY   TAG       IMAGE ID       CREATED"), "{images}");
    assert!(images.contains("\nbusybox      latest    "), "{images}");
}

#[test]
fn exit_status_is_the_guests() {
    let s = Sandbox::new();
    s.run(&["run", "--rm", "busybox", "sh", "-c", "exit 42"]).code(42);
    s.run(&["run", "--rm", "busybox", "false"]).code(1);
    let r = s.run_stdin(&["run", "-i", "--rm", "busybox", "sh"], "echo from-stdin\nexit 3\n").code(3);
    assert_eq!(r.stdout, "from-stdin\n");
}

#[test]
fn interactive_shell_prompts() {
    let s = Sandbox::new();
    let r = s.run_stdin(&["run", "-i", "--rm", "busybox", "sh", "-i"], "cd /etc\necho $PWD\nexit 3\n").code(3);
    assert!(r.stdout.contains("/etc\n"), "{}", r.stdout);
    assert!(r.stderr.contains("/ # ") && r.stderr.contains("/etc # "), "prompt on stderr: {:?}", r.stderr);
}

#[test]
fn tty_without_a_terminal_is_refused() {
    let s = Sandbox::new();
    let r = s.run(&["run", "-it", "busybox", "sh"]).code(1);
    assert_eq!(r.stderr, "the input device is not a TTY\n");
}

#[test]
fn run_options_env_workdir_entrypoint_hostname() {
    let s = Sandbox::new();
    let out = s
        .run(&[
            "run",
            "--rm",
            "-e",
            "GREETING=hi there",
            "-w",
            "/tmp/work",
            "--hostname",
            "box1",
            "busybox",
            "sh",
            "-c",
            "echo $GREETING; pwd; hostname; echo $HOME",
        ])
        .ok()
        .stdout;
    assert_eq!(out, "hi there\n/tmp/work\nbox1\n/root\n");
    let out = s.run(&["run", "--rm", "--entrypoint", "echo", "busybox", "from", "entrypoint"]).ok().stdout;
    assert_eq!(out, "from entrypoint\n");
    // HOSTNAME defaults to the short container ID
    let out = s.run(&["run", "--rm", "busybox", "hostname"]).ok().stdout;
    assert_eq!(out.trim().len(), 12, "{out}");
}

#[test]
fn shell_pipes_redirections_and_processes() {
    let s = Sandbox::new();
    let out = s.sh("printf 'b\\na\\nc\\n' | sort | head -n 2; echo x > /tmp/f; echo y >> /tmp/f; cat < /tmp/f | wc -l; ls /nope 2>&1 | grep -c 'No such'");
    assert_eq!(out, "a\nb\n2\n1\n");
    let out = s.sh("for i in 1 2 3; do if [ $i -gt 1 ]; then echo n$i; fi; done; x=$(echo sub); echo $x; false || echo or; true && echo and");
    assert_eq!(out, "n2\nn3\nsub\nor\nand\n");
}

#[test]
fn busybox_commands_behave() {
    let s = Sandbox::new();
    let out =
        s.sh("mkdir -p /a/b/c && touch /a/b/c/f && cp -r /a /z && ls /z/b/c && rm -rf /a && test ! -e /a && echo gone");
    assert_eq!(out, "f\ngone\n");
    let out = s.sh("echo Hello > /t; grep -i hello /t; ln -s /t /l; cat /l; mv /t /u; cat /u; ls -l /u | cut -c1-10");
    assert_eq!(out, "Hello\nHello\nHello\n-rw-r--r--\n");
    let out = s.sh("chmod 700 /etc/passwd; stat -c %a /etc/passwd; id");
    assert_eq!(out, "700\nuid=0(root) gid=0(root) groups=0(root),10(wheel)\n");
}

#[test]
fn unknown_image_is_a_clear_error_and_leaves_nothing() {
    let s = Sandbox::new();
    let r = s.run(&["run", "--rm", "ngnix"]).code(125);
    // Not built in, so skiff asks Docker Hub; offline that fails at once, naming what is built in.
    assert!(r.stderr.starts_with("Unable to find image 'ngnix:latest' locally\nError: "), "{}", r.stderr);
    assert!(r.stderr.contains("ngnix:latest is not one of skiff's built-in images"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 2, "{}", r.stderr);
    assert_eq!(s.run(&["ps", "-aq"]).ok().stdout, "");
    let r = s.run(&["run", "Nginx"]).code(125);
    assert_eq!(r.stderr, "Error: invalid reference format: repository name must be lowercase\n");
}

#[test]
fn unknown_command_exits_127() {
    let s = Sandbox::new();
    let r = s.run(&["run", "--rm", "busybox", "nosuch"]).code(127);
    assert_eq!(r.stderr.lines().last().unwrap(), "Error: exec: \"nosuch\": executable file not found in $PATH");
    let r = s.run(&["run", "--rm", "busybox", "/nope/bin/x"]).code(127);
    assert!(r.stderr.contains("stat /nope/bin/x: no such file or directory"), "{}", r.stderr);
    s.run(&["run", "--rm", "busybox", "/etc/passwd"]).code(126);
    let r = s.run(&["run", "--rm", "busybox", "sh", "-c", "nosuch"]).code(127);
    assert_eq!(r.stderr, "sh: nosuch: not found\n");
}

#[test]
fn name_conflicts_and_container_errors() {
    let s = Sandbox::new();
    s.run(&["run", "--name", "web", "busybox", "true"]).ok();
    let r = s.run(&["run", "--name", "web", "busybox", "true"]).code(125);
    assert!(
        r.stderr.starts_with("Error: Conflict. The container name \"/web\" is already in use by container \""),
        "{}",
        r.stderr
    );
    assert_eq!(s.run(&["ps", "-aq"]).ok().stdout.lines().count(), 1);
    let r = s.run(&["run", "--name", "bad name", "busybox", "true"]).code(125);
    assert!(r.stderr.contains("Invalid container name (bad name)"), "{}", r.stderr);
    let r = s.run(&["rm", "nope"]).code(1);
    assert_eq!(r.stderr, "Error: No such container: nope\n");
    s.run(&["rm", "-f", "nope"]).code(0);
    let r = s.run(&["diff", "nope"]).code(1);
    assert_eq!(r.stderr, "Error: No such container: nope\n");
}

#[test]
fn rm_of_a_running_container_is_refused() {
    let s = Sandbox::new();
    let mut child = s
        .cmd(&["run", "--name", "sleeper", "busybox", "sleep", "30"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut up = false;
    for _ in 0..200 {
        if s.run(&["ps"]).ok().stdout.contains("sleeper") {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(up, "the container never showed as running");
    let r = s.run(&["rm", "sleeper"]).code(1);
    assert!(r.stderr.starts_with("Error: You cannot remove a running container "), "{}", r.stderr);
    // If its owner dies (kill -9), the container is exited, not "Up", and rm works.
    child.kill().unwrap();
    child.wait().unwrap();
    let ps = s.run(&["ps", "-a"]).ok().stdout;
    assert!(ps.contains("Exited (137)"), "{ps}");
    s.run(&["rm", "sleeper"]).ok();
}

#[test]
fn corrupt_blob_is_detected() {
    let s = Sandbox::new();
    s.run(&["pull", "busybox"]).ok();
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.root().join("oci/index.json")).unwrap()).unwrap();
    let manifest = index["manifests"][0]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    let blob = s.root().join("oci/blobs/sha256").join(&manifest);
    let mut data = std::fs::read(&blob).unwrap();
    data[10] ^= 1;
    std::fs::write(&blob, data).unwrap();
    let r = s.run(&["run", "--rm", "busybox", "true"]).code(125);
    assert!(r.stderr.starts_with(&format!("Error: blob sha256:{manifest} is corrupt")), "{}", r.stderr);
}

#[test]
fn hello_world() {
    let s = Sandbox::new();
    let r = s.run(&["run", "hello-world"]).ok();
    assert!(r.stdout.contains("Hello from skiff!"), "{}", r.stdout);
}

#[test]
fn version_and_info() {
    let s = Sandbox::new();
    assert!(s.run(&["version"]).ok().stdout.contains("Backend:           wasi"));
    s.run(&["run", "busybox", "true"]).ok();
    let info = s.run(&["info"]).ok().stdout;
    assert!(
        info.contains(" Containers: 1\n")
            && info.contains(" Images: 1\n")
            && info.contains("Storage Driver: userspace union"),
        "{info}"
    );
}

#[test]
fn usage_errors_exit_like_docker() {
    let s = Sandbox::new();
    s.run(&["run", "--foo", "busybox"]).code(125);
    s.run(&["nosuchcommand"]).code(1);
    s.run(&["--help"]).ok();
}
