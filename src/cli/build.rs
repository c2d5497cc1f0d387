//! `skiff build [-t NAME:TAG]… [-f FILE] [--no-cache] [--build-arg K=V]… [--target S] [-q] DIR`:
//! the classic builder's transcript, with the build itself in `crate::build`.

use crate::build::{self, BuildError, Options};
use crate::reference::Reference;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Name and optionally a tag in the 'name:tag' format
    #[arg(short, long = "tag", value_name = "list")]
    tag: Vec<String>,
    /// Name of the Dockerfile (Default is 'PATH/Dockerfile')
    #[arg(short, long, value_name = "string")]
    file: Option<PathBuf>,
    /// Do not use cache when building the image
    #[arg(long)]
    no_cache: bool,
    /// Set build-time variables
    #[arg(long = "build-arg", value_name = "list")]
    build_arg: Vec<String>,
    /// Set the target build stage to build
    #[arg(long, value_name = "string")]
    target: Option<String>,
    /// Suppress the build output and print image ID on success
    #[arg(short, long)]
    quiet: bool,
    /// The build context directory
    #[arg(value_name = "PATH")]
    path: PathBuf,
}

pub fn exec(a: BuildArgs) -> anyhow::Result<i32> {
    build::interrupt::watch(); // Ctrl-C removes the running step's container
    let mut tags = Vec::new();
    for t in &a.tag {
        match Reference::parse(t) {
            Ok(r) => tags.push(r.with_default_tag()),
            Err(e) => {
                eprintln!("invalid argument {t:?} for \"-t, --tag\" flag: {e}");
                eprintln!("See 'skiff build --help'.");
                return Ok(125);
            }
        }
    }
    if !a.path.is_dir() {
        eprintln!("unable to prepare context: path {:?} not found", a.path.display().to_string());
        return Ok(1);
    }
    let file = a.file.clone().unwrap_or_else(|| a.path.join("Dockerfile"));
    let dockerfile = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) => {
            let shown = std::path::absolute(&file).unwrap_or(file.clone());
            eprintln!(
                "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat {}: {}",
                shown.display(),
                if e.kind() == std::io::ErrorKind::NotFound {
                    "no such file or directory".to_string()
                } else {
                    e.to_string()
                }
            );
            return Ok(1);
        }
    };
    let mut build_args = Vec::new();
    for kv in &a.build_arg {
        match kv.split_once('=') {
            Some((k, v)) => build_args.push((k.to_string(), Some(v.to_string()))),
            None => build_args.push((kv.clone(), None)),
        }
    }
    let opts = Options {
        context: a.path.clone(),
        dockerfile,
        dockerfile_name: file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| "Dockerfile".into()),
        tags,
        no_cache: a.no_cache,
        build_args,
        target: a.target.clone(),
        quiet: a.quiet,
    };
    let store = super::open_store()?;
    let mut out = std::io::stdout();
    match build::build(&store, &opts, &mut out) {
        Ok(id) => {
            let name = opts.tags.first().map(|t| t.familiar()).unwrap_or_else(|| id.to_string());
            crate::events::record(
                &store,
                crate::events::Event::new("image", "build", &id.to_string(), &[("name", &name)]),
            );
            for t in &opts.tags {
                crate::container::commit::tagged(&store, &id, t);
            }
            if a.quiet {
                println!("{id}");
            }
            Ok(0)
        }
        Err(BuildError::StepFailed { command, code, last_image }) => {
            println!("The command '{command}' returned a non-zero code: {code}");
            if let Some(id) = last_image {
                eprintln!(
                    "The last step that worked made image {0}: look inside with `skiff run -it {0} sh`",
                    id.short()
                );
            }
            Ok(code)
        }
        Err(BuildError::Failed(msg)) => {
            eprintln!("{msg}");
            Ok(1)
        }
    }
}
