//! Dockerfile types and parser: directives, continuations, heredocs, per-instruction arguments.

use std::collections::HashMap;
use std::fmt;

use super::expand;

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The escape character: `\` unless the `# escape=` directive says `` ` ``.
    pub escape: char,
    pub instructions: Vec<Instruction>,
    /// Docker's parser warnings (empty continuation lines), to print before the build.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// 1-based line where the instruction starts.
    pub line: usize,
    /// The instruction as Docker prints it after `Step N/M : `: continuation lines joined with
    /// the escape+newline removed, comment lines inside dropped, surrounding whitespace trimmed.
    /// Heredoc bodies are not included, except in an ONBUILD trigger (see [`Kind::Onbuild`]).
    pub original: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellOrExec {
    /// Shell form: the raw text after the instruction name and flags.
    Shell(String),
    /// JSON array form, strings decoded.
    Exec(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter with quotes removed; for `COPY`/`ADD` also the file name of the content.
    pub name: String,
    /// The body: every line up to the delimiter line, each with its newline. Leading tabs are
    /// already removed when `strip_tabs` is set.
    pub content: String,
    /// False when the delimiter was quoted (`<<'EOF'`, `<<"EOF"`): the body is taken literally.
    pub expand: bool,
    /// `<<-EOF`.
    pub strip_tabs: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `stage_name` is lowercased, as Docker does.
    From {
        image: String,
        stage_name: Option<String>,
        platform: Option<String>,
    },
    /// Shell form keeps the whole command line, `<<EOF` markers included.
    Run {
        command: ShellOrExec,
        heredocs: Vec<Heredoc>,
    },
    /// `CMD` alone is `Shell("")`.
    Cmd(ShellOrExec),
    Entrypoint(ShellOrExec),
    Shell(Vec<String>),
    /// Raw, unexpanded words (quotes still in place).
    Env(Vec<(String, String)>),
    Arg(Vec<(String, Option<String>)>),
    Label(Vec<(String, String)>),
    Maintainer(String),
    Expose(Vec<String>),
    /// From a JSON array (decoded) or whitespace-separated words (raw).
    Volume(Vec<String>),
    Workdir(String),
    User(String),
    StopSignal(String),
    Copy(CopyArgs),
    Add(CopyArgs),
    /// The trigger, parsed. Its `original` is the text Docker stores in the image's `OnBuild`
    /// list: the line without `ONBUILD`, followed by each heredoc as `\n` + body + delimiter.
    Onbuild(Box<Instruction>),
    /// `None` is `HEALTHCHECK NONE`.
    Healthcheck(Option<Healthcheck>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyArgs {
    pub from: Option<String>,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    /// Raw source words, heredoc sources (`<<EOF`) excluded: those are in `heredocs`.
    pub sources: Vec<String>,
    pub dest: String,
    pub heredocs: Vec<Heredoc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Healthcheck {
    /// `["CMD", args...]` (JSON form) or `["CMD-SHELL", "command"]`.
    pub test: Vec<String>,
    /// Go duration strings as written (already checked with [`go_duration_nanos`]: valid, and
    /// 0 or at least 1ms).
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub start_period: Option<String>,
    pub retries: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line of the instruction (or directive) in error.
    pub line: usize,
    pub message: String,
}

impl ParseError {
    /// `{file}:{line}: {message}`.
    pub fn display_with(&self, file: &str) -> String {
        format!("{file}:{}: {}", self.line, self.message)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_with("Dockerfile"))
    }
}

impl std::error::Error for ParseError {}

/// Parses a Dockerfile. A file without instructions, or whose first non-ARG instruction is not
/// FROM, is not an error here (the builder reports `no build stage in current context`).
///
/// The reference is moby/buildkit's `frontend/dockerfile/parser` (line handling, dispatch of
/// the argument parsers, heredocs) and `instructions` (argument checks, flags, error texts), as
/// vendored by Docker 20.10's classic builder. Arguments stay raw (quotes in place, variables
/// unexpanded): the builder expands them with [`super::expand`] when it runs each step.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let escape = directives(&lines)?;
    let mut instructions = Vec::new();
    let mut warnings = Vec::new();
    let mut next = 0;
    while next < lines.len() {
        let start = next + 1;
        let first = trim_newline(lines[next]).trim_start();
        next += 1;
        let error = |message| ParseError { line: start, message };
        if first.starts_with('#') {
            continue;
        }
        let (first, mut more) = trim_continuation(first, escape);
        if first.is_empty() && !more {
            continue;
        }
        let mut line = first.to_string();
        let mut empty_continuation = false;
        while more && next < lines.len() {
            let raw = trim_newline(lines[next]);
            next += 1;
            if raw.trim_start().starts_with('#') {
                continue;
            }
            if raw.trim_start().is_empty() {
                empty_continuation = true;
                continue;
            }
            let (part, again) = trim_continuation(raw, escape);
            line.push_str(part);
            more = again;
        }
        if empty_continuation {
            warnings.push(format!("[WARNING]: Empty continuation line found in:\n    {line}"));
        }
        let mut heredocs = Vec::new();
        if heredoc_capable(&line) {
            for marker in heredocs_in_line(&line).map_err(error)? {
                let mut content = String::new();
                let mut terminated = false;
                while next < lines.len() {
                    let raw = lines[next];
                    next += 1;
                    let mut candidate = trim_newline(raw);
                    if marker.strip_tabs {
                        candidate = candidate.trim_start_matches('\t');
                    }
                    if candidate == marker.name {
                        terminated = true;
                        break;
                    }
                    content.push_str(raw);
                }
                if !terminated {
                    return Err(error("unterminated heredoc".into()));
                }
                heredocs.push(Heredoc { content, ..marker });
            }
        }
        instructions.push(instruction(&line, start, &heredocs, escape).map_err(error)?);
    }
    if !warnings.is_empty() {
        warnings.push("[WARNING]: Empty continuation lines will become errors in a future release.".into());
    }
    Ok(Dockerfile { escape, instructions, warnings })
}

/// Reads the parser directives (`# escape=`, `# syntax=`) at the top of the file, up to the
/// first line that is not one; returns the escape character.
fn directives(lines: &[&str]) -> Result<char, ParseError> {
    let mut escape = '\\';
    let mut seen = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some((key, value)) = directive(trim_newline(line).trim_start()) else {
            break;
        };
        let key = key.to_ascii_lowercase();
        let error = |message| ParseError { line: i + 1, message };
        match key.as_str() {
            _ if seen.contains(&key) => {
                return Err(error(format!("only one {key} parser directive can be used")));
            }
            "escape" if value == "`" || value == "\\" => escape = value.chars().next().unwrap(),
            "escape" => {
                let message = format!("invalid escape token '{value}' does not match ` or \\");
                return Err(error(message));
            }
            "syntax" => {}
            _ => break,
        }
        seen.push(key);
    }
    Ok(escape)
}

/// Matches `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`.
fn directive(line: &str) -> Option<(&str, &str)> {
    let re_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r');
    let rest = line.strip_prefix('#')?.trim_start_matches(re_space);
    let key_len = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
    let key = &rest[..key_len];
    if !key.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let value = rest[key_len..].trim_start_matches(re_space).strip_prefix('=')?.trim_matches(re_space);
    (!value.is_empty()).then_some((key, value))
}

fn trim_newline(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

/// Strips a trailing escape character (plus spaces/tabs after it): `(text, continues)`.
fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    match trimmed.strip_suffix(escape) {
        Some(rest) => (rest, true),
        None => (line, false),
    }
}

/// Docker's `[\t\v\f\r ]+` separator.
fn is_sep(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0b' | '\x0c' | '\r')
}

fn split_ws(s: &str) -> Vec<String> {
    s.split(is_sep).filter(|w| !w.is_empty()).map(String::from).collect()
}

/// Splits a logical line into (instruction name, flags, rest) like BuildKit's `splitCommand`.
fn split_command(line: &str) -> (&str, Vec<String>, &str) {
    let line = line.trim();
    let (cmd, rest) = match line.find(is_sep) {
        Some(i) => (&line[..i], line[i..].trim_start_matches(is_sep)),
        None => (line, ""),
    };
    let (args, flags) = extract_flags(rest);
    (cmd, flags, args.trim())
}

/// Takes the leading `--flag[=value]` words off `line` (quotes and `\` processed in them),
/// like BuildKit's `extractBuilderFlags`; a `--` word ends the flags.
fn extract_flags(line: &str) -> (&str, Vec<String>) {
    let (mut flags, end) =
        scan_words(line, '\\', false, |rest, words| !rest.starts_with("--") || words.last().is_some_and(|w| w == "--"));
    if flags.last().is_some_and(|w| w == "--") {
        flags.pop();
    }
    (&line[end..], flags)
}

/// Splits `text` into words at unquoted, unescaped whitespace. With `raw` (BuildKit's
/// `parseWords`) quotes and escapes stay in the words and nothing is escaped inside single
/// quotes; without it (the word loop of `extractBuilderFlags`) they are removed. `stop` is
/// asked at the start of each word, given the text from there and the words so far; the
/// scan then ends and returns the words and that byte offset.
fn scan_words(text: &str, escape: char, raw: bool, stop: impl Fn(&str, &[String]) -> bool) -> (Vec<String>, usize) {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let (mut words, mut word) = (Vec::new(), String::new());
    let (mut quote, mut in_word, mut blank_ok) = (None, false, false);
    let mut i = 0;
    while let Some(&(pos, mut ch)) = chars.get(i) {
        i += 1;
        if quote.is_none() && ch.is_whitespace() {
            if in_word && (blank_ok || !word.is_empty()) {
                words.push(std::mem::take(&mut word));
            }
            (in_word, blank_ok) = (false, false);
            continue;
        }
        if !in_word {
            if stop(&text[pos..], &words) {
                return (words, pos);
            }
            in_word = true;
        }
        match quote {
            None if ch == '\'' || ch == '"' => {
                (quote, blank_ok) = (Some(ch), true);
                if !raw {
                    continue;
                }
            }
            Some(q) if ch == q => {
                quote = None;
                if !raw {
                    continue;
                }
            }
            Some('\'') if raw => {}
            _ if ch == escape => {
                let Some(&(_, next)) = chars.get(i) else {
                    quote = None; // a trailing escape is dropped
                    continue;
                };
                i += 1;
                if raw {
                    word.push(ch);
                }
                ch = next;
            }
            _ => {}
        }
        word.push(ch);
    }
    if in_word && (blank_ok || !word.is_empty()) {
        words.push(word);
    }
    (words, text.len())
}

/// Checks flags like BuildKit's `BFlags.Parse`; returns the value of each flag given. `known`
/// names the accepted flags: `name` takes a value, `name?` is boolean, `name*` takes a value
/// and may be repeated.
fn parse_flags(flags: &[String], known: &[&str]) -> Result<HashMap<String, String>, String> {
    let mut used = HashMap::new();
    for arg in flags {
        let Some(arg) = arg.strip_prefix("--") else {
            return Err(format!("Arg should start with -- : {arg}"));
        };
        let (name, value) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (arg, None),
        };
        let Some(spec) = known.iter().find(|k| k.trim_end_matches(['?', '*']) == name) else {
            return Err(format!("Unknown flag: {name}"));
        };
        if used.contains_key(name) && !spec.ends_with('*') {
            return Err(format!("Duplicate flag specified: {name}"));
        }
        let value = match (spec.ends_with('?'), value) {
            (true, None) => "true".to_string(),
            (true, Some("")) | (false, None) => return Err(format!("Missing a value on flag: {name}")),
            (true, Some(v)) => match v.to_ascii_lowercase().as_str() {
                b @ ("true" | "false") => b.to_string(),
                _ => return Err(format!("Expecting boolean value for flag {name}, not: {v}")),
            },
            (false, Some(v)) => v.to_string(),
        };
        used.insert(name.to_string(), value);
    }
    Ok(used)
}

