//! Interactive mode (`skiff tutorial`): show prose, run one step per Enter, say whether it matched.

use std::io::{self, BufRead, Write};

use super::check::{compare, indent};
use super::parse::{Item, Tutorial};
use super::runner::Runner;

/// How a walk went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalkResult {
    /// Steps in the tutorial (run or not).
    pub total: usize,
    /// Steps run.
    pub run: usize,
    /// Steps whose output and exit code matched.
    pub matched: usize,
    /// Steps shown but not run (`<!-- skip -->`).
    pub skipped: usize,
    /// The learner quit (q or end of input) before the end.
    pub quit: bool,
}

impl WalkResult {
    /// E.g. `7/7 steps matched`, `2/3 steps matched (1 shown, not run) (quit at step 4 of 9)`.
    pub fn summary(&self) -> String {
        let mut s = format!("{}/{} steps matched", self.matched, self.run);
        if self.skipped > 0 {
            s.push_str(&format!(" ({} shown, not run)", self.skipped));
        }
        if self.quit {
            s.push_str(&format!(" (quit at step {} of {})", self.run + self.skipped + 1, self.total));
        }
        s
    }
}

/// Walks a learner through a tutorial. For each step: show `$ command`, wait for Enter (`q` or end of
/// input quits), run it, print its real output, then a ✓ line or a ✗ line with the difference.
/// Differences do not stop the walk. Ends with the summary line.
pub fn walk(
    tutorial: &Tutorial,
    runner: &mut Runner,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> io::Result<WalkResult> {
    let mut res = WalkResult {
        total: tutorial.items.iter().filter(|i| matches!(i, Item::Step(_))).count(),
        ..WalkResult::default()
    };
    let mut number = 0;
    for item in &tutorial.items {
        match item {
            Item::Prose(md) => {
                let text = plain(md);
                if !text.is_empty() {
                    writeln!(out, "{text}\n")?;
                }
            }
            Item::File { name, content, .. } => {
                writeln!(out, "(writing {name})")?;
                write!(out, "{}", indent(content))?;
                match runner.write_file(name, content) {
                    Ok(()) => writeln!(out)?,
                    Err(e) => writeln!(out, "✗ could not write {name}: {e}\n")?,
                }
            }
            Item::Step(step) => {
                number += 1;
                let shown = format!("$ {}", step.command);
                if step.skip {
                    writeln!(out, "{shown}")?;
                    for line in &step.expected {
                        writeln!(out, "{line}")?;
                    }
                    writeln!(out, "(not run here: try it in your own terminal)\n")?;
                    res.skipped += 1;
                    continue;
                }
                writeln!(out, "{shown}")?;
                write!(out, "[step {number}/{}] Enter: run   q: quit > ", res.total)?;
                out.flush()?;
                let mut answer = String::new();
                if input.read_line(&mut answer)? == 0 || answer.trim().eq_ignore_ascii_case("q") {
                    if answer.is_empty() {
                        writeln!(out)?;
                    }
                    res.quit = true;
                    break;
                }
                let outcome = runner.run(step)?;
                write!(out, "{}", outcome.output)?;
                if !outcome.output.is_empty() && !outcome.output.ends_with('\n') {
                    writeln!(out)?;
                }
                res.run += 1;
                match compare(step, &outcome, runner.timeout.as_secs_f64()) {
                    Ok(()) => {
                        res.matched += 1;
                        let exit = if step.exit != 0 { format!(" (exit code {})", step.exit) } else { String::new() };
                        writeln!(out, "✓ as the tutorial says{exit}\n")?;
                    }
                    Err(why) => writeln!(out, "✗ not what the tutorial says: {}\n", why.trim_end())?,
                }
            }
        }
    }
    writeln!(out, "{}", res.summary())?;
    Ok(res)
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

    #[cfg(unix)]
    #[test]
    fn walks_step_by_step() {
        use crate::tutorial::parse;
        use std::path::Path;
        let dir = tempfile::tempdir().unwrap();
        let skiff = crate::tutorial::check::tests::fake_skiff(dir.path());
        let md = "# Walk\n\nFirst **run** it.\n\n```file path=a.txt\nA\n```\n\n```console\n$ skiff run busybox\nargs: run busybox\n$ CODE=1 skiff ps\nargs: ps\n[exit 1]\n$ cat a.txt\nB\n```\n\n<!-- skip -->\n```console\n$ skiff run -it busybox\n/ #\n```\n\n```console\n$ skiff images\nargs: images\n```\n";
        let t = parse(Path::new("t.md"), md).unwrap();

        // (input, result, fragments of the transcript)
        let cases: &[(&str, WalkResult, &[&str])] = &[
            (
                "\n\n\n\n",
                WalkResult { total: 5, run: 4, matched: 3, skipped: 1, quit: false },
                &[
                    "Walk\n====\n\nFirst run it.\n\n(writing a.txt)\n    A\n\n$ skiff run busybox\n[step 1/5] Enter: run   q: quit > args: run busybox\n✓ as the tutorial says\n\n",
                    "args: ps\n✓ as the tutorial says (exit code 1)\n",
                    "$ cat a.txt\n[step 3/5] Enter: run   q: quit > A\n✗ not what the tutorial says: output differs:\n",
                    "$ skiff run -it busybox\n/ #\n(not run here: try it in your own terminal)\n",
                    "[step 5/5]",
                    "\n3/4 steps matched (1 shown, not run)\n",
                ],
            ),
            ("\nq\n", WalkResult { total: 5, run: 1, matched: 1, skipped: 0, quit: true }, &["1/1 steps matched (quit at step 2 of 5)\n"]),
            ("", WalkResult { total: 5, run: 0, matched: 0, skipped: 0, quit: true }, &["quit > \n0/0 steps matched (quit at step 1 of 5)\n"]),
        ];
        for (input, want, frags) in cases {
            let mut r = Runner::new(skiff.clone()).unwrap();
            let mut out = Vec::new();
            let got = walk(&t, &mut r, &mut input.as_bytes(), &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert_eq!(&got, want, "{text}");
            for frag in *frags {
                assert!(text.contains(frag), "{frag:?} not in:\n{text}");
            }
        }
    }
}
