//! The fuzzing engine for `skiff::fuzz`'s targets. No nightly toolchain is needed: inputs come
//! from seed corpora (below, and the saved inputs in `tests/fuzz/regressions/<target>/`) and
//! are mutated (bit and byte changes, insertions of each target's tokens, repetition that
//! builds deep nesting, splicing of two inputs). An input that shows an outcome not seen
//! before (a new error message, a new kind of result: see `skiff::fuzz`) joins the corpus,
//! a cheap stand-in for coverage feedback.
//!
//! Every regression input is replayed on every run. Then each target is fuzzed for
//! `SKIFF_FUZZ_SECS` seconds (default 2, so CI pays ~10 s); a panic saves the input under
//! `$CARGO_TARGET_TMPDIR/fuzz-crashes/` and fails, and so does an input that takes over 10 s
//! of CPU. With `SKIFF_FUZZ_SECS` set, each input is
//! also written to `$CARGO_TARGET_TMPDIR/fuzz-current-<target>` before it runs, so an input
//! that aborts the process (a stack overflow) is not lost. The executions per target are
//! printed (`--nocapture`).

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// splitmix64: small, fast, and seeded, so a failing run can be repeated (`SKIFF_FUZZ_SEED`).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// The tokens each target's inputs are made of, inserted by mutations.
fn dictionary(target: &str) -> Vec<&'static [u8]> {
    let words: &[&str] = match target {
        "dockerfile" => &[
            "FROM ",
            "RUN ",
            "COPY ",
            "ADD ",
            "ENV ",
            "ARG ",
            "EXPOSE ",
            "LABEL ",
            "CMD ",
            "ENTRYPOINT ",
            "ONBUILD ",
            "HEALTHCHECK ",
            "SHELL ",
            "USER ",
            "WORKDIR ",
            "VOLUME ",
            "STOPSIGNAL ",
            "${",
            "}",
            "${x:-",
            "${x:+",
            "${x:?",
            "$x",
            "\\\n",
            "\n",
            "<<EOF\n",
            "EOF\n",
            "<<-'E'\n",
            "[\"a\",",
            "\"]",
            "'",
            "\"",
            "--from=",
            "--chown=",
            "# escape=`\n",
            "# syntax=x\n",
            " AS ",
            "--interval=",
            "1h2m",
            "`",
            "\t",
            "=",
        ],
        "template" => &[
            "{{",
            "}}",
            "(",
            ")",
            "{{if ",
            "{{else}}",
            "{{end}}",
            "{{range ",
            "{{with ",
            ".Id",
            ".Config.Env",
            "$x := ",
            "$",
            "|",
            " printf ",
            "\"%0999d\"",
            "\"%-5.2f\"",
            " index ",
            " len ",
            " slice ",
            " json ",
            " join ",
            " eq ",
            " lt ",
            " and ",
            " or ",
            " not ",
            " upper ",
            " title ",
            "{{- ",
            " -}}",
            "{{/* c */}}",
            ".Nested",
            " 1 ",
            " 2.5 ",
            " nil ",
            " true ",
            "\"s\"",
            "`raw`",
            "{{break}}",
            "{{continue}}",
            " call ",
            "'a'",
        ],
        "reference" => &[
            "docker.io/",
            "library/",
            "localhost:5000/",
            ":",
            "@",
            "sha256:",
            "/",
            "latest",
            "a",
            "A",
            ".",
            "-",
            "_",
            "__",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "[::1]",
            ":65536",
        ],
        "dockerignore" => &["*", "**", "**/", "?", "[a-z]", "[!x]", "[^", "\\", "!", "/", "\n", "#", ".", "..", "a"],
        _ => &[],
    };
    words.iter().map(|w| w.as_bytes()).collect()
}

