//! `skiff run [OPTIONS] IMAGE [COMMAND] [ARG...]`: create a container and run it, in the
//! foreground (this process supervises it) or detached (`-d`: a supervisor process does).

use crate::container::supervisor::{self, Attach};
use crate::container::{self, CreateOptions};
use crate::error::Error;
use clap::Args;
use std::io::IsTerminal;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short, long)]
    detach: bool,
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
    /// Bind mount a volume
    #[arg(short = 'v', long = "volume", value_name = "list")]
    volume: Vec<String>,
    /// Attach a filesystem mount to the container
    #[arg(long = "mount", value_name = "mount")]
    mount: Vec<String>,
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
    if a.tty && a.interactive && !a.detach && !std::io::stdin().is_terminal() {
        eprintln!("the input device is not a TTY");
        return Ok(1);
    }
    if !a.detach {
        supervisor::block_signals();
    }
    let store = super::open_store()?;
    crate::reference::Reference::parse(&a.image)?;
    let image = super::pull::get_or_import(&store, &a.image, &mut std::io::stderr())?;
    let mut mounts = Vec::new();
    for v in &a.volume {
        mounts.push(crate::volume::parse_volume_flag(&store, v)?);
    }
    for m in &a.mount {
        mounts.push(crate::volume::parse_mount_flag(&store, m)?);
    }
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
        start_now: false,
        argv: None,
        mounts,
        skip_image_volumes: false,
    };
    let c = container::create(&store, &image, &a.image, &opts)?;
    if a.detach {
        return Ok(match supervisor::spawn(&store, &c) {
            Ok(()) => {
                println!("{}", c.id);
                0
            }
            Err((msg, code)) => {
                eprintln!("Error: {msg}");
                code
            }
        });
    }
    let attach = Attach::Attached { stdin: a.interactive };
    match supervisor::supervise(&store, c, attach, &mut |_| {}) {
        Ok(code) => Ok(code),
        Err(Error::ExecFormat(p)) => {
            eprintln!("exec {p}: exec format error");
            Ok(1)
        }
        Err(e) => Err(e.into()),
    }
}
