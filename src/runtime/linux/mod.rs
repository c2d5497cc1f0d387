//! The native backend: real Linux containers from `linux/<host arch>` images, run by an
//! existing OCI runtime (`crun` if present, else `runc`; `SKIFF_OCI_RUNTIME` names another)
//! from a bundle skiff writes, over a kernel overlayfs root made of the store's layers.
//!
//! How a container runs (the supervisor, or an attached `run`, is the task's host process):
//! 1. [`snapshot`] extracts the image's layers in overlay form (once per layer) and mounts
//!    the container's root at `containers/<id>/bundle/rootfs`;
//! 2. skiff resolves the program in that root itself, so a missing or non-executable one
//!    gets Docker's message and exit status (127/126), and writes `bundle/config.json`;
//! 3. `<runtime> run` in the foreground starts it: the runtime stays init's parent and exits
//!    with init's true status (128+N for a signal), having removed its state and the cgroup;
//!    the PID file it writes when the program runs gives init's host PID (for `stop`/`kill`)
//!    and marks the container started. With a memory limit (the OOM killer's count must be
//!    read from the cgroup after the end) or `-t` on a runtime other than crun, it is
//!    `<runtime> create` (init waits; the runtime exits, so init becomes the child of this
//!    process, a child subreaper), `start`, `waitpid`, `delete`. Stdio passes straight
//!    through, or through a pseudo-terminal received on the console socket with `-t`;
//! 4. when init ends, dropping the task unmounts the root.

mod bundle;
mod cgroup;
mod console;
mod dns;
mod net;
mod portmap;
mod proxy;
mod rtnl;
mod snapshot;
mod sys;

use crate::error::{Error, IoContext, Result};
use crate::runtime::users::{self, User};
use crate::runtime::{
    Backend, ContainerSpec, Exit, Input, Kind, Output, Process, ProcessSpec, Published, Stdio, Task, Usage,
};
use crate::store::{LayerMeta, Store};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio as ProcStdio};
use std::sync::{Arc, Mutex};

/// The native backend for commands on one store.
pub struct LinuxBackend {
    store: Store,
    /// The OCI runtime binary (None: none installed).
    runtime: Option<PathBuf>,
}

/// Find the OCI runtime: `SKIFF_OCI_RUNTIME`, else `crun`, else `runc` on `PATH`.
fn find_runtime() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SKIFF_OCI_RUNTIME").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.components().count() > 1 { Some(p) } else { which(&p.to_string_lossy()) };
    }
    which("crun").or_else(|| which("runc"))
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

impl LinuxBackend {
    pub fn new(store: &Store) -> Result<LinuxBackend> {
        Ok(LinuxBackend { store: store.clone(), runtime: find_runtime() })
    }

    fn runtime(&self) -> Result<&Path> {
        self.runtime.as_deref().ok_or_else(|| {
            Error::Other("native containers need an OCI runtime: install crun or runc (apt-get install crun)".into())
        })
    }

    /// Whether the runtime is crun (by its file name).
    fn is_crun(&self) -> bool {
        self.runtime.as_deref().and_then(|p| p.file_name()).is_some_and(|n| n == "crun")
    }

