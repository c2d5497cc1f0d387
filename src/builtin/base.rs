//! The base teaching images: `busybox` (a shell and the usual commands, the layers the other
//! images build on) and `hello-world`.

use super::{labels, Step, PATH_ENV};
use crate::archive::create::LayerBuilder;
use crate::error::{Error, Result};
use crate::runtime::Backend;
use crate::runtime::{Buffer, ContainerSpec, Output, ProcessSpec, Stdio};
use crate::spec::ContainerConfig;
use crate::store::Store;

const SH_WASM: &[u8] = include_bytes!("../../guests/bin/sh.wasm");
const BOX_WASM: &[u8] = include_bytes!("../../guests/bin/box.wasm");
const HELLO_WASM: &[u8] = include_bytes!("../../guests/bin/hello.wasm");

/// busybox: a base filesystem layer, then a layer of programs (sh, box and its applet links)
/// that also rewrites `/etc/issue` — so `image why busybox /etc/issue` shows one layer
/// shadowing another.
pub(super) fn busybox(rt: &dyn Backend, store: &Store) -> Result<(Vec<Step>, ContainerConfig)> {
    let mut base = LayerBuilder::new();
    for d in [
        "bin",
        "dev",
        "etc",
        "home",
        "proc",
        "sys",
        "usr/bin",
        "usr/sbin",
        "usr/local/bin",
        "var/spool/mail",
        "var/www",
    ] {
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
            created_by:
                "/bin/sh -c #(nop) COPY file:sh.wasm file:box.wasm in /bin/ && box --list | ln -s box /bin/<applet>"
                    .into(),
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

pub(super) fn hello_world() -> (Vec<Step>, ContainerConfig) {
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
fn applets(rt: &dyn Backend, store: &Store) -> Result<Vec<String>> {
    let tmp = tempfile::tempdir_in(store.scratch_dir()).map_err(|e| Error::io(store.scratch_dir(), e))?;
    let upper = tmp.path().join("upper");
    std::fs::create_dir_all(upper.join("bin")).map_err(|e| Error::io(&upper, e))?;
    std::fs::write(upper.join("bin/box"), BOX_WASM).map_err(|e| Error::io(&upper, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(upper.join("bin/box"), std::fs::Permissions::from_mode(0o755));
    }
    let spec = ContainerSpec::bare("box-list", tmp.path().to_path_buf(), vec![], upper);
    let p = ProcessSpec { argv: vec!["/bin/box".into(), "--list".into()], cwd: "/".into(), ..Default::default() };
    let buf = Buffer::default();
    let io = Stdio { stdout: Output::writer(buf.clone()), stderr: Output::Inherit, ..Default::default() };
    let code = rt.create(&spec, Default::default())?.run(&p, io, &mut || {})?.code;
    let out = buf.take();
    if code != 0 {
        return Err(Error::Other(format!("box --list exited with {code}")));
    }
    let mut names: Vec<String> = String::from_utf8_lossy(&out)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty() && !l.contains('/'))
        .collect();
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
