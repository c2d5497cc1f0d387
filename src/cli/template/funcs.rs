//! Template functions: Go's builtins (`and`/`or` are evaluated lazily in exec.rs) and Docker's.

use super::fmt::{null_text, print_val, to_json, type_name, write, Spec, Val, STRING_MAP_FIELDS};
use serde_json::Value;

/// The known functions' minimum and (unless variadic) maximum argument counts.
pub fn arity(name: &str) -> Option<(usize, Option<usize>)> {
    Some(match name {
        "print" | "println" => (0, None),
        "and" | "or" | "index" | "slice" | "printf" | "eq" => (1, None),
        "not" | "len" | "json" | "upper" | "lower" | "title" => (1, Some(1)),
        "ne" | "lt" | "le" | "gt" | "ge" | "join" | "split" | "truncate" => (2, Some(2)),
        "pad" => (3, Some(3)),
        _ => return None,
    })
}

/// Where a function error is reported.
pub enum FnErr {
    /// `error calling NAME: msg`, at the command.
    Call(String),
    /// A bad argument (Go's type conversion failure), at that argument.
    Arg(usize, String),
    /// A message reported as is, at the function name.
    Plain(String),
}

fn call_err<T>(msg: impl Into<String>) -> Result<T, FnErr> {
    Err(FnErr::Call(msg.into()))
}

pub fn check_arity(name: &str, n: usize) -> Result<(), FnErr> {
    let (min, max) = arity(name).expect("the parser checks function names");
    let want = match max {
        None if n < min => format!("at least {min}"),
        Some(m) if n < min || n > m => m.to_string(),
        _ => return Ok(()),
    };
    Err(FnErr::Plain(format!("wrong number of args for {name}: want {want} got {n}")))
}

/// Calls any function except `and`/`or`, with evaluated arguments.
pub fn call<'a>(name: &str, args: Vec<Val<'a>>) -> Result<Val<'a>, FnErr> {
    check_arity(name, args.len())?;
    let text = |s: String| Ok(Val::owned(s));
    let cmp = |f: fn(&[Val]) -> Result<bool, FnErr>| f(&args).map(Val::owned);
    match name {
        "not" => Ok(Val::owned(!args[0].is_true())),
        "len" => len(&args[0]).map(Val::owned),
        "index" => index(&args),
        "slice" => slice(&args),
        "print" | "println" => text(sprint(&args, name == "println")),
        "printf" => text(printf(want_str(&args, 0)?, &args[1..])),
        "eq" => cmp(eq),
        "ne" => cmp(|a| eq(a).map(|b| !b)),
        "lt" => cmp(lt),
        "le" => cmp(|a| Ok(lt(a)? || eq(a)?)),
        "gt" => cmp(|a| Ok(!(lt(a)? || eq(a)?))),
        "ge" => cmp(|a| lt(a).map(|b| !b)),
        "json" => text(to_json(args[0].json(), args[0].hint())),
        "join" => text(want_strs(&args, 0)?.join(want_str(&args, 1)?)),
        "split" => {
            let (s, sep) = (want_str(&args, 0)?, want_str(&args, 1)?);
            let parts: Vec<String> = match sep {
                "" => s.chars().map(String::from).collect(), // like Go's strings.Split
                _ => s.split(sep).map(String::from).collect(),
            };
            Ok(Val::owned(parts))
        }
        "upper" => text(want_str(&args, 0)?.to_uppercase()),
        "lower" => text(want_str(&args, 0)?.to_lowercase()),
        "title" => text(title(want_str(&args, 0)?)),
        "pad" => {
            // Docker's pad leaves an empty string empty.
            let (s, l, r) = (want_str(&args, 0)?, want_int(&args, 1)?, want_int(&args, 2)?);
            let padded = " ".repeat(l) + s + &" ".repeat(r);
            text(if s.is_empty() { String::new() } else { padded })
        }
        "truncate" => {
            let (s, n) = (want_str(&args, 0)?, want_int(&args, 1)?);
            text(s.chars().take(n).collect())
        }
        _ => unreachable!("unknown function {name}"),
    }
}

/// Go's error for an argument that doesn't convert to the parameter type `want`.
fn wrong_type(i: usize, want: &str, v: &Value) -> FnErr {
    FnErr::Arg(i, format!("wrong type for value; expected {want}; got {}", type_name(v)))
}

/// A `string` parameter.
fn want_str<'v>(args: &'v [Val], i: usize) -> Result<&'v str, FnErr> {
    match args[i].json() {
        Value::String(s) => Ok(s),
        Value::Null => Err(FnErr::Arg(i, "invalid value; expected string".into())),
        v => Err(wrong_type(i, "string", v)),
    }
}

/// An `int` parameter (negative counts are treated as 0).
fn want_int(args: &[Val], i: usize) -> Result<usize, FnErr> {
    let v = args[i].json();
    v.as_i64().map(|n| n.max(0) as usize).ok_or_else(|| wrong_type(i, "int", v))
}

