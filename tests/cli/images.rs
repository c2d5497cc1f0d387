//! `images`, `pull`: the built-in library and the store's OCI layout.

use super::util::Sandbox;

#[test]
fn pull_is_idempotent_and_the_store_is_an_oci_layout() {
    let s = Sandbox::new();
    let r = s.run(&["pull", "busybox"]).ok();
    assert!(r.stdout.starts_with("Using default tag: latest\nlatest: Pulling from library/busybox\n"), "{}", r.stdout);
    assert!(
        r.stdout.ends_with("Status: Downloaded newer image for busybox:latest\ndocker.io/library/busybox:latest\n"),
        "{}",
        r.stdout
    );
    let r = s.run(&["pull", "busybox"]).ok();
    assert!(r.stdout.contains("Status: Image is up to date for busybox:latest"), "{}", r.stdout);
    assert_eq!(std::fs::read_to_string(s.root().join("oci/oci-layout")).unwrap(), r#"{"imageLayoutVersion":"1.0.0"}"#);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.root().join("oci/index.json")).unwrap()).unwrap();
    let m = &index["manifests"];
    assert_eq!(m.as_array().unwrap().len(), 1);
    assert_eq!(m[0]["annotations"]["org.opencontainers.image.ref.name"], "docker.io/library/busybox:latest");
}

#[test]
fn builtin_image_ids_are_reproducible_and_real() {
    let a = Sandbox::new();
    let b = Sandbox::new();
    a.run(&["pull", "busybox"]).ok();
    b.run(&["pull", "busybox"]).ok();
    let ida = a.run(&["images", "-q", "--no-trunc"]).ok().stdout;
    let idb = b.run(&["images", "-q", "--no-trunc"]).ok().stdout;
    assert_eq!(ida, idb);
    // the image ID is the sha256 of the config blob, whose diff IDs are the layer tars' sha256
    let id = ida.trim().trim_start_matches("sha256:");
    let config = std::fs::read(a.root().join("oci/blobs/sha256").join(id)).unwrap();
    use sha2::Digest;
    assert_eq!(hex::encode(sha2::Sha256::digest(&config)), id);
    let cfg: serde_json::Value = serde_json::from_slice(&config).unwrap();
    let diffs = cfg["rootfs"]["diff_ids"].as_array().unwrap();
    assert!(diffs.len() >= 2, "busybox has at least two layers");
    for d in diffs {
        let hex = d.as_str().unwrap().trim_start_matches("sha256:");
        let tar = std::fs::read(a.root().join("oci/blobs/sha256").join(hex)).unwrap();
        assert_eq!(hex::encode(sha2::Sha256::digest(&tar)), hex);
    }
}

#[test]
fn images_table_and_filters() {
    let s = Sandbox::new();
    s.run(&["pull", "busybox"]).ok();
    s.run(&["pull", "hello-world"]).ok();
    let out = s.run(&["images"]).ok().stdout;
    assert_eq!(out.lines().count(), 3, "{out}");
    let out = s.run(&["image", "ls", "hello-world"]).ok().stdout;
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.lines().nth(1).unwrap().starts_with("hello-world   latest    "), "{out}");
    // Not built in: skiff asks Docker Hub (unreachable offline: Docker's error, one line).
    let r = s.run(&["pull", "nosuchimage"]).code(1);
    assert!(r.stderr.contains("nosuchimage:latest is not one of skiff's built-in images"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn tutorial_command_lists_and_checks() {
    let s = Sandbox::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tutorials");
    let out = s.run(&["tutorial", "--dir", dir]).ok().stdout;
    assert!(out.contains("01-first-container  Your first container"), "{out}");
    let r = s.run(&["tutorial", "--dir", dir, "nope"]).code(1);
    assert_eq!(r.stderr, "Error: No such tutorial: nope\n");
}

#[test]
fn tags_share_one_image_id() {
    let s = Sandbox::new();
    s.run(&["pull", "busybox"]).ok();
    s.run(&["tag", "busybox", "mybox:v1"]).ok();
    s.run(&["image", "tag", "busybox:latest", "localhost:5000/me/box:stable"]).ok();
    let out = s.run(&["images"]).ok().stdout;
    let ids: Vec<&str> = out.lines().skip(1).map(|l| l.split_whitespace().nth(2).unwrap()).collect();
    assert_eq!(ids.len(), 3, "{out}");
    assert!(ids.iter().all(|i| *i == ids[0]), "one image ID for all tags:\n{out}");
    assert!(out.contains("\nmybox ") && out.contains("localhost:5000/me/box   stable"), "{out}");
    // a tag is a name, not a copy: the store has still one config
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.root().join("oci/index.json")).unwrap()).unwrap();
    let digests: std::collections::BTreeSet<&str> =
        index["manifests"].as_array().unwrap().iter().map(|m| m["digest"].as_str().unwrap()).collect();
    assert_eq!(digests.len(), 1);
    let r = s.run(&["tag", "nope", "x"]).code(1);
    assert_eq!(r.stderr, "Error: No such image: nope:latest\n");
    let r = s.run(&["tag", "busybox", "MyBox"]).code(1);
    assert_eq!(r.stderr, "Error: Error parsing reference: \"MyBox\" is not a valid repository/tag: invalid reference format: repository name must be lowercase\n");
}

#[test]
fn history_lists_steps_newest_first() {
    let s = Sandbox::new();
    s.run(&["pull", "busybox"]).ok();
    let out = s.run(&["history", "busybox"]).ok().stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("IMAGE          CREATED"), "{out}");
    assert!(lines[0].contains("CREATED BY") && lines[0].ends_with("SIZE      COMMENT"), "{out}");
    assert_eq!(lines.len(), 4, "CMD + 2 layers:\n{out}");
    assert!(lines[1].contains("/bin/sh -c #(nop)  CMD [\"sh\"]") && lines[1].contains(" 0B"), "{out}");
    assert!(lines[2].starts_with("<missing>") && lines[3].starts_with("<missing>"), "{out}");
    let quiet = s.run(&["image", "history", "-q", "busybox"]).ok().stdout;
    assert_eq!(quiet.lines().count(), 3);
    let raw = s.run(&["history", "-H=false", "busybox"]).ok().stdout;
    assert!(raw.starts_with("IMAGE          CREATED AT"), "{raw}");
    assert_eq!(s.run(&["history", "nope"]).code(1).stderr, "Error: No such image: nope:latest\n");
}

