//! `skiff build`: the classic builder's transcript, each instruction's effect (seen through
//! `inspect`, `history` and `run`), the cache and why it missed, failures, ONBUILD and stages.

use super::util::Sandbox;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn inspect(s: &Sandbox, what: &str, format: &str) -> String {
    s.run(&["inspect", "-f", format, what]).ok().stdout.trim_end().to_string()
}

const APP: &str = "FROM busybox
ARG APP_VERSION=1.0
ENV APP_VERSION=$APP_VERSION APP_HOME=/app
WORKDIR /app
COPY app.sh .
RUN chmod +x app.sh && echo \"built version $APP_VERSION\" > build-info.txt
EXPOSE 8000
CMD [\"./app.sh\"]
";

fn app(s: &Sandbox) {
    write(s.work.path(), "Dockerfile", APP);
    write(s.work.path(), "app.sh", "#!/bin/sh\necho \"app $APP_VERSION running in $(pwd)\"\ncat build-info.txt\n");
}

/// The step lines of a transcript: `Step`, ` ---> …` (IDs elided), everything else as is.
fn shape(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| {
            if let Some(id) =
                l.strip_prefix(" ---> ").filter(|r| r.len() == 12 && r.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                let _ = id;
                " ---> ID".to_string()
            } else if l.starts_with(" ---> Running in ") {
                " ---> Running in CTR".to_string()
            } else if l.starts_with("Removing intermediate container ") {
                "Removing intermediate container CTR".to_string()
            } else {
                l.to_string()
            }
        })
        .collect()
}

#[test]
fn classic_transcript_then_everything_from_cache() {
    let s = Sandbox::new();
    s.run(&["pull", "busybox"]).ok();
    app(&s);
    let out = s.run(&["build", "-t", "myapp:1.0", "."]).ok().stdout;
    let want = [
        "Step 1/8 : FROM busybox",
        " ---> ID",
        "Step 2/8 : ARG APP_VERSION=1.0",
        " ---> Running in CTR",
        "Removing intermediate container CTR",
        " ---> ID",
        "Step 3/8 : ENV APP_VERSION=$APP_VERSION APP_HOME=/app",
        " ---> Running in CTR",
        "Removing intermediate container CTR",
        " ---> ID",
        "Step 4/8 : WORKDIR /app",
        " ---> Running in CTR",
        "Removing intermediate container CTR",
        " ---> ID",
        "Step 5/8 : COPY app.sh .",
        " ---> ID",
        "Step 6/8 : RUN chmod +x app.sh && echo \"built version $APP_VERSION\" > build-info.txt",
        " ---> Running in CTR",
        "Removing intermediate container CTR",
        " ---> ID",
        "Step 7/8 : EXPOSE 8000",
        " ---> Running in CTR",
        "Removing intermediate container CTR",
        " ---> ID",
        "Step 8/8 : CMD [\"./app.sh\"]",
        " ---> Running in CTR",
        "Removing intermediate container CTR",
        " ---> ID",
    ];
    let got = shape(&out);
    assert!(got[0].starts_with("Sending build context to skiff  "), "{out}");
    assert_eq!(&got[1..=want.len()], &want[..], "{out}");
    let id = s.run(&["images", "-q", "myapp:1.0"]).ok().stdout.trim().to_string();
    assert!(out.ends_with(&format!("Successfully built {id}\nSuccessfully tagged myapp:1.0\n")), "{out}");
    assert_eq!(s.run(&["run", "--rm", "myapp:1.0"]).ok().stdout, "app 1.0 running in /app\nbuilt version 1.0\n");
    // No build container is left, and every step is an intermediate image.
    assert_eq!(s.run(&["ps", "-a", "-q"]).ok().stdout, "");
    assert_eq!(s.run(&["images", "-q"]).ok().stdout.lines().count(), 2, "intermediates are hidden");
    assert_eq!(s.run(&["images", "-a", "-q"]).ok().stdout.lines().count(), 8, "busybox and seven steps");
    // The history lines up with the Dockerfile: one row per step, layers only for files.
    let h = s.run(&["history", "--format", "{{.ID}}|{{.CreatedBy}}|{{.Size}}", "myapp:1.0"]).ok().stdout;
    let rows: Vec<Vec<&str>> = h.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(rows[0][1], "/bin/sh -c #(nop)  CMD [\"./app.sh\"]");
    assert_eq!(rows[1][1], "/bin/sh -c #(nop)  EXPOSE 8000");
    assert_eq!(rows[2][1], "/bin/sh -c chmod +x app.sh && echo \"built ve…");
    assert_eq!(rows[2][2], "89B", "the RUN's layer: the chmod'ed script (71B, copied up) and build-info.txt (18B)");
    assert!(rows[3][1].starts_with("/bin/sh -c #(nop) COPY file:"), "{h}");
    assert_eq!(rows[3][2], "71B");
    assert_eq!(rows[4][1], "/bin/sh -c #(nop) WORKDIR /app");
    assert_eq!(rows[5][1], "/bin/sh -c #(nop)  ENV APP_VERSION=1.0 APP_H…");
    assert_eq!(rows[6][1], "/bin/sh -c #(nop)  ARG APP_VERSION=1.0");
    assert_eq!(rows[0][0], id);
    assert!(rows.iter().take(8).all(|r| r[0] != "<missing>"), "each step is an image here:\n{h}");
    // Again: every step from the cache, the same image.
    let again = s.run(&["build", "-t", "myapp:1.0", "."]).ok().stdout;
    assert_eq!(again.matches(" ---> Using cache").count(), 7, "{again}");
    assert!(!again.contains("Running in") && !again.contains("cache miss"), "{again}");
    assert!(again.contains(&format!("Successfully built {id}\n")), "{again}");
    // -q prints just the ID.
    let q = s.run(&["build", "-q", "."]).ok().stdout;
    assert_eq!(q.trim(), inspect(&s, "myapp:1.0", "{{.Id}}"));
}