const NOT_STRING_ARRAY: &str = "when using JSON array syntax, arrays must be comprised of strings only";

/// `None` when `args` is not a JSON array (shell form); an error when it is an array of
/// something other than strings.
fn parse_json(args: &str) -> Option<Result<Vec<String>, String>> {
    let rest = args.trim_start();
    if !rest.starts_with('[') {
        return None;
    }
    let values: Vec<serde_json::Value> = serde_json::from_str(rest).ok()?;
    Some(
        values
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s),
                _ => Err(NOT_STRING_ARRAY.to_string()),
            })
            .collect(),
    )
}

fn shell_or_exec(args: &str) -> Result<ShellOrExec, String> {
    match parse_json(args) {
        Some(words) => Ok(ShellOrExec::Exec(words?)),
        None => Ok(ShellOrExec::Shell(args.to_string())),
    }
}

/// Whether BuildKit reads heredoc bodies after this line: RUN/COPY/ADD (directly or as an
/// ONBUILD trigger) in shell form.
fn heredoc_capable(line: &str) -> bool {
    let (cmd, _, mut args) = split_command(line);
    let mut cmd = cmd.to_ascii_lowercase();
    if cmd == "onbuild" {
        let (inner, _, inner_args) = split_command(args);
        cmd = inner.to_ascii_lowercase();
        args = inner_args;
    }
    matches!(cmd.as_str(), "run" | "copy" | "add") && parse_json(args).is_none()
}

