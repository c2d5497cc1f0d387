//! `registry`: the program of skiff's `registry:2` image, a teaching version of distribution
//! 2.8 (the Docker registry): the Distribution API v2 (`/v2/…`) over HTTP on port 5000,
//! storing blobs, manifests and tags under `/var/lib/registry` in the real registry's layout.
//!
//! `registry serve CONFIG`, `registry garbage-collect [--dry-run] [--delete-untagged] CONFIG`,
//! `registry --version`; a first argument ending in `.yml` means `serve` (what the real
//! image's entrypoint script does).

mod api;
mod config;
mod errors;
mod event;
mod gc;
mod http;
mod names;
mod store;
mod util;

use std::io::Write;

use config::Config;

pub const VERSION: &str = "v2.8.3";

const USAGE: &str = "`registry`

Usage:
  registry [flags]
  registry [command]

Available Commands:
  garbage-collect `garbage-collect` deletes layers not referenced by any manifests
  help            Help about any command
  serve           `serve` stores and distributes Docker images

Flags:
  -h, --help=false: help for registry
  -v, --version=false: show the version and exit


Use \"registry help [command]\" for more information about a command.
";

/// The configuration named on the command line (or by `REGISTRY_CONFIGURATION_PATH`).
fn load_config(args: &[String]) -> Result<Config, String> {
    let path = match args.iter().find(|a| !a.starts_with('-')) {
        Some(p) => p.clone(),
        None => match std::env::var("REGISTRY_CONFIGURATION_PATH") {
            Ok(p) if !p.is_empty() => p,
            _ => return Err("configuration error: configuration path unspecified".into()),
        },
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        format!("configuration error: open {path}: {why}")
    })?;
    let env: Vec<(String, String)> = std::env::vars().collect();
    Config::load(&text, &env).map_err(|e| {
        if e.starts_with("configuration error") {
            e
        } else {
            format!("configuration error: {e}")
        }
    })
}

fn serve(args: &[String]) -> i32 {
    let cfg = match load_config(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}\n");
            eprint!("{}", USAGE.replace("registry [command]", "registry serve <config>"));
            return 1;
        }
    };
    let port = cfg.port;
    let no_secret = cfg.secret.is_empty();
    let mut reg = api::Registry::new(cfg);
    let now = serve::time::now_ms();
    let mut log = String::new();
    if no_secret {
        log += &reg.log_line(now, "warning", "No HTTP secret provided - generated random secret. This may cause problems with uploads if multiple registries are behind a load-balancer. To provide a shared secret, fill in http.secret in the configuration file or set the REGISTRY_HTTP_SECRET environment variable.", "");
    }
    log += &reg.log_line(now, "info", "redis not configured", "");
    let purged = reg.purge_uploads(now, 7 * 24 * 3600 * 1000);
    if purged > 0 {
        log += &reg.log_line(now, "info", &format!("purged {purged} upload(s) older than 168h0m0s"), "");
    }
    log += &reg.log_line(now, "info", "using inmemory blob descriptor cache", "");
    let listener = match serve::listen(port) {
        Ok(l) => l,
        Err(e) => {
            let why = match e.kind() {
                std::io::ErrorKind::AddrInUse => "address already in use".to_string(),
                _ => e.to_string(),
            };
            log += &reg.log_line(now, "fatal", &format!("listen tcp :{port}: bind: {why}"), "");
            print!("{log}");
            let _ = std::io::stdout().flush();
            return 1;
        }
    };
    log += &reg.log_line(now, "info", &format!("listening on [::]:{port}"), "");
    print!("{log}");
    let _ = std::io::stdout().flush();
    match event::run(listener, &mut reg) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("registry: {e}");
            1
        }
    }
}

fn main() {
    skiff_guest::init();
    let argv: Vec<String> = std::env::args().collect();
    let args = argv.get(1..).unwrap_or(&[]);
    let code = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some(a) if a.ends_with(".yml") || a.ends_with(".yaml") => serve(args),
        Some("garbage-collect") => match load_config(&args[1..]) {
            Ok(cfg) => {
                let dry = args.iter().any(|a| a == "--dry-run" || a == "-d");
                let untagged = args.iter().any(|a| a == "--delete-untagged" || a == "-m");
                let mut out = std::io::stdout();
                match gc::run(&store::Store::new(&cfg.root), dry, untagged, &mut out) {
                    Ok(()) => 0,
                    Err(e) => {
                        eprintln!("failed to garbage collect: {e}");
                        1
                    }
                }
            }
            Err(e) => {
                eprintln!("{e}");
                1
            }
        },
        Some("-v" | "--version" | "version") => {
            println!(
                "{} github.com/docker/distribution {VERSION} (skiff teaching image)",
                argv.first().map(String::as_str).unwrap_or("registry")
            );
            0
        }
        None | Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            0
        }
        Some(other) => {
            eprintln!("Error: unknown command \"{other}\" for \"registry\"\nRun 'registry --help' for usage.");
            1
        }
    };
    std::process::exit(code);
}
