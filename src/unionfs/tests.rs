//! Tests of the union filesystem on layer trees built in temp dirs.
// Most fixtures use symlinks, so most tests are unix-only; the helpers stay for the rest.
#![cfg_attr(not(unix), allow(dead_code, unused_imports))]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::*;

/// Builds a tree from lines: "a/b=text" file, "a/d/" dir, "a/l->target" symlink.
fn build(root: &Path, spec: &[&str]) {
    fs::create_dir_all(root).unwrap();
    for line in spec {
        if let Some((link, target)) = line.split_once("->") {
            let p = root.join(link);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            symlink(target, &p);
        } else if let Some((file, text)) = line.split_once('=') {
            let p = root.join(file);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        } else {
            fs::create_dir_all(root.join(line)).unwrap();
        }
    }
}

#[cfg(unix)]
fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[cfg(not(unix))]
fn symlink(_target: &str, _link: &Path) {
    panic!("symlinks in fixtures need unix");
}

/// Every file under `root` with its content (symlinks as "->target"), to prove lowers unchanged.
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    fn go(base: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            let ft = e.file_type().unwrap();
            if ft.is_symlink() {
                out.insert(rel, format!("->{}", fs::read_link(&p).unwrap().display()));
            } else if ft.is_dir() {
                out.insert(rel.clone() + "/", String::new());
                go(base, &p, out);
            } else {
                out.insert(rel, fs::read_to_string(&p).unwrap());
            }
        }
    }
    go(root, root, &mut out);
    out
}

struct Fx {
    tmp: tempfile::TempDir,
    lowers: Vec<PathBuf>,
    upper: PathBuf,
}

impl Fx {
    /// `layers[0]` is the top lower layer.
    fn new(layers: &[&[&str]], upper: &[&str]) -> Fx {
        let tmp = tempfile::tempdir().unwrap();
        let mut lowers = vec![];
        for (i, spec) in layers.iter().enumerate() {
            let p = tmp.path().join(format!("lower{i}"));
            build(&p, spec);
            lowers.push(p);
        }
        let up = tmp.path().join("upper");
        build(&up, upper);
        Fx { tmp, lowers, upper: up }
    }

    fn fs(&self) -> UnionFs {
        UnionFs::new(self.lowers.clone(), self.upper.clone()).unwrap()
    }

    fn upper_has(&self, rel: &str) -> bool {
        fs::symlink_metadata(self.upper.join(rel)).is_ok()
    }
}

fn code(r: io::Result<impl std::fmt::Debug>) -> Code {
    code_of(&r.expect_err("expected an error"))
}

fn read(u: &UnionFs, p: &str) -> Result<String, Code> {
    u.read(p).map(|b| String::from_utf8(b).unwrap()).map_err(|e| code_of(&e))
}

fn names(u: &UnionFs, p: &str) -> Vec<String> {
    u.read_dir(p).unwrap().into_iter().map(|e| e.name).collect()
}

fn standard() -> Fx {
    Fx::new(
        &[
            &[
                "etc/both=top",
                "etc/only0=zero",
                "etc/.wh.gone",
                "opq/.wh..wh..opq=",
                "opq/new=n",
                "fileoverdir=f",
                "diroverfile/x=x",
                "bin->usr/bin",
                "abs->/etc/both",
                "rel->../etc/only1",
                "esc->../../../../../etc/only0",
                "loop1->loop2",
                "loop2->loop1",
                "dirlink->/usr",
            ],
            &[
                "etc/both=bottom",
                "etc/only1=one",
                "etc/gone=hidden",
                "opq/old=o",
                "fileoverdir/inner=i",
                "diroverfile=file",
                "usr/bin/sh=shell",
            ],
        ],
        &["etc/up=upper", "etc/only1=upper-one"],
    )
}

