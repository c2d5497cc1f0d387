//! One-line explanations of a step that did not go as the tutorial says: what the learner typed,
//! compared with the step's command, and what skiff answered, compared with the expected output.
//!
//! The rules, in order: the command could not run (`docker` typed, not a command, timed out); skiff
//! refused with a message the step does not expect (wrong image name, no such container, a container
//! that is not running, a name already in use, an unknown flag); the learner ran another subcommand;
//! a flag or argument of the step is missing, extra or different; the exit code; and last, the first
//! line of output that differs.

use super::checks::words;
use super::matching::{matches, Mismatch};
use super::parse::Step;
use super::runner::Outcome;

/// Why `outcome` (of the learner's `typed` command) is not what `step` expects, in one line.
pub fn explain(step: &Step, typed: &str, outcome: &Outcome) -> String {
    let want = tokens(&step.command);
    let got = tokens(typed);
    if outcome.timed_out {
        return "the command did not finish in time and was stopped".into();
    }
    if got.first().map(String::as_str) == Some("docker") && want.first().map(String::as_str) == Some("skiff") {
        return "type `skiff` where a Docker tutorial says `docker`".into();
    }
    if outcome.exit == 127 && (outcome.output.contains("not found") || outcome.output.contains("No such file")) {
        let first = got.first().cloned().unwrap_or_default();
        return format!("`{first}` is not a command here; this step runs `{}`", step.summary());
    }
    if let Some(why) = refusal(step, &want, outcome) {
        return why;
    }
    if want.first().map(String::as_str) == Some("skiff") && got.first().map(String::as_str) == Some("skiff") {
        let (ws, gs) = (subcommand(&want), subcommand(&got));
        if ws != gs {
            return format!("this step runs `skiff {ws}`, not `skiff {gs}`");
        }
    }
    if got != want {
        if let Some(why) = token_difference(&want, &got) {
            return why;
        }
    }
    match matches(&step.expected, &outcome.output) {
        Ok(()) if outcome.exit != step.exit => {
            format!("it exited with code {}; the step expects {}", outcome.exit, step.exit)
        }
        Ok(()) => "it went as the tutorial says".into(),
        Err(m) => {
            let line = first_difference(&m);
            if outcome.exit != step.exit {
                format!("it exited with code {} (the step expects {}); {line}", outcome.exit, step.exit)
            } else {
                line
            }
        }
    }
}

/// Words of a command (shell quoting), the whole text as one word if it cannot be split.
fn tokens(command: &str) -> Vec<String> {
    let first = command.split("<<").next().unwrap_or(command);
    words(&first.replace("\\\n", " ")).unwrap_or_else(|_| vec![command.to_string()])
}

/// `run`, or `network create` for the management commands.
fn subcommand(t: &[String]) -> String {
    let words: Vec<&str> = t.iter().skip(1).map(String::as_str).filter(|w| !w.starts_with('-')).take(2).collect();
    match words.as_slice() {
        [group @ ("container" | "image" | "network" | "volume" | "system"), verb, ..] => format!("{group} {verb}"),
        [verb, ..] => verb.to_string(),
        [] => String::new(),
    }
}

/// Edit distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The word of the step's command closest to `name` (as a suggestion), if it is close and different.
fn closest<'a>(want: &'a [String], name: &str) -> Option<&'a str> {
    let strip = |s: &str| s.strip_suffix(":latest").unwrap_or(s).to_string();
    let name = strip(name);
    want.iter()
        .filter(|w| !w.starts_with('-') && strip(w) != name)
        .map(|w| (distance(&strip(w), &name), w.as_str()))
        .filter(|(d, w)| *d <= 2.max(w.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, w)| w)
}

/// Text between the first pair of `open`…`close` after `marker` in `s`.
fn quoted_after<'a>(s: &'a str, marker: &str, open: char, close: char) -> Option<&'a str> {
    let at = s.find(marker)? + marker.len();
    let rest = &s[at..];
    let start = rest.find(open)? + open.len_utf8();
    let end = rest[start..].find(close)? + start;
    Some(&rest[start..end])
}

