//! The server teaching images of the networking chapter: `whoami`, `nginx`, `httpd`,
//! `redis` (and `redis:7-alpine`) and `postgres`. Each is built on busybox's layers (shared, so `pull` says
//! `Already exists` for them), with a shell for `exec -it … sh`.

use super::{base, labels, Step, PATH_ENV};
use crate::archive::create::LayerBuilder;
use crate::error::Result;
use crate::runtime::Backend;
use crate::spec::ContainerConfig;
use crate::store::Store;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const WHOAMI_WASM: &[u8] = include_bytes!("../../guests/bin/whoami.wasm");
const HTTPD_WASM: &[u8] = include_bytes!("../../guests/bin/httpd.wasm");
const REDIS_WASM: &[u8] = include_bytes!("../../guests/bin/redis.wasm");
const SH_WASM: &[u8] = include_bytes!("../../guests/bin/sh.wasm");
const POSTGRES_WASM: &[u8] = include_bytes!("../../guests/bin/postgres.wasm");

/// nginx's own welcome page (615 bytes, as tutorials show it).
const NGINX_INDEX: &str = "<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href=\"http://nginx.org/\">nginx.org</a>.<br/>
Commercial support is available at
<a href=\"http://nginx.com/\">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
";

const NGINX_50X: &str = "<!DOCTYPE html>
<html>
<head>
<title>Error</title>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
</body>
</html>
";

/// What skiff's nginx reads (it serves /usr/share/nginx/html on port 80; the file is there to
/// be looked at, as the real image's is).
const NGINX_CONF: &str = "# skiff teaching image: the web server is skiff's own (guests/httpd), not nginx;
# it serves /usr/share/nginx/html on port 80 ($PORT overrides) and logs to stdout.
server {
    listen       80;
    server_name  localhost;
    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }
}
";

fn ports(list: &[&str]) -> Option<BTreeMap<String, Value>> {
    Some(list.iter().map(|p| (p.to_string(), json!({}))).collect())
}

fn env(extra: &[&str]) -> Option<Vec<String>> {
    let mut v = vec![PATH_ENV.to_string()];
    v.extend(extra.iter().map(|s| s.to_string()));
    Some(v)
}

fn nop(line: &str) -> Step {
    Step { layer: None, created_by: format!("/bin/sh -c #(nop)  {line}") }
}

/// busybox's steps with `more` on top.
fn on_busybox(rt: &dyn Backend, store: &Store, more: Vec<Step>) -> Result<Vec<Step>> {
    let (mut steps, _) = base::busybox(rt, store)?;
    steps.extend(more);
    Ok(steps)
}

pub(super) fn whoami(rt: &dyn Backend, store: &Store) -> Result<(Vec<Step>, ContainerConfig)> {
    let mut l = LayerBuilder::new();
    l.dir("app", 0o755).file("usr/local/bin/whoami", WHOAMI_WASM, 0o755);
    let steps = on_busybox(
        rt,
        store,
        vec![
            nop("ENV AUTHOR=skiff"),
            Step {
                layer: Some(l),
                created_by: "/bin/sh -c #(nop) COPY file:whoami.wasm in /usr/local/bin/whoami ".into(),
            },
            nop("WORKDIR /app"),
            nop("EXPOSE 3000"),
            nop("CMD [\"whoami\"]"),
        ],
    )?;
    let config = ContainerConfig {
        env: env(&["AUTHOR=skiff"]),
        cmd: Some(vec!["whoami".into()]),
        working_dir: Some("/app".into()),
        exposed_ports: ports(&["3000/tcp"]),
        labels: labels("whoami", "an HTTP server on port 3000 that answers with its host name, IP and $AUTHOR"),
        ..Default::default()
    };
    Ok((steps, config))
}

