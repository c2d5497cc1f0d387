//! The union filesystem presented to WASI guests: wasi-common's `WasiDir`/`WasiFile` over
//! `UnionFs` (the only place that knows wasi-common's filesystem traits).

use std::any::Any;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use wasi_common::dir::{OpenResult, ReaddirCursor, ReaddirEntity, WasiDir};
use wasi_common::file::{Advice, FdFlags, FileType, Filestat, OFlags, WasiFile};
use wasi_common::snapshots::preview_1::types::Errno;
use wasi_common::{Error, SystemTimeSpec};

use crate::unionfs::{self, code_of, Code, Kind, Meta, OpenOpts, Opened, SetTime, UnionFs};

/// The container root, to preopen as "/": `ctx.push_preopened_dir(root_dir(fs), "/")`.
pub fn root_dir(fs: Arc<UnionFs>) -> Box<dyn WasiDir> {
    Box::new(UnionDir::new(fs, "/".to_string()))
}

/// The WASI errno for an error of the union filesystem (or any io error).
pub fn errno_of(e: &io::Error) -> Errno {
    match code_of(e) {
        Code::NoEnt => Errno::Noent,
        Code::Exist => Errno::Exist,
        Code::NotDir => Errno::Notdir,
        Code::IsDir => Errno::Isdir,
        Code::NotEmpty => Errno::Notempty,
        Code::XDev => Errno::Xdev,
        Code::Loop => Errno::Loop,
        Code::Perm => Errno::Perm,
        Code::Acces => Errno::Acces,
        Code::RoFs => Errno::Rofs,
        Code::Inval => Errno::Inval,
        Code::Busy => Errno::Busy,
        Code::NotSup => Errno::Notsup,
        Code::Io => Errno::Io,
    }
}

/// Always an errno, never a trap: wasi-common turns unmapped io errors into traps.
fn wasi_err(e: io::Error) -> Error {
    Error::from(errno_of(&e)).context(e.to_string())
}

fn filetype_of(kind: Kind) -> FileType {
    match kind {
        Kind::File => FileType::RegularFile,
        Kind::Dir => FileType::Directory,
        Kind::Symlink => FileType::SymbolicLink,
        Kind::Other => FileType::Unknown,
    }
}

fn filestat_of(m: &Meta) -> Filestat {
    let mtime = UNIX_EPOCH + Duration::new(m.mtime.max(0) as u64, m.mtime_nsec);
    Filestat {
        device_id: 0,
        inode: m.ino,
        filetype: filetype_of(m.kind),
        nlink: u64::from(m.nlink),
        size: m.size,
        atim: Some(mtime),
        mtim: Some(mtime),
        ctim: Some(mtime),
    }
}

/// A directory of the union view, known by its canonical virtual path, so that `..` in a
/// path relative to it resolves through the virtual tree.
pub struct UnionDir {
    fs: Arc<UnionFs>,
    vpath: String,
    /// The merged listing taken at cookie 0, so later cookies index a stable list.
    listing: Mutex<Option<Arc<Listing>>>,
}

/// A directory's listing as `readdir` hands it out: ".", "..", then the merged entries (cookie
/// = position + 1). Names stay where the view keeps them until an entry is handed out.
struct Listing {
    dot: u64,
    dotdot: u64,
    entries: unionfs::DirList,
}

impl Listing {
    fn len(&self) -> usize {
        self.entries.len() + 2
    }

    /// The entry at position `i`.
    fn entity(&self, i: usize) -> Option<ReaddirEntity> {
        let (name, filetype, inode) = match i {
            0 => (".", FileType::Directory, self.dot),
            1 => ("..", FileType::Directory, self.dotdot),
            _ => self.entries.get(i - 2).map(|(name, kind, ino)| (name, filetype_of(kind), ino))?,
        };
        Some(ReaddirEntity { next: ReaddirCursor::from(i as u64 + 1), inode, name: name.to_string(), filetype })
    }
}

