//! Exercise checks: the lines of an ```exercise block, and how each is verified against a state root.
//!
//! A check is one line, words split as a shell would (quotes group words), for example
//!
//! ```text
//! image greeting:v2 layers busybox+2
//! image greeting:v2 file /greeting contains hello
//! container web running
//! container web publishes 80 on 8080
//! ```
//!
//! Every check is verified through skiff's own commands (`inspect -f`, `port`, `logs`, `cp`, `run --rm`),
//! run by the tutorial `Runner` in the state root being graded: the same way, and with the same engine,
//! whether the test suite checks a tutorial's solution or a teacher grades a learner. A check that fails
//! says in one line what is missing. `KINDS` lists the forms; tutorials/README.md documents them.

use std::fmt;

use super::runner::{shell_quote, Runner};

/// One check of an exercise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// 1-based line in the markdown.
    pub line: usize,
    /// The line as written (trimmed).
    pub text: String,
    pub kind: Kind,
}

/// What a file check wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileWant {
    Exists,
    Absent,
    Contains(String),
}

/// An image setting that `image REF <field> VALUE` compares (each a field of `.Config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Env,
    Cmd,
    Entrypoint,
    Workdir,
    User,
    Label,
    Exposes,
    Volume,
    StopSignal,
}

impl Field {
    fn from_word(w: &str) -> Option<Field> {
        Some(match w {
            "env" => Field::Env,
            "cmd" => Field::Cmd,
            "entrypoint" => Field::Entrypoint,
            "workdir" => Field::Workdir,
            "user" => Field::User,
            "label" => Field::Label,
            "exposes" => Field::Exposes,
            "volume" => Field::Volume,
            "stopsignal" => Field::StopSignal,
            _ => return None,
        })
    }

    fn word(self) -> &'static str {
        match self {
            Field::Env => "env",
            Field::Cmd => "cmd",
            Field::Entrypoint => "entrypoint",
            Field::Workdir => "workdir",
            Field::User => "user",
            Field::Label => "label",
            Field::Exposes => "exposes",
            Field::Volume => "volume",
            Field::StopSignal => "stopsignal",
        }
    }

    /// The Dockerfile instruction that sets it (for messages).
    fn instruction(self) -> &'static str {
        match self {
            Field::Env => "ENV",
            Field::Cmd => "CMD",
            Field::Entrypoint => "ENTRYPOINT",
            Field::Workdir => "WORKDIR",
            Field::User => "USER",
            Field::Label => "LABEL",
            Field::Exposes => "EXPOSE",
            Field::Volume => "VOLUME",
            Field::StopSignal => "STOPSIGNAL",
        }
    }
}

/// The kinds of check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `image REF exists` / `image REF absent`
    ImageExists { image: String, want: bool },
    /// `image REF layers N` / `image REF layers BASE+N`
    ImageLayers { image: String, base: Option<String>, count: usize },
    /// `image REF file PATH exists|absent|contains TEXT`
    ImageFile { image: String, path: String, want: FileWant },
    /// `image REF env|cmd|entrypoint|workdir|user|label|exposes|volume|stopsignal VALUE`
    ImageConfig { image: String, field: Field, value: String },
    /// `container NAME exists` / `container NAME absent`
    ContainerExists { name: String, want: bool },
    /// `container NAME running|paused|created|restarting|exited [CODE]`
    ContainerState { name: String, state: String, code: Option<i32> },
    /// `container NAME image REF`
    ContainerImage { name: String, image: String },
    /// `container NAME publishes PORT[/tcp] [on HOSTPORT]`
    ContainerPort { name: String, port: String, host: Option<String> },
    /// `container NAME on NETWORK` / `container NAME not on NETWORK`
    ContainerNetwork { name: String, network: String, want: bool },
    /// `container NAME logs contain TEXT`
    ContainerLogs { name: String, text: String },
    /// `container NAME file PATH exists|absent|contains TEXT`
    ContainerFile { name: String, path: String, want: FileWant },
    /// `container NAME env KEY=VALUE`
    ContainerEnv { name: String, pair: String },
    /// `container NAME mounts SOURCE:TARGET` (SOURCE: a volume name or a host path)
    ContainerMount { name: String, source: String, target: String },
    /// `volume NAME exists` / `volume NAME absent`
    VolumeExists { name: String, want: bool },
    /// `network NAME exists` / `network NAME absent` / `network NAME driver DRIVER`
    Network { name: String, want: bool, driver: Option<String> },
    /// `inspect OBJECT TEMPLATE is VALUE`: any field `skiff inspect -f` can show
    Inspect { object: String, template: String, value: String },
    /// `` run `COMMAND` prints TEXT `` / `` run `COMMAND` exits N ``: a command's output or status
    Command { command: String, prints: Option<String>, exit: Option<i32> },
}

