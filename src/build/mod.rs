//! `skiff build`: Docker's classic builder, made visible. Each instruction is a step that
//! commits a real intermediate image (parent-linked, so `images -a`, `history` and `run` see
//! it); the cache is keyed as Docker keys it (the parent image and the step's `CREATED BY`
//! line, which carries a checksum of the files for COPY/ADD); each miss says why.

mod cache;
pub mod context;
mod copy;
pub mod dockerfile;
pub mod expand;
pub mod ignore;
pub mod interrupt;
pub mod layer;
mod steps;

use crate::container::{self, CreateOptions};
use crate::reference::Reference;
use crate::runtime::{self, Buffer, Output, ProcessSpec, Stdio};
use crate::spec::{to_json, Descriptor, Digest, History, ImageConfig, RootFs};
use crate::store::{Image, Store};
use crate::unionfs::UnionFs;
use context::Context;
use dockerfile::{Instruction, Kind};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

/// What `skiff build` was asked.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub context: PathBuf,
    /// The Dockerfile's text and the name errors call it by.
    pub dockerfile: String,
    pub dockerfile_name: String,
    pub tags: Vec<Reference>,
    pub no_cache: bool,
    /// `--build-arg K=V` (`None`: `--build-arg K`, the value from skiff's environment).
    pub build_args: Vec<(String, Option<String>)>,
    pub target: Option<String>,
    pub quiet: bool,
}

/// How a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A message printed as it is (Docker's wording), exit 1.
    #[error("{0}")]
    Failed(String),
    /// A RUN step's command failed: its exit code is the build's.
    #[error("The command '{command}' returned a non-zero code: {code}")]
    StepFailed { command: String, code: i32, last_image: Option<Digest> },
}

impl From<anyhow::Error> for BuildError {
    fn from(e: anyhow::Error) -> Self {
        BuildError::Failed(e.to_string())
    }
}

impl From<crate::error::Error> for BuildError {
    fn from(e: crate::error::Error) -> Self {
        BuildError::Failed(e.to_string())
    }
}

type BResult<T> = std::result::Result<T, BuildError>;

/// ARGs any build may set without declaring them (Docker's predefined ones).
const PREDEFINED_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// The image a stage has built so far, and what the stage knows.
#[derive(Debug, Clone)]
struct Stage {
    name: Option<String>,
    /// `None` until a `FROM scratch` stage commits its first step.
    id: Option<Digest>,
    manifest: Option<Digest>,
    config: ImageConfig,
    layers: Vec<Descriptor>,
    /// ARGs declared in this stage, with their values.
    args: BTreeMap<String, Option<String>>,
    /// CMD was set in this stage (ENTRYPOINT then keeps it).
    cmd_set: bool,
    /// A step of this stage was rebuilt: the cache cannot hit after it.
    rebuilt: bool,
    /// That first miss was explained (the step had been built before): later steps say
    /// they follow it. A first build says nothing, as Docker's does.
    explained: bool,
}

impl Stage {
    fn from_image(img: &Image, name: Option<String>) -> Stage {
        Stage {
            name,
            id: Some(img.id.clone()),
            manifest: Some(img.manifest_digest.clone()),
            config: img.config.clone(),
            layers: img.manifest.layers.clone(),
            args: BTreeMap::new(),
            cmd_set: false,
            rebuilt: false,
            explained: false,
        }
    }

    fn scratch(name: Option<String>) -> Stage {
        let (os, architecture) = runtime::Kind::default().platform();
        let config = ImageConfig {
            architecture: architecture.into(),
            os: os.into(),
            rootfs: RootFs::layers(vec![]),
            ..Default::default()
        };
        Stage {
            name,
            id: None,
            manifest: None,
            config,
            layers: vec![],
            args: BTreeMap::new(),
            cmd_set: false,
            rebuilt: false,
            explained: false,
        }
    }

    fn run_config(&mut self) -> &mut crate::spec::ContainerConfig {
        self.config.config.get_or_insert_with(Default::default)
    }

