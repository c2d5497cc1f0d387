//! The few Linux system calls the native backend makes itself (mounting the overlay root,
//! whiteout devices, xattrs, reaping the container's init as a subreaper, waiting for the
//! runtime's PID file, receiving the console's pty): thin, checked wrappers over libc, each
//! returning `io::Result`. Namespaces, cgroups and the container process itself are the OCI
//! runtime's job, not ours.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn cstr(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `mount -t overlay overlay -o <options> target`.
pub fn mount_overlay(target: &Path, options: &str) -> io::Result<()> {
    let t = cstr(target)?;
    let opts = CString::new(options).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: all pointers are valid NUL-terminated strings for the duration of the call.
    check(unsafe {
        libc::mount(c"overlay".as_ptr(), t.as_ptr(), c"overlay".as_ptr(), 0, opts.as_ptr() as *const libc::c_void)
    })
}

/// `mount -t <fstype> <source> target -o <options>` (cgroup hierarchies).
pub fn mount(source: &str, target: &Path, fstype: &str, options: &str) -> io::Result<()> {
    let (s, t) = (CString::new(source)?, cstr(target)?);
    let (f, o) = (CString::new(fstype)?, CString::new(options)?);
    // SAFETY: valid NUL-terminated strings.
    check(unsafe { libc::mount(s.as_ptr(), t.as_ptr(), f.as_ptr(), 0, o.as_ptr() as *const libc::c_void) })
}

/// Detach a mount (lazily, so a busy one still goes).
pub fn unmount(target: &Path) -> io::Result<()> {
    let t = cstr(target)?;
    // SAFETY: valid NUL-terminated string.
    check(unsafe { libc::umount2(t.as_ptr(), libc::MNT_DETACH) })
}

/// Whether `p` is a mount point: the root of a mount, as `statx` tells (Linux 5.8), else by
/// /proc/self/mountinfo (whose reading costs the kernel a line per mount on the host).
pub fn is_mount_point(p: &Path) -> bool {
    if let Ok(c) = cstr(p) {
        // SAFETY: statx is plain data; a valid path and out pointer.
        let mut st: libc::statx = unsafe { std::mem::zeroed() };
        let flags = libc::AT_SYMLINK_NOFOLLOW | libc::AT_NO_AUTOMOUNT;
        // SAFETY: as above.
        let rc = unsafe { libc::statx(libc::AT_FDCWD, c.as_ptr(), flags, 0, &mut st) };
        if rc < 0 {
            return false; // absent (or unreadable): nothing mounted there
        }
        let bit = libc::STATX_ATTR_MOUNT_ROOT as u64;
        if st.stx_attributes_mask & bit != 0 {
            return st.stx_attributes & bit != 0;
        }
    }
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else { return false };
    let want = p.to_string_lossy();
    info.lines().any(|l| l.split(' ').nth(4).is_some_and(|m| unescape_mountinfo(m) == want))
}

/// mountinfo escapes space, tab, newline and backslash as octal (`\040`).
pub fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An overlayfs whiteout: a character device 0/0 named like the hidden entry.
pub fn mknod_whiteout(p: &Path) -> io::Result<()> {
    let c = cstr(p)?;
    // SAFETY: valid path; mknod with S_IFCHR and device 0 creates a whiteout.
    check(unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o000, 0) })
}

/// A device node (a layer's `/dev` entries), `kind` being `S_IFCHR`, `S_IFBLK` or `S_IFIFO`.
pub fn mknod(p: &Path, kind: libc::mode_t, mode: u32, major: u32, minor: u32) -> io::Result<()> {
    let c = cstr(p)?;
    // SAFETY: valid path and a device number built by libc.
    check(unsafe { libc::mknod(c.as_ptr(), kind | (mode & 0o7777) as libc::mode_t, libc::makedev(major, minor)) })
}

/// Set an extended attribute on `p` itself (not following a symlink).
pub fn lsetxattr(p: &Path, name: &str, value: &[u8]) -> io::Result<()> {
    let (c, n) = (cstr(p)?, CString::new(name)?);
    // SAFETY: valid strings and a buffer of `value.len()` bytes.
    check(unsafe { libc::lsetxattr(c.as_ptr(), n.as_ptr(), value.as_ptr() as *const libc::c_void, value.len(), 0) })
}