#[test]
fn rmi_untags_then_deletes_keeping_what_is_used() {
    let s = Sandbox::new();
    s.run(&["pull", "busybox"]).ok();
    s.run(&["pull", "hello-world"]).ok();
    s.run(&["tag", "busybox", "mybox:v1"]).ok();
    let id = s.run(&["images", "-q", "busybox"]).ok().stdout.trim().to_string();
    // by ID with two tags: refused
    let r = s.run(&["rmi", &id]).code(1);
    assert_eq!(
        r.stderr,
        format!(
            "Error: conflict: unable to delete {id} (must be forced) - image is referenced in multiple repositories\n"
        )
    );
    // one of two tags: only untagged
    assert_eq!(s.run(&["rmi", "mybox:v1"]).ok().stdout, "Untagged: mybox:v1\n");
    // last tag while a stopped container uses it: refused without -f
    s.run(&["run", "--name", "user", "busybox", "true"]).ok();
    let r = s.run(&["rmi", "busybox"]).code(1);
    assert!(
        r.stderr.starts_with(
            "Error: conflict: unable to remove repository reference \"busybox\" (must force) - container "
        ),
        "{}",
        r.stderr
    );
    let r = s.run(&["rmi", &id]).code(1);
    assert!(r.stderr.contains("(must be forced) - image is being used by stopped container"), "{}", r.stderr);
    // forced: the image goes, but the container keeps its layers and still runs from them
    let out = s.run(&["rmi", "-f", "busybox"]).ok().stdout;
    assert!(out.starts_with(&format!("Untagged: busybox:latest\nDeleted: sha256:{id}")), "{out}");
    assert_eq!(out.lines().count(), 2, "no layer deleted while a container uses them: {out}");
    assert_eq!(s.run(&["diff", "user"]).ok().stdout, "");
    // once the container is gone, removing the image (imported again) frees its layers
    s.run(&["rm", "user"]).ok();
    s.run(&["pull", "busybox"]).ok();
    let out = s.run(&["rmi", "busybox"]).ok().stdout;
    assert_eq!(out.lines().filter(|l| l.starts_with("Deleted: ")).count(), 3, "image + 2 layers: {out}");
    assert_eq!(std::fs::read_dir(s.root().join("layers")).unwrap().count(), 1, "hello-world's layer stays");
    assert!(s.run(&["run", "--rm", "hello-world"]).ok().stdout.contains("Hello from skiff!"));
    let r = s.run(&["rmi", "nope"]).code(1);
    assert_eq!(r.stderr, "Error: No such image: nope\n");
}

