//! Changes to the union view: copy-up into the upper dir, whiteouts and opaque dirs,
//! create/remove/rename, and writes that go straight to a bind mount.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::MutexGuard;

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::OpenOptions;

use super::error::{code_of, ctx, err, Code};
use super::lookup::{Node, Root};
use super::path::{child_path, parse, MAX_LINKS, OPAQUE, WH_PREFIX};
use super::{Kind, OpenOpts, Opened, SetTime, UnionFs};

const UPPER: usize = 0;

/// Where a change to a directory's entries goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Target {
    /// The union: the upper dir, with copy-up and whiteouts.
    Upper,
    /// A writable bind mount (index into roots).
    Mount(usize),
}

fn last(chain: &[Node]) -> &Node {
    chain.last().expect("chain has the root")
}

/// Guests may not make names the union uses for its own bookkeeping.
fn check_name(name: &str, vpath: &str) -> io::Result<()> {
    if name.starts_with(WH_PREFIX) {
        return Err(err(Code::Perm, vpath, "names starting with .wh. are reserved for whiteouts"));
    }
    Ok(())
}

/// Host permission bits: skiff keeps owner rw (and x on dirs) so it can always manage upper/.
#[cfg(unix)]
fn set_mode(root: &Root, rel: &Path, mode: u32, is_dir: bool, vpath: &str) -> io::Result<()> {
    use cap_std::fs::PermissionsExt;
    if root.portable {
        return super::portable::set_mode(root, rel, mode, is_dir, vpath);
    }
    let keep = if is_dir { 0o700 } else { 0o600 };
    let perm = cap_std::fs::Permissions::from_mode((mode & 0o7777) | keep);
    root.dir.set_permissions(rel, perm).map_err(|e| ctx(e, vpath))
}

#[cfg(not(unix))]
fn set_mode(root: &Root, rel: &Path, mode: u32, is_dir: bool, vpath: &str) -> io::Result<()> {
    if root.portable {
        return super::portable::set_mode(root, rel, mode, is_dir, vpath);
    }
    Ok(()) // a bind mount: no unix modes on this host, reported as 0o755 / 0o644
}

#[cfg(unix)]
fn make_symlink(root: &Root, target: &str, rel: &Path, vpath: &str) -> io::Result<()> {
    if root.portable {
        return super::portable::make_symlink(root, target, rel, vpath);
    }
    // symlink_contents: cap-std's `symlink` refuses absolute targets, which are fine for us
    // because we resolve them inside the container root.
    root.dir.symlink_contents(target, rel).map_err(|e| ctx(e, vpath))
}

#[cfg(not(unix))]
fn make_symlink(root: &Root, target: &str, rel: &Path, vpath: &str) -> io::Result<()> {
    if root.portable {
        return super::portable::make_symlink(root, target, rel, vpath);
    }
    Err(err(Code::NotSup, vpath, "symbolic links are not supported on this host"))
}

impl UnionFs {
    fn lock(&self) -> MutexGuard<'_, ()> {
        self.write_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn upper(&self) -> &Root {
        &self.roots[UPPER]
    }

    /// Where new entries of directory `parent` go.
    fn target_of(&self, parent: &Node) -> io::Result<Target> {
        match parent.root {
            Some(r) if !self.roots[r].is_union() => {
                if self.roots[r].readonly {
                    return Err(err(Code::RoFs, &parent.vpath(), "read-only mount"));
                }
                Ok(Target::Mount(r))
            }
            _ => Ok(Target::Upper),
        }
    }

    fn is_mount_target(&self, node: &Node) -> bool {
        self.mount_at(&node.comps).is_some()
    }

    /// Does a lower layer have `name` in `parent`, so that removing it needs a whiteout?
    fn lower_has(&self, parent: &Node, name: &str) -> io::Result<bool> {
        let lowers: Vec<usize> = parent.dirs.roots().filter(|r| *r != UPPER).collect();
        let mut comps = parent.comps.clone();
        comps.push(name.to_string());
        Ok(self.lookup_in(comps, &lowers)?.is_some())
    }