impl UnionDir {
    pub fn new(fs: Arc<UnionFs>, vpath: String) -> Self {
        UnionDir { fs, vpath, listing: Mutex::new(None) }
    }

    /// The virtual path of `path` relative to this directory.
    fn path(&self, path: &str) -> Result<String, Error> {
        if path.is_empty() {
            return Err(Error::from(Errno::Noent).context("empty path"));
        }
        Ok(unionfs::join(&self.vpath, path))
    }

    fn snapshot(&self) -> Result<Arc<Listing>, Error> {
        let entries = self.fs.list_dir(&self.vpath).map_err(wasi_err)?;
        // `vpath` is canonical, so its parent is the path without the last component ("/" at
        // the root: `..` is clamped there).
        let parent = match self.vpath.rfind('/') {
            Some(0) | None => "/",
            Some(i) => &self.vpath[..i],
        };
        Ok(Arc::new(Listing { dot: unionfs::ino_of(&self.vpath), dotdot: unionfs::ino_of(parent), entries }))
    }
}

fn open_opts(follow: bool, oflags: OFlags, read: bool, write: bool, fdflags: FdFlags) -> OpenOpts {
    let create = oflags.contains(OFlags::CREATE);
    OpenOpts {
        read: read || !write,
        write,
        append: fdflags.contains(FdFlags::APPEND),
        create: create && !oflags.contains(OFlags::EXCLUSIVE),
        create_new: create && oflags.contains(OFlags::EXCLUSIVE),
        truncate: oflags.contains(OFlags::TRUNCATE),
        follow,
    }
}

#[async_trait::async_trait]
impl WasiDir for UnionDir {
    fn as_any(&self) -> &dyn Any {
        self
    }

    async fn open_file(
        &self,
        symlink_follow: bool,
        path: &str,
        oflags: OFlags,
        read: bool,
        write: bool,
        fdflags: FdFlags,
    ) -> Result<OpenResult, Error> {
        let want_dir = oflags.contains(OFlags::DIRECTORY);
        if want_dir && oflags.intersects(OFlags::CREATE | OFlags::EXCLUSIVE | OFlags::TRUNCATE) {
            return Err(Error::from(Errno::Inval).context("directory oflags"));
        }
        let vpath = self.path(path)?;
        let opts = open_opts(symlink_follow, oflags, read, write, fdflags);
        // DSYNC/RSYNC/SYNC are accepted and ignored: durability is not part of the lesson.
        match self.fs.open_ex(&vpath, &opts).map_err(wasi_err)? {
            Opened::Dir(r) => Ok(OpenResult::Dir(Box::new(UnionDir::new(self.fs.clone(), r.path)))),
            Opened::File(_, r) if want_dir => {
                Err(Error::from(Errno::Notdir).context(format!("{}: not a directory", r.path)))
            }
            Opened::File(f, r) => {
                let file = cap_std::fs::File::from_std(f);
                let inner = wasi_common::sync::file::File::from_cap_std(file);
                let ino = unionfs::ino_of(&r.path);
                Ok(OpenResult::File(Box::new(UnionFile { inner, ino, fs: self.fs.clone(), vpath: r.path })))
            }
        }
    }

    async fn create_dir(&self, path: &str) -> Result<(), Error> {
        self.fs.create_dir(&self.path(path)?, 0o755).map_err(wasi_err)
    }

    async fn readdir(
        &self,
        cursor: ReaddirCursor,
    ) -> Result<Box<dyn Iterator<Item = Result<ReaddirEntity, Error>> + Send>, Error> {
        let start = u64::from(cursor);
        let list = {
            let mut cached = self.listing.lock().unwrap_or_else(|p| p.into_inner());
            match cached.as_ref() {
                Some(list) if start != 0 => list.clone(),
                _ => {
                    let list = self.snapshot()?;
                    *cached = Some(list.clone());
                    list
                }
            }
        };
        // wasi-common takes entries until the guest's buffer is full and drops the rest, so
        // hand them out one at a time from the snapshot (copying all of them on every call
        // made a listing quadratic in its length).
        let start = usize::try_from(start).unwrap_or(usize::MAX);
        Ok(Box::new((start..list.len()).filter_map(move |i| list.entity(i)).map(Ok)))
    }

