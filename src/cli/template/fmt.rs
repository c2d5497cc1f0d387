//! Runtime values and how Go prints them: fmt's %v and printf verbs, plus json encoding.

use super::lex::quote;
use serde_json::Value;
use std::borrow::Cow;

// Docker's inspect data are typed Go structs, so a JSON `null` there was a nil slice or a nil map,
// which Go's fmt prints as `[]` / `map[]` (only nil pointers/interfaces print `<nil>`). JSON loses
// that type, so we guess it from the name of the field the null was read from.
/// Docker fields of slice type: a null read from them prints `[]`.
#[rustfmt::skip]
pub const SLICE_FIELDS: &[&str] = &[
    "Entrypoint", "Cmd", "Env", "OnBuild", "RepoTags", "RepoDigests", "Layers", "Mounts", "Shell",
    "Args", "Binds", "Links", "Dns", "DnsOptions", "DnsSearch", "ExtraHosts", "CapAdd", "CapDrop",
    "SecurityOpt", "Aliases", "Test",
];
/// Docker fields of map type: a null read from them prints `map[]`.
#[rustfmt::skip]
pub const MAP_FIELDS: &[&str] = &[
    "Volumes", "Labels", "ExposedPorts", "Networks", "Options", "Ports", "PortBindings",
    "Containers", "Annotations", "Tmpfs", "Sysctls", "StorageOpt",
];
/// The map fields above whose values are strings: Go's `index` of a missing key returns the
/// element type's zero value, so `{{index .Config.Labels "x"}}` prints "" in Docker.
#[rustfmt::skip]
pub const STRING_MAP_FIELDS: &[&str] =
    &["Labels", "Options", "Annotations", "Tmpfs", "Sysctls", "StorageOpt"];

/// A value during execution.
#[derive(Clone, Debug)]
pub enum Val<'a> {
    /// Go's invalid reflect.Value, e.g. a missing map key: prints `<no value>`.
    NoValue,
    /// A JSON value and the name of the field it was read from (see SLICE_FIELDS).
    Json(Cow<'a, Value>, Option<&'a str>),
}

impl<'a> Val<'a> {
    pub fn owned(v: impl Into<Value>) -> Self {
        Val::Json(Cow::Owned(v.into()), None)
    }

    /// The JSON value; `NoValue` becomes null (Go turns it into nil when passing it to functions).
    pub fn json(&self) -> &Value {
        match self {
            Val::NoValue => &Value::Null,
            Val::Json(v, _) => v,
        }
    }

    pub fn hint(&self) -> Option<&'a str> {
        match self {
            Val::Json(_, h) => *h,
            Val::NoValue => None,
        }
    }

    /// Looks up an object key or array index, keeping borrowed data borrowed.
    pub fn child<I: serde_json::value::Index>(&self, idx: I, hint: Option<&'a str>) -> Option<Val<'a>> {
        match self {
            Val::Json(Cow::Borrowed(v), _) => v.get(idx).map(|c| Val::Json(Cow::Borrowed(c), hint)),
            Val::Json(Cow::Owned(v), _) => v.get(idx).map(|c| Val::Json(Cow::Owned(c.clone()), hint)),
            Val::NoValue => None,
        }
    }

    /// Go's truth: false, 0, nil, and empty strings, arrays and maps are false.
    pub fn is_true(&self) -> bool {
        match self.json() {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64() != Some(0.0),
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(m) => !m.is_empty(),
        }
    }
}

/// How a JSON null prints, by the name of the field it came from.
pub fn null_text(hint: Option<&str>) -> Option<&'static str> {
    match hint {
        Some(h) if SLICE_FIELDS.contains(&h) => Some("[]"),
        Some(h) if MAP_FIELDS.contains(&h) => Some("map[]"),
        _ => None,
    }
}

/// The Go type name used in error messages (as if the JSON had been decoded into interface{}).
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// A parsed printf directive: `%[flags][width][.prec]verb`.
#[derive(Clone, Copy, Default)]
pub struct Spec {
    pub verb: char,
    pub minus: bool,
    pub plus: bool,
    pub zero: bool,
    pub space: bool,
    pub sharp: bool,
    pub width: Option<usize>,
    pub prec: Option<usize>,
}

