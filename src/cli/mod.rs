//! The command tree (Docker's verbs and flags), one file per command, and the top-level
//! dispatch: parse, run, print `Error: …` on one line, exit like Docker.

mod build;
mod check;
mod commit;
mod cp;
mod diff;
mod exec;
mod explain;
mod export;
mod guard;
mod history;
mod images;
mod info;
mod inspect;
mod lifecycle;
mod listing;
mod logs;
mod network;
mod port;
mod prune;
mod ps;
mod pull;
mod rm;
mod rmi;
mod run;
mod save;
pub mod table;
mod tag;
pub(crate) mod template;
mod top;
mod tutorial;
mod volume;

use crate::error::Error;
use crate::store::Store;
use clap::{Parser, Subcommand};
use std::ffi::OsString;

/// A container runtime for learning: Docker's commands, with every layer visible.
#[derive(Debug, Parser)]
#[command(name = "skiff", version, about, disable_help_subcommand = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create and run a new container from an image
    Run(run::RunArgs),
    /// List containers
    Ps(ps::PsArgs),
    /// Remove one or more containers
    Rm(rm::RmArgs),
    /// Start one or more stopped containers
    Start(lifecycle::StartArgs),
    /// Stop one or more running containers
    Stop(lifecycle::StopArgs),
    /// Restart one or more containers
    Restart(lifecycle::StopArgs),
    /// List port mappings or a specific mapping for the container
    Port(port::PortArgs),
    /// Kill one or more running containers
    Kill(lifecycle::KillArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(lifecycle::WaitArgs),
    /// Rename a container
    Rename(lifecycle::RenameArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(cp::CpArgs),
    /// Display the running processes of a container
    Top(top::TopArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(top::StatsArgs),
    /// Fetch the logs of a container
    Logs(logs::LogsArgs),
    /// Run a command in a running container
    Exec(exec::ExecArgs),
    /// Pause all processes within one or more containers
    Pause(lifecycle::PauseArgs),
    /// Unpause all processes within one or more containers
    Unpause(lifecycle::PauseArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(diff::DiffArgs),
    /// List images
    Images(images::ImagesArgs),
    /// Pull an image (skiff's built-in library works offline)
    Pull(pull::PullArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(tag::TagArgs),
    /// Show the history of an image
    History(history::HistoryArgs),
    /// Remove one or more images
    Rmi(rmi::RmiArgs),
    /// Create a new image from a container's changes
    Commit(commit::CommitArgs),
    /// Build an image from a Dockerfile
    Build(build::BuildArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(save::SaveArgs),
    /// Load images from a tar archive or STDIN
    Load(save::LoadArgs),
    /// Export a container's filesystem as a tar archive
    Export(export::ExportArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(export::ImportArgs),
    /// Return low-level information on skiff objects
    Inspect(inspect::InspectArgs),
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Manage volumes
    #[command(subcommand)]
    Volume(volume::VolumeCommand),
    /// Manage networks
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Manage skiff
    #[command(subcommand)]
    System(check::SystemCommand),
    /// Show the skiff version information
    Version,
    /// Display system-wide information
    Info,
    /// Step through the tutorials, checking each step
    Tutorial(tutorial::TutorialArgs),
    /// (internal) keep a detached container's main process
    #[command(name = "__supervise", hide = true)]
    Supervise { id: String },
}

#[derive(Debug, Subcommand)]
enum ContainerCommand {
    /// Create and run a new container from an image
    Run(run::RunArgs),
    /// List containers
    #[command(alias = "ps", alias = "list")]
    Ls(ps::PsArgs),
    /// Remove one or more containers
    Rm(rm::RmArgs),
    /// Start one or more stopped containers
    Start(lifecycle::StartArgs),
    /// Stop one or more running containers
    Stop(lifecycle::StopArgs),
    /// Restart one or more containers
    Restart(lifecycle::StopArgs),
    /// List port mappings or a specific mapping for the container
    Port(port::PortArgs),
    /// Kill one or more running containers
    Kill(lifecycle::KillArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(lifecycle::WaitArgs),
    /// Rename a container
    Rename(lifecycle::RenameArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(cp::CpArgs),
    /// Display the running processes of a container
    Top(top::TopArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(top::StatsArgs),
    /// Fetch the logs of a container
    Logs(logs::LogsArgs),
    /// Run a command in a running container
    Exec(exec::ExecArgs),
    /// Pause all processes within one or more containers
    Pause(lifecycle::PauseArgs),
    /// Unpause all processes within one or more containers
    Unpause(lifecycle::PauseArgs),
    /// Remove all stopped containers
    Prune(lifecycle::PruneArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(diff::DiffArgs),
    /// Create a new image from a container's changes
    Commit(commit::CommitArgs),
    /// Export a container's filesystem as a tar archive
    Export(export::ExportArgs),
    /// Display detailed information on one or more containers
    Inspect(inspect::ContainerInspectArgs),
}

#[derive(Debug, Subcommand)]
enum ImageCommand {
    /// Build an image from a Dockerfile
    Build(build::BuildArgs),
    /// List images
    #[command(alias = "list")]
    Ls(images::ImagesArgs),
    /// Pull an image (skiff's built-in library works offline)
    Pull(pull::PullArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(tag::TagArgs),
    /// Show the history of an image
    History(history::HistoryArgs),
    /// Remove one or more images
    #[command(alias = "remove")]
    Rm(rmi::RmiArgs),
    /// Display detailed information on one or more images
    Inspect(inspect::ImageInspectArgs),
    /// Remove unused images
    Prune(prune::PruneArgs),
    /// Draw an image's stack of layers: sizes, the step that made each, what is shared
    Layers(explain::LayersArgs),
    /// Say which layer provides a path, and what it shadows or what deleted it
    Why(explain::WhyArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(save::SaveArgs),
    /// Load images from a tar archive or STDIN
    Load(save::LoadArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(export::ImportArgs),
}

/// Run the CLI with `args` (including the program name); returns the process exit code.
/// Never panics out: a panic becomes one `Error:` line (a broken pipe on stdout ends the
/// process by SIGPIPE, silently, as Docker's Go CLI does), and this process's scratch space
/// is removed when the command ends.
pub fn main_with_args(args: Vec<OsString>) -> i32 {
    guard::install_panic_hook();
    let code = match std::panic::catch_unwind(move || run_args(args)) {
        Ok(code) => code,
        Err(_) => guard::PANIC_EXIT_CODE.load(std::sync::atomic::Ordering::Relaxed), // the hook printed why
    };
    crate::store::remove_own_tmp();
    code
}

fn run_args(args: Vec<OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind::*;
            let _ = e.print();
            return match e.kind() {
                DisplayHelp | DisplayVersion => 0,
                MissingRequiredArgument
                | MissingSubcommand
                | DisplayHelpOnMissingArgumentOrSubcommand
                | InvalidSubcommand => 1,
                _ => 125,
            };
        }
    };
    let is_run = matches!(cli.command, Command::Run(_) | Command::Container(ContainerCommand::Run(_)));
    guard::set_failure_code(if is_run { 125 } else { 1 });
    let (result, failure_code) = dispatch(cli.command);
    match result {
        Ok(code) => code,
        Err(e) => {
            guard::exit_if_broken_pipe(&e);
            let code = match e.downcast_ref::<Error>() {
                Some(Error::ExecNotFound(_) | Error::ExecNoSuchFile(_)) => 127,
                Some(Error::ExecPermission(_)) => 126,
                _ => failure_code,
            };
            guard::print_error(&format!("{e:#}"));
            code
        }
    }
}

/// Run a command; also returns the exit code its failures use (125 for `run`, as Docker).
fn dispatch(cmd: Command) -> (anyhow::Result<i32>, i32) {
    match cmd {
        Command::Run(a) | Command::Container(ContainerCommand::Run(a)) => (run::exec(a), 125),
        Command::Ps(a) | Command::Container(ContainerCommand::Ls(a)) => (ps::exec(a), 1),
        Command::Rm(a) | Command::Container(ContainerCommand::Rm(a)) => (rm::exec(a), 1),
        Command::Diff(a) | Command::Container(ContainerCommand::Diff(a)) => (diff::exec(a), 1),
        Command::Start(a) | Command::Container(ContainerCommand::Start(a)) => (lifecycle::start(a), 1),
        Command::Stop(a) | Command::Container(ContainerCommand::Stop(a)) => (lifecycle::stop(a), 1),
        Command::Restart(a) | Command::Container(ContainerCommand::Restart(a)) => (lifecycle::restart(a), 1),
        Command::Kill(a) | Command::Container(ContainerCommand::Kill(a)) => (lifecycle::kill(a), 1),
        Command::Wait(a) | Command::Container(ContainerCommand::Wait(a)) => (lifecycle::wait(a), 1),
        Command::Rename(a) | Command::Container(ContainerCommand::Rename(a)) => (lifecycle::rename(a), 1),
        Command::Logs(a) | Command::Container(ContainerCommand::Logs(a)) => (logs::exec(a), 1),
        Command::Cp(a) | Command::Container(ContainerCommand::Cp(a)) => (cp::exec(a), 1),
        Command::Top(a) | Command::Container(ContainerCommand::Top(a)) => (top::top(a), 1),
        Command::Port(a) | Command::Container(ContainerCommand::Port(a)) => (port::exec(a), 1),
        Command::Stats(a) | Command::Container(ContainerCommand::Stats(a)) => (top::stats(a), 1),
        Command::Exec(a) | Command::Container(ContainerCommand::Exec(a)) => (exec::exec(a), 1),
        Command::Pause(a) | Command::Container(ContainerCommand::Pause(a)) => (lifecycle::pause(a), 1),
        Command::Unpause(a) | Command::Container(ContainerCommand::Unpause(a)) => (lifecycle::unpause(a), 1),
        Command::Container(ContainerCommand::Prune(a)) => (lifecycle::prune(a), 1),
        Command::Volume(a) => (volume::exec(a), 1),
        Command::Network(a) => (network::exec(a), 1),
        Command::Supervise { id } => (open_store().map(|s| crate::container::supervisor::supervisor_main(&s, &id)), 1),
        Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => (images::exec(a), 1),
        Command::Build(a) | Command::Image(ImageCommand::Build(a)) => (build::exec(a), 1),
        Command::Pull(a) | Command::Image(ImageCommand::Pull(a)) => (pull::exec(a), 1),
        Command::Tag(a) | Command::Image(ImageCommand::Tag(a)) => (tag::exec(a), 1),
        Command::History(a) | Command::Image(ImageCommand::History(a)) => (history::exec(a), 1),
        Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => (rmi::exec(a), 1),
        Command::Image(ImageCommand::Inspect(a)) => (inspect::exec_image(a), 1),
        Command::Container(ContainerCommand::Inspect(a)) => (inspect::exec_container(a), 1),
        Command::Inspect(a) => (inspect::exec(a), 1),
        Command::Image(ImageCommand::Prune(a)) => (prune::exec(a), 1),
        Command::Image(ImageCommand::Layers(a)) => (explain::layers(a), 1),
        Command::Image(ImageCommand::Why(a)) => (explain::why(a), 1),
        Command::Commit(a) | Command::Container(ContainerCommand::Commit(a)) => (commit::exec(a), 1),
        Command::Save(a) | Command::Image(ImageCommand::Save(a)) => (save::save(a), 1),
        Command::Load(a) | Command::Image(ImageCommand::Load(a)) => (save::load(a), 1),
        Command::Export(a) | Command::Container(ContainerCommand::Export(a)) => (export::export(a), 1),
        Command::Import(a) | Command::Image(ImageCommand::Import(a)) => (export::import(a), 1),
        Command::System(a) => (check::exec(a), 1),
        Command::Version => (info::version(), 1),
        Command::Info => (info::info(), 1),
        Command::Tutorial(a) => (tutorial::exec(a), 1),
    }
}

/// Write an archive to `path` (via a temporary file renamed into place, so a failure leaves no
/// half archive) or to stdout — never to a terminal, as Docker refuses.
/// Print `warning` and Docker's `[y/N]` prompt; whether the answer was yes (no terminal: no).
pub fn confirm(warning: &str) -> anyhow::Result<bool> {
    use std::io::{BufRead, Write};
    println!("{warning}");
    print!("Are you sure you want to continue? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

pub fn write_output(
    path: Option<&std::path::Path>,
    write: impl FnOnce(&mut dyn std::io::Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    match path {
        Some(p) => {
            let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            let mut tmp =
                tempfile::NamedTempFile::new_in(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
            write(tmp.as_file_mut())?;
            tmp.persist(p).map_err(|e| anyhow::anyhow!("{}: {}", p.display(), e.error))?;
        }
        None => {
            if std::io::stdout().is_terminal() {
                anyhow::bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
            }
            write(&mut std::io::stdout().lock())?;
        }
    }
    Ok(())
}

/// The store at `$SKIFF_ROOT` (or the default root).
pub fn open_store() -> anyhow::Result<Store> {
    Ok(Store::open(Store::default_root())?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