#[test]
fn a_cache_miss_says_why() {
    let s = Sandbox::new();
    app(&s);
    s.run(&["build", "-t", "myapp:1.0", "."]).ok();
    // Editing a copied file: COPY misses naming it, everything after follows.
    std::fs::OpenOptions::new().append(true).open(s.work.path().join("app.sh")).unwrap();
    write(
        s.work.path(),
        "app.sh",
        "#!/bin/sh\necho \"app $APP_VERSION running in $(pwd)\"\ncat build-info.txt\necho edited\n",
    );
    let out = s.run(&["build", "-t", "myapp:1.1", "."]).ok().stdout;
    assert_eq!(out.matches(" ---> Using cache").count(), 3, "{out}");
    assert!(out.contains("Step 5/8 : COPY app.sh .\n ---> cache miss: app.sh changed\n ---> "), "{out}");
    assert_eq!(out.matches(" ---> cache miss: an earlier step was rebuilt").count(), 3, "{out}");
    assert_eq!(
        s.run(&["run", "--rm", "myapp:1.1"]).ok().stdout,
        "app 1.0 running in /app\nbuilt version 1.0\nedited\n"
    );
    // Only the metadata changes (not the time) of a file: the cache still hits.
    let f = std::fs::File::options().write(true).open(s.work.path().join("app.sh")).unwrap();
    f.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000)).unwrap();
    let out = s.run(&["build", "-t", "myapp:1.1", "."]).ok().stdout;
    assert_eq!(out.matches(" ---> Using cache").count(), 7, "mtime is not part of the key:\n{out}");
    // A build arg: the ARG step hits, the ENV that uses it misses.
    let out = s
        .run(&["build", "--build-arg", "APP_VERSION=2.0", "--build-arg", "NOPE=1", "-t", "myapp:2.0", "."])
        .ok()
        .stdout;
    assert!(out.contains("Step 2/8 : ARG APP_VERSION=1.0\n ---> Using cache\n"), "{out}");
    assert!(out.contains("Step 3/8 : ENV APP_VERSION=$APP_VERSION APP_HOME=/app\n ---> cache miss: the build arguments or environment it uses changed\n"), "{out}");
    assert!(out.contains("[Warning] One or more build-args [NOPE] were not consumed\n"), "{out}");
    assert_eq!(
        s.run(&["run", "--rm", "myapp:2.0"]).ok().stdout,
        "app 2.0 running in /app\nbuilt version 2.0\nedited\n"
    );
    // A changed instruction.
    write(s.work.path(), "Dockerfile", &APP.replace("EXPOSE 8000", "EXPOSE 9000"));
    let out = s.run(&["build", "-t", "myapp:1.2", "."]).ok().stdout;
    assert!(out.contains("Step 7/8 : EXPOSE 9000\n ---> cache miss: the instruction changed\n"), "{out}");
    assert_eq!(inspect(&s, "myapp:1.2", "{{.Config.ExposedPorts}}"), "map[9000/tcp:{}]");
    // --no-cache rebuilds every step, quietly about why.
    let out = s.run(&["build", "--no-cache", "-t", "myapp:nocache", "."]).ok().stdout;
    assert!(!out.contains("Using cache") && !out.contains("cache miss"), "{out}");
}