    fn workdir(&self) -> String {
        self.config
            .config
            .as_ref()
            .and_then(|c| c.working_dir.clone())
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "/".into())
    }

    fn shell(&self) -> Vec<String> {
        self.config.config.as_ref().and_then(|c| c.shell.clone()).unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
    }

    /// The value of `name` for expansion: ENV first, then this stage's ARGs.
    fn lookup(&self, name: &str) -> Option<String> {
        let env = self.config.config.as_ref().and_then(|c| c.env.as_ref());
        if let Some(v) =
            env.and_then(|e| e.iter().rev().find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_string)))
        {
            return Some(v);
        }
        self.args.get(name).cloned().flatten()
    }

    /// The ARGs a RUN sees as environment: declared, valued, and not shadowed by ENV.
    fn run_args(&self) -> Vec<(String, String)> {
        let env = self.config.config.as_ref().and_then(|c| c.env.clone()).unwrap_or_default();
        self.args
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
            .filter(|(k, _)| !env.iter().any(|e| e.split('=').next() == Some(k.as_str())))
            .collect()
    }
}

/// Runs one build.
pub struct Builder<'a> {
    store: &'a Store,
    ctx: Context,
    opts: &'a Options,
    out: &'a mut dyn Write,
    escape: char,
    /// The values `--build-arg` gives (after taking bare names from the environment).
    build_args: BTreeMap<String, String>,
    consumed: BTreeSet<String>,
    /// ARGs declared before the first FROM.
    global_args: BTreeMap<String, Option<String>>,
    stages: Vec<Stage>,
    /// The step being run, as `Dockerfile:N` (its cache records say where they came from).
    origin: String,
    /// The image the last step committed, kept so the next step does not read (and verify)
    /// its config again: configs grow with every step, so reading each one back made long
    /// builds quadratic.
    last_image: std::cell::RefCell<Option<Image>>,
}

/// Build as `opts` says, printing Docker's classic transcript to `out`; returns the image ID.
pub fn build(store: &Store, opts: &Options, out: &mut dyn Write) -> BResult<Digest> {
    let file =
        dockerfile::parse(&opts.dockerfile).map_err(|e| BuildError::Failed(e.display_with(&opts.dockerfile_name)))?;
    let ctx = Context::open(&opts.context)?;
    let mut build_args = BTreeMap::new();
    for (k, v) in &opts.build_args {
        match v {
            Some(v) => {
                build_args.insert(k.clone(), v.clone());
            }
            None => {
                if let Ok(v) = std::env::var(k) {
                    build_args.insert(k.clone(), v);
                }
            }
        }
    }
    let mut b = Builder {
        store,
        ctx,
        opts,
        out,
        escape: file.escape,
        build_args,
        consumed: BTreeSet::new(),
        global_args: BTreeMap::new(),
        stages: Vec::new(),
        origin: String::new(),
        last_image: std::cell::RefCell::new(None),
    };
    b.say(&format!("Sending build context to skiff  {}", crate::units::human_size_precision(b.ctx.tar_size(), 4)));
    for w in &file.warnings {
        b.say(&format!("[WARNING]: {w}"));
    }
    if !file.instructions.iter().any(|i| matches!(i.kind, Kind::From { .. }))
        || !matches!(
            file.instructions.iter().find(|i| !matches!(i.kind, Kind::Arg(_))).map(|i| &i.kind),
            Some(Kind::From { .. })
        )
    {
        return Err(BuildError::Failed("no build stage in current context".into()));
    }
    if let Some(t) = &opts.target {
        let named = file
            .instructions
            .iter()
            .any(|i| matches!(&i.kind, Kind::From { stage_name: Some(n), .. } if n.eq_ignore_ascii_case(t)));
        if !named {
            return Err(BuildError::Failed(format!("failed to reach build target {t} in Dockerfile")));
        }
    }
    let total = file.instructions.len();
    for (n, ins) in file.instructions.iter().enumerate() {
        if let Kind::From { stage_name, .. } = &ins.kind {
            // `--target`: stop before the stage after the target.
            if let (Some(t), Some(last)) = (&opts.target, b.stages.last()) {
                if last.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(t)) {
                    break;
                }
            }
            let _ = stage_name;
        }
        b.say(&format!("Step {}/{total} : {}", n + 1, ins.original));
        b.origin = format!("{}:{}", opts.dockerfile_name, n + 1);
        b.step(ins)?;
    }
    let unused: Vec<&String> =
        b.build_args.keys().filter(|k| !b.consumed.contains(*k) && !PREDEFINED_ARGS.contains(&k.as_str())).collect();
    if !unused.is_empty() {
        let list = unused.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
        b.say(&format!("[Warning] One or more build-args [{list}] were not consumed"));
    }
    let mut stage = b.stages.last().cloned().expect("a FROM made a stage");
    let id = match stage.id.clone() {
        Some(id) => id,
        None => b.commit(&mut stage, "", None, cache::Record::default())?, // FROM scratch alone
    };
    let img = b.image_of(&stage)?;
    b.say(&format!("Successfully built {}", id.short()));
    {
        let _lock = store.lock()?;
        for t in &opts.tags {
            store.tag_image(&img.manifest_digest, t)?;
        }
    }
    for t in &opts.tags {
        b.say(&format!("Successfully tagged {}", t.familiar()));
    }
    Ok(id)
}

