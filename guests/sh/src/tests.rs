//! End-to-end tests of the shell on the host: scripts run with a fake process table.

use crate::exec::{Ctl, Shell, Sys};
use crate::io::{Fds, Io};
use crate::signals::Mode;
use skiff_guest::proc::{Action, TtyMode};
use skiff_guest::Stdio;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

type Log = Rc<RefCell<Vec<(Vec<String>, [Stdio; 3])>>>;

/// The host side of signals, as `docs/guest-abi.md` describes it: dispositions, caught
/// signals pending until `sig_take`, `wait` returning EINTR while one is pending.
#[derive(Default)]
struct Sim {
    disp: HashMap<i32, Action>,
    pending: Vec<i32>,
    kills: Vec<(i32, i32)>,
    /// Signals the shell receives while it waits for a child, by the child's PID.
    during_wait: HashMap<i32, Vec<i32>>,
    status: HashMap<i32, i32>,
    tty: Vec<TtyMode>,
    states: Vec<(i32, char)>,
}

impl Sim {
    /// A signal reaches the shell: caught ones become pending (true), others are dropped
    /// here (the default action of a test shell is not to die).
    fn deliver(&mut self, sig: i32) -> bool {
        if self.disp.get(&sig) == Some(&Action::Catch) {
            if !self.pending.contains(&sig) {
                self.pending.push(sig);
            }
            return true;
        }
        false
    }
}

/// Programs "exist" unless their name starts with `nope`; `fail` exits 1; handles count up.
/// `status N` exits N; `recv SIG [N]`: the shell gets SIG while it waits for it.
struct Fake {
    log: Log,
    next: i32,
    sim: Rc<RefCell<Sim>>,
}

const SHELL_PID: i32 = 42;

