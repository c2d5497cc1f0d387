//! End-to-end tests of the shell on the host: scripts run with a fake process table.

use crate::exec::{Ctl, Shell, Sys};
use crate::io::{Fds, Io};
use skiff_guest::Stdio;
use std::cell::RefCell;
use std::rc::Rc;

type Log = Rc<RefCell<Vec<(Vec<String>, [Stdio; 3])>>>;

/// Programs "exist" unless their name starts with `nope`; `fail` exits 1; handles count up.
struct Fake {
    log: Log,
    next: i32,
}

impl Sys for Fake {
    fn spawn(&mut self, argv: &[String], _env: &[String], _cwd: &str, stdio: [Stdio; 3]) -> std::io::Result<i32> {
        if argv[0].starts_with("nope") {
            return Err(std::io::Error::from_raw_os_error(skiff_guest::errno::ENOENT));
        }
        self.log.borrow_mut().push((argv.to_vec(), stdio));
        self.next += 1;
        Ok(if argv[0] == "fail" { 1000 + self.next } else { self.next })
    }
    fn wait(&mut self, pid: i32) -> std::io::Result<i32> {
        Ok(if pid > 1000 { 1 } else { 0 })
    }
    fn pipe(&mut self) -> std::io::Result<(i32, i32)> {
        self.next += 2;
        Ok((self.next - 1, self.next))
    }
}

fn run(src: &str) -> (String, String, i32, Log) {
    let log: Log = Default::default();
    let mut sh = Shell::new(Box::new(Fake { log: log.clone(), next: 100 }));
    sh.st.vars.remove("IFS");
    let _ = sh.set_var("IFS", " \t\n".into());
    let _ = sh.set_var("HOME", "/root".into());
    let (o, ob) = Io::mem();
    let (e, eb) = Io::mem();
    let mut fds = Fds::std();
    fds.0[0] = Io::Null;
    fds.0[1] = o;
    fds.0[2] = e;
    sh.base = fds.clone();
    let s = match sh.run_text(src, &fds, true) {
        Ok(s) | Err(Ctl::Exit(s)) | Err(Ctl::Return(s)) => s,
        Err(_) => -1,
    };
    let out = String::from_utf8_lossy(&ob.borrow().data).into_owned();
    let err = String::from_utf8_lossy(&eb.borrow().data).into_owned();
    (out, err, s, log)
}