impl Builder<'_> {
    /// A line of the transcript (nothing with `-q`).
    fn say(&mut self, line: &str) {
        if !self.opts.quiet {
            let _ = writeln!(self.out, "{line}");
            let _ = self.out.flush();
        }
    }

    fn cache_on(&self) -> bool {
        !self.opts.no_cache
    }

    fn stage(&mut self) -> &mut Stage {
        self.stages.last_mut().expect("a stage")
    }

    /// Run one instruction.
    fn step(&mut self, ins: &Instruction) -> BResult<()> {
        if self.stages.is_empty() {
            // Before the first FROM only ARG is allowed: global args, for FROM lines.
            if let Kind::Arg(list) = &ins.kind {
                for (name, default) in list {
                    let lookup = |k: &str| self.global_args.get(k).cloned().flatten();
                    let default = default
                        .as_ref()
                        .map(|d| expand::expand(d, &lookup, self.escape))
                        .transpose()
                        .map_err(BuildError::Failed)?;
                    let value = self.build_args.get(name).cloned().or(default);
                    self.consumed.insert(name.clone());
                    self.global_args.insert(name.clone(), value);
                }
                return Ok(());
            }
        }
        match &ins.kind {
            Kind::From { image, stage_name, .. } => self.from(image, stage_name.clone()),
            _ => self.dispatch(ins),
        }
    }

    /// `FROM`: a new stage on scratch, an earlier stage, or an image (pulled from the
    /// built-in library when missing); then the base image's ONBUILD triggers.
    fn from(&mut self, image: &str, name: Option<String>) -> BResult<()> {
        let lookup = |k: &str| self.global_args.get(k).cloned().flatten();
        let image = expand::expand(image, &lookup, self.escape).map_err(BuildError::Failed)?;
        let stage = if image.eq_ignore_ascii_case("scratch") {
            Stage::scratch(name)
        } else if let Some(prev) =
            self.stages.iter().find(|s| s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&image)))
        {
            let mut s = prev.clone();
            (s.name, s.args, s.cmd_set) = (name, BTreeMap::new(), false);
            s
        } else {
            Reference::parse(&image)?;
            let mut sink = std::io::sink();
            let pull_out: &mut dyn Write = if self.opts.quiet { &mut sink } else { &mut *self.out };
            let img = crate::builtin::find_or_pull(self.store, &image, pull_out, false)?;
            Stage::from_image(&img, name)
        };
        let id = stage.id.as_ref().map(|i| i.short().to_string()).unwrap_or_default();
        self.stages.push(stage);
        self.say(&format!(" ---> {id}").trim_end().to_string());
        // ONBUILD: the base's triggers run now, in this build only.
        let triggers = self.stage().config.config.as_mut().and_then(|c| c.on_build.take()).unwrap_or_default();
        if !triggers.is_empty() {
            let n = triggers.len();
            self.say(&format!("# Executing {n} build trigger{}", if n == 1 { "" } else { "s" }));
            for t in &triggers {
                let parsed = dockerfile::parse(t)
                    .map_err(|e| BuildError::Failed(format!("failed to parse ONBUILD trigger {t:?}: {}", e.message)))?;
                for ins in &parsed.instructions {
                    self.dispatch(ins)?;
                }
            }
        }
        Ok(())
    }

    /// Commit the stage's config (plus `layer`) as a new image on the stage's current one,
    /// with a history entry `created_by`. Returns the new image ID.
    fn commit(
        &mut self,
        stage: &mut Stage,
        created_by: &str,
        layer: Option<Descriptor>,
        record: cache::Record,
    ) -> BResult<Digest> {
        let created = build_time();
        let mut config = stage.config.clone();
        config.created = Some(created.clone());
        if !created_by.is_empty() {
            config.history.push(History {
                created: Some(created),
                created_by: Some(created_by.to_string()),
                empty_layer: layer.is_none(),
                ..Default::default()
            });
        }
        let mut layers = stage.layers.clone();
        if let Some(l) = &layer {
            config.rootfs.diff_ids.push(l.digest.clone());
            layers.push(l.clone());
        }
        let _lock = self.store.lock()?;
        let config_bytes = to_json(&config);
        let (id, manifest) = self.store.put_image(&config_bytes, layers.clone())?;
        *self.last_image.borrow_mut() = Some(Image {
            id: id.clone(),
            manifest_digest: manifest.clone(),
            manifest: crate::spec::Manifest {
                schema_version: 2,
                media_type: Some(crate::spec::MEDIA_TYPE_MANIFEST.into()),
                config: Descriptor::new(crate::spec::MEDIA_TYPE_CONFIG, id.clone(), config_bytes.len() as u64),
                layers: layers.clone(),
                annotations: BTreeMap::new(),
            },
            config: config.clone(),
            tags: vec![],
        });
        if let Some(parent) = &stage.id {
            if *parent != id {
                self.store.set_parent(&id, parent)?;
            }
        }
        if !record.key.is_empty() {
            let record = cache::Record { manifest: Some(manifest.clone()), ..record };
            self.store.set_build_record(&id, &serde_json::to_vec(&record).expect("record serialises"))?;
        }
        stage.id = Some(id.clone());
        stage.manifest = Some(manifest);
        stage.config = config;
        stage.layers = layers;
        Ok(id)
    }

    /// One step through the cache: a hit takes the cached image; a miss says why (when the
    /// step was built here before), runs `apply` and commits what it made.
    fn cached_step(
        &mut self,
        instruction: &str,
        key: String,
        files: BTreeMap<String, String>,
        apply: impl FnOnce(&mut Self, &mut Stage) -> BResult<Option<Descriptor>>,
    ) -> BResult<()> {
        let record = cache::Record {
            key: key.clone(),
            instruction: instruction.to_string(),
            origin: self.origin.clone(),
            files,
            manifest: None,
        };
        let mut stage = self.stage().clone();
        if self.cache_on() && !stage.rebuilt {
            if let Some(img) = cache::lookup(self.store, stage.id.as_ref(), &key)? {
                self.say(" ---> Using cache");
                self.say(&format!(" ---> {}", img.id.short()));
                let s = self.stage();
                (s.id, s.manifest, s.config, s.layers) = (
                    Some(img.id.clone()),
                    Some(img.manifest_digest.clone()),
                    img.config.clone(),
                    img.manifest.layers.clone(),
                );
                return Ok(());
            }
            if let Some(why) = cache::why_missed(self.store, stage.id.as_ref(), &record)? {
                self.say(&format!(" ---> cache miss: {why}"));
                stage.explained = true;
            }
        } else if self.cache_on() && stage.explained {
            self.say(" ---> cache miss: an earlier step was rebuilt");
        }
        stage.rebuilt = true;
        let layer = apply(self, &mut stage)?;
        let id = self.commit(&mut stage, &key, layer, record)?;
        *self.stage() = stage;
        self.say(&format!(" ---> {}", id.short()));
        Ok(())
    }

    /// A step that changes only the image's config, in a container that runs nothing (as
    /// the classic builder commits one).
    fn metadata_step(&mut self, instruction: &str, comment: String, change: impl FnOnce(&mut Stage)) -> BResult<()> {
        let key = format!("{} #(nop)  {comment}", self.stage().shell().join(" "));
        self.cached_step(instruction, key, BTreeMap::new(), |b, stage| {
            let (ctr, step) = interrupt::creating(|| {
                let ctr = b.probe_container(stage, &comment)?;
                let step = ctr.as_ref().map(|c| interrupt::Step::new(b.store, &c.id));
                BResult::Ok((ctr, step))
            })?;
            change(stage);
            if let Some(c) = ctr {
                b.say(&format!("Removing intermediate container {}", c.short_id()));
                container::remove(b.store, &c, true)?;
            }
            step.map(interrupt::Step::keep);
            Ok(None)
        })
    }

    /// The container a metadata step is committed from (none on an empty scratch stage).
    fn probe_container(&mut self, stage: &Stage, comment: &str) -> BResult<Option<container::Container>> {
        let Some(id) = &stage.id else { return Ok(None) };
        let img = self.image_of(stage)?;
        let argv = [stage.shell(), vec![format!("#(nop) {comment}")]].concat();
        let opts = CreateOptions { argv: Some(argv), skip_image_volumes: true, ..Default::default() };
        let c = container::create(self.store, &img, id.short(), &opts)?;
        self.say(&format!(" ---> Running in {}", c.short_id()));
        Ok(Some(c))
    }

    /// RUN: the command in a container on the stage's image; its writable layer becomes
    /// the step's layer (none when it changed nothing). A failure keeps the container.
    fn run_step(&mut self, instruction: &str, argv: Vec<String>, shown: String) -> BResult<()> {
        let args = self.stage().run_args();
        let key = if args.is_empty() {
            shown
        } else {
            let list: Vec<String> = args.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("|{} {} {shown}", args.len(), list.join(" "))
        };
        for (k, _) in &args {
            self.consumed.insert(k.clone());
        }
        self.cached_step(instruction, key, BTreeMap::new(), |b, stage| {
            let Some(id) = stage.id.clone() else {
                return Err(BuildError::Failed(format!(
                    "failed to run {argv:?}: the image is empty (FROM scratch has no shell)"
                )));
            };
            let img = b.image_of(stage)?;
            let mut env: Vec<String> = args.iter().map(|(k, v)| format!("{k}={v}")).collect();
            // Predefined ARGs (proxies) reach RUN without a declaration, and stay out of the
            // cache key and the history, as Docker keeps them.
            for (k, v) in &b.build_args {
                if PREDEFINED_ARGS.contains(&k.as_str()) && !args.iter().any(|(a, _)| a == k) {
                    env.push(format!("{k}={v}"));
                }
            }
            let opts = CreateOptions { argv: Some(argv.clone()), env, skip_image_volumes: true, ..Default::default() };
            let (mut c, step) = interrupt::creating(|| {
                let c = container::create(b.store, &img, id.short(), &opts)?;
                let step = interrupt::Step::new(b.store, &c.id);
                BResult::Ok((c, step))
            })?;
            b.say(&format!(" ---> Running in {}", c.short_id()));
            let backend = c.backend(b.store)?;
            let spec = c.spec(b.store)?;
            let process = ProcessSpec {
                argv: c.argv(),
                env: c.config.env.clone(),
                cwd: c.config.working_dir.clone(),
                user: c.config.user.clone(),
                tty: false,
            };
            c.state.set_running(std::process::id(), container::now());
            let io = if b.opts.quiet {
                Stdio { stdout: Output::writer(Buffer::default()), stderr: Output::Inherit, ..Default::default() }
            } else {
                // As the classic builder's stream: the step's stderr comes out with its stdout,
                // in the order written, on the build's stdout.
                let transcript = Output::writer(std::io::stdout());
                Stdio { stdout: transcript.clone(), stderr: transcript, ..Default::default() }
            };
            interrupt::running();
            let code = backend.create(&spec, Default::default()).and_then(|t| t.run(&process, io, &mut || {}));
            interrupt::ran();
            let code = match code.map(|e| e.code) {
                Ok(code) => code,
                Err(crate::error::Error::ExecNotFound(p) | crate::error::Error::ExecNoSuchFile(p)) => {
                    eprintln!("/bin/sh: {p}: not found");
                    127
                }
                Err(e) => return Err(e.into()),
            };
            c.state.set_exited(code, container::now());
            if code != 0 {
                c.save(b.store)?;
                step.keep(); // as Docker: the failed step's container stays, to be looked at
                return Err(BuildError::StepFailed { command: argv.join(" "), code, last_image: Some(id) });
            }
            let upper = c.upper(b.store);
            let volumes: Vec<String> = stage
                .config
                .config
                .as_ref()
                .and_then(|c| c.volumes.as_ref())
                .map(|v| v.keys().cloned().collect())
                .unwrap_or_default();
            layer::discard_volume_changes(&upper, &volumes).map_err(|e| BuildError::Failed(e.to_string()))?;
            let layer = if layer::is_empty_dir(&upper) {
                None
            } else {
                let _lock = b.store.lock()?;
                let made = layer::layer_from_dir_owned(b.store, &upper, img.chain_ids().last(), backend.layer_owners());
                match made {
                    Ok((desc, _)) => Some(desc),
                    Err(e) => {
                        // Not the command's failure but skiff's (a full disk): keep nothing.
                        drop(_lock);
                        container::remove(b.store, &c, true)?;
                        step.keep();
                        return Err(BuildError::Failed(format!("committing the step's changes: {e}")));
                    }
                }
            };
            b.say(&format!("Removing intermediate container {}", c.short_id()));
            container::remove(b.store, &c, true)?;
            step.keep();
            Ok(layer)
        })
    }

    /// The image a stage has built so far, read by its manifest.
    fn image_of(&self, stage: &Stage) -> BResult<Image> {
        if let (Some(img), Some(m)) = (&*self.last_image.borrow(), &stage.manifest) {
            if img.manifest_digest == *m {
                return Ok(img.clone());
            }
        }
        match &stage.manifest {
            Some(m) => Ok(self.store.image_by_manifest(m, vec![])?),
            None => Err(BuildError::Failed("the stage has no image yet".into())),
        }
    }

    /// The union view of the stage's image (for what exists there).
    fn view(&self, stage: &Stage) -> BResult<(UnionFs, tempfile::TempDir)> {
        let upper = tempfile::tempdir_in(self.store.scratch_dir()).map_err(|e| BuildError::Failed(e.to_string()))?;
        let chains = Digest::chain(&stage.config.rootfs.diff_ids);
        let lowers = chains.iter().rev().map(|c| self.store.layer_diff_dir(c)).collect();
        let view = UnionFs::new(lowers, upper.path().to_path_buf()).map_err(|e| BuildError::Failed(e.to_string()))?;
        Ok((view, upper))
    }
}

/// The time build steps record: `SOURCE_DATE_EPOCH` when set (reproducible builds), else now.
fn build_time() -> String {
    match std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.parse::<i64>().ok()) {
        Some(t) => chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(container::now),
        None => container::now(),
    }
}
