//! `test` and `[`: file tests, string and integer comparisons, `!`, `-a`, `-o`, parentheses.

use crate::util::{self, is_dir, is_lnk, is_reg};

/// A syntax or number error: message, exit status 2.
type R = Result<bool, String>;

fn unary_op(op: &str) -> bool {
    matches!(
        op,
        "-e" | "-f"
            | "-d"
            | "-s"
            | "-n"
            | "-z"
            | "-x"
            | "-r"
            | "-w"
            | "-L"
            | "-h"
            | "-b"
            | "-c"
            | "-p"
            | "-S"
            | "-t"
            | "-g"
            | "-u"
            | "-k"
            | "-O"
            | "-G"
    )
}

fn binary_op(op: &str) -> bool {
    matches!(op, "=" | "==" | "!=" | "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge" | "<" | ">" | "-nt" | "-ot" | "-ef")
}

fn int(s: &str) -> Result<i64, String> {
    s.trim().parse::<i64>().map_err(|_| format!("invalid number '{s}'"))
}

fn unary(op: &str, a: &str) -> R {
    if op == "-n" {
        return Ok(!a.is_empty());
    }
    if op == "-z" {
        return Ok(a.is_empty());
    }
    if op == "-t" {
        use std::io::IsTerminal;
        return Ok(match int(a)? {
            0 => std::io::stdin().is_terminal(),
            1 => std::io::stdout().is_terminal(),
            2 => std::io::stderr().is_terminal(),
            _ => false,
        });
    }
    if a.is_empty() {
        return Ok(false);
    }
    let follow = !matches!(op, "-L" | "-h");
    let Ok(st) = util::meta(a, follow) else {
        return Ok(false);
    };
    let m = st.mode;
    Ok(match op {
        "-e" => true,
        "-f" => is_reg(m),
        "-d" => is_dir(m),
        "-L" | "-h" => is_lnk(m),
        "-s" => st.size > 0,
        "-x" => m & 0o111 != 0 || is_dir(m),
        "-r" | "-w" | "-O" | "-G" => true,
        "-b" => m & util::S_IFMT == 0o060000,
        "-c" => m & util::S_IFMT == 0o020000,
        "-p" => m & util::S_IFMT == 0o010000,
        "-S" => m & util::S_IFMT == 0o140000,
        "-u" => m & 0o4000 != 0,
        "-g" => m & 0o2000 != 0,
        "-k" => m & 0o1000 != 0,
        _ => false,
    })
}

fn binary(a: &str, op: &str, b: &str) -> R {
    Ok(match op {
        "=" | "==" => a == b,
        "!=" => a != b,
        "<" => a < b,
        ">" => a > b,
        "-eq" => int(a)? == int(b)?,
        "-ne" => int(a)? != int(b)?,
        "-lt" => int(a)? < int(b)?,
        "-le" => int(a)? <= int(b)?,
        "-gt" => int(a)? > int(b)?,
        "-ge" => int(a)? >= int(b)?,
        "-nt" | "-ot" => {
            let ma = util::meta(a, true).map(|s| s.mtime);
            let mb = util::meta(b, true).map(|s| s.mtime);
            match (ma, mb) {
                (Ok(x), Ok(y)) => {
                    if op == "-nt" {
                        x > y
                    } else {
                        x < y
                    }
                }
                (Ok(_), Err(_)) => op == "-nt",
                (Err(_), Ok(_)) => op == "-ot",
                _ => false,
            }
        }
        "-ef" => {
            let ca = util::realpath(a, false);
            let cb = util::realpath(b, false);
            matches!((ca, cb), (Ok(x), Ok(y)) if x == y)
        }
        _ => return Err(format!("{op}: unknown operand")),
    })
}

struct P<'a> {
    a: &'a [String],
    i: usize,
}

impl<'a> P<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.a.get(self.i).map(String::as_str)
    }
    fn next(&mut self) -> Option<&'a str> {
        let v = self.peek();
        self.i += 1;
        v
    }
    fn or(&mut self) -> R {
        let mut v = self.and()?;
        while self.peek() == Some("-o") {
            self.i += 1;
            let r = self.and()?;
            v = v || r;
        }
        Ok(v)
    }
    fn and(&mut self) -> R {
        let mut v = self.not()?;
        while self.peek() == Some("-a") {
            self.i += 1;
            let r = self.not()?;
            v = v && r;
        }
        Ok(v)
    }
    fn not(&mut self) -> R {
        if self.peek() == Some("!") && self.i + 1 < self.a.len() {
            self.i += 1;
            return Ok(!self.not()?);
        }
        self.primary()
    }
    fn primary(&mut self) -> R {
        let Some(t) = self.next() else {
            return Err("argument expected".into());
        };
        let rest = self.a.len() - self.i;
        // binary operator takes precedence: `[ -n = -n ]`
        if rest >= 2 && binary_op(&self.a[self.i]) {
            let op = self.next().unwrap();
            let b = self.next().unwrap();
            return binary(t, op, b);
        }
        if t == "(" && rest >= 2 {
            let v = self.or()?;
            if self.next() != Some(")") {
                return Err("')' expected".into());
            }
            return Ok(v);
        }
        if unary_op(t) && rest >= 1 {
            let a = self.next().unwrap();
            return unary(t, a);
        }
        Ok(!t.is_empty())
    }
}

