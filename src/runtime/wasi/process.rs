//! Guest processes of one container and the `skiff` host imports (`docs/guest-abi.md`):
//! each process is a wasm instance in its own `Store` on its own thread, over the container's
//! shared union view; `spawn`/`wait`/`pipe*` wire them together, `stat`/`chmod` add file modes.

use super::modules::ModuleCache;
use super::program::{self, NotRunnable, Program};
use super::signals::{ProcState, Wake};
use super::stdio::{Reader, Stream, Writer};
use crate::runtime::Lower;
use crate::unionfs::{Kind, OpenOpts, UnionFs};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use wasi_common::pipe::{ReadPipe, WritePipe};
use wasi_common::WasiCtx;
use wasmtime::{Caller, Engine, Linker, Store, Trap, UpdateDeadline};

// WASI errno values returned (negated) by the imports.
const EACCES: i32 = 2;
const EAGAIN: i32 = 6;
const EINTR: i32 = 27;
const ESRCH: i32 = 71;
const EBADF: i32 = 8;
const ECHILD: i32 = 12;
const EFAULT: i32 = 21;
const EINVAL: i32 = 28;
const ENOENT: i32 = 44;
const ENOEXEC: i32 = 45;

/// Exit status of a process stopped by skiff (SIGKILL's 128+9, as Docker reports).
pub const STATUS_KILLED: i32 = 137;
/// Exit status of a guest that trapped (SIGABRT's 128+6: a Rust panic is an abort).
pub const STATUS_TRAPPED: i32 = 134;

/// What every process of one container shares.
pub struct Shared {
    pub engine: Engine,
    pub linker: Linker<Proc>,
    pub modules: Arc<ModuleCache>,
    pub fs: Arc<UnionFs>,
    pub lowers: Vec<Lower>,
    /// Where PIDs come from (one count for the whole container).
    pub pids: super::control::Pids,
    /// At most this many guest processes in this holder (`--pids-limit`): each is a thread.
    pub pids_limit: usize,
    /// The terminal, with `-t`.
    pub tty: Option<Arc<super::tty::Tty>>,
    /// `containers/<id>/procs/` (none for a bare root).
    pub procs_dir: Option<std::path::PathBuf>,
    /// When the container's processes started here (`uptime`).
    pub started: std::time::SystemTime,
    /// Linear-memory limit per process (0: none), and whether a process hit it.
    pub memory_limit: u64,
    pub oom: Arc<AtomicBool>,
    /// The running guest processes, published to `proc_table` (for `top`) when set.
    pub procs: std::sync::Mutex<ProcTable>,
    pub proc_table: Option<std::path::PathBuf>,
    /// The container's network (none: loopback only).
    pub net: Option<Arc<super::plane::ContainerNet>>,
}

/// One guest process as `top` and `ps` list it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ProcEntry {
    pub pid: i32,
    pub ppid: i32,
    pub argv: Vec<String>,
    /// RFC 3339.
    pub started: String,
    #[serde(default)]
    pub uid: u32,
    /// Milliseconds since the Unix epoch.
    #[serde(default)]
    pub start_ms: i64,
}

/// The processes of one skiff process's guests, and the open file they are published in.
#[derive(Default)]
pub struct ProcTable {
    entries: std::collections::BTreeMap<i32, ProcEntry>,
    states: std::collections::BTreeMap<i32, Arc<ProcState>>,
    file: Option<std::fs::File>,
}

impl Shared {
    /// The signal state of local process `pid`.
    pub fn state(&self, pid: i32) -> Option<Arc<ProcState>> {
        self.procs.lock().unwrap_or_else(|p| p.into_inner()).states.get(&pid).cloned()
    }

    /// Every local process's state, by PID.
    pub fn states(&self) -> Vec<Arc<ProcState>> {
        self.procs.lock().unwrap_or_else(|p| p.into_inner()).states.values().cloned().collect()
    }

    /// The local processes as `ps` lists them.
    pub fn entries(&self) -> Vec<ProcEntry> {
        self.procs.lock().unwrap_or_else(|p| p.into_inner()).entries.values().cloned().collect()
    }