/// A word of an instruction line, with heredoc markers recognised.
enum Word {
    Plain(String),
    Heredoc(Heredoc),
    /// A heredoc marker whose delimiter does not lex (e.g. an unclosed quote): the error, and
    /// the words as written.
    Bad(String, Vec<String>),
}

/// Recognises heredoc markers among words: `<<EOF`, `<<-EOF`, `2<<'EOF'`, and `<<`/`<<-`
/// followed by the delimiter as the next word (`<< EOF`).
fn classify(words: &[String]) -> Vec<Word> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let first = i;
        let (strip_tabs, rest) = match heredoc_marker(&words[i]) {
            Some((strip_tabs, "")) if i + 1 < words.len() => {
                i += 1;
                (strip_tabs, words[i].as_str())
            }
            Some((strip_tabs, rest)) if !rest.is_empty() => (strip_tabs, rest),
            _ => {
                out.push(Word::Plain(words[i].clone()));
                i += 1;
                continue;
            }
        };
        i += 1;
        match expand::heredoc_name(rest) {
            Ok(Some((name, expand))) => {
                out.push(Word::Heredoc(Heredoc { name, content: String::new(), expand, strip_tabs }));
            }
            Ok(None) => out.extend(words[first..i].iter().cloned().map(Word::Plain)),
            Err(e) => out.push(Word::Bad(e, words[first..i].to_vec())),
        }
    }
    out
}