    /// mkdir -p of the chain's directories in upper, with the modes they have in the view.
    fn ensure_upper_dirs(&self, chain: &[Node]) -> io::Result<()> {
        let upper = self.upper();
        for (i, node) in chain.iter().enumerate().skip(1) {
            if node.root == Some(UPPER) {
                continue; // its top copy is the upper one: it exists
            }
            let rel = upper.rel(&node.comps);
            match upper.stat(&rel).map_err(|e| ctx(e, &node.vpath()))? {
                Some(md) if md.is_dir() => continue,
                Some(_) => return Err(err(Code::NotDir, &node.vpath(), "not a directory in upper")),
                None => {}
            }
            let had_whiteout = self.remove_whiteout(&chain[i - 1], node.name())?;
            upper.dir.create_dir(&rel).map_err(|e| ctx(e, &node.vpath()))?;
            set_mode(upper, &rel, node.stat.mode, true, &node.vpath())?;
            if had_whiteout {
                self.make_opaque(&rel, &node.vpath())?;
            }
        }
        Ok(())
    }

    /// Removes `.wh.<name>` from the upper copy of `parent`; says whether there was one.
    fn remove_whiteout(&self, parent: &Node, name: &str) -> io::Result<bool> {
        let rel = self.upper().rel(&parent.comps).join(format!("{WH_PREFIX}{name}"));
        match self.upper().dir.remove_file(&rel) {
            Ok(()) => Ok(true),
            Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => Ok(false),
            Err(e) => Err(ctx(e, &child_path(&parent.comps, name))),
        }
    }

    /// Marks an upper dir opaque, so lower content of the same path stays hidden.
    fn make_opaque(&self, rel: &Path, vpath: &str) -> io::Result<()> {
        self.upper().dir.write(rel.join(OPAQUE), b"").map_err(|e| ctx(e, vpath))
    }

    /// Records the deletion of `name` in `parent` (the parent chain is copied up first).
    fn write_whiteout(&self, chain: &[Node], name: &str) -> io::Result<()> {
        self.ensure_upper_dirs(chain)?;
        let rel = self.upper().rel(&last(chain).comps).join(format!("{WH_PREFIX}{name}"));
        self.upper().dir.write(rel, b"").map_err(|e| ctx(e, &child_path(&last(chain).comps, name)))
    }

    /// Copies the chain's last node up into upper (parents first). `content`: false copies a
    /// file as empty (it is about to be truncated).
    fn copy_up(&self, chain: &[Node], content: bool) -> io::Result<()> {
        let node = last(chain);
        if node.root == Some(UPPER) {
            return Ok(());
        }
        let upper = self.upper();
        let rel = upper.rel(&node.comps);
        let vpath = node.vpath();
        if upper.stat(&rel).map_err(|e| ctx(e, &vpath))?.is_some() {
            return Ok(()); // another process copied it up meanwhile
        }
        self.ensure_upper_dirs(&chain[..chain.len() - 1])?;
        let src = self.root_of(node)?;
        let src_rel = src.rel(&node.comps);
        match node.kind {
            Kind::Dir => {
                upper.dir.create_dir(&rel).map_err(|e| ctx(e, &vpath))?;
                keep_owner(upper, &rel, node, &vpath)?;
                set_mode(upper, &rel, node.stat.mode, true, &vpath)
            }
            Kind::File => {
                // Copy to a hidden temp name, then rename: readers never see a half copy.
                let tmp = rel.with_file_name(format!(".wh..wh..copyup.{}", node.name()));
                {
                    let mut out = upper.dir.create(&tmp).map_err(|e| ctx(e, &vpath))?;
                    if content {
                        let mut input = src.dir.open(&src_rel).map_err(|e| ctx(e, &vpath))?;
                        io::copy(&mut input, &mut out).map_err(|e| ctx(e, &vpath))?;
                    }
                }
                keep_owner(upper, &tmp, node, &vpath)?;
                set_mode(upper, &tmp, node.stat.mode, false, &vpath)?;
                upper.dir.rename(&tmp, &upper.dir, &rel).map_err(|e| ctx(e, &vpath))
            }
            Kind::Symlink => {
                let target = self.read_link_node(node)?;
                make_symlink(upper, &target, &rel, &vpath)?;
                keep_owner(upper, &rel, node, &vpath)
            }
            Kind::Other => Err(err(Code::NotSup, &vpath, "cannot copy up a special file")),
        }
    }