    async fn symlink(&self, old_path: &str, new_path: &str) -> Result<(), Error> {
        self.fs.symlink(old_path, &self.path(new_path)?).map_err(wasi_err)
    }

    async fn remove_dir(&self, path: &str) -> Result<(), Error> {
        self.fs.remove_dir(&self.path(path)?).map_err(wasi_err)
    }

    async fn unlink_file(&self, path: &str) -> Result<(), Error> {
        self.fs.remove_file(&self.path(path)?).map_err(wasi_err)
    }

    async fn read_link(&self, path: &str) -> Result<PathBuf, Error> {
        self.fs.read_link(&self.path(path)?).map(PathBuf::from).map_err(wasi_err)
    }

    async fn get_filestat(&self) -> Result<Filestat, Error> {
        let meta = self.fs.metadata(&self.vpath, true).map_err(wasi_err)?;
        Ok(filestat_of(&meta))
    }

    async fn get_path_filestat(&self, path: &str, follow_symlinks: bool) -> Result<Filestat, Error> {
        let meta = self.fs.metadata(&self.path(path)?, follow_symlinks).map_err(wasi_err)?;
        Ok(filestat_of(&meta))
    }

    async fn rename(&self, path: &str, dest_dir: &dyn WasiDir, dest_path: &str) -> Result<(), Error> {
        let dest = dest_dir
            .as_any()
            .downcast_ref::<UnionDir>()
            .filter(|d| Arc::ptr_eq(&d.fs, &self.fs))
            .ok_or_else(|| Error::from(Errno::Xdev).context("rename to another filesystem"))?;
        self.fs.rename(&self.path(path)?, &dest.path(dest_path)?).map_err(wasi_err)
    }

    async fn hard_link(&self, path: &str, target_dir: &dyn WasiDir, target_path: &str) -> Result<(), Error> {
        let target = target_dir
            .as_any()
            .downcast_ref::<UnionDir>()
            .filter(|d| Arc::ptr_eq(&d.fs, &self.fs))
            .ok_or_else(|| Error::from(Errno::Xdev).context("link to another filesystem"))?;
        self.fs.hard_link(&self.path(path)?, &target.path(target_path)?).map_err(wasi_err)
    }

    async fn set_times(
        &self,
        path: &str,
        atime: Option<SystemTimeSpec>,
        mtime: Option<SystemTimeSpec>,
        follow_symlinks: bool,
    ) -> Result<(), Error> {
        self.fs.set_times(&self.path(path)?, set_time(atime), set_time(mtime), follow_symlinks).map_err(wasi_err)
    }
}

fn set_time(t: Option<SystemTimeSpec>) -> Option<SetTime> {
    t.map(|t| match t {
        SystemTimeSpec::SymbolicNow => SetTime::Now,
        SystemTimeSpec::Absolute(t) => SetTime::At(t.into_std()),
    })
}

/// A host file of the view: wasi-common's cap-std file, reporting the synthetic inode.
pub struct UnionFile {
    inner: wasi_common::sync::file::File,
    ino: u64,
    /// The view and the file's virtual path: changing its times goes through the view (copy
    /// up, `:ro` and permission checks), never to the host file the fd happens to hold — a
    /// read-only fd may be a shared image layer's file.
    fs: Arc<UnionFs>,
    vpath: String,
}