/// The heredocs announced on a logical line, in order (their bodies still to be read).
fn heredocs_in_line(line: &str) -> Result<Vec<Heredoc>, String> {
    classify(&expand::heredoc_words(line))
        .into_iter()
        .filter_map(|w| match w {
            Word::Heredoc(h) => Some(Ok(h)),
            Word::Bad(e, _) => Some(Err(e)),
            Word::Plain(_) => None,
        })
        .collect()
}

/// Matches `^(\d*)<<(-?)([^<]*)$`: `(strip_tabs, rest)`.
fn heredoc_marker(word: &str) -> Option<(bool, &str)> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit()).strip_prefix("<<")?;
    let (strip_tabs, rest) = match rest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    (!rest.contains('<')).then_some((strip_tabs, rest))
}

/// The heredoc as the builder gets it: leading tabs removed from each line for `<<-`.
fn finished(heredoc: &Heredoc) -> Heredoc {
    let mut heredoc = heredoc.clone();
    if heredoc.strip_tabs {
        heredoc.content = heredoc.content.split_inclusive('\n').map(|l| l.trim_start_matches('\t')).collect();
    }
    heredoc
}

fn no_flags(flags: &[String]) -> Result<(), String> {
    parse_flags(flags, &[]).map(drop)
}

/// Builds one instruction from its logical line (BuildKit's `newNodeFromLine` followed by
/// `instructions.ParseInstruction`).
fn instruction(line: &str, line_no: usize, heredocs: &[Heredoc], escape: char) -> Result<Instruction, String> {
    let (cmd, flags, args) = split_command(line);
    let one_arg = |name: &str| {
        if args.is_empty() {
            return Err(format!("{name} requires exactly one argument"));
        }
        no_flags(&flags)?;
        Ok(args.to_string())
    };
    let kind = match cmd.to_ascii_lowercase().as_str() {
        "from" => parse_from(&flags, args)?,
        "run" => {
            let command = shell_or_exec(args)?;
            parse_flags(&flags, &["mount*", "network", "security"])?;
            Kind::Run { command, heredocs: heredocs.iter().map(finished).collect() }
        }
        "cmd" | "entrypoint" | "shell" => {
            let command = shell_or_exec(args)?;
            no_flags(&flags)?;
            match (cmd.to_ascii_lowercase().as_str(), command) {
                ("cmd", command) => Kind::Cmd(command),
                ("entrypoint", command) => Kind::Entrypoint(command),
                (_, ShellOrExec::Exec(words)) if !words.is_empty() => Kind::Shell(words),
                (_, ShellOrExec::Shell(s)) if !s.is_empty() => {
                    return Err("SHELL requires the arguments to be in JSON form".into());
                }
                _ => return Err("SHELL requires at least one argument".into()),
            }
        }
        "env" => Kind::Env(parse_name_vals(&flags, args, "ENV", escape)?),
        "label" => Kind::Label(parse_name_vals(&flags, args, "LABEL", escape)?),
        "arg" => Kind::Arg(parse_arg(&flags, args, escape)?),
        "maintainer" => Kind::Maintainer(one_arg("MAINTAINER")?),
        "workdir" => Kind::Workdir(one_arg("WORKDIR")?),
        "user" => Kind::User(one_arg("USER")?),
        // Docker does not check STOPSIGNAL's flags.
        "stopsignal" if args.is_empty() => return Err("STOPSIGNAL requires exactly one argument".into()),
        "stopsignal" => Kind::StopSignal(args.to_string()),
        "expose" => {
            let ports = split_ws(args);
            if ports.is_empty() {
                return Err("EXPOSE requires at least one argument".into());
            }
            no_flags(&flags)?;
            Kind::Expose(ports)
        }
        "volume" => {
            let volumes = match parse_json(args) {
                Some(words) => words?,
                None => split_ws(args),
            };
            if volumes.is_empty() {
                return Err("VOLUME requires at least one argument".into());
            }
            no_flags(&flags)?;
            if volumes.iter().any(|v| v.trim().is_empty()) {
                return Err("VOLUME specified can not be an empty string".into());
            }
            Kind::Volume(volumes.iter().map(|v| v.trim().to_string()).collect())
        }
        "copy" => Kind::Copy(parse_copy("COPY", &flags, args, heredocs)?),
        "add" => Kind::Add(parse_copy("ADD", &flags, args, heredocs)?),
        "healthcheck" => Kind::Healthcheck(parse_healthcheck(&flags, args)?),
        "onbuild" => Kind::Onbuild(Box::new(parse_onbuild(&flags, args, line, line_no, heredocs, escape)?)),
        _ => return Err(format!("unknown instruction: {}", cmd.to_uppercase())),
    };
    Ok(Instruction { line: line_no, original: line.trim().to_string(), kind })
}