    /// Where the runtime keeps its state: under the store (`runtime/<name>/`), so every store
    /// has its own containers.
    fn state_root(&self) -> Result<PathBuf> {
        let rt = self.runtime()?;
        let name = rt.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "oci".into());
        Ok(self.store.root().join("runtime").join(name))
    }

    /// The runtime, with its state under [`LinuxBackend::state_root`].
    fn command(&self) -> Result<Command> {
        let rt = self.runtime()?;
        let root = self.state_root()?;
        std::fs::create_dir_all(&root).at(&root)?;
        let mut cmd = Command::new(rt);
        cmd.arg("--root").arg(root);
        Ok(cmd)
    }

    /// Run a runtime subcommand to completion; its error output is the error.
    fn runtime_ok(&self, args: &[&str]) -> Result<()> {
        let out =
            self.command()?.args(args).stdin(ProcStdio::null()).output().map_err(|e| Error::Other(e.to_string()))?;
        if out.status.success() {
            return Ok(());
        }
        Err(Error::Other(runtime_message(&String::from_utf8_lossy(&out.stderr))))
    }

    /// Delete the runtime's record of container `id`, if it has one. crun and runc both keep a
    /// container's state in `<state root>/<id>/`: with no such directory there is nothing to
    /// delete, and the runtime is not started (each start costs a few milliseconds, and a
    /// container's life calls this up to four times).
    fn delete(&self, id: &str) {
        if self.state_root().is_ok_and(|r| !r.join(id).exists()) {
            return;
        }
        let _ = self.runtime_ok(&["delete", "--force", id]);
    }
}

/// A runtime's error output as one line (the last message, without its log prefixes).
fn runtime_message(text: &str) -> String {
    let line = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("the OCI runtime failed").trim();
    if let Some(i) = line.find("msg=\"") {
        return line[i + 5..].trim_end_matches('"').replace("\\\"", "\"");
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
        if let Some(m) = v.get("msg").and_then(|m| m.as_str()) {
            return m.to_string();
        }
    }
    line.to_string()
}

/// Who `p` runs as, from the container root's passwd and group files.
fn user_of(rootfs: &Path, p: &ProcessSpec) -> Result<User> {
    let read = |f: &str| {
        snapshot::resolve_in_root(rootfs, f, true).and_then(|h| std::fs::read_to_string(h).ok()).unwrap_or_default()
    };
    users::resolve(&p.user, &read("/etc/passwd"), &read("/etc/group")).map_err(Error::Other)
}

/// Find `p`'s program in the root as the kernel and the runtime would, so a missing one is
/// Docker's "executable file not found" (127) and a non-executable one "permission denied"
/// (126) before anything starts. Creates the working directory if it is missing.
fn check_program(rootfs: &Path, p: &ProcessSpec, user: &User) -> Result<()> {
    let cwd = if p.cwd.is_empty() { "/" } else { p.cwd.as_str() };
    if let Some(dir) = snapshot::resolve_in_root(rootfs, cwd, true) {
        if !dir.exists() {
            std::fs::create_dir_all(&dir).at(&dir)?;
            let _ = std::os::unix::fs::chown(&dir, Some(user.uid), Some(user.gid));
        }
    }
    let name = p.argv.first().cloned().unwrap_or_default();
    let candidates: Vec<String> = if name.contains('/') {
        vec![if name.starts_with('/') { name.clone() } else { format!("{}/{name}", cwd.trim_end_matches('/')) }]
    } else {
        let path = p.env.iter().find_map(|e| e.strip_prefix("PATH=")).unwrap_or(crate::runtime::DEFAULT_PATH);
        path.split(':').filter(|d| !d.is_empty()).map(|d| format!("{}/{name}", d.trim_end_matches('/'))).collect()
    };
    let mut denied = false;
    for cand in &candidates {
        let Some(host) = snapshot::resolve_in_root(rootfs, cand, true) else { continue };
        let Ok(meta) = std::fs::metadata(&host) else { continue };
        use std::os::unix::fs::PermissionsExt;
        if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
            return Ok(());
        }
        denied = true;
        if name.contains('/') {
            break;
        }
    }
    Err(match (denied, name.contains('/')) {
        (true, _) => Error::ExecPermission(name),
        (false, true) => Error::ExecNoSuchFile(name),
        (false, false) => Error::ExecNotFound(name),
    })
}

