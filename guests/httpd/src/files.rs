//! The document root: what a normalised URL path names (file, directory, nothing), and a
//! cache of small files' bytes, checked against the file's mtime and size on every use.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::time::UNIX_EPOCH;

use serve::time::Civil;

use crate::mime::content_type;

/// Files up to this size are kept in memory.
const CACHE_FILE_MAX: u64 = 1 << 20;
/// The cache is emptied when its files add up to more than this.
const CACHE_TOTAL_MAX: usize = 64 << 20;

/// A regular file: its metadata, response-header values and (when small) its bytes.
#[derive(Debug)]
pub struct Entry {
    pub len: u64,
    /// Seconds since the epoch.
    pub mtime: u64,
    mtime_ns: u128,
    pub content_type: &'static str,
    /// The event-loop wake in which the metadata was last checked.
    checked: u64,
    /// `Last-Modified` value.
    pub last_modified: Vec<u8>,
    body: Option<Vec<u8>>,
}

/// What a URL path names.
#[derive(Debug)]
pub enum Found<'a> {
    File {
        entry: &'a Entry,
        path: &'a str,
    },
    /// A directory asked for without the final `/`: redirect to `url` + `/`.
    Redirect,
    /// A directory without `index.html`.
    Directory,
    NotFound,
    Forbidden,
}

impl Entry {
    /// Append the file's bytes to `out`: from the cache, or read now when it is big.
    pub fn push_body(&self, path: &str, out: &mut Vec<u8>) -> io::Result<()> {
        match &self.body {
            Some(b) => out.extend_from_slice(b),
            None => {
                let start = out.len();
                out.reserve(self.len as usize);
                if let Err(e) = fs::File::open(path).and_then(|mut f| f.read_to_end(out)) {
                    out.truncate(start);
                    return Err(e);
                }
                // Keep Content-Length true even when the file changed under us.
                out.resize(start + self.len as usize, 0);
            }
        }
        Ok(())
    }
}

pub struct Files {
    root: String,
    cache: HashMap<String, Entry>,
    cached_bytes: usize,
    /// The filesystem path of the last lookup.
    path: String,
}

impl Files {
    pub fn new(root: &str) -> Files {
        Files {
            root: root.trim_end_matches('/').to_string(),
            cache: HashMap::new(),
            cached_bytes: 0,
            path: String::new(),
        }
    }

    /// Whether the file at `self.path` is cached and was checked during `wake`.
    fn checked_in(&self, wake: u64) -> bool {
        matches!(self.cache.get(&self.path), Some(e) if e.checked == wake)
    }