impl Sys for Fake {
    fn spawn(&mut self, argv: &[String], _env: &[String], _cwd: &str, stdio: [Stdio; 3]) -> std::io::Result<i32> {
        if argv[0].starts_with("nope") {
            return Err(std::io::Error::from_raw_os_error(skiff_guest::errno::ENOENT));
        }
        self.log.borrow_mut().push((argv.to_vec(), stdio));
        self.next += 1;
        let pid = if argv[0] == "fail" { 1000 + self.next } else { self.next };
        let mut sim = self.sim.borrow_mut();
        match argv[0].as_str() {
            "status" => {
                sim.status.insert(pid, argv[1].parse().unwrap());
            }
            "recv" => {
                let sigs = argv[1].split(',').map(|s| crate::signals::parse(s).unwrap()).collect();
                sim.during_wait.insert(pid, sigs);
                if let Some(n) = argv.get(2) {
                    sim.status.insert(pid, n.parse().unwrap());
                }
            }
            _ => {}
        }
        Ok(pid)
    }
    fn wait(&mut self, pid: i32) -> std::io::Result<i32> {
        let mut sim = self.sim.borrow_mut();
        if !sim.pending.is_empty() {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        while let Some(sig) = sim.during_wait.get_mut(&pid).and_then(|v| (!v.is_empty()).then(|| v.remove(0))) {
            if sim.deliver(sig) {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
        }
        Ok(sim.status.get(&pid).copied().unwrap_or(if pid > 1000 { 1 } else { 0 }))
    }
    fn pipe(&mut self) -> std::io::Result<(i32, i32)> {
        self.next += 2;
        Ok((self.next - 1, self.next))
    }
    fn kill(&mut self, pid: i32, sig: i32) -> std::io::Result<()> {
        let mut sim = self.sim.borrow_mut();
        if pid == 99 {
            return Err(std::io::Error::from_raw_os_error(skiff_guest::proc::errno::ESRCH));
        }
        sim.kills.push((pid, sig));
        if pid == SHELL_PID {
            sim.deliver(sig);
        }
        Ok(())
    }
    fn sig_action(&mut self, sig: i32, action: Action) -> std::io::Result<Action> {
        let mut sim = self.sim.borrow_mut();
        Ok(sim.disp.insert(sig, action).unwrap_or(Action::Default))
    }
    fn sig_take(&mut self) -> Option<i32> {
        let mut sim = self.sim.borrow_mut();
        sim.pending.sort();
        (!sim.pending.is_empty()).then(|| sim.pending.remove(0))
    }
    fn getpid(&mut self) -> i32 {
        SHELL_PID
    }
    fn getppid(&mut self) -> i32 {
        7
    }
    fn tty_mode(&mut self, _fd: i32, mode: TtyMode) -> std::io::Result<TtyMode> {
        self.sim.borrow_mut().tty.push(mode);
        Err(std::io::Error::from_raw_os_error(skiff_guest::proc::errno::ENOTTY))
    }
    fn proc_states(&mut self) -> std::io::Result<Vec<(i32, char)>> {
        Ok(self.sim.borrow().states.clone())
    }
}

/// What a script did: stdout, stderr, the shell's exit status (EXIT trap run), the spawn
/// log and the host's view of signals.
struct Ran {
    out: String,
    err: String,
    status: i32,
    log: Log,
    sim: Rc<RefCell<Sim>>,
}

fn run(src: &str) -> (String, String, i32, Log) {
    let r = run_as(src, Mode::default());
    (r.out, r.err, r.status, r.log)
}

/// Run `src` as `sh -c` would (Mode: interactive, catching INT), then exit as the shell does.
fn run_as(src: &str, mode: Mode) -> Ran {
    let log: Log = Default::default();
    let sim: Rc<RefCell<Sim>> = Default::default();
    let mut sh = Shell::new(Box::new(Fake { log: log.clone(), next: 100, sim: sim.clone() }));
    sh.st.vars.remove("IFS");
    let _ = sh.set_var("IFS", " \t\n".into());
    let _ = sh.set_var("HOME", "/root".into());
    sh.st.interactive = mode.interactive;
    sh.sig.mode = mode;
    sh.sync_signals();
    let (o, ob) = Io::mem();
    let (e, eb) = Io::mem();
    let mut fds = Fds::std();
    fds.0[0] = Io::Null;
    fds.0[1] = o;
    fds.0[2] = e;
    sh.base = fds.clone();
    let s = match sh.run_text(src, &fds, true) {
        Ok(s) | Err(Ctl::Exit(s)) | Err(Ctl::Return(s)) => s,
        Err(Ctl::Interrupt) => 130,
        Err(_) => -1,
    };
    let status = sh.exit_status(s);
    let out = String::from_utf8_lossy(&ob.borrow().data).into_owned();
    let err = String::from_utf8_lossy(&eb.borrow().data).into_owned();
    Ran { out, err, status, log, sim }
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
        ("trap 'echo bye' EXIT; echo hi", "hi\nbye\n", 0),
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

#[test]
fn traps() {
    let cases: &[(&str, &str, i32)] = &[
        // A trap runs at the next safe point: right after `kill` sent the signal to us.
        ("trap 'echo got USR1' USR1; kill -USR1 $$; echo after", "got USR1\nafter\n", 0),
        ("trap 'echo got' SIGUSR2; kill -s usr2 $$; kill -12 $$", "got\ngot\n", 0),
        // $? inside a trap is the status before it, and is put back after.
        ("trap 'echo in $?; false' USR1; status 3; kill -USR1 $$ || :; echo out $?", "in 0\nout 0\n", 0),
        ("trap 'echo in $?' USR1; recv USR1 5; echo out $?", "in 5\nout 5\n", 0),
        // A foreground child: the shell takes the signal when wait says EINTR, waits on,
        // and runs the trap once the child is done (as ash).
        ("trap 'echo trapped' TERM; recv TERM 143; echo status $?", "trapped\nstatus 143\n", 0),
        ("trap 'echo a' USR1; trap 'echo b' USR2; recv USR2,USR1; echo done", "a\nb\ndone\n", 0),
        // `exit` in a trap ends the shell; with no number, with the status from before.
        ("trap 'echo bye; exit 3' INT; recv INT 130; echo no", "bye\n", 3),
        ("trap 'false; exit' USR1; status 4; kill -USR1 $$; echo no", "", 0),
        // The EXIT trap: on exit, at the end, after a trap's exit; `exit N` in it wins.
        ("trap 'echo bye $?' EXIT; exit 4", "bye 4\n", 4),
        ("trap 'echo bye $?' 0; false", "bye 1\n", 1),
        ("trap 'echo cleanup' EXIT; trap 'exit 2' TERM; kill $$; echo no", "cleanup\n", 2),
        ("trap 'exit 7' EXIT; true", "", 7),
        ("trap 'echo x' EXIT; trap - EXIT; true", "", 0),
        // Ignored and default signals run nothing.
        ("trap '' USR1; kill -USR1 $$; echo ok", "ok\n", 0),
        ("trap 'echo no' USR1; trap - USR1; kill -USR1 $$; echo ok", "ok\n", 0),
        ("trap 'echo no' USR1; trap 10; kill -USR1 $$; echo ok", "ok\n", 0),
        // Listing.
        (
            "trap 'echo a' INT; trap '' QUIT; trap \"echo it's\" EXIT; trap",
            "trap -- 'echo it'\"'\"'s' EXIT\ntrap -- 'echo a' INT\ntrap -- '' QUIT\n",
            0,
        ),
        ("trap 'echo hi' USR1; x=$(trap); echo \"$x\"", "trap -- 'echo hi' USR1\n", 0),
        ("trap 'echo hi' WINCH; trap -p", "trap -- 'echo hi' WINCH\n", 0),
        // A subshell's EXIT trap runs when it ends; the parent's does not run there.
        ("trap 'echo parent' EXIT; (trap 'echo sub' EXIT; echo in); echo out", "in\nsub\nout\nparent\n", 0),
        ("(trap 'echo sub $?' EXIT; exit 3); echo $?", "sub 3\n3\n", 0),
        // A trap in a function, a loop, a trap during a trap.
        ("f() { kill -USR1 $$; echo f; }; trap 'echo t' USR1; f", "t\nf\n", 0),
        ("trap 'echo t' USR1; for i in 1 2; do kill -USR1 $$; done; echo end", "t\nt\nend\n", 0),
        (
            "trap 'echo outer; kill -USR2 $$; echo outer2' USR1; trap 'echo inner' USR2; kill -USR1 $$",
            "outer\ninner\nouter2\n",
            0,
        ),
        // `exec` replaces the shell: no EXIT trap after it, no traps.
        ("trap 'echo no' EXIT; exec status 5", "", 5),
        ("trap 'echo no' TERM; exec recv TERM 143", "", 143),
        // The exit status of a child ended by a signal is 128+N, as the host reports it.
        ("status 143; echo $?; status 137 || echo $?", "143\n137\n", 0),
    ];
    for (src, want, status) in cases {
        let r = run_as(src, Mode::default());
        assert_eq!((r.out.as_str(), r.status), (*want, *status), "script: {src}\nstderr: {}", r.err);
    }
}

#[test]
fn wait_builtin() {
    let cases: &[(&str, &str, i32)] = &[
        // `wait` returns 128+N at once for a trapped signal; the trap runs; the job stays.
        ("trap 'echo usr1' USR1; recv USR1 & wait; echo wait $?; wait; echo again $?", "usr1\nwait 138\nagain 0\n", 0),
        ("trap 'echo usr1' USR1; recv USR1 4 & p=$!; wait $p; echo $?; wait $p; echo $?", "usr1\n138\n4\n", 0),
        // Without a trap for the signal the wait goes on.
        ("recv USR1 3 & wait $!; echo $?", "3\n", 0),
        ("status 3 & status 4 & wait; echo $?", "0\n", 0),
        ("status 3 & wait %1; echo $?; wait %1; echo $?", "3\n127\n", 0),
        ("wait 12345; echo $?", "127\n", 0),
        ("sleep 1 >/dev/null 2>&1 & echo $!; wait $!", "101\n", 0),
    ];
    for (src, want, status) in cases {
        let r = run_as(src, Mode::default());
        assert_eq!((r.out.as_str(), r.status), (*want, *status), "script: {src}\nstderr: {}", r.err);
    }
}

#[test]
fn kill_builtin() {
    let r =
        run_as("kill 12; kill -9 13 14; kill -s HUP 15; kill -SIGUSR1 16; kill -0 17; kill -- -18", Mode::default());
    assert_eq!(r.sim.borrow().kills, vec![(12, 15), (13, 9), (14, 9), (15, 1), (16, 10), (17, 0), (-18, 15)]);
    let r = run_as("sleep 1 >/dev/null 2>&1 & sleep 2 >&- 2>&- & kill %1; kill -INT %%", Mode::default());
    assert_eq!(r.sim.borrow().kills, vec![(101, 15), (102, 2)]);
    let cases: &[(&str, &str, &str, i32)] = &[
        ("kill 99", "", "sh: can't kill pid 99: No such process\n", 1),
        ("kill 99 12 99", "", "sh: can't kill pid 99: No such process\nsh: can't kill pid 99: No such process\n", 2),
        ("kill -FOO 1", "", "sh: bad signal name 'FOO'\n", 1),
        ("kill", "", "sh: you need to specify whom to kill\n", 1),
        ("kill abc", "", "sh: invalid number 'abc'\n", 1),
        ("kill %3", "", "sh: kill: %3: no such job\n", 1),
        ("kill -l 143 KILL 2", "TERM\n9\nINT\n", "", 0),
        ("kill -l BOGUS", "", "sh: unknown signal 'BOGUS'\n", 1),
        ("trap 'echo x' BOGUS USR1; echo $?", "1\n", "sh: trap: BOGUS: invalid signal specification\n", 0),
    ];
    for (src, out, err, status) in cases {
        let r = run_as(src, Mode::default());
        assert_eq!((r.out.as_str(), r.err.as_str(), r.status), (*out, *err, *status), "script: {src}");
    }
    let r = run_as("kill -l", Mode::default());
    assert!(r.out.starts_with(" 1) HUP\n 2) INT\n") && r.out.ends_with("31) SYS\n"), "{}", r.out);
    assert_eq!(run_as("trap -l", Mode::default()).out, r.out);
}

#[test]
fn exec_forwards_signals() {
    // The shell waits for the program that took its place and passes signals on to it.
    let r = run_as("exec recv TERM,USR1,HUP 143", Mode::default());
    let sim = r.sim.borrow();
    let pid = sim.kills[0].0;
    assert_eq!(sim.kills, vec![(pid, 15), (pid, 10), (pid, 1)]);
    assert!(pid > 100 && pid != super::tests::SHELL_PID);
    assert_eq!(r.status, 143);
}

#[test]
fn dispositions() {
    // What the host is told: catch for a trap, ignore for '', default after `trap -`.
    let r = run_as("trap 'echo' TERM; trap '' HUP; trap 'echo' USR1; trap - USR1", Mode::default());
    let d = r.sim.borrow().disp.clone();
    assert_eq!(
        (d.get(&15), d.get(&1), d.get(&10)),
        (Some(&Action::Catch), Some(&Action::Ignore), Some(&Action::Default))
    );
    // Every shell ignores QUIT; a script catches INT; an interactive shell also ignores TERM.
    let r = run_as("true", Mode { interactive: false, catch_int: true });
    let d = r.sim.borrow().disp.clone();
    assert_eq!((d.get(&2), d.get(&3), d.get(&15)), (Some(&Action::Catch), Some(&Action::Ignore), None));
    let r = run_as("trap - TERM INT", Mode { interactive: true, catch_int: true });
    let d = r.sim.borrow().disp.clone();
    assert_eq!(
        (d.get(&2), d.get(&3), d.get(&15)),
        (Some(&Action::Catch), Some(&Action::Ignore), Some(&Action::Ignore))
    );
    // A trap set in a subshell is undone on the host when it ends.
    let r = run_as("(trap 'echo' USR1); trap 'echo' USR2", Mode::default());
    let d = r.sim.borrow().disp.clone();
    assert_eq!((d.get(&10), d.get(&12)), (Some(&Action::Default), Some(&Action::Catch)));
    // Ignored signals stay ignored in a child shell (a pipeline stage run by `sh -c`).
    let r = run_as("trap '' INT; trap 'echo' TERM; a | { read x; } | b | while read x; do :; done", Mode::default());
    let l = r.log.borrow();
    assert!(l[1].0[2].contains("trap '' INT\n") && !l[1].0[2].contains("TERM"), "{}", l[1].0[2]);
}

#[test]
fn interrupts() {
    // INT while a foreground child runs (Ctrl-C reaches both): the child ends (130), then
    // an interactive shell abandons the rest of the command line.
    let inter = Mode { interactive: true, catch_int: true };
    let r = run_as("recv INT 130; echo after", inter);
    assert_eq!((r.out.as_str(), r.status), ("", 130));
    let r = run_as("for i in 1 2 3; do recv INT 130; echo $i; done", inter);
    assert_eq!(r.out, "");
    // A script (`sh -c`, a file) ends with 130 once the child is done, EXIT trap first.
    let script = Mode { interactive: false, catch_int: true };
    let r = run_as("trap 'echo bye $?' EXIT; recv INT 130; echo after", script);
    assert_eq!((r.out.as_str(), r.status), ("bye 130\n", 130));
    // ... also from inside a subshell or a command substitution.
    let r = run_as("(recv INT 130); echo after", script);
    assert_eq!((r.out.as_str(), r.status), ("", 130));
    let r = run_as("x=$(recv INT 130); echo after", script);
    assert_eq!((r.out.as_str(), r.status), ("", 130));
    // With an INT trap the trap runs instead.
    let r = run_as("trap 'echo int' INT; recv INT 130; echo after $?", script);
    assert_eq!((r.out.as_str(), r.status), ("int\nafter 130\n", 0));
    // A shell reading a script from stdin does not catch INT: the host's default applies.
    let r = run_as("recv INT 130; echo after", Mode::default());
    assert_eq!(r.out, "after\n");
}

#[test]
fn ids_and_jobs() {
    let r = run_as("echo $$ $PPID", Mode::default());
    assert_eq!(r.out, "42 7\n");
    let r = run_as("sleep 10 & a=$!; sleep 20 & jobs; jobs -p; echo $a $!", Mode::default());
    let want = "[1]-  Running                    sleep 10\n[2]+  Running                    sleep 20\n";
    let rest = r.out.strip_prefix(want).unwrap();
    let l: Vec<&str> = rest.lines().collect();
    assert_eq!(format!("{} {}", l[0], l[1]), l[2]);
    // `jobs` reports a job the process table shows ended, and forgets it.
    let log: Log = Default::default();
    let sim: Rc<RefCell<Sim>> = Default::default();
    let mut sh = Shell::new(Box::new(Fake { log, next: 100, sim: sim.clone() }));
    let (o, ob) = Io::mem();
    let (e, eb) = Io::mem();
    let mut fds = Fds::std();
    fds.0[1] = o;
    fds.0[2] = e;
    sh.base = fds.clone();
    let _ = sh.run_text("sleep 10 & sleep 20 & cat &", &fds, true);
    let p = sh.jobs.pids();
    sim.borrow_mut().states = vec![(p[0], 'Z'), (p[1], 'S')];
    sim.borrow_mut().status.insert(p[0], 143);
    sh.notify_jobs();
    assert_eq!(String::from_utf8_lossy(&eb.borrow().data), "[1]   Terminated                 sleep 10\n");
    let _ = sh.run_text("jobs", &fds, true);
    assert_eq!(
        String::from_utf8_lossy(&ob.borrow().data),
        "[2]-  Running                    sleep 20\n[3]+  Running                    cat\n"
    );
    let _ = sh.run_text("fg %2; echo $?", &fds, true);
    assert!(String::from_utf8_lossy(&ob.borrow().data).ends_with("sleep 20\n0\n"));
    assert_eq!(sh.jobs.pids(), vec![p[2]]);
}

#[test]
fn prompts_and_completion() {
    use crate::interactive::{prompt_text, Names};
    use crate::lineedit::Complete;
    let sim: Rc<RefCell<Sim>> = Default::default();
    let mut sh = Shell::new(Box::new(Fake { log: Default::default(), next: 100, sim }));
    let d = std::env::temp_dir().join(format!("shcomp{}", std::process::id()));
    std::fs::create_dir_all(d.join("bin")).unwrap();
    std::fs::create_dir_all(d.join("docs")).unwrap();
    std::fs::write(d.join("bin/frobnicate"), "").unwrap();
    std::fs::write(d.join("bin/frobber"), "").unwrap();
    std::fs::write(d.join("data.txt"), "").unwrap();
    std::fs::write(d.join(".hidden"), "").unwrap();
    let dir = d.display().to_string();
    sh.st.cwd = dir.clone();
    let _ = sh.set_var("HOME", dir.clone());
    let _ = sh.set_var("HOSTNAME", "box1.example".into());
    let _ = sh.set_var("PATH", format!("{dir}/bin"));
    let _ = sh.set_var("X", "hi".into());
    // PS1 is expanded like a double-quoted string first (ash), then its escapes.
    assert_eq!(prompt_text(&mut sh, "\\w \\$ ", 0), ("~ # ".into(), 4));
    assert_eq!(prompt_text(&mut sh, "\\w \\$ ", 1000).0, "~ $ ");
    assert_eq!(prompt_text(&mut sh, "$X@\\h:$(echo sub)> ", 0).0, "hi@box1:sub> ");
    assert_eq!(prompt_text(&mut sh, "${X}\\$ ", 0).0, "hi# ");
    let n = Names(&sh);
    assert_eq!(n.complete("frob", true), vec!["frobber", "frobnicate"]);
    assert_eq!(n.complete("ech", true), vec!["echo"]);
    assert_eq!(n.complete("d", false), vec!["data.txt", "docs/"]);
    assert_eq!(n.complete("d", false), vec!["data.txt", "docs/"]);
    assert_eq!(n.complete(".h", false), vec![".hidden"]);
    assert_eq!(n.complete("~/b", false), vec!["~/bin/"]);
    assert_eq!(n.complete("bin/frobn", false), vec!["bin/frobnicate"]);
    assert_eq!(n.complete("./bin/", true), vec!["./bin/frobber", "./bin/frobnicate"]);
    assert_eq!(n.complete(&format!("{dir}/do"), false), vec![format!("{dir}/docs/")]);
    std::fs::remove_dir_all(&d).unwrap();
}
