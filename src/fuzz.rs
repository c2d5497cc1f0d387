//! Fuzz targets: skiff's parsers of untrusted text and archives, each as a function that
//! takes arbitrary bytes and must neither panic, nor overflow the stack, nor take unbounded
//! time or memory, and must keep its own invariants (checked here with `assert!`). The
//! engine that feeds them (seed corpora, mutations, time budget, saved crashers) is the test
//! binary `tests/fuzz/`; `cargo test --release --test fuzz` runs each for a few seconds, and
//! `SKIFF_FUZZ_SECS=600` for longer.

use std::path::Path;

/// The names of the targets, for the engine.
pub const TARGETS: &[&str] = &["dockerfile", "tar", "reference", "template", "dockerignore"];

/// What an input did, as a short signature (the outcome and the first words of an error,
/// digits dropped): the engine keeps inputs that show a signature it has not seen, a cheap
/// stand-in for coverage feedback.
fn signature(r: Result<String, String>) -> String {
    let text = match r {
        Ok(s) => format!("ok {s}"),
        Err(e) => format!("err {e}"),
    };
    text.chars().filter(|c| !c.is_ascii_digit()).take(48).collect()
}

/// Run target `name` on `data`; returns its outcome's signature.
pub fn run(name: &str, data: &[u8]) -> String {
    match name {
        "dockerfile" => dockerfile(data),
        "tar" => tar(data),
        "reference" => reference(data),
        "template" => template(data),
        "dockerignore" => dockerignore(data),
        _ => panic!("no fuzz target {name}"),
    }
}

/// The Dockerfile parser, then word expansion of every instruction's text (as the builder
/// expands them) with a few variables set.
pub fn dockerfile(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    let lookup = |k: &str| match k {
        "A" => Some("a b".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    };
    let mut sig = match crate::build::dockerfile::parse(&text) {
        Ok(file) => {
            let mut kinds = String::new();
            for ins in &file.instructions {
                kinds.push_str(ins.original.split_whitespace().next().unwrap_or(""));
                if let Err(e) = crate::build::expand::expand(&ins.original, &lookup, '\\') {
                    kinds.push_str(&e);
                }
                let _ = crate::build::expand::expand_words(&ins.original, &lookup, '`');
            }
            signature(Ok(kinds))
        }
        Err(e) => signature(Err(e.message)),
    };
    sig.push_str(&signature(crate::build::expand::expand(&text, &lookup, '\\').map(|_| String::new())));
    sig
}

/// The layer extractor, into a fresh directory inside another: whatever the tar says, nothing
/// may appear beside the destination, and what is extracted is regular files, directories and
/// symlinks only.
pub fn tar(data: &[u8]) -> String {
    let outer = tempfile::tempdir().expect("a temp dir");
    let dest = outer.path().join("layer");
    std::fs::create_dir(&dest).expect("the destination");
    let r = crate::archive::extract::extract_layer(data, &dest, "fuzz");
    let beside: Vec<_> = std::fs::read_dir(outer.path()).expect("readable").flatten().map(|e| e.file_name()).collect();
    assert_eq!(beside, vec![std::ffi::OsString::from("layer")], "the extractor wrote outside its destination");
    assert_tree_safe(&dest);
    crate::store::make_writable(&dest);
    signature(
        r.map(|x| format!("{} {}", x.wasm.len(), x.special.len()))
            .map_err(|e| e.to_string().replace(|c: char| c.is_control(), "")),
    )
}

fn assert_tree_safe(dir: &Path) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let md = std::fs::symlink_metadata(e.path()).expect("stat");
        let ft = md.file_type();
        assert!(ft.is_dir() || ft.is_file() || ft.is_symlink(), "special file extracted: {:?}", e.path());
        if !ft.is_symlink() {
            // No setuid/setgid ever; no world-write but on a sticky directory (as /tmp's 1777).
            let mode = crate::hostfs::mode_of(&md);
            let sticky_dir = ft.is_dir() && mode & 0o1000 != 0;
            assert_eq!(mode & if sticky_dir { 0o6000 } else { 0o6002 }, 0, "unsafe mode on {:?}", e.path());
        }
        if ft.is_dir() {
            assert_tree_safe(&e.path());
        }
    }
}

/// Image references: a reference that parses prints as a string that parses to itself.
pub fn reference(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    match crate::reference::Reference::parse(&text) {
        Ok(r) => {
            let again = crate::reference::Reference::parse(&r.to_string()).expect("a printed reference parses");
            assert_eq!(again, r, "reference round trip of {text:?}");
            let _ = r.familiar();
            signature(Ok(format!(
                "{} {} {}",
                r.tag.is_some(),
                r.digest.is_some(),
                r.clone().with_default_tag().familiar_name().len()
            )))
        }
        Err(e) => signature(Err(e.to_string())),
    }
}

/// Go templates: parse, then execute over data shaped like `inspect`'s.
pub fn template(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    let t = match crate::cli::template::Template::parse(&text) {
        Ok(t) => t,
        Err(e) => return signature(Err(e.0)),
    };
    let value = serde_json::json!({
        "Id": "sha256:abc", "Name": "/web", "Config": {"Env": ["A=1", "B=2"], "Cmd": null, "Labels": {"k": "v"}},
        "RootFS": {"Layers": ["sha256:1", "sha256:2"]}, "Size": 1234, "Ports": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]},
        "Nested": [[1, 2], [3, [4, 5]]], "F": 1.5, "T": true
    });
    signature(t.execute(&value).map(|out| out.len().min(3).to_string()).map_err(|e| e.0))
}

/// `.dockerignore`: parse, then match paths of the context against it.
pub fn dockerignore(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    let mut sig = String::new();
    match crate::build::ignore::IgnoreMatcher::parse(&text) {
        Ok(m) => {
            for p in ["Dockerfile", "a", "a/b", "a/b/c.txt", ".git/x", "src/main.rs", "x/../y", "[", "**"] {
                sig.push(if m.is_excluded(p) { 'x' } else { '.' });
                sig.push(if m.dir_may_contain_included(p) { 'd' } else { '.' });
            }
        }
        Err(e) => sig = signature(Err(e)),
    }
    let (pattern, path) = text.split_once('\n').unwrap_or((&text, "a/b/c"));
    // A path is at most PATH_MAX long; time is pattern × path.
    let mut end = path.len().min(4096);
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    let path = &path[..end];
    sig.push(if crate::build::ignore::glob_match(pattern, path) { 'm' } else { '-' });
    sig
}
