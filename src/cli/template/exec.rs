//! Executor: walks the parsed tree over a JSON value with Go's evaluation rules.

use super::fmt::{print_val, type_name, write, Spec, Val};
use super::funcs::{self, FnErr};
use super::parse::{Arg, ArgKind, Cmd, Control, Node, Pipe};
use serde_json::Value;
use std::borrow::Cow;

/// An execution error at a byte offset, with the source text of the node it concerns.
pub struct ExecError {
    pub pos: usize,
    pub context: String,
    pub msg: String,
}

type EResult<T> = Result<T, ExecError>;

fn error(pos: usize, context: &str, msg: impl Into<String>) -> ExecError {
    ExecError { pos, context: context.into(), msg: msg.into() }
}

fn fail<T>(pos: usize, context: &str, msg: impl Into<String>) -> EResult<T> {
    Err(error(pos, context, msg))
}

enum Flow {
    Normal,
    Break,
    Continue,
}

pub struct State<'a> {
    /// Variables in scope, innermost last; `$` is the root data.
    vars: Vec<(&'a str, Val<'a>)>,
    pub out: String,
}

impl<'a> State<'a> {
    pub fn new(data: &'a Value) -> Self {
        State { vars: vec![("$", Val::Json(Cow::Borrowed(data), None))], out: String::new() }
    }

    pub fn run(&mut self, nodes: &'a [Node]) -> EResult<()> {
        let dot = self.vars[0].1.clone();
        self.walk(nodes, &dot).map(|_| ())
    }

    fn walk(&mut self, nodes: &'a [Node], dot: &Val<'a>) -> EResult<Flow> {
        for node in nodes {
            let flow = match node {
                Node::Text(s) => {
                    self.out.push_str(s);
                    Flow::Normal
                }
                Node::Action(pipe) => {
                    let v = self.pipe(pipe, dot)?;
                    // Actions that declare or assign variables print nothing.
                    if pipe.decl.is_empty() {
                        print_val(&mut self.out, &v);
                    }
                    Flow::Normal
                }
                Node::If(c) | Node::With(c) => {
                    let mark = self.vars.len();
                    let v = self.pipe(&c.pipe, dot)?;
                    let flow = match (v.is_true(), node) {
                        (true, Node::With(_)) => self.walk(&c.list, &v)?,
                        (true, _) => self.walk(&c.list, dot)?,
                        (false, _) => self.walk(&c.else_list, dot)?,
                    };
                    self.vars.truncate(mark);
                    flow
                }
                Node::Range(c) => self.range(c, dot)?,
                Node::Break => Flow::Break,
                Node::Continue => Flow::Continue,
            };
            if !matches!(flow, Flow::Normal) {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    /// Arrays iterate with (index, element); objects with (key, value) in sorted key order, as
    /// Go sorts map keys. Nulls and missing values iterate zero times (nil slices and maps).
    fn range(&mut self, c: &'a Control, dot: &Val<'a>) -> EResult<Flow> {
        let mark = self.vars.len();
        let v = self.pipe(&c.pipe, dot)?;
        let items: Vec<(Val<'a>, Val<'a>)> = match v.json() {
            Value::Null => Vec::new(),
            Value::Array(a) => (0..a.len()).filter_map(|i| Some((Val::owned(i), v.child(i, None)?))).collect(),
            Value::Object(m) => {
                let mut keys: Vec<&str> = m.keys().map(String::as_str).collect();
                keys.sort();
                keys.into_iter().filter_map(|k| Some((Val::owned(k), v.child(k, None)?))).collect()
            }
            other => {
                let mut shown = String::new();
                write(&mut shown, other, None, &Spec::verb('v'));
                return fail(c.pipe.pos, &c.pipe.text, format!("range can't iterate over {shown}"));
            }
        };
        if items.is_empty() {
            let flow = self.walk(&c.else_list, dot)?;
            self.vars.truncate(mark);
            return Ok(flow);
        }
        for (key, elem) in items {
            // `range $v := x` binds the element; `range $k, $v := x` binds key and element.
            if let [.., last] = &c.pipe.decl[..] {
                self.set_var(last, elem.clone());
            }
            if let [first, _] = &c.pipe.decl[..] {
                self.set_var(first, key);
            }
            let inner = self.vars.len();
            let flow = self.walk(&c.list, &elem)?;
            self.vars.truncate(inner);
            if matches!(flow, Flow::Break) {
                break;
            }
        }
        self.vars.truncate(mark);
        Ok(Flow::Normal)
    }

    fn set_var(&mut self, name: &str, v: Val<'a>) {
        if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
            slot.1 = v;
        }
    }

    /// Evaluates a pipeline; each command's result is passed as the last argument of the next.
    fn pipe(&mut self, pipe: &'a Pipe, dot: &Val<'a>) -> EResult<Val<'a>> {
        let mut val = None;
        for cmd in &pipe.cmds {
            val = Some(self.command(cmd, dot, val)?);
        }
        let val = val.expect("the parser rejects empty pipelines");
        for name in &pipe.decl {
            match pipe.assign {
                true => self.set_var(name, val.clone()),
                false => self.vars.push((name, val.clone())),
            }
        }
        Ok(val)
    }

    fn command(&mut self, cmd: &'a Cmd, dot: &Val<'a>, fin: Option<Val<'a>>) -> EResult<Val<'a>> {
        let first = &cmd.args[0];
        let has_args = cmd.args.len() > 1 || fin.is_some();
        match &first.kind {
            ArgKind::Func(name) => self.call(name, (cmd.pos, &cmd.text), &cmd.args[1..], dot, fin),
            ArgKind::Nil => fail(first.pos, &first.text, "nil is not a command"),
            ArgKind::Field(f) if has_args => {
                let msg = format!("{} is not a method but has arguments", f[f.len() - 1]);
                fail(first.pos, &first.text, msg)
            }
            _ if has_args => {
                let msg = format!("can't give argument to non-function {}", first.text);
                fail(first.pos, &first.text, msg)
            }
            _ => self.arg(first, dot),
        }
    }

    fn arg(&mut self, arg: &'a Arg, dot: &Val<'a>) -> EResult<Val<'a>> {
        let (base, fields) = match &arg.kind {
            ArgKind::Dot => return Ok(dot.clone()),
            ArgKind::Nil => return Ok(Val::owned(Value::Null)),
            ArgKind::Const(v) => return Ok(Val::Json(Cow::Borrowed(v), None)),
            ArgKind::Func(name) => return self.call(name, (arg.pos, &arg.text), &[], dot, None),
            ArgKind::Field(f) => (dot.clone(), f),
            ArgKind::Var(name, f) => {
                let v = self.vars.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.clone());
                (v.expect("the parser checks variables"), f)
            }
            ArgKind::Paren(p, f) => (self.pipe(p, dot)?, f),
        };
        fields.iter().try_fold(base, |v, name| field(v, name).or_else(|m| fail(arg.pos, &arg.text, m)))
    }