/// A `[]string` parameter; a null (nil slice) is empty.
fn want_strs<'v>(args: &'v [Val], i: usize) -> Result<Vec<&'v str>, FnErr> {
    let v = args[i].json();
    let strs = match v {
        Value::Null => Some(Vec::new()),
        _ => v.as_array().and_then(|a| a.iter().map(Value::as_str).collect()),
    };
    strs.ok_or_else(|| wrong_type(i, "[]string", v))
}

fn as_int(v: &Value) -> Option<i128> {
    v.as_i64().map(i128::from).or_else(|| v.as_u64().map(i128::from))
}

fn len(v: &Val) -> Result<usize, FnErr> {
    match v.json() {
        Value::String(s) => Ok(s.len()), // bytes, like Go
        Value::Array(a) => Ok(a.len()),
        Value::Object(m) => Ok(m.len()),
        Value::Null if null_text(v.hint()).is_some() => Ok(0), // a nil slice or map
        Value::Null => call_err("len of untyped nil"),
        other => call_err(format!("len of type {}", type_name(other))),
    }
}

/// `index x 1 "key" ...`: arrays and strings by int (a string yields a byte), objects by key.
fn index<'a>(args: &[Val<'a>]) -> Result<Val<'a>, FnErr> {
    let mut item = args[0].clone();
    for idx in args[1..].iter().map(Val::json) {
        // A missing key yields the zero value of the map's element type: "" for string maps.
        let string_map = item.hint().is_some_and(|h| STRING_MAP_FIELDS.contains(&h));
        let missing = if string_map { Val::owned("") } else { Val::NoValue };
        let i = as_int(idx).and_then(|i| usize::try_from(i).ok());
        item = match item.json() {
            Value::Null if null_text(item.hint()) == Some("map[]") => missing,
            Value::Null => return call_err("index of untyped nil"),
            Value::Array(_) | Value::String(_) if as_int(idx).is_none() => {
                return call_err(format!("cannot index slice/array with type {}", type_name(idx)));
            }
            Value::String(s) => match i.and_then(|i| s.as_bytes().get(i)) {
                Some(b) => Val::owned(*b),
                None => return call_err(format!("index out of range: {idx}")),
            },
            Value::Array(_) => match i.and_then(|i| item.child(i, None)) {
                Some(v) => v,
                None => return call_err(format!("index out of range: {idx}")),
            },
            Value::Object(_) => match idx.as_str() {
                Some(key) => item.child(key, None).unwrap_or(missing),
                None => {
                    return call_err(format!("value has type {}; should be string", type_name(idx)));
                }
            },
            other => return call_err(format!("can't index item of type {}", type_name(other))),
        };
    }
    Ok(item)
}

/// `slice x i j [k]`: substring (by bytes, like Go) or sub-array.
fn slice<'a>(args: &[Val<'a>]) -> Result<Val<'a>, FnErr> {
    let item = args[0].json();
    let len = match item {
        Value::String(_) if args.len() > 3 => return call_err("cannot 3-index slice a string"),
        Value::String(s) => s.len(),
        Value::Array(a) if args.len() <= 4 => a.len(),
        Value::Array(_) => return call_err(format!("too many slice indexes: {}", args.len() - 1)),
        Value::Null => return call_err("slice of untyped nil"),
        other => return call_err(format!("can't slice item of type {}", type_name(other))),
    };
    let mut idx = Vec::new();
    for a in args[1..].iter().map(Val::json) {
        match as_int(a) {
            Some(i) if (0..=len as i128).contains(&i) => idx.push(i as usize),
            Some(i) => return call_err(format!("index out of range: {i}")),
            None => {
                return call_err(format!("cannot index slice/array with type {}", type_name(a)));
            }
        }
    }
    let (i, j) = (idx.first().copied().unwrap_or(0), idx.get(1).copied().unwrap_or(len));
    let k = idx.get(2).copied().unwrap_or(len);
    if i > j || j > k {
        let (a, b) = if i > j { (i, j) } else { (j, k) };
        return call_err(format!("invalid slice index: {a} > {b}"));
    }
    Ok(match item {
        Value::String(s) => Val::owned(String::from_utf8_lossy(&s.as_bytes()[i..j]).into_owned()),
        _ => Val::owned(item.as_array().map_or(&[][..], |a| &a[i..j]).to_vec()),
    })
}

/// Go's fmt.Sprint (a space between operands when neither is a string) and fmt.Sprintln
/// (always spaces, plus a newline). A missing value is nil here, as in Go.
fn sprint(args: &[Val], ln: bool) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        let strings = a.json().is_string() || (i > 0 && args[i - 1].json().is_string());
        if i > 0 && (ln || !strings) {
            out.push(' ');
        }
        match a {
            Val::NoValue => out.push_str("<nil>"),
            _ => print_val(&mut out, a),
        }
    }
    if ln {
        out.push('\n');
    }
    out
}