fn parse_from(flags: &[String], args: &str) -> Result<Kind, String> {
    let words = split_ws(args);
    let stage_name = match words.as_slice() {
        [_] => None,
        [_, as_, name] if as_.eq_ignore_ascii_case("as") => {
            let lower = name.to_lowercase();
            let valid = lower.starts_with(|c: char| c.is_ascii_lowercase())
                && lower.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
            if !valid {
                return Err(format!(
                    "invalid name for build stage: {name:?}, name can't start with a number or contain symbols"
                ));
            }
            Some(lower)
        }
        _ => return Err("FROM requires either one or three arguments".into()),
    };
    let mut flags = parse_flags(flags, &["platform"])?;
    Ok(Kind::From { image: words[0].clone(), stage_name, platform: flags.remove("platform") })
}

/// BuildKit's `parseWords`: words at unquoted whitespace, quotes and escapes kept.
fn parse_words(rest: &str, escape: char) -> Vec<String> {
    scan_words(rest, escape, true, |_, _| false).0
}

/// ENV and LABEL: `k=v k2="v 2"` or the legacy `k value with spaces`.
fn parse_name_vals(flags: &[String], args: &str, name: &str, escape: char) -> Result<Vec<(String, String)>, String> {
    let words = parse_words(args, escape);
    let pairs = match words.first() {
        None => return Err(format!("{name} requires at least one argument")),
        Some(first) if !first.contains('=') => match args.split_once(is_sep) {
            Some((key, value)) => vec![(key.to_string(), value.trim_start_matches(is_sep).to_string())],
            None => return Err(format!("{name} must have two arguments")),
        },
        Some(_) => words
            .iter()
            .map(|w| match w.split_once('=') {
                Some((k, v)) => Ok((k.to_string(), v.to_string())),
                None => Err(format!("Syntax error - can't find = in {w:?}. Must be of the form: name=value")),
            })
            .collect::<Result<_, _>>()?,
    };
    no_flags(flags)?;
    if pairs.iter().any(|(k, _)| k.is_empty()) {
        return Err(format!("{name} names can not be blank"));
    }
    Ok(pairs)
}

