//! The classroom on a real terminal: tmux runs `skiff tutorial 01`, the test types into it (a mistake,
//! then the right command), reads the screen, and leaves with Ctrl-C; the progress is kept.

use super::util::{require_tool, shared_module_cache, skiff_bin, Sandbox};
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("tmux runs")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-J", "-S", "-500", "-t", "lesson"]).stdout)
            .into_owned()
    }

    /// Waits until the screen shows `text` `times` times; the screen.
    #[track_caller]
    fn wait_for(&self, text: &str, times: usize) -> String {
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.screen();
            if s.matches(text).count() >= times {
                return s;
            }
            assert!(Instant::now() < end, "{text:?} ({times}×) never appeared on the screen:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn type_line(&self, line: &str) {
        self.cmd(&["send-keys", "-t", "lesson", "-l", line]);
        self.cmd(&["send-keys", "-t", "lesson", "Enter"]);
    }
}

impl Drop for Tmux {
    /// Ends this test's own tmux server (its socket is unique).
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

#[test]
fn a_learner_at_a_terminal_makes_a_mistake_and_corrects_it() {
    if require_tool("tmux", "tmux").is_none() {
        return;
    }
    let sb = Sandbox::new();
    let tmux = Tmux { socket: format!("skiff-classroom-{}", std::process::id()) };
    let command = format!(
        "env SKIFF_ROOT={} SKIFF_MODULE_CACHE={} LANG=C.UTF-8 LC_ALL=C.UTF-8 {} tutorial 01",
        sb.root().display(),
        shared_module_cache().display(),
        skiff_bin().display()
    );
    let out = tmux.cmd(&["new-session", "-d", "-s", "lesson", "-x", "150", "-y", "50", &command]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    tmux.cmd(&["set-option", "-t", "lesson", "remain-on-exit", "on"]);

    tmux.wait_for("[1/15] $ ", 1);
    tmux.cmd(&["send-keys", "-t", "lesson", "Enter"]); // typed for the learner
    tmux.wait_for("✓ as the tutorial says", 1);
    tmux.wait_for("[2/15] $ ", 1);
    tmux.type_line("skiff run hello-wrld");
    let s =
        tmux.wait_for("✗ there is no image `hello-wrld:latest`: check the image name, the step uses `hello-world`", 1);
    assert!(s.contains("(try again, or press Enter to have `skiff run hello-world` typed)"), "{s}");
    // line editing: type it wrong, go back with the arrow keys and fix it
    tmux.cmd(&["send-keys", "-t", "lesson", "-l", "skiff run hello-wrld"]);
    tmux.cmd(&["send-keys", "-t", "lesson", "Left", "Left", "Left"]);
    tmux.cmd(&["send-keys", "-t", "lesson", "-l", "o"]);
    tmux.cmd(&["send-keys", "-t", "lesson", "Enter"]);
    let s = tmux.wait_for("✓ as the tutorial says", 2);
    assert!(s.contains("Hello from skiff!"), "{s}");
    tmux.wait_for("[3/15] $ ", 1);
    tmux.cmd(&["send-keys", "-t", "lesson", "C-c"]);
    let s = tmux.wait_for("(left at stop 3 of 15; `skiff tutorial` goes on from there)", 1);
    assert!(s.contains("2/3 steps matched"), "{s}");
    let progress = std::fs::read_to_string(sb.root().join("classroom/progress.json")).unwrap();
    assert!(progress.contains("\"next\": 2"), "{progress}");
    assert!(std::fs::read_to_string(sb.root().join("classroom/history.txt"))
        .unwrap()
        .contains("skiff run hello-world"));
}
