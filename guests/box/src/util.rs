//! Shared helpers: option parsing, error text, buffered stdout, metadata with fallbacks.

use std::fmt;
use std::fs;
use std::io::{self, BufWriter, Read};
use std::sync::OnceLock;

pub use skiff_guest::{Stat, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};

static APPLET: OnceLock<String> = OnceLock::new();

/// Record the running applet's name (for error messages).
pub fn set_applet(name: &str) {
    let _ = APPLET.set(name.to_string());
}

pub fn applet() -> &'static str {
    APPLET.get().map(String::as_str).unwrap_or("box")
}

/// Print `applet: message` to stderr.
pub fn warn(args: fmt::Arguments) {
    eprintln!("{}: {}", applet(), args);
}

#[macro_export]
macro_rules! err {
    ($($t:tt)*) => { $crate::util::warn(format_args!($($t)*)) };
}

/// Locked, buffered stdout (flushed when dropped).
pub type Out = BufWriter<io::StdoutLock<'static>>;

pub fn out() -> Out {
    BufWriter::with_capacity(16 * 1024, io::stdout().lock())
}

/// The libc-style text of an I/O error ("No such file or directory").
pub fn errstr(e: &io::Error) -> String {
    use io::ErrorKind::*;
    // EPERM and EACCES share a kind; the message tells them apart, as libc's does.
    const EPERM: i32 = if cfg!(target_os = "wasi") { 63 } else { 1 };
    if e.raw_os_error() == Some(EPERM) {
        return "Operation not permitted".to_string();
    }
    let s = match e.kind() {
        NotFound => "No such file or directory",
        PermissionDenied => "Permission denied",
        AlreadyExists => "File exists",
        NotADirectory => "Not a directory",
        IsADirectory => "Is a directory",
        DirectoryNotEmpty => "Directory not empty",
        CrossesDevices => "Cross-device link",
        InvalidInput => "Invalid argument",
        ReadOnlyFilesystem => "Read-only file system",
        Unsupported => "Not supported",
        BrokenPipe => "Broken pipe",
        _ => {
            let s = e.to_string();
            return match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            };
        }
    };
    s.to_string()
}

/// Parsed command-line options.
#[derive(Debug, Default)]
pub struct Opts {
    set: Vec<(char, Option<String>)>,
    pub args: Vec<String>,
}

impl Opts {
    pub fn has(&self, c: char) -> bool {
        self.set.iter().any(|(k, _)| *k == c)
    }
    /// The last value given for option `c`.
    pub fn val(&self, c: char) -> Option<&str> {
        self.set.iter().rev().find(|(k, _)| *k == c).and_then(|(_, v)| v.as_deref())
    }
    pub fn vals(&self, c: char) -> Vec<&str> {
        self.set.iter().filter(|(k, _)| *k == c).filter_map(|(_, v)| v.as_deref()).collect()
    }
    /// How many times option `c` was given (`-vv` is 2).
    pub fn count(&self, c: char) -> usize {
        self.set.iter().filter(|(k, _)| *k == c).count()
    }
    /// Which of `cs` came last on the command line (for -a/-A style overrides).
    pub fn last_of(&self, cs: &str) -> Option<char> {
        self.set.iter().rev().find(|(k, _)| cs.contains(*k)).map(|(k, _)| *k)
    }
}

