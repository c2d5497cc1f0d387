//! `skiff exec [-i] [-t] [-e K=V] [-w DIR] [-d] CONTAINER CMD...`: another program in a
//! running container. It runs in this process over the container's own layers and writable
//! layer, so both see each other's files at once.

use crate::container::{self, Container, Verb};
use crate::error::Error;
use crate::runtime::{ProcessSpec, Stdio};
use clap::Args;

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Detached mode: run command in the background
    #[arg(short, long)]
    detach: bool,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "list")]
    env: Vec<String>,
    /// Keep STDIN open even if not attached
    #[arg(short, long)]
    interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    tty: bool,
    /// Working directory inside the container
    #[arg(short, long, value_name = "string")]
    workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short, long, value_name = "string")]
    user: Option<String>,
    /// The container
    container: String,
    /// The command and its arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

pub fn exec(a: ExecArgs) -> anyhow::Result<i32> {
    use std::io::IsTerminal;
    if a.tty && a.interactive && !a.detach && !std::io::stdin().is_terminal() {
        eprintln!("the input device is not a TTY");
        return Ok(1);
    }
    let store = super::open_store()?;
    let c = container::find(&store, &a.container)?;
    if let Some(why) = c.state.refusal(Verb::Exec, &c.id) {
        anyhow::bail!(why);
    }
    if a.detach {
        return detach(&store, &a);
    }
    let mut env = c.config.env.clone();
    for e in &a.env {
        let kv = if e.contains('=') { e.clone() } else { format!("{e}={}", std::env::var(e).unwrap_or_default()) };
        let key = kv.split('=').next().unwrap_or("").to_string();
        env.retain(|x| x.split('=').next() != Some(key.as_str()));
        env.push(kv);
    }
    let process = ProcessSpec {
        argv: a.command.clone(),
        env,
        cwd: a.workdir.clone().unwrap_or(c.config.working_dir.clone()),
        user: a.user.clone().unwrap_or(c.config.user.clone()),
        tty: a.tty,
    };
    let line = a.command.join(" ");
    crate::events::container(&store, &c, &format!("exec_create: {line}"), &[]);
    crate::events::container(&store, &c, &format!("exec_start: {line}"), &[]);
    let result = run_in(&store, &c, &process, Stdio::inherit(a.interactive));
    if let Ok(code) = result {
        crate::events::container(&store, &c, "exec_die", &[("exitCode", &code.to_string())]);
    }
    result
}

/// Run `process` in the running container `c`; its exit status. A program that cannot
/// start exits 126 with the OCI runtime's words, as `docker exec` does (not found or not
/// executable alike).
fn run_in(store: &crate::store::Store, c: &Container, process: &ProcessSpec, io: Stdio) -> anyhow::Result<i32> {
    let backend = c.backend(store)?;
    let spec = c.spec(store)?;
    match backend.exec(&spec, process, io) {
        Ok(exit) => Ok(exit.code),
        Err(
            e @ (Error::ExecNotFound(_) | Error::ExecNoSuchFile(_) | Error::ExecPermission(_) | Error::ExecFormat(_)),
        ) => {
            eprintln!("OCI runtime exec failed: exec failed: unable to start container process: {e}: unknown");
            Ok(126)
        }
        Err(e) => Err(e.into()),
    }
}

/// `skiff __probe ID CMD…` (a health check's probe, run by the supervisor): the command in
/// the container as the container's user, its stdout and stderr together on stdout.
pub fn probe(id: &str, argv: Vec<String>) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let c = container::load(&store, id)?;
    if let Some(why) = c.state.refusal(Verb::Exec, &c.id) {
        anyhow::bail!(why);
    }
    let process = ProcessSpec {
        argv,
        env: c.config.env.clone(),
        cwd: c.config.working_dir.clone(),
        user: c.config.user.clone(),
        tty: false,
    };
    let out = crate::runtime::Buffer::default();
    let io = Stdio {
        stdin: crate::runtime::Input::Null,
        stdout: crate::runtime::Output::writer(out.clone()),
        stderr: crate::runtime::Output::writer(out.clone()),
        ..Default::default()
    };
    let code = run_in(&store, &c, &process, io)?;
    use std::io::Write;
    std::io::stdout().write_all(&out.take())?;
    Ok(code)
}

/// `-d`: the same command, re-run by a detached skiff process.
fn detach(store: &crate::store::Store, a: &ExecArgs) -> anyhow::Result<i32> {
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("exec");
    for e in &a.env {
        cmd.args(["-e", e]);
    }
    if let Some(w) = &a.workdir {
        cmd.args(["-w", w]);
    }
    if let Some(u) = &a.user {
        cmd.args(["-u", u]);
    }
    cmd.arg(&a.container)
        .args(&a.command)
        .env("SKIFF_ROOT", store.root())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    crate::hostproc::detach(&mut cmd);
    cmd.spawn()?;
    Ok(0)
}