/// Starting inputs.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let text: &[&str] = match target {
        "dockerfile" => &[
            "FROM busybox\nRUN echo hi\n",
            "# escape=`\nFROM scratch\nCOPY --chown=1:1 a b\nENV A=1 B=\"x y\"\nCMD [\"sh\",\"-c\",\"x\"]\n",
            "ARG V=1\nFROM busybox:${V}\nRUN <<EOF\necho ${V:-x}\nEOF\nEXPOSE 80/tcp 53/udp\nONBUILD RUN x\n",
            "FROM a AS b\nHEALTHCHECK --interval=5s CMD true\nLABEL a=b\nWORKDIR /x\nUSER 1:2\nVOLUME [\"/d\"]\n",
        ],
        "template" => &[
            "{{.Id}}",
            "{{range $i, $e := .Config.Env}}{{$i}}={{$e}}\n{{end}}",
            "{{if eq .Name \"/web\"}}{{json .Config}}{{else}}{{printf \"%5.2f\" .F}}{{end}}",
            "{{with .Ports}}{{index . \"80/tcp\"}}{{end}}{{len .RootFS.Layers}}{{slice .Name 1}}",
        ],
        "reference" => &[
            "busybox",
            "docker.io/library/busybox:latest",
            "localhost:5000/me/app:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "ghcr.io/a/b/c",
        ],
        "dockerignore" => &["*.md\n!README.md\n", "**/target\n# c\nsrc/**/*.rs\n[a-c]?\n", "/abs\n../x\n\\!y\n"],
        "tar" => &[],
        _ => &[],
    };
    let mut out: Vec<Vec<u8>> = text.iter().map(|s| s.as_bytes().to_vec()).collect();
    if target == "tar" {
        out.extend(tar_seeds());
    }
    out
}

/// Layer tars with every kind of entry the extractor handles (and some it refuses).
fn tar_seeds() -> Vec<Vec<u8>> {
    use tar::EntryType as T;
    let raw = |rows: &[(T, &str, &str, &[u8], u32)]| {
        let mut b = tar::Builder::new(Vec::new());
        for (kind, path, link, data, mode) in rows {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(*mode);
            h.set_size(data.len() as u64);
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..path.len()].copy_from_slice(path.as_bytes());
            gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    };
    let mut long = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(3);
    h.set_mode(0o644);
    long.append_data(&mut h, "d/".repeat(80) + "f", &b"abc"[..]).unwrap();
    vec![
        raw(&[
            (T::Directory, "bin/", "", b"", 0o755),
            (T::Regular, "bin/box", "", b"\0asm\x01\0\0\0", 0o4755),
            (T::Symlink, "bin/ls", "box", b"", 0o777),
            (T::Link, "bin/cp", "bin/box", b"", 0o755),
            (T::Regular, "etc/.wh.gone", "", b"", 0o644),
            (T::Regular, "tmp/.wh..wh..opq", "", b"", 0o644),
        ]),
        raw(&[(T::Symlink, "evil", "/etc", b"", 0o777), (T::Regular, "evil/passwd", "", b"x", 0o666)]),
        raw(&[(T::Regular, "../x", "", b"x", 0o644), (T::Fifo, "p", "", b"", 0o644), (T::Char, "c", "", b"", 0o644)]),
        long.into_inner().unwrap(),
    ]
}

fn mutate(rng: &mut Rng, input: &[u8], dict: &[&[u8]], corpus: &[Vec<u8>], max: usize) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(10) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len + 1);
                v.insert(i, [0u8, b'\n', b'{', b'}', b'(', b')', b'$', 0xff, 0x1b, b'/'][rng.below(10)]);
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(16)).min(len);
                v.drain(a..b);
            }
            4 | 5 if !dict.is_empty() => {
                let i = rng.below(len + 1);
                let w = dict[rng.below(dict.len())];
                v.splice(i..i, w.iter().copied());
            }
            6 if len > 0 => {
                // Repeat a slice many times: deep nesting, long names, huge counts.
                let a = rng.below(len);
                let b = (a + 1 + rng.below(8)).min(len);
                let times = [2, 16, 300, 5000][rng.below(4)];
                let piece = v[a..b].repeat(times);
                v.splice(b..b, piece);
            }
            7 if !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
            8 if len > 0 => v.truncate(rng.below(len)),
            _ => {
                // Numbers: widths, counts and ports at their limits.
                let n = ["0", "-1", "65536", "4294967296", "999999999", "18446744073709551616"][rng.below(6)];
                let i = rng.below(len + 1);
                v.splice(i..i, n.bytes());
            }
        }
    }
    v.truncate(max);
    v
}

/// Make each header's checksum right again after a mutation, so most tar inputs get past the
/// header check into the extractor (a flipped byte otherwise only ever meets "bad checksum").
fn fix_tar_checksums(v: &mut [u8]) {
    let mut at = 0;
    while at + 512 <= v.len() {
        let block = &mut v[at..at + 512];
        if block.iter().all(|b| *b == 0) {
            break;
        }
        block[148..156].fill(b' ');
        let sum: u32 = block.iter().map(|b| *b as u32).sum();
        block[148..156].copy_from_slice(format!("{:06o}\0 ", sum & 0o777777).as_bytes());
        let size = std::str::from_utf8(&block[124..136])
            .ok()
            .and_then(|t| u64::from_str_radix(t.trim_matches(|c: char| c == '\0' || c == ' '), 8).ok());
        let Some(size) = size else { break };
        at += 512 + (size as usize).div_ceil(512) * 512;
    }
}

