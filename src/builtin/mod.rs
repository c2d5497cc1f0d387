//! Built-in teaching images, embedded in the binary (built from `guests/`): the first time one
//! is named it is imported into the store as a real layered image, with pull-like output, so
//! skiff works with no registry. Their IDs are the same on every machine.

use crate::archive::create::LayerBuilder;
use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::runtime::wasi::WasiRuntime;
use crate::runtime::{ProcessSpec, RootSpec};
use crate::spec::{to_json, ContainerConfig, Descriptor, History, ImageConfig, RootFs, MEDIA_TYPE_LAYER};
use crate::store::{Image, Store};
use std::collections::BTreeMap;
use std::io::Write;

const SH_WASM: &[u8] = include_bytes!("../../guests/bin/sh.wasm");
const BOX_WASM: &[u8] = include_bytes!("../../guests/bin/box.wasm");
const HELLO_WASM: &[u8] = include_bytes!("../../guests/bin/hello.wasm");

/// The creation time of every built-in image: fixed, so their IDs are reproducible.
const CREATED: &str = "2026-11-23T00:00:00Z";
const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const LABEL: &str = "io.skiff.teaching-image";

/// The built-in images: (repository as Docker prints it, tags, what it is).
pub const CATALOG: &[(&str, &[&str], &str)] = &[
    ("busybox", &["latest"], "a shell (sh) and the usual commands (ls, cat, grep, …)"),
    ("hello-world", &["latest"], "prints a greeting that explains what skiff did"),
];

/// Whether `r` names a built-in image.
pub fn is_builtin(r: &Reference) -> bool {
    r.domain == crate::reference::DEFAULT_DOMAIN
        && CATALOG.iter().any(|(name, tags, _)| {
            r.path == format!("library/{name}") && r.tag.as_deref().is_some_and(|t| tags.contains(&t))
        })
}

/// One layer of a recipe with the history line that made it.
struct Step {
    layer: Option<LayerBuilder>,
    created_by: String,
}

/// Import the built-in image `r` into the store, printing Docker-like pull progress to `out`.
pub fn import(store: &Store, rt: &WasiRuntime, r: &Reference, out: &mut dyn Write) -> Result<Image> {
    let name = r.path.trim_start_matches("library/");
    let (steps, config) = match name {
        "busybox" => busybox(rt, store)?,
        "hello-world" => hello_world(),
        _ => return Err(Error::NoSuchImage(r.familiar())),
    };
    let _ = writeln!(out, "{}: Pulling from {}", r.tag.as_deref().unwrap_or("latest"), r.path);
    let _lock = store.lock()?;
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    let mut history = Vec::new();
    let mut parent = None;
    for step in steps {
        let Some(layer) = step.layer else {
            history.push(History {
                created: Some(CREATED.into()),
                created_by: Some(step.created_by),
                empty_layer: true,
                ..Default::default()
            });
            continue;
        };
        let tar = layer.to_tar(0);
        let diff_id = store.put_blob(&tar)?;
        let meta = store.unpack_layer(&diff_id, parent.as_ref())?;
        rt.precompile_layer(store, &meta)?;
        let _ = writeln!(out, "{}: Pull complete", diff_id.short());
        parent = Some(meta.chain_id.clone());
        descriptors.push(Descriptor::new(MEDIA_TYPE_LAYER, diff_id.clone(), tar.len() as u64));
        diff_ids.push(diff_id);
        history.push(History { created: Some(CREATED.into()), created_by: Some(step.created_by), ..Default::default() });
    }
    let image_config = ImageConfig {
        created: Some(CREATED.into()),
        author: Some("skiff built-in library".into()),
        architecture: "wasm32".into(),
        os: "wasip1".into(),
        config: Some(config),
        rootfs: RootFs::layers(diff_ids),
        history,
        extra: BTreeMap::new(),
    };
    let (_, manifest) = store.put_image(&to_json(&image_config), descriptors)?;
    store.tag_image(&manifest, r)?;
    let _ = writeln!(out, "Digest: {manifest}");
    let _ = writeln!(out, "Status: Downloaded newer image for {}", r.familiar());
    store.image_by_manifest(&manifest, vec![r.clone()])
}

fn labels(name: &str, what: &str) -> Option<BTreeMap<String, String>> {
    let mut l = BTreeMap::new();
    l.insert(LABEL.to_string(), name.to_string());
    l.insert("org.opencontainers.image.description".to_string(), format!("skiff teaching image: {what}"));
    Some(l)
}