    /// Makes `chain`'s last node writable: the mount it lives in, or its upper copy.
    fn writable(&self, chain: &[Node], content: bool) -> io::Result<(usize, PathBuf)> {
        let node = last(chain);
        if let Some(r) = node.root.filter(|r| !self.roots[*r].is_union()) {
            if self.roots[r].readonly {
                return Err(err(Code::RoFs, &node.vpath(), "read-only mount"));
            }
            return Ok((r, self.roots[r].rel(&node.comps)));
        }
        self.copy_up(chain, content)?;
        Ok((UPPER, self.upper().rel(&node.comps)))
    }

    /// Opens a file, or reports a directory. Writing copies a lower file up first; creating
    /// through a dangling symlink creates its target (as POSIX `open(O_CREAT)`).
    pub fn open_ex(&self, path: &str, opts: &OpenOpts) -> io::Result<Opened> {
        let mut path = path.to_string();
        for _ in 0..MAX_LINKS {
            match self.open_once(&path, opts)? {
                Step::Done(opened) => return Ok(opened),
                Step::Retry(next) => path = next,
            }
        }
        Err(err(Code::Loop, &path, "too many levels of symbolic links"))
    }

    fn open_once(&self, path: &str, opts: &OpenOpts) -> io::Result<Step> {
        // Reading needs the last node only; a write may copy up, which needs the whole chain.
        let found = if opts.writes() {
            self.walk(path, opts.follow)
        } else {
            self.walk_last(path, opts.follow).map(|n| vec![n])
        };
        match found {
            Ok(chain) => self.open_existing(&chain, opts).map(Step::Done),
            Err(e) if (opts.create || opts.create_new) && code_of(&e) == Code::NoEnt => self.open_create(path, opts),
            Err(e) => Err(e),
        }
    }

    fn open_existing(&self, chain: &[Node], opts: &OpenOpts) -> io::Result<Opened> {
        let node = last(chain);
        let vpath = node.vpath();
        if opts.create_new {
            return Err(err(Code::Exist, &vpath, "file exists"));
        }
        match node.kind {
            Kind::Symlink => Err(err(Code::Loop, &vpath, "is a symbolic link (not followed)")),
            Kind::Dir if opts.writes() => Err(err(Code::IsDir, &vpath, "is a directory")),
            Kind::Dir => Ok(Opened::Dir(self.resolved_of(node))),
            Kind::File | Kind::Other => {
                let modifies = opts.write || opts.append || opts.truncate;
                if opts.read || !modifies {
                    self.permit(node, super::access::R)?;
                }
                if modifies {
                    self.permit(node, super::access::W)?;
                }
                let (r, rel, o) = if modifies {
                    let _guard = self.lock();
                    let (r, rel) = self.writable(chain, !opts.truncate)?;
                    let mut o = host_options(opts);
                    o.create(false).create_new(false);
                    (r, rel, o)
                } else {
                    // Never ask the host for write access to a file we did not copy up.
                    let mut o = OpenOptions::new();
                    o.read(true).follow(FollowSymlinks::No);
                    (node.root.expect("files have a root"), self.root_of(node)?.rel(&node.comps), o)
                };
                let f = self.roots[r].dir.open_with(&rel, &o).map_err(|e| ctx(e, &vpath))?;
                let mut resolved = self.resolved_of(node);
                resolved.layer = self.roots[r].layer;
                resolved.host_path = self.roots[r].host_path(&node.comps);
                Ok(Opened::File(f.into_std(), resolved))
            }
        }
    }