/// Set owner of `p` itself (not following a symlink).
pub fn lchown(p: &Path, uid: u32, gid: u32) -> io::Result<()> {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid))
}

/// Set access and modification times of `p` itself.
pub fn lutimes(p: &Path, mtime: i64) -> io::Result<()> {
    let c = cstr(p)?;
    let t = libc::timespec { tv_sec: mtime as libc::time_t, tv_nsec: 0 };
    let times = [t, t];
    // SAFETY: valid path and two timespecs.
    check(unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) })
}

/// Become the reaper of orphaned descendants: the container's init, forked by the OCI
/// runtime which then exits, becomes our child, so we wait for it and see how it ended.
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: prctl with integer arguments.
    check(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) })
}

/// How a child process ended: its exit status, or 128+N for signal N (as shells report).
pub fn wait_pid(pid: i32) -> io::Result<i32> {
    loop {
        let mut status = 0;
        // SAFETY: a valid out pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if libc::WIFEXITED(status) {
            return Ok(libc::WEXITSTATUS(status));
        }
        if libc::WIFSIGNALED(status) {
            return Ok(128 + libc::WTERMSIG(status));
        }
    }
}

/// Waits for a file to be written whole in a directory (inotify: closed after writing, or
/// renamed in), or for a child process to exit, whichever comes first.
pub struct FileWatch {
    inotify: std::os::fd::OwnedFd,
    name: std::ffi::OsString,
}

/// Whether child `pid` has exited (it is left unreaped).
fn exited(pid: u32) -> bool {
    // SAFETY: siginfo_t is plain data; waitid with WNOWAIT only looks.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
    // SAFETY: a valid out pointer.
    let rc = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) };
    // SAFETY: si_pid is set when waitid reports a child; zero otherwise (zeroed above).
    rc < 0 || unsafe { info.si_pid() } != 0
}

impl FileWatch {
    /// Watch `dir` for `name`; made before whatever writes it starts, so no event is missed.
    pub fn new(dir: &Path, name: &str) -> io::Result<FileWatch> {
        use std::os::fd::FromRawFd;
        // SAFETY: inotify_init1 with flags only.
        let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
        check(fd)?;
        // SAFETY: a fresh descriptor we own.
        let inotify = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        let d = cstr(dir)?;
        // SAFETY: a valid descriptor and path.
        check(unsafe { libc::inotify_add_watch(fd, d.as_ptr(), libc::IN_CLOSE_WRITE | libc::IN_MOVED_TO) })?;
        Ok(FileWatch { inotify, name: name.into() })
    }

    /// Block until the file has been written (true) or process `pid`, our child, has exited
    /// (false; it is left for the caller to reap).
    pub fn wait(&self, pid: u32) -> io::Result<bool> {
        use std::os::fd::{AsRawFd, FromRawFd};
        // SAFETY: pidfd_open with a PID and no flags; the child is not reaped yet, so the PID
        // is still ours.
        let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) } as libc::c_int;
        // Before Linux 5.3 there is no pidfd: look at the child every 10 ms instead.
        // SAFETY: a fresh descriptor we own.
        let pidfd = (raw >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) });
        let mut fds = [
            libc::pollfd { fd: self.inotify.as_raw_fd(), events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: pidfd.as_ref().map_or(-1, |p| p.as_raw_fd()), events: libc::POLLIN, revents: 0 },
        ];
        let mut buf = [0u64; 512];
        loop {
            if pidfd.is_none() && exited(pid) {
                return Ok(false);
            }
            let timeout = if pidfd.is_some() { -1 } else { 10 };
            // SAFETY: two valid pollfds (a negative fd is skipped).
            let rc = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout) };
            if rc < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if fds[0].revents != 0 && self.seen(&mut buf)? {
                return Ok(true);
            }
            if fds[1].revents != 0 {
                return Ok(false);
            }
        }
    }

    /// Read the pending events; whether one names our file.
    fn seen(&self, buf: &mut [u64; 512]) -> io::Result<bool> {
        use std::os::fd::AsRawFd;
        let mut found = false;
        loop {
            // SAFETY: reading into a buffer of the given size, aligned for inotify_event.
            let n = unsafe {
                libc::read(self.inotify.as_raw_fd(), buf.as_mut_ptr() as *mut libc::c_void, std::mem::size_of_val(buf))
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                return if e.kind() == io::ErrorKind::WouldBlock { Ok(found) } else { Err(e) };
            }
            // SAFETY: the kernel wrote `n` bytes of whole inotify_event records.
            let bytes = unsafe { std::slice::from_raw_parts(buf.as_ptr() as *const u8, n as usize) };
            let mut off = 0;
            let head = std::mem::size_of::<libc::inotify_event>();
            while off + head <= bytes.len() {
                // SAFETY: a whole record starts at `off`; read_unaligned copies its header.
                let ev: libc::inotify_event = unsafe { std::ptr::read_unaligned(bytes[off..].as_ptr() as *const _) };
                let name = &bytes[off + head..(off + head + ev.len as usize).min(bytes.len())];
                let name = name.split(|b| *b == 0).next().unwrap_or_default();
                found |= name == self.name.as_bytes();
                off += head + ev.len as usize;
            }
        }
    }
}