/// skiff refused the command with a message the step does not expect.
fn refusal(step: &Step, want: &[String], outcome: &Outcome) -> Option<String> {
    let out = &outcome.output;
    let expected = step.expected.join("\n");
    let new = |needle: &str| out.contains(needle) && !expected.contains(needle);
    if new("No such image:") || new("pull access denied") || new("is not one of skiff's built-in images") {
        let line = out.lines().find(|l| {
            l.contains("No such image:") || l.contains("pull access denied") || l.contains("is not one of skiff's")
        })?;
        let image = match line.split("No such image: ").nth(1) {
            Some(r) => r.split_whitespace().next().unwrap_or(r),
            // `… (NAME is not one of skiff's built-in images: …)`: no registry has it either.
            None => line.split(" is not one of skiff's").next().and_then(|l| l.rsplit('(').next()).unwrap_or(""),
        };
        let image = image.trim_end_matches(',').to_string();
        return Some(match closest(want, &image) {
            Some(w) => format!("there is no image `{image}`: check the image name, the step uses `{w}`"),
            None => format!("there is no image `{image}` here"),
        });
    }
    if new("No such container:") {
        let name = out.split("No such container: ").nth(1)?.split_whitespace().next()?.to_string();
        return Some(match closest(want, &name) {
            Some(w) => format!("there is no container `{name}`: did you mean `{w}`?"),
            None => format!("there is no container `{name}` (skiff ps -a lists them)"),
        });
    }
    if new("is already in use by container") {
        let name = quoted_after(out, "container name", '"', '"')?.trim_start_matches('/').to_string();
        return Some(format!(
            "a container named `{name}` exists already (from an earlier try?): remove it with `skiff rm -f {name}`, then type the step again"
        ));
    }
    if new("is not running") {
        let who = step.command.split_whitespace().nth(2).unwrap_or("it").to_string();
        return Some(format!("the container is not running: start it first (`skiff start {who}`)"));
    }
    if new("port is already allocated") {
        let bind = quoted_after(out, "Bind for", ' ', ' ').unwrap_or("that port").to_string();
        return Some(format!("{bind} is taken by another container: remove it, or publish another host port"));
    }
    if new("unexpected argument '") || new("unrecognized subcommand '") {
        let marker =
            if out.contains("unexpected argument '") { "unexpected argument " } else { "unrecognized subcommand " };
        let bad = quoted_after(out, marker, '\'', '\'')?.to_string();
        let tip =
            quoted_after(out, "similar ", '\'', '\'').map(|t| format!(" (did you mean `{t}`?)")).unwrap_or_default();
        let what = if marker.starts_with("unrecognized") { "command" } else { "flag or argument" };
        return Some(format!("skiff has no {what} `{bad}`{tip}"));
    }
    if new("is not a skiff command") {
        // Docker's wording: `skiff: 'pul' is not a skiff command.`
        let bad = quoted_after(out, "skiff: ", '\'', '\'')?.to_string();
        let verb = step.command.split_whitespace().nth(1).map(str::to_string);
        let tip = verb.filter(|v| v != &bad).map(|v| format!(" (did you mean `{v}`?)")).unwrap_or_default();
        return Some(format!("skiff has no command `{bad}`{tip}"));
    }
    if new("requires at least") || new("required arguments were not provided") {
        return Some(format!("something is missing after the command: the step is `{}`", step.summary()));
    }
    None
}

/// Does this flag take a value (`-p 8080:80`)? Guessed from the step: a flag followed by a non-flag word
/// that the typed command has too or that differs.
fn takes_value(flag: &str) -> bool {
    matches!(
        flag,
        "-p" | "--publish"
            | "-v"
            | "--volume"
            | "-e"
            | "--env"
            | "--name"
            | "--network"
            | "--net"
            | "-w"
            | "--workdir"
            | "-u"
            | "--user"
            | "--entrypoint"
            | "-t"
            | "--tag"
            | "-f"
            | "--file"
            | "--format"
            | "--filter"
            | "--build-arg"
            | "--link"
            | "--mount"
            | "--restart"
            | "-m"
            | "--memory"
            | "--network-alias"
            | "--tail"
            | "--volumes-from"
            | "-o"
            | "--output"
            | "-i"
            | "--input"
            | "--driver"
            | "--subnet"
            | "-l"
            | "--label"
    )
}