#[test]
fn image_inspect_has_dockers_keys() {
    let s = Sandbox::new();
    s.run(&["pull", "busybox"]).ok();
    s.run(&["tag", "busybox", "mybox:v1"]).ok();
    let out = s.run(&["image", "inspect", "busybox"]).ok().stdout;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let img = &v[0];
    let keys: Vec<&str> = img.as_object().unwrap().keys().map(String::as_str).collect();
    for k in ["Id", "RepoTags", "RepoDigests", "Parent", "Created", "Config", "Architecture", "Os", "Size", "RootFS"] {
        assert!(keys.contains(&k), "{k} missing: {keys:?}");
    }
    assert_eq!(img["RepoTags"], serde_json::json!(["busybox:latest", "mybox:v1"]));
    assert_eq!(img["Config"]["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(img["RootFS"]["Type"], "layers");
    assert_eq!(img["RootFS"]["Layers"].as_array().unwrap().len(), 2);
    assert!(out.starts_with("[\n    {\n        \"Id\": \"sha256:"), "4-space indent like Docker:\n{out}");
    let r = s.run(&["image", "inspect", "nope"]).code(1);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("[]\n", "Error: No such image: nope\n"));
}

#[test]
fn dangling_images_and_prune() {
    let s = Sandbox::new();
    s.run(&["pull", "busybox"]).ok();
    s.run(&["pull", "hello-world"]).ok();
    s.run(&["run", "--name", "keep", "hello-world"]).ok();
    // untagging an image no container uses leaves it dangling: <none> <none>
    s.run(&["tag", "busybox", "other:v1"]).ok();
    s.run(&["rmi", "busybox"]).ok();
    s.run(&["rmi", "other:v1"]).ok();
    assert_eq!(s.run(&["images", "-q"]).ok().stdout.lines().count(), 1, "busybox is gone with its last tag");
    // prompts read "no" without a terminal
    let r = s.run(&["image", "prune"]).ok();
    assert!(r.stdout.contains("Are you sure you want to continue? [y/N] "), "{}", r.stdout);
    let r = s.run(&["image", "prune", "-a", "-f"]).ok();
    assert_eq!(r.stdout, "Total reclaimed space: 0B\n", "hello-world is used by a container");
    s.run(&["rm", "keep"]).ok();
    let r = s.run(&["image", "prune", "-a", "-f"]).ok();
    assert!(r.stdout.starts_with("Deleted Images:\nuntagged: hello-world:latest\ndeleted: sha256:"), "{}", r.stdout);
    assert_eq!(s.run(&["images", "-q"]).ok().stdout, "");
    let out = s.run(&["images", "-f", "dangling=true"]).ok().stdout;
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[test]
fn image_layers_and_why_explain_the_stack() {
    let s = Sandbox::new();
    s.run(&["pull", "busybox"]).ok();
    let out = s.run(&["image", "layers", "busybox"]).ok().stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("busybox:latest  sha256:") && lines[0].contains("2 layers"), "{out}");
    let l2 = lines.iter().position(|l| l.contains("├─ layer 2  sha256:")).expect(&out);
    let l1 = lines.iter().position(|l| l.contains("├─ layer 1  sha256:")).expect(&out);
    assert!(l2 < l1, "top layer first:\n{out}");
    let why = s.run(&["image", "why", "busybox", "/etc/issue"]).ok().stdout;
    assert!(why.starts_with("/etc/issue in busybox:latest comes from layer 2 ("), "{why}");
    assert!(why.contains("\n  it shadows the version in layer 1 ("), "{why}");
    let why = s.run(&["image", "why", "busybox", "/etc/passwd"]).ok().stdout;
    assert!(why.starts_with("/etc/passwd in busybox:latest comes from layer 1 (") && !why.contains("shadows"), "{why}");
    let r = s.run(&["image", "why", "busybox", "/nope"]).code(1);
    assert_eq!(r.stdout, "/nope is not in busybox:latest: no layer has it\n");
    s.run(&["image", "layers", "nope"]).code(1);
}

#[test]
fn commit_turns_the_writable_layer_into_an_image() {
    let s = Sandbox::new();
    s.run(&["run", "--name", "mk", "busybox", "sh", "-c", "echo hello > /greeting; rm /bin/sleep"]).ok();
    let out =
        s.run(&["commit", "-m", "add greeting", "-a", "Learner <l@example.com>", "mk", "greeting:v1"]).ok().stdout;
    assert!(out.starts_with("sha256:") && out.trim().len() == 71, "{out}");
    s.run(&["commit", "-c", "CMD [\"cat\",\"/greeting\"]", "-c", "ENV MOOD=happy", "mk", "greeting:v2"]).ok();
    assert_eq!(s.run(&["run", "--rm", "greeting:v2"]).ok().stdout, "hello\n");
    assert_eq!(
        s.run(&["run", "--rm", "greeting:v2", "sh", "-c", "echo $MOOD; test -e /bin/sleep || echo no-sleep"])
            .ok()
            .stdout,
        "happy\nno-sleep\n"
    );
    // history: the new layer with the container's command and the comment, then busybox's ID
    let h = s.run(&["history", "greeting:v1"]).ok().stdout;
    let lines: Vec<&str> = h.lines().collect();
    assert!(
        lines[1].contains("sh -c echo hello > /greeting; rm /bin/sleep") && lines[1].ends_with("add greeting"),
        "{h}"
    );
    let busybox_id = s.run(&["images", "-q", "busybox"]).ok().stdout.trim().to_string();
    assert!(lines[2].starts_with(&busybox_id), "the parent step is busybox itself:\n{h}");
    // the deletion travelled as an OCI whiteout: `image why` finds it
    let why = s.run(&["image", "why", "greeting:v1", "/bin/sleep"]).ok().stdout;
    assert!(why.starts_with("/bin/sleep is not in greeting:v1\n  a whiteout (/bin/.wh.sleep) in layer 3 ("), "{why}");
    assert!(why.contains("it was added by layer 2 ("), "{why}");
    let insp: serde_json::Value =
        serde_json::from_str(&s.run(&["image", "inspect", "greeting:v1"]).ok().stdout).unwrap();
    assert_eq!(insp[0]["Author"], "Learner <l@example.com>");
    assert_eq!(insp[0]["Comment"], "add greeting");
    assert_eq!(insp[0]["RootFS"]["Layers"].as_array().unwrap().len(), 3);
    // the new image shares busybox's two layers (stored once)
    let layers = s.run(&["image", "layers", "greeting:v1"]).ok().stdout;
    let shared: Vec<&str> = layers.lines().filter(|l| l.contains("shared with:")).collect();
    assert_eq!(shared.len(), 3, "{layers}");
    assert_eq!(shared.iter().filter(|l| l.contains("busybox:latest")).count(), 2, "{layers}");
    s.run(&["commit", "nope"]).code(1);
}

#[test]
fn save_and_load_round_trip_both_formats() {
    let s = Sandbox::new();
    s.run(&["run", "--name", "mk", "busybox", "sh", "-c", "echo hi > /greeting; rm /bin/sleep"]).ok();
    s.run(&["commit", "mk", "greeting:v1"]).ok();
    let id = s.run(&["images", "-q", "--no-trunc", "greeting:v1"]).ok().stdout;
    let docker_tar = s.work.path().join("g.tar");
    let oci_tar = s.work.path().join("g-oci.tar");
    s.run(&["save", "-o", docker_tar.to_str().unwrap(), "greeting:v1"]).ok();
    s.run(&["save", "--format", "oci", "-o", oci_tar.to_str().unwrap(), "greeting:v1"]).ok();
    // the docker-archive layout
    let mut names: Vec<String> = tar::Archive::new(std::fs::File::open(&docker_tar).unwrap())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.contains(&"manifest.json".to_string()) && names.contains(&"repositories".to_string()), "{names:?}");
    assert_eq!(names.iter().filter(|n| n.ends_with("/layer.tar")).count(), 3, "{names:?}");
    assert!(names.contains(&format!("{}.json", id.trim().trim_start_matches("sha256:"))), "{names:?}");
    for tar in [&docker_tar, &oci_tar] {
        let t = Sandbox::new();
        let out = t.run(&["load", "-i", tar.to_str().unwrap()]).ok().stdout;
        assert_eq!(out, "Loaded image: greeting:v1\n");
        assert_eq!(t.run(&["images", "-q", "--no-trunc", "greeting:v1"]).ok().stdout, id, "same image ID after load");
        assert_eq!(
            t.run(&["run", "--rm", "greeting:v1", "sh", "-c", "cat /greeting; test -e /bin/sleep || echo gone"])
                .ok()
                .stdout,
            "hi\ngone\n"
        );
    }
    // loading again over an existing tag of another image renames the old one, as Docker says
    let t = Sandbox::new();
    t.run(&["pull", "busybox"]).ok();
    t.run(&["tag", "busybox", "greeting:v1"]).ok();
    let out = t.run_stdin_file(&["load"], &docker_tar).ok().stdout;
    assert!(out.starts_with("The image greeting:v1 already exists, renaming the old one with ID sha256:"), "{out}");
}

