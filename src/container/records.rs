//! The container records as the network rules read them ([`crate::network::Directory`]):
//! records are kept with their files' modification times and parsed again only when their
//! file changed (records are written by atomic rename, so a change always shows as a new
//! mtime). Parsing every record at every connect and accept made a connection cost three
//! times a native one.

use super::Container;
use crate::network::{Directory, Peer};
use crate::store::Store;
use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

/// A cached view of `containers/`.
pub struct Records {
    dir: std::path::PathBuf,
    cache: Mutex<HashMap<String, (SystemTime, Container)>>,
}

impl Records {
    pub fn new(store: &Store) -> Records {
        Records { dir: store.root().join("containers"), cache: Mutex::default() }
    }
}

impl Container {
    /// The container as the network rules see it.
    pub fn peer(&self, container_dir: &Path) -> Peer {
        let mut state = self.state.clone();
        state.reconcile(super::process_alive);
        Peer {
            id: self.id.clone(),
            name: self.name.clone(),
            hostname: self.config.hostname.clone(),
            networks: self.networks.clone(),
            running: state.is_alive(),
            dir: container_dir.to_path_buf(),
        }
    }
}

/// The record of container `id` (in `dir`) from `cache`, read again if its file changed;
/// `None` if it has no record (removed, or still being created).
fn refresh(
    cache: &mut HashMap<String, (SystemTime, Container)>,
    id: &str,
    dir: &Path,
) -> io::Result<Option<Container>> {
    let p = dir.join("container.json");
    let Ok(mtime) = std::fs::metadata(&p).and_then(|m| m.modified()) else {
        cache.remove(id);
        return Ok(None);
    };
    if let Some((t, c)) = cache.get(id) {
        if *t == mtime {
            return Ok(Some(c.clone()));
        }
    }
    let data = std::fs::read(&p)?;
    let c = super::parse_record(&p, &data).map_err(|e| io::Error::other(e.to_string()))?;
    cache.insert(id.to_string(), (mtime, c.clone()));
    Ok(Some(c))
}

impl Directory for Records {
    fn get(&self, id: &str) -> io::Result<Peer> {
        let dir = self.dir.join(id);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let c = refresh(&mut cache, id, &dir)?.ok_or_else(|| io::Error::other(format!("No such container: {id}")))?;
        Ok(c.peer(&dir))
    }

    fn all(&self) -> io::Result<Vec<Peer>> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for e in std::fs::read_dir(&self.dir)? {
            let e = e?;
            let id = e.file_name().to_string_lossy().into_owned();
            if let Some(c) = refresh(&mut cache, &id, &e.path())? {
                out.push(c.peer(&e.path()));
                seen.push(id);
            }
        }
        cache.retain(|id, _| seen.contains(id));
        Ok(out)
    }
}
