//! Every tutorial is a test, in English and in Chinese: run through the same engine `skiff tutorial`
//! uses, several at a time (each in its own state root). `SKIFF_TUTORIAL=overwrite` rewrites
//! expectations from the real output instead.

use super::util::{native_net_lock, require_tool, shared_module_cache, skiff_bin};
use skiff::tutorial::{Item, Tutorial};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tutorials")
}

/// Everything of a tutorial except its prose: what the suite runs and checks.
fn runnable(t: &Tutorial) -> Vec<String> {
    t.items
        .iter()
        .filter_map(|i| match i {
            Item::Prose(_) => None,
            Item::File { name, content, .. } => Some(format!("file {name}\n{content}")),
            Item::Step(s) => Some(format!(
                "step skip={} solution={} exit={}\n{}\n{}",
                s.skip,
                s.solution,
                s.exit,
                s.command,
                s.expected.join("\n")
            )),
            Item::Exercise(e) => {
                Some(format!("exercise\n{}", e.checks.iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join("\n")))
            }
        })
        .collect()
}

/// Each English tutorial has a Chinese one with the same commands, outputs, files and checks.
#[test]
fn translations_match_their_tutorials() {
    let en = skiff::tutorial::find(&dir()).unwrap();
    let zh_dir = dir().join("zh-CN");
    let mut problems = Vec::new();
    for f in &en {
        let name = f.file_name().unwrap();
        let zf = zh_dir.join(name);
        if !zf.exists() {
            problems.push(format!("{} has no translation {}", f.display(), zf.display()));
            continue;
        }
        let a = skiff::tutorial::load(f).unwrap();
        let b = skiff::tutorial::load(&zf).unwrap();
        let (ra, rb) = (runnable(&a), runnable(&b));
        if let Some(k) = (0..ra.len().max(rb.len())).find(|&k| ra.get(k) != rb.get(k)) {
            problems.push(format!(
                "{} differs from {} at runnable item {}:\n--- en\n{}\n--- zh-CN\n{}",
                zf.display(),
                f.display(),
                k + 1,
                ra.get(k).map(String::as_str).unwrap_or("(nothing)"),
                rb.get(k).map(String::as_str).unwrap_or("(nothing)")
            ));
        }
        assert!(b.title.chars().any(|c| !c.is_ascii()), "{}: the title is not translated", zf.display());
    }
    for z in skiff::tutorial::find(&zh_dir).unwrap() {
        if !dir().join(z.file_name().unwrap()).exists() {
            problems.push(format!("{} translates nothing", z.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Lessons that run native Linux containers (crun/runc, overlayfs, bridges): they need Linux, root
/// and the tools below, and they take the host-wide native network lock while they run.
const NATIVE: &[&str] = &["06-native-containers.md"];

fn is_native(f: &Path) -> bool {
    f.file_name().and_then(|n| n.to_str()).is_some_and(|n| NATIVE.contains(&n))
}

/// Whether the native lessons can run here: Linux, root, an OCI runtime, busybox-static (the lesson's
/// image), nft (its networks' firewall), `ip` and `ss` (it looks at the host's side).
/// Installs what is missing; prints why not when they cannot run.
fn native_lessons_ok() -> bool {
    crate::native::native_ok()
        && require_tool("nft", "nftables").is_some()
        && require_tool("ip", "iproute2").is_some()
        && require_tool("ss", "iproute2").is_some()
}

/// Runs `jobs` on `threads` worker threads; each job is a list of tutorial files run in order.
fn run_parallel(jobs: Vec<Vec<PathBuf>>, threads: usize) -> Vec<String> {
    let queue = Mutex::new(jobs.into_iter());
    let failures = Mutex::new(Vec::new());
    let timings = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let Some(job) = queue.lock().unwrap().next() else { break };
                for f in job {
                    // Native bridges and subnets are host-wide: one user of them at a time.
                    let _net = is_native(&f).then(native_net_lock);
                    let start = Instant::now();
                    let r = skiff::tutorial::verify(&f, &skiff_bin());
                    timings.lock().unwrap().push(format!("{:6.1}s {}", start.elapsed().as_secs_f64(), rel(&f)));
                    if let Err(e) = r {
                        failures.lock().unwrap().push(format!("{e:#}"));
                    }
                }
            });
        }
    });
    let mut t = timings.into_inner().unwrap();
    t.sort();
    eprintln!("tutorial timings:\n{}", t.join("\n"));
    failures.into_inner().unwrap()
}

fn rel(p: &Path) -> String {
    p.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(p).display().to_string()
}

/// Every tutorial, both languages. A tutorial and its translation run one after the other (they publish
/// the same host ports); different tutorials run side by side.
#[test]
fn tutorials_pass() {
    std::env::set_var("SKIFF_MODULE_CACHE", shared_module_cache());
    // The networks tutorial reaches a published port from the host, as a learner would.
    require_tool("curl", "curl");
    let mut files = skiff::tutorial::find(&dir()).unwrap();
    assert!(!files.is_empty(), "no tutorials in {}", dir().display());
    // `SKIFF_TEST_TUTORIALS="01 02"`: only the tutorials whose names start so (a run with
    // another binary, such as the Windows build under Wine, takes the first lessons).
    if let Ok(only) = std::env::var("SKIFF_TEST_TUTORIALS") {
        let only: Vec<&str> = only.split_whitespace().collect();
        files.retain(|f| only.iter().any(|o| f.file_name().unwrap().to_string_lossy().starts_with(o)));
        eprintln!("tutorials: only {}", files.iter().map(|f| rel(f)).collect::<Vec<_>>().join(", "));
    }
    if files.iter().any(|f| is_native(f)) && !native_lessons_ok() {
        let skipped: Vec<String> = files.iter().filter(|f| is_native(f)).map(|f| rel(f)).collect();
        eprintln!("skipped (native containers cannot run here, see above): {}", skipped.join(", "));
        files.retain(|f| !is_native(f));
    }
    let mut jobs: Vec<Vec<PathBuf>> = files
        .iter()
        .map(|f| {
            let zh = dir().join("zh-CN").join(f.file_name().unwrap());
            let mut job = vec![f.clone()];
            if zh.exists() {
                job.push(zh);
            }
            job
        })
        .collect();
    // Longest first, so the slow ones do not start last.
    jobs.sort_by_key(|j| std::cmp::Reverse(std::fs::metadata(&j[0]).map(|m| m.len()).unwrap_or(0)));
    let start = Instant::now();
    let failures = run_parallel(jobs, 4);
    eprintln!("all tutorials, both languages: {:.1}s", start.elapsed().as_secs_f64());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