#[test]
fn load_refuses_bad_archives_and_adds_nothing() {
    use std::io::Write;
    let s = Sandbox::new();
    // a layer whose content does not match the diff ID in its config
    let config = serde_json::json!({"architecture":"wasm32","os":"wasip1","rootfs":{"type":"layers","diff_ids":[format!("sha256:{}", "0".repeat(64))]}});
    let mut layer = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    h.set_mode(0o644);
    h.set_cksum();
    layer.append_data(&mut h, "f", &b"hi"[..]).unwrap();
    let layer = layer.into_inner().unwrap();
    let manifest = serde_json::json!([{"Config":"c.json","RepoTags":["bad:v1"],"Layers":["l/layer.tar"]}]);
    let mut ar = tar::Builder::new(Vec::new());
    for (name, data) in [
        ("c.json", serde_json::to_vec(&config).unwrap()),
        ("l/layer.tar", layer),
        ("manifest.json", serde_json::to_vec(&manifest).unwrap()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        ar.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    let path = s.work.path().join("bad.tar");
    std::fs::File::create(&path).unwrap().write_all(&ar.into_inner().unwrap()).unwrap();
    let r = s.run(&["load", "-i", path.to_str().unwrap()]).code(1);
    assert!(
        r.stderr.starts_with(&format!(
            "Error: invalid layer sha256:{}: layer.tar: content hashes to sha256:",
            "0".repeat(64)
        )),
        "{}",
        r.stderr
    );
    assert_eq!(s.run(&["images", "-q"]).ok().stdout, "");
    assert_eq!(std::fs::read_dir(s.root().join("layers")).unwrap().count(), 0);
    let r = s.run(&["load", "-i", "/nonexistent.tar"]).code(1);
    assert!(r.stderr.starts_with("Error: /nonexistent.tar: "), "{}", r.stderr);
}

#[test]
fn export_and_import_flatten_a_container() {
    let s = Sandbox::new();
    s.run(&["run", "--name", "c1", "busybox", "sh", "-c", "echo hi > /greeting; rm /bin/sleep"]).ok();
    let tar = s.work.path().join("c1.tar");
    s.run(&["export", "-o", tar.to_str().unwrap(), "c1"]).ok();
    let names: Vec<String> = tar::Archive::new(std::fs::File::open(&tar).unwrap())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"greeting".to_string()) && names.contains(&"bin/box".to_string()), "{names:?}");
    assert!(
        !names.iter().any(|n| n == "bin/sleep" || n.contains(".wh.")),
        "the merged view, whiteouts applied: {names:?}"
    );
    let out = s.run(&["import", tar.to_str().unwrap(), "flat:v1"]).ok().stdout;
    assert!(out.starts_with("sha256:"), "{out}");
    assert_eq!(
        s.run(&["run", "--rm", "flat:v1", "sh", "-c", "cat /greeting; test -e /bin/sleep || echo no-sleep"])
            .ok()
            .stdout,
        "hi\nno-sleep\n"
    );
    let insp: serde_json::Value = serde_json::from_str(&s.run(&["image", "inspect", "flat:v1"]).ok().stdout).unwrap();
    assert_eq!(insp[0]["RootFS"]["Layers"].as_array().unwrap().len(), 1, "import makes one layer");
    s.run(&["export", "nope"]).code(1);
}

