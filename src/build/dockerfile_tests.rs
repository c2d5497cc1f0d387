//! Tests for the Dockerfile parser.

use super::*;

fn parse_ok(text: &str) -> Dockerfile {
    parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn kind(line: &str) -> Kind {
    let file = parse_ok(line);
    assert_eq!(file.instructions.len(), 1, "{line:?}");
    file.instructions.into_iter().next().unwrap().kind
}

fn err(text: &str) -> (usize, String) {
    let e = parse(text).expect_err(text);
    (e.line, e.message)
}

fn s(v: &str) -> String {
    v.to_string()
}

fn sv(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn shell(v: &str) -> ShellOrExec {
    ShellOrExec::Shell(s(v))
}

fn exec(v: &[&str]) -> ShellOrExec {
    ShellOrExec::Exec(sv(v))
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (s(a), s(b))).collect()
}

fn copy(sources: &[&str], dest: &str) -> CopyArgs {
    CopyArgs { from: None, chown: None, chmod: None, sources: sv(sources), dest: s(dest), heredocs: vec![] }
}

fn heredoc(name: &str, content: &str, expand: bool, strip_tabs: bool) -> Heredoc {
    Heredoc { name: s(name), content: s(content), expand, strip_tabs }
}

#[test]
fn every_instruction() {
    let from = |image: &str, stage: Option<&str>, platform: Option<&str>| Kind::From {
        image: s(image),
        stage_name: stage.map(s),
        platform: platform.map(s),
    };
    let cases: Vec<(&str, Kind)> = vec![
        ("FROM busybox", from("busybox", None, None)),
        ("from busybox:1.36", from("busybox:1.36", None, None)),
        ("FROM golang:1.22 AS Build", from("golang:1.22", Some("build"), None)),
        ("FROM golang as build-2.x_y", from("golang", Some("build-2.x_y"), None)),
        ("FROM --platform=linux/arm64 alpine", from("alpine", None, Some("linux/arm64"))),
        (
            "FROM --platform=$BUILDPLATFORM ${BASE}:${TAG} aS b",
            from("${BASE}:${TAG}", Some("b"), Some("$BUILDPLATFORM")),
        ),
        ("RUN echo hi", Kind::Run { command: shell("echo hi"), heredocs: vec![] }),
        ("run  echo   hi  ", Kind::Run { command: shell("echo   hi"), heredocs: vec![] }),
        (r#"RUN ["echo", "hi there"]"#, Kind::Run { command: exec(&["echo", "hi there"]), heredocs: vec![] }),
        (r#"RUN ["a\"b", "\u00e9", "c\\d"]"#, Kind::Run { command: exec(&["a\"b", "é", "c\\d"]), heredocs: vec![] }),
        (
            "RUN --mount=type=cache,target=/root/.cache go build",
            Kind::Run { command: shell("go build"), heredocs: vec![] },
        ),
        (
            "RUN --mount=type=secret,id=a --mount=type=ssh --network=none make",
            Kind::Run { command: shell("make"), heredocs: vec![] },
        ),
        ("RUN [not json", Kind::Run { command: shell("[not json"), heredocs: vec![] }),
        ("RUN [ -f /x ] && echo y", Kind::Run { command: shell("[ -f /x ] && echo y"), heredocs: vec![] }),
        (r#"RUN ["a"] trailing"#, Kind::Run { command: shell(r#"["a"] trailing"#), heredocs: vec![] }),
        ("RUN ['single']", Kind::Run { command: shell("['single']"), heredocs: vec![] }),
        ("RUN", Kind::Run { command: shell(""), heredocs: vec![] }),
        ("CMD [\"/app\", \"--port\", \"80\"]", Kind::Cmd(exec(&["/app", "--port", "80"]))),
        ("CMD echo \"$HOME\"", Kind::Cmd(shell("echo \"$HOME\""))),
        ("CMD []", Kind::Cmd(exec(&[]))),
        ("CMD", Kind::Cmd(shell(""))),
        ("ENTRYPOINT [\"/entry.sh\"]", Kind::Entrypoint(exec(&["/entry.sh"]))),
        ("ENTRYPOINT exec /entry.sh", Kind::Entrypoint(shell("exec /entry.sh"))),
        (
            "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]",
            Kind::Shell(sv(&["/bin/bash", "-o", "pipefail", "-c"])),
        ),
        ("ENV A=1", Kind::Env(pairs(&[("A", "1")]))),
        (
            "ENV A=1 B=\"x y\" C='$D' E=a\\ b",
            Kind::Env(pairs(&[("A", "1"), ("B", "\"x y\""), ("C", "'$D'"), ("E", "a\\ b")])),
        ),
        ("ENV A value with  spaces", Kind::Env(pairs(&[("A", "value with  spaces")]))),
        ("ENV A \"quoted value\"", Kind::Env(pairs(&[("A", "\"quoted value\"")]))),
        ("ENV PATH=/x:$PATH", Kind::Env(pairs(&[("PATH", "/x:$PATH")]))),
        ("ENV EMPTY=", Kind::Env(pairs(&[("EMPTY", "")]))),
        ("ENV A=\"a=b\"", Kind::Env(pairs(&[("A", "\"a=b\"")]))),
        (
            "LABEL version=\"1.0\" description=\"a b\"",
            Kind::Label(pairs(&[("version", "\"1.0\""), ("description", "\"a b\"")])),
        ),
        ("LABEL \"com.example.vendor\"=\"ACME\"", Kind::Label(pairs(&[("\"com.example.vendor\"", "\"ACME\"")]))),
        ("LABEL maintainer someone@example.com", Kind::Label(pairs(&[("maintainer", "someone@example.com")]))),
        ("ARG VERSION", Kind::Arg(vec![(s("VERSION"), None)])),
        ("ARG VERSION=1.2", Kind::Arg(vec![(s("VERSION"), Some(s("1.2")))])),
        (
            "ARG A B=2 C=\"x y\" D=",
            Kind::Arg(vec![
                (s("A"), None),
                (s("B"), Some(s("2"))),
                (s("C"), Some(s("\"x y\""))),
                (s("D"), Some(s(""))),
            ]),
        ),
        ("MAINTAINER Jane Doe <jane@example.com>", Kind::Maintainer(s("Jane Doe <jane@example.com>"))),
        ("EXPOSE 80 443/tcp  53/udp", Kind::Expose(sv(&["80", "443/tcp", "53/udp"]))),
        ("EXPOSE $PORT", Kind::Expose(sv(&["$PORT"]))),
        ("VOLUME /data", Kind::Volume(sv(&["/data"]))),
        ("VOLUME /a /b", Kind::Volume(sv(&["/a", "/b"]))),
        ("VOLUME [\"/a\", \" /b \"]", Kind::Volume(sv(&["/a", "/b"]))),
        ("WORKDIR /app", Kind::Workdir(s("/app"))),
        ("WORKDIR /my dir", Kind::Workdir(s("/my dir"))),
        ("USER app:app", Kind::User(s("app:app"))),
        ("STOPSIGNAL SIGTERM", Kind::StopSignal(s("SIGTERM"))),
        ("COPY a b /dest/", Kind::Copy(copy(&["a", "b"], "/dest/"))),
        ("COPY [\"my file\", \"/dest dir/\"]", Kind::Copy(copy(&["my file"], "/dest dir/"))),
        ("COPY \"a b\" c", Kind::Copy(copy(&["\"a", "b\""], "c"))),
        (
            "COPY --link --chown=1000:1000 --chmod=0755 app.sh /app/",
            Kind::Copy(CopyArgs { chown: Some(s("1000:1000")), chmod: Some(s("0755")), ..copy(&["app.sh"], "/app/") }),
        ),
        (
            "COPY --from=build /out/app /usr/bin/app",
            Kind::Copy(CopyArgs { from: Some(s("build")), ..copy(&["/out/app"], "/usr/bin/app") }),
        ),
        ("COPY --from=\"build stage\" a b", Kind::Copy(CopyArgs { from: Some(s("build stage")), ..copy(&["a"], "b") })),
        ("COPY --link=false a b", Kind::Copy(copy(&["a"], "b"))),
        ("COPY -- --weird b", Kind::Copy(copy(&["--weird"], "b"))),
        ("ADD https://example.com/x.tgz /tmp/", Kind::Add(copy(&["https://example.com/x.tgz"], "/tmp/"))),
        (
            "ADD --chown=app *.tar.gz /opt/",
            Kind::Add(CopyArgs { chown: Some(s("app")), ..copy(&["*.tar.gz"], "/opt/") }),
        ),
        ("HEALTHCHECK NONE", Kind::Healthcheck(None)),
        (
            "HEALTHCHECK CMD curl -f http://localhost/ || exit 1",
            Kind::Healthcheck(Some(Healthcheck {
                test: sv(&["CMD-SHELL", "curl -f http://localhost/ || exit 1"]),
                interval: None,
                timeout: None,
                start_period: None,
                retries: None,
            })),
        ),
        (
            "HEALTHCHECK --interval=30s --timeout=3s --start-period=1m30s --retries=3 cmd [\"/check\", \"-q\"]",
            Kind::Healthcheck(Some(Healthcheck {
                test: sv(&["CMD", "/check", "-q"]),
                interval: Some(s("30s")),
                timeout: Some(s("3s")),
                start_period: Some(s("1m30s")),
                retries: Some(3),
            })),
        ),
        (
            "HEALTHCHECK --interval=0s CMD true",
            Kind::Healthcheck(Some(Healthcheck {
                test: sv(&["CMD-SHELL", "true"]),
                interval: Some(s("0s")),
                timeout: None,
                start_period: None,
                retries: None,
            })),
        ),
    ];
    for (line, want) in cases {
        assert_eq!(kind(line), want, "parsing {line:?}");
    }
}

#[test]
fn originals_lines_and_continuations() {
    let text = "\
# leading comment
FROM busybox

ARG APP_VERSION=1.0
COPY app.sh .
RUN chmod +x app.sh && echo \"built version $APP_VERSION\" > build-info.txt
RUN apk add \\
    curl \\
# a comment inside the continuation
    git
  run echo indented   
ENV A=1 \\
  B=2
RUN echo a \\  
b
RUN echo \\

    after-empty
CMD [\"sh\", \\
  \"-c\", \"echo hi\"]
";
    let file = parse_ok(text);
    let got: Vec<(usize, &str)> = file.instructions.iter().map(|i| (i.line, i.original.as_str())).collect();
    assert_eq!(
        got,
        [
            (2, "FROM busybox"),
            (4, "ARG APP_VERSION=1.0"),
            (5, "COPY app.sh ."),
            (6, "RUN chmod +x app.sh && echo \"built version $APP_VERSION\" > build-info.txt"),
            (7, "RUN apk add     curl     git"),
            (11, "run echo indented"),
            (12, "ENV A=1   B=2"),
            (14, "RUN echo a b"),
            (16, "RUN echo     after-empty"),
            (19, "CMD [\"sh\",   \"-c\", \"echo hi\"]"),
        ]
    );
    assert_eq!(file.instructions[6].kind, Kind::Env(pairs(&[("A", "1"), ("B", "2")])));
    assert_eq!(file.instructions[9].kind, Kind::Cmd(exec(&["sh", "-c", "echo hi"])));
    assert_eq!(file.escape, '\\');
    assert_eq!(
        file.warnings,
        [
            "[WARNING]: Empty continuation line found in:\n    RUN echo     after-empty",
            "[WARNING]: Empty continuation lines will become errors in a future release.",
        ]
    );
}

#[test]
fn crlf_bom_and_trailing_continuation() {
    let file = parse_ok("\u{feff}FROM a\r\nRUN x \\\r\n  y\r\nRUN last \\");
    let got: Vec<&str> = file.instructions.iter().map(|i| i.original.as_str()).collect();
    assert_eq!(got, ["FROM a", "RUN x   y", "RUN last"]);
}

#[test]
fn empty_and_fromless_files_parse() {
    assert!(parse_ok("").instructions.is_empty());
    assert!(parse_ok("# only a comment\n\n").instructions.is_empty());
    let file = parse_ok("RUN echo before any FROM\nFROM x\n");
    assert_eq!(file.instructions.len(), 2);
}

#[test]
fn escape_directive() {
    let text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nCOPY testfile.txt c:\\\nRUN dir c:\\ `\n    && echo done\nENV P=c:\\dir\\`$X\n";
    let file = parse_ok(text);
    assert_eq!(file.escape, '`');
    let got: Vec<(usize, &str)> = file.instructions.iter().map(|i| (i.line, i.original.as_str())).collect();
    assert_eq!(
        got,
        [
            (2, "FROM mcr.microsoft.com/windows/servercore"),
            (3, "COPY testfile.txt c:\\"),
            (4, "RUN dir c:\\     && echo done"),
            (6, "ENV P=c:\\dir\\`$X"),
        ]
    );
    assert_eq!(file.instructions[1].kind, Kind::Copy(copy(&["testfile.txt"], "c:\\")));
    // With the default escape, a trailing `\` continues the line instead.
    let file = parse_ok("FROM x\nCOPY testfile.txt c:\\\nRUN dir c:\\\n");
    assert_eq!(file.instructions[1].original, "COPY testfile.txt c:RUN dir c:");

    // Spelling variations, syntax directive, and where directives stop being recognised.
    assert_eq!(parse_ok("#escape = `\nFROM x\n").escape, '`');
    assert_eq!(parse_ok("# ESCAPE=`\nFROM x\n").escape, '`');
    assert_eq!(parse_ok("# syntax=docker/dockerfile:1\n# escape=`\nFROM x\n").escape, '`');
    assert_eq!(parse_ok("# escape=\\\nFROM x\n").escape, '\\');
    assert_eq!(parse_ok("# comment\n# escape=`\nFROM x\n").escape, '\\');
    assert_eq!(parse_ok("\n# escape=`\nFROM x\n").escape, '\\');
    assert_eq!(parse_ok("# unknown=1\n# escape=`\nFROM x\n").escape, '\\');
    assert_eq!(parse_ok("FROM x\n# escape=`\n").escape, '\\');
    assert_eq!(err("# escape=x\nFROM x\n"), (1, s("invalid escape token 'x' does not match ` or \\")));
    assert_eq!(err("# escape=`\n# escape=`\nFROM x\n"), (2, s("only one escape parser directive can be used")));
    assert_eq!(err("# syntax=a\n# syntax=b\n"), (2, s("only one syntax parser directive can be used")));
}

#[test]
fn backtick_words() {
    let file = parse_ok("# escape=`\nFROM x\nENV A=`\"q`\" B=\"x`\"y\"\nLABEL a=b` c\n");
    assert_eq!(file.instructions[1].kind, Kind::Env(pairs(&[("A", "`\"q`\""), ("B", "\"x`\"y\"")])));
    assert_eq!(file.instructions[2].kind, Kind::Label(pairs(&[("a", "b` c")])));
}

#[test]
fn heredocs() {
    let text = "\
FROM busybox
RUN <<EOF
echo hello
# not a comment for Dockerfile purposes
RUNN not an instruction either
EOF
RUN <<-EOT bash
\techo tabbed
\t\tEOT-not-yet
\tEOT
RUN <<'EOF' cat > /x && <<\"E2\" cat > /y
$HOME stays
EOF
${HOME} too
E2
COPY <<EOF /etc/config
key=$VALUE
EOF
COPY --chmod=0644 <<A <<B /dest/
content a
A
content b
B
RUN cat <<EOF > /out.txt && echo done
line
EOF
RUN python3 <<  PY
print('x')
PY
RUN echo end
";
    let file = parse_ok(text);
    let kinds: Vec<&Kind> = file.instructions.iter().map(|i| &i.kind).collect();
    let lines: Vec<usize> = file.instructions.iter().map(|i| i.line).collect();
    assert_eq!(lines, [1, 2, 7, 11, 16, 19, 24, 27, 30]);
    assert_eq!(file.instructions[1].original, "RUN <<EOF");
    assert_eq!(
        *kinds[1],
        Kind::Run {
            command: shell("<<EOF"),
            heredocs: vec![heredoc(
                "EOF",
                "echo hello\n# not a comment for Dockerfile purposes\nRUNN not an instruction either\n",
                true,
                false
            )],
        }
    );
    assert_eq!(
        *kinds[2],
        Kind::Run {
            command: shell("<<-EOT bash"),
            heredocs: vec![heredoc("EOT", "echo tabbed\nEOT-not-yet\n", true, true)]
        }
    );
    assert_eq!(
        *kinds[3],
        Kind::Run {
            command: shell("<<'EOF' cat > /x && <<\"E2\" cat > /y"),
            heredocs: vec![heredoc("EOF", "$HOME stays\n", false, false), heredoc("E2", "${HOME} too\n", false, false)],
        }
    );
    assert_eq!(
        *kinds[4],
        Kind::Copy(CopyArgs {
            heredocs: vec![heredoc("EOF", "key=$VALUE\n", true, false)],
            ..copy(&[], "/etc/config")
        })
    );
    assert_eq!(
        *kinds[5],
        Kind::Copy(CopyArgs {
            chmod: Some(s("0644")),
            heredocs: vec![heredoc("A", "content a\n", true, false), heredoc("B", "content b\n", true, false)],
            ..copy(&[], "/dest/")
        })
    );
    assert_eq!(
        *kinds[6],
        Kind::Run {
            command: shell("cat <<EOF > /out.txt && echo done"),
            heredocs: vec![heredoc("EOF", "line\n", true, false)]
        }
    );
    assert_eq!(
        *kinds[7],
        Kind::Run { command: shell("python3 <<  PY"), heredocs: vec![heredoc("PY", "print('x')\n", true, false)] }
    );
    assert_eq!(file.instructions[8].original, "RUN echo end");
}

#[test]
fn heredoc_names_like_buildkit() {
    // (marker, delimiter line, name, expand)
    let cases = [
        ("<<EOF", "EOF", "EOF", true),
        ("3<<EOF", "EOF", "EOF", true),
        ("<<eo'f'", "eof", "eof", false),
        ("<<eo\\'f", "eo'f", "eo'f", true),
        ("<<'e'o\\'f", "eo'f", "eo'f", false),
        ("<<'one two'", "one two", "one two", false),
        ("<<$EOF", "$EOF", "$EOF", true),
        ("<<file.txt", "file.txt", "file.txt", true),
        ("<< -EOF", "-EOF", "-EOF", true),
    ];
    for (marker, end, name, expand) in cases {
        let text = format!("RUN {marker}\nbody\n{end}\nRUN next\n");
        let file = parse_ok(&text);
        assert_eq!(file.instructions.len(), 2, "{text:?}");
        assert_eq!(
            file.instructions[0].kind,
            Kind::Run { command: shell(marker), heredocs: vec![heredoc(name, "body\n", expand, false)] },
            "{text:?}"
        );
    }
    // Not heredocs: quoted markers, `<<<`, JSON form, instructions that take none.
    for line in
        ["RUN echo \"<<EOF\"", "RUN echo '<<EOF'", "RUN cat <<<EOF", "RUN [\"<<EOF\"]", "COPY [\"<<EOF\", \"/x\"]"]
    {
        let file = parse_ok(&format!("{line}\nRUN after\n"));
        assert_eq!(file.instructions.len(), 2, "{line:?}");
    }
    assert_eq!(err("FROM x\nUSER <<EOF\nEOF\n"), (3, s("unknown instruction: EOF")));
}

#[test]
fn heredoc_errors() {
    assert_eq!(err("FROM x\nRUN <<EOF\necho hi\n"), (2, s("unterminated heredoc")));
    assert_eq!(err("FROM x\nRUN <<A <<B\na\nA\nb\n"), (2, s("unterminated heredoc")));
    assert_eq!(err("FROM x\nCOPY a <<EOF\nEOF\n"), (2, s("COPY cannot accept a heredoc as a destination")));
    // A line that does not lex (unclosed quote) announces no heredoc, as in BuildKit.
    assert_eq!(err("FROM x\nRUN <<'EOF\nEOF\n"), (3, s("unknown instruction: EOF")));
    // A malformed marker in COPY is just a source path.
    assert_eq!(kind("COPY <<'EOF /x"), Kind::Copy(copy(&["<<'EOF"], "/x")));
}

#[test]
fn onbuild() {
    let file = parse_ok("FROM x\nONBUILD RUN echo hi\nonbuild  COPY --from=b a /b\nONBUILD ADD <<EOF /f\nbody\nEOF\n");
    let triggers: Vec<&Instruction> = file
        .instructions
        .iter()
        .filter_map(|i| match &i.kind {
            Kind::Onbuild(t) => Some(&**t),
            _ => None,
        })
        .collect();
    assert_eq!(triggers.len(), 3);
    assert_eq!(file.instructions[1].original, "ONBUILD RUN echo hi");
    assert_eq!((triggers[0].line, triggers[0].original.as_str()), (2, "RUN echo hi"));
    assert_eq!(triggers[0].kind, Kind::Run { command: shell("echo hi"), heredocs: vec![] });
    assert_eq!(triggers[1].original, "COPY --from=b a /b");
    assert_eq!(triggers[1].kind, Kind::Copy(CopyArgs { from: Some(s("b")), ..copy(&["a"], "/b") }));
    assert_eq!(triggers[2].original, "ADD <<EOF /f\nbody\nEOF");
    assert_eq!(
        triggers[2].kind,
        Kind::Add(CopyArgs { heredocs: vec![heredoc("EOF", "body\n", true, false)], ..copy(&[], "/f") })
    );
    // The stored trigger text parses back to the same instruction.
    assert_eq!(parse_ok(&triggers[2].original).instructions[0].kind, triggers[2].kind);
}

#[test]
fn errors_with_lines() {
    let cases: &[(&str, usize, &str)] = &[
        ("FROM busybox\nRUNN echo hi\n", 2, "unknown instruction: RUNN"),
        ("FROM busybox\n\n# c\ncopyy a b\n", 4, "unknown instruction: COPYY"),
        ("FROM a\nRUN x \\\n  y\nBAD \\\n z\n", 4, "unknown instruction: BAD"),
        ("FROM\n", 1, "FROM requires either one or three arguments"),
        ("FROM a b\n", 1, "FROM requires either one or three arguments"),
        ("FROM a AS b c\n", 1, "FROM requires either one or three arguments"),
        (
            "FROM a AS 1st\n",
            1,
            "invalid name for build stage: \"1st\", name can't start with a number or contain symbols",
        ),
        (
            "FROM a AS b@c\n",
            1,
            "invalid name for build stage: \"b@c\", name can't start with a number or contain symbols",
        ),
        ("FROM --foo=bar a\n", 1, "Unknown flag: foo"),
        ("FROM --platform a\n", 1, "Missing a value on flag: platform"),
        ("FROM x\nENV\n", 2, "ENV requires at least one argument"),
        ("FROM x\nENV =x\n", 2, "ENV names can not be blank"),
        ("FROM x\nENV A=1 =x\n", 2, "ENV names can not be blank"),
        ("FROM x\nENV ONLYNAME\n", 2, "ENV must have two arguments"),
        ("FROM x\nENV A=1 B\n", 2, "Syntax error - can't find = in \"B\". Must be of the form: name=value"),
        ("FROM x\nLABEL a=1 X\n", 2, "Syntax error - can't find = in \"X\". Must be of the form: name=value"),
        ("FROM x\nLABEL\n", 2, "LABEL requires at least one argument"),
        ("FROM x\nLABEL =v\n", 2, "LABEL names can not be blank"),
        ("ARG\n", 1, "ARG requires exactly one argument"),
        ("ARG =x\n", 1, "ARG names can not be blank"),
        (
            "FROM x\nCOPY a\n",
            2,
            "COPY requires at least two arguments, but only one was provided. Destination could not be determined.",
        ),
        (
            "FROM x\nADD\n",
            2,
            "ADD requires at least two arguments, but only one was provided. Destination could not be determined.",
        ),
        (
            "FROM x\nCOPY [\"a\"]\n",
            2,
            "COPY requires at least two arguments, but only one was provided. Destination could not be determined.",
        ),
        ("FROM x\nCOPY --foo=bar a b\n", 2, "Unknown flag: foo"),
        ("FROM x\nADD --from=b a b\n", 2, "Unknown flag: from"),
        ("FROM x\nCOPY --from a b\n", 2, "Missing a value on flag: from"),
        ("FROM x\nCOPY --from=a --from=b a b\n", 2, "Duplicate flag specified: from"),
        ("FROM x\nCOPY --link=maybe a b\n", 2, "Expecting boolean value for flag link, not: maybe"),
        ("FROM x\nRUN --foo echo\n", 2, "Unknown flag: foo"),
        ("FROM x\nCMD --x=1 echo\n", 2, "Unknown flag: x"),
        ("FROM x\nENV --x=1 A=b\n", 2, "Unknown flag: x"),
        ("FROM x\nCMD [1, 2]\n", 2, "when using JSON array syntax, arrays must be comprised of strings only"),
        ("FROM x\nRUN [\"a\", null]\n", 2, "when using JSON array syntax, arrays must be comprised of strings only"),
        ("FROM x\nONBUILD ONBUILD RUN x\n", 2, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        ("FROM x\nONBUILD FROM y\n", 2, "FROM isn't allowed as an ONBUILD trigger"),
        ("FROM x\nONBUILD maintainer me\n", 2, "MAINTAINER isn't allowed as an ONBUILD trigger"),
        ("FROM x\nONBUILD\n", 2, "ONBUILD requires at least one argument"),
        ("FROM x\nONBUILD RUNN x\n", 2, "unknown instruction: RUNN"),
        ("FROM x\nMAINTAINER\n", 2, "MAINTAINER requires exactly one argument"),
        ("FROM x\nWORKDIR\n", 2, "WORKDIR requires exactly one argument"),
        ("FROM x\nUSER\n", 2, "USER requires exactly one argument"),
        ("FROM x\nSTOPSIGNAL\n", 2, "STOPSIGNAL requires exactly one argument"),
        ("FROM x\nEXPOSE\n", 2, "EXPOSE requires at least one argument"),
        ("FROM x\nVOLUME\n", 2, "VOLUME requires at least one argument"),
        ("FROM x\nVOLUME [\"/a\", \" \"]\n", 2, "VOLUME specified can not be an empty string"),
        ("FROM x\nSHELL\n", 2, "SHELL requires at least one argument"),
        ("FROM x\nSHELL []\n", 2, "SHELL requires at least one argument"),
        ("FROM x\nSHELL /bin/sh -c\n", 2, "SHELL requires the arguments to be in JSON form"),
        ("FROM x\nHEALTHCHECK\n", 2, "HEALTHCHECK requires at least one argument"),
        ("FROM x\nHEALTHCHECK NONE x\n", 2, "HEALTHCHECK NONE takes no arguments"),
        ("FROM x\nHEALTHCHECK CMD\n", 2, "Missing command after HEALTHCHECK CMD"),
        ("FROM x\nHEALTHCHECK CMD []\n", 2, "Missing command after HEALTHCHECK CMD"),
        ("FROM x\nHEALTHCHECK RUN x\n", 2, "Unknown type \"RUN\" in HEALTHCHECK (try CMD)"),
        ("FROM x\nHEALTHCHECK --foo=1 CMD x\n", 2, "Unknown flag: foo"),
        ("FROM x\nHEALTHCHECK --interval=abc CMD x\n", 2, "time: invalid duration \"abc\""),
        ("FROM x\nHEALTHCHECK --interval=5 CMD x\n", 2, "time: missing unit in duration \"5\""),
        ("FROM x\nHEALTHCHECK --timeout=5x CMD x\n", 2, "time: unknown unit \"x\" in duration \"5x\""),
        ("FROM x\nHEALTHCHECK --timeout=10us CMD x\n", 2, "Interval \"timeout\" cannot be less than 1ms"),
        ("FROM x\nHEALTHCHECK --start-period=-1s CMD x\n", 2, "Interval \"start-period\" cannot be less than 1ms"),
        ("FROM x\nHEALTHCHECK --retries=0 CMD x\n", 2, "--retries must be at least 1 (not 0)"),
        ("FROM x\nHEALTHCHECK --retries=-2 CMD x\n", 2, "--retries must be at least 1 (not -2)"),
        ("FROM x\nHEALTHCHECK --retries=abc CMD x\n", 2, "strconv.ParseInt: parsing \"abc\": invalid syntax"),
        (
            "FROM x\nHEALTHCHECK --retries=99999999999 CMD x\n",
            2,
            "strconv.ParseInt: parsing \"99999999999\": value out of range",
        ),
    ];
    for (text, line, message) in cases {
        assert_eq!(err(text), (*line, s(message)), "parsing {text:?}");
    }
}

#[test]
fn lenient_like_docker() {
    // Flags Docker does not check, and forms it accepts.
    assert_eq!(kind("STOPSIGNAL --x=1 9"), Kind::StopSignal(s("9")));
    assert_eq!(kind("HEALTHCHECK --interval=1s NONE"), Kind::Healthcheck(None));
    assert_eq!(kind("HEALTHCHECK NONE []"), Kind::Healthcheck(None));
    assert_eq!(kind("ENV A=\"unterminated"), Kind::Env(pairs(&[("A", "\"unterminated")])));
}

#[test]
fn error_display() {
    let e = parse("FROM busybox\nRUNN echo hi\n").unwrap_err();
    assert_eq!(e.to_string(), "Dockerfile:2: unknown instruction: RUNN");
    assert_eq!(e.display_with("docker/Dockerfile.dev"), "docker/Dockerfile.dev:2: unknown instruction: RUNN");
}

#[test]
fn flag_extraction() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("--a=1 --b rest of line", &["--a=1", "--b"], "rest of line"),
        ("--a=\"x y\" z", &["--a=x y"], "z"),
        ("--a='x y' z", &["--a=x y"], "z"),
        ("--a=x\\ y z", &["--a=x y"], "z"),
        ("-- --b c", &[], "--b c"),
        ("-a b", &[], "-a b"),
        ("--only", &["--only"], ""),
        ("plain", &[], "plain"),
    ];
    for (line, flags, rest) in cases {
        let (got_rest, got_flags) = extract_flags(line);
        assert_eq!((got_rest.trim(), got_flags), (*rest, sv(flags)), "{line:?}");
    }
}

#[test]
fn words_like_buildkit() {
    let cases: &[(&str, &[&str])] = &[
        ("a b", &["a", "b"]),
        ("a=\"x y\" b='p q'", &["a=\"x y\"", "b='p q'"]),
        ("a\\ b c", &["a\\ b", "c"]),
        ("\"\"", &["\"\""]),
        ("'it''s'", &["'it''s'"]),
        ("\"a \\\" b\"", &["\"a \\\" b\""]),
        ("'a \\' b", &["'a \\'", "b"]),
        ("end\\", &["end"]),
        ("  ", &[]),
    ];
    for (text, want) in cases {
        assert_eq!(parse_words(text, '\\'), sv(want), "{text:?}");
    }
}

#[test]
fn go_durations() {
    let cases: &[(&str, i64)] = &[
        ("0", 0),
        ("0s", 0),
        ("1ns", 1),
        ("1.5s", 1_500_000_000),
        ("1m30s", 90_000_000_000),
        ("2h45m", 9_900_000_000_000),
        ("-1.5h", -5_400_000_000_000),
        ("+5ms", 5_000_000),
        ("10µs", 10_000),
        ("10us", 10_000),
        (".5s", 500_000_000),
        ("1.s", 1_000_000_000),
    ];
    for (text, want) in cases {
        assert_eq!(go_duration_nanos(text), Ok(*want), "{text:?}");
    }
    for bad in ["", "-", "s", ".s", "1", "1.5", "1sm", "1d", "3000000h"] {
        assert!(go_duration_nanos(bad).is_err(), "{bad:?}");
    }
}
