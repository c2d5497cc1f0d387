//! The classroom (`skiff tutorial NN`): the learner reads the prose, types each step's command (or
//! presses Enter to have it typed), and skiff runs it, compares the output with the lesson as the test
//! suite does, and explains a difference in one line. Exercises are done at the same prompt and checked
//! with `check`. Progress is reported after every stop so the lesson can resume there.

use std::io::{self, BufRead, Write};

use super::check::compare;
use super::checks::evaluate;
use super::explain::explain;
use super::parse::{Exercise, Item, Step, Tutorial};
use super::runner::{Outcome, Runner};

/// What the learner typed at the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Text(String),
    /// Ctrl-C at the prompt.
    Interrupted,
    /// Ctrl-D, or the end of piped input.
    Eof,
}

/// Where typed lines come from: a line editor on a terminal (`skiff tutorial`), or any reader.
pub trait Input {
    /// Shows `prompt` and reads one line (without its newline).
    fn read_line(&mut self, prompt: &str, out: &mut dyn Write) -> io::Result<Line>;
    /// Remembers a line for the history (↑).
    fn add_history(&mut self, _line: &str) {}
}

/// Lines from a reader (a pipe, a test): the prompt and the line read are echoed to the output, so the
/// transcript reads as a terminal would show it.
pub struct Lines<R: BufRead>(pub R);

impl<R: BufRead> Input for Lines<R> {
    fn read_line(&mut self, prompt: &str, out: &mut dyn Write) -> io::Result<Line> {
        write!(out, "{prompt}")?;
        out.flush()?;
        let mut s = String::new();
        if self.0.read_line(&mut s)? == 0 {
            writeln!(out)?;
            return Ok(Line::Eof);
        }
        let s = s.trim_end_matches(['\n', '\r']).to_string();
        writeln!(out, "{s}")?;
        Ok(Line::Text(s))
    }
}

/// How a walk went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalkResult {
    /// Steps in the tutorial (interactive steps included, solution steps not).
    pub total: usize,
    /// Steps run (by the learner or typed for them).
    pub run: usize,
    /// Steps whose output and exit code matched.
    pub matched: usize,
    /// Steps shown but not checked (`<!-- skip -->`, or skipped by the learner).
    pub skipped: usize,
    /// Exercises whose checks all passed.
    pub exercises_done: usize,
    /// Exercises in the tutorial.
    pub exercises: usize,
    /// The learner left (Ctrl-C, Ctrl-D, `quit`) before the end.
    pub quit: bool,
    /// Where to resume: the stop the learner was at when leaving (the number of stops when done).
    pub next: usize,
    /// Stops in the tutorial (steps, solution steps included, and exercises).
    pub stops: usize,
}

impl WalkResult {
    /// E.g. `7/7 steps matched`, `2/3 steps matched (1 shown, not run), exercises 1/1 (left at stop 4 of 9)`.
    pub fn summary(&self) -> String {
        let mut s = format!("{}/{} steps matched", self.matched, self.run);
        if self.skipped > 0 {
            s.push_str(&format!(" ({} shown, not run)", self.skipped));
        }
        if self.exercises > 0 {
            s.push_str(&format!(", exercises {}/{}", self.exercises_done, self.exercises));
        }
        if self.quit {
            s.push_str(&format!(
                " (left at stop {} of {}; `skiff tutorial` goes on from there)",
                self.next + 1,
                self.stops
            ));
        }
        s
    }
}

/// The stops of a tutorial: its steps and exercises, in order (solutions count: they are steps).
pub fn stops(items: &[Item]) -> usize {
    items.iter().filter(|i| matches!(i, Item::Step(_) | Item::Exercise(_))).count()
}

/// The command of stop `n` (to notice a lesson that changed under a saved progress).
pub fn stop_command(tutorial: &Tutorial, n: usize) -> String {
    let stop = tutorial.items.iter().filter(|i| matches!(i, Item::Step(_) | Item::Exercise(_))).nth(n);
    match stop {
        Some(Item::Step(s)) => s.command.clone(),
        Some(Item::Exercise(e)) => format!("exercise: {}", e.title),
        _ => String::new(),
    }
}

