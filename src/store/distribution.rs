//! What the store remembers of registries, as Docker's `distribution/` metadata does:
//!
//! * per layer, `meta/distribution/<diff ID hex>.json`: each compressed form it travelled as
//!   (distribution digest, size, media type) and the repositories (`localhost:5000/me/app`)
//!   known to hold it. A layer is stored uncompressed (its blob digest is its diff ID), so this
//!   is what lets `push` say `Layer already exists` or mount it from another repository
//!   (`Mounted from me/other`) without compressing it again, and `image layers` show both.
//! * per image, `meta/repodigests/<image ID hex>.json`: the `repository@sha256:…` references
//!   a push or pull gave it (`inspect`'s `RepoDigests`), one per repository, and the manifest
//!   format it last travelled as.
//!
//! Both are caches: written atomically (temp file + rename), without the store lock, so two
//! commands racing may lose one entry, which costs a HEAD request later, never correctness.

use super::{atomic_write, Store};
use crate::error::{IoContext, Result};
use crate::spec::Digest;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::PathBuf;

/// One compressed form of a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistributionSource {
    pub digest: Digest,
    pub size: u64,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// Repositories known to hold it: `localhost:5000/yeeechen/nginx`, `docker.io/library/x`.
    pub repos: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct LayerRecord {
    sources: Vec<DistributionSource>,
}

/// The registry side of an image.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RepoDigests {
    /// Full references `localhost:5000/yeeechen/nginx@sha256:…`.
    pub digests: Vec<String>,
    /// The manifest media type it last travelled as.
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

impl Store {
    fn dist_path(&self, diff: &Digest) -> PathBuf {
        self.root.join("meta/distribution").join(format!("{}.json", diff.hex()))
    }

    fn repodigests_path(&self, id: &Digest) -> PathBuf {
        self.root.join("meta/repodigests").join(format!("{}.json", id.hex()))
    }

    /// The compressed forms of layer `diff` known to this store (none if never pushed/pulled).
    pub fn distribution_sources(&self, diff: &Digest) -> Vec<DistributionSource> {
        fs::read(self.dist_path(diff))
            .ok()
            .and_then(|d| serde_json::from_slice::<LayerRecord>(&d).ok())
            .map(|r| r.sources)
            .unwrap_or_default()
    }

    /// Remember that layer `diff` travelled as `source` (its repos are added to what is known).
    pub fn add_distribution_source(&self, diff: &Digest, source: DistributionSource) -> Result<()> {
        let mut sources = self.distribution_sources(diff);
        match sources.iter_mut().find(|s| s.digest == source.digest) {
            Some(s) => {
                for r in source.repos {
                    if !s.repos.contains(&r) {
                        s.repos.push(r);
                    }
                }
                s.size = source.size;
                s.media_type = source.media_type;
            }
            None => sources.push(source),
        }
        let p = self.dist_path(diff);
        let dir = p.parent().expect("has a parent");
        fs::create_dir_all(dir).at(dir)?;
        atomic_write(&p, &serde_json::to_vec_pretty(&LayerRecord { sources }).expect("serialises"))
    }

    /// What registries know image `id` as.
    pub fn repo_digests(&self, id: &Digest) -> RepoDigests {
        fs::read(self.repodigests_path(id)).ok().and_then(|d| serde_json::from_slice(&d).ok()).unwrap_or_default()
    }

    /// Record that `repo` (a full repository name) holds image `id` as manifest `digest` of
    /// `media_type`; it replaces the digest recorded for that repository before.
    pub fn add_repo_digest(&self, id: &Digest, repo: &str, digest: &Digest, media_type: &str) -> Result<()> {
        let mut rd = self.repo_digests(id);
        let prefix = format!("{repo}@");
        rd.digests.retain(|d| !d.starts_with(&prefix));
        rd.digests.push(format!("{repo}@{digest}"));
        rd.digests.sort();
        rd.media_type = Some(media_type.to_string());
        let p = self.repodigests_path(id);
        let dir = p.parent().expect("has a parent");
        fs::create_dir_all(dir).at(dir)?;
        atomic_write(&p, &serde_json::to_vec_pretty(&rd).expect("serialises"))
    }

    /// The image a `repository@digest` reference names, if a push or pull recorded it.
    pub fn image_by_repo_digest(&self, full: &str) -> Option<Digest> {
        let dir = self.root.join("meta/repodigests");
        for e in fs::read_dir(&dir).ok()?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(hex) = name.strip_suffix(".json") else { continue };
            let Ok(id) = format!("sha256:{hex}").parse::<Digest>() else { continue };
            if self.repo_digests(&id).digests.iter().any(|d| d == full) {
                return Some(id);
            }
        }
        None
    }

    /// Forget the repo digests of a deleted image.
    pub(super) fn forget_repo_digests(&self, id: &Digest) -> Result<()> {
        let p = self.repodigests_path(id);
        match fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).at(&p),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_accumulate_repositories() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let diff = Digest::of(b"layer");
        let gz = Digest::of(b"layer.gz");
        let src = |repo: &str| DistributionSource {
            digest: gz.clone(),
            size: 9,
            media_type: "application/vnd.docker.image.rootfs.diff.tar.gzip".into(),
            repos: vec![repo.into()],
        };
        assert!(store.distribution_sources(&diff).is_empty());
        store.add_distribution_source(&diff, src("localhost:5000/a")).unwrap();
        store.add_distribution_source(&diff, src("localhost:5000/b")).unwrap();
        store.add_distribution_source(&diff, src("localhost:5000/a")).unwrap();
        let s = store.distribution_sources(&diff);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].repos, vec!["localhost:5000/a", "localhost:5000/b"]);

        let id = Digest::of(b"config");
        let m1 = Digest::of(b"m1");
        let m2 = Digest::of(b"m2");
        store.add_repo_digest(&id, "localhost:5000/a", &m1, "x").unwrap();
        store.add_repo_digest(&id, "localhost:5000/a", &m2, "x").unwrap();
        assert_eq!(store.repo_digests(&id).digests, vec![format!("localhost:5000/a@{m2}")]);
        assert_eq!(store.image_by_repo_digest(&format!("localhost:5000/a@{m2}")), Some(id.clone()));
        assert_eq!(store.image_by_repo_digest(&format!("localhost:5000/a@{m1}")), None);
        store.forget_repo_digests(&id).unwrap();
        assert!(store.repo_digests(&id).digests.is_empty());
    }
}