impl Spec {
    pub fn verb(verb: char) -> Spec {
        Spec { verb, ..Spec::default() }
    }
}

/// Prints a value as `{{.}}` does: `<no value>` for missing keys, else `%v`.
pub fn print_val(out: &mut String, v: &Val) {
    match v {
        Val::NoValue => out.push_str("<no value>"),
        Val::Json(j, hint) => write(out, j, *hint, &Spec::verb('v')),
    }
}

/// Formats a value with a verb. Like Go, arrays and maps apply the verb to each element:
/// `[a b]`, `map[k1:v1 k2:v2]` with sorted keys. An empty object prints `{}` because Docker's
/// empty objects are struct{} values (e.g. `map[80/tcp:{}]`).
pub fn write(out: &mut String, v: &Value, hint: Option<&str>, s: &Spec) {
    match v {
        Value::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                out.push_str(if i > 0 { " " } else { "" });
                write(out, e, None, s);
            }
            out.push(']');
        }
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push_str("map[");
            for (i, k) in keys.into_iter().enumerate() {
                out.push_str(if i > 0 { " " } else { "" });
                write(out, &Value::String(k.clone()), None, s);
                out.push(':');
                write(out, &m[k], Some(k), s);
            }
            out.push(']');
        }
        Value::Null => match (null_text(hint), s.verb) {
            (Some(t), _) => out.push_str(t),
            (None, 'v') => pad(out, "<nil>".into(), s, false),
            (None, verb) => out.push_str(&format!("%!{verb}(<nil>)")),
        },
        _ => match scalar(v, s) {
            Some(body) => pad(out, body, s, !v.is_string()),
            None => {
                // Go's bad-verb notation, e.g. `%!d(string=abc)`.
                out.push_str(&format!("%!{}({}=", s.verb, type_name(v)));
                write(out, v, None, &Spec { verb: 'v', ..*s });
                out.push(')');
            }
        },
    }
}

/// Pads `body` to the spec's width; the `0` flag pads numbers after their sign.
fn pad(out: &mut String, body: String, s: &Spec, numeric: bool) {
    let fill = s.width.unwrap_or(0).saturating_sub(body.chars().count());
    let sign = usize::from(numeric && body.starts_with(['-', '+', ' ']));
    match (s.minus, s.zero) {
        (true, _) => *out += &(body + &" ".repeat(fill)),
        (false, true) => *out += &format!("{}{}{}", &body[..sign], "0".repeat(fill), &body[sign..]),
        (false, false) => *out += &(" ".repeat(fill) + &body),
    }
}

/// Formats a string, bool or number; None means the verb doesn't apply to it.
fn scalar(v: &Value, s: &Spec) -> Option<String> {
    let sign = |neg: bool| match (neg, s.plus, s.space) {
        (true, ..) => "-",
        (false, true, _) => "+",
        (false, false, true) => " ",
        _ => "",
    };
    match v {
        Value::String(st) => {
            let st: String = st.chars().take(s.prec.unwrap_or(usize::MAX)).collect();
            match s.verb {
                'v' | 's' => Some(st),
                'q' => Some(quote(&st)),
                'x' => Some(st.bytes().map(|b| format!("{b:02x}")).collect()),
                'X' => Some(st.bytes().map(|b| format!("{b:02X}")).collect()),
                _ => None,
            }
        }
        Value::Bool(b) if matches!(s.verb, 'v' | 't') => Some(b.to_string()),
        Value::Number(n) if !n.is_f64() => {
            let i = n.as_i64().map_or_else(|| n.as_u64().unwrap_or(0) as i128, i128::from);
            let (a, sharp) = (i.unsigned_abs(), if s.sharp { "0" } else { "" });
            let digits = match s.verb {
                'v' | 'd' => a.to_string(),
                'x' => format!("{sharp}{}{a:x}", if s.sharp { "x" } else { "" }),
                'X' => format!("{sharp}{}{a:X}", if s.sharp { "X" } else { "" }),
                'o' => format!("{sharp}{a:o}"),
                'b' => format!("{a:b}"),
                'c' => return char::from_u32(i as u32).map(String::from),
                _ => return None,
            };
            Some(format!("{}{digits}", sign(i < 0)))
        }
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            let body = match s.verb {
                'v' | 'g' => go_float(f.abs(), 'g', s.prec),
                'e' | 'f' => go_float(f.abs(), s.verb, Some(s.prec.unwrap_or(6))),
                _ => return None,
            };
            Some(format!("{}{body}", sign(f.is_sign_negative())))
        }
        _ => None,
    }
}