/// A typed command wants a terminal (`-it`, `-i`, `-t` on `run`/`exec`/`start`): run it attached.
pub fn wants_terminal(command: &str) -> bool {
    let w: Vec<&str> = command.split_whitespace().collect();
    let verb = w.iter().skip(1).find(|x| !x.starts_with('-')).copied().unwrap_or("");
    if w.first() != Some(&"skiff") || !matches!(verb, "run" | "exec" | "start" | "attach") {
        return false;
    }
    w.iter().any(|x| {
        x.starts_with('-') && !x.starts_with("--") && (x.contains('i') || x.contains('t')) && x.len() <= 4
            || *x == "--interactive"
            || *x == "--tty"
    })
}

/// The classroom walk. `start` is the stop to begin at (a resumed lesson: the prose just before it is
/// shown again, earlier files were written already). `saved(next, runner)` is called after every stop.
pub fn walk(
    tutorial: &Tutorial,
    runner: &mut Runner,
    input: &mut dyn Input,
    out: &mut dyn Write,
    start: usize,
    saved: &mut dyn FnMut(usize, &Runner),
) -> io::Result<WalkResult> {
    let steps: Vec<&Step> =
        tutorial.items.iter().filter_map(|i| if let Item::Step(s) = i { Some(s) } else { None }).collect();
    let mut res = WalkResult {
        total: steps.iter().filter(|s| !s.solution).count(),
        stops: stops(&tutorial.items),
        exercises: tutorial.items.iter().filter(|i| matches!(i, Item::Exercise(_))).count(),
        ..WalkResult::default()
    };
    let mut stop = 0;
    let mut last_prose: Option<&str> = None;
    let mut solved_by_learner = false; // the exercise before these solution steps was done
    let n = stops(&tutorial.items);
    if start > 0 {
        writeln!(out, "{}\n", underline(&tutorial.title, '='))?;
        writeln!(out, "(resuming at stop {} of {n}; `skiff tutorial --reset` starts over)\n", start + 1)?;
    } else {
        writeln!(
            out,
            "Type each command (or press Enter to have it typed for you). Ctrl-C leaves; `skiff tutorial` resumes.\n"
        )?;
    }
    for (idx, item) in tutorial.items.iter().enumerate() {
        let is_stop = matches!(item, Item::Step(_) | Item::Exercise(_));
        if stop < start {
            match item {
                Item::Prose(md) => last_prose = Some(md),
                _ if is_stop => {
                    stop += 1;
                    last_prose = None;
                    solved_by_learner = match item {
                        Item::Exercise(_) => true,
                        Item::Step(s) => s.solution && solved_by_learner,
                        _ => solved_by_learner,
                    };
                }
                _ => {}
            }
            continue;
        }
        if let Some(md) = last_prose.take() {
            print_prose(out, md)?;
        }
        match item {
            Item::Prose(md) => print_prose(out, md)?,
            Item::File { name, content, .. } => {
                writeln!(out, "(skiff writes {name} for you:)")?;
                for l in content.lines() {
                    writeln!(out, "    {l}")?;
                }
                match runner.write_file(name, content) {
                    Ok(()) => writeln!(out)?,
                    Err(e) => writeln!(out, "✗ could not write {name}: {e}\n")?,
                }
            }
            Item::Step(step) if step.solution && solved_by_learner => {
                // done with the exercise (by the learner, or by running this solution)
                stop += 1;
                saved(stop, runner);
            }
            Item::Step(step) if step.skip => {
                let go = interactive_step(step, stop, n, runner, input, out)?;
                res.skipped += 1;
                if !go {
                    res.quit = true;
                    res.next = stop;
                    return finish(res, out);
                }
                stop += 1;
                saved(stop, runner);
            }
            Item::Step(step) => {
                if !step.solution {
                    solved_by_learner = false;
                }
                match typed_step(step, stop, n, runner, input, out, &mut res)? {
                    true => {
                        stop += 1;
                        saved(stop, runner);
                    }
                    false => {
                        res.quit = true;
                        res.next = stop;
                        return finish(res, out);
                    }
                }
            }
            Item::Exercise(ex) => {
                let solutions: Vec<&Step> = tutorial.items[idx + 1..]
                    .iter()
                    .filter(|i| !matches!(i, Item::Prose(_)))
                    .map_while(|i| if let Item::Step(s) = i { s.solution.then_some(s) } else { None })
                    .collect();
                match exercise(ex, &solutions, stop, n, runner, input, out, &mut res)? {
                    Some(_) => {
                        solved_by_learner = true;
                        stop += 1;
                        saved(stop, runner);
                    }
                    None => {
                        res.quit = true;
                        res.next = stop;
                        return finish(res, out);
                    }
                }
            }
        }
    }
    res.next = stop;
    writeln!(out, "Lesson complete: {}.", tutorial.title)?;
    finish(res, out)
}