/// The forms of check, one per kind, for error messages and documentation.
pub const KINDS: &[&str] = &[
    "image REF exists|absent",
    "image REF layers N|BASE+N",
    "image REF file PATH exists|absent|contains TEXT",
    "image REF env|cmd|entrypoint|workdir|user|label|exposes|volume|stopsignal VALUE",
    "container NAME exists|absent",
    "container NAME running|paused|created|restarting|exited [CODE]",
    "container NAME image REF",
    "container NAME publishes PORT [on HOSTPORT]",
    "container NAME [not] on NETWORK",
    "container NAME logs contain TEXT",
    "container NAME file PATH exists|absent|contains TEXT",
    "container NAME env KEY=VALUE",
    "container NAME mounts SOURCE:TARGET",
    "volume NAME exists|absent",
    "network NAME exists|absent|driver DRIVER",
    "inspect OBJECT TEMPLATE is VALUE",
    "run `COMMAND` prints TEXT|exits N",
];

/// Splits a line into words as sh would for quotes: '…' and "…" group, `\` escapes outside single quotes.
pub fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                have = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err("unclosed ' quote".into()),
                    }
                }
            }
            '"' => {
                have = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) if matches!(c, '"' | '\\' | '$' | '`') => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c)
                            }
                            None => return Err("unclosed \" quote".into()),
                        },
                        Some(c) => cur.push(c),
                        None => return Err("unclosed \" quote".into()),
                    }
                }
            }
            '\\' => {
                have = true;
                if let Some(c) = chars.next() {
                    cur.push(c);
                }
            }
            c if c.is_whitespace() => {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            c => {
                have = true;
                cur.push(c);
            }
        }
    }
    if have {
        out.push(cur);
    }
    Ok(out)
}

fn file_want(rest: &[String], what: &str) -> Result<FileWant, String> {
    match rest {
        [w] if w == "exists" => Ok(FileWant::Exists),
        [w] if w == "absent" => Ok(FileWant::Absent),
        [w, text @ ..] if w == "contains" && !text.is_empty() => Ok(FileWant::Contains(text.join(" "))),
        _ => Err(format!("`{what} file PATH` needs `exists`, `absent` or `contains TEXT`")),
    }
}

/// Parses one check line (comments and blank lines are dropped before).
pub fn parse_check(line: usize, text: &str) -> Result<Check, String> {
    let text = text.trim();
    let kind = parse_kind(text)?;
    Ok(Check { line, text: text.to_string(), kind })
}