/// getopt-like parser over `args[1..]`. `spec` lists option letters, `x:` takes a value; a
/// leading `+` stops at the first operand (otherwise operands and options mix, GNU-style).
/// `longs` maps `--name` to a letter. Prints the error and returns `Err(1)` on a bad option.
pub fn getopt_long(args: &[String], spec: &str, longs: &[(&str, char)]) -> Result<Opts, i32> {
    let (stop_first, spec) = match spec.strip_prefix('+') {
        Some(s) => (true, s),
        None => (false, spec),
    };
    let takes = |c: char| -> Option<bool> {
        let i = spec.find(c)?;
        Some(spec[i + c.len_utf8()..].starts_with(':'))
    };
    let mut o = Opts::default();
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            o.args.extend_from_slice(&args[i..]);
            break;
        }
        if let Some(name) = a.strip_prefix("--") {
            let (name, inline) = match name.find('=') {
                Some(p) => (&name[..p], Some(name[p + 1..].to_string())),
                None => (name, None),
            };
            match longs.iter().find(|(n, _)| *n == name) {
                Some(&(_, c)) => {
                    let v = if takes(c) == Some(true) {
                        match inline.or_else(|| {
                            i += 1;
                            args.get(i - 1).cloned()
                        }) {
                            Some(v) => Some(v),
                            None => {
                                err!("option '--{name}' requires an argument");
                                return Err(1);
                            }
                        }
                    } else {
                        None
                    };
                    o.set.push((c, v));
                }
                None => {
                    err!("unrecognized option '--{name}'");
                    return Err(1);
                }
            }
            continue;
        }
        if a.len() < 2 || !a.starts_with('-') {
            o.args.push(a.clone());
            if stop_first {
                o.args.extend_from_slice(&args[i..]);
                break;
            }
            continue;
        }
        let body = &a[1..];
        for (pos, c) in body.char_indices() {
            match takes(c) {
                None => {
                    err!("invalid option -- '{c}'");
                    return Err(1);
                }
                Some(false) => o.set.push((c, None)),
                Some(true) => {
                    let rest = &body[pos + c.len_utf8()..];
                    let v = if !rest.is_empty() {
                        rest.to_string()
                    } else if i < args.len() {
                        i += 1;
                        args[i - 1].clone()
                    } else {
                        err!("option requires an argument -- '{c}'");
                        return Err(1);
                    };
                    o.set.push((c, Some(v)));
                    break;
                }
            }
        }
    }
    Ok(o)
}

pub fn getopt(args: &[String], spec: &str) -> Result<Opts, i32> {
    getopt_long(args, spec, &[])
}

/// `x/y/z/` → `z`; `/` → `/`.
pub fn base_name(p: &str) -> &str {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return if p.is_empty() { "" } else { "/" };
    }
    match t.rfind('/') {
        Some(i) => &t[i + 1..],
        None => t,
    }
}

/// `x/y/z` → `x/y`; `z` → `.`; `/z` → `/`.
pub fn dir_name(p: &str) -> String {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return if p.is_empty() { ".".into() } else { "/".into() };
    }
    match t.rfind('/') {
        None => ".".into(),
        Some(i) => {
            let d = t[..i].trim_end_matches('/');
            if d.is_empty() {
                "/".into()
            } else {
                d.into()
            }
        }
    }
}

/// `dir` + `/` + `name` without doubling the slash.
pub fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// stat/lstat through the host import; falls back to std metadata where it is unsupported.
pub fn meta(path: &str, follow: bool) -> io::Result<Stat> {
    match skiff_guest::stat(path, follow) {
        Err(e) if e.kind() == io::ErrorKind::Unsupported || e.raw_os_error() == Some(skiff_guest::errno::ENOSYS) => {
            std_meta(path, follow)
        }
        r => r,
    }
}

fn std_meta(path: &str, follow: bool) -> io::Result<Stat> {
    let m = if follow { fs::metadata(path)? } else { fs::symlink_metadata(path)? };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(Stat {
            mode: m.mode(),
            uid: m.uid(),
            gid: m.gid(),
            nlink: m.nlink() as u32,
            size: m.size(),
            mtime: m.mtime(),
        })
    }
    #[cfg(not(unix))]
    {
        let ft = m.file_type();
        let mode = if ft.is_dir() {
            S_IFDIR | 0o755
        } else if ft.is_symlink() {
            S_IFLNK | 0o777
        } else {
            S_IFREG | 0o644
        };
        let mtime = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Ok(Stat { mode, uid: 0, gid: 0, nlink: 1, size: m.len(), mtime })
    }
}

