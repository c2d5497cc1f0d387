//! The classroom: every exercise check kind against a passing and a failing state, `skiff tutorial
//! grade`, and a learner's session through a pipe (typing, a mistake and its explanation, leaving,
//! resuming, an exercise, `--reset`, `--lang zh`).

use super::util::{shared_module_cache, skiff_bin, Sandbox};
use skiff::tutorial::{evaluate, parse_check, Runner};
use std::fs;
use std::path::Path;

fn runner(sb: &Sandbox) -> Runner {
    let mut r = Runner::with_dirs(skiff_bin(), sb.root().to_path_buf(), sb.work.path().to_path_buf()).unwrap();
    r.env.push(("SKIFF_MODULE_CACHE".into(), shared_module_cache().to_string_lossy().into_owned()));
    r
}

const DOCKERFILE: &str = "FROM busybox
LABEL team=blue
ENV GREETING=hello
WORKDIR /srv
RUN echo hello > /greeting
RUN rm /bin/sleep
EXPOSE 8080
VOLUME /data
USER nobody
STOPSIGNAL SIGINT
ENTRYPOINT [\"cat\"]
CMD [\"/greeting\"]
";

/// Each kind of check, each way: (check, passes, a fragment of what it says is missing).
const CASES: &[(&str, bool, &str)] = &[
    ("image greet:v2 exists", true, ""),
    ("image greet:v3 exists", false, "there is no image greet:v3"),
    ("image greet:v3 absent", true, ""),
    ("image greet:v2 absent", false, "is still there"),
    // FROM busybox (2) + WORKDIR (the new /srv) + 2 RUN
    ("image greet:v2 layers busybox+3", true, ""),
    ("image greet:v2 layers 5", true, ""),
    ("image greet:v2 layers busybox+2", false, "greet:v2 has 5 layers; the exercise wants 4 (busybox's 2 + 2)"),
    ("image greet:v2 file /greeting contains hello", true, ""),
    (
        "image greet:v2 file /greeting contains goodbye",
        false,
        "/greeting in image greet:v2 says `hello`, not `goodbye`",
    ),
    ("image greet:v2 file /bin/sleep absent", true, ""),
    ("image busybox file /greeting exists", false, "image busybox has no file /greeting"),
    ("image greet:v2 env GREETING=hello", true, ""),
    ("image greet:v2 env GREETING=bye", false, "greet:v2 has env `PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin, GREETING=hello`, not `GREETING=bye`"),
    ("image greet:v2 cmd [\"/greeting\"]", true, ""),
    ("image greet:v2 cmd [\"sh\"]", false, "greet:v2 has cmd `[\"/greeting\"]`, not `[\"sh\"]` (set by CMD"),
    ("image greet:v2 entrypoint [\"cat\"]", true, ""),
    ("image busybox entrypoint [\"cat\"]", false, "busybox has entrypoint nothing"),
    ("image greet:v2 workdir /srv", true, ""),
    ("image greet:v2 workdir /app", false, "has workdir `/srv`, not `/app`"),
    ("image greet:v2 user nobody", true, ""),
    ("image busybox user nobody", false, "busybox has user nothing, not `nobody` (set by USER"),
    ("image greet:v2 label team=blue", true, ""),
    ("image greet:v2 label team=red", false, "not `team=red`"),
    ("image greet:v2 exposes 8080", true, ""),
    ("image greet:v2 exposes 80", false, "has exposes `8080/tcp`, not `80`"),
    ("image greet:v2 volume /data", true, ""),
    ("image busybox volume /data", false, "busybox has volume nothing"),
    ("image greet:v2 stopsignal SIGINT", true, ""),
    ("image busybox stopsignal SIGINT", false, "busybox has stopsignal nothing"),
    ("container web exists", true, ""),
    ("container nope exists", false, "there is no container nope"),
    ("container nope absent", true, ""),
    ("container web absent", false, "the container web is still there"),
    ("container web running", true, ""),
    (
        "container job running",
        false,
        "container job is exited, not running (exit code 3; start it with skiff start job)",
    ),
    ("container job exited 3", true, ""),
    ("container job exited 0", false, "container job exited with code 3, not 0"),
    ("container web exited", false, "container web is running, not exited (stop it with skiff stop web)"),
    ("container web image busybox", true, ""),
    ("container job image greet:v2", false, "container job runs busybox, not greet:v2"),
    ("container web publishes 8080 on 18473", true, ""),
    ("container web publishes 8080", true, ""),
    ("container web publishes 8080 on 9999", false, "publishes 8080 on 0.0.0.0:18473, not on host port 9999"),
    ("container job publishes 80", false, "container job does not publish port 80"),
    ("container web on classnet", true, ""),
    ("container web on bridge", false, "container web is not on network bridge (it is on: classnet)"),
    ("container web not on bridge", true, ""),
    ("container web not on classnet", false, "container web is still on network classnet"),
    ("container web logs contain ready", true, ""),
    (
        "container web logs contain 'all good'",
        false,
        "the logs of web do not contain `all good`; its last line is `ready`",
    ),
    ("container job file /result contains done", true, ""),
    ("container job file /result contains ok", false, "/result in container job says `done`, not `ok`"),
    ("container job file /missing absent", true, ""),
    ("container job file /missing exists", false, "container job has no file /missing"),
    ("container web env MODE=test", true, ""),
    ("container web env MODE=prod", false, "container web has MODE=test, not MODE=prod"),
    ("container job env MODE=test", false, "container job has no MODE in its environment"),
    ("container web mounts data:/data", true, ""),
    ("container web mounts data:/srv", false, "container web does not mount data at /srv (it has data:/data)"),
    ("volume data exists", true, ""),
    ("volume other exists", false, "there is no volume other"),
    ("volume other absent", true, ""),
    ("volume data absent", false, "the volume data is still there"),
    ("network classnet exists", true, ""),
    ("network classnet driver bridge", true, ""),
    ("network none driver bridge", false, "network none has driver null, not bridge"),
    ("network othernet exists", false, "there is no network othernet"),
    ("network othernet absent", true, ""),
    ("inspect web {{.State.Status}} is running", true, ""),
    ("inspect job {{.State.ExitCode}} is 0", false, "{{.State.ExitCode}} of job is `3`, not `0`"),
    ("run `skiff logs web` prints ready", true, ""),
    (
        "run `skiff logs web` prints nothing-like-this",
        false,
        "`skiff logs web` prints `ready`…, without `nothing-like-this`",
    ),
    ("run `skiff start -a job` exits 3", true, ""),
    ("run `skiff inspect nope` exits 0", false, "`skiff inspect nope` exits with 1, not 0"),
];

#[test]
fn every_check_kind_passes_and_fails() {
    let sb = Sandbox::new();
    fs::write(sb.work.path().join("Dockerfile"), DOCKERFILE).unwrap();
    sb.run(&["build", "-q", "-t", "greet:v2", "."]).ok();
    sb.run(&["volume", "create", "data"]).ok();
    sb.run(&["network", "create", "classnet"]).ok();
    sb.run(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "classnet",
        "-p",
        "18473:8080",
        "-v",
        "data:/data",
        "-e",
        "MODE=test",
        "busybox",
        "sh",
        "-c",
        "echo ready; while true; do sleep 1; done",
    ])
    .ok();
    sb.run(&["run", "--name", "job", "busybox", "sh", "-c", "echo done > /result; exit 3"]).code(3);
    let mut r = runner(&sb);
    let mut wrong = Vec::new();
    let mut kinds_pass = std::collections::BTreeSet::new();
    let mut kinds_fail = std::collections::BTreeSet::new();
    for (line, pass, why) in CASES {
        let check = parse_check(1, line).unwrap();
        let kind = format!("{:?}", check.kind).split([' ', '{', '(']).next().unwrap().to_string();
        let got = evaluate(&check, &mut r);
        match (&got, pass) {
            (Ok(()), true) => {
                kinds_pass.insert(kind);
            }
            (Err(m), false) if m.contains(why) => {
                kinds_fail.insert(kind);
            }
            _ => wrong.push(format!(
                "{line}: got {got:?}, want {}",
                if *pass { "pass".into() } else { format!("a failure saying {why:?}") }
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // every kind of check (one per form in KINDS) was seen passing and failing
    assert_eq!(kinds_pass.len(), skiff::tutorial::checks::KINDS.len(), "{kinds_pass:?}");
    assert_eq!(kinds_pass, kinds_fail);
}

fn lesson_dir(tmp: &Path) -> std::path::PathBuf {
    let d = tmp.join("lessons");
    fs::create_dir_all(d.join("zh-CN")).unwrap();
    let en = "# Tiny lesson\n\nFirst, an image.\n\n```console\n$ skiff pull busybox\n...\n$ skiff tag busybox mybox:v1\n```\n\n## Exercise: a volume\n\nMake a volume `notes`.\n\n```exercise\nvolume notes exists\nimage mybox:v1 exists\n```\n\n<!-- solution -->\n```console\n$ skiff volume create notes\nnotes\n```\n\nThe end.\n\n```console\n$ skiff volume ls -q\nnotes\n```\n";
    fs::write(d.join("01-tiny.md"), en).unwrap();
    let zh = en.replace("# Tiny lesson", "# 小课").replace("First, an image.", "先来一个镜像。");
    fs::write(d.join("zh-CN/01-tiny.md"), zh).unwrap();
    d
}

#[test]
fn a_learner_types_leaves_resumes_and_is_graded() {
    let sb = Sandbox::new();
    let lessons = lesson_dir(sb.work.path());
    let l = lessons.to_str().unwrap();
    // Session 1: a typo, its explanation, then the step typed right; a step typed for the learner (Enter);
    // then the end of input leaves at the exercise.
    let out = sb
        .run_stdin(&["tutorial", "--dir", l, "--lang", "en", "01"], "skiff pul busybox\nskiff pull busybox\n\n")
        .ok()
        .stdout;
    assert!(out.contains("First, an image."), "{out}");
    assert!(out.contains("[1/5] $ skiff pul busybox\n"), "{out}");
    assert!(out.contains("✗ skiff has no command `pul` (did you mean `pull`?)"), "{out}");
    assert!(out.contains("✓ as the tutorial says"), "{out}");
    assert!(out.contains("[2/5] $ \n$ skiff tag busybox mybox:v1\n✓ as the tutorial says"), "{out}");
    assert!(out.contains("▶ Exercise: a volume\n"), "{out}");
    assert!(out.contains("(left at stop 3 of 5; `skiff tutorial` goes on from there)"), "{out}");
    // The lesson's state is its own: the learner's root has no image.
    assert!(sb.run(&["images", "-q"]).ok().stdout.is_empty());
    // The teacher grades: the exercise is not done.
    let g = sb.run(&["tutorial", "grade", "--dir", l, "01"]).code(1).stdout;
    assert!(g.contains("✗ Exercise: a volume (1/2 checks)"), "{g}");
    assert!(g.contains("    ✗ volume notes exists: there is no volume notes (skiff volume create notes)"), "{g}");
    assert!(g.contains("    ✓ image mybox:v1 exists"), "{g}");
    // Session 2, in Chinese: `skiff tutorial` resumes at the exercise; a free command, `check` (not yet),
    // the work, `check` (done); the solution is not run; the last step; the lesson is complete.
    let out = sb
        .run_stdin(
            &["tutorial", "--dir", l, "--lang", "zh"],
            "skiff volume ls\ncheck\nskiff volume create notes\ncheck\n\n",
        )
        .ok()
        .stdout;
    assert!(out.contains("小课\n==\n\n(resuming at stop 3 of 5"), "{out}");
    assert!(out.contains("  ✗ volume notes exists: there is no volume notes"), "{out}");
    assert!(out.contains("(not yet: keep going, then `check` again)"), "{out}");
    assert!(out.contains("  ✓ volume notes exists\n  ✓ image mybox:v1 exists\n✓ exercise done"), "{out}");
    assert!(!out.contains("[4/5]"), "the solution step is not shown: {out}");
    assert!(out.contains("[5/5] $ \n$ skiff volume ls -q\nnotes\n✓ as the tutorial says"), "{out}");
    assert!(out.contains("Lesson complete: 小课."), "{out}");
    assert!(out.contains("1/1 steps matched, exercises 1/1"), "{out}");
    let g = sb.run(&["tutorial", "grade", "--dir", l, "1"]).ok().stdout;
    assert!(g.contains("1/1 exercises done"), "{g}");
    let list = sb.run(&["tutorial", "--dir", l, "--list"]).ok().stdout;
    assert!(list.contains("01-tiny") && list.contains("✓ done"), "{list}");
    // --reset forgets it, containers and files of the lesson included.
    sb.run(&["tutorial", "--reset"]).ok();
    assert!(!sb.root().join("classroom/01-tiny").exists());
    let list = sb.run(&["tutorial", "--dir", l, "--list"]).ok().stdout;
    assert!(!list.contains("done"), "{list}");
    // The solution, asked for: it runs, and the checks pass.
    let out = sb.run_stdin(&["tutorial", "--dir", l, "--lang", "en", "01"], "\n\nsolution\n\n").ok().stdout;
    assert!(out.contains("$ skiff volume create notes\nnotes\n  ✓ volume notes exists"), "{out}");
    assert!(out.contains("✓ exercise done (with the solution)"), "{out}");
    // Grading another state root (the learner's own, where nothing was done).
    let g = sb.run(&["tutorial", "grade", "--dir", l, "01", "--root", sb.root().to_str().unwrap()]).code(1).stdout;
    assert!(g.contains("0/1 exercises done"), "{g}");
}

#[test]
fn lessons_are_built_in_and_chosen_by_language() {
    let sb = Sandbox::new();
    // From a directory with no tutorials/: the built-in lessons.
    let list = sb.run(&["tutorial", "--list"]).ok().stdout;
    assert!(list.contains("01-first-container  Your first container"), "{list}");
    let zh = sb
        .cmd(&["tutorial", "--list"])
        .env("LANG", "zh_CN.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .output()
        .unwrap();
    let zh = String::from_utf8_lossy(&zh.stdout);
    assert!(zh.contains("01-first-container") && !zh.contains("Your first container"), "{zh}");
    let en = sb.cmd(&["tutorial", "--list"]).env("LANG", "zh_CN.UTF-8").env("LC_ALL", "C.UTF-8").output().unwrap();
    assert!(String::from_utf8_lossy(&en.stdout).contains("Your first container"));
    let bad = sb.run(&["tutorial", "--lang", "fr", "--list"]).code(1).stderr;
    assert!(bad.contains("unknown language \"fr\""), "{bad}");
    let none = sb.run(&["tutorial", "99"]).code(1).stderr;
    assert!(none.contains("No such tutorial: 99"), "{none}");
}
