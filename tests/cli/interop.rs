//! Interop with real OCI tools: archives written by skopeo load into skiff with the same
//! image, and skopeo reads what skiff writes (its store and its `save` archives).

use super::util::{require_tool, Sandbox};
use std::process::Command;

fn skopeo(args: &[&str]) -> String {
    let out = Command::new("skopeo").args(args).output().expect("skopeo runs");
    assert!(out.status.success(), "skopeo {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn inspect(s: &Sandbox, image: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&s.run(&["image", "inspect", image]).ok().stdout).unwrap();
    v[0].clone()
}

#[test]
fn archives_written_by_skopeo_load_as_the_same_image() {
    let Some(_) = require_tool("skopeo", "skopeo") else { return };
    // An image with two busybox layers, a layer with a whiteout, a comment and an author.
    let src = Sandbox::new();
    src.run(&["run", "--name", "mk", "busybox", "sh", "-c", "echo hi > /greeting; rm /bin/sleep"]).ok();
    src.run(&["commit", "-m", "greet", "-a", "Learner", "-c", "CMD [\"cat\",\"/greeting\"]", "mk", "greeting:v1"]).ok();
    let want = inspect(&src, "greeting:v1");
    // Absolute times, so the comparison does not depend on when it runs.
    let history_of = |s: &Sandbox, image: &str| {
        s.run(&["history", "--no-trunc", "--format", "{{.CreatedAt}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}", image])
            .ok()
            .stdout
    };
    let want_history = history_of(&src, "greeting:v1");
    // skopeo reads skiff's store as the OCI image layout it is.
    let layout = format!("oci:{}:docker.io/library/greeting:v1", src.root().join("oci").display());
    let docker_tar = src.work.path().join("skopeo-docker.tar");
    let oci_tar = src.work.path().join("skopeo-oci.tar");
    skopeo(&["copy", &layout, &format!("docker-archive:{}:skopeo/greeting:v1", docker_tar.display())]);
    skopeo(&["copy", &layout, &format!("oci-archive:{}:skopeo/greeting:v2", oci_tar.display())]);
    for (tar, tag) in [(&docker_tar, "skopeo/greeting:v1"), (&oci_tar, "skopeo/greeting:v2")] {
        let dst = Sandbox::new();
        let out = dst.run(&["load", "-i", tar.to_str().unwrap()]).ok().stdout;
        assert_eq!(out, format!("Loaded image: {tag}\n"));
        let got = inspect(&dst, tag);
        assert_eq!(got["Id"], want["Id"], "{tag}: the config travels byte for byte, so the ID is the same");
        assert_eq!(got["RepoTags"], serde_json::json!([tag]));
        for key in ["Config", "RootFS", "Comment", "Author", "Created", "Size"] {
            assert_eq!(got[key], want[key], "{tag}: {key}");
        }
        // History is the same (which steps a store can name as images may differ).
        assert_eq!(history_of(&dst, tag), want_history, "{tag}");
        assert_eq!(dst.run(&["run", "--rm", tag]).ok().stdout, "hi\n");
        assert_eq!(dst.run(&["run", "--rm", tag, "sh", "-c", "test -e /bin/sleep || echo gone"]).ok().stdout, "gone\n");
    }
}

#[test]
fn skopeo_reads_skiffs_save_archives() {
    let Some(_) = require_tool("skopeo", "skopeo") else { return };
    let s = Sandbox::new();
    s.run(&["pull", "busybox"]).ok();
    let id = s.run(&["images", "-q", "--no-trunc", "busybox"]).ok().stdout.trim().to_string();
    let docker_tar = s.work.path().join("bb.tar");
    let oci_tar = s.work.path().join("bb-oci.tar");
    s.run(&["save", "-o", docker_tar.to_str().unwrap(), "busybox"]).ok();
    s.run(&["save", "--format", "oci", "-o", oci_tar.to_str().unwrap(), "busybox"]).ok();
    for src in [
        format!("docker-archive:{}", docker_tar.display()),
        format!("oci-archive:{}:docker.io/library/busybox:latest", oci_tar.display()),
    ] {
        let config: serde_json::Value = serde_json::from_str(&skopeo(&["inspect", "--config", &src])).unwrap();
        let want: serde_json::Value =
            serde_json::from_slice(&std::fs::read(s.root().join("oci/blobs/sha256").join(&id[7..])).unwrap()).unwrap();
        assert_eq!(config, want, "{src}");
        let info: serde_json::Value = serde_json::from_str(&skopeo(&["inspect", &src])).unwrap();
        assert_eq!(info["Layers"].as_array().unwrap().len(), 2, "{src}: {info}");
    }
}