    /// Send `sig` to container process `pid`, here or in another holder. `Err(ESRCH)` if no
    /// process of the container has that PID, `Err(EINVAL)` for a bad signal.
    pub fn kill(&self, pid: i32, sig: i32) -> Result<(), i32> {
        if !(0..32).contains(&sig) {
            return Err(EINVAL);
        }
        if let Some(st) = self.state(pid) {
            st.deliver(sig, &self.engine);
            return Ok(());
        }
        let Some(dir) = &self.procs_dir else { return Err(ESRCH) };
        let container = dir.parent().unwrap_or(dir);
        for (holder, entries) in super::holders::list(container, 0) {
            if holder != std::process::id()
                && entries.iter().any(|e| e.pid == pid)
                && super::control::send_kill(dir, holder, pid, sig)
            {
                return Ok(());
            }
        }
        Err(ESRCH)
    }

    /// End every local process with `status` (its PID 1 ended, or the container is killed).
    pub fn kill_all(&self, status: i32) {
        for st in self.states() {
            st.kill(status, &self.engine);
        }
    }

    /// Record a process start (`Some`) or end (`None`) and publish the table. It is live
    /// status, rewritten in place in a file kept open (a rename per process start cost
    /// 0.3 ms on the start path); `top` retries a read that catches it half-written.
    fn track(&self, pid: i32, entry: Option<(ProcEntry, Arc<ProcState>)>) {
        use std::io::{Seek, Write};
        let mut t = self.procs.lock().unwrap_or_else(|p| p.into_inner());
        match entry {
            Some((e, st)) => {
                t.entries.insert(pid, e);
                t.states.insert(pid, st);
            }
            None => {
                t.entries.remove(&pid);
                t.states.remove(&pid);
            }
        };
        let Some(path) = &self.proc_table else { return };
        let data = serde_json::to_vec(&t.entries.values().collect::<Vec<_>>()).expect("entries serialise");
        if t.file.is_none() {
            t.file = std::fs::OpenOptions::new().create(true).write(true).truncate(true).open(path).ok();
        }
        if let Some(f) = t.file.as_mut() {
            let _ = f.set_len(0).and_then(|_| f.rewind()).and_then(|_| f.write_all(&data));
        }
    }
}

/// The host state of one guest process.
pub struct Proc {
    pub wasi: WasiCtx,
    pub(super) shared: Arc<Shared>,
    /// This process's number in its container (the first process is 1).
    pid: i32,
    /// Its signal state (shared with whoever signals it).
    pub(super) me: Arc<ProcState>,
    /// Who it runs as.
    pub(super) id: super::identity::Identity,
    /// The streams this process started with (what `inherit` gives its children).
    stdio: [Stream; 3],
    pipes: HashMap<i32, PipeEnd>,
    next_handle: i32,
    children: HashMap<i32, mpsc::Receiver<i32>>,
    limiter: MemoryLimiter,
    /// Sockets from the network imports, by fd (gone when the guest closes the fd).
    pub(super) sockets: super::net::Sockets,
}

