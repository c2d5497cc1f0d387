//! `postgres`: the programs of skiff's postgres teaching image, chosen by argv[0]'s base
//! name: `postgres` (the server, with the official image's entrypoint folded in: initdb on
//! an empty `PGDATA`), `psql` and `pg_isready`.

mod auth;
mod params;
mod proto;
mod psql;
mod regex;
mod server;
mod sql;

use std::io::Write;
use std::path::PathBuf;

/// The server's version: `$PG_MAJOR.0 (skiff)`.
pub fn server_version() -> String {
    let major = std::env::var("PG_MAJOR")
        .ok()
        .filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| "15".into());
    format!("{major}.0 (skiff)")
}

fn env(k: &str) -> String {
    std::env::var(k).unwrap_or_default()
}

fn postgres(args: &[String]) -> i32 {
    let version = server_version();
    let mut port: u16 = std::env::var("PGPORT").ok().and_then(|p| p.parse().ok()).unwrap_or(5432);
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-V" | "--version" => {
                println!("postgres (PostgreSQL) {version}");
                return 0;
            }
            "--help" | "-?" => {
                print!("postgres is the PostgreSQL server (skiff's teaching edition).\n\nUsage:\n  postgres [OPTION]...\n\nOptions:\n  -c NAME=VALUE      set run-time parameter (port is honored)\n  -p PORT            port number to listen on\n  -V, --version      output version information, then exit\n  -C NAME            print value of run-time parameter, then exit\n  -?, --help         show this help, then exit\n");
                return 0;
            }
            "-C" => {
                let name = args.get(i + 1).cloned().unwrap_or_default();
                match name.as_str() {
                    "password_encryption" => println!("scram-sha-256"),
                    "port" => println!("{port}"),
                    "data_directory" => {
                        println!("{}", std::env::var("PGDATA").unwrap_or_else(|_| "/var/lib/postgresql/data".into()))
                    }
                    "server_version" => println!("{version}"),
                    _ => {
                        eprintln!("postgres: could not access the server configuration file \"/var/lib/postgresql/data/postgresql.conf\": No such file or directory");
                        return 1;
                    }
                }
                return 0;
            }
            "-p" => {
                port = args.get(i + 1).and_then(|p| p.parse().ok()).unwrap_or(port);
                i += 1;
            }
            "-c" => {
                if let Some((k, v)) = args.get(i + 1).and_then(|kv| kv.split_once('=')) {
                    if k == "port" {
                        port = v.parse().unwrap_or(port);
                    }
                }
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    let user = Some(env("POSTGRES_USER")).filter(|u| !u.is_empty()).unwrap_or_else(|| "postgres".into());
    let cfg = server::Config {
        pgdata: PathBuf::from(
            Some(env("PGDATA")).filter(|d| !d.is_empty()).unwrap_or_else(|| "/var/lib/postgresql/data".into()),
        ),
        db: Some(env("POSTGRES_DB")).filter(|d| !d.is_empty()).unwrap_or_else(|| user.clone()),
        user,
        password: env("POSTGRES_PASSWORD"),
        host_auth: env("POSTGRES_HOST_AUTH_METHOD"),
        port,
        version,
    };
    let now = serve::time::now_ms();
    let mut out = std::io::stdout();
    let last_up;
    if !server::initialized(&cfg.pgdata) {
        if cfg.password.is_empty() && cfg.host_auth != "trust" {
            eprint!("{}", server::NO_PASSWORD);
            return 1;
        }
        if cfg.host_auth == "trust" {
            eprint!("{}", server::TRUST_WARNING);
        }
        let _ = write!(out, "{}", server::INITDB_TEXT.replace("{PGDATA}", &cfg.pgdata.display().to_string()));
        let _ = out.flush();
        if let Err(e) = server::initdb(&cfg, now) {
            eprintln!("initdb: error: could not create directory \"{}\": {e}", cfg.pgdata.display());
            return 1;
        }
        eprint!("initdb: warning: enabling \"trust\" authentication for local connections\ninitdb: hint: You can change this by editing pg_hba.conf or using the option -A, or --auth-local and --auth-host, the next time you run initdb.\n");
        let _ = write!(out, "\nPostgreSQL init process complete; ready for start up.\n\n");
        last_up = Some(now);
    } else {
        let _ =
            write!(out, "\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n");
        last_up = std::fs::read_to_string(cfg.pgdata.join("global/pg_control"))
            .ok()
            .and_then(|s| s.split_whitespace().nth(2).and_then(|x| x.parse().ok()));
    }
    let _ = out.flush();
    let engine = match server::load(&cfg, now) {
        Ok(e) => e,
        Err(e) => {
            print!("{}", server::log_line(now, 1, "FATAL", &e));
            return 1;
        }
    };
    let listener = match serve::listen(cfg.port) {
        Ok(l) => l,
        Err(e) => {
            let why =
                if e.kind() == std::io::ErrorKind::AddrInUse { "Address in use".to_string() } else { e.to_string() };
            print!("{}", server::log_line(now, 1, "LOG", &format!("could not bind IPv4 address \"0.0.0.0\": {why}")));
            print!("{}", server::log_line(now, 1, "FATAL", "could not create any TCP/IP sockets"));
            return 1;
        }
    };
    // The "Unix socket": a file with a token only this container's processes can read.
    let mut token = [0u8; 16];
    auth::random_bytes(&mut token);
    let local_token = sql::eval::hex(&token);
    let _ = std::fs::create_dir_all("/var/run/postgresql");
    let socket = server::socket_path(cfg.port);
    let _ = sql::storage::write_atomic(std::path::Path::new(&socket), format!("{local_token}\n").as_bytes());
    print!("{}", server::start_log(&cfg, now, last_up));
    let _ = out.flush();
    // Until a clean shutdown is recorded (there is none: a stop ends the process), the next
    // start says the system was interrupted, as PostgreSQL's does after a kill.
    let _ =
        sql::storage::write_atomic(&cfg.pgdata.join("global/pg_control"), format!("in production {now}\n").as_bytes());
    let mut srv = server::Server { engine, hba_default: auth::default_hba("scram-sha-256"), local_token };
    match serve::run(listener, &mut srv) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("postgres: {e}");
            1
        }
    }
}