fn parse_kind(text: &str) -> Result<Kind, String> {
    let unknown = || format!("unknown check `{text}`; the forms are:\n  {}", KINDS.join("\n  "));
    if let Some(rest) = text.strip_prefix("run ") {
        // run `COMMAND` prints TEXT | exits N
        let rest = rest.trim_start();
        let inner = rest.strip_prefix('`').ok_or_else(|| "`run` needs the command in backquotes".to_string())?;
        let end = inner.find('`').ok_or_else(|| "`run`: the command's closing backquote is missing".to_string())?;
        let command = inner[..end].to_string();
        let tail = words(&inner[end + 1..])?;
        return match tail.as_slice() {
            [w, t @ ..] if w == "prints" && !t.is_empty() => {
                Ok(Kind::Command { command, prints: Some(t.join(" ")), exit: None })
            }
            [w, n] if w == "exits" => Ok(Kind::Command {
                command,
                prints: None,
                exit: Some(n.parse().map_err(|_| format!("`exits {n}`: not a number"))?),
            }),
            _ => Err("`run `COMMAND`` needs `prints TEXT` or `exits N` after it".into()),
        };
    }
    let w = words(text)?;
    let s = |i: usize| w.get(i).map(String::as_str).unwrap_or("");
    let rest = |i: usize| if w.len() > i { w[i..].join(" ") } else { String::new() };
    let kind = match (s(0), s(2)) {
        ("image", "exists") if w.len() == 3 => Kind::ImageExists { image: s(1).into(), want: true },
        ("image", "absent") if w.len() == 3 => Kind::ImageExists { image: s(1).into(), want: false },
        ("image", "layers") if w.len() == 4 => {
            let spec = s(3);
            let (base, n) = match spec.rsplit_once('+') {
                Some((b, n)) => (Some(b.to_string()), n),
                None => (None, spec),
            };
            let count = n.parse().map_err(|_| format!("`layers {spec}`: want N or BASE+N"))?;
            Kind::ImageLayers { image: s(1).into(), base, count }
        }
        ("image", "file") if w.len() >= 5 => {
            Kind::ImageFile { image: s(1).into(), path: s(3).into(), want: file_want(&w[4..], "image")? }
        }
        ("image", f) if w.len() >= 4 && Field::from_word(f).is_some() => {
            // The value as written (JSON for cmd/entrypoint keeps its quotes); '…' around it are dropped.
            let raw = raw_rest(text, 3);
            let value = match raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
                Some(inner) => inner.to_string(),
                None => raw.to_string(),
            };
            Kind::ImageConfig { image: s(1).into(), field: Field::from_word(f).unwrap(), value }
        }
        ("container", "exists") if w.len() == 3 => Kind::ContainerExists { name: s(1).into(), want: true },
        ("container", "absent") if w.len() == 3 => Kind::ContainerExists { name: s(1).into(), want: false },
        ("container", st @ ("running" | "paused" | "created" | "restarting")) if w.len() == 3 => {
            Kind::ContainerState { name: s(1).into(), state: st.into(), code: None }
        }
        ("container", "exited") if w.len() <= 4 => Kind::ContainerState {
            name: s(1).into(),
            state: "exited".into(),
            code: match w.get(3) {
                Some(c) => Some(c.parse().map_err(|_| format!("`exited {c}`: not an exit code"))?),
                None => None,
            },
        },
        ("container", "image") if w.len() == 4 => Kind::ContainerImage { name: s(1).into(), image: s(3).into() },
        ("container", "publishes") if w.len() == 4 || (w.len() == 6 && s(4) == "on") => {
            Kind::ContainerPort { name: s(1).into(), port: s(3).into(), host: w.get(5).cloned() }
        }
        ("container", "on") if w.len() == 4 => {
            Kind::ContainerNetwork { name: s(1).into(), network: s(3).into(), want: true }
        }
        ("container", "not") if w.len() == 5 && s(3) == "on" => {
            Kind::ContainerNetwork { name: s(1).into(), network: s(4).into(), want: false }
        }
        ("container", "logs") if w.len() >= 5 && s(3) == "contain" => {
            Kind::ContainerLogs { name: s(1).into(), text: rest(4) }
        }
        ("container", "file") if w.len() >= 5 => {
            Kind::ContainerFile { name: s(1).into(), path: s(3).into(), want: file_want(&w[4..], "container")? }
        }
        ("container", "env") if w.len() == 4 && s(3).contains('=') => {
            Kind::ContainerEnv { name: s(1).into(), pair: s(3).into() }
        }
        ("container", "mounts") if w.len() == 4 => {
            let (source, target) =
                s(3).rsplit_once(':').ok_or_else(|| format!("`mounts {}`: want SOURCE:TARGET", s(3)))?;
            Kind::ContainerMount { name: s(1).into(), source: source.into(), target: target.into() }
        }
        ("volume", "exists") if w.len() == 3 => Kind::VolumeExists { name: s(1).into(), want: true },
        ("volume", "absent") if w.len() == 3 => Kind::VolumeExists { name: s(1).into(), want: false },
        ("network", "exists") if w.len() == 3 => Kind::Network { name: s(1).into(), want: true, driver: None },
        ("network", "absent") if w.len() == 3 => Kind::Network { name: s(1).into(), want: false, driver: None },
        ("network", "driver") if w.len() == 4 => {
            Kind::Network { name: s(1).into(), want: true, driver: Some(s(3).into()) }
        }
        ("inspect", _) if w.len() >= 5 && s(3) == "is" => {
            Kind::Inspect { object: s(1).into(), template: s(2).into(), value: rest(4) }
        }
        _ => return Err(unknown()),
    };
    Ok(kind)
}

