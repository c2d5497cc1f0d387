//! `redis`: the programs of skiff's redis image, chosen by argv[0]'s base name:
//! `redis-server` (an in-memory RESP2 server for string keys) and `redis-cli`.

mod cli;
mod commands;
mod glob;
mod resp;
mod server;
mod store;

use std::io::{self, Write};

/// The C library's text for an I/O error.
pub fn errtext(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "No such file or directory".into(),
        io::ErrorKind::PermissionDenied => "Permission denied".into(),
        io::ErrorKind::AddrInUse => "Address already in use".into(),
        _ => {
            let s = e.to_string();
            s.split(" (os error").next().unwrap_or(&s).to_string()
        }
    }
}

fn redis_server(args: &[String]) -> i32 {
    let opts = match server::parse_args(args, |p| std::fs::read_to_string(p)) {
        server::Command::Serve(o) => o,
        server::Command::Print(s) => {
            print!("{s}");
            return 0;
        }
        server::Command::Fail(s) => {
            eprint!("{s}");
            return 1;
        }
    };
    let now = serve::time::now_ms();
    let mut log = server::startup_log(&opts, !args.is_empty(), now);
    let listener = match serve::listen(opts.port) {
        Ok(l) => l,
        Err(e) => {
            log.truncate(log.rfind("1:M").unwrap_or(log.len()));
            log += &server::log_line(
                'M',
                '#',
                &format!(
                    "Warning: Could not create server TCP listening socket *:{}: bind: {}",
                    opts.port,
                    errtext(&e)
                ),
                now,
            );
            log +=
                &server::log_line('M', '#', &format!("Failed listening on port {} (TCP), aborting.", opts.port), now);
            print!("{log}");
            let _ = io::stdout().flush();
            return 1;
        }
    };
    print!("{log}");
    let _ = io::stdout().flush();
    let mut srv = commands::Server::new(opts.port, now);
    srv.config_file = opts.config_file.clone().unwrap_or_default();
    let mut service = server::Resp::new(srv);
    match serve::run(listener, &mut service) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("redis-server: {e}");
            1
        }
    }
}

fn main() {
    skiff_guest::init();
    let argv: Vec<String> = std::env::args().collect();
    let name = argv.first().map(|a| a.rsplit('/').next().unwrap_or(a)).unwrap_or("redis-server");
    let name = name.strip_suffix(".wasm").unwrap_or(name);
    let args = argv.get(1..).unwrap_or(&[]);
    let code = match name {
        "redis-cli" => cli::main(args),
        "redis" if args.first().map(String::as_str) == Some("cli") => cli::main(&args[1..]),
        "redis" if args.first().map(String::as_str) == Some("server") => redis_server(&args[1..]),
        _ => redis_server(args),
    };
    std::process::exit(code);
}