    fn open_create(&self, path: &str, opts: &OpenOpts) -> io::Result<Step> {
        let _guard = self.lock();
        let (chain, name) = self.walk_parent(path)?;
        let name = name.ok_or_else(|| err(Code::IsDir, path, "is a directory"))?;
        let parent = last(&chain);
        let vpath = child_path(&parent.comps, &name);
        if let Some(existing) = self.child(parent, &name)? {
            if opts.create_new {
                return Err(err(Code::Exist, &vpath, "file exists")); // even a dangling symlink
            }
            if existing.kind == Kind::Symlink && opts.follow {
                // A dangling symlink: create its target instead.
                let target = self.read_link_node(&existing)?;
                return Ok(Step::Retry(super::join(&parent.vpath(), &target)));
            }
            return Ok(Step::Retry(vpath)); // appeared meanwhile: open it as existing
        }
        check_name(&name, &vpath)?;
        self.permit(parent, super::access::W | super::access::X)?;
        let (r, rel) = match self.target_of(parent)? {
            Target::Mount(r) => (r, self.roots[r].rel(&parent.comps).join(&name)),
            Target::Upper => {
                self.ensure_upper_dirs(&chain)?;
                self.remove_whiteout(parent, &name)?;
                (UPPER, self.upper().rel(&parent.comps).join(&name))
            }
        };
        let f = self.roots[r].dir.open_with(&rel, &host_options(opts)).map_err(|e| ctx(e, &vpath))?;
        own_new(&self.roots[r], &rel, &vpath)?;
        let root = &self.roots[r];
        let resolved = super::Resolved {
            path: vpath,
            layer: root.layer,
            host_path: root.host_path(&[parent.comps.as_slice(), std::slice::from_ref(&name)].concat()),
            kind: Kind::File,
        };
        Ok(Step::Done(Opened::File(f.into_std(), resolved)))
    }

    /// mkdir. Over a whiteout the new dir is made opaque, so the old lower content stays hidden.
    pub fn create_dir(&self, path: &str, mode: u32) -> io::Result<()> {
        let _guard = self.lock();
        let (chain, name) = self.walk_parent(path)?;
        let name = name.ok_or_else(|| err(Code::Exist, path, "file exists"))?;
        let parent = last(&chain);
        let vpath = child_path(&parent.comps, &name);
        if self.child(parent, &name)?.is_some() {
            return Err(err(Code::Exist, &vpath, "file exists"));
        }
        check_name(&name, &vpath)?;
        self.permit(parent, super::access::W | super::access::X)?;
        match self.target_of(parent)? {
            Target::Mount(r) => {
                let root = &self.roots[r];
                let rel = root.rel(&parent.comps).join(&name);
                root.dir.create_dir(&rel).map_err(|e| ctx(e, &vpath))?;
                own_new(root, &rel, &vpath)?;
                set_mode(root, &rel, mode, true, &vpath)
            }
            Target::Upper => {
                self.ensure_upper_dirs(&chain)?;
                let had_whiteout = self.remove_whiteout(parent, &name)?;
                let rel = self.upper().rel(&parent.comps).join(&name);
                self.upper().dir.create_dir(&rel).map_err(|e| ctx(e, &vpath))?;
                own_new(self.upper(), &rel, &vpath)?;
                set_mode(self.upper(), &rel, mode, true, &vpath)?;
                if had_whiteout {
                    self.make_opaque(&rel, &vpath)?;
                }
                Ok(())
            }
        }
    }

