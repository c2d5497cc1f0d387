//! The command tree (Docker's verbs and flags), one file per command, and the top-level
//! dispatch: parse, run, print `Error: …` on one line, exit like Docker.

mod attach;
mod build;
mod check;
mod commit;
mod cp;
mod diff;
pub mod each;
mod events;
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
mod login;
mod logs;
mod network;
mod port;
mod prune;
mod ps;
mod pull;
mod push;
mod rm;
mod rmi;
mod run;
mod save;
mod search;
mod system;
pub mod table;
mod tag;
pub(crate) mod template;
mod top;
mod tutorial;
mod volume;

use crate::error::Error;
use crate::store::Store;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::ffi::OsString;

/// A container runtime for learning: Docker's commands, with every layer visible.
#[derive(Debug, Parser)]
#[command(name = "skiff", version, about, disable_help_subcommand = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

/// The container verbs: each is reached both as `skiff VERB` and `skiff container VERB`.
#[derive(Debug, Subcommand)]
enum ContainerVerb {
    /// Attach local standard input, output, and error streams to a running container
    Attach(attach::AttachArgs),
    /// Create a new image from a container's changes
    Commit(commit::CommitArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(cp::CpArgs),
    /// Create a new container
    Create(run::CreateArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(diff::DiffArgs),
    /// Run a command in a running container
    Exec(exec::ExecArgs),
    /// Export a container's filesystem as a tar archive
    Export(export::ExportArgs),
    /// Kill one or more running containers
    Kill(lifecycle::KillArgs),
    /// Fetch the logs of a container
    Logs(logs::LogsArgs),
    /// Pause all processes within one or more containers
    Pause(lifecycle::PauseArgs),
    /// List port mappings or a specific mapping for the container
    Port(port::PortArgs),
    /// Rename a container
    Rename(lifecycle::RenameArgs),
    /// Restart one or more containers
    Restart(lifecycle::StopArgs),
    /// Remove one or more containers
    Rm(rm::RmArgs),
    /// Run a command in a new container
    Run(run::RunArgs),
    /// Start one or more stopped containers
    Start(lifecycle::StartArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(top::StatsArgs),
    /// Stop one or more running containers
    Stop(lifecycle::StopArgs),
    /// Display the running processes of a container
    Top(top::TopArgs),
    /// Unpause all processes within one or more containers
    Unpause(lifecycle::PauseArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(lifecycle::WaitArgs),
}

/// The image verbs: each is reached both as `skiff VERB` and `skiff image VERB`.
#[derive(Debug, Subcommand)]
enum ImageVerb {
    /// Build an image from a Dockerfile
    Build(build::BuildArgs),
    /// Show the history of an image
    History(history::HistoryArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(export::ImportArgs),
    /// Load an image from a tar archive or STDIN
    Load(save::LoadArgs),
    /// Pull an image or a repository from a registry (skiff's built-in library works offline)
    Pull(pull::PullArgs),
    /// Push an image or a repository to a registry
    Push(push::PushArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(save::SaveArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(tag::TagArgs),
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Containers(ContainerVerb),
    #[command(flatten)]
    Images(ImageVerb),
    /// Get real time events from the server
    Events(events::EventsArgs),
    /// List images
    #[command(name = "images")]
    ImageList(images::ImagesArgs),
    /// Display system-wide information
    Info,
    /// Log in to a registry
    Login(login::LoginArgs),
    /// Log out from a registry
    Logout(login::LogoutArgs),
    /// Search the registry (and skiff's built-in library) for images
    Search(search::SearchArgs),
    /// Return low-level information on skiff objects
    Inspect(inspect::InspectArgs),
    /// List containers
    Ps(ps::PsArgs),
    /// Remove one or more images
    Rmi(rmi::RmiArgs),
    /// Show the skiff version information
    Version,
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Manage networks
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Manage skiff (disk use, clean-up, information, events)
    #[command(subcommand)]
    System(system::SystemCommand),
    /// Manage volumes
    #[command(subcommand)]
    Volume(volume::VolumeCommand),
    /// Step through the tutorials, checking each step
    Tutorial(tutorial::TutorialArgs),
    /// Generate the shell completion script for skiff (bash, zsh, fish, powershell)
    Completion(CompletionArgs),
    /// (internal) keep a detached container's main process
    #[command(name = "__supervise", hide = true)]
    Supervise { id: String },
    /// (internal) run a health check's probe in a running container
    #[command(name = "__probe", hide = true)]
    Probe {
        id: String,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        argv: Vec<String>,
    },
    /// (internal) write skiff's man pages into DIR
    #[command(name = "__man", hide = true)]
    Man { dir: std::path::PathBuf },
}

/// The management commands, listed apart in `skiff --help` as Docker lists them.
const MANAGEMENT: &[&str] = &["container", "image", "network", "system", "volume"];

#[derive(Debug, Subcommand)]
enum ContainerCommand {
    #[command(flatten)]
    Verb(ContainerVerb),
    /// Display detailed information on one or more containers
    Inspect(inspect::ContainerInspectArgs),
    /// List containers
    #[command(alias = "ps", alias = "list")]
    Ls(ps::PsArgs),
    /// Remove all stopped containers
    Prune(lifecycle::PruneArgs),
}

#[derive(Debug, Subcommand)]
enum ImageCommand {
    #[command(flatten)]
    Verb(ImageVerb),
    /// Display detailed information on one or more images
    Inspect(inspect::ImageInspectArgs),
    /// Draw an image's stack of layers: sizes, the step that made each, what is shared
    Layers(explain::LayersArgs),
    /// List images
    #[command(alias = "list")]
    Ls(images::ImagesArgs),
    /// Remove unused images
    Prune(prune::PruneArgs),
    /// Remove one or more images
    #[command(alias = "remove")]
    Rm(rmi::RmiArgs),
    /// Say which layer provides a path, and what it shadows or what deleted it
    Why(explain::WhyArgs),
}

#[derive(Debug, Args)]
struct CompletionArgs {
    /// The shell to complete for
    shell: clap_complete::Shell,
}

/// The command tree with skiff's grouped `--help` (what `--help`, completions and man pages use).
pub fn command() -> clap::Command {
    let cmd = Cli::command();
    let template = grouped_help(&cmd);
    cmd.help_template(template)
}

/// Docker's top-level help: usage, options, then "Management Commands:" and "Commands:"
/// (each sorted), then where to read more.
fn grouped_help(cmd: &clap::Command) -> String {
    let line = |c: &clap::Command| {
        let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
        format!("  {:<12}{about}\n", c.get_name())
    };
    let mut subs: Vec<&clap::Command> = cmd.get_subcommands().filter(|c| !c.is_hide_set()).collect();
    subs.sort_by_key(|c| c.get_name());
    let management: String = subs.iter().filter(|c| MANAGEMENT.contains(&c.get_name())).map(|c| line(c)).collect();
    let commands: String = subs.iter().filter(|c| !MANAGEMENT.contains(&c.get_name())).map(|c| line(c)).collect();
    format!(
        "\nUsage:  skiff [OPTIONS] COMMAND\n\n{{about}}\n\nOptions:\n{{options}}\n\nManagement Commands:\n{management}\nCommands:\n{commands}\nRun 'skiff COMMAND --help' for more information on a command.\n"
    )
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
    let first = args.get(1).map(|a| a.to_string_lossy().into_owned());
    let mut cmd = command();
    let parsed = cmd.try_get_matches_from_mut(args).and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind::*;
            if e.kind() == InvalidSubcommand && first.as_deref().is_some_and(|f| !f.starts_with('-')) {
                // Docker's wording for an unknown top-level command.
                eprintln!("skiff: '{}' is not a skiff command.\nSee 'skiff --help'", first.unwrap_or_default());
                return 1;
            }
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
    let Some(command) = cli.command else {
        // As Docker: `skiff` alone prints the usage and succeeds.
        let _ = cmd.print_help();
        return 0;
    };
    let is_run = matches!(
        command,
        Command::Containers(ContainerVerb::Run(_)) | Command::Container(ContainerCommand::Verb(ContainerVerb::Run(_)))
    );
    guard::set_failure_code(if is_run { 125 } else { 1 });
    let (result, failure_code) = dispatch(command);
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
        Command::Containers(v) | Command::Container(ContainerCommand::Verb(v)) => container_verb(v),
        Command::Images(v) | Command::Image(ImageCommand::Verb(v)) => image_verb(v),
        Command::Ps(a) | Command::Container(ContainerCommand::Ls(a)) => (ps::exec(a), 1),
        Command::Container(ContainerCommand::Prune(a)) => (lifecycle::prune(a), 1),
        Command::Container(ContainerCommand::Inspect(a)) => (inspect::exec_container(a), 1),
        Command::ImageList(a) | Command::Image(ImageCommand::Ls(a)) => (images::exec(a), 1),
        Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => (rmi::exec(a), 1),
        Command::Image(ImageCommand::Inspect(a)) => (inspect::exec_image(a), 1),
        Command::Image(ImageCommand::Prune(a)) => (prune::exec(a), 1),
        Command::Image(ImageCommand::Layers(a)) => (explain::layers(a), 1),
        Command::Image(ImageCommand::Why(a)) => (explain::why(a), 1),
        Command::Inspect(a) => (inspect::exec(a), 1),
        Command::Events(a) => (events::exec(a), 1),
        Command::Volume(a) => (volume::exec(a), 1),
        Command::Network(a) => (network::exec(a), 1),
        Command::System(a) => (system::exec(a), 1),
        Command::Version => (info::version(), 1),
        Command::Info => (info::info(), 1),
        Command::Login(a) => (login::login(a), 1),
        Command::Logout(a) => (login::logout(a), 1),
        Command::Search(a) => (search::exec(a), 1),
        Command::Tutorial(a) => (tutorial::exec(a), 1),
        Command::Completion(a) => {
            clap_complete::generate(a.shell, &mut command(), "skiff", &mut std::io::stdout());
            (Ok(0), 1)
        }
        Command::Man { dir } => (write_man_pages(&dir), 1),
        Command::Probe { id, argv } => (exec::probe(&id, argv), 1),
        Command::Supervise { id } => (open_store().map(|s| crate::container::supervisor::supervisor_main(&s, &id)), 1),
    }
}

fn container_verb(v: ContainerVerb) -> (anyhow::Result<i32>, i32) {
    match v {
        ContainerVerb::Attach(a) => (attach::exec(a), 1),
        ContainerVerb::Commit(a) => (commit::exec(a), 1),
        ContainerVerb::Cp(a) => (cp::exec(a), 1),
        ContainerVerb::Create(a) => (run::create(a), 1),
        ContainerVerb::Diff(a) => (diff::exec(a), 1),
        ContainerVerb::Exec(a) => (exec::exec(a), 1),
        ContainerVerb::Export(a) => (export::export(a), 1),
        ContainerVerb::Kill(a) => (lifecycle::kill(a), 1),
        ContainerVerb::Logs(a) => (logs::exec(a), 1),
        ContainerVerb::Pause(a) => (lifecycle::pause(a), 1),
        ContainerVerb::Port(a) => (port::exec(a), 1),
        ContainerVerb::Rename(a) => (lifecycle::rename(a), 1),
        ContainerVerb::Restart(a) => (lifecycle::restart(a), 1),
        ContainerVerb::Rm(a) => (rm::exec(a), 1),
        ContainerVerb::Run(a) => (run::exec(a), 125),
        ContainerVerb::Start(a) => (lifecycle::start(a), 1),
        ContainerVerb::Stats(a) => (top::stats(a), 1),
        ContainerVerb::Stop(a) => (lifecycle::stop(a), 1),
        ContainerVerb::Top(a) => (top::top(a), 1),
        ContainerVerb::Unpause(a) => (lifecycle::unpause(a), 1),
        ContainerVerb::Wait(a) => (lifecycle::wait(a), 1),
    }
}

fn image_verb(v: ImageVerb) -> (anyhow::Result<i32>, i32) {
    match v {
        ImageVerb::Build(a) => (build::exec(a), 1),
        ImageVerb::History(a) => (history::exec(a), 1),
        ImageVerb::Import(a) => (export::import(a), 1),
        ImageVerb::Load(a) => (save::load(a), 1),
        ImageVerb::Pull(a) => (pull::exec(a), 1),
        ImageVerb::Push(a) => (push::exec(a), 1),
        ImageVerb::Save(a) => (save::save(a), 1),
        ImageVerb::Tag(a) => (tag::exec(a), 1),
    }
}

/// `skiff __man DIR`: one roff page per command (`skiff.1`, `skiff-run.1`,
/// `skiff-container-ls.1`, …), generated from the same command tree as `--help`.
fn write_man_pages(dir: &std::path::Path) -> anyhow::Result<i32> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    fn walk(cmd: &clap::Command, name: &str, dir: &std::path::Path, n: &mut usize) -> anyhow::Result<()> {
        let page = cmd.clone().name(&*Box::leak(name.to_string().into_boxed_str()));
        let mut buf = Vec::new();
        clap_mangen::Man::new(page).render(&mut buf)?;
        let path = dir.join(format!("{name}.1"));
        crate::store::atomic_write(&path, &buf)?;
        *n += 1;
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, &format!("{name}-{}", sub.get_name()), dir, n)?;
        }
        Ok(())
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut n = 0;
    walk(&cmd, "skiff", dir, &mut n)?;
    println!("{n} man pages written to {}", dir.display());
    Ok(0)
}

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

/// Write an archive to `path` (via a temporary file renamed into place, so a failure leaves no
/// half archive) or to stdout — never to a terminal, as Docker refuses.
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

    #[test]
    fn help_groups_commands_like_docker() {
        let help = super::command().render_help().to_string();
        let mgmt = help.find("Management Commands:\n  container   Manage containers\n").expect("management first");
        let cmds = help.find("Commands:\n  attach      Attach").expect("then the commands");
        assert!(mgmt < cmds, "{help}");
        assert!(!help.contains("__supervise") && !help.contains("__man"), "{help}");
        assert!(help.contains("\n  ps          List containers\n"), "{help}");
        assert!(!help[cmds..].contains("\n  container "), "{help}");
    }
}