#[cfg(unix)]
#[test]
fn lookup_through_layers() {
    let fx = standard();
    let u = fx.fs();
    let cases: &[(&str, Result<&str, Code>)] = &[
        ("/etc/both", Ok("top")),
        ("etc/only0", Ok("zero")),
        ("/etc/only1", Ok("upper-one")),
        ("/etc/up", Ok("upper")),
        ("/etc/gone", Err(Code::NoEnt)),
        ("/etc/.wh.gone", Err(Code::NoEnt)),
        ("/opq/new", Ok("n")),
        ("/opq/old", Err(Code::NoEnt)),
        ("/fileoverdir", Ok("f")),
        ("/fileoverdir/inner", Err(Code::NotDir)),
        ("/diroverfile/x", Ok("x")),
        ("/missing/x", Err(Code::NoEnt)),
        ("/etc/both/", Err(Code::NotDir)),
    ];
    for (path, want) in cases {
        assert_eq!(read(&u, path), want.map(str::to_string), "{path}");
    }
    assert_eq!(u.metadata("/etc/both", false).unwrap().layer, Layer::Lower(0));
    assert_eq!(u.metadata("/etc/only1", false).unwrap().layer, Layer::Upper);
    assert_eq!(u.metadata("/usr/bin/sh", false).unwrap().layer, Layer::Lower(1));
    assert_eq!(u.metadata("/diroverfile", false).unwrap().kind, Kind::Dir);
}

#[cfg(unix)]
#[test]
fn resolution_symlinks_and_clamping() {
    let fx = standard();
    // A host file next to the layers: no path may reach it.
    fs::write(fx.tmp.path().join("secret"), "host").unwrap();
    build(&fx.lowers[0], &["hostesc->../secret", "hostabs->/secret"]);
    let u = fx.fs();
    let cases: &[(&str, Result<&str, Code>)] = &[
        ("/../../../etc/both", Ok("top")),
        ("/etc/../etc/./both", Ok("top")),
        ("/usr/bin/../../etc/both", Ok("top")),
        ("/bin/sh", Ok("shell")),
        ("/bin/../etc/both", Err(Code::NoEnt)), // physical: bin -> /usr/bin, .. -> /usr
        ("/abs", Ok("top")),
        ("/rel", Ok("upper-one")),
        ("/esc", Ok("zero")),
        ("/hostesc", Err(Code::NoEnt)),
        ("/hostabs", Err(Code::NoEnt)),
        ("/loop1", Err(Code::Loop)),
        ("/dirlink/bin/sh", Ok("shell")),
        ("/etc/both/..", Err(Code::NotDir)),
    ];
    for (path, want) in cases {
        let got = read(&u, path);
        assert_eq!(got, want.map(str::to_string), "{path}");
    }
    // The container /usr/bin/.. is /usr, whatever the host has.
    assert_eq!(u.resolve("/bin/..", true).unwrap().path, "/usr");
    assert_eq!(u.resolve("/bin", false).unwrap().kind, Kind::Symlink);
    assert_eq!(u.resolve("/bin", true).unwrap().path, "/usr/bin");
    assert_eq!(u.resolve("/bin/", false).unwrap().path, "/usr/bin");
    assert_eq!(u.resolve("/../..", true).unwrap().path, "/");
    let r = u.resolve("/bin/sh", true).unwrap();
    assert_eq!((r.layer, r.host_path.clone()), (Layer::Lower(1), fx.lowers[1].join("usr/bin/sh")));
    assert_eq!(u.read_link("/abs").unwrap(), "/etc/both");
    assert_eq!(code(u.read_link("/etc/both")), Code::Inval);
    assert_eq!(u.metadata("/abs", false).unwrap().kind, Kind::Symlink);
    assert_eq!(u.metadata("/abs", true).unwrap().kind, Kind::File);
}

#[cfg(unix)]
#[test]
fn read_dir_merges_layers() {
    let fx = standard();
    let u = fx.fs();
    assert_eq!(names(&u, "/etc"), ["both", "only0", "only1", "up"]);
    assert_eq!(names(&u, "/opq"), ["new"]);
    assert_eq!(names(&u, "/diroverfile"), ["x"]);
    assert_eq!(
        names(&u, "/"),
        ["abs", "bin", "dirlink", "diroverfile", "esc", "etc", "fileoverdir", "loop1", "loop2", "opq", "rel", "usr"]
    );
    assert_eq!(names(&u, "/bin"), ["sh"]);
    let etc = u.read_dir("/etc").unwrap();
    assert_eq!(etc[0].layer, Layer::Lower(0));
    assert_eq!(etc[3].layer, Layer::Upper);
    assert_eq!(etc[0].ino, u.metadata("/etc/both", true).unwrap().ino);
    assert_eq!(code(u.read_dir("/etc/both")), Code::NotDir);
    let root = u.read_dir("/").unwrap();
    assert_eq!(root.iter().find(|e| e.name == "bin").unwrap().kind, Kind::Symlink);
}

