//! `skiff run [OPTIONS] IMAGE [COMMAND] [ARG...]`: create a container and run it in the foreground.

use crate::container::{self, CreateOptions};
use crate::error::Error;
use crate::runtime::wasi::WasiRuntime;
use crate::runtime::{Executor, ProcessSpec};
use clap::Args;
use std::io::IsTerminal;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Automatically remove the container when it exits
    #[arg(long)]
    rm: bool,
    /// Assign a name to the container
    #[arg(long)]
    name: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "list")]
    env: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir", value_name = "string")]
    workdir: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long, value_name = "string")]
    entrypoint: Option<String>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    tty: bool,
    /// Container host name
    #[arg(short = 'h', long, value_name = "string")]
    hostname: Option<String>,
    /// The image to run
    image: String,
    /// The command and its arguments (default: the image's)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

pub fn exec(a: RunArgs) -> anyhow::Result<i32> {
    if a.tty && a.interactive && !std::io::stdin().is_terminal() {
        eprintln!("the input device is not a TTY");
        return Ok(1);
    }
    let store = super::open_store()?;
    crate::reference::Reference::parse(&a.image)?;
    let image = super::pull::get_or_import(&store, &a.image, &mut std::io::stderr())?;
    let opts = CreateOptions {
        name: a.name,
        env: a.env,
        workdir: a.workdir,
        entrypoint: a.entrypoint,
        cmd: a.command,
        hostname: a.hostname,
        tty: a.tty,
        interactive: a.interactive,
        auto_remove: a.rm,
        start_now: true,
        argv: None,
    };
    let mut c = container::create(&store, &image, &a.image, &opts)?;
    let rt = WasiRuntime::new(&store)?;
    let root = c.root_spec(&store)?;
    let process = ProcessSpec { argv: c.argv(), env: c.config.env.clone(), cwd: c.config.working_dir.clone(), stdin: a.interactive };
    let result = rt.run(&root, &process);
    let code = match &result {
        Ok(code) => *code,
        Err(Error::ExecNotFound(_) | Error::ExecNoSuchFile(_)) => 127,
        Err(Error::ExecPermission(_)) => 126,
        Err(_) => 125,
    };
    if result.is_err() {
        // As Docker: a container whose program could not start stays "Created".
        c.state = container::State { exit_code: code, ..Default::default() };
    } else {
        c.state.set_exited(code, container::now());
    }
    if a.rm {
        container::remove(&store, &c, true)?;
    } else {
        c.save(&store)?;
    }
    match result {
        Err(Error::ExecFormat(p)) => {
            eprintln!("exec {p}: exec format error");
            Ok(1)
        }
        Err(e) => Err(e.into()),
        Ok(code) => Ok(code),
    }
}