/// Go's strconv.FormatFloat for 'e', 'f' and 'g' (prec None = shortest round-trip digits).
/// %v is 'g' shortest, which uses exponent form when exp < -4 || exp >= 6 (6, not the number
/// of digits, for shortest output): 1.5, 123456, 1.234567e+06, 1e-05, 1e+21.
pub fn go_float(f: f64, verb: char, prec: Option<usize>) -> String {
    // Rust's formatter refuses a precision over 65535, and no f64 has more than 1100
    // significant decimals: beyond that, the digits are zeros, appended here.
    const MAX_PREC: usize = 1100;
    let zeros = "0".repeat(prec.unwrap_or(0).saturating_sub(MAX_PREC));
    let prec = prec.map(|p| p.min(MAX_PREC));
    // Go's exponent has a sign and at least two digits.
    let go_exp = |mant: &str, e: i32| format!("{mant}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    let sci = match (verb, prec) {
        _ if !f.is_finite() => return format!("{f}").replace("inf", "+Inf").replace("++", "+"),
        ('f', p) => return format!("{:.*}{zeros}", p.unwrap_or(6), f),
        ('e', p) => format!("{:.*e}", p.unwrap_or(6), f),
        (_, None) => format!("{f:e}"),
        (_, Some(p)) => format!("{:.*e}", p.max(1) - 1, f), // `p` significant digits
    };
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if verb == 'e' {
        return go_exp(&format!("{mant}{zeros}"), exp);
    }
    // %g: trailing zeros don't count as digits.
    let mant = if mant.contains('.') { mant.trim_end_matches('0').trim_end_matches('.') } else { mant };
    let nd = mant.chars().filter(char::is_ascii_digit).count() as i32;
    let eprec = match prec {
        None => 6,
        Some(p) if p as i32 > nd && nd > exp => nd,
        Some(p) => p.max(1) as i32,
    };
    match prec {
        _ if exp < -4 || exp >= eprec => go_exp(mant, exp),
        None => format!("{f}"),
        Some(_) => format!("{:.*}", (nd - exp - 1).max(0) as usize, f),
    }
}

/// Go's json.Marshal escapes `<`, `>` and `&` (HTML safety), but docker/cli's `json`
/// function turns this off (SetEscapeHTML(false)), so `docker inspect` prints them raw.
const JSON_ESCAPE_HTML: bool = false;

/// JSON like Go's json.Marshal: compact; `<`, `>`, `&`, U+2028 and U+2029 escaped in strings;
/// floats without exponent between 1e-6 and 1e21 (`100000000000000000000`, `1e-7`, `1e+21`).
/// Objects keep their key order (Docker's structs encode in field order), except those read from
/// a MAP_FIELDS field, whose keys Go sorts. `hint` is the name of the field `v` was read from.
pub fn to_json(v: &Value, hint: Option<&str>) -> String {
    let list = |items: Vec<String>| items.join(",");
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(0.0);
            match f.abs() {
                a if a != 0.0 && !(1e-6..1e21).contains(&a) => go_float(f, 'g', None).replace("e-0", "e-"),
                _ => format!("{f}"),
            }
        }
        Value::Array(a) => format!("[{}]", list(a.iter().map(|e| to_json(e, None)).collect())),
        Value::Object(m) => {
            let mut members: Vec<(&String, &Value)> = m.iter().collect();
            if hint.is_some_and(|h| MAP_FIELDS.contains(&h)) {
                members.sort_by_key(|(k, _)| *k);
            }
            let member =
                |(k, v): (&String, &Value)| format!("{}:{}", to_json(&k.as_str().into(), None), to_json(v, Some(k)));
            format!("{{{}}}", list(members.into_iter().map(member).collect()))
        }
        // null, bools, integers and strings: serde_json's encoding plus Go's extra escapes.
        _ => {
            let s = v.to_string().replace('\u{2028}', "\\u2028").replace('\u{2029}', "\\u2029");
            match JSON_ESCAPE_HTML {
                true => s.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026"),
                false => s,
            }
        }
    }
}