#[test]
fn scripts() {
    let cases: &[(&str, &str, i32)] = &[
        ("echo hello world", "hello world\n", 0),
        ("echo -n a; echo b", "ab\n", 0),
        ("echo -e 'a\\tb'; echo 'a\\tb'", "a\tb\na\\tb\n", 0),
        ("A=1; B=\"$A 2\"; echo \"$B\" ${B}", "1 2 1 2\n", 0),
        ("x='a  b'; echo $x; echo \"$x\"", "a b\na  b\n", 0),
        ("true && echo y || echo n; false && echo y || echo n", "y\nn\n", 0),
        ("false; echo $?; true; echo $?", "1\n0\n", 0),
        ("if false; then echo a; elif true; then echo b; else echo c; fi", "b\n", 0),
        ("for i in 1 2 3; do echo $i; done", "1\n2\n3\n", 0),
        ("for i in a b c; do [ $i = b ] && continue; echo $i; done", "a\nc\n", 0),
        ("i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo $i", "3\n", 0),
        ("i=0; until [ $i -ge 2 ]; do i=$((i+1)); echo $i; done", "1\n2\n", 0),
        ("for i in 1 2; do for j in a b; do echo $i$j; break 2; done; done", "1a\n", 0),
        ("case abc in a*) echo A;; *) echo B;; esac", "A\n", 0),
        ("case x.tar.gz in *.zip|*.gz) echo gz;; esac", "gz\n", 0),
        ("case '*' in \\*) echo star;; esac", "star\n", 0),
        ("f() { echo \"f:$1:$#\"; return 3; }; f a b; echo $?", "f:a:2\n3\n", 0),
        ("f() { local x=in; echo $x; }; x=out; f; echo $x", "in\nout\n", 0),
        ("{ echo a; echo b; }", "a\nb\n", 0),
        ("x=1; (x=2; echo $x); echo $x", "2\n1\n", 0),
        ("(exit 3); echo $?", "3\n", 0),
        ("echo $(echo inner) \"$(echo a; echo b)\"", "inner a\nb\n", 0),
        ("x=$(printf 'a\\n\\n\\n'); echo \"[$x]\"", "[a]\n", 0),
        ("echo `echo back`", "back\n", 0),
        ("x=$(exit 4); echo $?", "4\n", 0),
        ("printf '%s-%d-%x-%o-%c-%%\\n' s 42 255 8 cat", "s-42-ff-10-c-%\n", 0),
        ("printf '%s\\n' a b c", "a\nb\nc\n", 0),
        ("printf '%5s|%-5s|%05d\\n' ab cd 42", "   ab|cd   |00042\n", 0),
        ("set -- a 'b c' d; echo $#; for x in \"$@\"; do echo \"<$x>\"; done", "3\n<a>\n<b c>\n<d>\n", 0),
        ("set -- a b c; shift; echo \"$*\"; shift 2; echo $#", "b c\n0\n", 0),
        ("echo ${U:-def} ${U:=set} $U ${U:+alt}", "def set set alt\n", 0),
        ("v=/usr/lib/x.so.1; echo ${v##*/} ${v%/*} ${#v}", "x.so.1 /usr/lib 15\n", 0),
        ("echo $((2+3*4)) $(( (2+3)*4 )) $((10/3)) $((10%3)) $((3>2))", "14 20 3 1 1\n", 0),
        ("! true; echo $?; ! false; echo $?", "1\n0\n", 0),
        ("test -d / && echo dir; [ -f / ] || echo notfile", "dir\nnotfile\n", 0),
        ("[ a = a -a 1 -lt 2 ]; echo $?; [ 1 -gt 2 ]; echo $?", "0\n1\n", 0),
        ("read a b <<EOF\none two three\nEOF\necho \"$a|$b\"", "one|two three\n", 0),
        ("cat_like() { while read -r l; do echo \"<$l>\"; done; }; cat_like <<EOF\nx\ny\nEOF", "<x>\n<y>\n", 0),
        ("x=hi; cat_h() { read l; echo $l; }; cat_h <<EOF\n$x there\nEOF", "hi there\n", 0),
        ("cat_h() { read l; echo $l; }; cat_h <<'EOF'\n$x there\nEOF", "$x there\n", 0),
        ("f() { read l; echo \"$l\"; }; f <<-EOF\n\t\tindented\n\tEOF", "indented\n", 0),
        ("eval 'echo a; echo b'", "a\nb\n", 0),
        ("cmd='echo evaluated'; eval $cmd", "evaluated\n", 0),
        ("export X=1; export -p | grep -q X; echo ok", "ok\n", 0),
        ("A=1 B=2; echo $A$B", "12\n", 0),
        ("type echo; command -v echo", "echo is a shell builtin\necho\n", 0),
        ("exit 5; echo no", "", 5),
        ("set -e; false; echo no", "", 1),
        ("set -e; false || true; if false; then :; fi; echo yes", "yes\n", 0),
        ("set -e; f() { false; echo inner; }; f && echo x; echo done", "inner\nx\ndone\n", 0),
        ("echo a # comment\necho b", "a\nb\n", 0),
        ("echo a\\\nb", "ab\n", 0),
        ("x=5; echo $((x*2)) $((x+=1)) $x", "10 6 6\n", 0),
        ("echo \"${x:-a b}\" '${x}'", "a b ${x}\n", 0),
        ("IFS=:; x=a:b:c; for i in $x; do echo $i; done", "a\nb\nc\n", 0),
        ("echo ~ ~/x \"~\"", "/root /root/x ~\n", 0),
        ("echo $((1/0))", "", 1),
        ("unset x; echo ${x-unset}; x=; echo ${x-unset}.", "unset\n.\n", 0),
        ("echo one >&2; echo two 2>&1", "two\n", 0),
        ("f() { echo \"$0\"; }; f", "sh\n", 0),
        ("printf '%s,' a b; echo", "a,b,\n", 0),
        ("echo $(( $(echo 3) + 4 ))", "7\n", 0),
        ("x=1; f() { x=2; }; f; echo $x", "2\n", 0),
        ("while true; do echo once; break; done", "once\n", 0),
        ("echo a | { read x; echo got $x; }", "got a\n", 0),
        ("echo ${#}; set -- 1 2; echo ${#} ${2}", "0\n2 2\n", 0),
        ("a=hello; echo ${a/l/L} ${a//l/L} ${a:1:3}", "heLlo heLLo ell\n", 0),
        ("trap 'echo bye' EXIT; echo hi", "hi\n", 0),
        ("echo \"a\"'b'c\\ d", "abc d\n", 0),
        ("echo \"$(echo \"nested quotes\")\"", "nested quotes\n", 0),
        ("echo $(echo $(echo deep))", "deep\n", 0),
        ("let 'x=2*3'; echo $x", "6\n", 0),
        ("getopts ab: o -b val; echo $o $OPTARG", "b val\n", 0),
        ("printf '%.2f %f %5.1f %.0f\n' 3.14159 2 -0.25 2.5", "3.14 2.000000  -0.3 3\n", 0),
        ("printf '%.2f\n' 9.999", "10.00\n", 0),
    ];
    for (src, want, status) in cases {
        let (out, err, s, _) = run(src);
        assert_eq!((out.as_str(), s), (*want, *status), "script: {src}\nstderr: {err}");
    }
}

