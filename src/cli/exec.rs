//! `skiff exec [-i] [-t] [-e K=V] [-w DIR] [-d] CONTAINER CMD...`: another program in a
//! running container. It runs in this process over the container's own layers and writable
//! layer, so both see each other's files at once.

use crate::container::{self, supervisor, Verb};
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
    /// The container
    container: String,
    /// The command and its arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

pub fn exec(a: ExecArgs) -> anyhow::Result<i32> {
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
    let backend = c.backend(&store)?;
    let spec = c.spec(&store)?;
    let process = ProcessSpec {
        argv: a.command.clone(),
        env,
        cwd: a.workdir.clone().unwrap_or(c.config.working_dir.clone()),
        user: c.config.user.clone(),
        tty: a.tty,
    };
    match backend.exec(&spec, &process, Stdio::inherit(a.interactive)) {
        Ok(exit) => Ok(exit.code),
        Err(e @ (Error::ExecNotFound(_) | Error::ExecNoSuchFile(_) | Error::ExecPermission(_))) => {
            eprintln!("Error: {e}");
            Ok(supervisor::start_failure_code(&e))
        }
        Err(e) => Err(e.into()),
    }
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
    cmd.arg(&a.container)
        .args(&a.command)
        .env("SKIFF_ROOT", store.root())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
    }
    cmd.spawn()?;
    Ok(0)
}