/// Reap any other exited children (orphans of the container's processes land here).
pub fn reap_others() {
    loop {
        let mut status = 0;
        // SAFETY: a valid out pointer; WNOHANG never blocks.
        let rc = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if rc <= 0 {
            return;
        }
    }
}

/// Send host signal `sig` to `pid`.
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill(2) with integers.
    check(unsafe { libc::kill(pid, sig) })
}

/// Receive one file descriptor sent with SCM_RIGHTS over a Unix stream (the OCI runtime's
/// console socket hands us the pty master this way).
pub fn recv_fd(sock: &std::os::unix::net::UnixStream) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let mut data = [0u8; 256];
    let mut iov = libc::iovec { iov_base: data.as_mut_ptr() as *mut libc::c_void, iov_len: data.len() };
    // Room for one cmsghdr with one int, aligned.
    let mut cbuf = [0u64; 8];
    // SAFETY: msghdr is plain data; every pointer set below points into live locals.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = std::mem::size_of_val(&cbuf) as _;
    // SAFETY: a valid socket and msghdr.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: walking the control buffer the kernel filled, with libc's macros.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let fd = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::c_int);
                return Ok(std::os::fd::OwnedFd::from_raw_fd(fd));
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Err(io::Error::other("the console socket sent no file descriptor"))
}

/// Set the terminal size of `fd` (the pty master: the container sees it, and a SIGWINCH).
pub fn set_tty_size(fd: i32, rows: u16, cols: u16) {
    let ws = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: a valid winsize.
    unsafe {
        libc::ioctl(fd, libc::TIOCSWINSZ, &ws);
    }
}

/// A new network namespace, kept by bind-mounting it on `path` (an empty file made here):
/// a thread unshares its own network namespace and pins it, then ends.
pub fn new_netns(path: &Path) -> io::Result<()> {
    std::fs::File::create(path)?;
    let p = path.to_path_buf();
    let pinned = std::thread::spawn(move || -> io::Result<()> {
        // SAFETY: unshare affects only this thread, which ends right after.
        check(unsafe { libc::unshare(libc::CLONE_NEWNET) })?;
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        bind_mount(Path::new(&format!("/proc/self/task/{tid}/ns/net")), &p)
    })
    .join()
    .map_err(|_| io::Error::other("the namespace thread panicked"))?;
    if pinned.is_err() {
        let _ = std::fs::remove_file(path);
    }
    pinned
}

/// `mount --bind source target`.
pub fn bind_mount(source: &Path, target: &Path) -> io::Result<()> {
    let (s, t) = (cstr(source)?, cstr(target)?);
    // SAFETY: valid NUL-terminated strings; no data argument for a bind mount.
    check(unsafe { libc::mount(s.as_ptr(), t.as_ptr(), std::ptr::null(), libc::MS_BIND, std::ptr::null()) })
}

/// Run `f` on a thread inside the network namespace pinned at `netns` (sockets it makes stay
/// in that namespace).
pub fn in_netns<T: Send + 'static>(netns: &Path, f: impl FnOnce() -> io::Result<T> + Send + 'static) -> io::Result<T> {
    let ns = std::fs::File::open(netns)?;
    std::thread::spawn(move || -> io::Result<T> {
        use std::os::fd::AsRawFd;
        // SAFETY: setns with an open namespace file affects only this thread.
        check(unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) })?;
        f()
    })
    .join()
    .map_err(|_| io::Error::other("the namespace thread panicked"))?
}