/// Evaluate a test expression (without the `[`/`]` wrapper).
pub fn eval(a: &[String]) -> R {
    let s = |i: usize| a[i].as_str();
    // POSIX rules by argument count
    let v = match a.len() {
        0 => return Ok(false),
        1 => return Ok(!a[0].is_empty()),
        2 if s(0) == "!" => return Ok(a[1].is_empty()),
        2 if unary_op(s(0)) => return unary(s(0), s(1)),
        2 => return Err(format!("{}: unknown operand", s(0))),
        3 if binary_op(s(1)) => return binary(s(0), s(1), s(2)),
        3 if s(0) == "!" => return eval(&a[1..]).map(|v| !v),
        3 if s(0) == "(" && s(2) == ")" => return Ok(!a[1].is_empty()),
        4 if s(0) == "!" => return eval(&a[1..]).map(|v| !v),
        4 if s(0) == "(" && s(3) == ")" => return eval(&a[1..3]),
        _ => {
            let mut p = P { a, i: 0 };
            let v = p.or()?;
            if p.i < a.len() {
                return Err(format!("{}: unknown operand", a[p.i]));
            }
            v
        }
    };
    Ok(v)
}

fn finish(r: R) -> i32 {
    match r {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(m) => {
            crate::err!("{m}");
            2
        }
    }
}

pub fn test(args: &[String]) -> i32 {
    finish(eval(&args[1..]))
}

pub fn bracket(args: &[String]) -> i32 {
    if args.last().map(String::as_str) != Some("]") || args.len() < 2 {
        crate::err!("missing ]");
        return 2;
    }
    finish(eval(&args[1..args.len() - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &[&str]) -> R {
        eval(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn strings_and_numbers() {
        assert_eq!(t(&[]), Ok(false));
        assert_eq!(t(&["x"]), Ok(true));
        assert_eq!(t(&[""]), Ok(false));
        assert_eq!(t(&["-n", ""]), Ok(false));
        assert_eq!(t(&["-z", ""]), Ok(true));
        assert_eq!(t(&["-n"]), Ok(true));
        assert_eq!(t(&["!"]), Ok(true));
        assert_eq!(t(&["!", "x"]), Ok(false));
        assert_eq!(t(&["a", "=", "a"]), Ok(true));
        assert_eq!(t(&["a", "!=", "a"]), Ok(false));
        assert_eq!(t(&["-n", "=", "-n"]), Ok(true));
        assert_eq!(t(&["=", "=", "="]), Ok(true));
        assert_eq!(t(&["3", "-lt", "10"]), Ok(true));
        assert_eq!(t(&["3", "-ge", "10"]), Ok(false));
        assert_eq!(t(&["-5", "-eq", "-5"]), Ok(true));
        assert!(t(&["x", "-eq", "1"]).is_err());
        assert_eq!(t(&["!", "a", "=", "b"]), Ok(true));
        assert_eq!(t(&["(", "x", ")"]), Ok(true));
        assert_eq!(t(&["a", "=", "a", "-a", "b", "=", "c"]), Ok(false));
        assert_eq!(t(&["a", "=", "a", "-o", "b", "=", "c"]), Ok(true));
        assert_eq!(t(&["(", "1", "-eq", "1", ")", "-a", "!", "(", "1", "-eq", "2", ")"]), Ok(true));
        assert_eq!(t(&["", "-o", "x", "-a", ""]), Ok(false));
        assert!(t(&["a", "b"]).is_err());
        assert!(t(&["(", "a", "=", "a"]).is_err());
    }

    #[test]
    fn files() {
        let d = util::testutil::tempdir();
        let f = format!("{d}/f");
        std::fs::write(&f, "x").unwrap();
        assert_eq!(t(&["-e", &f]), Ok(true));
        assert_eq!(t(&["-f", &f]), Ok(true));
        assert_eq!(t(&["-s", &f]), Ok(true));
        assert_eq!(t(&["-d", &f]), Ok(false));
        assert_eq!(t(&["-d", &d]), Ok(true));
        assert_eq!(t(&["-e", &format!("{d}/nope")]), Ok(false));
        assert_eq!(t(&["!", "-e", &format!("{d}/nope"), "-a", "-f", &f]), Ok(true));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