/// Lower layers are cached (`cache.rs`): names asked about one at a time, then whole listings.
/// Every way of coming to know a directory must give the same answers.
#[test]
fn layer_cache_answers_alike_before_and_after_listing() {
    let mut top = vec!["wide/sub/.wh..wh..opq=".to_string(), "wide/sub/a=a".to_string()];
    let mut bottom = vec!["wide/sub/b=b".to_string(), "wide/gone/x=x".to_string()];
    for i in 0..150 {
        bottom.push(format!("wide/f{i}=low"));
        if i % 2 == 0 {
            top.push(format!("wide/f{i}=top"));
        } else if i % 3 == 0 {
            top.push(format!("wide/.wh.f{i}="));
        }
    }
    top.push("wide/.wh.gone=".to_string());
    let top: Vec<&str> = top.iter().map(String::as_str).collect();
    let bottom: Vec<&str> = bottom.iter().map(String::as_str).collect();
    let fx = Fx::new(&[&top, &bottom], &[]);
    let mut paths: Vec<String> = (0..160).map(|i| format!("/wide/f{i}")).collect();
    paths.extend(["/wide/sub/a", "/wide/sub/b", "/wide/gone", "/wide/gone/x", "/wide/.wh.f3"].map(String::from));
    let answers = |u: &UnionFs| -> Vec<Result<String, Code>> { paths.iter().map(|p| read(u, p)).collect() };

    let asked = answers(&fx.fs()); // one name at a time
    let listed = {
        let u = fx.fs();
        for d in ["/", "/wide", "/wide/sub"] {
            u.read_dir(d).unwrap();
        }
        answers(&u)
    };
    let many = {
        let u = fx.fs();
        for _ in 0..4 {
            answers(&u); // enough questions for every directory to be listed on the way
        }
        answers(&u)
    };
    assert_eq!(asked, listed);
    assert_eq!(asked, many);
    for (i, got) in asked.iter().take(150).enumerate() {
        let want = if i % 2 == 0 {
            Ok("top".to_string())
        } else if i % 3 == 0 {
            Err(Code::NoEnt)
        } else {
            Ok("low".to_string())
        };
        assert_eq!(got, &want, "/wide/f{i}");
    }
    assert!(asked[150..160].iter().all(|r| r == &Err(Code::NoEnt)));
    assert_eq!(asked[160..], [Ok("a".into()), Err(Code::NoEnt), Err(Code::NoEnt), Err(Code::NoEnt), Err(Code::NoEnt)]);
    let u = fx.fs();
    let wide = names(&u, "/wide");
    assert_eq!(wide.len(), 150 - 25 + 1, "{wide:?}"); // 25 whited out, plus sub
    assert!(!wide.contains(&"gone".to_string()) && !wide.contains(&"f3".to_string()));
    assert_eq!(names(&u, "/wide/sub"), ["a"]);
}

/// More layer directories than the cache keeps open: metadata fetched after a directory's
/// handle was closed opens it again.
#[test]
fn layer_cache_reopens_closed_directories() {
    let spec: Vec<String> = (0..80).map(|i| format!("d{i}/f={i}")).collect();
    let spec: Vec<&str> = spec.iter().map(String::as_str).collect();
    let fx = Fx::new(&[&spec], &[]);
    let u = fx.fs();
    for i in 0..80 {
        assert_eq!(names(&u, &format!("/d{i}")), ["f"]); // listed, no metadata yet
    }
    for i in 0..80 {
        assert_eq!(u.metadata(&format!("/d{i}/f"), false).unwrap().size, format!("{i}").len() as u64);
        assert_eq!(read(&u, &format!("/d{i}/f")), Ok(format!("{i}")));
    }
}