/// CPU time this thread has used: what an input costs, whatever else the machine is doing
/// (wall time on a loaded 2-core machine made fast inputs look slow).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn tmpdir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

fn regressions(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/regressions").join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}

/// Run one input; a panic's message, if it panicked.
fn exec(target: &str, data: &[u8]) -> Result<String, String> {
    std::panic::catch_unwind(|| skiff::fuzz::run(target, data)).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

fn fuzz(target: &str) {
    let secs: f64 = std::env::var("SKIFF_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let long_run = std::env::var_os("SKIFF_FUZZ_SECS").is_some();
    let seed = std::env::var("SKIFF_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_u64);
    let mut rng = Rng(seed ^ target.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64)));
    let max = if target == "tar" { 1 << 18 } else { 1 << 16 };
    // Regressions first: each must pass.
    for (name, data) in regressions(target) {
        if let Err(msg) = exec(target, &data) {
            panic!("{target}: regression input {name} panics: {msg}");
        }
    }
    let dict = dictionary(target);
    let mut corpus = seeds(target);
    corpus.extend(regressions(target).into_iter().map(|(_, d)| d));
    let mut seen: HashSet<String> = HashSet::new();
    for c in &corpus {
        seen.insert(exec(target, c).unwrap_or_else(|m| panic!("{target}: a seed panics: {m}")));
    }
    // One file, rewritten in place (creating a file per input costs more than most inputs).
    let mut current = long_run.then(|| {
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(tmpdir().join(format!("fuzz-current-{target}")))
            .unwrap()
    });
    let (start, mut execs, mut slowest) = (Instant::now(), 0u64, Duration::ZERO);
    while start.elapsed().as_secs_f64() < secs {
        let base = corpus[rng.below(corpus.len())].clone();
        let mut input = mutate(&mut rng, &base, &dict, &corpus, max);
        if target == "tar" && rng.below(10) != 0 {
            fix_tar_checksums(&mut input);
        }
        if let Some(f) = current.as_mut() {
            use std::io::{Seek, Write};
            f.seek(std::io::SeekFrom::Start(0)).unwrap();
            f.write_all(&input).unwrap();
            f.set_len(input.len() as u64).unwrap();
        }
        let t = thread_cpu();
        let outcome = exec(target, &input);
        let took = thread_cpu().saturating_sub(t);
        slowest = slowest.max(took);
        if took > Duration::from_secs(10) {
            let dir = tmpdir().join("fuzz-crashes").join(target);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("slow-{execs}")), &input).unwrap();
            panic!("{target}: an input took {took:?} (saved as slow-{execs})");
        }
        execs += 1;
        match outcome {
            Ok(sig) => {
                if seen.insert(sig) && corpus.len() < 4096 {
                    corpus.push(input);
                }
            }
            Err(msg) => {
                let dir = tmpdir().join("fuzz-crashes").join(target);
                std::fs::create_dir_all(&dir).unwrap();
                let name = format!("crash-{execs}");
                std::fs::write(dir.join(&name), &input).unwrap();
                panic!("{target}: input {} panics: {msg}", dir.join(name).display());
            }
        }
    }
    println!(
        "fuzz {target}: {execs} executions in {:.0} s ({:.0}/s), corpus {}, {} outcomes, slowest {:?}",
        start.elapsed().as_secs_f64(),
        execs as f64 / start.elapsed().as_secs_f64(),
        corpus.len(),
        seen.len(),
        slowest
    );
}

#[test]
fn fuzz_dockerfile() {
    fuzz("dockerfile");
}

#[test]
fn fuzz_tar() {
    fuzz("tar");
}

#[test]
fn fuzz_reference() {
    fuzz("reference");
}

#[test]
fn fuzz_template() {
    fuzz("template");
}

#[test]
fn fuzz_dockerignore() {
    fuzz("dockerignore");
}

#[test]
fn every_target_is_fuzzed() {
    // A target added to skiff::fuzz without a test here would never run.
    let src = include_str!("main.rs");
    for t in skiff::fuzz::TARGETS {
        assert!(src.contains(&format!("fn fuzz_{t}()")), "no test fuzzes {t}");
    }
}