#[async_trait::async_trait]
impl WasiFile for UnionFile {
    fn as_any(&self) -> &dyn Any {
        self
    }
    async fn get_filetype(&self) -> Result<FileType, Error> {
        self.inner.get_filetype().await
    }
    #[cfg(unix)]
    fn pollable(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.inner.pollable()
    }
    fn isatty(&self) -> bool {
        self.inner.isatty()
    }
    async fn datasync(&self) -> Result<(), Error> {
        self.inner.datasync().await
    }
    async fn sync(&self) -> Result<(), Error> {
        self.inner.sync().await
    }
    async fn get_fdflags(&self) -> Result<FdFlags, Error> {
        self.inner.get_fdflags().await
    }
    async fn set_fdflags(&mut self, flags: FdFlags) -> Result<(), Error> {
        self.inner.set_fdflags(flags).await
    }
    async fn get_filestat(&self) -> Result<Filestat, Error> {
        let mut stat = self.inner.get_filestat().await?;
        stat.device_id = 0;
        stat.inode = self.ino;
        Ok(stat)
    }
    async fn set_filestat_size(&self, size: u64) -> Result<(), Error> {
        self.inner.set_filestat_size(size).await
    }
    async fn advise(&self, offset: u64, len: u64, advice: Advice) -> Result<(), Error> {
        self.inner.advise(offset, len, advice).await
    }
    async fn set_times(&self, atime: Option<SystemTimeSpec>, mtime: Option<SystemTimeSpec>) -> Result<(), Error> {
        self.fs.set_times(&self.vpath, set_time(atime), set_time(mtime), true).map_err(wasi_err)
    }
    async fn read_vectored<'a>(&self, bufs: &mut [io::IoSliceMut<'a>]) -> Result<u64, Error> {
        let n = self.inner.read_vectored(bufs).await?;
        super::iostat::blk_read(n);
        Ok(n)
    }
    async fn read_vectored_at<'a>(&self, bufs: &mut [io::IoSliceMut<'a>], offset: u64) -> Result<u64, Error> {
        self.inner.read_vectored_at(bufs, offset).await
    }
    async fn write_vectored<'a>(&self, bufs: &[io::IoSlice<'a>]) -> Result<u64, Error> {
        let n = self.inner.write_vectored(bufs).await?;
        super::iostat::blk_write(n);
        Ok(n)
    }
    async fn write_vectored_at<'a>(&self, bufs: &[io::IoSlice<'a>], offset: u64) -> Result<u64, Error> {
        self.inner.write_vectored_at(bufs, offset).await
    }
    async fn seek(&self, pos: io::SeekFrom) -> Result<u64, Error> {
        self.inner.seek(pos).await
    }
    async fn peek(&self, buf: &mut [u8]) -> Result<u64, Error> {
        self.inner.peek(buf).await
    }
    fn num_ready_bytes(&self) -> Result<u64, Error> {
        self.inner.num_ready_bytes()
    }
    async fn readable(&self) -> Result<(), Error> {
        self.inner.readable().await
    }
    async fn writable(&self) -> Result<(), Error> {
        self.inner.writable().await
    }
}

#[cfg(test)]
mod tests {
    //! Drives the `WasiDir` trait directly (no wasm needed) over layers built in a temp dir.