/// `--memory`: refuses linear-memory growth past the limit and remembers it did, so the
/// process ends as out of memory (137, `OOMKilled`) rather than as a plain crash.
struct MemoryLimiter {
    limit: u64,
    oom: Arc<AtomicBool>,
    /// The linear memory's size now (what `ps` shows as RSS).
    size: Arc<std::sync::atomic::AtomicU64>,
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if self.limit > 0 && desired as u64 > self.limit {
            self.oom.store(true, Ordering::SeqCst);
            return Ok(false);
        }
        self.size.store(desired as u64, Ordering::Relaxed);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, _desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

enum PipeEnd {
    Read(Reader),
    Write(Writer),
}

/// Build the linker: WASI preview 1 (and 0) plus the `skiff` module.
pub fn linker(engine: &Engine) -> wasmtime::Result<Linker<Proc>> {
    let mut l: Linker<Proc> = Linker::new(engine);
    wasi_common::sync::add_to_linker(&mut l, |p: &mut Proc| &mut p.wasi)?;
    // wasi-common traps on `proc_exit` with a status >= 126, but shells exit 126/127 (command
    // not executable / not found) and 128+N: any status must reach the parent, as on Linux.
    l.allow_shadowing(true);
    l.func_wrap("wasi_snapshot_preview1", "proc_exit", |status: i32| -> wasmtime::Result<()> {
        Err(wasmtime::Error::new(wasi_common::I32Exit(status & 0xff)))
    })?;
    l.allow_shadowing(false);
    l.func_wrap("skiff", "spawn", imp_spawn)?;
    l.func_wrap("skiff", "wait", imp_wait)?;
    l.func_wrap("skiff", "pipe", imp_pipe)?;
    l.func_wrap("skiff", "pipe_fd", imp_pipe_fd)?;
    l.func_wrap("skiff", "pipe_close", imp_pipe_close)?;
    l.func_wrap("skiff", "stat", imp_stat)?;
    l.func_wrap("skiff", "chmod", imp_chmod)?;
    super::net::add_to_linker(&mut l)?;
    super::posix::add_to_linker(&mut l)?;
    Ok(l)
}

/// Resolve a program for `argv` with `env`'s PATH in `cwd`.
pub fn find_program(shared: &Shared, argv: &[String], env: &[String], cwd: &str) -> Result<Program, NotRunnable> {
    let path = env.iter().find_map(|e| e.strip_prefix("PATH="));
    program::resolve(&shared.fs, &shared.lowers, argv, path, cwd)
}

/// How a process is started: its place in the container and who it is.
#[derive(Clone)]
pub struct Start {
    pub pid: i32,
    pub ppid: i32,
    /// The container's first process (init's signal rules; its end ends the others).
    pub init: bool,
    pub id: super::identity::Identity,
}

/// Run `prog` as a process of the container on the current thread; returns its exit status.
pub fn run(shared: &Arc<Shared>, start: Start, prog: &Program, env: &[String], cwd: &str, stdio: [Stream; 3]) -> i32 {
    let st = Arc::new(ProcState::new(start.pid, start.ppid, start.init));
    run_as(shared, start, st, prog, env, cwd, stdio)
}

/// A process's line in the table, as it starts now.
fn entry_for(start: &Start, prog: &Program) -> ProcEntry {
    let now = chrono::Utc::now();
    ProcEntry {
        pid: start.pid,
        ppid: start.ppid,
        argv: prog.argv.clone(),
        started: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        uid: start.id.uid,
        start_ms: now.timestamp_millis(),
    }
}

/// [`run`] with the process's signal state made by the caller (a parent's `spawn` records
/// it before the child's thread starts, so a signal sent at once is not lost).
fn run_as(
    shared: &Arc<Shared>,
    start: Start,
    st: Arc<ProcState>,
    prog: &Program,
    env: &[String],
    cwd: &str,
    stdio: [Stream; 3],
) -> i32 {
    shared.track(start.pid, Some((entry_for(&start, prog), st.clone())));
    st.set_thread();
    super::signals::set_current(Some(st.clone()));
    crate::unionfs::set_access(Some(start.id.as_access()));
    let result = run_inner(shared, &start, st.clone(), prog, env, cwd, stdio);
    shared.track(start.pid, None);
    super::signals::set_current(None);
    crate::unionfs::set_access(None);
    let code = match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("skiff: {}: {msg}", prog.argv[0]);
            STATUS_TRAPPED
        }
    };
    st.killed().unwrap_or(code)
}