/// A layer directory's listing is read from the handle its lookup opened, or from a new one
/// when the cache had closed that handle; what was learnt about names before the listing (a
/// symlink's metadata, a directory's index) is kept; `list_dir` gives what `read_dir` gives.
#[cfg(unix)]
#[test]
fn layer_listings_from_held_and_reopened_handles() {
    let mut spec: Vec<String> = vec!["top/dir/x=x".into(), "top/link->dir".into()];
    for i in 0..80 {
        spec.extend([format!("d{i}/b={i}"), format!("d{i}/a/f=f"), format!("d{i}/l->b")]);
    }
    let spec: Vec<&str> = spec.iter().map(String::as_str).collect();
    let fx = Fx::new(&[&spec, &["d0/c=low", "d0/b=low"]], &[]);
    let u = fx.fs();
    for i in 0..80 {
        // Opens the index of /d{i} and learns about "l" (80 > the handles the cache keeps).
        assert_eq!(u.metadata(&format!("/d{i}/l"), false).unwrap().kind, Kind::Symlink);
    }
    for i in (0..80).rev() {
        let d = format!("/d{i}");
        let want: &[&str] = if i == 0 { &["a", "b", "c", "l"] } else { &["a", "b", "l"] };
        assert_eq!(names(&u, &d), want, "{d}");
        let list = u.list_dir(&d).unwrap();
        let got: Vec<(String, Kind, u64)> =
            (0..list.len()).filter_map(|k| list.get(k)).map(|(n, k, ino)| (n.to_string(), k, ino)).collect();
        let by_read_dir: Vec<(String, Kind, u64)> =
            u.read_dir(&d).unwrap().into_iter().map(|e| (e.name, e.kind, e.ino)).collect();
        assert_eq!(got, by_read_dir);
        assert_eq!(got[0], ("a".to_string(), Kind::Dir, ino_of(&format!("{d}/a"))));
        assert_eq!(read(&u, &format!("{d}/l")), Ok(format!("{i}")));
        assert_eq!(read(&u, &format!("{d}/a/f")), Ok("f".to_string()));
    }
    assert_eq!(names(&u, "/top"), ["dir", "link"]);
    assert_eq!(names(&u, "/top/link"), ["x"]);
    assert!(u.list_dir("/d1/b").is_err() && u.list_dir("/nowhere").is_err());
}

#[cfg(unix)]
#[test]
fn copy_up_on_write_keeps_modes() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fx::new(&[&["srv/app/run.sh=echo", "srv/app/data=abc"]], &[]);
    fs::set_permissions(fx.lowers[0].join("srv/app/run.sh"), fs::Permissions::from_mode(0o751)).unwrap();
    fs::set_permissions(fx.lowers[0].join("srv/app"), fs::Permissions::from_mode(0o750)).unwrap();
    let before = snapshot(&fx.lowers[0]);
    let u = fx.fs();
    let ino = u.metadata("/srv/app/run.sh", true).unwrap().ino;

    let mut f = u.open("/srv/app/run.sh", &OpenOpts::append()).unwrap();
    std::io::Write::write_all(&mut f, b" hi").unwrap();
    drop(f);
    assert_eq!(read(&u, "/srv/app/run.sh").unwrap(), "echo hi");
    let m = u.metadata("/srv/app/run.sh", true).unwrap();
    assert_eq!((m.layer, m.mode, m.ino), (Layer::Upper, 0o100751, ino));
    assert_eq!(fs::metadata(fx.upper.join("srv/app")).unwrap().permissions().mode() & 0o7777, 0o750);
    assert_eq!(u.metadata("/srv/app", true).unwrap().mode, 0o40750);

    // Truncating copies up an empty file; reading does not copy up.
    u.open("/srv/app/data", &OpenOpts { write: true, truncate: true, ..OpenOpts::read() }).unwrap();
    assert_eq!(read(&u, "/srv/app/data").unwrap(), "");
    assert_eq!(snapshot(&fx.lowers[0]), before);
    assert_eq!(
        snapshot(&fx.upper).keys().cloned().collect::<Vec<_>>(),
        ["srv/", "srv/app/", "srv/app/data", "srv/app/run.sh"]
    );
}

#[cfg(unix)]
#[test]
fn open_modes_and_errors() {
    let fx = standard();
    let u = fx.fs();
    u.write("/etc/new", b"1").unwrap();
    assert_eq!(read(&u, "/etc/new").unwrap(), "1");
    let excl = OpenOpts { write: true, create_new: true, ..OpenOpts::read() };
    assert_eq!(code(u.open("/etc/new", &excl)), Code::Exist);
    assert_eq!(code(u.open("/etc", &OpenOpts::write())), Code::IsDir);
    assert_eq!(code(u.open("/etc", &OpenOpts::read())), Code::IsDir);
    assert!(matches!(u.open_ex("/etc", &OpenOpts::read()).unwrap(), Opened::Dir(r) if r.path == "/etc"));
    assert_eq!(code(u.open("/nodir/x", &OpenOpts::write())), Code::NoEnt);
    let nofollow = OpenOpts { follow: false, ..OpenOpts::read() };
    assert_eq!(code(u.open("/abs", &nofollow)), Code::Loop);
    // Creating through a symlink to a missing file creates the target.
    u.symlink("/etc/created-by-link", "/dangling").unwrap();
    let excl = OpenOpts { write: true, create_new: true, ..OpenOpts::read() };
    assert_eq!(code(u.open("/dangling", &excl)), Code::Exist);
    u.write("/dangling", b"via link").unwrap();
    assert_eq!(read(&u, "/etc/created-by-link").unwrap(), "via link");
    // Creating through a symlinked directory lands in the real directory.
    u.write("/bin/tool", b"t").unwrap();
    assert!(fx.upper_has("usr/bin/tool"));
    assert_eq!(u.read_head("/usr/bin/sh", 3).unwrap(), b"she");
    assert_eq!(u.read_head("/usr/bin/sh", 100).unwrap(), b"shell");
    // Opening a lower file for reading never asks for write access, even with O_CREAT.
    let creat_ro = OpenOpts { create: true, ..OpenOpts::read() };
    u.open("/etc/both", &creat_ro).unwrap();
    assert!(!fx.upper_has("etc/both"));
}