fn parse_arg(flags: &[String], args: &str, escape: char) -> Result<Vec<(String, Option<String>)>, String> {
    let words = parse_words(args, escape);
    if words.is_empty() {
        return Err("ARG requires exactly one argument".into());
    }
    no_flags(flags)?;
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some(("", _)) => Err("ARG names can not be blank".to_string()),
            Some((k, v)) => Ok((k.to_string(), Some(v.to_string()))),
            None => Ok((w, None)),
        })
        .collect()
}

fn parse_copy(name: &str, flags: &[String], args: &str, heredocs: &[Heredoc]) -> Result<CopyArgs, String> {
    let words = match parse_json(args) {
        Some(words) => words?,
        None => split_ws(args),
    };
    let Some((dest, srcs)) = words.split_last().filter(|(_, srcs)| !srcs.is_empty()) else {
        return Err(format!(
            "{name} requires at least two arguments, but only one was provided. Destination could not be determined."
        ));
    };
    let known: &[&str] =
        if name == "COPY" { &["chown", "from", "chmod", "link?"] } else { &["chown", "chmod", "link?"] };
    let mut flags = parse_flags(flags, known)?;
    if let [Word::Heredoc(_)] = classify(std::slice::from_ref(dest)).as_slice() {
        return Err(format!("{name} cannot accept a heredoc as a destination"));
    }
    let mut copy = CopyArgs {
        from: flags.remove("from"),
        chown: flags.remove("chown"),
        chmod: flags.remove("chmod"),
        sources: Vec::new(),
        dest: dest.clone(),
        heredocs: Vec::new(),
    };
    for word in classify(srcs) {
        match word {
            Word::Heredoc(mut heredoc) => {
                if let Some(body) = heredocs.iter().find(|h| h.name == heredoc.name) {
                    heredoc.content.clone_from(&body.content);
                }
                copy.heredocs.push(finished(&heredoc));
            }
            // Like Docker's MustParseHeredoc, a malformed marker is just a path.
            Word::Bad(_, words) => copy.sources.extend(words),
            Word::Plain(src) => copy.sources.push(src),
        }
    }
    Ok(copy)
}

fn parse_healthcheck(flags: &[String], args: &str) -> Result<Option<Healthcheck>, String> {
    let (typ, rest) = match args.find(char::is_whitespace) {
        Some(i) => (&args[..i], args[i..].trim_start()),
        None => (args, ""),
    };
    if typ.is_empty() {
        return Err("HEALTHCHECK requires at least one argument".into());
    }
    let command = shell_or_exec(rest)?;
    let typ = typ.to_uppercase();
    let test = match command {
        ShellOrExec::Shell(s) if s.is_empty() => Vec::new(),
        ShellOrExec::Exec(words) if words.is_empty() => Vec::new(),
        ShellOrExec::Shell(s) => vec!["CMD-SHELL".to_string(), s],
        ShellOrExec::Exec(words) => std::iter::once("CMD".to_string()).chain(words).collect(),
    };
    if typ == "NONE" {
        if !test.is_empty() {
            return Err("HEALTHCHECK NONE takes no arguments".into());
        }
        return Ok(None); // Docker does not check flags here
    }
    let known = ["interval", "timeout", "start-period", "retries"];
    let mut flags = parse_flags(flags, &known)?;
    if typ != "CMD" {
        return Err(format!("Unknown type {typ:?} in HEALTHCHECK (try CMD)"));
    }
    if test.len() < 2 {
        return Err("Missing command after HEALTHCHECK CMD".into());
    }
    let mut duration = |name: &str| -> Result<Option<String>, String> {
        let Some(value) = flags.remove(name).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let nanos = go_duration_nanos(&value)?;
        if nanos != 0 && nanos < 1_000_000 {
            return Err(format!("Interval {name:?} cannot be less than 1ms"));
        }
        Ok(Some(value))
    };
    let (interval, timeout, start_period) = (duration("interval")?, duration("timeout")?, duration("start-period")?);
    let retries = flags.remove("retries").filter(|v| !v.is_empty());
    let retries = retries.map(|v| parse_retries(&v)).transpose()?;
    Ok(Some(Healthcheck { test, interval, timeout, start_period, retries }))
}