pub(super) fn nginx(rt: &dyn Backend, store: &Store) -> Result<(Vec<Step>, ContainerConfig)> {
    let mut l = LayerBuilder::new();
    l.file("usr/sbin/nginx", HTTPD_WASM, 0o755)
        .file("usr/share/nginx/html/index.html", NGINX_INDEX, 0o644)
        .file("usr/share/nginx/html/50x.html", NGINX_50X, 0o644)
        .file("etc/nginx/conf.d/default.conf", NGINX_CONF, 0o644)
        .dir("var/log/nginx", 0o755);
    let steps = on_busybox(
        rt,
        store,
        vec![
            nop("ENV NGINX_VERSION=1.23.1"),
            Step {
                layer: Some(l),
                created_by: "/bin/sh -c #(nop) COPY file:httpd.wasm in /usr/sbin/nginx && add /usr/share/nginx/html "
                    .into(),
            },
            nop("EXPOSE 80"),
            nop("STOPSIGNAL SIGQUIT"),
            nop("CMD [\"nginx\" \"-g\" \"daemon off;\"]"),
        ],
    )?;
    let config = ContainerConfig {
        env: env(&["NGINX_VERSION=1.23.1"]),
        cmd: Some(vec!["nginx".into(), "-g".into(), "daemon off;".into()]),
        exposed_ports: ports(&["80/tcp"]),
        stop_signal: Some("SIGQUIT".into()),
        labels: labels("nginx", "a static web server on port 80 serving /usr/share/nginx/html (skiff's own server, named as the tutorials name it)"),
        ..Default::default()
    };
    Ok((steps, config))
}

