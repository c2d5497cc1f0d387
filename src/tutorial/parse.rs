//! Parsing tutorial markdown into prose, files to write and console steps.

use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use super::checks::{parse_check, Check};

/// A parsed tutorial: `tutorials/NN-topic.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tutorial {
    pub path: PathBuf,
    /// Text of the first `# ` heading (the file stem when there is none).
    pub title: String,
    pub items: Vec<Item>,
    /// The markdown (CRLF normalised to LF), kept so `rewrite` can reproduce it.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Markdown for the reader, including fenced blocks that are not run (```dockerfile, ```text...).
    Prose(String),
    /// A ```file path=NAME block: written to NAME (relative to the current directory) before the next steps.
    /// `line` is the 1-based line of the opening fence.
    File {
        name: String,
        content: String,
        line: usize,
    },
    Step(Step),
    /// An ```exercise block: the checks `skiff tutorial grade` verifies. Its solution is the
    /// `<!-- solution -->` console blocks after it.
    Exercise(Exercise),
}

/// A task for the learner, checked by its `checks` (see `checks.rs` for the forms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exercise {
    /// 1-based line of the opening fence.
    pub line: usize,
    /// The heading the exercise is under (the tutorial's title when there is none).
    pub title: String,
    pub checks: Vec<Check>,
}

/// One `$ command` of a ```console block with its expected output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 1-based line of the `$ ` line in the markdown.
    pub line: usize,
    /// The command without `$ `; continuation lines (` \`) and heredoc bodies are kept, joined with `\n`.
    pub command: String,
    /// Expected output lines (patterns, see `matches`), without the `[exit N]` line.
    pub expected: Vec<String>,
    /// Expected exit code (`[exit N]`, else 0).
    pub exit: i32,
    /// Shown but not run (`<!-- skip -->` before the block).
    pub skip: bool,
    /// Part of an exercise's solution (`<!-- solution -->` before the block): the test suite runs it,
    /// the learner sees it only on request.
    pub solution: bool,
    /// 1-based half-open range of markdown lines holding the expected output (and `[exit N]`),
    /// without trailing blank lines; empty (start == end) when the step expects no output.
    pub output_lines: Range<usize>,
}

impl Step {
    /// The command as one short line for messages: its first line, with ` …` when it goes on.
    pub fn summary(&self) -> String {
        let mut lines = self.command.lines();
        let first = lines.next().unwrap_or("");
        if lines.next().is_some() {
            format!("{} …", first.trim_end().trim_end_matches('\\').trim_end())
        } else {
            first.to_string()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct ParseError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

/// Marker before a ```console block: `<!-- skip -->` (shown, not run) or `<!-- solution -->`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Skip,
    Solution,
}

fn marker(line: &str) -> Option<Marker> {
    let squeezed: String = line.split_whitespace().collect();
    if squeezed.eq_ignore_ascii_case("<!--skip-->") {
        Some(Marker::Skip)
    } else if squeezed.eq_ignore_ascii_case("<!--solution-->") {
        Some(Marker::Solution)
    } else {
        None
    }
}

fn marker_misplaced(m: Marker) -> String {
    match m {
        Marker::Skip => "`<!-- skip -->` must come right before a ```console block".into(),
        Marker::Solution => "`<!-- solution -->` must come right before a ```console block".into(),
    }
}

struct Fence<'a> {
    ch: char,
    len: usize,
    info: &'a str,
}

fn fence_open(line: &str) -> Option<Fence<'_>> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let ch = rest.chars().next()?;
    if ch != '`' && ch != '~' {
        return None;
    }
    let len = rest.len() - rest.trim_start_matches(ch).len();
    if len < 3 {
        return None;
    }
    let info = rest[len..].trim();
    if ch == '`' && info.contains('`') {
        return None;
    }
    Some(Fence { ch, len, info })
}