fn finish(res: WalkResult, out: &mut dyn Write) -> io::Result<WalkResult> {
    writeln!(out, "{}", res.summary())?;
    Ok(res)
}

fn underline(title: &str, c: char) -> String {
    format!("{title}\n{}", c.to_string().repeat(title.chars().count().max(1)))
}

fn print_prose(out: &mut dyn Write, md: &str) -> io::Result<()> {
    let text = plain(md);
    if !text.is_empty() {
        writeln!(out, "{text}\n")?;
    }
    Ok(())
}

/// Runs a command for the learner, showing its output as it comes.
fn run_shown(runner: &mut Runner, command: &str, out: &mut dyn Write) -> io::Result<Outcome> {
    let outcome = runner.run_command_streaming(command, out)?;
    if !outcome.output.is_empty() && !outcome.output.ends_with('\n') {
        writeln!(out)?;
    }
    if outcome.exit == 130 && !outcome.timed_out {
        writeln!(out, "(stopped)")?;
    }
    Ok(outcome)
}

const HELP: &str = "Type the command shown (or press Enter to have it typed). `skip` goes to the next step, `quit` or Ctrl-C leaves (`skiff tutorial` resumes here).";

/// One checked step. Returns false when the learner leaves.
fn typed_step(
    step: &Step,
    stop: usize,
    n: usize,
    runner: &mut Runner,
    input: &mut dyn Input,
    out: &mut dyn Write,
    res: &mut WalkResult,
) -> io::Result<bool> {
    writeln!(out, "  $ {}", step.command.replace('\n', "\n    "))?;
    loop {
        let line = input.read_line(&format!("[{}/{n}] $ ", stop + 1), out)?;
        let typed = match line {
            Line::Interrupted | Line::Eof => return Ok(false),
            Line::Text(t) => t,
        };
        let t = typed.trim();
        match t {
            "quit" | "q" => return Ok(false),
            "skip" => {
                writeln!(out, "(skipped)\n")?;
                res.skipped += 1;
                return Ok(true);
            }
            "help" | "?" => {
                writeln!(out, "{HELP}")?;
                continue;
            }
            _ => {}
        }
        let auto = t.is_empty();
        let command = if auto {
            // the multi-line commands (here-documents) are typed for the learner as written
            writeln!(out, "$ {}", step.command)?;
            step.command.clone()
        } else {
            input.add_history(t);
            typed.clone()
        };
        if !auto && wants_terminal(&command) {
            let code = runner.run_attached(&command)?;
            writeln!(out, "(exit code {code}: this step is checked only when its output can be read; press Enter to have it typed)")?;
            continue;
        }
        let outcome = run_shown(runner, &command, out)?;
        res.run += 1;
        match compare(step, &outcome, runner.timeout.as_secs_f64()) {
            Ok(()) => {
                res.matched += 1;
                let exit = if step.exit != 0 { format!(" (exit code {})", step.exit) } else { String::new() };
                writeln!(out, "✓ as the tutorial says{exit}\n")?;
                return Ok(true);
            }
            Err(_) => {
                let why = explain(step, &command, &outcome);
                if auto || command.trim() == step.command.trim() {
                    writeln!(out, "✗ not what the tutorial says: {why}\n")?;
                    return Ok(true);
                }
                writeln!(out, "✗ {why}")?;
                writeln!(out, "  (try again, or press Enter to have `{}` typed)", step.summary())?;
            }
        }
    }
}