/// Set permission bits through the host import (std on non-WASI hosts).
pub fn set_mode(path: &str, mode: u32) -> io::Result<()> {
    match skiff_guest::chmod(path, mode) {
        Err(e) if e.kind() == io::ErrorKind::Unsupported => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o7777))
            }
            #[cfg(not(unix))]
            {
                Err(e)
            }
        }
        r => r,
    }
}

pub fn is_dir(m: u32) -> bool {
    m & S_IFMT == S_IFDIR
}
pub fn is_lnk(m: u32) -> bool {
    m & S_IFMT == S_IFLNK
}
pub fn is_reg(m: u32) -> bool {
    m & S_IFMT == S_IFREG
}

/// `drwxr-xr-x`-style rendering of a mode.
pub fn mode_string(mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(match mode & S_IFMT {
        S_IFDIR => 'd',
        S_IFLNK => 'l',
        0o020000 => 'c',
        0o060000 => 'b',
        0o010000 => 'p',
        0o140000 => 's',
        _ => '-',
    });
    let special = [(0o4000, 's', 'S'), (0o2000, 's', 'S'), (0o1000, 't', 'T')];
    for (who, &(sbit, lo, up)) in special.iter().enumerate() {
        let sh = 6 - 3 * who as u32;
        let bits = (mode >> sh) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        let x = bits & 1 != 0;
        s.push(match (mode & sbit != 0, x) {
            (true, true) => lo,
            (true, false) => up,
            (false, true) => 'x',
            (false, false) => '-',
        });
    }
    s
}

/// Name of the file type, as `stat %F` prints it.
pub fn type_name(mode: u32) -> &'static str {
    match mode & S_IFMT {
        S_IFDIR => "directory",
        S_IFLNK => "symbolic link",
        S_IFREG => "regular file",
        0o020000 => "character special file",
        0o060000 => "block special file",
        0o010000 => "fifo",
        0o140000 => "socket",
        _ => "weird file",
    }
}

/// One line of `/etc/passwd` or `/etc/group`: name, id, the primary gid (passwd) and the
/// member list (group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbEntry {
    pub name: String,
    pub id: u32,
    pub gid: u32,
    pub members: Vec<String>,
}

/// Parse `/etc/passwd` or `/etc/group` text (`name:x:id:gid_or_members:...`).
pub fn parse_db(text: &str, group: bool) -> Vec<DbEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 3 || f[0].is_empty() || f[0].starts_with('#') {
                return None;
            }
            let id = f[2].trim().parse().ok()?;
            let (gid, members) = if group {
                let m = f.get(3).copied().unwrap_or("");
                (id, m.split(',').filter(|x| !x.is_empty()).map(String::from).collect())
            } else {
                (f.get(3).and_then(|g| g.trim().parse().ok()).unwrap_or(0), Vec::new())
            };
            Some(DbEntry { name: f[0].to_string(), id, gid, members })
        })
        .collect()
}

static PASSWD: OnceLock<Vec<DbEntry>> = OnceLock::new();
static GROUP: OnceLock<Vec<DbEntry>> = OnceLock::new();

/// The image's users (`/etc/passwd`).
pub fn passwd() -> &'static [DbEntry] {
    PASSWD.get_or_init(|| parse_db(&fs::read_to_string("/etc/passwd").unwrap_or_default(), false))
}

/// The image's groups (`/etc/group`).
pub fn groups_db() -> &'static [DbEntry] {
    GROUP.get_or_init(|| parse_db(&fs::read_to_string("/etc/group").unwrap_or_default(), true))
}

/// User name of `uid` (None when unknown; uid 0 is always `root`).
pub fn user_name(uid: u32) -> Option<String> {
    passwd().iter().find(|e| e.id == uid).map(|e| e.name.clone()).or_else(|| (uid == 0).then(|| "root".into()))
}

pub fn group_name(gid: u32) -> Option<String> {
    groups_db().iter().find(|e| e.id == gid).map(|e| e.name.clone()).or_else(|| (gid == 0).then(|| "root".into()))
}

