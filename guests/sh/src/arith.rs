//! `$((...))`: integer arithmetic with C operators and shell variables.

/// Variable access for arithmetic (names evaluate to their numeric value).
pub trait Vars {
    fn get(&self, name: &str) -> Option<String>;
    fn set(&mut self, name: &str, value: String);
}

pub fn eval(expr: &str, vars: &mut dyn Vars) -> Result<i64, String> {
    let toks = lex(expr)?;
    let mut a = Arith { toks, pos: 0, vars, skip: 0 };
    if a.toks.is_empty() {
        return Ok(0);
    }
    let v = a.assign()?;
    if a.pos < a.toks.len() {
        return Err("arithmetic syntax error".into());
    }
    Ok(v)
}

#[derive(Debug, Clone, PartialEq)]
enum T {
    Num(i64),
    Name(String),
    Op(&'static str),
}

const OPS: [&str; 40] = [
    "<<=", ">>=", "**", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
    "++", "--", "+", "-", "*", "/", "%", "<", ">", "=", "!", "~", "&", "|", "^", "?", ":", "(", ")", ",", " ",
];

fn lex(s: &str) -> Result<Vec<T>, String> {
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    'outer: while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            let st = i;
            while i < cs.len() && (cs[i].is_ascii_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            let w: String = cs[st..i].iter().collect();
            if c.is_ascii_digit() {
                out.push(T::Num(parse_num(&w)?));
            } else {
                out.push(T::Name(w));
            }
            continue;
        }
        for op in OPS {
            if op != " " && op.chars().enumerate().all(|(k, oc)| cs.get(i + k) == Some(&oc)) {
                out.push(T::Op(op));
                i += op.len();
                continue 'outer;
            }
        }
        return Err("arithmetic syntax error".into());
    }
    Ok(out)
}

pub fn parse_num(w: &str) -> Result<i64, String> {
    let w = w.trim();
    let (neg, w) = match w.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, w.strip_prefix('+').unwrap_or(w)),
    };
    let v = if let Some(h) = w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        i64::from_str_radix(h, 16)
    } else if w.len() > 1 && w.starts_with('0') {
        i64::from_str_radix(&w[1..], 8)
    } else if let Some((b, d)) = w.split_once('#') {
        match b.parse::<u32>() {
            Ok(b) if (2..=36).contains(&b) => i64::from_str_radix(d, b),
            _ => return Err("arithmetic syntax error".into()),
        }
    } else {
        w.parse::<i64>()
    };
    v.map(|v| if neg { -v } else { v }).map_err(|_| "arithmetic syntax error".to_string())
}

struct Arith<'a> {
    toks: Vec<T>,
    pos: usize,
    vars: &'a mut dyn Vars,
    /// > 0 while evaluating a branch whose value is not used (no assignments, no errors).
    skip: u32,
}

fn prec(op: &str) -> Option<u8> {
    Some(match op {
        "||" => 1,
        "&&" => 2,
        "|" => 3,
        "^" => 4,
        "&" => 5,
        "==" | "!=" => 6,
        "<" | ">" | "<=" | ">=" => 7,
        "<<" | ">>" => 8,
        "+" | "-" => 9,
        "*" | "/" | "%" => 10,
        "**" => 11,
        _ => return None,
    })
}