/// Wire the runtime's stdio for `io` (the container inherits it); returns the pump threads
/// that copy pipes to the caller's writers.
fn wire(cmd: &mut Command, io: &Stdio) -> Result<Vec<std::thread::JoinHandle<()>>> {
    let mut pumps = Vec::new();
    match &io.stdin {
        Input::Null => {
            cmd.stdin(ProcStdio::null());
        }
        Input::Inherit => {
            cmd.stdin(ProcStdio::inherit());
        }
        Input::Reader(r) => {
            let (rd, mut wr) = std::io::pipe().map_err(|e| Error::Other(e.to_string()))?;
            cmd.stdin(rd);
            let r = r.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                loop {
                    let n = match r.lock().unwrap_or_else(|p| p.into_inner()).read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    if std::io::Write::write_all(&mut wr, &buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    }
    for (fd, out) in [(1, &io.stdout), (2, &io.stderr)] {
        let s = match out {
            Output::Null => ProcStdio::null(),
            Output::Inherit => ProcStdio::inherit(),
            Output::Writer(w) => {
                let (mut rd, wr) = std::io::pipe().map_err(|e| Error::Other(e.to_string()))?;
                let w = w.clone();
                pumps.push(std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match rd.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let mut w = w.lock().unwrap_or_else(|p| p.into_inner());
                        let _ = w.write_all(&buf[..n]);
                        let _ = w.flush();
                    }
                }));
                ProcStdio::from(wr)
            }
        };
        if fd == 1 {
            cmd.stdout(s);
        } else {
            cmd.stderr(s);
        }
    }
    Ok(pumps)
}

/// A native container prepared to run: its root is mounted.
struct LinuxTask {
    backend: LinuxBackend,
    spec: ContainerSpec,
    rootfs: PathBuf,
    net: bundle::Net,
    /// The container's init (host PID) while it runs.
    init: Mutex<Option<i32>>,
    /// Its embedded DNS server and published-port proxies (user and bridge networks).
    _dns: Option<dns::Server>,
    _proxies: Option<proxy::Proxies>,
}

/// Where the runtime writes the host PID of the container's init, in the bundle.
const PID_FILE: &str = "init.pid";

impl LinuxTask {
    fn bundle(&self) -> PathBuf {
        self.spec.dir.join("bundle")
    }

    fn set_init(&self, pid: Option<i32>) {
        *self.init.lock().unwrap_or_else(|e| e.into_inner()) = pid;
    }

    /// `<runtime> run` in the foreground: it starts the container, stays init's parent, and
    /// exits with init's status (128+N for a signal) once it has removed the container. The
    /// PID file appears when the program runs; a runtime that ends without one failed.
    #[allow(clippy::too_many_arguments)]
    fn run_foreground(
        &self,
        mut child: Child,
        watch: &sys::FileWatch,
        pid_file: &Path,
        log: &Path,
        started: &mut dyn FnMut(),
        pty: Option<std::os::fd::OwnedFd>,
        io: &Stdio,
    ) -> Result<i32> {
        let running = watch.wait(child.id()).map_err(|e| Error::Other(format!("waiting for the OCI runtime: {e}")))?;
        let Some(init) = read_pid(pid_file) else {
            let status = child.wait().map_err(|e| Error::Other(e.to_string()))?;
            let text = std::fs::read_to_string(log).unwrap_or_default();
            self.backend.delete(&self.spec.id);
            return Err(Error::Other(if status.success() {
                "the OCI runtime wrote no PID for the container".into()
            } else {
                runtime_message(&text)
            }));
        };
        if running {
            self.set_init(Some(init));
        }
        started();
        let proxy = pty.map(|pty| console::proxy(pty, io));
        let status = child.wait().map_err(|e| Error::Other(e.to_string()))?;
        // A runtime killed by a signal leaves init to us (we are its subreaper).
        let code = status.code().unwrap_or_else(|| sys::wait_pid(init).unwrap_or(137));
        if let Some(t) = proxy {
            t.finish();
        }
        Ok(code)
    }