    use super::*;
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    /// The union FS never awaits anything, so polling once completes every call.
    fn block_on<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    fn errno<T>(r: Result<T, Error>) -> Errno {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => *e.downcast_ref().expect("an errno, not a trap"),
        }
    }

    struct Fx {
        _tmp: tempfile::TempDir,
        lower: std::path::PathBuf,
        upper: std::path::PathBuf,
        root: Box<dyn WasiDir>,
    }

    fn fixture() -> Fx {
        let tmp = tempfile::tempdir().unwrap();
        let lower = tmp.path().join("lower");
        let upper = tmp.path().join("upper");
        for (p, text) in [("etc/hosts", "127.0.0.1"), ("usr/bin/sh", "sh"), ("d/a", "a"), ("d/b", "b")] {
            let p = lower.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        std::fs::create_dir_all(&upper).unwrap();
        let fs = Arc::new(UnionFs::new(vec![lower.clone()], upper.clone()).unwrap());
        Fx { _tmp: tmp, lower, upper, root: root_dir(fs) }
    }

    fn open(dir: &dyn WasiDir, path: &str, oflags: OFlags, write: bool, fdflags: FdFlags) -> Result<OpenResult, Error> {
        block_on(dir.open_file(true, path, oflags, !write, write, fdflags))
    }

    fn file(r: OpenResult) -> Box<dyn WasiFile> {
        match r {
            OpenResult::File(f) => f,
            OpenResult::Dir(_) => panic!("expected a file"),
        }
    }

    fn dir(r: OpenResult) -> Box<dyn WasiDir> {
        match r {
            OpenResult::Dir(d) => d,
            OpenResult::File(_) => panic!("expected a directory"),
        }
    }

    fn read_all(f: &dyn WasiFile) -> String {
        let mut buf = vec![0u8; 256];
        let n = block_on(f.read_vectored(&mut [io::IoSliceMut::new(&mut buf)])).unwrap();
        String::from_utf8(buf[..n as usize].to_vec()).unwrap()
    }

    fn write_all(f: &dyn WasiFile, data: &str) {
        let n = block_on(f.write_vectored(&[io::IoSlice::new(data.as_bytes())])).unwrap();
        assert_eq!(n as usize, data.len());
    }

    fn names(d: &dyn WasiDir, cookie: u64) -> Vec<String> {
        block_on(d.readdir(ReaddirCursor::from(cookie))).unwrap().map(|e| e.unwrap().name).collect()
    }

    #[test]
    fn create_write_and_copy_up() {
        let fx = fixture();
        let f = file(open(&*fx.root, "etc/new", OFlags::CREATE | OFlags::TRUNCATE, true, FdFlags::empty()).unwrap());
        write_all(&*f, "hello");
        drop(f);
        assert_eq!(std::fs::read_to_string(fx.upper.join("etc/new")).unwrap(), "hello");
        let f = file(open(&*fx.root, "/etc/hosts", OFlags::empty(), true, FdFlags::APPEND).unwrap());
        write_all(&*f, " localhost");
        drop(f);
        assert_eq!(std::fs::read_to_string(fx.upper.join("etc/hosts")).unwrap(), "127.0.0.1 localhost");
        assert_eq!(std::fs::read_to_string(fx.lower.join("etc/hosts")).unwrap(), "127.0.0.1");
        let excl = OFlags::CREATE | OFlags::EXCLUSIVE;
        assert_eq!(errno(open(&*fx.root, "etc/new", excl, true, FdFlags::empty())), Errno::Exist);
        assert_eq!(errno(open(&*fx.root, "etc/.wh.x", OFlags::CREATE, true, FdFlags::empty())), Errno::Perm);
        assert_eq!(errno(open(&*fx.root, "etc/hosts", OFlags::DIRECTORY, false, FdFlags::empty())), Errno::Notdir);
        assert_eq!(errno(open(&*fx.root, "etc", OFlags::empty(), true, FdFlags::empty())), Errno::Isdir);
        assert_eq!(errno(open(&*fx.root, "nope/x", OFlags::CREATE, true, FdFlags::empty())), Errno::Noent);
        assert_eq!(errno(open(&*fx.root, "", OFlags::empty(), false, FdFlags::empty())), Errno::Noent);
    }

    #[test]
    fn opened_dirs_resolve_dotdot_virtually() {
        let fx = fixture();
        let bin = dir(open(&*fx.root, "usr/bin", OFlags::DIRECTORY, false, FdFlags::empty()).unwrap());
        let f = file(open(&*bin, "../../../../etc/hosts", OFlags::empty(), false, FdFlags::empty()).unwrap());
        assert_eq!(read_all(&*f), "127.0.0.1");
        let f = file(open(&*bin, "sh", OFlags::empty(), false, FdFlags::empty()).unwrap());
        assert_eq!(read_all(&*f), "sh");
        // fstat and stat agree on the synthetic inode.
        let by_fd = block_on(f.get_filestat()).unwrap();
        let by_path = block_on(fx.root.get_path_filestat("usr/bin/sh", true)).unwrap();
        assert_eq!((by_fd.inode, by_fd.filetype, by_fd.size), (by_path.inode, FileType::RegularFile, 2));
        let dstat = block_on(bin.get_filestat()).unwrap();
        assert_eq!((dstat.filetype, dstat.inode), (FileType::Directory, unionfs::ino_of("/usr/bin")));
    }

    #[test]
    fn readdir_is_merged_and_stable() {
        let fx = fixture();
        block_on(fx.root.unlink_file("d/a")).unwrap();
        let f = file(open(&*fx.root, "d/c", OFlags::CREATE, true, FdFlags::empty()).unwrap());
        drop(f);
        let d = dir(open(&*fx.root, "d", OFlags::DIRECTORY, false, FdFlags::empty()).unwrap());
        let all: Vec<ReaddirEntity> =
            block_on(d.readdir(ReaddirCursor::from(0))).unwrap().map(|e| e.unwrap()).collect();
        let got: Vec<(&str, u64)> = all.iter().map(|e| (e.name.as_str(), u64::from(e.next))).collect();
        assert_eq!(got, [(".", 1), ("..", 2), ("b", 3), ("c", 4)]);
        assert_eq!(all[2].inode, unionfs::ino_of("/d/b"));
        assert_eq!(all[1].inode, unionfs::ino_of("/"));
        // Resuming at a cookie uses the snapshot, even if the directory changed meanwhile.
        block_on(fx.root.unlink_file("d/b")).unwrap();
        assert_eq!(names(&*d, 3), ["c"]);
        assert_eq!(names(&*d, 0), [".", "..", "c"]);
        assert!(fx.upper.join("d/.wh.a").exists() && fx.upper.join("d/.wh.b").exists());
    }

    #[test]
    fn rename_remove_and_errnos() {
        let fx = fixture();
        let bin = dir(open(&*fx.root, "usr/bin", OFlags::DIRECTORY, false, FdFlags::empty()).unwrap());
        block_on(fx.root.rename("etc/hosts", &*bin, "hosts2")).unwrap();
        assert_eq!(std::fs::read_to_string(fx.upper.join("usr/bin/hosts2")).unwrap(), "127.0.0.1");
        assert!(fx.upper.join("etc/.wh.hosts").exists());
        assert_eq!(errno(block_on(fx.root.rename("d", &*fx.root, "d2"))), Errno::Xdev);
        assert_eq!(errno(block_on(fx.root.remove_dir("d"))), Errno::Notempty);
        assert_eq!(errno(block_on(fx.root.remove_dir("etc/nothing"))), Errno::Noent);
        assert_eq!(errno(block_on(fx.root.unlink_file("d"))), Errno::Isdir);
        assert_eq!(errno(block_on(fx.root.create_dir("usr"))), Errno::Exist);
        block_on(fx.root.create_dir("newdir")).unwrap();
        block_on(fx.root.remove_dir("newdir")).unwrap();
        assert_eq!(errno(block_on(fx.root.get_path_filestat("newdir", true))), Errno::Noent);
        #[cfg(unix)]
        {
            block_on(fx.root.symlink("/usr/bin", "bin")).unwrap();
            assert_eq!(block_on(fx.root.read_link("bin")).unwrap(), PathBuf::from("/usr/bin"));
            let st = block_on(fx.root.get_path_filestat("bin", false)).unwrap();
            assert_eq!(st.filetype, FileType::SymbolicLink);
            let f = file(open(&*fx.root, "bin/sh", OFlags::empty(), false, FdFlags::empty()).unwrap());
            assert_eq!(read_all(&*f), "sh");
            let nofollow = block_on(fx.root.open_file(false, "bin", OFlags::empty(), true, false, FdFlags::empty()));
            assert_eq!(errno(nofollow), Errno::Loop);
            block_on(fx.root.hard_link("usr/bin/sh", &*fx.root, "sh-link")).unwrap();
            assert!(fx.upper.join("sh-link").exists());
            block_on(fx.root.set_times("usr/bin/sh", None, Some(SystemTimeSpec::SymbolicNow), true)).unwrap();
        }
    }
}