    /// Calls a function. `and`/`or` evaluate lazily and return the deciding argument (Go 1.18+).
    fn call(
        &mut self,
        name: &str,
        (pos, text): (usize, &str),
        args: &'a [Arg],
        dot: &Val<'a>,
        fin: Option<Val<'a>>,
    ) -> EResult<Val<'a>> {
        let err_at = |e: FnErr| match e {
            FnErr::Call(m) => error(pos, text, format!("error calling {name}: {m}")),
            FnErr::Arg(i, m) if i < args.len() => error(args[i].pos, &args[i].text, m),
            FnErr::Arg(_, m) | FnErr::Plain(m) => error(pos, name, m),
        };
        if name == "and" || name == "or" {
            funcs::check_arity(name, args.len() + usize::from(fin.is_some())).map_err(err_at)?;
            let mut last = Val::NoValue;
            for a in args {
                last = self.arg(a, dot)?;
                if last.is_true() != (name == "and") {
                    return Ok(last);
                }
            }
            return Ok(fin.unwrap_or(last));
        }
        let mut vals = Vec::with_capacity(args.len() + 1);
        for a in args {
            vals.push(self.arg(a, dot)?);
        }
        vals.extend(fin);
        funcs::call(name, vals).map_err(err_at)
    }
}

/// `.Name` of a value: object lookup (a missing key gives no value), through null or no value
/// gives no value, and anything else is an error like Go's.
fn field<'a>(v: Val<'a>, name: &'a str) -> Result<Val<'a>, String> {
    match v.json() {
        Value::Null => Ok(Val::NoValue),
        Value::Object(_) => Ok(v.child(name, Some(name)).unwrap_or(Val::NoValue)),
        other => Err(format!("can't evaluate field {name} in type {}", type_name(other))),
    }
}