impl Arith<'_> {
    fn peek(&self) -> Option<&T> {
        self.toks.get(self.pos)
    }

    fn var(&mut self, name: &str) -> Result<i64, String> {
        match self.vars.get(name) {
            Some(v) if !v.trim().is_empty() => parse_num(&v),
            _ => Ok(0),
        }
    }

    fn assign(&mut self) -> Result<i64, String> {
        if let (Some(T::Name(n)), Some(T::Op(op))) =
            (self.toks.get(self.pos).cloned(), self.toks.get(self.pos + 1).cloned())
        {
            if op.ends_with('=') && !matches!(op, "==" | "!=" | "<=" | ">=") {
                self.pos += 2;
                let rhs = self.assign()?;
                let v = if op == "=" {
                    rhs
                } else {
                    let old = self.var(&n)?;
                    self.binop(&op[..op.len() - 1], old, rhs)?
                };
                if self.skip == 0 {
                    self.vars.set(&n, v.to_string());
                }
                return Ok(v);
            }
        }
        self.ternary()
    }

    fn ternary(&mut self) -> Result<i64, String> {
        let c = self.binary(1)?;
        if self.peek() != Some(&T::Op("?")) {
            return Ok(c);
        }
        self.pos += 1;
        if c == 0 {
            self.skip += 1;
        }
        let a = self.assign()?;
        if c == 0 {
            self.skip -= 1;
        }
        if self.peek() != Some(&T::Op(":")) {
            return Err("arithmetic syntax error".into());
        }
        self.pos += 1;
        if c != 0 {
            self.skip += 1;
        }
        let b = self.assign()?;
        if c != 0 {
            self.skip -= 1;
        }
        Ok(if c != 0 { a } else { b })
    }

    fn binary(&mut self, min: u8) -> Result<i64, String> {
        let mut l = self.unary()?;
        while let Some(T::Op(op)) = self.peek().cloned() {
            let Some(p) = prec(op) else { break };
            if p < min {
                break;
            }
            self.pos += 1;
            let short = (op == "&&" && l == 0) || (op == "||" && l != 0);
            if short {
                self.skip += 1;
            }
            let r = if op == "**" { self.binary(p) } else { self.binary(p + 1) };
            if short {
                self.skip -= 1;
            }
            l = self.binop(op, l, r?)?;
        }
        Ok(l)
    }

    fn binop(&self, op: &str, l: i64, r: i64) -> Result<i64, String> {
        Ok(match op {
            "||" => (l != 0 || r != 0) as i64,
            "&&" => (l != 0 && r != 0) as i64,
            "|" => l | r,
            "^" => l ^ r,
            "&" => l & r,
            "==" => (l == r) as i64,
            "!=" => (l != r) as i64,
            "<" => (l < r) as i64,
            ">" => (l > r) as i64,
            "<=" => (l <= r) as i64,
            ">=" => (l >= r) as i64,
            "<<" => l.wrapping_shl(r as u32),
            ">>" => l.wrapping_shr(r as u32),
            "+" => l.wrapping_add(r),
            "-" => l.wrapping_sub(r),
            "*" => l.wrapping_mul(r),
            "/" | "%" if r == 0 => {
                if self.skip > 0 {
                    return Ok(0);
                }
                return Err("divide by zero".into());
            }
            "/" => l.wrapping_div(r),
            "%" => l.wrapping_rem(r),
            "**" => l.wrapping_pow(r.max(0) as u32),
            _ => return Err("arithmetic syntax error".into()),
        })
    }

    fn unary(&mut self) -> Result<i64, String> {
        match self.peek().cloned() {
            Some(T::Op(op @ ("-" | "+" | "!" | "~"))) => {
                self.pos += 1;
                let v = self.unary()?;
                Ok(match op {
                    "-" => v.wrapping_neg(),
                    "+" => v,
                    "!" => (v == 0) as i64,
                    _ => !v,
                })
            }
            Some(T::Op(op @ ("++" | "--"))) => {
                self.pos += 1;
                let Some(T::Name(n)) = self.peek().cloned() else { return Err("arithmetic syntax error".into()) };
                self.pos += 1;
                let v = self.var(&n)? + if op == "++" { 1 } else { -1 };
                if self.skip == 0 {
                    self.vars.set(&n, v.to_string());
                }
                Ok(v)
            }
            Some(T::Op("(")) => {
                self.pos += 1;
                let v = self.assign()?;
                if self.peek() != Some(&T::Op(")")) {
                    return Err("arithmetic syntax error".into());
                }
                self.pos += 1;
                Ok(v)
            }
            Some(T::Num(n)) => {
                self.pos += 1;
                Ok(n)
            }
            Some(T::Name(n)) => {
                self.pos += 1;
                let v = self.var(&n)?;
                if let Some(T::Op(op @ ("++" | "--"))) = self.peek().cloned() {
                    self.pos += 1;
                    if self.skip == 0 {
                        self.vars.set(&n, (v + if op == "++" { 1 } else { -1 }).to_string());
                    }
                }
                Ok(v)
            }
            _ => Err("arithmetic syntax error".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    impl Vars for HashMap<String, String> {
        fn get(&self, name: &str) -> Option<String> {
            HashMap::get(self, name).cloned()
        }
        fn set(&mut self, name: &str, value: String) {
            self.insert(name.to_string(), value);
        }
    }

    #[test]
    fn table() {
        let cases = [
            ("1 + 2 * 3", 7),
            ("(1 + 2) * 3", 9),
            ("7 / 2", 3),
            ("7 % 3", 1),
            ("-3 + 1", -2),
            ("2 ** 10", 1024),
            ("1 < 2", 1),
            ("3 >= 4", 0),
            ("x + 1", 42),
            ("y + 1", 1),
            ("x == 41 && 1", 1),
            ("0 || 0", 0),
            ("x > 0 ? 10 : 20", 10),
            ("0x10 + 010", 24),
            ("1 << 4 | 1", 17),
            ("!0", 1),
            ("", 0),
            ("0 && 1/0", 0),
        ];
        for (e, want) in cases {
            let mut v: HashMap<String, String> = [("x".to_string(), "41".to_string())].into();
            assert_eq!(eval(e, &mut v), Ok(want), "{e}");
        }
        let mut v: HashMap<String, String> = HashMap::new();
        assert_eq!(eval("i += 2", &mut v), Ok(2));
        assert_eq!(eval("i++", &mut v), Ok(2));
        assert_eq!(v["i"], "3");
        assert!(eval("1 / 0", &mut v).is_err());
        assert!(eval("1 +", &mut v).is_err());
    }
}
