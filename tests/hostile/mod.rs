//! The hostile battery: what thirty learners typing anything, killing things half-way and
//! loading archives from the internet do to skiff. Each case asserts a clear error or a
//! contained result, that a canary directory outside the state root is unchanged, and that
//! `skiff system check` finds nothing wrong afterwards.
//!
//! * `archives`: hostile archives for `load` (docker-archive and OCI), `import` and `ADD`.
//! * `escapes`: a guest (busybox's shell) trying to reach host data.
//! * `crash`: SIGKILL at named points (`SKIFF_CRASH_AT`) in the commands that write.
//! * `concurrency`: parallel clients on one root.
//! * `robustness`: the CLI under broken pipes, closed stdin, bad bytes, huge inputs, and the
//!   regressions of issue 17.

mod archives;
mod concurrency;
mod crash;
mod escapes;
mod robustness;

use crate::util::{Run, Sandbox};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A directory outside the state root that nothing skiff does may change.
pub struct Canary {
    pub dir: tempfile::TempDir,
    before: BTreeMap<PathBuf, (Vec<u8>, u32, i64)>,
}

impl Canary {
    pub fn new() -> Canary {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secret"), "canary secret 7f3a\n").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/file"), "untouched\n").unwrap();
        let mut c = Canary { dir, before: BTreeMap::new() };
        c.before = c.snapshot();
        c
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The canary's path without its leading `/` (to append to `../../..`).
    pub fn rel_from_root(&self) -> String {
        self.path().to_string_lossy().trim_start_matches('/').to_string()
    }

    fn snapshot(&self) -> BTreeMap<PathBuf, (Vec<u8>, u32, i64)> {
        fn walk(d: &Path, out: &mut BTreeMap<PathBuf, (Vec<u8>, u32, i64)>) {
            use std::os::unix::fs::MetadataExt;
            for e in std::fs::read_dir(d).unwrap().flatten() {
                let md = std::fs::symlink_metadata(e.path()).unwrap();
                let data = if md.is_file() { std::fs::read(e.path()).unwrap() } else { vec![] };
                out.insert(e.path(), (data, md.mode(), md.mtime()));
                if md.is_dir() {
                    walk(&e.path(), out);
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(self.path(), &mut out);
        out
    }

    #[track_caller]
    pub fn assert_unchanged(&self, what: &str) {
        assert_eq!(self.snapshot(), self.before, "{what}: the canary outside the state root changed");
    }
}

impl Sandbox {
    /// `skiff system check` must find nothing wrong.
    #[track_caller]
    pub fn assert_check_clean(&self, what: &str) {
        let r = self.run(&["system", "check"]);
        assert_eq!(r.code, 0, "{what}: system check is not clean:\n{}{}", r.stdout, r.stderr);
    }

    /// `skiff system check` may find garbage (leftovers of a killed command) but no damage;
    /// returns its report.
    #[track_caller]
    pub fn assert_no_damage(&self, what: &str) -> String {
        let r = self.run(&["system", "check"]);
        assert!(
            !r.stdout.contains("damage:") && r.stderr.is_empty(),
            "{what}: system check found damage:\n{}{}",
            r.stdout,
            r.stderr
        );
        r.stdout
    }
}

/// A failed command: exit `code`, a one-line `Error:` (no panic, no backtrace, no raw escape).
#[track_caller]
pub fn assert_clean_error(r: &Run, code: i32, contains: &str, what: &str) {
    assert_eq!(r.code, code, "{what}: exit code\nstdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(contains), "{what}: stderr should say {contains:?}:\n{}", r.stderr);
    assert_no_panic(r, what);
}

#[track_caller]
pub fn assert_no_panic(r: &Run, what: &str) {
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace", "\x1b", "overflowed its stack"] {
        assert!(
            !r.stderr.contains(bad) && !r.stdout.contains(bad),
            "{what}: output has {bad:?}:\n{}{}",
            r.stdout,
            r.stderr
        );
    }
}

/// Build a tar from raw rows (type, path, link target, data, mode), bypassing the tar crate's
/// own checks (so `..`, absolute paths and devices go in as written).
pub fn raw_tar(rows: &[(tar::EntryType, &str, &str, &[u8], u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (kind, path, link, data, mode) in rows {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_mode(*mode);
        h.set_size(data.len() as u64);
        h.set_mtime(0);
        if path.len() <= 100 && link.len() <= 100 {
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..path.len()].copy_from_slice(path.as_bytes());
            gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        } else {
            // Long names go through the tar crate's GNU long-name records.
            if !link.is_empty() {
                b.append_link(&mut h, path, link).unwrap();
            } else {
                b.append_data(&mut h, path, *data).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// A docker-archive (`docker save` layout) of one image made of `layers` (uncompressed tars,
/// or anything), with `repo_tags`; `diff_ids` default to the layers' hashes.
pub fn docker_archive(layers: &[Vec<u8>], repo_tags: &[&str], diff_ids: Option<Vec<String>>) -> Vec<u8> {
    let diff_ids = diff_ids.unwrap_or_else(|| layers.iter().map(|l| format!("sha256:{}", sha256_hex(l))).collect());
    let config = serde_json::json!({
        "architecture": "wasm", "os": "wasip1",
        "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": layers.iter().map(|_| serde_json::json!({"created_by": "hostile"})).collect::<Vec<_>>(),
    });
    let config = serde_json::to_vec(&config).unwrap();
    let config_name = format!("{}.json", sha256_hex(&config));
    let mut rows: Vec<(String, Vec<u8>)> = vec![(config_name.clone(), config)];
    let mut layer_names = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let name = format!("l{i}/layer.tar");
        rows.push((name.clone(), l.clone()));
        layer_names.push(name);
    }
    let manifest = serde_json::json!([{"Config": config_name, "RepoTags": repo_tags, "Layers": layer_names}]);
    rows.push(("manifest.json".into(), serde_json::to_vec(&manifest).unwrap()));
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in rows {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    b.into_inner().unwrap()
}

/// An archive's files as given (name → content, or a symlink with `link:` before the target).
pub fn archive_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        if let Some(target) = std::str::from_utf8(data).ok().and_then(|s| s.strip_prefix("link:")) {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, name, target).unwrap();
        } else {
            h.set_size(data.len() as u64);
            b.append_data(&mut h, name, data.as_slice()).unwrap();
        }
    }
    b.into_inner().unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Every file under `dir` (relative), for "nothing was left behind" checks.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                walk(base, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