/// The text after the first `n` whitespace-separated words, trimmed.
fn raw_rest(text: &str, n: usize) -> &str {
    let mut rest = text.trim_start();
    for _ in 0..n {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    rest.trim()
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Runs `skiff ARGS` (each word quoted) in the runner's root; (output, exit code).
fn skiff(runner: &mut Runner, args: &[&str]) -> Result<(String, i32), String> {
    let mut cmd = String::from("skiff");
    for a in args {
        cmd.push(' ');
        cmd.push_str(&shell_quote(a));
    }
    let o = runner.run_command(&cmd).map_err(|e| format!("cannot run `{cmd}`: {e}"))?;
    if o.timed_out {
        return Err(format!("`{cmd}` timed out"));
    }
    Ok((o.output, o.exit))
}

/// `inspect -f TEMPLATE` of an object, `None` when it does not exist.
fn inspect(runner: &mut Runner, what: &str, object: &str, template: &str) -> Result<Option<String>, String> {
    let (out, code) = skiff(runner, &[what, "inspect", "-f", template, object])?;
    if code != 0 {
        if out.contains("No such") {
            return Ok(None);
        }
        return Err(format!("`skiff {what} inspect {object}` failed: {}", out.trim()));
    }
    Ok(Some(out.trim_end_matches('\n').to_string()))
}

fn need_image(runner: &mut Runner, image: &str, template: &str) -> Result<String, String> {
    inspect(runner, "image", image, template)?.ok_or_else(|| format!("there is no image {image}"))
}

fn need_container(runner: &mut Runner, name: &str, template: &str) -> Result<String, String> {
    inspect(runner, "container", name, template)?.ok_or_else(|| format!("there is no container {name}"))
}

/// Compares a file's content (or absence) with what the check wants.
fn judge_file(where_: &str, path: &str, content: Option<&str>, want: &FileWant) -> Result<(), String> {
    match (want, content) {
        (FileWant::Exists, Some(_)) | (FileWant::Absent, None) => Ok(()),
        (FileWant::Exists, None) => Err(format!("{where_} has no file {path}")),
        (FileWant::Absent, Some(_)) => Err(format!("{where_} still has {path}")),
        (FileWant::Contains(t), None) => Err(format!("{where_} has no file {path} (it should contain `{t}`)")),
        (FileWant::Contains(t), Some(c)) if c.contains(t.as_str()) => Ok(()),
        (FileWant::Contains(t), Some(c)) => {
            let first = c.lines().next().unwrap_or("");
            let shown = if c.trim().is_empty() { "is empty".to_string() } else { format!("says `{first}`") };
            Err(format!("{path} in {where_} {shown}, not `{t}`"))
        }
    }
}

/// Normalises a port for comparison: `80` → `80/tcp`.
fn port_key(p: &str) -> String {
    if p.contains('/') {
        p.to_string()
    } else {
        format!("{p}/tcp")
    }
}

/// Verifies one check against the runner's state root. `Err` says, in one line, what is missing.
pub fn evaluate(check: &Check, runner: &mut Runner) -> Result<(), String> {
    match &check.kind {
        Kind::ImageExists { image, want } => match (inspect(runner, "image", image, "{{.Id}}")?, want) {
            (Some(_), true) | (None, false) => Ok(()),
            (None, true) => Err(format!("there is no image {image}")),
            (Some(_), false) => Err(format!("the image {image} is still there (remove it with skiff rmi {image})")),
        },
        Kind::ImageLayers { image, base, count } => {
            let n: usize = need_image(runner, image, "{{len .RootFS.Layers}}")?.trim().parse().unwrap_or(0);
            let (want, how) = match base {
                Some(b) => {
                    let bn: usize = need_image(runner, b, "{{len .RootFS.Layers}}")?.trim().parse().unwrap_or(0);
                    (bn + count, format!(" ({b}'s {bn} + {count})"))
                }
                None => (*count, String::new()),
            };
            if n == want {
                Ok(())
            } else {
                Err(format!("{image} has {n} layers; the exercise wants {want}{how}"))
            }
        }
        Kind::ImageFile { image, path, want } => {
            need_image(runner, image, "{{.Id}}")?;
            let (out, code) = skiff(
                runner,
                &["run", "--rm", "--network", "none", "--user", "0", "--entrypoint", "cat", image, path],
            )?;
            let content = if code == 0 { Some(out.clone()) } else { None };
            if code != 0 && !out.contains("No such file") && !out.contains("Is a directory") {
                return Err(format!("cannot read {path} in {image}: {}", out.lines().last().unwrap_or("").trim()));
            }
            let content = if out.contains("Is a directory") { Some(String::new()) } else { content };
            judge_file(&format!("image {image}"), path, content.as_deref(), want)
        }
        Kind::ImageConfig { image, field, value } => {
            let got = match field {
                Field::Env => need_image(runner, image, "{{range .Config.Env}}{{println .}}{{end}}")?,
                Field::Cmd => need_image(runner, image, "{{json .Config.Cmd}}")?,
                Field::Entrypoint => need_image(runner, image, "{{json .Config.Entrypoint}}")?,
                Field::Workdir => need_image(runner, image, "{{.Config.WorkingDir}}")?,
                Field::User => need_image(runner, image, "{{.Config.User}}")?,
                Field::Label => need_image(runner, image, "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}}\n{{end}}")?,
                Field::Exposes => need_image(runner, image, "{{range $k, $v := .Config.ExposedPorts}}{{$k}}\n{{end}}")?,
                Field::Volume => need_image(runner, image, "{{range $k, $v := .Config.Volumes}}{{$k}}\n{{end}}")?,
                Field::StopSignal => need_image(runner, image, "{{.Config.StopSignal}}")?,
            };
            let ok = match field {
                Field::Env | Field::Label | Field::Volume => got.lines().any(|l| l == value),
                Field::Exposes => got.lines().any(|l| l == port_key(value)),
                Field::Cmd | Field::Entrypoint => {
                    let norm = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
                    norm(&got) == norm(value)
                }
                _ => got.trim() == value,
            };
            if ok {
                return Ok(());
            }
            let shown = got.lines().filter(|l| !l.is_empty()).collect::<Vec<_>>().join(", ");
            let shown = if matches!(shown.as_str(), "" | "null" | "[]" | "<nil>" | "<no value>") {
                "nothing".to_string()
            } else {
                format!("`{shown}`")
            };
            Err(format!(
                "{image} has {} {shown}, not `{value}` (set by {} in the Dockerfile)",
                field.word(),
                field.instruction()
            ))
        }
        Kind::ContainerExists { name, want } => match (inspect(runner, "container", name, "{{.Id}}")?, want) {
            (Some(_), true) | (None, false) => Ok(()),
            (None, true) => Err(format!("there is no container {name}")),
            (Some(_), false) => Err(format!("the container {name} is still there (remove it with skiff rm -f {name})")),
        },
        Kind::ContainerState { name, state, code } => {
            let got = need_container(runner, name, "{{.State.Status}} {{.State.ExitCode}}")?;
            let (st, ex) = got.split_once(' ').unwrap_or((got.as_str(), ""));
            let ex: i32 = ex.trim().parse().unwrap_or(-1);
            if st != state {
                let hint = match state.as_str() {
                    "running" if st == "exited" => format!(" (exit code {ex}; start it with skiff start {name})"),
                    "running" if st == "paused" => format!(" (skiff unpause {name})"),
                    "exited" if st == "running" => format!(" (stop it with skiff stop {name})"),
                    _ => String::new(),
                };
                return Err(format!("container {name} is {st}, not {state}{hint}"));
            }
            match code {
                Some(c) if *c != ex => Err(format!("container {name} exited with code {ex}, not {c}")),
                _ => Ok(()),
            }
        }
        Kind::ContainerImage { name, image } => {
            let got = need_container(runner, name, "{{.Image}}")?;
            let want = need_image(runner, image, "{{.Id}}")?;
            if got.trim() == want.trim() {
                Ok(())
            } else {
                let made = need_container(runner, name, "{{.Config.Image}}")?;
                Err(format!("container {name} runs {made}, not {image}"))
            }
        }
        Kind::ContainerPort { name, port, host } => {
            need_container(runner, name, "{{.Id}}")?;
            let (out, code) = skiff(runner, &["port", name, &port_key(port)])?;
            let hosts: Vec<&str> = if code == 0 { out.lines().collect() } else { Vec::new() };
            if hosts.is_empty() {
                return Err(format!("container {name} does not publish port {port} (run it with -p HOSTPORT:{port})"));
            }
            match host {
                Some(h) if !hosts.iter().any(|l| l.rsplit(':').next() == Some(h.as_str())) => {
                    Err(format!("container {name} publishes {port} on {}, not on host port {h}", hosts.join(", ")))
                }
                _ => Ok(()),
            }
        }
        Kind::ContainerNetwork { name, network, want } => {
            let got = need_container(runner, name, "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}\n{{end}}")?;
            let on = got.lines().any(|l| l == network);
            let nets = got.lines().collect::<Vec<_>>().join(", ");
            match (on, want) {
                (true, true) | (false, false) => Ok(()),
                (false, true) => Err(format!(
                    "container {name} is not on network {network} (it is on: {}); skiff network connect {network} {name}",
                    if nets.is_empty() { "none" } else { &nets }
                )),
                (true, false) => Err(format!("container {name} is still on network {network}")),
            }
        }
        Kind::ContainerLogs { name, text } => {
            need_container(runner, name, "{{.Id}}")?;
            let (out, _) = skiff(runner, &["logs", name])?;
            if out.contains(text.as_str()) {
                Ok(())
            } else {
                let last = out.lines().last().map(|l| format!("; its last line is `{l}`")).unwrap_or_default();
                Err(format!("the logs of {name} do not contain `{text}`{last}"))
            }
        }
        Kind::ContainerFile { name, path, want } => {
            need_container(runner, name, "{{.Id}}")?;
            let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
            let dest = tmp.path().join("copy");
            let (out, code) = skiff(runner, &["cp", &format!("{name}:{path}"), &dest.to_string_lossy()])?;
            let content = if code == 0 {
                Some(std::fs::read_to_string(&dest).unwrap_or_default())
            } else if out.contains("Could not find") || out.contains("No such") {
                None
            } else {
                return Err(format!("cannot read {path} in {name}: {}", out.trim()));
            };
            judge_file(&format!("container {name}"), path, content.as_deref(), want)
        }
        Kind::ContainerEnv { name, pair } => {
            let got = need_container(runner, name, "{{range .Config.Env}}{{println .}}{{end}}")?;
            if got.lines().any(|l| l == pair) {
                return Ok(());
            }
            let key = pair.split('=').next().unwrap_or("");
            match got.lines().find(|l| l.split('=').next() == Some(key)) {
                Some(l) => Err(format!("container {name} has {l}, not {pair}")),
                None => Err(format!("container {name} has no {key} in its environment (skiff run -e {pair} …)")),
            }
        }
        Kind::ContainerMount { name, source, target } => {
            let got = need_container(runner, name, "{{range .Mounts}}{{.Name}}|{{.Source}}|{{.Destination}}\n{{end}}")?;
            let found = got.lines().any(|l| {
                let f: Vec<&str> = l.split('|').collect();
                f.len() == 3 && f[2] == target && (f[0] == source || f[1] == source)
            });
            if found {
                Ok(())
            } else {
                let mounts: Vec<String> = got
                    .lines()
                    .filter_map(|l| {
                        let f: Vec<&str> = l.split('|').collect();
                        (f.len() == 3).then(|| format!("{}:{}", if f[0].is_empty() { f[1] } else { f[0] }, f[2]))
                    })
                    .collect();
                let has = if mounts.is_empty() { "no mounts".to_string() } else { mounts.join(", ") };
                Err(format!("container {name} does not mount {source} at {target} (it has {has})"))
            }
        }
        Kind::VolumeExists { name, want } => match (inspect(runner, "volume", name, "{{.Name}}")?, want) {
            (Some(_), true) | (None, false) => Ok(()),
            (None, true) => Err(format!("there is no volume {name} (skiff volume create {name})")),
            (Some(_), false) => Err(format!("the volume {name} is still there (skiff volume rm {name})")),
        },
        Kind::Network { name, want, driver } => {
            match (inspect(runner, "network", name, "{{.Driver}}")?, want, driver) {
                (None, false, _) => Ok(()),
                (None, true, _) => Err(format!("there is no network {name} (skiff network create {name})")),
                (Some(_), false, _) => Err(format!("the network {name} is still there (skiff network rm {name})")),
                (Some(d), true, Some(want)) if d.trim() != want => {
                    Err(format!("network {name} has driver {}, not {want}", d.trim()))
                }
                (Some(_), true, _) => Ok(()),
            }
        }
        Kind::Inspect { object, template, value } => {
            let (out, code) = skiff(runner, &["inspect", "-f", template, object])?;
            if code != 0 {
                return Err(out.lines().last().unwrap_or("inspect failed").trim().to_string());
            }
            let got = out.trim_end_matches('\n');
            if got.trim() == value.trim() {
                Ok(())
            } else {
                Err(format!("{template} of {object} is `{}`, not `{value}`", got.trim()))
            }
        }
        Kind::Command { command, prints, exit } => {
            let o = runner.run_command(command).map_err(|e| format!("cannot run `{command}`: {e}"))?;
            if o.timed_out {
                return Err(format!("`{command}` did not finish"));
            }
            if let Some(code) = exit {
                if o.exit != *code {
                    return Err(format!("`{command}` exits with {}, not {code}", o.exit));
                }
            }
            if let Some(text) = prints {
                if !o.output.contains(text.as_str()) {
                    let first = o.output.lines().next().unwrap_or("(nothing)");
                    return Err(format!("`{command}` prints `{first}`…, without `{text}`"));
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words() {
        let cases: &[(&str, &[&str])] = &[
            ("a b  c", &["a", "b", "c"]),
            ("logs contain 'hello world'", &["logs", "contain", "hello world"]),
            ("x \"a \\\"q\\\" b\" y", &["x", "a \"q\" b", "y"]),
            ("'' a", &["", "a"]),
            ("a\\ b", &["a b"]),
        ];
        for (line, want) in cases {
            assert_eq!(words(line).unwrap(), want.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{line}");
        }
        assert!(words("'open").is_err());
    }

    #[test]
    fn parses_every_form() {
        let img = |s: &str| s.to_string();
        let cases: Vec<(&str, Kind)> = vec![
            ("image greeting:v2 exists", Kind::ImageExists { image: img("greeting:v2"), want: true }),
            ("image old absent", Kind::ImageExists { image: img("old"), want: false }),
            ("image g layers 3", Kind::ImageLayers { image: img("g"), base: None, count: 3 }),
            ("image g layers busybox+2", Kind::ImageLayers { image: img("g"), base: Some(img("busybox")), count: 2 }),
            (
                "image g file /greeting contains hello there",
                Kind::ImageFile {
                    image: img("g"),
                    path: img("/greeting"),
                    want: FileWant::Contains(img("hello there")),
                },
            ),
            ("image g file /x absent", Kind::ImageFile { image: img("g"), path: img("/x"), want: FileWant::Absent }),
            (
                "image g cmd [\"echo\", \"hi\"]",
                Kind::ImageConfig { image: img("g"), field: Field::Cmd, value: img("[\"echo\", \"hi\"]") },
            ),
            ("image g env A=1", Kind::ImageConfig { image: img("g"), field: Field::Env, value: img("A=1") }),
            ("container web running", Kind::ContainerState { name: img("web"), state: img("running"), code: None }),
            ("container job exited 3", Kind::ContainerState { name: img("job"), state: img("exited"), code: Some(3) }),
            ("container web exists", Kind::ContainerExists { name: img("web"), want: true }),
            ("container web image nginx", Kind::ContainerImage { name: img("web"), image: img("nginx") }),
            (
                "container web publishes 80 on 8080",
                Kind::ContainerPort { name: img("web"), port: img("80"), host: Some(img("8080")) },
            ),
            ("container web publishes 80", Kind::ContainerPort { name: img("web"), port: img("80"), host: None }),
            ("container web on dev", Kind::ContainerNetwork { name: img("web"), network: img("dev"), want: true }),
            (
                "container web not on bridge",
                Kind::ContainerNetwork { name: img("web"), network: img("bridge"), want: false },
            ),
            (
                "container web logs contain 'ready now'",
                Kind::ContainerLogs { name: img("web"), text: img("ready now") },
            ),
            (
                "container web file /srv/x contains hi",
                Kind::ContainerFile { name: img("web"), path: img("/srv/x"), want: FileWant::Contains(img("hi")) },
            ),
            ("container web env A=b=c", Kind::ContainerEnv { name: img("web"), pair: img("A=b=c") }),
            (
                "container db mounts data:/var/lib/data",
                Kind::ContainerMount { name: img("db"), source: img("data"), target: img("/var/lib/data") },
            ),
            ("volume data exists", Kind::VolumeExists { name: img("data"), want: true }),
            ("network dev exists", Kind::Network { name: img("dev"), want: true, driver: None }),
            ("network dev driver bridge", Kind::Network { name: img("dev"), want: true, driver: Some(img("bridge")) }),
            (
                "inspect web '{{.HostConfig.RestartPolicy.Name}}' is always",
                Kind::Inspect {
                    object: img("web"),
                    template: img("{{.HostConfig.RestartPolicy.Name}}"),
                    value: img("always"),
                },
            ),
            (
                "run `curl -s localhost:8080` prints hello",
                Kind::Command { command: img("curl -s localhost:8080"), prints: Some(img("hello")), exit: None },
            ),
            ("run `false` exits 1", Kind::Command { command: img("false"), prints: None, exit: Some(1) }),
        ];
        for (line, want) in cases {
            assert_eq!(parse_check(7, line).unwrap().kind, want, "{line}");
        }
        for bad in [
            "image",
            "image g layers x",
            "image g file /x",
            "container web dancing",
            "container web mounts nocolon",
            "run curl prints x",
            "run `x` sings",
            "flavour vanilla",
        ] {
            assert!(parse_check(1, bad).is_err(), "{bad}");
        }
        assert!(parse_check(1, "teapot").unwrap_err().contains("image REF exists|absent"));
    }
}
