//! The POSIX-like `skiff` imports of guest ABI version 2 (`docs/guest-abi.md`): signals
//! (`kill`, `sig_action`, `sig_take`, `sleep_ms`), PIDs, the container's process table
//! (`proc_list`), identity (`ids`, `chown`), the terminal (`tty_size`, `tty_mode`) and the
//! container's resources (`sysinfo`).

use super::process::{read_string, result, write_bytes, Proc};
use super::signals::{Action, Wake};
use super::tty::Mode;
use std::time::Duration;
use wasmtime::{Caller, Linker, Trap};

const EFAULT: i32 = 21;
const EINTR: i32 = 27;
const EINVAL: i32 = 28;
const ENOTTY: i32 = 59;
const EPERM: i32 = 63;

/// Add the imports to `l`.
pub fn add_to_linker(l: &mut Linker<Proc>) -> wasmtime::Result<()> {
    l.func_wrap("skiff", "kill", imp_kill)?;
    l.func_wrap("skiff", "sig_action", imp_sig_action)?;
    l.func_wrap("skiff", "sig_take", |c: Caller<'_, Proc>| c.data().me.take())?;
    l.func_wrap("skiff", "sleep_ms", imp_sleep)?;
    l.func_wrap("skiff", "getpid", |c: Caller<'_, Proc>| c.data().me.pid)?;
    l.func_wrap("skiff", "getppid", |c: Caller<'_, Proc>| c.data().me.ppid)?;
    l.func_wrap("skiff", "proc_list", imp_proc_list)?;
    l.func_wrap("skiff", "ids", imp_ids)?;
    l.func_wrap("skiff", "chown", imp_chown)?;
    l.func_wrap("skiff", "tty_size", imp_tty_size)?;
    l.func_wrap("skiff", "tty_mode", imp_tty_mode)?;
    l.func_wrap("skiff", "sysinfo", imp_sysinfo)?;
    Ok(())
}

fn imp_kill(caller: Caller<'_, Proc>, pid: i32, sig: i32) -> i32 {
    let shared = caller.data().shared.clone();
    // From inside the container, init takes KILL and STOP no more than other signals it does
    // not handle (only its parent namespace can force them).
    if pid == 1 && (sig == super::signals::SIGKILL || sig == super::signals::SIGSTOP) {
        return match shared.state(1) {
            Some(_) => 0,
            None => result(shared.kill(1, 0).map(|_| 0)),
        };
    }
    result(shared.kill(pid, sig).map(|_| 0))
}

fn imp_sig_action(caller: Caller<'_, Proc>, sig: i32, action: i32) -> i32 {
    let a = match action {
        0 => Action::Default,
        1 => Action::Ignore,
        2 => Action::Catch,
        _ => return -EINVAL,
    };
    match caller.data().me.set_action(sig, a) {
        Some(prev) => prev as i32,
        None => -EINVAL,
    }
}

fn imp_sleep(caller: Caller<'_, Proc>, ms: i64) -> wasmtime::Result<i32> {
    let me = caller.data().me.clone();
    match me.sleep(Duration::from_millis(ms.max(0) as u64)) {
        Wake::Time => Ok(0),
        Wake::Signal => Ok(-EINTR),
        Wake::Killed(_) => Err(Trap::Interrupt.into()),
    }
}

/// Write `text` if it fits in `out_len`; return its length either way.
fn text_out(caller: &mut Caller<'_, Proc>, out_ptr: i32, out_len: i32, text: &str) -> Result<i32, i32> {
    if text.len() <= out_len.max(0) as usize {
        write_bytes(caller, out_ptr, text.as_bytes())?;
    }
    i32::try_from(text.len()).map_err(|_| EFAULT)
}

/// One `proc_list` line.
fn line(
    pid: i32,
    ppid: i32,
    uid: u32,
    state: char,
    start_ms: i64,
    cpu_ms: i64,
    rss_kb: u64,
    argv: &[String],
) -> String {
    let args: String = argv.join(" ").replace(['\t', '\n'], " ");
    format!("{pid}\t{ppid}\t{uid}\t{state}\t{start_ms}\t{cpu_ms}\t{rss_kb}\t{args}\n")
}

fn imp_proc_list(mut caller: Caller<'_, Proc>, out_ptr: i32, out_len: i32) -> i32 {
    let shared = caller.data().shared.clone();
    let me = caller.data().me.pid;
    let mut rows: Vec<(i32, String)> = Vec::new();
    // Here: live figures.
    let states = shared.states();
    for e in shared.entries() {
        let st = states.iter().find(|s| s.pid == e.pid);
        let state = match st {
            Some(s) if s.is_stopped() => 'T',
            Some(s) if s.killed().is_some() => 'Z',
            _ if e.pid == me => 'R',
            _ => 'S',
        };
        let (cpu, rss) =
            st.map(|s| (s.cpu_ms(), s.mem.load(std::sync::atomic::Ordering::Relaxed) / 1024)).unwrap_or((0, 0));
        rows.push((e.pid, line(e.pid, e.ppid, e.uid, state, e.start_ms, cpu, rss, &e.argv)));
    }
    // Held by the container's other host processes (the supervisor, other `exec`s).
    if let Some(dir) = &shared.procs_dir {
        let container = dir.parent().unwrap_or(dir);
        for (holder, entries) in super::holders::list(container, 0) {
            if holder == std::process::id() {
                continue;
            }
            for e in entries {
                rows.push((e.pid, line(e.pid, e.ppid, e.uid, 'S', e.start_ms, 0, 0, &e.argv)));
            }
        }
    }
    rows.sort_by_key(|(p, _)| *p);
    rows.dedup_by_key(|(p, _)| *p);
    let text: String = rows.into_iter().map(|(_, l)| l).collect();
    result(text_out(&mut caller, out_ptr, out_len, &text))
}

fn imp_ids(mut caller: Caller<'_, Proc>, out_ptr: i32, out_len: i32) -> i32 {
    let id = caller.data().id.clone();
    let room = (out_len.max(0) as usize).saturating_sub(3);
    let mut v = vec![id.uid, id.gid, id.groups.len().min(room) as u32];
    v.extend(id.groups.iter().take(room));
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    result(write_bytes(&mut caller, out_ptr, &bytes).map(|_| v.len() as i32))
}

fn imp_chown(mut caller: Caller<'_, Proc>, path_ptr: i32, path_len: i32, uid: u32, gid: u32, follow: i32) -> i32 {
    result((|| {
        let path = read_string(&mut caller, path_ptr, path_len)?;
        let id = caller.data().id.clone();
        let fs = caller.data().shared.fs.clone();
        let meta = fs.metadata(&path, follow != 0).map_err(|e| super::process::io_errno(&e))?;
        let uid = (uid != u32::MAX).then_some(uid);
        let gid = (gid != u32::MAX).then_some(gid);
        // As Linux: only root gives files away; an owner may change the group to one of its own.
        if id.uid != 0 {
            let own_group = |g: u32| g == id.gid || id.groups.contains(&g);
            if uid.is_some_and(|u| u != meta.uid) || meta.uid != id.uid || gid.is_some_and(|g| !own_group(g)) {
                return Err(EPERM);
            }
        }
        fs.chown(&path, uid, gid, follow != 0).map_err(|e| super::process::io_errno(&e))?;
        Ok(0)
    })())
}

fn imp_tty_size(mut caller: Caller<'_, Proc>, fd: i32, out_ptr: i32) -> i32 {
    let Some(tty) = caller.data().shared.tty.clone() else { return -ENOTTY };
    if !(0..=2).contains(&fd) {
        return -ENOTTY;
    }
    let (rows, cols) = tty.size();
    let mut b = [0u8; 4];
    b[..2].copy_from_slice(&rows.to_le_bytes());
    b[2..].copy_from_slice(&cols.to_le_bytes());
    result(write_bytes(&mut caller, out_ptr, &b).map(|_| 0))
}

fn imp_tty_mode(caller: Caller<'_, Proc>, fd: i32, mode: i32) -> i32 {
    let Some(tty) = caller.data().shared.tty.clone() else { return -ENOTTY };
    if !(0..=2).contains(&fd) {
        return -ENOTTY;
    }
    let m = match mode {
        0 => Mode::Cooked,
        1 => Mode::Raw,
        _ => return -EINVAL,
    };
    tty.set_mode(m) as i32
}

fn imp_sysinfo(mut caller: Caller<'_, Proc>, out_ptr: i32, out_len: i32) -> i32 {
    let shared = caller.data().shared.clone();
    let text = super::sysinfo::text(&shared);
    result(text_out(&mut caller, out_ptr, out_len, &text))
}