    /// `<runtime> create` has made the container, its init waiting; init is now our child
    /// (the runtime exited, we are the subreaper): `<runtime> start` lets it run, and
    /// `waitpid` gives its status.
    fn run_created(
        &self,
        mut child: Child,
        pid_file: &Path,
        log: &Path,
        started: &mut dyn FnMut(),
        pty: Option<std::os::fd::OwnedFd>,
        io: &Stdio,
    ) -> Result<i32> {
        let id = self.spec.id.as_str();
        let status = child.wait().map_err(|e| Error::Other(e.to_string()))?;
        if !status.success() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            self.backend.delete(id);
            return Err(Error::Other(runtime_message(&text)));
        }
        let init =
            read_pid(pid_file).ok_or_else(|| Error::Other("the OCI runtime wrote no PID for the container".into()))?;
        self.set_init(Some(init));
        if let Err(e) = self.backend.runtime_ok(&["start", id]) {
            let _ = sys::kill(init, libc::SIGKILL);
            let _ = sys::wait_pid(init);
            self.backend.delete(id);
            return Err(e);
        }
        started();
        let proxy = pty.map(|pty| console::proxy(pty, io));
        let code = sys::wait_pid(init).unwrap_or(137);
        if let Some(t) = proxy {
            t.finish();
        }
        Ok(code)
    }
}

/// The PID in a runtime's PID file.
fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok().and_then(|s| s.trim().parse().ok())
}

impl Task for LinuxTask {
    fn run(&self, p: &ProcessSpec, io: Stdio, started: &mut dyn FnMut()) -> Result<Exit> {
        let user = user_of(&self.rootfs, p)?;
        check_program(&self.rootfs, p, &user)?;
        let bundle = self.bundle();
        let config = bundle::config(&self.spec, p, &user, p.tty, &self.net);
        crate::store::atomic_write(&bundle.join("config.json"), &serde_json::to_vec_pretty(&config).unwrap())?;
        let id = self.spec.id.as_str();
        self.backend.delete(id); // a state left by a killed supervisor
        let pid_file = bundle.join(PID_FILE);
        let log = bundle.join("runtime.log");
        let _ = std::fs::remove_file(&pid_file);
        let _ = std::fs::remove_file(&log);
        // One foreground `run`, unless the OOM killer's count must be read after the end (a
        // memory limit: `run` removes the cgroup as it ends), or a terminal is wanted from a
        // runtime other than crun (runc refuses a console socket unless it detaches): then
        // create + start + delete.
        let one_call = self.spec.limits.memory == 0 && (!p.tty || self.backend.is_crun());
        let watch = if one_call { Some(sys::FileWatch::new(&bundle, PID_FILE).at(&bundle)?) } else { None };
        let mut cmd = self.backend.command()?;
        cmd.arg("--log").arg(&log).arg(if one_call { "run" } else { "create" });
        cmd.arg("--pid-file").arg(&pid_file).arg("--bundle").arg(&bundle);
        let mut console = None;
        let pumps = if p.tty {
            let c = console::Console::listen()?;
            cmd.arg("--console-socket").arg(c.path());
            console = Some(c);
            cmd.stdin(ProcStdio::null()).stdout(ProcStdio::null()).stderr(ProcStdio::null());
            vec![]
        } else {
            wire(&mut cmd, &io)?
        };
        cmd.arg(id);
        let mut child: Child = cmd.spawn().map_err(|e| Error::Other(format!("cannot start the OCI runtime: {e}")))?;
        let pty = match console.as_ref().map(|c| c.receive(&mut child)) {
            Some(Ok(pty)) => Some(pty),
            Some(Err(e)) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
            None => None,
        };
        drop(cmd); // our copies of the pipe ends the container now holds
        let code = match watch {
            Some(watch) => self.run_foreground(child, &watch, &pid_file, &log, started, pty, &io)?,
            None => self.run_created(child, &pid_file, &log, started, pty, &io)?,
        };
        *self.init.lock().unwrap_or_else(|e| e.into_inner()) = None;
        sys::reap_others();
        for t in pumps {
            let _ = t.join();
        }
        let oom_killed = !one_call && cgroup::oom_kills(id) > 0;
        self.backend.delete(id);
        Ok(Exit { code, oom_killed })
    }

