//! The `test` / `[` builtin: file, string and integer conditions.

pub fn test(args: &[String]) -> Result<bool, String> {
    if args.is_empty() {
        return Ok(false);
    }
    let mut t = T { a: args, pos: 0 };
    let v = t.or()?;
    if t.pos < args.len() {
        return Err(format!("{}: unknown operand", args[t.pos]));
    }
    Ok(v)
}

struct T<'a> {
    a: &'a [String],
    pos: usize,
}

const BINOPS: [&str; 14] = ["=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef"];

fn num(s: &str) -> Result<i64, String> {
    s.trim().parse::<i64>().map_err(|_| format!("{s}: bad number"))
}

fn is_exec(path: &str) -> bool {
    match skiff_guest::stat(path, true) {
        Ok(st) => st.mode & 0o111 != 0,
        Err(_) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
            }
            #[cfg(not(unix))]
            {
                std::fs::metadata(path).is_ok()
            }
        }
    }
}

impl T<'_> {
    fn peek(&self, k: usize) -> Option<&str> {
        self.a.get(self.pos + k).map(|s| s.as_str())
    }

    fn or(&mut self) -> Result<bool, String> {
        let mut v = self.and()?;
        while self.peek(0) == Some("-o") {
            self.pos += 1;
            let r = self.and()?;
            v = v || r;
        }
        Ok(v)
    }

    fn and(&mut self) -> Result<bool, String> {
        let mut v = self.not()?;
        while self.peek(0) == Some("-a") {
            self.pos += 1;
            let r = self.not()?;
            v = v && r;
        }
        Ok(v)
    }

    fn not(&mut self) -> Result<bool, String> {
        if self.peek(0) == Some("!") && self.peek(1).is_some() {
            self.pos += 1;
            return Ok(!self.not()?);
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<bool, String> {
        let Some(a) = self.peek(0).map(|s| s.to_string()) else { return Err("argument expected".into()) };
        let a = a.as_str();
        if let (Some(op), Some(b)) = (self.peek(1), self.peek(2)) {
            if BINOPS.contains(&op) {
                let (a, op, b) = (a.to_string(), op.to_string(), b.to_string());
                self.pos += 3;
                return binary(&a, &op, &b);
            }
        }
        if a == "(" && self.peek(1).is_some() {
            self.pos += 1;
            let v = self.or()?;
            if self.peek(0) != Some(")") {
                return Err("')' expected".into());
            }
            self.pos += 1;
            return Ok(v);
        }
        if a.len() == 2 && a.starts_with('-') {
            if let Some(b) = self.peek(1) {
                let (op, b) = (a.to_string(), b.to_string());
                self.pos += 2;
                return unary(&op, &b);
            }
        }
        self.pos += 1;
        Ok(!a.is_empty())
    }
}

fn unary(op: &str, b: &str) -> Result<bool, String> {
    let md = || std::fs::metadata(b);
    Ok(match op {
        "-n" => !b.is_empty(),
        "-z" => b.is_empty(),
        "-e" | "-r" | "-w" => md().is_ok(),
        "-f" => md().is_ok_and(|m| m.is_file()),
        "-d" => md().is_ok_and(|m| m.is_dir()),
        "-s" => md().is_ok_and(|m| m.len() > 0),
        "-x" => md().is_ok() && is_exec(b),
        "-L" | "-h" => std::fs::symlink_metadata(b).is_ok_and(|m| m.file_type().is_symlink()),
        "-b" | "-c" | "-p" | "-S" | "-u" | "-g" | "-k" => false,
        "-t" => {
            use std::io::IsTerminal;
            match b {
                "0" => std::io::stdin().is_terminal(),
                "1" => std::io::stdout().is_terminal(),
                "2" => std::io::stderr().is_terminal(),
                _ => false,
            }
        }
        "-O" | "-G" => md().is_ok(),
        _ => return Err(format!("{op}: unknown operand")),
    })
}

fn binary(a: &str, op: &str, b: &str) -> Result<bool, String> {
    Ok(match op {
        "=" | "==" => a == b,
        "!=" => a != b,
        "<" => a < b,
        ">" => a > b,
        "-eq" => num(a)? == num(b)?,
        "-ne" => num(a)? != num(b)?,
        "-lt" => num(a)? < num(b)?,
        "-le" => num(a)? <= num(b)?,
        "-gt" => num(a)? > num(b)?,
        "-ge" => num(a)? >= num(b)?,
        "-nt" | "-ot" => {
            let t = |p: &str| std::fs::metadata(p).and_then(|m| m.modified()).ok();
            match (t(a), t(b)) {
                (Some(x), Some(y)) => (op == "-nt" && x > y) || (op == "-ot" && x < y),
                (Some(_), None) => op == "-nt",
                (None, Some(_)) => op == "-ot",
                _ => false,
            }
        }
        _ => {
            // No realpath in wasi-libc: the same existing path, written alike.
            std::fs::metadata(a).is_ok() && crate::exec::normalize(a) == crate::exec::normalize(b)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&[&str], Result<bool, ()>)] = &[
            (&[], Ok(false)),
            (&["x"], Ok(true)),
            (&[""], Ok(false)),
            (&["-n", ""], Ok(false)),
            (&["-z", ""], Ok(true)),
            (&["-n"], Ok(true)),
            (&["a", "=", "a"], Ok(true)),
            (&["a", "!=", "a"], Ok(false)),
            (&["!", "a", "=", "b"], Ok(true)),
            (&["1", "-lt", "2"], Ok(true)),
            (&["10", "-le", "2"], Ok(false)),
            (&["x", "-eq", "2"], Err(())),
            (&["-d", "/"], Ok(true)),
            (&["-f", "/"], Ok(false)),
            (&["-e", "/nonexistent"], Ok(false)),
            (&["a", "-a", "", "-o", "b"], Ok(true)),
            (&["(", "a", "=", "b", ")", "-o", "c"], Ok(true)),
            (&["-n", "=", "-n"], Ok(true)),
        ];
        for (args, want) in cases {
            let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            assert_eq!(test(&a).map_err(|_| ()), *want, "{args:?}");
        }
    }
}