    /// What `url` (normalised: starts with `/`, no `.`/`..`) names under the root. A
    /// directory (`url` ending in `/`) means its `index.html`. A file's metadata is read
    /// once per event-loop `wake` (see `serve::Ctx::wake`); its bytes only when it changed.
    pub fn lookup(&mut self, url: &str, wake: u64) -> Found<'_> {
        self.path.clear();
        self.path.push_str(&self.root);
        self.path.push_str(url);
        if url.ends_with('/') {
            self.path.push_str("index.html");
            if self.checked_in(wake) {
                return Found::File { entry: &self.cache[&self.path], path: &self.path };
            }
            match fs::metadata(&self.path) {
                Ok(m) if m.is_file() => {}
                Ok(_) => return Found::Forbidden,
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => return Found::Forbidden,
                Err(_) => {
                    self.path.truncate(self.path.len() - "index.html".len());
                    return match fs::metadata(&self.path) {
                        Ok(m) if m.is_dir() => Found::Directory,
                        Ok(_) => Found::NotFound,
                        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Found::Forbidden,
                        Err(_) => Found::NotFound,
                    };
                }
            }
        }
        if self.checked_in(wake) {
            return Found::File { entry: &self.cache[&self.path], path: &self.path };
        }
        let meta = match fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => return Found::Forbidden,
            Err(_) => return Found::NotFound,
        };
        if meta.is_dir() {
            return Found::Redirect;
        }
        if !meta.is_file() {
            return Found::Forbidden;
        }
        let mtime_ns =
            meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_nanos()).unwrap_or(0);
        let len = meta.len();
        match self.cache.get_mut(&self.path) {
            Some(e) if e.mtime_ns == mtime_ns && e.len == len => e.checked = wake,
            _ => {
                let entry = match self.load(len, mtime_ns, wake) {
                    Ok(e) => e,
                    Err(e) if e.kind() == io::ErrorKind::PermissionDenied => return Found::Forbidden,
                    Err(_) => return Found::NotFound,
                };
                let size = entry.body.as_ref().map_or(0, Vec::len);
                if self.cached_bytes + size > CACHE_TOTAL_MAX {
                    self.cache.clear();
                    self.cached_bytes = 0;
                }
                self.cached_bytes += size;
                if let Some(old) = self.cache.insert(self.path.clone(), entry) {
                    self.cached_bytes -= old.body.as_ref().map_or(0, Vec::len);
                }
            }
        }
        Found::File { entry: &self.cache[&self.path], path: &self.path }
    }

    fn load(&self, len: u64, mtime_ns: u128, wake: u64) -> io::Result<Entry> {
        let body = if len <= CACHE_FILE_MAX {
            let mut b = fs::read(&self.path)?;
            // A file growing while read: serve what its metadata said.
            b.resize(len as usize, 0);
            Some(b)
        } else {
            fs::File::open(&self.path)?;
            None
        };
        let mtime = (mtime_ns / 1_000_000_000) as u64;
        let mut last_modified = Vec::new();
        Civil::from_ms(mtime * 1000).push_http(&mut last_modified);
        Ok(Entry { len, mtime, mtime_ns, content_type: content_type(&self.path), checked: wake, last_modified, body })
    }

    /// The names in the directory `url` (directories with a final `/`), sorted; hidden
    /// ones left out.
    pub fn list(&self, url: &str) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for e in fs::read_dir(format!("{}{}", self.root, url))? {
            let e = e?;
            let mut name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if fs::metadata(e.path()).map(|m| m.is_dir()).unwrap_or(false) {
                name.push('/');
            }
            names.push(name);
        }
        names.sort();
        Ok(names)
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A fresh directory under the system's temp dir.
    pub fn tempdir(tag: &str) -> String {
        let d = std::env::temp_dir().join(format!("skiff-httpd-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d.to_string_lossy().into_owned()
    }

    #[test]
    fn lookups_and_cache() {
        let root = tempdir("files");
        fs::write(format!("{root}/index.html"), "<h1>hi</h1>\n").unwrap();
        fs::create_dir(format!("{root}/empty")).unwrap();
        fs::create_dir(format!("{root}/docs")).unwrap();
        fs::write(format!("{root}/docs/index.html"), "docs").unwrap();
        let mut f = Files::new(&format!("{root}/"));
        match f.lookup("/", 1) {
            Found::File { entry, path } => {
                assert_eq!((entry.len, entry.content_type), (12, "text/html"));
                assert!(path.ends_with("/index.html"));
                let mut out = Vec::new();
                entry.push_body(path, &mut out).unwrap();
                assert_eq!(out, b"<h1>hi</h1>\n");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(f.lookup("/docs", 1), Found::Redirect));
        assert!(matches!(f.lookup("/docs/", 1), Found::File { .. }));
        assert!(matches!(f.lookup("/empty/", 1), Found::Directory));
        assert!(matches!(f.lookup("/nope/", 1), Found::NotFound));
        assert!(matches!(f.lookup("/nope", 1), Found::NotFound));
        assert!(matches!(f.lookup("/index.html/x", 1), Found::NotFound));
        // A changed file is reread (its size differs) in the next wake, not in this one.
        fs::write(format!("{root}/index.html"), "<h1>changed</h1>\n").unwrap();
        assert!(matches!(f.lookup("/index.html", 1), Found::File { entry, .. } if entry.len == 12));
        match f.lookup("/index.html", 2) {
            Found::File { entry, path } => {
                let mut out = Vec::new();
                entry.push_body(path, &mut out).unwrap();
                assert_eq!(out, b"<h1>changed</h1>\n");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(f.list("/").unwrap(), vec!["docs/", "empty/", "index.html"]);
        let _ = fs::remove_dir_all(&root);
    }
}