    /// mkdir -p (existing directories, also through symlinks, are fine).
    pub fn create_dir_all(&self, path: &str) -> io::Result<()> {
        let p = parse(path);
        let mut prefix = String::new();
        for c in &p.comps {
            prefix.push('/');
            prefix.push_str(c);
            match self.metadata(&prefix, true) {
                Ok(m) if m.kind == Kind::Dir => continue,
                Ok(_) => return Err(err(Code::NotDir, &prefix, "not a directory")),
                Err(e) if code_of(&e) == Code::NoEnt => match self.create_dir(&prefix, 0o755) {
                    Err(e) if code_of(&e) != Code::Exist => return Err(e),
                    _ => {}
                },
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// unlink: removes the upper copy and records a whiteout when a lower layer has the name.
    pub fn remove_file(&self, path: &str) -> io::Result<()> {
        let _guard = self.lock();
        let (chain, name) = self.walk_parent(path)?;
        let name = name.ok_or_else(|| err(Code::IsDir, path, "is a directory"))?;
        let parent = last(&chain);
        let vpath = child_path(&parent.comps, &name);
        let node = self.child(parent, &name)?.ok_or_else(|| err(Code::NoEnt, &vpath, "no such file"))?;
        if node.kind == Kind::Dir {
            return Err(err(Code::IsDir, &vpath, "is a directory"));
        }
        self.remove_node(&chain, &node)
    }

    /// rmdir: the directory must be empty in the merged view.
    pub fn remove_dir(&self, path: &str) -> io::Result<()> {
        let _guard = self.lock();
        let (chain, name) = self.walk_parent(path)?;
        let Some(name) = name else {
            let code = if last(&chain).comps.is_empty() { Code::Busy } else { Code::Inval };
            return Err(err(code, path, "cannot remove this directory"));
        };
        let parent = last(&chain);
        let vpath = child_path(&parent.comps, &name);
        let node = self.child(parent, &name)?.ok_or_else(|| err(Code::NoEnt, &vpath, "no such directory"))?;
        if node.kind != Kind::Dir {
            return Err(err(Code::NotDir, &vpath, "not a directory"));
        }
        if self.is_mount_target(&node) {
            return Err(err(Code::Busy, &vpath, "is a mount point"));
        }
        if !self.list(&node)?.is_empty() {
            return Err(err(Code::NotEmpty, &vpath, "directory not empty"));
        }
        self.remove_node(&chain, &node)
    }

    /// Removes `node` (a child of the chain's last dir) from the view.
    fn remove_node(&self, chain: &[Node], node: &Node) -> io::Result<()> {
        let vpath = node.vpath();
        if self.is_mount_target(node) {
            return Err(err(Code::Busy, &vpath, "is a mount point"));
        }
        let parent = last(chain);
        self.permit_unlink(parent, node)?;
        if let Target::Mount(r) = self.target_of(parent)? {
            let root = &self.roots[r];
            let rel = root.rel(&node.comps);
            let res = if node.kind == Kind::Dir { root.dir.remove_dir(&rel) } else { root.dir.remove_file(&rel) };
            return res.map_err(|e| ctx(e, &vpath));
        }
        if node.root == Some(UPPER) {
            let rel = self.upper().rel(&node.comps);
            // An empty merged dir may still hold whiteouts in upper: remove them with it.
            let res = if node.kind == Kind::Dir {
                self.upper().dir.remove_dir_all(&rel)
            } else {
                self.upper().dir.remove_file(&rel)
            };
            res.map_err(|e| ctx(e, &vpath))?;
            super::portable::forget(self.upper(), &rel, &vpath)?;
        }
        if self.lower_has(parent, node.name())? {
            self.write_whiteout(chain, node.name())?;
        }
        Ok(())
    }

    /// rename. A directory that exists in a lower layer gives EXDEV (as overlayfs without
    /// redirect_dir), so `mv` falls back to copy + delete.
    pub fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let _guard = self.lock();
        let (fchain, fname) = self.walk_parent(from)?;
        let (tchain, tname) = self.walk_parent(to)?;
        let (Some(fname), Some(tname)) = (fname, tname) else {
            return Err(err(Code::Inval, from, "cannot rename . or .."));
        };
        let (fparent, tparent) = (last(&fchain), last(&tchain));
        let fpath = child_path(&fparent.comps, &fname);
        let tpath = child_path(&tparent.comps, &tname);
        let src = self.child(fparent, &fname)?.ok_or_else(|| err(Code::NoEnt, &fpath, "no such file"))?;
        check_name(&tname, &tpath)?;
        let mut tcomps = tparent.comps.clone();
        tcomps.push(tname.clone());
        if src.comps == tcomps {
            return Ok(());
        }
        if src.kind == Kind::Dir && tcomps.starts_with(&src.comps) {
            return Err(err(Code::Inval, &tpath, "cannot move a directory into itself"));
        }
        let dst = self.child(tparent, &tname)?;
        if self.is_mount_target(&src) || dst.as_ref().is_some_and(|d| self.is_mount_target(d)) {
            return Err(err(Code::Busy, &fpath, "is a mount point"));
        }
        if let Some(d) = &dst {
            check_replace(&src, d, &tpath)?;
            if d.kind == Kind::Dir && !self.list(d)?.is_empty() {
                return Err(err(Code::NotEmpty, &tpath, "directory not empty"));
            }
        }
        self.permit_unlink(fparent, &src)?;
        match &dst {
            Some(d) => self.permit_unlink(tparent, d)?,
            None => self.permit(tparent, super::access::W | super::access::X)?,
        }
        let target = self.target_of(fparent)?;
        if target != self.target_of(tparent)? {
            return Err(err(Code::XDev, &fpath, "cannot rename across mounts"));
        }
        if let Target::Mount(r) = target {
            let root = &self.roots[r];
            return root.dir.rename(root.rel(&src.comps), &root.dir, root.rel(&tcomps)).map_err(|e| ctx(e, &fpath));
        }
        if src.kind == Kind::Dir && src.dirs.roots().any(|r| r != UPPER) {
            return Err(err(Code::XDev, &fpath, "directory exists in an image layer"));
        }
        self.rename_in_upper(&fchain, &src, &tchain, &tname, dst.as_ref())
    }

    fn rename_in_upper(
        &self,
        fchain: &[Node],
        src: &Node,
        tchain: &[Node],
        tname: &str,
        dst: Option<&Node>,
    ) -> io::Result<()> {
        let (fparent, tparent) = (last(fchain), last(tchain));
        let upper = self.upper();
        let tpath = child_path(&tparent.comps, tname);
        let mut src_chain = fchain.to_vec();
        src_chain.push(src.clone());
        self.copy_up(&src_chain, true)?;
        self.ensure_upper_dirs(tchain)?;
        let trel = upper.rel(&tparent.comps).join(tname);
        if let Some(d) = dst.filter(|d| d.kind == Kind::Dir && d.root == Some(UPPER)) {
            // Merged-empty, but it may hold whiteouts, which rename(2) would call non-empty.
            upper.dir.remove_dir_all(&trel).map_err(|e| ctx(e, &d.vpath()))?;
        }
        let dst_in_lower = self.lower_has(tparent, tname)?;
        self.remove_whiteout(tparent, tname)?;
        upper.dir.rename(upper.rel(&src.comps), &upper.dir, &trel).map_err(|e| ctx(e, &src.vpath()))?;
        super::portable::moved(upper, &upper.rel(&src.comps), &trel, &tpath)?;
        if src.kind == Kind::Dir && dst_in_lower && !upper.exists(&trel.join(OPAQUE)) {
            self.make_opaque(&trel, &tpath)?;
        }
        if self.lower_has(fparent, src.name())? {
            self.write_whiteout(fchain, src.name())?;
        }
        Ok(())
    }

    /// Creates symlink `link` -> `target` (the target is stored as given).
    pub fn symlink(&self, target: &str, link: &str) -> io::Result<()> {
        let _guard = self.lock();
        let (chain, name) = self.walk_parent(link)?;
        let name = name.ok_or_else(|| err(Code::Exist, link, "file exists"))?;
        let parent = last(&chain);
        let vpath = child_path(&parent.comps, &name);
        if target.is_empty() {
            return Err(err(Code::NoEnt, &vpath, "empty symlink target"));
        }
        if self.child(parent, &name)?.is_some() {
            return Err(err(Code::Exist, &vpath, "file exists"));
        }
        check_name(&name, &vpath)?;
        self.permit(parent, super::access::W | super::access::X)?;
        let (r, rel) = match self.target_of(parent)? {
            Target::Mount(r) => (r, self.roots[r].rel(&parent.comps).join(&name)),
            Target::Upper => {
                self.ensure_upper_dirs(&chain)?;
                self.remove_whiteout(parent, &name)?;
                (UPPER, self.upper().rel(&parent.comps).join(&name))
            }
        };
        make_symlink(&self.roots[r], target, &rel, &vpath)?;
        own_new(&self.roots[r], &rel, &vpath)?;
        Ok(())
    }

    /// chmod (follows symlinks); copies the entry up first.
    pub fn chmod(&self, path: &str, mode: u32) -> io::Result<()> {
        let _guard = self.lock();
        let chain = self.walk(path, true)?;
        let node = last(&chain);
        self.permit_owner(node)?;
        let (r, rel) = self.writable(&chain, true)?;
        set_mode(&self.roots[r], &rel, mode, node.kind == Kind::Dir, &node.vpath())
    }

    /// chown: sets the owner and group (`None` keeps one), copying the entry up first. The
    /// owner is the host file's: skiff must be able to give host files away (root on a Unix
    /// host); elsewhere `EPERM`. `follow` = false changes a symlink itself.
    pub fn chown(&self, path: &str, uid: Option<u32>, gid: Option<u32>, follow: bool) -> io::Result<()> {
        let _guard = self.lock();
        let chain = self.walk(path, follow)?;
        let node = last(&chain);
        let (r, rel) = self.writable(&chain, true)?;
        if self.roots[r].portable {
            return super::portable::set_owner(&self.roots[r], &rel, uid, gid, &node.vpath());
        }
        let host = self.roots[r].host.join(&rel);
        #[cfg(unix)]
        {
            std::os::unix::fs::lchown(&host, uid, gid).map_err(|e| ctx(e, &node.vpath()))?;
            Ok(())
        }
        #[cfg(not(unix))]
        {
            let _ = (host, uid, gid);
            Err(err(Code::Perm, &node.vpath(), "owners need a Unix host"))
        }
    }

    /// utimes; copies the entry up first. `follow` = false changes a symlink itself.
    pub fn set_times(
        &self,
        path: &str,
        atime: Option<SetTime>,
        mtime: Option<SetTime>,
        follow: bool,
    ) -> io::Result<()> {
        let _guard = self.lock();
        let chain = self.walk(path, follow)?;
        let node = last(&chain);
        // The owner sets any time; others with write permission only "now" (as utimensat).
        let only_now = matches!(atime, None | Some(SetTime::Now)) && matches!(mtime, None | Some(SetTime::Now));
        if self.permit_owner(node).is_err() && (!only_now || self.permit(node, super::access::W).is_err()) {
            return Err(err(Code::Perm, &node.vpath(), "operation not permitted"));
        }
        let (r, rel) = self.writable(&chain, true)?;
        let dir = &self.roots[r].dir;
        let res = if node.kind == Kind::Symlink {
            set_symlink_times(dir, &rel, atime, mtime)
        } else {
            dir.set_times(&rel, time_spec(atime), time_spec(mtime))
        };
        res.map_err(|e| ctx(e, &node.vpath()))
    }

    /// link: a real hard link in the writable layer (a lower source is copied up first).
    pub fn hard_link(&self, from: &str, to: &str) -> io::Result<()> {
        let _guard = self.lock();
        let fchain = self.walk(from, false)?;
        let src = last(&fchain);
        if src.kind == Kind::Dir {
            return Err(err(Code::Perm, &src.vpath(), "cannot hard-link a directory"));
        }
        let (tchain, tname) = self.walk_parent(to)?;
        let tname = tname.ok_or_else(|| err(Code::Exist, to, "file exists"))?;
        let tparent = last(&tchain);
        let tpath = child_path(&tparent.comps, &tname);
        if self.child(tparent, &tname)?.is_some() {
            return Err(err(Code::Exist, &tpath, "file exists"));
        }
        check_name(&tname, &tpath)?;
        self.permit(tparent, super::access::W | super::access::X)?;
        let (r, srel) = self.writable(&fchain, true)?;
        let trel = match self.target_of(tparent)? {
            Target::Mount(t) if t == r => self.roots[t].rel(&tparent.comps).join(&tname),
            Target::Upper if r == UPPER => {
                self.ensure_upper_dirs(&tchain)?;
                self.remove_whiteout(tparent, &tname)?;
                self.upper().rel(&tparent.comps).join(&tname)
            }
            _ => return Err(err(Code::XDev, &tpath, "cannot link across mounts")),
        };
        let dir = &self.roots[r].dir;
        dir.hard_link(&srel, dir, &trel).map_err(|e| ctx(e, &tpath))?;
        super::portable::linked(&self.roots[r], &srel, &trel, &tpath)
    }
}

/// Give a new entry to the calling guest process's user, as its creator.
fn own_new(root: &Root, rel: &Path, vpath: &str) -> io::Result<()> {
    if root.portable {
        return match super::current_access() {
            Some(who) => super::portable::set_owner(root, rel, Some(who.uid), Some(who.gid), vpath),
            None => Ok(()),
        };
    }
    super::access::own_new(&root.host.join(rel));
    Ok(())
}

/// Keep a copied-up entry's owner (skiff writes the copy as itself).
fn keep_owner(upper: &Root, rel: &Path, node: &Node, vpath: &str) -> io::Result<()> {
    if upper.portable {
        if node.stat.uid != 0 || node.stat.gid != 0 {
            return super::portable::set_owner(upper, rel, Some(node.stat.uid), Some(node.stat.gid), vpath);
        }
        return Ok(());
    }
    super::access::keep_owner(&upper.host.join(rel), node.stat.uid, node.stat.gid);
    Ok(())
}

enum Step {
    Done(Opened),
    Retry(String),
}

/// rename's type rules: a dir replaces only a dir, a non-dir only a non-dir.
fn check_replace(src: &Node, dst: &Node, tpath: &str) -> io::Result<()> {
    match (src.kind == Kind::Dir, dst.kind == Kind::Dir) {
        (true, false) => Err(err(Code::NotDir, tpath, "not a directory")),
        (false, true) => Err(err(Code::IsDir, tpath, "is a directory")),
        _ => Ok(()),
    }
}

/// Host open options for an already resolved path (never follow: we resolved symlinks).
fn host_options(opts: &OpenOpts) -> OpenOptions {
    let mut o = OpenOptions::new();
    // std and cap-std refuse create/truncate without write access; the guest's own access
    // rights are enforced by the WASI layer, so asking for write here is harmless.
    let write = opts.write || opts.create || opts.create_new || opts.truncate;
    o.read(opts.read || !(write || opts.append))
        .write(write && !opts.append)
        .append(opts.append)
        .truncate(opts.truncate && !opts.append)
        .create(opts.create)
        .create_new(opts.create_new)
        .follow(FollowSymlinks::No);
    o
}

#[cfg(unix)]
fn set_symlink_times(
    dir: &cap_std::fs::Dir,
    rel: &Path,
    atime: Option<SetTime>,
    mtime: Option<SetTime>,
) -> io::Result<()> {
    dir.set_symlink_times(rel, time_spec(atime), time_spec(mtime))
}

#[cfg(not(unix))]
fn set_symlink_times(
    _dir: &cap_std::fs::Dir,
    _rel: &Path,
    _atime: Option<SetTime>,
    _mtime: Option<SetTime>,
) -> io::Result<()> {
    Ok(()) // symlinks are not supported here anyway
}

fn time_spec(t: Option<SetTime>) -> Option<cap_fs_ext::SystemTimeSpec> {
    t.map(|t| match t {
        SetTime::Now => cap_fs_ext::SystemTimeSpec::SymbolicNow,
        SetTime::At(t) => cap_fs_ext::SystemTimeSpec::Absolute(cap_std::time::SystemTime::from_std(t)),
    })
}