fn fence_closes(line: &str, open: &Fence) -> bool {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return false;
    }
    let rest = &line[indent..];
    let len = rest.len() - rest.trim_start_matches(open.ch).len();
    len >= open.len && rest[len..].trim().is_empty()
}

/// Parses `file path=NAME` (NAME may be quoted) from a fence's info string.
fn file_path_attr(info: &str) -> Option<String> {
    let rest = info.strip_prefix("file")?;
    let pos = rest.find("path=")?;
    let value = &rest[pos + 5..];
    let name = if let Some(q) = value.strip_prefix('"') {
        q.split('"').next().unwrap_or("")
    } else if let Some(q) = value.strip_prefix('\'') {
        q.split('\'').next().unwrap_or("")
    } else {
        value.split_whitespace().next().unwrap_or("")
    };
    Some(name.to_string())
}

/// Parses a tutorial. Errors name `path:line`.
pub fn parse(path: &Path, text: &str) -> Result<Tutorial, ParseError> {
    let source = text.replace("\r\n", "\n");
    let err = |line: usize, message: String| ParseError { path: path.to_path_buf(), line, message };
    let lines: Vec<&str> = source.split('\n').collect();
    // `split` yields a final "" after a trailing newline: not a line of its own.
    let nlines = if source.ends_with('\n') { lines.len() - 1 } else { lines.len() };

    let mut items = Vec::new();
    let mut prose = String::new();
    let mut title: Option<String> = None;
    let mut pending: Option<(usize, Marker)> = None;
    let mut heading: Option<String> = None;
    // A solution block may follow an exercise, with only prose and other solution blocks between.
    let mut after_exercise = false;
    let flush = |prose: &mut String, items: &mut Vec<Item>| {
        if !prose.trim().is_empty() {
            items.push(Item::Prose(std::mem::take(prose)));
        }
        prose.clear();
    };

    let mut i = 0;
    while i < nlines {
        let line = lines[i];
        let lineno = i + 1;
        if let Some(m) = marker(line) {
            pending = Some((lineno, m));
            i += 1;
            continue;
        }
        let Some(fence) = fence_open(line) else {
            if line.trim().is_empty() {
                prose.push_str(line);
                prose.push('\n');
                i += 1;
                continue;
            }
            if let Some((at, m)) = pending {
                return Err(err(at, marker_misplaced(m)));
            }
            if title.is_none() {
                if let Some(t) = line.strip_prefix("# ") {
                    title = Some(t.trim().to_string());
                }
            }
            let hashes = line.len() - line.trim_start_matches('#').len();
            if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
                heading = Some(line[hashes..].trim().to_string());
            }
            prose.push_str(line);
            prose.push('\n');
            i += 1;
            continue;
        };
        // A fenced block: find its end.
        let mut end = i + 1;
        while end < nlines && !fence_closes(lines[end], &fence) {
            end += 1;
        }
        if end >= nlines {
            return Err(err(lineno, format!("unclosed code block (opened with `{}`)", line.trim())));
        }
        let lang = fence.info.split_whitespace().next().unwrap_or("");
        let body: Vec<(usize, &str)> = (i + 1..end).map(|k| (k + 1, lines[k])).collect();
        match lang {
            "console" => {
                flush(&mut prose, &mut items);
                let m = pending.take();
                let skip = matches!(m, Some((_, Marker::Skip)));
                let solution = matches!(m, Some((_, Marker::Solution)));
                if solution && !after_exercise {
                    return Err(err(
                        m.map(|x| x.0).unwrap_or(lineno),
                        "a `<!-- solution -->` block must follow an ```exercise block".into(),
                    ));
                }
                after_exercise = solution;
                for mut step in parse_console(&body, skip).map_err(|(l, m)| err(l, m))? {
                    step.solution = solution;
                    items.push(Item::Step(step));
                }
            }
            "exercise" => {
                if let Some((at, m)) = pending {
                    return Err(err(at, marker_misplaced(m)));
                }
                flush(&mut prose, &mut items);
                let mut checks = Vec::new();
                for (l, text) in &body {
                    let t = text.trim();
                    if t.is_empty() || t.starts_with('#') {
                        continue;
                    }
                    checks.push(parse_check(*l, t).map_err(|m| err(*l, m))?);
                }
                if checks.is_empty() {
                    return Err(err(lineno, "an ```exercise block needs at least one check".into()));
                }
                let title = heading.clone().or_else(|| title.clone()).unwrap_or_else(|| "exercise".into());
                items.push(Item::Exercise(Exercise { line: lineno, title, checks }));
                after_exercise = true;
            }
            "file" => {
                if let Some((at, m)) = pending {
                    return Err(err(at, marker_misplaced(m)));
                }
                after_exercise = false;
                let name = file_path_attr(fence.info).unwrap_or_default();
                if name.is_empty() {
                    return Err(err(lineno, "a ```file block needs `path=NAME`, e.g. ```file path=Dockerfile".into()));
                }
                let p = Path::new(&name);
                if p.is_absolute() || p.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
                    return Err(err(
                        lineno,
                        format!("file path `{name}` must be relative and stay in the working directory"),
                    ));
                }
                flush(&mut prose, &mut items);
                let mut content = String::new();
                for (_, l) in &body {
                    content.push_str(l);
                    content.push('\n');
                }
                items.push(Item::File { name, content, line: lineno });
            }
            _ => {
                if let Some((at, m)) = pending {
                    return Err(err(at, marker_misplaced(m)));
                }
                for l in &lines[i..=end] {
                    prose.push_str(l);
                    prose.push('\n');
                }
            }
        }
        i = end + 1;
    }
    if let Some((at, m)) = pending {
        return Err(err(at, marker_misplaced(m)));
    }
    flush(&mut prose, &mut items);
    let title = title.unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
    Ok(Tutorial { path: path.to_path_buf(), title, items, source })
}

