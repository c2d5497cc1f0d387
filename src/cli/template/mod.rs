//! Go `text/template` evaluation over JSON values, as used by `docker inspect --format`.

mod exec;
mod fmt;
mod funcs;
mod lex;
mod parse;
#[cfg(test)]
mod tests;

/// A parsed template.
pub struct Template {
    src: String,
    root: Vec<parse::Node>,
}

/// A parse or execution error, worded like Go's.
#[derive(Debug)]
pub struct TemplateError(pub String);

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

/// Line (1-based) and column (byte offset within the line, as Go reports it) of `pos`.
fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let before = &src[..pos.min(src.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (before.matches('\n').count() + 1, before.len() - line_start)
}

impl Template {
    /// Parses a template; errors read like Go's: `template: :1: function "foo" not defined`,
    /// `template: :1: unexpected "}" in operand`, `template: :1: unexpected EOF` etc.
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        match parse::Parser::new(src).parse_root() {
            Ok(root) => Ok(Template { src: src.to_string(), root }),
            Err((pos, msg)) => Err(TemplateError(format!("template: :{}: {msg}", line_col(src, pos).0))),
        }
    }

    /// Executes it over `data` (the dot). Execution errors read like Go's:
    /// `template: :1:2: executing "" at <index .X 5>: error calling index: index out of range: 5`.
    pub fn execute(&self, data: &serde_json::Value) -> Result<String, TemplateError> {
        let mut state = exec::State::new(data);
        match state.run(&self.root) {
            Ok(()) => Ok(state.out),
            Err(e) => {
                let (line, col) = line_col(&self.src, e.pos);
                Err(TemplateError(format!("template: :{line}:{col}: executing \"\" at <{}>: {}", e.context, e.msg)))
            }
        }
    }
}