pub(super) fn httpd(rt: &dyn Backend, store: &Store) -> Result<(Vec<Step>, ContainerConfig)> {
    let mut l = LayerBuilder::new();
    l.file("usr/local/apache2/bin/httpd", HTTPD_WASM, 0o755)
        .symlink("usr/local/bin/httpd-foreground", "/usr/local/apache2/bin/httpd")
        .symlink("usr/local/apache2/bin/ab", "httpd")
        .file("usr/local/apache2/htdocs/index.html", "<html><body><h1>It works!</h1></body></html>\n", 0o644)
        .dir("usr/local/apache2/logs", 0o755);
    let steps = on_busybox(rt, store, vec![
        nop("ENV HTTPD_PREFIX=/usr/local/apache2"),
        nop("ENV PATH=/usr/local/apache2/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        nop("WORKDIR /usr/local/apache2"),
        nop("ENV HTTPD_VERSION=2.4.54"),
        Step { layer: Some(l), created_by: "/bin/sh -c #(nop) COPY file:httpd.wasm in /usr/local/apache2/bin/httpd && ln -s httpd ab && add htdocs ".into() },
        nop("STOPSIGNAL SIGWINCH"),
        nop("EXPOSE 80"),
        nop("CMD [\"httpd-foreground\"]"),
    ])?;
    let config = ContainerConfig {
        env: Some(vec![
            "PATH=/usr/local/apache2/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            "HTTPD_PREFIX=/usr/local/apache2".into(),
            "HTTPD_VERSION=2.4.54".into(),
        ]),
        cmd: Some(vec!["httpd-foreground".into()]),
        working_dir: Some("/usr/local/apache2".into()),
        exposed_ports: ports(&["80/tcp"]),
        stop_signal: Some("SIGWINCH".into()),
        labels: labels("httpd", "a static web server on port 80 serving /usr/local/apache2/htdocs (skiff's own server, named as the tutorials name it)"),
        ..Default::default()
    };
    Ok((steps, config))
}

fn redis_layer() -> LayerBuilder {
    let mut l = LayerBuilder::new();
    l.file("usr/local/bin/redis-server", REDIS_WASM, 0o755)
        .symlink("usr/local/bin/redis-cli", "redis-server")
        .dir("data", 0o755);
    l
}

/// The health checks the real images' documentation suggests (their compose examples):
/// `redis-cli ping` and `pg_isready`, every 5 seconds.
fn healthcheck(test: &[&str]) -> Value {
    json!({ "Test": test, "Interval": 5_000_000_000i64, "Timeout": 3_000_000_000i64, "Retries": 3 })
}

/// The history line of a HEALTHCHECK step, as skiff's builder writes it.
fn healthcheck_step(test: &[&str]) -> Step {
    nop(&format!("HEALTHCHECK {}", healthcheck(test)))
}

const REDIS_CHECK: &[&str] = &["CMD", "redis-cli", "ping"];
const POSTGRES_CHECK: &[&str] = &["CMD-SHELL", "pg_isready -U postgres"];

fn redis_config(what: &str) -> ContainerConfig {
    ContainerConfig {
        healthcheck: Some(healthcheck(REDIS_CHECK)),
        env: env(&["REDIS_VERSION=7.0.4"]),
        cmd: Some(vec!["redis-server".into()]),
        working_dir: Some("/data".into()),
        exposed_ports: ports(&["6379/tcp"]),
        volumes: Some(BTreeMap::from([("/data".to_string(), json!({}))])),
        labels: labels("redis", what),
        ..Default::default()
    }
}

fn redis_steps() -> Vec<Step> {
    vec![
        nop("ENV REDIS_VERSION=7.0.4"),
        Step {
            layer: Some(redis_layer()),
            created_by:
                "/bin/sh -c #(nop) COPY file:redis.wasm in /usr/local/bin/redis-server && ln -s redis-server redis-cli "
                    .into(),
        },
        nop("VOLUME [/data]"),
        nop("WORKDIR /data"),
        nop("EXPOSE 6379"),
        healthcheck_step(REDIS_CHECK),
        nop("CMD [\"redis-server\"]"),
    ]
}

/// `redis` (7.0.4, also tagged 7.0 and latest): on busybox.
pub(super) fn redis(rt: &dyn Backend, store: &Store) -> Result<(Vec<Step>, ContainerConfig)> {
    Ok((
        on_busybox(rt, store, redis_steps())?,
        redis_config("a key-value server on port 6379 (RESP: PING, SET, GET, DEL, INCR, KEYS, …) and redis-cli"),
    ))
}

/// `redis:7-alpine`: the same server on a smaller base (a shell, no other commands).
pub(super) fn redis_alpine() -> (Vec<Step>, ContainerConfig) {
    let mut base = LayerBuilder::new();
    for d in ["bin", "etc", "tmp", "usr/local/bin"] {
        base.dir(d, 0o755);
    }
    base.file("bin/sh", SH_WASM, 0o755).file(
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\nredis:x:999:1000::/home/redis:/sbin/nologin\n",
        0o644,
    );
    let mut steps = vec![
        Step { layer: Some(base), created_by: "/bin/sh -c #(nop) ADD file:small-base in / ".into() },
        nop("CMD [\"/bin/sh\"]"),
    ];
    steps.extend(redis_steps());
    (steps, redis_config("a key-value server on port 6379 and redis-cli, on a smaller base (only a shell)"))
}

/// `postgres` (`latest`, `15` and `alpine` are one image; `16` differs in `PG_MAJOR`): skiff's
/// SQL server speaking PostgreSQL's wire protocol, with psql and pg_isready, on busybox.
pub(super) fn postgres(rt: &dyn Backend, store: &Store, major: &str) -> Result<(Vec<Step>, ContainerConfig)> {
    let mut l = LayerBuilder::new();
    l.file("usr/local/bin/postgres", POSTGRES_WASM, 0o755)
        .symlink("usr/local/bin/psql", "postgres")
        .symlink("usr/local/bin/pg_isready", "postgres")
        .dir("var/run/postgresql", 0o775)
        .dir("var/lib/postgresql/data", 0o700)
        .dir("docker-entrypoint-initdb.d", 0o755);
    let env_lines = [format!("PG_MAJOR={major}"), "PGDATA=/var/lib/postgresql/data".to_string()];
    let steps = on_busybox(rt, store, vec![
        nop(&format!("ENV {}", env_lines[0])),
        Step { layer: Some(l), created_by: "/bin/sh -c #(nop) COPY file:postgres.wasm in /usr/local/bin/postgres && ln -s postgres psql pg_isready ".into() },
        nop(&format!("ENV {}", env_lines[1])),
        nop("VOLUME [/var/lib/postgresql/data]"),
        nop("EXPOSE 5432"),
        nop("STOPSIGNAL SIGINT"),
        healthcheck_step(POSTGRES_CHECK),
        nop("CMD [\"postgres\"]"),
    ])?;
    let config = ContainerConfig {
        env: env(&[env_lines[0].as_str(), env_lines[1].as_str()]),
        cmd: Some(vec!["postgres".into()]),
        exposed_ports: ports(&["5432/tcp"]),
        volumes: Some(BTreeMap::from([("/var/lib/postgresql/data".to_string(), json!({}))])),
        stop_signal: Some("SIGINT".into()),
        healthcheck: Some(healthcheck(POSTGRES_CHECK)),
        labels: labels(
            "postgres",
            "a SQL server on port 5432 speaking PostgreSQL's wire protocol (skiff's own engine: CREATE TABLE, INSERT, SELECT, UPDATE, DELETE, transactions), with psql and pg_isready",
        ),
        ..Default::default()
    };
    Ok((steps, config))
}