fn run_inner(
    shared: &Arc<Shared>,
    start: &Start,
    me: Arc<ProcState>,
    prog: &Program,
    env: &[String],
    cwd: &str,
    stdio: [Stream; 3],
) -> Result<i32, String> {
    let fs = shared.fs.clone();
    let module = match &prog.known_digest {
        Some(d) => shared
            .modules
            .get(d, || fs.read(&prog.module_path).map_err(|e| crate::error::Error::io(&prog.module_path, e))),
        None => {
            let bytes = fs.read(&prog.module_path).map_err(|e| e.to_string())?;
            let d = crate::spec::Digest::of(&bytes);
            shared.modules.get(&d, || Ok(bytes))
        }
    }
    .map_err(|e| e.to_string())?;

    let mut b = wasi_common::sync::WasiCtxBuilder::new();
    b.args(&prog.argv).map_err(|e| e.to_string())?;
    for kv in env.iter().filter(|kv| !kv.starts_with("PWD=")) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        b.env(k, v).map_err(|e| e.to_string())?;
    }
    b.env("PWD", cwd).map_err(|e| e.to_string())?;
    b.stdin(stdio[0].to_file(0)).stdout(stdio[1].to_file(1)).stderr(stdio[2].to_file(2));
    let wasi = b.build();
    wasi.push_preopened_dir(super::fs::root_dir(fs), "/").map_err(|e| e.to_string())?;

    let limiter = MemoryLimiter { limit: shared.memory_limit, oom: shared.oom.clone(), size: me.mem.clone() };
    let on_tty = matches!(stdio[0], Stream::Tty(_));
    me.set_on_tty(on_tty);
    let proc = Proc {
        wasi,
        shared: shared.clone(),
        pid: start.pid,
        me: me.clone(),
        id: start.id.clone(),
        stdio,
        pipes: HashMap::new(),
        next_handle: 3,
        children: HashMap::new(),
        limiter,
        sockets: Default::default(),
    };
    let mut store = Store::new(&shared.engine, proc);
    store.limiter(|p| &mut p.limiter);
    // Epoch interruption is how a signal reaches a guest running wasm code: nothing
    // advances the epoch until a signal is delivered, so the callback costs nothing in
    // normal runs. Each store looks at its own process: killed ends it, stopped waits.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|cx| {
        let me = &cx.data().me;
        if me.is_stopped() {
            me.wait_while_stopped();
        }
        if me.killed().is_some() {
            Err(Trap::Interrupt.into())
        } else {
            Ok(UpdateDeadline::Continue(1))
        }
    });
    let instance = shared.linker.instantiate(&mut store, &module).map_err(|e| e.to_string())?;
    let entry = instance.get_typed_func::<(), ()>(&mut store, "_start").map_err(|e| e.to_string())?;
    let result = entry.call(&mut store, ());
    if start.init {
        // Init ended: every other process of the container ends with it, as in a PID
        // namespace (the other holders are killed by the task).
        for st in shared.states() {
            if st.pid != start.pid {
                st.kill(128 + super::signals::SIGKILL, &shared.engine);
            }
        }
    }
    // Wait for children the guest did not wait for, so their output is complete.
    let orphans: Vec<_> = store.data_mut().children.drain().collect();
    drop(store);
    for (_, rx) in orphans {
        let _ = rx.recv();
    }
    if let Some(status) = me.killed() {
        return Ok(status);
    }
    if shared.oom.load(Ordering::SeqCst) && result.is_err() {
        return Ok(STATUS_KILLED); // out of memory: killed, as the kernel's OOM killer would
    }
    Ok(match result {
        Ok(()) => 0,
        Err(e) => {
            if let Some(exit) = e.downcast_ref::<wasi_common::I32Exit>() {
                exit.0
            } else if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
                STATUS_KILLED
            } else {
                let trap =
                    e.downcast_ref::<Trap>().map(|t| t.to_string()).unwrap_or_else(|| format!("{:#}", e.root_cause()));
                eprintln!("{}: guest trapped: {trap}", prog.argv[0]);
                STATUS_TRAPPED
            }
        }
    })
}

// ---- guest memory helpers -------------------------------------------------------------

fn memory(caller: &mut Caller<'_, Proc>) -> Option<wasmtime::Memory> {
    caller.get_export("memory").and_then(|e| e.into_memory())
}

pub(super) fn read_bytes(caller: &mut Caller<'_, Proc>, ptr: i32, len: i32) -> Result<Vec<u8>, i32> {
    let mem = memory(caller).ok_or(EFAULT)?;
    let (ptr, len) = (ptr as u32 as usize, len as u32 as usize);
    mem.data(&caller).get(ptr..ptr.checked_add(len).ok_or(EFAULT)?).map(|s| s.to_vec()).ok_or(EFAULT)
}

pub(super) fn write_bytes(caller: &mut Caller<'_, Proc>, ptr: i32, data: &[u8]) -> Result<(), i32> {
    let mem = memory(caller).ok_or(EFAULT)?;
    let ptr = ptr as u32 as usize;
    let dst = mem.data_mut(caller).get_mut(ptr..ptr + data.len()).ok_or(EFAULT)?;
    dst.copy_from_slice(data);
    Ok(())
}

pub(super) fn read_string(caller: &mut Caller<'_, Proc>, ptr: i32, len: i32) -> Result<String, i32> {
    String::from_utf8(read_bytes(caller, ptr, len)?).map_err(|_| EINVAL)
}

fn nul_list(bytes: &[u8]) -> Result<Vec<String>, i32> {
    bytes
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8(s.to_vec()).map_err(|_| EINVAL))
        .collect()
}

pub(super) fn result(r: Result<i32, i32>) -> i32 {
    match r {
        Ok(v) => v,
        Err(errno) => -errno,
    }
}

/// The WASI errno of a union-view or host error: the one mapping `fs.rs` uses for WASI's
/// own calls, so an import and `path_open` give the same errno for the same failure.
pub(super) fn io_errno(e: &std::io::Error) -> i32 {
    super::fs::errno_of(e) as i32
}

// ---- imports ---------------------------------------------------------------------------