#[cfg(unix)]
#[test]
fn delete_records_whiteouts() {
    let fx = standard();
    let before = snapshot(&fx.lowers[1]);
    let u = fx.fs();
    u.remove_file("/etc/both").unwrap(); // in lower 0 and 1
    assert!(fx.upper_has("etc/.wh.both"));
    assert_eq!(read(&u, "/etc/both"), Err(Code::NoEnt));
    u.remove_file("/etc/up").unwrap(); // upper only: no whiteout
    assert!(!fx.upper_has("etc/up") && !fx.upper_has("etc/.wh.up"));
    u.remove_file("/etc/only1").unwrap(); // upper copy over lower 1
    assert!(!fx.upper_has("etc/only1") && fx.upper_has("etc/.wh.only1"));
    assert_eq!(names(&u, "/etc"), ["only0"]);
    // Recreating removes the whiteout.
    u.write("/etc/both", b"again").unwrap();
    assert!(!fx.upper_has("etc/.wh.both"));
    assert_eq!(read(&u, "/etc/both").unwrap(), "again");
    u.remove_file("/bin").unwrap(); // a symlink, not its target
    assert_eq!(read(&u, "/usr/bin/sh").unwrap(), "shell");
    assert_eq!(code(u.remove_file("/usr")), Code::IsDir);
    assert_eq!(code(u.remove_file("/etc/nothing")), Code::NoEnt);
    // rmdir
    assert_eq!(code(u.remove_dir("/usr")), Code::NotEmpty);
    assert_eq!(code(u.remove_dir("/etc/only0")), Code::NotDir);
    assert_eq!(code(u.remove_dir("/")), Code::Busy);
    u.remove_file("/usr/bin/sh").unwrap();
    u.remove_dir("/usr/bin").unwrap();
    assert!(fx.upper_has("usr/.wh.bin") && !fx.upper_has("usr/bin"));
    // mkdir over the whiteout: opaque, old content stays hidden.
    u.create_dir("/usr/bin", 0o755).unwrap();
    assert!(fx.upper_has("usr/bin/.wh..wh..opq") && !fx.upper_has("usr/.wh.bin"));
    assert!(names(&u, "/usr/bin").is_empty());
    assert_eq!(read(&u, "/usr/bin/sh"), Err(Code::NoEnt));
    assert_eq!(snapshot(&fx.lowers[1]), before);
}

#[cfg(unix)]
#[test]
fn reserved_names_are_refused() {
    let fx = standard();
    let u = fx.fs();
    assert_eq!(code(u.write("/etc/.wh.x", b"")), Code::Perm);
    assert_eq!(code(u.create_dir("/.wh.d", 0o755)), Code::Perm);
    assert_eq!(code(u.symlink("x", "/etc/.wh.l")), Code::Perm);
    assert_eq!(code(u.rename("/etc/up", "/etc/.wh.up")), Code::Perm);
    assert_eq!(code(u.create_dir("/etc", 0o755)), Code::Exist);
    assert_eq!(code(u.symlink("x", "/etc/both")), Code::Exist);
}