#[test]
fn a_failing_run_stops_the_build_and_keeps_the_last_good_image() {
    let s = Sandbox::new();
    write(
        s.work.path(),
        "Dockerfile.fail",
        "FROM busybox\nRUN echo \"step ok\" > /ok\nRUN echo \"about to fail\" && exit 3\nRUN echo \"never reached\"\n",
    );
    let r = s.run(&["build", "-f", "Dockerfile.fail", "-t", "fail", "."]).code(3);
    assert!(r.stdout.contains("Step 3/4 : RUN echo \"about to fail\" && exit 3\n ---> Running in "), "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "about to fail\nThe command '/bin/sh -c echo \"about to fail\" && exit 3' returned a non-zero code: 3\n"
        ),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("never reached") && !r.stdout.contains("Successfully"), "{}", r.stdout);
    // The step before it is an image the learner can run; the failed container is kept.
    let last = r.stderr.split("made image ").nth(1).unwrap().split(':').next().unwrap().to_string();
    assert_eq!(s.run(&["run", "--rm", &last, "cat", "/ok"]).ok().stdout, "step ok\n");
    let ps = s.run(&["ps", "-a", "--format", "{{.Image}} {{.Status}}"]).ok().stdout;
    assert!(ps.starts_with(&format!("{last} Exited (3) ")), "{ps}");
    assert!(s.run(&["images", "-q", "fail"]).ok().stdout.is_empty(), "nothing is tagged");
    let r = s.run(&["build", "-f", "Dockerfile.fail", "."]).code(3);
    assert!(r.stdout.contains("Step 2/4 : RUN echo \"step ok\" > /ok\n ---> Using cache\n"), "{}", r.stdout);
    // A missing command is 127, as in a shell.
    write(s.work.path(), "Dockerfile.apt", "FROM busybox\nRUN apt-get update\n");
    let r = s.run(&["build", "-f", "Dockerfile.apt", "."]).code(127);
    assert!(r.stdout.contains("returned a non-zero code: 127"), "{}", r.stdout);
}