    fn signal(&self, sig: i32) -> bool {
        if let Some(pid) = *self.init.lock().unwrap_or_else(|e| e.into_inner()) {
            let _ = sys::kill(pid, crate::hostproc::host_signal(sig));
        }
        false // the kernel delivers it; the container ends when its init does
    }

    fn kill_all(&self) -> bool {
        if let Some(pid) = *self.init.lock().unwrap_or_else(|e| e.into_inner()) {
            // Init dies, and with it every process of its PID namespace.
            let _ = sys::kill(pid, libc::SIGKILL);
        }
        false
    }
}

impl Drop for LinuxTask {
    fn drop(&mut self) {
        // The interfaces go while the runtime's state and the root do (see net::Detaching).
        let net =
            matches!(self.net, bundle::Net::Path(_)).then(|| net::detach_in_background(&self.spec.id, &self.spec.dir));
        self.backend.delete(&self.spec.id);
        snapshot::unmount_root(&self.spec);
        drop(net);
    }
}

/// `c`'s record as the network rules see it (none for a bare root).
fn peer_of(c: &ContainerSpec) -> Option<crate::network::Peer> {
    c.network.as_ref().and_then(|n| n.directory.get(&c.id).ok())
}

/// `/etc/resolv.conf` of a container: the embedded server on user networks (as Docker's);
/// else the host's, without loopback name servers (they would be the container's own
/// loopback).
fn write_resolv_conf(c: &ContainerSpec, net: &bundle::Net, embedded: bool) -> Result<()> {
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let text: String = match net {
        _ if embedded => format!("nameserver {}\noptions ndots:0\n", dns::ADDRESS),
        bundle::Net::Host => host,
        _ => host
            .lines()
            .filter(|l| {
                !(l.starts_with("nameserver") && l.split_whitespace().nth(1).is_some_and(|a| a.starts_with("127.")))
            })
            .map(|l| format!("{l}\n"))
            .collect(),
    };
    let path = c.dir.join("resolv.conf");
    if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(()); // as the container was made with: no write
    }
    crate::store::atomic_write(&path, text.as_bytes())
}

impl Backend for LinuxBackend {
    fn kind(&self) -> Kind {
        Kind::Linux
    }

    fn describe(&self) -> Vec<(String, String)> {
        let rt = match &self.runtime {
            Some(p) => {
                let v = Command::new(p)
                    .arg("--version")
                    .output()
                    .ok()
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
                let first = v.as_deref().and_then(|v| v.lines().next()).unwrap_or("").trim().to_string();
                format!("{} ({first})", p.display())
            }
            None => "none found: install crun or runc".into(),
        };
        vec![
            ("OCI runtime".into(), rt),
            ("Storage".into(), "overlayfs".into()),
            ("Cgroups".into(), if cgroup::is_v2() { "v2".into() } else { "v1".into() }),
        ]
    }

    fn layer_owners(&self) -> crate::archive::create::Owners {
        crate::archive::create::Owners::AsOnHost
    }

    fn layer_added(&self, _store: &Store, _meta: &LayerMeta) -> Result<usize> {
        Ok(0) // the overlay form is made on first native use
    }