/// A step the suite does not run (`<!-- skip -->`): interactive ones the learner may try with the terminal.
fn interactive_step(
    step: &Step,
    stop: usize,
    n: usize,
    runner: &mut Runner,
    input: &mut dyn Input,
    out: &mut dyn Write,
) -> io::Result<bool> {
    writeln!(out, "  $ {}", step.command)?;
    for line in &step.expected {
        writeln!(out, "  {line}")?;
    }
    writeln!(out, "(an interactive step: type it to try it here with your terminal, or press Enter to go on)")?;
    loop {
        match input.read_line(&format!("[{}/{n}] $ ", stop + 1), out)? {
            Line::Interrupted | Line::Eof => return Ok(false),
            Line::Text(t) if t.trim().is_empty() || t.trim() == "skip" => {
                writeln!(out)?;
                return Ok(true);
            }
            Line::Text(t) if t.trim() == "quit" => return Ok(false),
            Line::Text(t) => {
                input.add_history(t.trim());
                let code = runner.run_attached(&t)?;
                writeln!(out, "(exit code {code}; press Enter to go on)")?;
            }
        }
    }
}

/// Prints the checks: ✓ or ✗ with what is missing. True when all pass.
pub fn report_checks(ex: &Exercise, runner: &mut Runner, out: &mut dyn Write) -> io::Result<bool> {
    let mut all = true;
    for c in &ex.checks {
        match evaluate(c, runner) {
            Ok(()) => writeln!(out, "  ✓ {}", c.text)?,
            Err(why) => {
                all = false;
                writeln!(out, "  ✗ {}: {why}", c.text)?
            }
        }
    }
    Ok(all)
}

/// An exercise at the prompt. `Some(true)`: done by the learner; `Some(false)`: the solution was run
/// (asked for, or the learner skipped: later steps may need what it makes); `None`: the learner left.
#[allow(clippy::too_many_arguments)]
fn exercise(
    ex: &Exercise,
    solutions: &[&Step],
    stop: usize,
    n: usize,
    runner: &mut Runner,
    input: &mut dyn Input,
    out: &mut dyn Write,
    res: &mut WalkResult,
) -> io::Result<Option<bool>> {
    writeln!(out, "▶ {}", ex.title)?;
    writeln!(
        out,
        "Do it here: type any commands. `check` checks your work, `solution` (or `skip`) runs one for you, Ctrl-C leaves."
    )?;
    loop {
        let t = match input.read_line(&format!("[{}/{n} exercise] $ ", stop + 1), out)? {
            Line::Interrupted | Line::Eof => return Ok(None),
            Line::Text(t) => t,
        };
        match t.trim() {
            "" | "help" | "?" => writeln!(out, "`check` checks your work, `solution` (or `skip`) runs one for you.")?,
            "quit" => return Ok(None),
            "check" | "grade" => {
                if report_checks(ex, runner, out)? {
                    res.exercises_done += 1;
                    writeln!(out, "✓ exercise done\n")?;
                    return Ok(Some(true));
                }
                writeln!(out, "(not yet: keep going, then `check` again)")?;
            }
            "solution" | "skip" => {
                if t.trim() == "skip" {
                    writeln!(out, "(skipped: the solution runs, so that the next steps find what they need)")?;
                }
                for s in solutions {
                    writeln!(out, "$ {}", s.command)?;
                    let o = run_shown(runner, &s.command, out)?;
                    if let Err(_why) = compare(s, &o, runner.timeout.as_secs_f64()) {
                        writeln!(out, "✗ not what the tutorial says: {}", explain(s, &s.command, &o))?;
                    }
                }
                if report_checks(ex, runner, out)? {
                    res.exercises_done += 1;
                    writeln!(out, "✓ exercise done (with the solution)\n")?;
                } else {
                    writeln!(
                        out,
                        "(the solution did not pass every check here: earlier commands may have changed things)\n"
                    )?;
                }
                return Ok(Some(false));
            }
            cmd => {
                input.add_history(cmd);
                if wants_terminal(cmd) {
                    runner.run_attached(cmd)?;
                } else {
                    run_shown(runner, cmd, out)?;
                }
            }
        }
    }
}