#[test]
fn bad_dockerfiles_and_contexts_are_named() {
    let s = Sandbox::new();
    let w = s.work.path();
    write(w, "Dockerfile.typo", "FROM busybox\nRUNN echo hi\nCMD [\"sh\"]\n");
    assert_eq!(
        s.run(&["build", "-f", "Dockerfile.typo", "."]).code(1).stderr,
        "Dockerfile.typo:2: unknown instruction: RUNN\n"
    );
    write(w, "Dockerfile.missing", "FROM busybox\nCOPY missing.txt /app/\n");
    let r = s.run(&["build", "-f", "Dockerfile.missing", "."]).code(1);
    assert_eq!(r.stderr, "COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist\n");
    write(w, "Dockerfile.nofrom", "RUN echo hi\n");
    assert_eq!(s.run(&["build", "-f", "Dockerfile.nofrom", "."]).code(1).stderr, "no build stage in current context\n");
    let r = s.run(&["build", "-f", "nope.Dockerfile", "."]).code(1);
    assert!(
        r.stderr.starts_with("unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ")
            && r.stderr.ends_with("nope.Dockerfile: no such file or directory\n"),
        "{}",
        r.stderr
    );
    let r = s.run(&["build", "-t", "MyApp", "."]).code(125);
    assert!(r.stderr.starts_with("invalid argument \"MyApp\" for \"-t, --tag\" flag: invalid reference format: repository name must be lowercase"), "{}", r.stderr);
    assert_eq!(
        s.run(&["build", "../nodir"]).code(1).stderr,
        "unable to prepare context: path \"../nodir\" not found\n"
    );
    write(w, "Dockerfile.url", "FROM busybox\nADD https://example.com/x.tar.gz /x/\n");
    let r = s.run(&["build", "-f", "Dockerfile.url", "."]).code(1);
    assert!(
        r.stderr.starts_with("ADD failed: cannot download https://example.com/x.tar.gz: skiff builds offline"),
        "{}",
        r.stderr
    );
    write(w, "Dockerfile.target", "FROM busybox AS one\n");
    assert_eq!(
        s.run(&["build", "-f", "Dockerfile.target", "--target", "two", "."]).code(1).stderr,
        "failed to reach build target two in Dockerfile\n"
    );
    assert_eq!(
        s.run(&["images", "-a", "-q"]).ok().stdout.lines().count(),
        1,
        "only busybox: failed builds add no image"
    );
}

