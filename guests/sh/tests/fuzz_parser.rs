//! A bounded fuzz test of the shell's parser, built for the host (`cd guests && cargo test -p
//! sh --release --test fuzz_parser`). The parser's own source is included as it is (it needs
//! only `ast`), so nothing in the shell changes for this. Inputs are mutated from a seed
//! corpus of shell syntax; each must parse or fail with an error, never panic. Runs for
//! `SH_FUZZ_SECS` seconds (default 2) and prints its executions.
//!
//! Inputs of any depth are tried: the parser recurses once per `(`, `$(`, `{`, `if`… and
//! refuses past 200 levels (`deep_nesting_is_refused`) instead of overflowing its stack.
#![allow(dead_code)]

#[path = "../src/ast.rs"]
mod ast;
#[path = "../src/parser.rs"]
mod parser;

use std::time::Instant;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const SEEDS: &[&str] = &[
    "echo hi | wc -c > /tmp/x 2>&1 && ls || true; sleep 1 &",
    "for i in 1 2 3; do echo $i; done\nwhile false; do :; done\nuntil true; do break; done",
    "if [ -f x ]; then echo a; elif test -d y; then echo b; else echo c; fi",
    "case $1 in a|b) echo ab;; *) echo other;; esac",
    "f() { local x=1; echo ${x:-d} ${#x} ${x%%.*} $((x + 2 * 3)); }; f",
    "cat <<EOF\nhello $USER\nEOF\ncat <<-'E'\n\tq\nE\n",
    "a=$(echo \"$(echo `echo x`)\") b='s q' c=\"d $a\"; export a; (cd /; pwd); { echo g; }",
    "exec 3<>/dev/null; read -r line <&3; trap 'echo t' INT; set -e; ! false",
];

const TOKENS: &[&str] = &[
    "(",
    ")",
    "$(",
    "`",
    "{ ",
    " }",
    "${",
    "}",
    "$((",
    "))",
    "'",
    "\"",
    "\\",
    "\n",
    ";",
    ";;",
    "&",
    "&&",
    "||",
    "|",
    "<",
    ">",
    ">>",
    "<<",
    "<<-",
    "<&",
    ">&",
    "2>",
    "if ",
    " then ",
    " else ",
    " fi",
    "for ",
    " in ",
    " do ",
    " done",
    "case ",
    " esac",
    "while ",
    "function ",
    "=",
    "$",
    "#",
    "*",
    "?",
    "[",
    "]",
    "!",
    " EOF\n",
];

fn mutate(rng: &mut Rng, input: &str, corpus: &[String]) -> String {
    let mut v: Vec<char> = input.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] = char::from_u32(rng.below(0x80) as u32).unwrap_or('x');
            }
            1 | 2 => {
                let i = rng.below(len + 1);
                let t: Vec<char> = TOKENS[rng.below(TOKENS.len())].chars().collect();
                v.splice(i..i, t);
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(16)).min(len);
                v.drain(a..b);
            }
            4 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(6)).min(len);
                let piece: Vec<char> = v[a..b].repeat([2, 10, 60][rng.below(3)]);
                v.splice(b..b, piece);
            }
            5 if !corpus.is_empty() => {
                let other: Vec<char> = corpus[rng.below(corpus.len())].chars().collect();
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
            _ if len > 0 => v.truncate(rng.below(len)),
            _ => {}
        }
    }
    v.truncate(16 * 1024);
    v.into_iter().collect()
}

/// How deeply `s` nests openers (a bound on the parser's recursion).
/// Runs `f` on a thread with a stack like the guest's in release: a debug build's frames are
/// several times larger, and 200 levels of them do not fit a test thread's 2 MiB.
fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(64 << 20).spawn(f).unwrap().join().unwrap();
}

#[test]
fn parser_never_panics() {
    on_big_stack(fuzz_parser);
}

fn fuzz_parser() {
    let secs: f64 = std::env::var("SH_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let mut rng = Rng(0x5eed);
    let mut corpus: Vec<String> = SEEDS.iter().map(|s| s.to_string()).collect();
    let mut outcomes = std::collections::HashSet::new();
    let (start, mut execs) = (Instant::now(), 0u64);
    while start.elapsed().as_secs_f64() < secs {
        let base = corpus[rng.below(corpus.len())].clone();
        let input = mutate(&mut rng, &base, &corpus);
        execs += 1;
        let r = std::panic::catch_unwind(|| match parser::parse_all(&input) {
            Ok(cmds) => format!("ok {}", cmds.len().min(4)),
            Err(e) => {
                format!("err {}", format!("{e:?}").chars().filter(|c| !c.is_ascii_digit()).take(40).collect::<String>())
            }
        });
        match r {
            Ok(sig) => {
                if outcomes.insert(sig) && corpus.len() < 2048 {
                    corpus.push(input);
                }
            }
            Err(_) => panic!("the parser panics on {input:?}"),
        }
    }
    println!(
        "fuzz sh parser: {execs} executions in {:.0} s, {} outcomes",
        start.elapsed().as_secs_f64(),
        outcomes.len()
    );
}

/// The parser recurses per nesting level: past its bound, deep input is a syntax error, not a
/// stack overflow.
#[test]
fn deep_nesting_is_refused() {
    on_big_stack(refuse_deep_nesting);
}

fn refuse_deep_nesting() {
    for open in ["$(", "(", "{ ", "if ", "while "] {
        let deep = open.repeat(100_000);
        let err = parser::parse_all(&deep).unwrap_err();
        assert!(err.message().contains("nested deeper than"), "{open}: {err:?}");
    }
}