#[cfg(unix)]
#[test]
fn rename_cases() {
    let fx = standard();
    let u = fx.fs();
    // A lower file: copied up under the new name, old name whited out.
    u.rename("/etc/both", "/etc/renamed").unwrap();
    assert_eq!(read(&u, "/etc/renamed").unwrap(), "top");
    assert_eq!(read(&u, "/etc/both"), Err(Code::NoEnt));
    assert!(fx.upper_has("etc/.wh.both") && fx.upper_has("etc/renamed"));
    // Over an existing file, into a new directory chain.
    u.rename("/etc/renamed", "/etc/only0").unwrap();
    assert_eq!(read(&u, "/etc/only0").unwrap(), "top");
    u.rename("/etc/only0", "/usr/bin/moved").unwrap();
    assert_eq!(read(&u, "/usr/bin/moved").unwrap(), "top");
    // Directories from a lower layer: EXDEV; upper-only ones move.
    assert_eq!(code(u.rename("/usr", "/usr2")), Code::XDev);
    u.create_dir_all("/new/deep/er").unwrap();
    u.write("/new/deep/er/f", b"f").unwrap();
    u.rename("/new", "/new2").unwrap();
    assert_eq!(read(&u, "/new2/deep/er/f").unwrap(), "f");
    assert_eq!(code(u.rename("/new2", "/new2/deep/x")), Code::Inval);
    assert_eq!(code(u.rename("/new2", "/usr")), Code::NotEmpty);
    assert_eq!(code(u.rename("/new2", "/etc/up")), Code::NotDir);
    assert_eq!(code(u.rename("/etc/up", "/new2")), Code::IsDir);
    assert_eq!(code(u.rename("/nothing", "/x")), Code::NoEnt);
    // A dir moved onto a deleted lower dir's name must not show the old content.
    u.remove_file("/opq/new").unwrap();
    u.remove_dir("/opq").unwrap();
    u.rename("/new2", "/opq").unwrap();
    assert_eq!(names(&u, "/opq"), ["deep"]);
    assert!(fx.upper_has("opq/.wh..wh..opq"));
    // Rename onto an empty merged dir that holds whiteouts in upper.
    u.create_dir("/empty", 0o755).unwrap();
    u.create_dir("/empty2", 0o755).unwrap();
    u.rename("/empty", "/empty2").unwrap();
    assert!(!fx.upper_has("empty") && fx.upper_has("empty2"));
    // Same path: nothing happens.
    u.rename("/etc/up", "/etc/../etc/up").unwrap();
    assert_eq!(read(&u, "/etc/up").unwrap(), "upper");
}

#[cfg(unix)]
#[test]
fn chmod_symlink_hardlink_times() {
    let fx = standard();
    let u = fx.fs();
    u.chmod("/etc/both", 0o600).unwrap();
    assert!(fx.upper_has("etc/both"));
    assert_eq!(u.metadata("/etc/both", true).unwrap().mode, 0o100600);
    assert_eq!(read(&u, "/etc/both").unwrap(), "top");
    u.chmod("/usr/bin", 0o711).unwrap(); // a dir: copied up without content
    assert_eq!(u.metadata("/usr/bin", true).unwrap().mode, 0o40711);
    assert_eq!(names(&u, "/usr/bin"), ["sh"]);
    u.symlink("/etc/both", "/etc/ln").unwrap();
    assert_eq!(u.read_link("/etc/ln").unwrap(), "/etc/both");
    assert_eq!(read(&u, "/etc/ln").unwrap(), "top");
    u.hard_link("/etc/only0", "/etc/hard").unwrap();
    u.write("/etc/hard", b"shared").unwrap();
    assert_eq!(read(&u, "/etc/only0").unwrap(), "shared");
    assert_eq!(code(u.hard_link("/etc", "/etc2")), Code::Perm);
    let t = UNIX_EPOCH_PLUS_1000();
    u.set_times("/etc/only1", None, Some(SetTime::At(t)), true).unwrap();
    assert_eq!(u.metadata("/etc/only1", true).unwrap().mtime, 1000);
    u.set_times("/opq/new", Some(SetTime::Now), Some(SetTime::At(t)), true).unwrap();
    assert!(fx.upper_has("opq/new"));
}

#[allow(non_snake_case)]
fn UNIX_EPOCH_PLUS_1000() -> SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(1000)
}

#[cfg(unix)]
#[test]
fn inodes_are_synthetic_and_stable() {
    let fx = standard();
    let u = fx.fs();
    let a = u.metadata("/etc/both", true).unwrap().ino;
    let b = u.metadata("/etc/only0", true).unwrap().ino;
    assert_ne!(a, b);
    assert_eq!(u.metadata("/abs", true).unwrap().ino, a); // follows to /etc/both
    u.write("/etc/both", b"x").unwrap();
    assert_eq!(u.metadata("/etc/both", true).unwrap().ino, a);
    assert_eq!(u.metadata("/", true).unwrap().ino, ino_of("/"));
}