/// Go's fmt.Sprintf for the common verbs, flags (`-+# 0`), width and precision.
fn printf(format: &str, args: &[Val]) -> String {
    let (mut out, mut next) = (String::new(), 0);
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut s = Spec::verb('v');
        while let Some(f) = chars.next_if(|f| "-+# 0".contains(*f)) {
            let flag = match f {
                '-' => &mut s.minus,
                '+' => &mut s.plus,
                '#' => &mut s.sharp,
                ' ' => &mut s.space,
                _ => &mut s.zero,
            };
            *flag = true;
        }
        let mut too_large = false;
        s.width = digits(&mut chars, &mut too_large);
        if !too_large && chars.next_if_eq(&'.').is_some() {
            s.prec = Some(digits(&mut chars, &mut too_large).unwrap_or(0));
        }
        if too_large {
            // Go's parsenum gives up on a number over 1e6 and skips the rest of the format.
            out.push_str("%!(NOVERB)");
            break;
        }
        match chars.next() {
            None => out.push_str("%!(NOVERB)"),
            Some('%') => out.push('%'),
            Some(verb) if next < args.len() => {
                next += 1;
                write(&mut out, args[next - 1].json(), args[next - 1].hint(), &Spec { verb, ..s });
            }
            Some(verb) => out.push_str(&format!("%!{verb}(MISSING)")),
        }
    }
    for (i, a) in args.iter().enumerate().skip(next) {
        out.push_str(if i == next { "%!(EXTRA " } else { ", " });
        out.push_str(type_name(a.json()));
        out.push('=');
        write(&mut out, a.json(), a.hint(), &Spec::verb('v'));
        if i + 1 == args.len() {
            out.push(')');
        }
    }
    out
}

/// Reads a decimal number (a printf width or precision), if there is one. As Go's
/// `parsenum`, a number that grows past 1e6 sets `too_large` and consumes the whole format
/// (so `%0999999999d` cannot ask for a gigabyte of padding).
fn digits(chars: &mut std::iter::Peekable<std::str::Chars>, too_large: &mut bool) -> Option<usize> {
    let mut n = None;
    while let Some(d) = chars.next_if(char::is_ascii_digit) {
        if n.unwrap_or(0) > 1_000_000 {
            *too_large = true;
            chars.for_each(drop);
            return None;
        }
        n = Some(n.unwrap_or(0) * 10 + d as usize - '0' as usize);
    }
    n
}

/// Comparison classes, as in Go's funcs.go: different classes don't compare (except that
/// anything is unequal to nil), and arrays and maps aren't comparable at all.
#[derive(PartialEq, PartialOrd)]
enum Basic<'v> {
    Nil,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(&'v str),
    Other,
}

fn basic<'v>(v: &'v Val) -> Basic<'v> {
    match v.json() {
        Value::Null => Basic::Nil,
        Value::Bool(b) => Basic::Bool(*b),
        Value::Number(n) if n.is_f64() => Basic::Float(n.as_f64().unwrap_or(0.0)),
        Value::Number(_) => Basic::Int(as_int(v.json()).unwrap_or(0)),
        Value::String(s) => Basic::Str(s),
        _ => Basic::Other,
    }
}

fn same_class(a: &Basic, b: &Basic) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// `eq a b c...` is a==b || a==c || ...
fn eq(args: &[Val]) -> Result<bool, FnErr> {
    if args.len() < 2 {
        return call_err("missing argument for comparison");
    }
    let a = basic(&args[0]);
    for b in args[1..].iter().map(basic) {
        let truth = match (&a, &b) {
            (Basic::Other, Basic::Other) => {
                return call_err(format!("non-comparable type {}", type_name(args[0].json())));
            }
            _ if same_class(&a, &b) => a == b,
            (Basic::Nil, _) | (_, Basic::Nil) => false,
            _ => return call_err("incompatible types for comparison"),
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `lt a b` for two numbers of the same class or two strings.
fn lt(args: &[Val]) -> Result<bool, FnErr> {
    let (a, b) = (basic(&args[0]), basic(&args[1]));
    if [&a, &b].iter().any(|k| matches!(k, Basic::Nil | Basic::Bool(_) | Basic::Other)) {
        return call_err("invalid type for comparison");
    }
    if !same_class(&a, &b) {
        return call_err("incompatible types for comparison");
    }
    Ok(a < b)
}

/// Go's strings.Title: upper-cases letters that start a word (after a separator).
fn title(s: &str) -> String {
    let mut prev_sep = true;
    let mut out = String::new();
    for c in s.chars() {
        match prev_sep {
            true => out.extend(c.to_uppercase()),
            false => out.push(c),
        }
        prev_sep = match c.is_ascii() {
            true => !(c.is_ascii_alphanumeric() || c == '_'),
            false => c.is_whitespace(),
        };
    }
    out
}