/// `--retries`: Go's `strconv.ParseInt(v, 10, 32)`, then at least 1.
fn parse_retries(v: &str) -> Result<u32, String> {
    let n: i128 = v.parse().map_err(|_| format!("strconv.ParseInt: parsing {v:?}: invalid syntax"))?;
    if i32::try_from(n).is_err() {
        return Err(format!("strconv.ParseInt: parsing {v:?}: value out of range"));
    }
    u32::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| format!("--retries must be at least 1 (not {n})"))
}

fn parse_onbuild(
    flags: &[String],
    args: &str,
    line: &str,
    line_no: usize,
    heredocs: &[Heredoc],
    escape: char,
) -> Result<Instruction, String> {
    if args.is_empty() {
        return Err("ONBUILD requires at least one argument".into());
    }
    no_flags(flags)?;
    let (trigger, _, _) = split_command(args);
    let trigger = trigger.to_uppercase();
    match trigger.as_str() {
        "ONBUILD" => return Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into()),
        "FROM" | "MAINTAINER" => return Err(format!("{trigger} isn't allowed as an ONBUILD trigger")),
        _ => {}
    }
    let mut inner = instruction(args, line_no, heredocs, escape)?;
    // Docker stores the trigger as the original text minus `(?i)^\s*ONBUILD\s*`, plus heredocs.
    let text = line.trim_start();
    let mut expression = text[7..].trim_start().to_string(); // "ONBUILD" is ASCII: 7 bytes
    for heredoc in heredocs {
        expression.push('\n');
        expression.push_str(&heredoc.content);
        expression.push_str(&heredoc.name);
    }
    inner.original = expression;
    Ok(inner)
}

/// Parses a Go duration (`time.ParseDuration`: `300ms`, `-1.5h`, `2h45m`, `0`) to nanoseconds,
/// with Go's error texts.
pub fn go_duration_nanos(text: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {text:?}");
    let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let negative = text.starts_with('-');
    let mut s = text.strip_prefix(['-', '+']).unwrap_or(text);
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !s.is_empty() {
        let (int, after) = s.split_at(digits(s));
        let (frac, after) = match after.strip_prefix('.') {
            Some(after) => after.split_at(digits(after)),
            None => ("", after),
        };
        let unit_end = after.find(|c: char| c == '.' || c.is_ascii_digit());
        let (unit, rest) = after.split_at(unit_end.unwrap_or(after.len()));
        let scale: u128 = match unit {
            _ if int.is_empty() && frac.is_empty() => return Err(invalid()),
            "" => return Err(format!("time: missing unit in duration {text:?}")),
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(format!("time: unknown unit {unit:?} in duration {text:?}")),
        };
        let whole: u128 = format!("0{int}").parse().map_err(|_| invalid())?;
        let mut value = whole.checked_mul(scale).ok_or_else(invalid)?;
        let mut place = scale;
        for digit in frac.bytes().take(30) {
            place /= 10;
            value += u128::from(digit - b'0') * place;
        }
        total = total.checked_add(value).filter(|t| *t <= 1 << 63).ok_or_else(invalid)?;
        s = rest;
    }
    let total = total as i128; // at most 2^63
    i64::try_from(if negative { -total } else { total }).map_err(|_| invalid())
}

#[cfg(test)]
#[path = "dockerfile_tests.rs"]
mod tests;