fn command_start(line: &str) -> Option<&str> {
    if line == "$" || line.trim_end() == "$" {
        return Some("");
    }
    line.strip_prefix("$ ")
}

/// `[exit N]` → Some(Ok(N)); a malformed `[exit ...]` → Some(Err(())).
fn exit_marker(line: &str) -> Option<Result<i32, ()>> {
    let inner = line.trim().strip_prefix("[exit ")?.strip_suffix(']')?;
    Some(inner.trim().parse().map_err(|_| ()))
}

fn parse_console(body: &[(usize, &str)], skip: bool) -> Result<Vec<Step>, (usize, String)> {
    let mut steps = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let (lineno, text) = body[i];
        let Some(first) = command_start(text) else {
            if text.trim().is_empty() {
                i += 1;
                continue;
            }
            return Err((
                lineno,
                format!("expected a `$ command` line in a ```console block, found `{}`", text.trim_end()),
            ));
        };
        if first.trim().is_empty() {
            return Err((lineno, "empty command after `$`".into()));
        }
        let mut command = first.trim_end().to_string();
        let mut last = command.clone();
        i += 1;
        while last.ends_with('\\') {
            let Some(&(_, next)) = body.get(i) else {
                return Err((lineno, "the command ends with `\\` but the block ends".into()));
            };
            last = next.trim_end().to_string();
            command.push('\n');
            command.push_str(&last);
            i += 1;
        }
        for (delim, strip_tabs) in heredoc_delimiters(&command) {
            loop {
                let Some(&(_, next)) = body.get(i) else {
                    return Err((lineno, format!("here-document not ended by a `{delim}` line")));
                };
                command.push('\n');
                command.push_str(next);
                i += 1;
                let candidate = if strip_tabs { next.trim_start_matches('\t') } else { next };
                if candidate.trim_end() == delim {
                    break;
                }
            }
        }
        // Where new output goes when there is none: before the next line (the next command or the fence).
        let out_start = body.get(i).map(|b| b.0).unwrap_or(body[i - 1].0 + 1);
        let mut out: Vec<(usize, &str)> = Vec::new();
        while i < body.len() && command_start(body[i].1).is_none() {
            out.push(body[i]);
            i += 1;
        }
        while out.last().is_some_and(|(_, l)| l.trim().is_empty()) {
            out.pop();
        }
        let out_start = out.first().map(|o| o.0).unwrap_or(out_start);
        let out_end = out.last().map(|o| o.0 + 1).unwrap_or(out_start);
        let mut exit = None;
        let mut no_newline = false;
        while let Some(&(l, text)) = out.last() {
            if text.trim() == super::NO_NEWLINE && !no_newline {
                no_newline = true;
            } else if let Some(code) = exit_marker(text) {
                if exit.is_some() {
                    break;
                }
                exit = Some(code.map_err(|_| (l, format!("bad exit marker `{}`: use `[exit N]`", text.trim())))?);
            } else {
                break;
            }
            out.pop();
        }
        for &(l, text) in &out {
            if exit_marker(text).is_some() || text.trim() == super::NO_NEWLINE {
                return Err((l, format!("`{}` must be the last line of a step's output", text.trim())));
            }
        }
        let mut expected: Vec<String> = out.iter().map(|(_, l)| l.to_string()).collect();
        if no_newline {
            expected.push(super::NO_NEWLINE.to_string());
        }
        steps.push(Step {
            line: lineno,
            command,
            expected,
            exit: exit.unwrap_or(0),
            skip,
            solution: false,
            output_lines: out_start..out_end,
        });
    }
    Ok(steps)
}