#[test]
fn every_instruction_lands_in_the_image() {
    let s = Sandbox::new();
    let w = s.work.path();
    write(w, "files/a.txt", "a\n");
    write(w, "files/sub/b.txt", "b\n");
    write(w, "notes.md", "skip me\n");
    write(w, "keep.md", "keep me\n");
    write(w, ".dockerignore", "*.md\n!keep.md\n");
    // A tar to ADD (unpacked) and one to COPY (kept as a file).
    s.run(&["run", "--name", "mk", "busybox", "sh", "-c", "mkdir -p /t && echo from-tar > /t/inner.txt"]).ok();
    s.run(&["export", "-o", w.join("rootfs.tar").to_str().unwrap(), "mk"]).ok();
    write(
        w,
        "Dockerfile",
        "# escape=`
FROM busybox
MAINTAINER Learner <l@example.com>
LABEL version=\"1.0\" description=\"a test image\"
ENV GREETING=\"hello world\" `
    TARGET=${GREETING:-none}
ARG UNUSED_DEFAULT=x
ENV LEGACY value with spaces
ENV PLUS=${GREETING:+set} MINUS=${NOPE:-unset}
RUN echo \"proxy=$HTTP_PROXY\" > /proxy.txt
USER root
WORKDIR sub
WORKDIR deeper
COPY files /copied/
COPY --chmod=755 files/a.txt *.md /globbed/
ADD rootfs.tar /added/
COPY rootfs.tar /kept/
RUN [\"sh\", \"-c\", \"echo exec form in $(pwd) > /exec.txt\"]
VOLUME [\"/data\", \"/cache\"]
EXPOSE 80 53/udp
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=30s --retries=2 CMD true
SHELL [\"/bin/sh\", \"-c\"]
ENTRYPOINT [\"echo\", \"entry:\"]
CMD [\"default\", \"args\"]
",
    );
    let out = s.run(&["build", "--build-arg", "HTTP_PROXY=http://proxy.invalid:3128", "-t", "all", "."]).ok().stdout;
    assert!(!out.contains("[Warning]"), "a predefined ARG needs no declaration:\n{out}");
    assert_eq!(
        s.run(&["run", "--rm", "--entrypoint", "cat", "all", "/proxy.txt"]).ok().stdout,
        "proxy=http://proxy.invalid:3128\n"
    );
    assert_eq!(inspect(&s, "all", "{{.Author}}"), "Learner <l@example.com>");
    assert_eq!(
        inspect(&s, "all", "{{index .Config.Labels \"version\"}} {{index .Config.Labels \"description\"}}"),
        "1.0 a test image"
    );
    assert_eq!(
        inspect(&s, "all", "{{.Config.User}} {{.Config.WorkingDir}} {{.Config.StopSignal}}"),
        "root /sub/deeper SIGQUIT"
    );
    assert_eq!(
        inspect(&s, "all", "{{.Config.Volumes}} {{.Config.ExposedPorts}}"),
        "map[/cache:{} /data:{}] map[53/udp:{} 80/tcp:{}]"
    );
    assert_eq!(
        inspect(&s, "all", "{{json .Config.Healthcheck}}"),
        r#"{"Test":["CMD-SHELL","true"],"Interval":30000000000,"Retries":2}"#
    );
    assert_eq!(
        inspect(&s, "all", "{{json .Config.Entrypoint}} {{json .Config.Cmd}}"),
        r#"["echo","entry:"] ["default","args"]"#
    );
    let env = inspect(&s, "all", "{{json .Config.Env}}");
    // As Docker: one ENV's pairs see the environment from before it.
    assert!(
        env.contains(r#""GREETING=hello world","TARGET=none","LEGACY=value with spaces","PLUS=set","MINUS=unset""#),
        "{env}"
    );
    // ENTRYPOINT + CMD, and run arguments replacing CMD.
    assert_eq!(s.run(&["run", "--rm", "all"]).ok().stdout, "entry: default args\n");
    assert_eq!(s.run(&["run", "--rm", "all", "mine"]).ok().stdout, "entry: mine\n");
    let files = s.run(&["run", "--rm", "--entrypoint", "sh", "all", "-c", "cat /copied/a.txt /copied/sub/b.txt /globbed/a.txt /globbed/keep.md /added/t/inner.txt /exec.txt; ls /globbed; ls /kept; ls -l /globbed/a.txt"]).ok().stdout;
    assert_eq!(
        files.lines().take(9).collect::<Vec<_>>(),
        ["a", "b", "a", "keep me", "from-tar", "exec form in /sub/deeper", "a.txt", "keep.md", "rootfs.tar"],
        "{files}"
    );
    assert!(files.lines().nth(9).unwrap().starts_with("-rwxr-xr-x"), "--chmod: {files}");
    // Metadata steps are empty layers; file steps add one each.
    let h = s.run(&["history", "--no-trunc", "--format", "{{.Size}} {{.CreatedBy}}", "all"]).ok().stdout;
    assert!(h.contains("0B /bin/sh -c #(nop)  LABEL version=1.0 description=a test image"), "{h}");
    assert!(
        h.contains(" |1 UNUSED_DEFAULT=x /bin/sh -c echo \"proxy=$HTTP_PROXY\" > /proxy.txt\n"),
        "declared ARGs show, proxies do not:\n{h}"
    );
    assert!(h.contains("0B /bin/sh -c #(nop)  ENTRYPOINT [\"echo\" \"entry:\"]"), "{h}");
    let layers = inspect(&s, "all", "{{len .RootFS.Layers}}");
    assert_eq!(layers, "10", "busybox's 2 + 2 WORKDIRs + 4 copies + 2 RUNs:\n{h}");
}

#[test]
fn onbuild_triggers_run_in_the_child_build_only() {
    let s = Sandbox::new();
    let w = s.work.path();
    write(w, "data.txt", "data\n");
    write(w, "Dockerfile.parent", "FROM busybox\nWORKDIR /src\nONBUILD COPY . /src\nONBUILD RUN echo \"onbuild trigger ran, files:\" && ls /src\nCMD [\"ls\", \"/src\"]\n");
    let out = s.run(&["build", "-f", "Dockerfile.parent", "-t", "onbuild-parent", "."]).ok().stdout;
    assert!(!out.contains("onbuild trigger ran, files:\n"), "{out}");
    assert_eq!(
        inspect(&s, "onbuild-parent", "{{json .Config.OnBuild}}"),
        r#"["COPY . /src","RUN echo \"onbuild trigger ran, files:\" && ls /src"]"#
    );
    write(w, "child/Dockerfile", "FROM onbuild-parent\nRUN echo \"child step\"\n");
    write(w, "child/data.txt", "data\n");
    let out = s.run(&["build", "-t", "onbuild-child", "child"]).ok().stdout;
    assert!(out.contains("Step 1/2 : FROM onbuild-parent\n ---> "), "{out}");
    assert!(out.contains("# Executing 2 build triggers\n"), "{out}");
    assert!(out.contains("onbuild trigger ran, files:\nDockerfile\ndata.txt\n"), "{out}");
    assert!(out.find("onbuild trigger ran, files:\n").unwrap() < out.find("Step 2/2").unwrap(), "{out}");
    assert_eq!(s.run(&["run", "--rm", "onbuild-child"]).ok().stdout, "Dockerfile\ndata.txt\n");
    assert_eq!(inspect(&s, "onbuild-child", "{{json .Config.OnBuild}}"), "null");
    // A grandchild does not run them again.
    write(w, "grand/Dockerfile", "FROM onbuild-child\nRUN echo grand\n");
    let out = s.run(&["build", "-t", "grand", "grand"]).ok().stdout;
    assert!(!out.contains("build trigger"), "{out}");
}

#[test]
fn stages_targets_scratch_and_heredocs() {
    let s = Sandbox::new();
    write(
        s.work.path(),
        "Dockerfile",
        "ARG BASE=busybox
FROM ${BASE} AS builder
WORKDIR /out
RUN echo compiled > app.txt
RUN <<EOF
echo \"heredoc line 1\" >> /out/notes
echo \"heredoc line 2\" >> /out/notes
EOF

FROM scratch AS tiny
COPY --from=builder /out/app.txt /app.txt
COPY <<EOT /hello.txt
hello from a heredoc
EOT

FROM busybox
COPY --from=builder /out/ /srv/
COPY --from=tiny /hello.txt /srv/
CMD [\"cat\", \"/srv/app.txt\", \"/srv/notes\", \"/srv/hello.txt\"]
",
    );
    let out = s.run(&["build", "-t", "multi", "."]).ok().stdout;
    assert!(out.contains("Step 1/12 : ARG BASE=busybox\nStep 2/12 : FROM ${BASE} AS builder\n"), "{out}");
    assert_eq!(
        s.run(&["run", "--rm", "multi"]).ok().stdout,
        "compiled\nheredoc line 1\nheredoc line 2\nhello from a heredoc\n"
    );
    // --target stops at a stage: a scratch image with just two files.
    let out = s.run(&["build", "--target", "tiny", "-t", "tiny", "."]).ok().stdout;
    assert!(out.contains("Step 8/12 : ") && !out.contains("Step 9/12"), "{out}");
    assert_eq!(inspect(&s, "tiny", "{{len .RootFS.Layers}}"), "2");
    // It travels like any image, and `image why` names the step that made a file.
    let tar = s.work.path().join("tiny.tar");
    s.run(&["save", "-o", tar.to_str().unwrap(), "tiny"]).ok();
    let other = Sandbox::new();
    other.run(&["load", "-i", tar.to_str().unwrap()]).ok();
    let why = other.run(&["image", "why", "tiny", "/hello.txt"]).ok().stdout;
    assert!(why.starts_with("/hello.txt in tiny:latest comes from layer 2 ("), "{why}");
}

#[test]
fn builds_are_reproducible_with_source_date_epoch() {
    let ids: Vec<String> = (0..2)
        .map(|_| {
            let s = Sandbox::new();
            app(&s);
            let out = s.cmd(&["build", "-q", "."]).env("SOURCE_DATE_EPOCH", "1700000000").output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let id = String::from_utf8(out.stdout).unwrap();
            assert_eq!(inspect(&s, id.trim(), "{{.Created}}"), "2023-11-14T22:13:20Z");
            id
        })
        .collect();
    assert_eq!(ids[0], ids[1], "the same Dockerfile and context give the same image ID in two roots");
}

#[test]
fn images_built_on_one_base_share_its_layers() {
    let s = Sandbox::new();
    write(s.work.path(), "Dockerfile.base", "FROM busybox\nRUN echo shared > /base.txt\n");
    write(s.work.path(), "Dockerfile.staging", "FROM base\nENV STAGE=staging\n");
    write(s.work.path(), "Dockerfile.production", "FROM base\nENV STAGE=production\nRUN echo prod > /prod.txt\n");
    s.run(&["build", "-f", "Dockerfile.base", "-t", "base", "."]).ok();
    s.run(&["build", "-f", "Dockerfile.staging", "-t", "app:staging", "."]).ok();
    s.run(&["build", "-f", "Dockerfile.production", "-t", "app:production", "."]).ok();
    let base = inspect(&s, "base", "{{json .RootFS.Layers}}");
    let staging = inspect(&s, "app:staging", "{{json .RootFS.Layers}}");
    let prod = inspect(&s, "app:production", "{{json .RootFS.Layers}}");
    assert_eq!(base, staging);
    assert!(prod.starts_with(base.trim_end_matches(']')), "{base}\n{prod}");
    let layers = s.run(&["image", "layers", "app:production"]).ok().stdout;
    let shared: Vec<&str> = layers.lines().filter(|l| l.contains("shared with:")).collect();
    // The production RUN's layer is its own; the base's RUN layer is shared with staging, the
    // base, and production's own ENV step (an untagged intermediate image).
    assert!(layers.lines().nth(3).unwrap().contains("made by: /bin/sh -c echo prod > /prod.txt"), "{layers}");
    assert!(!layers.lines().nth(4).unwrap().contains("shared with"), "{layers}");
    assert!(shared[0].contains("shared with: app:staging, base:latest, 1 untagged image (stored once)"), "{layers}");
}

#[test]
fn copy_chown_is_recorded_in_the_layer() {
    let s = Sandbox::new();
    write(s.work.path(), "a.txt", "a\n");
    write(
        s.work.path(),
        "Dockerfile",
        "FROM busybox\nCOPY --chown=www-data:mail a.txt /owned/\nCOPY --chown=1234 a.txt /numeric/\n",
    );
    s.run(&["build", "-t", "owned", "."]).ok();
    let layers = inspect(&s, "owned", "{{json .RootFS.Layers}}");
    let layers: Vec<String> = serde_json::from_str(&layers).unwrap();
    let owners = |diff: &str| -> Vec<(String, u64, u64)> {
        let blob = s.root().join("oci/blobs/sha256").join(diff.trim_start_matches("sha256:"));
        let mut ar = tar::Archive::new(std::fs::File::open(blob).unwrap());
        ar.entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path().unwrap().display().to_string(), e.header().uid().unwrap(), e.header().gid().unwrap())
            })
            .collect()
    };
    assert_eq!(owners(&layers[2]), [("owned/".to_string(), 33, 8), ("owned/a.txt".to_string(), 33, 8)]);
    assert_eq!(owners(&layers[3]), [("numeric/".to_string(), 1234, 1234), ("numeric/a.txt".to_string(), 1234, 1234)]);
    write(s.work.path(), "Dockerfile", "FROM busybox\nCOPY --chown=nosuchuser a.txt /x\n");
    let r = s.run(&["build", "."]).code(1);
    assert!(r.stderr.contains("can't find user \"nosuchuser\" in /etc/passwd"), "{}", r.stderr);
}

#[test]
fn run_after_volume_discards_changes_there() {
    let s = Sandbox::new();
    write(
        s.work.path(),
        "Dockerfile",
        "FROM busybox
RUN mkdir -p /data/sub && echo before > /data/a && echo gone > /data/sub/b
VOLUME /data
RUN echo after > /data/a && echo new > /data/c && rm /data/sub/b && echo outside > /outside
",
    );
    s.run(&["build", "-q", "-t", "vol", "."]).ok();
    let seen = s.run(&["run", "--rm", "vol", "sh", "-c", "cat /data/a /data/sub/b /outside; ls /data"]).ok().stdout;
    assert_eq!(seen, "before\ngone\noutside\na\nsub\n", "changes under the VOLUME are dropped, others kept");
}