#[cfg(unix)]
#[test]
fn create_dir_all_and_trailing_slashes() {
    let fx = standard();
    let u = fx.fs();
    u.create_dir_all("/a/b/c").unwrap();
    u.create_dir_all("/a/b/c/").unwrap();
    u.create_dir_all("/bin/sub").unwrap(); // through a symlink
    assert!(fx.upper_has("usr/bin/sub"));
    assert_eq!(code(u.create_dir_all("/etc/both/x")), Code::NotDir);
    u.create_dir("/a/d/", 0o700).unwrap();
    assert_eq!(u.metadata("/a/d", true).unwrap().mode, 0o40700);
}

#[cfg(unix)]
#[test]
fn diff_reports_docker_changes() {
    let fx = standard();
    let u = fx.fs();
    u.write("/etc/both", b"changed").unwrap(); // C /etc, C /etc/both
    u.remove_file("/etc/only0").unwrap(); // D
    u.create_dir_all("/data/sub").unwrap(); // A /data, A /data/sub
    u.remove_file("/opq/new").unwrap();
    u.remove_dir("/opq").unwrap();
    u.create_dir("/opq", 0o755).unwrap(); // recreated: opaque
    u.write("/opq/fresh", b"").unwrap();
    let got: Vec<String> = diff(&fx.upper, &fx.lowers).unwrap().iter().map(|c| c.to_string()).collect();
    let want = [
        "A /data",
        "A /data/sub",
        "C /etc",
        "C /etc/both",
        "D /etc/only0",
        "C /etc/only1", // in the fixture's upper, over lower 1
        "A /etc/up",
        "C /opq",
        "A /opq/fresh",
    ];
    assert_eq!(got, want);
}

#[cfg(unix)]
#[test]
fn mounts_replace_paths() {
    let fx = standard();
    let vol = fx.tmp.path().join("vol");
    build(&vol, &["v.txt=volume", "sub/x=1"]);
    let ro = fx.tmp.path().join("ro");
    build(&ro, &["r=readonly"]);
    let cfg = fx.tmp.path().join("app.conf");
    fs::write(&cfg, "conf").unwrap();
    let u = fx
        .fs()
        .with_mounts(vec![
            Mount { target: "/etc".into(), source: vol.clone(), readonly: false },
            Mount { target: "/mnt/deep/ro".into(), source: ro.clone(), readonly: true },
            Mount { target: "/usr/app.conf".into(), source: cfg.clone(), readonly: false },
        ])
        .unwrap();
    // /etc is the volume now.
    assert_eq!(names(&u, "/etc"), ["sub", "v.txt"]);
    assert_eq!(read(&u, "/etc/both"), Err(Code::NoEnt));
    assert_eq!(read(&u, "/etc/v.txt").unwrap(), "volume");
    assert_eq!(u.metadata("/etc/v.txt", true).unwrap().layer, Layer::Mount(0));
    u.write("/etc/new", b"n").unwrap();
    assert_eq!(fs::read_to_string(vol.join("new")).unwrap(), "n");
    u.remove_file("/etc/v.txt").unwrap();
    assert!(!vol.join("v.txt").exists());
    u.rename("/etc/sub", "/etc/sub2").unwrap();
    assert!(vol.join("sub2/x").exists());
    assert_eq!(code(u.rename("/etc/new", "/usr/new")), Code::XDev);
    assert_eq!(code(u.remove_dir("/etc")), Code::Busy);
    // Parents of a deeper mount exist virtually.
    assert_eq!(names(&u, "/mnt"), ["deep"]);
    assert_eq!(names(&u, "/mnt/deep"), ["ro"]);
    assert_eq!(read(&u, "/mnt/deep/ro/r").unwrap(), "readonly");
    assert_eq!(code(u.write("/mnt/deep/ro/r", b"x")), Code::RoFs);
    assert_eq!(code(u.write("/mnt/deep/ro/new", b"x")), Code::RoFs);
    assert_eq!(code(u.create_dir("/mnt/deep/ro/d", 0o755)), Code::RoFs);
    // A file mount.
    assert_eq!(read(&u, "/usr/app.conf").unwrap(), "conf");
    let r = u.resolve("/usr/app.conf", true).unwrap();
    assert_eq!((r.layer, r.host_path), (Layer::Mount(2), cfg.clone()));
    assert_eq!(u.resolve("/etc/sub2", true).unwrap().host_path, vol.join("sub2"));
    assert!(names(&u, "/usr").contains(&"app.conf".to_string()));
    u.write("/usr/app.conf", b"new conf").unwrap();
    assert_eq!(fs::read_to_string(&cfg).unwrap(), "new conf");
    // `..` out of a mount goes back to the union; nothing is recorded in upper.
    assert_eq!(read(&u, "/etc/../usr/bin/sh").unwrap(), "shell");
    assert_eq!(u.resolve("/mnt/deep/ro/..", true).unwrap().path, "/mnt/deep");
    assert!(!fx.upper_has("etc/new") && !fx.upper_has("mnt") && !fx.upper_has("usr"));
    // Writing next to a mount in a virtual parent creates the parent in upper.
    u.write("/mnt/deep/other", b"o").unwrap();
    assert!(fx.upper_has("mnt/deep/other"));
    assert_eq!(names(&u, "/mnt/deep"), ["other", "ro"]);
}