#[allow(clippy::too_many_arguments)]
fn imp_spawn(
    mut caller: Caller<'_, Proc>,
    argv_ptr: i32,
    argv_len: i32,
    env_ptr: i32,
    env_len: i32,
    cwd_ptr: i32,
    cwd_len: i32,
    stdio_ptr: i32,
    stdio_len: i32,
) -> i32 {
    result((|| {
        let argv = nul_list(&read_bytes(&mut caller, argv_ptr, argv_len)?)?;
        let env = nul_list(&read_bytes(&mut caller, env_ptr, env_len)?)?;
        let cwd = read_string(&mut caller, cwd_ptr, cwd_len)?;
        let specs = nul_list(&read_bytes(&mut caller, stdio_ptr, stdio_len)?)?;
        if argv.is_empty() || specs.len() != 3 || !cwd.starts_with('/') {
            return Err(EINVAL);
        }
        let shared = caller.data().shared.clone();
        let prog = find_program(&shared, &argv, &env, &cwd).map_err(|e| match e {
            NotRunnable::NotFound | NotRunnable::NoSuchFile => ENOENT,
            NotRunnable::Permission => EACCES,
            NotRunnable::Format => ENOEXEC,
        })?;
        // `--pids-limit`: every guest process is a host thread.
        if shared.states().len() >= shared.pids_limit {
            return Err(EAGAIN);
        }
        let stdio = child_stdio(caller.data_mut(), &specs)?;
        let pid = shared.pids.next();
        let (tx, rx) = mpsc::channel();
        let sh = shared.clone();
        let start = Start { pid, ppid: caller.data().pid, init: false, id: caller.data().id.clone() };
        let st = Arc::new(ProcState::new(pid, start.ppid, false));
        // In the table before the child's thread runs: the parent may signal it at once
        // (`sleep 9 & kill $!`).
        shared.track(pid, Some((entry_for(&start, &prog), st.clone())));
        std::thread::Builder::new()
            .name(format!("pid-{pid}"))
            .stack_size(4 << 20)
            .spawn(move || {
                let code = run_as(&sh, start, st, &prog, &env, &cwd, stdio);
                let _ = tx.send(code);
            })
            .map_err(|_| EAGAIN)?;
        caller.data_mut().children.insert(pid, rx);
        Ok(pid)
    })())
}

/// Turn the three stdio specs of a spawn request into streams, moving pipe ends out of `p`.
fn child_stdio(p: &mut Proc, specs: &[String]) -> Result<[Stream; 3], i32> {
    let mut out: Vec<Stream> = Vec::with_capacity(3);
    for (fd, spec) in specs.iter().enumerate() {
        let (kind, arg) = spec.split_once(':').unwrap_or((spec.as_str(), ""));
        let s = match kind {
            "inherit" => p.stdio[fd].clone(),
            "null" => Stream::Null,
            "pipe" => {
                let h: i32 = arg.parse().map_err(|_| EINVAL)?;
                match (fd, p.pipes.remove(&h)) {
                    (0, Some(PipeEnd::Read(r))) => Stream::Read(r),
                    (1 | 2, Some(PipeEnd::Write(w))) => Stream::Write(w),
                    (_, Some(end)) => {
                        p.pipes.insert(h, end);
                        return Err(EBADF);
                    }
                    (_, None) => return Err(EBADF),
                }
            }
            "file" => {
                let (mode, path) = arg.split_once(':').ok_or(EINVAL)?;
                let opts = match mode {
                    "r" => OpenOpts { read: true, ..Default::default() },
                    "w" => OpenOpts { write: true, create: true, truncate: true, ..Default::default() },
                    "a" => OpenOpts { write: true, create: true, append: true, ..Default::default() },
                    "rw" => OpenOpts { read: true, write: true, create: true, ..Default::default() },
                    _ => return Err(EINVAL),
                };
                let f = p.shared.fs.open(path, &opts).map_err(|e| io_errno(&e))?;
                if mode == "r" {
                    Stream::reader(f)
                } else {
                    Stream::writer(f)
                }
            }
            "dup" => {
                let n: usize = arg.parse().map_err(|_| EINVAL)?;
                out.get(n).cloned().ok_or(EBADF)?
            }
            _ => return Err(EINVAL),
        };
        let ok = if fd == 0 { s.is_readable() } else { s.is_writable() };
        if !ok {
            return Err(EBADF);
        }
        out.push(s);
    }
    Ok([out.remove(0), out.remove(0), out.remove(0)])
}