/// A user by name, or a number: `(uid, primary gid)`.
pub fn user_lookup(s: &str) -> Option<(u32, u32)> {
    if let Some(e) = passwd().iter().find(|e| e.name == s) {
        return Some((e.id, e.gid));
    }
    if s == "root" {
        return Some((0, 0));
    }
    let n: u32 = s.parse().ok()?;
    let gid = passwd().iter().find(|e| e.id == n).map(|e| e.gid).unwrap_or(n);
    Some((n, gid))
}

/// A group by name, or a number.
pub fn group_lookup(s: &str) -> Option<u32> {
    if let Some(e) = groups_db().iter().find(|e| e.name == s) {
        return Some(e.id);
    }
    if s == "root" {
        return Some(0);
    }
    s.parse().ok()
}

pub fn user_or_id(uid: u32) -> String {
    user_name(uid).unwrap_or_else(|| uid.to_string())
}
pub fn group_or_id(gid: u32) -> String {
    group_name(gid).unwrap_or_else(|| gid.to_string())
}

/// Open a named input; `-` is stdin.
pub fn open_input(path: &str) -> io::Result<Box<dyn Read>> {
    if path == "-" {
        Ok(Box::new(io::stdin()))
    } else {
        let f = fs::File::open(path)?;
        if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(io::ErrorKind::IsADirectory.into());
        }
        Ok(Box::new(f))
    }
}

/// Read a whole input (`-` is stdin).
pub fn read_all(path: &str) -> io::Result<Vec<u8>> {
    let mut v = Vec::new();
    open_input(path)?.read_to_end(&mut v)?;
    Ok(v)
}

/// Split into lines without their `\n` (a final unterminated line counts).
pub fn lines(data: &[u8]) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if data.is_empty() || data.ends_with(b"\n") {
        v.pop();
    }
    v
}

/// Human-readable size: 1023, 1.0K, 4.5M (busybox style).
pub fn human(n: u64) -> String {
    if n < 1024 {
        return n.to_string();
    }
    let units = ['K', 'M', 'G', 'T', 'P'];
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if v < 10.0 {
        format!("{:.1}{}", v, units[u])
    } else {
        format!("{:.0}{}", v, units[u])
    }
}

/// Flush stdout-like writers, ignoring a closed pipe.
pub fn done(o: &mut impl io::Write, code: i32) -> i32 {
    match o.flush() {
        Ok(()) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => code,
        Err(e) => {
            err!("write error: {}", errstr(&e));
            1
        }
    }
}

#[cfg(test)]
pub mod testutil {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static N: AtomicUsize = AtomicUsize::new(0);

    /// A fresh empty directory under the system temp dir.
    pub fn tempdir() -> String {
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p: PathBuf = std::env::temp_dir().join(format!("box-test-{}-{}", std::process::id(), n));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p.to_string_lossy().into_owned()
    }

    pub fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(mode_string(S_IFDIR | 0o755), "drwxr-xr-x");
        assert_eq!(mode_string(S_IFREG | 0o644), "-rw-r--r--");
        assert_eq!(mode_string(S_IFLNK | 0o777), "lrwxrwxrwx");
        assert_eq!(mode_string(S_IFREG | 0o4755), "-rwsr-xr-x");
        assert_eq!(mode_string(S_IFDIR | 0o1777), "drwxrwxrwt");
        assert_eq!(mode_string(S_IFREG | 0o2640), "-rw-r-S---");
    }

    #[test]
    fn options() {
        let a = testutil::argv(&["ls", "-la", "x", "-n5", "--", "-y"]);
        let o = getopt(&a, "lan:").unwrap();
        assert!(o.has('l') && o.has('a'));
        assert_eq!(o.val('n'), Some("5"));
        assert_eq!(o.args, vec!["x", "-y"]);
        let a = testutil::argv(&["env", "-i", "A=1", "ls", "-l"]);
        let o = getopt(&a, "+iu:").unwrap();
        assert_eq!(o.args, vec!["A=1", "ls", "-l"]);
        let a = testutil::argv(&["x", "-q"]);
        assert!(getopt(&a, "l").is_err());
        let a = testutil::argv(&["x", "--all", "-", "-k", "2"]);
        let o = getopt_long(&a, "ak:", &[("all", 'a')]).unwrap();
        assert!(o.has('a'));
        assert_eq!(o.val('k'), Some("2"));
        assert_eq!(o.args, vec!["-"]);
    }

    #[test]
    fn names() {
        assert_eq!(base_name("/bin/ls"), "ls");
        assert_eq!(base_name("a/b/"), "b");
        assert_eq!(base_name("/"), "/");
        assert_eq!(dir_name("/bin/ls"), "/bin");
        assert_eq!(dir_name("ls"), ".");
        assert_eq!(dir_name("/ls"), "/");
        assert_eq!(dir_name("a//b//"), "a");
        assert_eq!(human(1023), "1023");
        assert_eq!(human(4096), "4.0K");
        assert_eq!(human(50 * 1024 * 1024), "50M");
    }
}