/// Splits a `skiff` command's words into flags (with their values) and positional words.
fn split_flags(t: &[String], after_image: bool) -> (Vec<String>, Vec<String>) {
    let mut flags = Vec::new();
    let mut pos = Vec::new();
    let mut i = 0;
    let mut done = false;
    while i < t.len() {
        let w = &t[i];
        if !done && w.starts_with('-') && w.len() > 1 {
            // `-t` is a tag for build, a tty for run: value only when the next word is not a flag and the
            // flag is in the list; combined short flags (-it, -aq) are single flags.
            if !w.contains('=') && takes_value(w) && i + 1 < t.len() && !t[i + 1].starts_with('-') {
                flags.push(format!("{w} {}", t[i + 1]));
                i += 2;
                continue;
            }
            flags.push(w.clone());
        } else {
            pos.push(w.clone());
            // after `run IMAGE`, everything is the container's command
            if after_image && pos.len() >= 3 && (pos[1] == "run" || pos[1] == "exec") {
                done = true;
            }
        }
        i += 1;
    }
    (flags, pos)
}

fn token_difference(want: &[String], got: &[String]) -> Option<String> {
    let (wf, wp) = split_flags(want, true);
    let (gf, gp) = split_flags(got, true);
    let flag_name = |f: &str| f.split(' ').next().unwrap_or(f).to_string();
    for f in &wf {
        if !gf.contains(f) {
            let name = flag_name(f);
            if let Some(g) = gf.iter().find(|g| flag_name(g) == name) {
                return Some(format!("you wrote `{g}` where the step has `{f}`"));
            }
            return Some(format!("missing `{f}` (the step is `{}`)", want.join(" ")));
        }
    }
    if let Some(g) = gf.iter().find(|g| !wf.contains(g)) {
        return Some(format!("`{g}` is not part of this step"));
    }
    for (k, w) in wp.iter().enumerate() {
        match gp.get(k) {
            Some(g) if g != w => {
                let hint = if distance(g, w) <= 2 { " (a typo?)" } else { "" };
                return Some(format!("you wrote `{g}` where the step has `{w}`{hint}"));
            }
            None => return Some(format!("missing `{}` at the end", wp[k..].join(" "))),
            _ => {}
        }
    }
    if gp.len() > wp.len() {
        return Some(format!("`{}` is more than this step has", gp[wp.len()..].join(" ")));
    }
    None
}

