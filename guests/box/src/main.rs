//! `box`: a busybox-like multi-call program; the applet is the base name of argv[0].
#![cfg_attr(target_os = "wasi", feature(wasi_ext))]

mod applets;
mod date;
mod regex;
mod term;
mod util;

use applets::*;

type Applet = fn(&[String]) -> i32;

/// Every applet, sorted by name (`box --list` prints them in this order).
const APPLETS: &[(&str, Applet)] = &[
    ("[", test::bracket),
    ("awk", awk::awk),
    ("basename", basic::basename),
    ("cat", text::cat),
    ("chgrp", users::chgrp),
    ("chmod", fs::chmod),
    ("chown", users::chown),
    ("cp", fs::cp),
    ("curl", net::curl),
    ("cut", text::cut),
    ("date", date::date),
    ("df", sys::df),
    ("diff", diff::diff),
    ("dirname", basic::dirname),
    ("du", fs::du),
    ("echo", basic::echo),
    ("egrep", grep::grep),
    ("env", basic::env),
    ("false", basic::false_),
    ("fgrep", grep::grep),
    ("find", find::find),
    ("free", sys::free),
    ("grep", grep::grep),
    ("gunzip", gzip::gunzip),
    ("gzip", gzip::gzip),
    ("head", text::head),
    ("hexdump", od::hexdump),
    ("hostname", basic::hostname),
    ("id", users::id),
    ("ip", net::ip),
    ("kill", procs::kill),
    ("killall", procs::killall),
    ("less", pager::less),
    ("ln", fs::ln),
    ("ls", ls::ls),
    ("md5sum", sum::md5sum),
    ("mkdir", fs::mkdir),
    ("more", pager::more),
    ("mv", fs::mv),
    ("nc", net::nc),
    ("nslookup", net::nslookup),
    ("od", od::od),
    ("pidof", procs::pidof),
    ("ping", net::ping),
    ("printenv", basic::printenv),
    ("printf", printf::printf),
    ("ps", procs::ps),
    ("pwd", basic::pwd),
    ("readlink", fs::readlink),
    ("realpath", fs::realpath),
    ("rm", fs::rm),
    ("rmdir", fs::rmdir),
    ("sed", sed::sed),
    ("seq", basic::seq),
    ("sha1sum", sum::sha1sum),
    ("sha256sum", sum::sha256sum),
    ("sleep", basic::sleep),
    ("sort", sort::sort),
    ("stat", fs::stat),
    ("tail", text::tail),
    ("tar", tar::tar),
    ("tee", text::tee),
    ("test", test::test),
    ("top", procs::top),
    ("touch", fs::touch),
    ("tr", tr::tr),
    ("true", basic::true_),
    ("uname", basic::uname),
    ("uniq", text::uniq),
    ("uptime", sys::uptime),
    ("vi", vi::vi),
    ("watch", procs::watch),
    ("wc", text::wc),
    ("wget", net::wget),
    ("which", basic::which),
    ("whoami", users::whoami),
    ("xargs", basic::xargs),
    ("xxd", od::xxd),
    ("yes", basic::yes),
    ("zcat", gzip::zcat),
];

fn lookup(name: &str) -> Option<Applet> {
    APPLETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Run the applet named by `argv` (argv[0] is a path or `box`); returns the exit status.
fn run(argv: &[String]) -> i32 {
    let base = argv.first().map(|a| util::base_name(a)).unwrap_or("box");
    let base = base.strip_suffix(".wasm").unwrap_or(base);
    let args = if base == "box" || base == "busybox" {
        match argv.get(1).map(String::as_str) {
            None | Some("--help") => {
                println!("box: a busybox-like multi-call program\nUsage: box APPLET [ARGS]... | box --list");
                return 0;
            }
            Some("--list") => {
                let mut s = String::new();
                for (n, _) in APPLETS {
                    s.push_str(n);
                    s.push('\n');
                }
                print!("{s}");
                return 0;
            }
            Some(_) => &argv[1..],
        }
    } else {
        argv
    };
    let name = util::base_name(&args[0]).to_string();
    match lookup(&name) {
        Some(f) => {
            util::set_applet(&name);
            f(args)
        }
        None => {
            eprintln!("{name}: applet not found");
            127
        }
    }
}

fn main() {
    skiff_guest::init();
    let argv: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let code = run(&argv);
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in APPLETS.windows(2) {
            assert!(w[0].0 < w[1].0, "{} !< {}", w[0].0, w[1].0);
        }
    }

    #[test]
    fn unknown_applet() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(run(&v(&["box", "nope"])), 127);
        assert_eq!(run(&v(&["/bin/true"])), 0);
        assert_eq!(run(&v(&["box", "false"])), 1);
    }
}