/// busybox: a base filesystem layer, then a layer of programs (sh, box and its applet links)
/// that also rewrites `/etc/issue` — so `image why busybox /etc/issue` shows one layer
/// shadowing another.
fn busybox(rt: &WasiRuntime, store: &Store) -> Result<(Vec<Step>, ContainerConfig)> {
    let mut base = LayerBuilder::new();
    for d in ["bin", "dev", "etc", "home", "proc", "sys", "usr/bin", "usr/sbin", "usr/local/bin", "var/spool/mail", "var/www"] {
        base.dir(d, 0o755);
    }
    base.dir("root", 0o700).dir("tmp", 0o1777);
    base.file("etc/passwd", PASSWD, 0o644).file("etc/group", GROUP, 0o644);
    base.file("etc/issue", "skiff busybox: base filesystem\n", 0o644);

    let mut progs = LayerBuilder::new();
    progs.file("bin/box", BOX_WASM, 0o755).file("bin/sh", SH_WASM, 0o755);
    for applet in applets(rt, store)? {
        if applet != "sh" && applet != "box" {
            progs.symlink(&format!("bin/{applet}"), "box");
        }
    }
    progs.file("etc/issue", "Welcome to skiff's busybox: a WASI teaching image (sh + box)\n", 0o644);

    let steps = vec![
        Step { layer: Some(base), created_by: "/bin/sh -c #(nop) ADD dir:base-filesystem in / ".into() },
        Step {
            layer: Some(progs),
            created_by: "/bin/sh -c #(nop) COPY file:sh.wasm file:box.wasm in /bin/ && box --list | ln -s box /bin/<applet>".into(),
        },
        Step { layer: None, created_by: "/bin/sh -c #(nop)  CMD [\"sh\"]".into() },
    ];
    let config = ContainerConfig {
        env: Some(vec![PATH_ENV.into()]),
        cmd: Some(vec!["sh".into()]),
        labels: labels("busybox", "sh and the usual Unix commands"),
        ..Default::default()
    };
    Ok((steps, config))
}

fn hello_world() -> (Vec<Step>, ContainerConfig) {
    let mut l = LayerBuilder::new();
    l.file("hello", HELLO_WASM, 0o755);
    let steps = vec![
        Step { layer: Some(l), created_by: "/bin/sh -c #(nop) COPY file:hello.wasm in / ".into() },
        Step { layer: None, created_by: "/bin/sh -c #(nop)  CMD [\"/hello\"]".into() },
    ];
    let config = ContainerConfig {
        env: Some(vec![PATH_ENV.into()]),
        cmd: Some(vec!["/hello".into()]),
        labels: labels("hello-world", "a greeting"),
        ..Default::default()
    };
    (steps, config)
}

/// The applet names `box --list` prints: box itself is the one source of truth.
fn applets(rt: &WasiRuntime, store: &Store) -> Result<Vec<String>> {
    let tmp = tempfile::tempdir_in(store.tmp_dir()).map_err(|e| Error::io(store.tmp_dir(), e))?;
    let upper = tmp.path().join("upper");
    std::fs::create_dir_all(upper.join("bin")).map_err(|e| Error::io(&upper, e))?;
    std::fs::write(upper.join("bin/box"), BOX_WASM).map_err(|e| Error::io(&upper, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(upper.join("bin/box"), std::fs::Permissions::from_mode(0o755));
    }
    let root = RootSpec { lowers: vec![], upper, mounts: vec![], memory: 0, proc_table: None, net: None };
    let p = ProcessSpec { argv: vec!["/bin/box".into(), "--list".into()], env: vec![], cwd: "/".into(), stdin: false };
    let (code, out) = rt.capture(&root, &p)?;
    if code != 0 {
        return Err(Error::Other(format!("box --list exited with {code}")));
    }
    let mut names: Vec<String> = String::from_utf8_lossy(&out).lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty() && !l.contains('/')).collect();
    names.sort();
    names.dedup();
    Ok(names)
}

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
";

const GROUP: &str = "root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:8:
www-data:x:33:
operator:x:37:
staff:x:50:
users:x:100:
nogroup:x:65534:
";

// ---- getting images: the built-in library stands in for a registry (until `registry/`) ----

/// "Pull" `r` from the built-in library, or explain why it cannot be had.
pub fn pull(store: &Store, r: &Reference, out: &mut dyn Write) -> anyhow::Result<Image> {
    if !is_builtin(r) {
        let names: Vec<&str> = CATALOG.iter().map(|(n, _, _)| *n).collect();
        anyhow::bail!(
            "No such image: {} (not in the store, and not one of skiff's built-in images: {})",
            r.familiar(),
            names.join(", ")
        );
    }
    let rt = WasiRuntime::new(store)?;
    Ok(import(store, &rt, r, out)?)
}

/// The image `name`, importing a built-in one on first use (`Unable to find image … locally`).
pub fn get_or_pull(store: &Store, name: &str, out: &mut dyn Write) -> anyhow::Result<Image> {
    match store.find_image(name) {
        Ok(img) => Ok(img),
        Err(Error::NoSuchImage(_)) => {
            let r = Reference::parse(name)?.with_default_tag();
            let _ = writeln!(out, "Unable to find image '{}' locally", r.familiar());
            pull(store, &r, out)
        }
        Err(e) => Err(e.into()),
    }
}
