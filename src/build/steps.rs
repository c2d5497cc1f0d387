//! What each instruction (after FROM) does to the stage: the config change and the
//! `CREATED BY` line of metadata steps, RUN's command line, COPY/ADD's files, WORKDIR's dir.

use super::dockerfile::{CopyArgs, Instruction, Kind, ShellOrExec};
use super::{copy, expand, layer, BResult, BuildError, Builder, Stage};
use std::collections::BTreeMap;

/// Go's `%q` of a string slice, as Docker's history shows CMD/ENTRYPOINT: `["a" "b c"]`.
fn go_quoted(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| serde_json::to_string(s).expect("string")).collect();
    format!("[{}]", items.join(" "))
}

impl Builder<'_> {
    fn expand(&self, word: &str) -> BResult<String> {
        let stage = self.stages.last().expect("a stage");
        expand::expand(word, &|k| stage.lookup(k), self.escape).map_err(BuildError::Failed)
    }

    fn expand_words(&self, words: &[String]) -> BResult<Vec<String>> {
        let stage = self.stages.last().expect("a stage");
        let mut out = Vec::new();
        for w in words {
            out.extend(expand::expand_words(w, &|k| stage.lookup(k), self.escape).map_err(BuildError::Failed)?);
        }
        Ok(out)
    }

    /// The argv of a RUN/CMD/ENTRYPOINT: exec form as written, shell form through SHELL.
    fn argv(&self, c: &ShellOrExec) -> Vec<String> {
        match c {
            ShellOrExec::Exec(v) => v.clone(),
            ShellOrExec::Shell(s) => {
                let mut v = self.stages.last().expect("a stage").shell();
                v.push(s.clone());
                v
            }
        }
    }

    /// Run one instruction of a stage (or an ONBUILD trigger).
    pub(super) fn dispatch(&mut self, ins: &Instruction) -> BResult<()> {
        let text = ins.original.as_str();
        match &ins.kind {
            Kind::From { .. } => Err(BuildError::Failed("FROM isn't allowed here".into())),
            Kind::Run { command, heredocs } => {
                let command = match (command, heredocs.first()) {
                    // `RUN <<EOF` runs the here-document as the script.
                    (ShellOrExec::Shell(s), Some(h))
                        if s.trim_start().starts_with("<<")
                            && heredocs.len() == 1
                            && !s.contains(char::is_whitespace) =>
                    {
                        ShellOrExec::Shell(h.content.clone())
                    }
                    // Otherwise the shell reads the bodies as its own here-documents.
                    (ShellOrExec::Shell(s), Some(_)) => {
                        let mut script = s.clone();
                        for h in heredocs {
                            script.push('\n');
                            script.push_str(&h.content);
                            script.push_str(&h.name);
                        }
                        ShellOrExec::Shell(script)
                    }
                    (c, _) => c.clone(),
                };
                let argv = self.argv(&command);
                let shown = argv.join(" ");
                self.run_step(text, argv, shown)
            }
            Kind::Cmd(c) => {
                let argv = self.argv(c);
                let comment = format!("CMD {}", go_quoted(&argv));
                self.stage().cmd_set = true;
                self.metadata_step(text, comment, |s| s.run_config().cmd = Some(argv))
            }
            Kind::Entrypoint(c) => {
                let argv = self.argv(c);
                let comment = format!("ENTRYPOINT {}", go_quoted(&argv));
                let keep_cmd = self.stage().cmd_set;
                self.metadata_step(text, comment, |s| {
                    let rc = s.run_config();
                    rc.entrypoint = Some(argv);
                    if !keep_cmd {
                        rc.cmd = None; // as Docker: an inherited CMD does not survive a new ENTRYPOINT
                    }
                })
            }
            Kind::Shell(v) => {
                let v = v.clone();
                self.metadata_step(text, format!("SHELL [{}]", v.join(" ")), |s| s.run_config().shell = Some(v))
            }
            Kind::Env(pairs) => {
                let mut set = Vec::new();
                for (k, v) in pairs {
                    set.push((self.expand(k)?, self.expand(v)?));
                }
                let comment =
                    format!("ENV {}", set.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "));
                self.metadata_step(text, comment, |s| {
                    let env = s.run_config().env.get_or_insert_with(Vec::new);
                    for (k, v) in set {
                        match env.iter_mut().find(|e| e.split('=').next() == Some(k.as_str())) {
                            Some(e) => *e = format!("{k}={v}"),
                            None => env.push(format!("{k}={v}")),
                        }
                    }
                })
            }
            Kind::Arg(list) => {
                let mut shown = Vec::new();
                for (name, default) in list {
                    let default = default.as_ref().map(|d| self.expand(d)).transpose()?;
                    // Without a default, an ARG re-declared in a stage takes the global one.
                    let value = self
                        .build_args
                        .get(name)
                        .cloned()
                        .or(default.clone())
                        .or_else(|| self.global_args.get(name).cloned().flatten());
                    self.consumed.insert(name.clone());
                    self.stage().args.insert(name.clone(), value);
                    shown.push(match default {
                        Some(d) => format!("{name}={d}"),
                        None => name.clone(),
                    });
                }
                self.metadata_step(text, format!("ARG {}", shown.join(" ")), |_| {})
            }
            Kind::Label(pairs) => {
                let mut set = Vec::new();
                for (k, v) in pairs {
                    set.push((self.expand(k)?, self.expand(v)?));
                }
                let comment =
                    format!("LABEL {}", set.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "));
                self.metadata_step(text, comment, |s| {
                    let labels = s.run_config().labels.get_or_insert_with(BTreeMap::new);
                    labels.extend(set);
                })
            }
            Kind::Maintainer(m) => {
                let m = self.expand(m)?;
                self.metadata_step(text, format!("MAINTAINER {m}"), |s| s.config.author = Some(m))
            }
            Kind::Expose(words) => {
                let ports = self.expand_words(words)?;
                for p in &ports {
                    check_expose(p).map_err(BuildError::Failed)?;
                }
                let comment = format!("EXPOSE {}", ports.join(" "));
                self.metadata_step(text, comment, |s| {
                    let map = s.run_config().exposed_ports.get_or_insert_with(BTreeMap::new);
                    for p in ports {
                        let p = if p.contains('/') { p } else { format!("{p}/tcp") };
                        map.insert(p, serde_json::json!({}));
                    }
                })
            }
            Kind::Volume(words) => {
                let vols = self.expand_words(words)?;
                let comment = format!("VOLUME [{}]", vols.join(" "));
                self.metadata_step(text, comment, |s| {
                    let map = s.run_config().volumes.get_or_insert_with(BTreeMap::new);
                    for v in vols {
                        map.insert(v, serde_json::json!({}));
                    }
                })
            }
            Kind::User(u) => {
                let u = self.expand(u)?;
                self.metadata_step(text, format!("USER {u}"), |s| s.run_config().user = Some(u))
            }
            Kind::StopSignal(sig) => {
                let sig = self.expand(sig)?;
                self.metadata_step(text, format!("STOPSIGNAL {sig}"), |s| s.run_config().stop_signal = Some(sig))
            }
            Kind::Onbuild(trigger) => {
                let t = trigger.original.clone();
                self.metadata_step(text, format!("ONBUILD {t}"), |s| {
                    s.run_config().on_build.get_or_insert_with(Vec::new).push(t)
                })
            }
            Kind::Healthcheck(h) => {
                let value = match h {
                    None => serde_json::json!({ "Test": ["NONE"] }),
                    Some(h) => {
                        let mut v = serde_json::json!({ "Test": h.test });
                        for (key, d) in
                            [("Interval", &h.interval), ("Timeout", &h.timeout), ("StartPeriod", &h.start_period)]
                        {
                            if let Some(d) = d {
                                v[key] = serde_json::json!(
                                    super::dockerfile::go_duration_nanos(d).map_err(BuildError::Failed)?
                                );
                            }
                        }
                        if let Some(r) = h.retries {
                            v["Retries"] = serde_json::json!(r);
                        }
                        v
                    }
                };
                let comment = format!("HEALTHCHECK {}", serde_json::to_string(&value).expect("json"));
                self.metadata_step(text, comment, |s| s.run_config().healthcheck = Some(value))
            }
            Kind::Workdir(dir) => {
                let dir = copy::absolute(&self.expand(dir)?, &self.stage().workdir());
                self.workdir_step(text, dir)
            }
            Kind::Copy(args) => self.copy_step(text, args, false),
            Kind::Add(args) => self.copy_step(text, args, true),
        }
    }

    /// WORKDIR: set the directory, and make it (as a layer) when the image lacks it.
    fn workdir_step(&mut self, text: &str, dir: String) -> BResult<()> {
        let key = format!("{} #(nop) WORKDIR {dir}", self.stage().shell().join(" "));
        self.cached_step(text, key, BTreeMap::new(), |b, stage| {
            let ctr = b.probe_container(stage, &format!("WORKDIR {dir}"))?;
            let (view, _upper) = b.view(stage)?;
            let exists = view.metadata(&dir, true).is_ok();
            stage.run_config().working_dir = Some(dir.clone());
            let layer = if exists {
                None
            } else {
                let tmp = tempfile::tempdir_in(b.store.scratch_dir()).map_err(|e| BuildError::Failed(e.to_string()))?;
                let made = tmp.path().join(dir.trim_start_matches('/'));
                std::fs::create_dir_all(&made).map_err(|e| BuildError::Failed(e.to_string()))?;
                copy::set_dir_modes(tmp.path(), &made)?;
                let _lock = b.store.lock()?;
                let parent = crate::spec::Digest::chain(&stage.config.rootfs.diff_ids).last().cloned();
                Some(layer::layer_from_dir(b.store, tmp.path(), parent.as_ref())?.0)
            };
            if let Some(c) = ctr {
                b.say(&format!("Removing intermediate container {}", c.short_id()));
                crate::container::remove(b.store, &c, true)?;
            }
            Ok(layer)
        })
    }

    /// COPY/ADD: the files from the context (or `--from` a stage or image) as one layer.
    fn copy_step(&mut self, text: &str, args: &CopyArgs, add: bool) -> BResult<()> {
        let sources: Vec<String> = self.expand_words(&args.sources)?;
        let dest = self.expand(&args.dest)?;
        let chmod = match &args.chmod {
            Some(m) => Some(
                u32::from_str_radix(m, 8).map_err(|_| BuildError::Failed(format!("invalid chmod parameter: {m}")))?,
            ),
            None => None,
        };
        let stage = self.stage().clone();
        let owner = match &args.chown {
            Some(spec) => self.owner(&stage, &self.expand(spec)?)?,
            None => (0, 0),
        };
        let from_ctx;
        let ctx = match &args.from {
            None => &self.ctx,
            Some(from) => {
                let from_stage = match from.parse::<usize>() {
                    Ok(i) => self.stages.get(i).cloned(),
                    Err(_) => self
                        .stages
                        .iter()
                        .find(|s| s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(from)))
                        .cloned(),
                };
                let src = match from_stage {
                    Some(s) => s,
                    None => {
                        let mut sink = std::io::sink();
                        let img = crate::builtin::get_or_pull(self.store, from, &mut sink)?;
                        Stage::from_image(&img, None)
                    }
                };
                let (view, _upper) = self.view(&src)?;
                from_ctx = super::context::Context::from_view(&view)?;
                &from_ctx
            }
        };
        let (view, _upper) = self.view(&stage)?;
        let is_dir = |p: &str| view.metadata(p, true).map(|m| m.kind == crate::unionfs::Kind::Dir).unwrap_or(false);
        let plan = copy::plan(ctx, &sources, &args.heredocs, &dest, &stage.workdir(), add, &is_dir)?;
        let what = if add { "ADD" } else { "COPY" };
        let from = args.from.as_ref().map(|f| format!("--from={f} ")).unwrap_or_default();
        let key = format!("{} #(nop) {what} {from}{} in {dest} ", stage.shell().join(" "), plan.summary);
        let files = plan.files.clone();
        self.cached_step(text, key, files, |b, stage| {
            // The files are written where the layer will be kept: see `layer::layer_from_new`.
            let new = b.store.new_layer()?;
            plan.write(&new.diff(), chmod)?;
            let _lock = b.store.lock()?;
            let parent = crate::spec::Digest::chain(&stage.config.rootfs.diff_ids).last().cloned();
            Ok(Some(layer::layer_from_new(b.store, new, parent.as_ref(), owner)?.0))
        })
    }

    /// `--chown=user[:group]`: numbers as they are, names looked up in the image's
    /// `/etc/passwd` and `/etc/group` (a user alone also gives its group), as Docker does.
    fn owner(&self, stage: &Stage, spec: &str) -> BResult<(u64, u64)> {
        let (user, group) = match spec.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (spec, None),
        };
        let (view, _upper) = self.view(stage)?;
        let lookup = |file: &str, name: &str| -> BResult<(u64, u64)> {
            if let Ok(n) = name.parse::<u64>() {
                return Ok((n, n));
            }
            let text = String::from_utf8_lossy(&view.read(file).unwrap_or_default()).into_owned();
            for line in text.lines() {
                let f: Vec<&str> = line.split(':').collect();
                if f.first() == Some(&name) && f.len() > 3 {
                    let id = f[2].parse().unwrap_or(0);
                    let gid = if file == "/etc/passwd" { f[3].parse().unwrap_or(0) } else { id };
                    return Ok((id, gid));
                }
            }
            let what = if file == "/etc/passwd" { "user" } else { "group" };
            Err(BuildError::Failed(format!(
                "unable to convert uid/gid chown string to host mapping: can't find {what} {name:?} in {file}"
            )))
        };
        let (uid, user_gid) = lookup("/etc/passwd", user)?;
        let gid = match group {
            Some(g) => lookup("/etc/group", g)?.0,
            None => user_gid,
        };
        Ok((uid, gid))
    }
}

/// An `EXPOSE` value, checked as Docker's `nat.ParsePortSpecs` does: `port[-port][/proto]`.
fn check_expose(p: &str) -> Result<(), String> {
    let (ports, proto) = p.rsplit_once('/').unwrap_or((p, "tcp"));
    if !matches!(proto.to_ascii_lowercase().as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("Invalid proto: {proto}"));
    }
    let valid = |s: &str| s.parse::<u16>().is_ok();
    let ok = match ports.split_once('-') {
        Some((a, b)) => valid(a) && valid(b) && a.parse::<u16>().ok() <= b.parse::<u16>().ok(),
        None => valid(ports),
    };
    match ok {
        true => Ok(()),
        false => Err(format!("Invalid containerPort: {ports}")),
    }
}