#[test]
fn parents_make_intermediate_images() {
    let s = Sandbox::new();
    s.run(&["run", "--name", "mk", "busybox", "sh", "-c", "echo hi > /f"]).ok();
    let snap = s.run(&["commit", "mk", "snap:v1"]).ok().stdout.trim().to_string();
    s.run(&["rm", "mk"]).ok();
    let busybox = s.run(&["images", "-q", "--no-trunc", "busybox"]).ok().stdout.trim().to_string();
    let insp: serde_json::Value = serde_json::from_str(&s.run(&["image", "inspect", &snap]).ok().stdout).unwrap();
    assert_eq!(insp[0]["Parent"], busybox.as_str(), "commit records the container's image as the parent");
    // Untagging the base leaves it as an intermediate image: hidden, but kept for its child.
    assert_eq!(s.run(&["rmi", "busybox"]).ok().stdout, "Untagged: busybox:latest\n");
    let short = &busybox[7..19];
    assert!(!s.run(&["images"]).ok().stdout.contains(short));
    assert!(!s.run(&["images", "-f", "dangling=true"]).ok().stdout.contains(short));
    let all = s.run(&["images", "-a"]).ok().stdout;
    assert!(all.lines().any(|l| l.starts_with("<none>") && l.contains(short)), "{all}");
    let r = s.run(&["rmi", short]).code(1);
    assert_eq!(
        r.stderr,
        format!("Error: conflict: unable to delete {short} (cannot be forced) - image has dependent child images\n")
    );
    s.run(&["image", "prune", "-f"]).ok();
    assert!(s.run(&["images", "-a"]).ok().stdout.contains(short), "prune keeps an intermediate image");
    // Removing the child takes the untagged parent with it, layers and all.
    let out = s.run(&["rmi", "snap:v1"]).ok().stdout;
    let deleted: Vec<&str> = out.lines().filter(|l| l.starts_with("Deleted: ")).collect();
    assert!(out.starts_with(&format!("Untagged: snap:v1\nDeleted: {snap}\n")), "{out}");
    assert!(deleted.contains(&format!("Deleted: {busybox}").as_str()), "{out}");
    assert_eq!(deleted.len(), 2 + 3, "two images and their three layers:\n{out}");
    assert_eq!(s.run(&["images", "-a", "-q"]).ok().stdout, "");
    assert_eq!(std::fs::read_dir(s.root().join("layers")).unwrap().count(), 0);
}