#[test]
fn errors() {
    let cases: &[(&str, &str, i32)] = &[
        ("fi", "sh: syntax error: unexpected \"fi\"\n", 2),
        ("if true; then echo x", "sh: syntax error: unexpected end of file\n", 2),
        ("cd /nope", "sh: cd: can't cd to /nope: No such file or directory\n", 1),
        ("read x < /nonexistent/x", "sh: can't open '/nonexistent/x': No such file or directory\n", 1),
        ("nope-cmd arg", "sh: nope-cmd: not found\n", 127),
        ("echo ${x?is unset}", "sh: x: is unset\n", 1),
        ("[ a", "sh: [: missing ]\n", 2),
        ("echo hi > /nonexistent/dir/f", "sh: can't create /nonexistent/dir/f: No such file or directory\n", 1),
    ];
    for (src, want, status) in cases {
        let (_, err, s, _) = run(src);
        assert_eq!((err.as_str(), s), (*want, *status), "script: {src}");
    }
}

#[test]
fn spawning() {
    let (_, _, s, log) = run("ls -l /tmp");
    assert_eq!(s, 0);
    let l = log.borrow();
    assert_eq!(l[0].0, vec!["ls", "-l", "/tmp"]);
    // Our stdout is an in-memory buffer here, so the child writes into a pump pipe.
    assert!(matches!(l[0].1[1], Stdio::Pipe(_)));
    assert!(matches!(l[0].1[2], Stdio::Pipe(_)));
    assert_eq!(l[0].1[0], Stdio::Null);
    drop(l);

    let (_, _, s, log) = run("fail; echo $?");
    assert_eq!(s, 0);
    assert_eq!(log.borrow().len(), 1);

    let (_, _, _, log) = run("a | b | c");
    let l = log.borrow();
    assert_eq!(l.len(), 3);
    assert!(matches!(l[0].1[1], Stdio::Pipe(_)) && matches!(l[1].1[0], Stdio::Pipe(_)));
    drop(l);

    let (_, _, _, log) = run("X=1 env >/dev/null 2>&1 </dev/null");
    let l = log.borrow();
    assert_eq!(l[0].1, [Stdio::Null, Stdio::Null, Stdio::Null]);
    drop(l);

    let d = std::env::temp_dir().join(format!("shspawn{}", std::process::id()));
    let f = format!("{}", d.display());
    let (_, _, _, log) = run(&format!("ls >{f} 2>&1; ls 2>>{f} <{f}; echo x >>{f}; cat {f}"));
    let l = log.borrow();
    assert_eq!(l[0].1[1], Stdio::File { mode: "a", path: f.clone() });
    assert_eq!(l[0].1[2], Stdio::Dup(1));
    assert_eq!(l[1].1[0], Stdio::File { mode: "r", path: f.clone() });
    assert_eq!(l[1].1[2], Stdio::File { mode: "a", path: f.clone() });
    assert_eq!(std::fs::read_to_string(&d).unwrap(), "x\n");
    std::fs::remove_file(&d).unwrap();
    drop(l);

    // A compound stage that is not the last one runs in a child shell with our functions.
    let (_, _, _, log) = run("f() { echo hi; }; x=1; a | { f; } | wc -l | while read n; do echo $n; done");
    let l = log.borrow();
    assert_eq!(l[0].0, vec!["a"]);
    assert_eq!(l[1].0[0], "/bin/sh");
    assert!(l[1].0[2].contains("f() { echo hi; }") && l[1].0[2].contains("x=1"), "{}", l[1].0[2]);
    assert_eq!(l[2].0, vec!["wc", "-l"]);
    drop(l);

    // Leading builtins run in this shell into memory: only grep is spawned.
    let (_, _, _, log) = run("echo hi | grep h");
    assert_eq!(log.borrow().len(), 1);
    assert_eq!(log.borrow()[0].0, vec!["grep", "h"]);
    assert!(matches!(log.borrow()[0].1[0], Stdio::Pipe(_)));

    let (_, _, s, log) = run("sleep 1 & echo $!; wait");
    assert_eq!(s, 0);
    assert_eq!(log.borrow()[0].1[0], Stdio::Null);
}