/// The current environment as `KEY=VALUE` items.
pub fn environ() -> Vec<String> {
    std::env::vars_os().map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy())).collect()
}

/// Run `argv` with `env` (None: ours) and inherited stdio; wait and return its exit status.
/// Flush any buffered stdout before calling this.
pub fn run_cmd(argv: &[String], env: Option<&[String]>) -> io::Result<i32> {
    let own;
    let env = match env {
        Some(e) => e,
        None => {
            own = environ();
            &own
        }
    };
    let cwd = std::env::current_dir().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| "/".into());
    use skiff_guest::Stdio::Inherit;
    match skiff_guest::spawn(argv, env, &cwd, [Inherit, Inherit, Inherit]) {
        Ok(pid) => skiff_guest::wait(pid),
        #[cfg(not(target_os = "wasi"))]
        Err(e) if e.kind() == io::ErrorKind::Unsupported => {
            // Host builds (unit tests): run it with std.
            let mut c = std::process::Command::new(&argv[0]);
            c.args(&argv[1..]).env_clear();
            for kv in env {
                if let Some((k, v)) = kv.split_once('=') {
                    c.env(k, v);
                }
            }
            let st = c.status()?;
            Ok(st.code().unwrap_or(128))
        }
        Err(e) => Err(e),
    }
}

/// Create a symbolic link `link` pointing at `target`.
pub fn symlink(target: &str, link: &str) -> io::Result<()> {
    #[cfg(target_os = "wasi")]
    {
        std::os::wasi::fs::symlink_path(target, link)
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(target, link)
    }
    #[cfg(not(any(unix, target_os = "wasi")))]
    {
        let _ = (target, link);
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Absolute, symlink-free form of `path` (the last component may be missing when `allow_missing`).
pub fn realpath(path: &str, allow_missing: bool) -> io::Result<String> {
    let start = if path.starts_with('/') {
        path.to_string()
    } else {
        let cwd = std::env::current_dir()?.to_string_lossy().into_owned();
        join(&cwd, path)
    };
    let mut todo: Vec<String> = start.split('/').filter(|s| !s.is_empty()).rev().map(String::from).collect();
    let mut parts: Vec<String> = Vec::new();
    let mut hops = 0;
    while let Some(c) = todo.pop() {
        match c.as_str() {
            "." => continue,
            ".." => {
                parts.pop();
                continue;
            }
            _ => {}
        }
        let cur = format!("/{}", parts.iter().chain(std::iter::once(&c)).cloned().collect::<Vec<_>>().join("/"));
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                hops += 1;
                if hops > 40 {
                    return Err(io::Error::other("Symbolic link loop"));
                }
                let t = fs::read_link(&cur)?.to_string_lossy().into_owned();
                if t.starts_with('/') {
                    parts.clear();
                }
                for x in t.split('/').filter(|s| !s.is_empty()).rev() {
                    todo.push(x.to_string());
                }
            }
            Ok(_) => parts.push(c),
            Err(e) => {
                if allow_missing && todo.is_empty() && e.kind() == io::ErrorKind::NotFound {
                    parts.push(c);
                } else {
                    return Err(e);
                }
            }
        }
    }
    Ok(format!("/{}", parts.join("/")))
}