/// Markdown lightly stripped for a terminal: headings underlined, code blocks indented without fences,
/// `**`/`__`/backticks removed, links as `text (url)`, HTML comments dropped, blank runs collapsed.
pub fn plain(md: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut fence: Option<String> = None;
    for line in md.lines() {
        let trimmed = line.trim_start();
        if let Some(f) = &fence {
            if trimmed.starts_with(f.as_str())
                && trimmed.trim_start_matches(f.chars().next().unwrap()).trim().is_empty()
            {
                fence = None;
            } else {
                out.push(format!("    {line}"));
            }
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            let ch = trimmed.chars().next().unwrap();
            let len = trimmed.len() - trimmed.trim_start_matches(ch).len();
            fence = Some(ch.to_string().repeat(len));
            continue;
        }
        if trimmed.starts_with("<!--") && trimmed.ends_with("-->") {
            continue;
        }
        let hashes = trimmed.len() - trimmed.trim_start_matches('#').len();
        if (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ') {
            let title = inline(trimmed[hashes..].trim());
            let under = match hashes {
                1 => Some('='),
                2 => Some('-'),
                _ => None,
            };
            out.push(title.clone());
            if let Some(c) = under {
                out.push(c.to_string().repeat(title.chars().count()));
            }
            continue;
        }
        out.push(inline(line));
    }
    // collapse blank runs, trim blank edges
    let mut text = String::new();
    let mut blank = true;
    for line in out {
        if line.trim().is_empty() {
            if !blank {
                text.push('\n');
            }
            blank = true;
        } else {
            text.push_str(line.trim_end());
            text.push('\n');
            blank = false;
        }
    }
    text.trim_end().to_string()
}

fn inline(line: &str) -> String {
    let mut s = String::new();
    let mut rest = line;
    // links and images: [text](url) → text (url); ![alt](url) → alt
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|k| open + k) else {
            break;
        };
        let Some(end) = rest[close..].find(')').map(|k| close + k) else {
            break;
        };
        let image = open > 0 && rest.as_bytes()[open - 1] == b'!';
        s.push_str(&rest[..if image { open - 1 } else { open }]);
        let text = &rest[open + 1..close];
        let url = &rest[close + 2..end];
        if image || text == url {
            s.push_str(text);
        } else {
            s.push_str(&format!("{text} ({url})"));
        }
        rest = &rest[end + 1..];
    }
    s.push_str(rest);
    s.replace("**", "").replace("__", "").replace('`', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_commands() {
        for (cmd, want) in [
            ("skiff run -it --rm busybox sh", true),
            ("skiff exec -it web sh", true),
            ("skiff start -ai web", true),
            ("skiff run --interactive --tty busybox", true),
            ("skiff run -d --name web -p 8080:80 nginx", false),
            ("skiff build -t app .", false),
            ("echo x | skiff exec -i pg psql", false),
            ("skiff logs -t web", false),
        ] {
            assert_eq!(wants_terminal(cmd), want, "{cmd}");
        }
    }

    #[test]
    fn stops_are_steps_and_exercises() {
        let md = "# T\n```console\n$ skiff a\n$ skiff b\n```\n```exercise\nvolume v exists\n```\n<!-- solution -->\n```console\n$ skiff volume create v\n```\n";
        let t = crate::tutorial::parse(std::path::Path::new("t.md"), md).unwrap();
        assert_eq!(stops(&t.items), 4);
        let names: Vec<String> = (0..5).map(|n| stop_command(&t, n)).collect();
        assert_eq!(names, ["skiff a", "skiff b", "exercise: T", "skiff volume create v", ""]);
    }

    #[test]
    fn strips_markdown() {
        let cases: &[(&str, &str)] = &[
            ("# Title\n\nText", "Title\n=====\n\nText"),
            ("## Sub part\n", "Sub part\n--------"),
            ("### Deep\n", "Deep"),
            ("Run **`skiff ps`** now.", "Run skiff ps now."),
            ("See [the docs](https://x.y/z) and ![pic](a.png).", "See the docs (https://x.y/z) and pic."),
            ("<https://x>", "<https://x>"),
            ("a\n\n\n\nb\n\n", "a\n\nb"),
            ("<!-- note -->\ntext", "text"),
            ("```dockerfile\nFROM busybox\n\nCMD x\n```\nafter", "    FROM busybox\n\n    CMD x\nafter"),
            ("#hashtag", "#hashtag"),
            ("[not a link] x", "[not a link] x"),
        ];
        for (md, want) in cases {
            assert_eq!(plain(md), *want, "{md:?}");
        }
    }
}