    fn create(&self, c: &ContainerSpec, published: Published) -> Result<Arc<dyn Task>> {
        self.runtime()?;
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err(Error::Other(
                "native containers need root here (overlayfs mounts, cgroups): run skiff as root".into(),
            ));
        }
        cgroup::fix_hybrid();
        sys::become_subreaper().map_err(|e| Error::Other(format!("prctl(PR_SET_CHILD_SUBREAPER): {e}")))?;
        let lowers = snapshot::prepare_lowers(&self.store, c)?;
        let rootfs = snapshot::mount_root(&lowers, c)?;
        let peer = peer_of(c);
        // host: the host's namespace; none: a new one with `lo` only (the runtime makes it);
        // bridge and user networks: a namespace of skiff's, with one interface per network.
        let (net, embedded, dns, proxies) = match &peer {
            Some(p) if p.on_host_network() => (bundle::Net::Host, false, None, None),
            Some(p) if !p.on_no_network() && !p.networks.is_empty() => {
                let netns = net::attach(&self.store, &c.id, &c.dir, p).inspect_err(|_| snapshot::unmount_root(c))?;
                let embedded = net::uses_embedded_dns(p);
                let dns = match (embedded, &c.network) {
                    (true, Some(n)) => Some(dns::serve(&netns, n.directory.clone(), c.id.clone()).map_err(|e| {
                        net::detach(&c.id, &c.dir);
                        snapshot::unmount_root(c);
                        Error::Other(format!("embedded DNS server: {e}"))
                    })?),
                    _ => None,
                };
                let proxies = net::first_address(p).map(|ip| {
                    if let Some(bridge) = net::first_bridge(&c.dir) {
                        portmap::install(&c.id, &c.dir, &bridge, ip, &portmap::mappings(&published));
                    }
                    proxy::start(published, ip)
                });
                (bundle::Net::Path(netns.to_string_lossy().into_owned()), embedded, dns, proxies)
            }
            _ => (bundle::Net::Isolated, false, None, None),
        };
        write_resolv_conf(c, &net, embedded)?;
        let backend = LinuxBackend { store: self.store.clone(), runtime: self.runtime.clone() };
        Ok(Arc::new(LinuxTask {
            backend,
            spec: c.clone(),
            rootfs,
            net,
            init: Mutex::new(None),
            _dns: dns,
            _proxies: proxies,
        }))
    }

    fn exec(&self, c: &ContainerSpec, p: &ProcessSpec, io: Stdio) -> Result<Exit> {
        let rootfs = snapshot::rootfs(c);
        let user = user_of(&rootfs, p)?;
        check_program(&rootfs, p, &user)?;
        let process = bundle::process(p, &user, p.tty, bundle::nofile_limit());
        let tmp = tempfile::NamedTempFile::new_in(self.store.tmp_dir()).at(self.store.tmp_dir())?;
        std::fs::write(tmp.path(), serde_json::to_vec(&process).unwrap()).at(tmp.path())?;
        let mut cmd = self.command()?;
        cmd.args(["exec", "--process"]).arg(tmp.path());
        let mut console = None;
        let pumps = if p.tty {
            let con = console::Console::listen()?;
            cmd.arg("--tty").arg("--console-socket").arg(con.path());
            console = Some(con);
            cmd.stdin(ProcStdio::null()).stdout(ProcStdio::null()).stderr(ProcStdio::piped());
            vec![]
        } else {
            wire(&mut cmd, &io)?
        };
        cmd.arg(&c.id);
        let mut child = cmd.spawn().map_err(|e| Error::Other(format!("cannot start the OCI runtime: {e}")))?;
        let proxy = match console.as_ref().map(|con| con.receive(&mut child)) {
            Some(Ok(pty)) => Some(console::proxy(pty, &io)),
            Some(Err(e)) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
            None => None,
        };
        drop(cmd);
        let status = child.wait().map_err(|e| Error::Other(e.to_string()))?;
        for t in pumps {
            let _ = t.join();
        }
        if let Some(t) = proxy {
            t.finish();
        }
        use std::os::unix::process::ExitStatusExt;
        let code = status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(9));
        Ok(Exit { code, oom_killed: false })
    }

    fn pause(&self, c: &ContainerSpec) -> Result<()> {
        self.runtime_ok(&["pause", &c.id])
    }

    fn resume(&self, c: &ContainerSpec) -> Result<()> {
        self.runtime_ok(&["resume", &c.id])
    }

    fn processes(&self, c: &ContainerSpec) -> Result<Vec<Process>> {
        let pids = cgroup::pids(&c.id);
        let mut out: Vec<Process> = pids.iter().filter_map(|p| proc_info(*p)).collect();
        // PIDs as the container sees them (its own namespace): the last NSpid of each.
        let by_host: std::collections::HashMap<u32, i32> = out.iter().map(|p| (p.host_pid, p.pid)).collect();
        for p in &mut out {
            p.ppid = by_host.get(&(p.ppid as u32)).copied().unwrap_or(0);
        }
        out.sort_by_key(|p| p.pid);
        Ok(out)
    }

    fn stats(&self, c: &ContainerSpec) -> Result<Usage> {
        let (block_read, block_write) = cgroup::block_io(&c.id);
        let pids = cgroup::pids(&c.id);
        let (net_rx, net_tx) = pids.first().map(|p| net_dev(*p)).unwrap_or((0, 0));
        Ok(Usage {
            cpu_ns: cgroup::cpu_ns(&c.id),
            memory: cgroup::memory(&c.id),
            memory_limit: c.limits.memory,
            pids: pids.len() as u64,
            net_rx,
            net_tx,
            block_read,
            block_write,
        })
    }

    fn network_changed(&self, c: &ContainerSpec) -> Result<()> {
        match peer_of(c) {
            Some(p) => net::sync(&self.store, &c.id, &c.dir, &p),
            None => Ok(()),
        }
    }

    fn cleanup(&self, c: &ContainerSpec) -> Result<()> {
        let net = net::detach_in_background(&c.id, &c.dir);
        if self.runtime.is_some() {
            self.delete(&c.id);
        }
        snapshot::unmount_root(c);
        cgroup::remove(&c.id);
        drop(net);
        Ok(())
    }
}