fn first_difference(m: &Mismatch) -> String {
    if let Some(note) = &m.note {
        return note.clone();
    }
    match (m.expected.get(m.expected_at), m.actual.get(m.actual_at)) {
        (Some(e), Some(a)) => format!("output line {} is `{a}`; the tutorial says `{e}`", m.actual_at + 1),
        (Some(e), None) => format!("the output ended; the tutorial goes on with `{e}`"),
        (None, Some(a)) => format!("the output has more than the tutorial shows, from `{a}`"),
        (None, None) => "the output differs".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tutorial::parse;
    use std::path::Path;

    fn step(cmd: &str, expected: &[&str], exit: i32) -> Step {
        let mut md = format!("```console\n$ {cmd}\n");
        for e in expected {
            md.push_str(e);
            md.push('\n');
        }
        if exit != 0 {
            md.push_str(&format!("[exit {exit}]\n"));
        }
        md.push_str("```\n");
        let t = parse(Path::new("t.md"), &md).unwrap();
        match &t.items[0] {
            crate::tutorial::Item::Step(s) => s.clone(),
            _ => unreachable!(),
        }
    }

    fn out(text: &str, exit: i32) -> Outcome {
        Outcome { output: text.into(), exit, timed_out: false }
    }

    #[test]
    fn explains_in_one_line() {
        let hello = step("skiff run hello-world", &["Hello from skiff!", "..."], 0);
        let run = step("skiff run --rm busybox echo hello", &["hello"], 0);
        let named = step("skiff run --name c1 busybox sh -c 'echo hi > /greeting'", &[], 0);
        let diff = step("skiff diff c1", &["C /bin", "A /greeting"], 0);
        let web = step("skiff run -d --name web -p 8080:80 nginx", &["[..]"], 0);
        let fail = step("skiff run --rm busybox ls /nope", &["ls: /nope: No such file or directory"], 1);
        let cases: Vec<(&Step, &str, Outcome, &str)> = vec![
            (&hello, "docker run hello-world", out("sh: 1: docker: not found\n", 127), "type `skiff` where a Docker tutorial says `docker`"),
            (&hello, "skif run hello-world", out("sh: 1: skif: not found\n", 127), "`skif` is not a command here; this step runs `skiff run hello-world`"),
            (
                &hello,
                "skiff run hello-wrld",
                out("Unable to find image 'hello-wrld:latest' locally\nError: No such image: hello-wrld:latest (not in the store)\n", 125),
                "there is no image `hello-wrld:latest`: check the image name, the step uses `hello-world`",
            ),
            (&diff, "skiff diff c2", out("Error: No such container: c2\n", 1), "there is no container `c2`: did you mean `c1`?"),
            (
                &named,
                "skiff run --name c1 busybox sh -c 'echo hi > /greeting'",
                out("Error: Conflict. The container name \"/c1\" is already in use by container \"abc\". You have to remove it.\n", 125),
                "a container named `c1` exists already (from an earlier try?): remove it with `skiff rm -f c1`, then type the step again",
            ),
            (&diff, "skiff ps -a", out("CONTAINER ID\n", 0), "this step runs `skiff diff`, not `skiff ps`"),
            (&run, "skiff run busybox echo hello", out("hello\n", 0), "missing `--rm` (the step is `skiff run --rm busybox echo hello`)"),
            (&run, "skiff run -it --rm busybox echo hello", out("hello\n", 0), "`-it` is not part of this step"),
            (&web, "skiff run -d --name web -p 8081:80 nginx", out("abc\n", 0), "you wrote `-p 8081:80` where the step has `-p 8080:80`"),
            (&web, "skiff run -d --name web nginx", out("abc\n", 0), "missing `-p 8080:80` (the step is `skiff run -d --name web -p 8080:80 nginx`)"),
            (&run, "skiff run --rm busybox echo helo", out("helo\n", 0), "you wrote `helo` where the step has `hello` (a typo?)"),
            (&run, "skiff run --rm busybox echo", out("\n", 0), "missing `hello` at the end"),
            (&run, "skiff run --rm busybox echo hello", out("hullo\n", 0), "output line 1 is `hullo`; the tutorial says `hello`"),
            (&run, "skiff run --rm busybox echo hello", out("", 0), "the output ended; the tutorial goes on with `hello`"),
            (&fail, "skiff run --rm busybox ls /nope", out("ls: /nope: No such file or directory\n", 2), "it exited with code 2; the step expects 1"),
            (&run, "skiff run --nme x busybox", out("error: unexpected argument '--nme' found\n\n  tip: a similar argument exists: '--name'\n", 125), "skiff has no flag or argument `--nme` (did you mean `--name`?)"),
            (&diff, "skiff difff c1", out("error: unrecognized subcommand 'difff'\n\n  tip: a similar subcommand exists: 'diff'\n", 1), "skiff has no command `difff` (did you mean `diff`?)"),
            (&diff, "skiff diff c1", Outcome { output: String::new(), exit: 137, timed_out: true }, "the command did not finish in time and was stopped"),
        ];
        for (st, typed, o, want) in cases {
            assert_eq!(explain(st, typed, &o), want, "{typed}");
        }
        let exec = step("skiff exec web cat /srv/index.html", &["<h1>hello</h1>"], 0);
        let got =
            explain(&exec, "skiff exec web cat /srv/index.html", &out("Error: Container abc is not running\n", 1));
        assert_eq!(got, "the container is not running: start it first (`skiff start web`)");
    }
}
