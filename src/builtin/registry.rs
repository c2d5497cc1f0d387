//! The `registry:2` teaching image (2.8.3, also tagged `2.8` and `latest`): the Docker
//! registry (Distribution API v2, guests/registry) on port 5000, storing what is pushed under
//! the volume `/var/lib/registry` in the real registry's layout. Built on busybox's layers, as
//! the other server images are, with the real image's config file and entrypoint script.

use super::{base, labels, Step, PATH_ENV};
use crate::archive::create::LayerBuilder;
use crate::error::Result;
use crate::runtime::Backend;
use crate::spec::ContainerConfig;
use crate::store::Store;
use serde_json::json;
use std::collections::BTreeMap;

const REGISTRY_WASM: &[u8] = include_bytes!("../../guests/bin/registry.wasm");

/// `/etc/docker/registry/config.yml` of the real `registry:2` image (what `registry serve`
/// reads; `REGISTRY_HTTP_ADDR`, `REGISTRY_STORAGE_DELETE_ENABLED`… override its keys).
const CONFIG_YML: &str = "version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
";

/// The real image's entrypoint script, there to be read. skiff's image runs `registry serve`
/// directly (skiff's `sh` runs `exec` as a child, so the script would keep a shell as PID 1);
/// its `registry` takes a config file as first argument as the script does.
const ENTRYPOINT_SH: &str = "#!/bin/sh

set -e

case \"$1\" in
    *.yaml|*.yml) set -- registry serve \"$@\" ;;
    serve|garbage-collect|help|-*) set -- registry \"$@\" ;;
esac

exec \"$@\"
";

const CMD: [&str; 3] = ["registry", "serve", "/etc/docker/registry/config.yml"];

fn nop(line: &str) -> Step {
    Step { layer: None, created_by: format!("/bin/sh -c #(nop)  {line}") }
}

fn copy(layer: LayerBuilder, what: &str) -> Step {
    Step { layer: Some(layer), created_by: format!("/bin/sh -c #(nop) COPY {what} ") }
}

pub(super) fn registry(rt: &dyn Backend, store: &Store) -> Result<(Vec<Step>, ContainerConfig)> {
    let mut bin = LayerBuilder::new();
    bin.file("bin/registry", REGISTRY_WASM, 0o755);
    let mut conf = LayerBuilder::new();
    conf.file("etc/docker/registry/config.yml", CONFIG_YML, 0o644).dir("var/lib/registry", 0o755);
    let mut entry = LayerBuilder::new();
    entry.file("entrypoint.sh", ENTRYPOINT_SH, 0o755);
    let (mut steps, _) = base::busybox(rt, store)?;
    steps.extend([
        copy(bin, "file:registry.wasm in /bin/registry"),
        copy(conf, "file:config-example.yml in /etc/docker/registry/config.yml"),
        nop("VOLUME [/var/lib/registry]"),
        nop("EXPOSE 5000"),
        copy(entry, "file:docker-entrypoint.sh in /entrypoint.sh"),
        nop(&format!("CMD [\"{}\"]", CMD.join("\" \""))),
    ]);
    let config = ContainerConfig {
        env: Some(vec![PATH_ENV.into()]),
        cmd: Some(CMD.iter().map(|s| s.to_string()).collect()),
        exposed_ports: Some(BTreeMap::from([("5000/tcp".to_string(), json!({}))])),
        volumes: Some(BTreeMap::from([("/var/lib/registry".to_string(), json!({}))])),
        labels: labels(
            "registry",
            "the Docker registry (Distribution API v2, as registry 2.8 serves it) on port 5000, storing images under /var/lib/registry",
        ),
        ..Default::default()
    };
    Ok((steps, config))
}