#[test]
fn format_templates_for_inspect_and_lists() {
    let s = Sandbox::new();
    s.run(&["pull", "busybox"]).ok();
    s.run(&["tag", "busybox", "mybox:v1"]).ok();
    let insp: serde_json::Value = serde_json::from_str(&s.run(&["image", "inspect", "busybox"]).ok().stdout).unwrap();
    let layers: Vec<&str> =
        insp[0]["RootFS"]["Layers"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    // Go's printing: a list is [a b], a map is map[k:v], a missing key <no value>.
    assert_eq!(
        s.run(&["inspect", "--format", "{{.RootFS.Layers}}", "busybox"]).ok().stdout,
        format!("[{}]\n", layers.join(" "))
    );
    let out = s
        .run(&[
            "image",
            "inspect",
            "-f",
            "{{.Id}} {{.RepoTags}} {{json .Config.Cmd}} {{.Config.Entrypoint}} {{.Nope}}",
            "busybox",
        ])
        .ok()
        .stdout;
    assert_eq!(out, format!("{} [busybox:latest mybox:v1] [\"sh\"] [] <no value>\n", insp[0]["Id"].as_str().unwrap()));
    let out = s
        .run(&[
            "inspect",
            "-f",
            "{{range .RootFS.Layers}}{{.}}{{\"\\n\"}}{{end}}{{index .RepoTags 1}} {{len .RootFS.Layers}}",
            "busybox",
        ])
        .ok()
        .stdout;
    assert_eq!(out, format!("{}\nmybox:v1 2\n", layers.join("\n")));
    // One line per object; containers are found first, as Docker does.
    s.run(&["run", "--name", "c1", "busybox", "sh", "-c", "exit 3"]).code(3);
    let out = s
        .run(&["inspect", "-f", "{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{.Config.Image}}", "c1", "busybox"])
        .ok()
        .stdout;
    assert_eq!(out.lines().next(), Some("/c1 exited 3 busybox"), "{out}");
    let r = s.run(&["inspect", "-f", "{{.Id}}", "busybox", "nope"]).code(1);
    assert_eq!(r.stderr, "Error: No such object: nope\n");
    assert_eq!(s.run(&["container", "inspect", "busybox"]).code(1).stderr, "Error: No such container: busybox\n");
    assert_eq!(s.run(&["image", "inspect", "c1"]).code(1).stderr, "Error: No such image: c1\n");
    let r = s.run(&["inspect", "-f", "{{.Id", "busybox"]).code(1);
    assert!(r.stderr.contains("Template parsing error: template: :1: unclosed action"), "{}", r.stderr);
    let r = s.run(&["inspect", "-f", "{{nope .Id}}", "busybox"]).code(1);
    assert!(r.stderr.contains("function \"nope\" not defined"), "{}", r.stderr);
    // List commands: plain templates, and `table` with headers and aligned columns.
    let id = insp[0]["Id"].as_str().unwrap()[7..19].to_string();
    let out = s.run(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]).ok().stdout;
    assert_eq!(out, format!("mybox:v1 {id}\nbusybox:latest {id}\n"));
    let out = s.run(&["images", "--format", "table {{.Repository}}\\t{{.ID}}", "busybox"]).ok().stdout;
    assert_eq!(out, format!("REPOSITORY   IMAGE ID\nbusybox      {id}\n"));
    let out = s.run(&["history", "--format", "{{.ID}}\\t{{.CreatedBy}}", "busybox"]).ok().stdout;
    assert!(out.starts_with(&format!("{id}\t/bin/sh -c #(nop)  CMD [\"sh\"]\n")), "{out}");
    let out = s.run(&["ps", "-a", "--format", "{{.Names}} {{.Image}} {{.State}}"]).ok().stdout;
    assert_eq!(out, "c1 busybox exited\n");
}

#[test]
fn inspect_json_keeps_values_as_they_are() {
    let s = Sandbox::new();
    s.run(&["run", "--name", "mk", "busybox", "true"]).ok();
    s.run(&["commit", "-c", "CMD [\"echo\", \"two  spaces\"]", "mk", "spaced"]).ok();
    let out = s.run(&["image", "inspect", "spaced"]).ok().stdout;
    assert!(out.starts_with("[\n    {\n        \"Id\": \"sha256:"), "4-space indent:\n{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["Config"]["Cmd"][1], "two  spaces", "the indent is not a text replacement");
}