/// A host process as `top` shows it: its PID inside the container (the last `NSpid`), its
/// host parent (mapped by the caller), owner, start and command line.
fn proc_info(host: u32) -> Option<Process> {
    let status = std::fs::read_to_string(format!("/proc/{host}/status")).ok()?;
    let field = |k: &str| status.lines().find_map(|l| l.strip_prefix(k)).map(|v| v.trim().to_string());
    let pid: i32 = field("NSpid:")?.split_whitespace().last()?.parse().ok()?;
    let ppid: i32 = field("PPid:")?.parse().ok()?;
    let uid: u32 = field("Uid:")?.split_whitespace().next()?.parse().ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{host}/stat")).ok()?;
    let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| rest.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let cpu_ms = (ticks(11) + ticks(12)) * 10;
    let started_ticks = ticks(19);
    let boot = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse::<i64>().ok())))
        .unwrap_or(0);
    let start = chrono::DateTime::from_timestamp(boot + (started_ticks / 100) as i64, 0).unwrap_or_default();
    let cmdline = std::fs::read(format!("/proc/{host}/cmdline")).unwrap_or_default();
    let mut argv: Vec<String> =
        cmdline.split(|b| *b == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8_lossy(s).into_owned()).collect();
    if argv.is_empty() {
        argv.push(format!("[{}]", field("Name:").unwrap_or_default()));
    }
    Some(Process {
        pid,
        ppid,
        uid,
        host_pid: host,
        started: start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        cpu_ms,
        argv,
    })
}

/// Bytes received and sent on the non-loopback interfaces of `pid`'s network namespace.
fn net_dev(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap_or_default();
    let (mut rx, mut tx) = (0, 0);
    for l in text.lines().skip(2) {
        let Some((name, rest)) = l.split_once(':') else { continue };
        if name.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = rest.split_whitespace().filter_map(|v| v.parse().ok()).collect();
        rx += f.first().copied().unwrap_or(0);
        tx += f.get(8).copied().unwrap_or(0);
    }
    (rx, tx)
}