/// Delimiters of the here-documents (`<<EOF`, `<<-EOF`, `<<'EOF'`) in a shell command, in order.
/// The bool is true for `<<-` (leading tabs stripped from the body and the delimiter line).
pub(crate) fn heredoc_delimiters(cmd: &str) -> Vec<(String, bool)> {
    let b = cmd.as_bytes();
    let mut out = Vec::new();
    let (mut sq, mut dq) = (false, false);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if sq {
            if c == b'\'' {
                sq = false;
            }
            i += 1;
            continue;
        }
        if dq {
            match c {
                b'\\' => i += 1,
                b'"' => dq = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'\\' => i += 1,
            b'\'' => sq = true,
            b'"' => dq = true,
            b'#' if i == 0 || b[i - 1].is_ascii_whitespace() || b[i - 1] == b';' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'<' if b.get(i + 1) == Some(&b'<') => {
                if b.get(i + 2) == Some(&b'<') {
                    i += 3;
                    continue;
                }
                i += 2;
                let strip = b.get(i) == Some(&b'-');
                if strip {
                    i += 1;
                }
                while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                    i += 1;
                }
                let mut word = Vec::new();
                while i < b.len() {
                    let c = b[i];
                    if c.is_ascii_whitespace() || b";|&()<>".contains(&c) {
                        break;
                    }
                    if c == b'\'' || c == b'"' {
                        i += 1;
                        while i < b.len() && b[i] != c {
                            word.push(b[i]);
                            i += 1;
                        }
                    } else if c == b'\\' {
                        i += 1;
                        if i < b.len() {
                            word.push(b[i]);
                        }
                    } else {
                        word.push(c);
                    }
                    i += 1;
                }
                if !word.is_empty() {
                    out.push((String::from_utf8_lossy(&word).into_owned(), strip));
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(t: &Tutorial) -> Vec<&Step> {
        t.items.iter().filter_map(|i| if let Item::Step(s) = i { Some(s) } else { None }).collect()
    }

    fn p(text: &str) -> Tutorial {
        parse(Path::new("tutorials/00-test.md"), text).unwrap()
    }

    #[test]
    fn parses_steps() {
        // (markdown, [(line, command, expected, exit, skip, output_lines)])
        type Want = (usize, &'static str, &'static [&'static str], i32, bool, Range<usize>);
        let cases: &[(&str, &[Want])] = &[
            (
                "# T\n\n```console\n$ skiff run --rm busybox echo hello\nUnable to find image 'busybox:latest' locally\n[..]\nhello\n$ skiff run --rm busybox sh -c 'exit 3'\n[exit 3]\n```\n",
                &[
                    (4, "skiff run --rm busybox echo hello", &["Unable to find image 'busybox:latest' locally", "[..]", "hello"], 0, false, 5..8),
                    (8, "skiff run --rm busybox sh -c 'exit 3'", &[], 3, false, 9..10),
                ],
            ),
            // multi-line command, blank line kept inside output, trailing blank lines dropped
            (
                "```console\n$ skiff run \\\n    --rm busybox \\\n    echo a\na\n\nb\n\n\n$ skiff ps\n```\n",
                &[
                    (2, "skiff run \\\n    --rm busybox \\\n    echo a", &["a", "", "b"], 0, false, 5..8),
                    (10, "skiff ps", &[], 0, false, 11..11),
                ],
            ),
            // heredoc body belongs to the command
            (
                "```console\n$ cat > Dockerfile <<'EOF'\nFROM busybox\n$ not a command\nEOF\n$ cat Dockerfile\nFROM busybox\n[..] not a command\n```\n",
                &[
                    (2, "cat > Dockerfile <<'EOF'\nFROM busybox\n$ not a command\nEOF", &[], 0, false, 6..6),
                    (6, "cat Dockerfile", &["FROM busybox", "[..] not a command"], 0, false, 7..9),
                ],
            ),
            // <<- strips tabs; quoted << is not a heredoc
            (
                "```console\n$ cat <<-END; echo '<<X'\n\thi\n\tEND\nhi\n<<X\n```\n",
                &[(2, "cat <<-END; echo '<<X'\n\thi\n\tEND", &["hi", "<<X"], 0, false, 5..7)],
            ),
            // skip marker, [no newline] marker in both orders, CRLF
            (
                "<!-- skip -->\n\n```console\r\n$ skiff run -it busybox sh\r\n/ # \r\n```\r\n```console\n$ printf 'a'\na\n[exit 2]\n[no newline at end of output]\n```\n",
                &[
                    (4, "skiff run -it busybox sh", &["/ # "], 0, true, 5..6),
                    (8, "printf 'a'", &["a", "[no newline at end of output]"], 2, false, 9..12),
                ],
            ),
        ];
        for (md, want) in cases {
            let t = p(md);
            let got = steps(&t);
            assert_eq!(got.len(), want.len(), "{md}");
            for (s, w) in got.iter().zip(want.iter()) {
                assert_eq!(s.line, w.0, "{md}");
                assert_eq!(s.command, w.1, "{md}");
                assert_eq!(s.expected, w.2.iter().map(|x| x.to_string()).collect::<Vec<_>>(), "{md}");
                assert_eq!(s.exit, w.3, "{md}");
                assert_eq!(s.skip, w.4, "{md}");
                assert_eq!(s.output_lines, w.5, "{md}");
            }
        }
    }

    #[test]
    fn parses_items_title_and_files() {
        let md = "Intro\n\n# First container\n\nSome *prose*.\n\n```dockerfile\nFROM busybox\n```\n\n```file path=app/Dockerfile\nFROM busybox\nCMD [\"echo\", \"hi\"]\n```\n```file path=\"my file\"\n```\nmore\n```console\n$ ls\n```\n";
        let t = p(md);
        assert_eq!(t.title, "First container");
        assert_eq!(t.items.len(), 5);
        match &t.items[0] {
            Item::Prose(s) => {
                assert!(s.starts_with("Intro\n"));
                assert!(s.contains("```dockerfile\nFROM busybox\n```\n"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            t.items[1],
            Item::File {
                name: "app/Dockerfile".into(),
                content: "FROM busybox\nCMD [\"echo\", \"hi\"]\n".into(),
                line: 11
            }
        );
        assert_eq!(t.items[2], Item::File { name: "my file".into(), content: String::new(), line: 15 });
        assert_eq!(t.items[3], Item::Prose("more\n".into()));
        assert!(matches!(&t.items[4], Item::Step(s) if s.command == "ls" && s.line == 19));
        assert_eq!(t.source, md);
        // no heading: the file stem
        assert_eq!(p("text\n").title, "00-test");
    }

    #[test]
    fn parse_errors_name_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("x\n```console\nhello\n```\n", 3, "expected a `$ command`"),
            ("```console\n$ ls\n", 1, "unclosed code block"),
            ("```console\n$ ls\n[exit 1]\nmore\n```\n", 3, "must be the last line"),
            ("```console\n$ ls\n[exit x]\n```\n", 3, "bad exit marker"),
            ("```console\n$ echo \\\n```\n", 2, "ends with `\\`"),
            ("```console\n$ cat <<EOF\nhi\n```\n", 2, "here-document"),
            ("```console\n$\n```\n", 2, "empty command"),
            ("<!-- skip -->\ntext\n", 1, "skip"),
            ("<!-- skip -->\n```text\nx\n```\n", 1, "skip"),
            ("\n\n```file\nx\n```\n", 3, "path=NAME"),
            ("```file path=../x\nx\n```\n", 1, "relative"),
            ("```file path=/etc/x\nx\n```\n", 1, "relative"),
        ];
        for (md, line, msg) in cases {
            let e = parse(Path::new("t.md"), md).unwrap_err();
            assert_eq!(e.line, *line, "{md}: {e}");
            assert!(e.message.contains(msg), "{md}: {e}");
            assert!(e.to_string().starts_with(&format!("t.md:{line}: ")), "{e}");
        }
    }

    #[test]
    fn parses_exercises_and_solutions() {
        let md = "# T\n\n## Your own image\n\nMake it.\n\n```exercise\n# a comment\nimage g:v2 exists\n\ncontainer web running\n```\n\nHint.\n\n<!-- solution -->\n```console\n$ skiff tag busybox g:v2\n```\n```console\n$ skiff ps\n```\n";
        let t = p(md);
        let ex: Vec<&Exercise> =
            t.items.iter().filter_map(|i| if let Item::Exercise(e) = i { Some(e) } else { None }).collect();
        assert_eq!(ex.len(), 1);
        assert_eq!((ex[0].line, ex[0].title.as_str()), (7, "Your own image"));
        assert_eq!(
            ex[0].checks.iter().map(|c| (c.line, c.text.as_str())).collect::<Vec<_>>(),
            [(9, "image g:v2 exists"), (11, "container web running")]
        );
        let st = steps(&t);
        assert_eq!(st.iter().map(|s| s.solution).collect::<Vec<_>>(), [true, false]);
        let errors: &[(&str, usize, &str)] = &[
            ("```exercise\nimage g floats\n```\n", 2, "unknown check"),
            ("```exercise\n\n```\n", 1, "at least one check"),
            ("<!-- solution -->\n```console\n$ ls\n```\n", 1, "must follow an ```exercise"),
            (
                "```exercise\nimage g exists\n```\n```console\n$ ls\n```\n<!-- solution -->\n```console\n$ ls\n```\n",
                7,
                "must follow",
            ),
            ("<!-- solution -->\ntext\n", 1, "solution"),
        ];
        for (md, line, msg) in errors {
            let e = parse(Path::new("t.md"), md).unwrap_err();
            assert_eq!(e.line, *line, "{md}: {e}");
            assert!(e.message.contains(msg), "{md}: {e}");
        }
    }

    #[test]
    fn summary_is_first_line() {
        let t = p("```console\n$ skiff run \\\n  busybox\n$ cat <<EOF\nx\nEOF\n$ ls\n```\n");
        let s: Vec<String> = steps(&t).iter().map(|s| s.summary()).collect();
        assert_eq!(s, ["skiff run …", "cat <<EOF …", "ls"]);
    }
}
