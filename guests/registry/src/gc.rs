//! `registry garbage-collect`: mark every blob a manifest of a repository references, then
//! sweep the blob store of the rest (what `docker push` over an old tag and deleted manifests
//! leave behind). Run it while nothing is pushed, as with the real one.

use std::collections::BTreeSet;
use std::io::{self, Write};

use serde_json::Value;

use crate::names::parse_digest;
use crate::store::{digest, Store};

/// The digests (hex) a manifest references: its config and layers, or an index's manifests.
pub fn references(manifest: &[u8]) -> Vec<String> {
    let v: Value = serde_json::from_slice(manifest).unwrap_or(Value::Null);
    let mut out = Vec::new();
    let mut add = |d: &Value| {
        if let Some(h) = d["digest"].as_str().and_then(|s| parse_digest(s).ok()) {
            out.push(h.to_string());
        }
    };
    add(&v["config"]);
    for key in ["layers", "manifests"] {
        for d in v[key].as_array().into_iter().flatten() {
            add(d);
        }
    }
    out
}

pub fn run(store: &Store, dry_run: bool, delete_untagged: bool, out: &mut dyn Write) -> io::Result<()> {
    let mut marked = BTreeSet::new();
    let mut untagged = Vec::new();
    for repo in store.repositories() {
        writeln!(out, "{repo}")?;
        let tagged: BTreeSet<String> =
            store.tags(&repo).unwrap_or_default().iter().filter_map(|t| store.tag(&repo, t)).collect();
        for hex in store.manifests(&repo) {
            if delete_untagged && !tagged.contains(&hex) {
                writeln!(out, "manifest eligible for deletion: {}", digest(&hex))?;
                untagged.push((repo.clone(), hex));
                continue;
            }
            writeln!(out, "{repo}: marking manifest {} ", digest(&hex))?;
            marked.insert(hex.clone());
            for r in references(&store.manifest(&repo, &hex).unwrap_or_default()) {
                writeln!(out, "{repo}: marking blob {}", digest(&r))?;
                marked.insert(r);
            }
        }
    }
    let sweep: Vec<String> = store.blobs().into_iter().filter(|b| !marked.contains(b)).collect();
    writeln!(
        out,
        "\n{} blobs marked, {} blobs and {} manifests eligible for deletion",
        marked.len(),
        sweep.len(),
        untagged.len()
    )?;
    if !dry_run {
        for (repo, hex) in &untagged {
            store.delete_manifest(repo, hex)?;
        }
    }
    for hex in sweep {
        writeln!(out, "blob eligible for deletion: {}", digest(&hex))?;
        if !dry_run {
            store.remove_blob(&hex)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::tempdir;

    #[test]
    fn unreferenced_blobs_go() {
        let root = tempdir("gc");
        let s = Store::new(root.to_str().unwrap());
        let layer = s.put_blob(b"layer").unwrap();
        let config = s.put_blob(b"config").unwrap();
        let orphan = s.put_blob(b"orphan").unwrap();
        for h in [&layer, &config, &orphan] {
            s.link_layer("app", h).unwrap();
        }
        let m = format!(
            "{{\"schemaVersion\":2,\"config\":{{\"digest\":\"sha256:{config}\"}},\"layers\":[{{\"digest\":\"sha256:{layer}\"}}]}}"
        );
        let mh = s.put_manifest("app", m.as_bytes()).unwrap();
        s.set_tag("app", "v1", &mh).unwrap();
        let mut out = Vec::new();
        run(&s, true, false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("3 blobs marked, 1 blobs and 0 manifests eligible for deletion"), "{text}");
        assert!(s.blob_size(&orphan).is_some(), "a dry run deletes nothing");
        run(&s, false, false, &mut Vec::new()).unwrap();
        assert!(s.blob_size(&orphan).is_none());
        assert!(s.blob_size(&layer).is_some() && s.blob_size(&mh).is_some());
        // Untag: --delete-untagged takes the manifest and what only it referenced.
        std::fs::remove_dir_all(root.join("docker/registry/v2/repositories/app/_manifests/tags/v1")).unwrap();
        run(&s, false, true, &mut Vec::new()).unwrap();
        assert!(s.blobs().is_empty());
        std::fs::remove_dir_all(root).unwrap();
    }
}