#[test]
fn union_fs_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<UnionFs>();
}

#[test]
fn change_display() {
    assert_eq!(Change::Added("/a".into()).to_string(), "A /a");
    assert_eq!(Change::Changed("/b".into()).to_string(), "C /b");
    assert_eq!(Change::Deleted("/c".into()).to_string(), "D /c");
}

#[test]
fn paths_parse_and_join() {
    assert_eq!(join("/", "etc/x"), "/etc/x");
    assert_eq!(join("/usr/bin", "../x"), "/usr/bin/../x");
    assert_eq!(join("/usr", "/etc"), "/etc");
    let p = path::parse("a/./b/../c/");
    assert_eq!(p.comps, ["a", "b", "..", "c"]);
    assert!(p.trailing_dir && !p.ends_dot && !p.absolute);
    assert!(path::parse("/a/..").ends_dot);
}

/// Every path of the view (depth first, symlinks not followed) with its metadata, content or
/// listing.
fn everything(u: &UnionFs) -> Vec<(String, Result<Meta, Code>, Result<String, Code>, Vec<DirEntry>)> {
    let mut out = vec![];
    let mut todo = vec!["/".to_string()];
    while let Some(p) = todo.pop() {
        let meta = u.metadata(&p, false).map_err(|e| code_of(&e));
        let listing = match &meta {
            Ok(m) if m.kind == Kind::Dir => u.read_dir(&p).unwrap(),
            _ => vec![],
        };
        for e in &listing {
            todo.push(join(&p, &e.name));
        }
        out.push((p.clone(), meta, read(u, &p), listing));
    }
    out
}

/// A layer with a persisted index answers as its directories do; a damaged index, or one of
/// another layer, is not used.
#[cfg(unix)]
#[test]
fn persisted_index_answers_as_the_layers_do() {
    let fx = standard();
    // As the store keeps layers: `<chain>/diff`, the index beside it.
    let lowers: Vec<PathBuf> = (0..fx.lowers.len()).map(|i| fx.tmp.path().join(format!("c{i}")).join("diff")).collect();
    for (from, to) in fx.lowers.iter().zip(&lowers) {
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::rename(from, to).unwrap();
    }
    let view = || UnionFs::new(lowers.clone(), fx.upper.clone()).unwrap();
    let plain = everything(&view());
    assert!(plain.len() > 20, "{plain:?}");
    for l in &lowers {
        index::ensure(l).unwrap();
        assert!(l.with_file_name("index").is_file());
    }
    assert_eq!(everything(&view()), plain);

    // The index is what the view reads: a file added below afterwards (which never happens to
    // a stored layer) is not seen.
    fs::write(lowers[0].join("etc/late"), "x").unwrap();
    assert_eq!(read(&view(), "/etc/late"), Err(Code::NoEnt));
    fs::remove_file(lowers[0].join("etc/late")).unwrap();

    let index0 = lowers[0].with_file_name("index");
    let good = fs::read(&index0).unwrap();
    let damaged = |bytes: Vec<u8>| {
        fs::write(&index0, bytes).unwrap();
        assert_eq!(everything(&view()), plain);
    };
    for at in [0, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x20;
        damaged(bad);
    }
    damaged(good[..good.len() / 2].to_vec());
    damaged(vec![]);
    damaged(fs::read(lowers[1].with_file_name("index")).unwrap()); // another chain's
    fs::write(&index0, &good).unwrap();
    assert_eq!(everything(&view()), plain);
}