fn pg_isready(args: &[String]) -> i32 {
    let mut host = std::env::var("PGHOST").unwrap_or_default();
    let mut port: u16 = std::env::var("PGPORT").ok().and_then(|p| p.parse().ok()).unwrap_or(5432);
    let mut quiet = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-h" | "--host" => {
                host = args.get(i + 1).cloned().unwrap_or_default();
                i += 1;
            }
            "-p" | "--port" => {
                port = args.get(i + 1).and_then(|p| p.parse().ok()).unwrap_or(port);
                i += 1;
            }
            "-U" | "-d" | "-t" | "--username" | "--dbname" | "--timeout" => i += 1,
            "-q" | "--quiet" => quiet = true,
            "-V" | "--version" => {
                println!("pg_isready (PostgreSQL) {}", server_version());
                return 0;
            }
            _ => {}
        }
        i += 1;
    }
    let shown = if host.is_empty() { "/var/run/postgresql".to_string() } else { host.clone() };
    let target = if host.is_empty() { "127.0.0.1".to_string() } else { host };
    // A start-up packet with no user: a running server answers with an error, which is
    // all "accepting connections" needs.
    let ok = psql::probe(&target, port);
    let (code, text) = match ok {
        Ok(()) => (0, "accepting connections"),
        Err(_) => (2, "no response"),
    };
    if !quiet {
        println!("{shown}:{port} - {text}");
    }
    code
}

fn main() {
    skiff_guest::init();
    let argv: Vec<String> = std::env::args().collect();
    let name = argv.first().map(|a| a.rsplit('/').next().unwrap_or(a)).unwrap_or("postgres");
    let name = name.strip_suffix(".wasm").unwrap_or(name);
    let args = argv.get(1..).unwrap_or(&[]);
    let code = match name {
        "psql" => psql::main(args),
        "pg_isready" => pg_isready(args),
        _ => postgres(args),
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}