/// `wait`: blocks until the child ends; `-EINTR` when a caught signal is pending (the child
/// stays waitable); a process being killed stops waiting (it traps).
fn imp_wait(mut caller: Caller<'_, Proc>, pid: i32, status_ptr: i32) -> wasmtime::Result<i32> {
    let Some(rx) = caller.data_mut().children.remove(&pid) else { return Ok(-ECHILD) };
    let me = caller.data().me.clone();
    loop {
        match rx.recv_timeout(std::time::Duration::from_millis(20)) {
            Ok(code) => {
                return Ok(result(write_bytes(&mut caller, status_ptr, &code.to_le_bytes()).map(|_| 0)));
            }
            // A child thread always sends its status before it ends; a closed channel means
            // it panicked, which is reported like a trap.
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Ok(result(write_bytes(&mut caller, status_ptr, &STATUS_TRAPPED.to_le_bytes()).map(|_| 0)));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => match me.interrupted() {
                Some(Wake::Killed(_)) => {
                    caller.data_mut().children.insert(pid, rx);
                    return Err(Trap::Interrupt.into());
                }
                Some(_) => {
                    caller.data_mut().children.insert(pid, rx);
                    return Ok(-EINTR);
                }
                None => {}
            },
        }
    }
}

fn imp_pipe(mut caller: Caller<'_, Proc>, out_ptr: i32) -> i32 {
    result((|| {
        let (r, w) = std::io::pipe().map_err(|e| io_errno(&e))?;
        let p = caller.data_mut();
        let (rh, wh) = (p.next_handle, p.next_handle + 1);
        p.next_handle += 2;
        p.pipes.insert(rh, PipeEnd::Read(ReadPipe::new(Box::new(r))));
        p.pipes.insert(wh, PipeEnd::Write(WritePipe::new(Box::new(w))));
        let mut buf = [0u8; 8];
        buf[..4].copy_from_slice(&rh.to_le_bytes());
        buf[4..].copy_from_slice(&wh.to_le_bytes());
        if let Err(e) = write_bytes(&mut caller, out_ptr, &buf) {
            let p = caller.data_mut();
            p.pipes.remove(&rh);
            p.pipes.remove(&wh);
            return Err(e);
        }
        Ok(0)
    })())
}

fn imp_pipe_fd(mut caller: Caller<'_, Proc>, handle: i32) -> i32 {
    result((|| {
        use wasi_common::file::FileAccessMode;
        let p = caller.data_mut();
        let (file, mode): (Box<dyn wasi_common::WasiFile>, _) = match p.pipes.remove(&handle).ok_or(EBADF)? {
            PipeEnd::Read(r) => (Box::new(r), FileAccessMode::READ),
            PipeEnd::Write(w) => (Box::new(w), FileAccessMode::WRITE),
        };
        let fd = p.wasi.push_file(file, mode).map_err(|_| 33 /* EMFILE */)?;
        Ok(fd as i32)
    })())
}

fn imp_pipe_close(mut caller: Caller<'_, Proc>, handle: i32) -> i32 {
    match caller.data_mut().pipes.remove(&handle) {
        Some(_) => 0,
        None => -EBADF,
    }
}

fn imp_stat(mut caller: Caller<'_, Proc>, path_ptr: i32, path_len: i32, follow: i32, out_ptr: i32) -> i32 {
    result((|| {
        let path = read_string(&mut caller, path_ptr, path_len)?;
        let m = caller.data().shared.fs.metadata(&path, follow != 0).map_err(|e| io_errno(&e))?;
        let mut buf = [0u8; 32];
        buf[0..4].copy_from_slice(&m.mode.to_le_bytes());
        buf[4..8].copy_from_slice(&m.uid.to_le_bytes());
        buf[8..12].copy_from_slice(&m.gid.to_le_bytes());
        buf[12..16].copy_from_slice(&m.nlink.to_le_bytes());
        buf[16..24].copy_from_slice(&m.size.to_le_bytes());
        buf[24..32].copy_from_slice(&m.mtime.to_le_bytes());
        write_bytes(&mut caller, out_ptr, &buf)?;
        Ok(0)
    })())
}

fn imp_chmod(mut caller: Caller<'_, Proc>, path_ptr: i32, path_len: i32, mode: i32) -> i32 {
    result((|| {
        let path = read_string(&mut caller, path_ptr, path_len)?;
        let fs = caller.data().shared.fs.clone();
        if fs.metadata(&path, true).map_err(|e| io_errno(&e))?.kind == Kind::Symlink {
            return Err(EINVAL);
        }
        fs.chmod(&path, mode as u32 & 0o7777).map_err(|e| io_errno(&e))?;
        Ok(0)
    })())
}
