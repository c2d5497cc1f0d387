//! Shell-word processing as Docker's `shell.Lex` does it: `$VAR` expansion, quote removal, word splitting.

/// Looks a variable up; `None` means unset (which is not the same as set to "").
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Processes one word like `shell.Lex.ProcessWord`: expands variables and removes quotes and
/// escapes. Whitespace is kept as it is. Unset variables expand to "".
///
/// Supported: `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`,
/// `${VAR:?msg}`, `${VAR?msg}` (error when unset, or also when empty with `:`), defaults that
/// themselves contain expansions and quotes, single quotes (literal), double quotes (only `$`
/// and the escape character are special), and the escape character outside quotes. The
/// pattern operators of newer BuildKit (`#`, `%`, `/`) are reported as unsupported modifiers.
pub fn expand(word: &str, lookup: Lookup<'_>, escape: char) -> Result<String, String> {
    Lexer::new(word, lookup, escape).process().map(|(result, _)| result)
}

/// Processes text like `shell.Lex.ProcessWords`: expands, then splits on whitespace that is
/// neither quoted nor escaped. Whitespace that a `$VAR`/`${VAR:-x y}` expansion produces does
/// split (as in Docker), unless the expansion is inside double quotes.
pub fn expand_words(text: &str, lookup: Lookup<'_>, escape: char) -> Result<Vec<String>, String> {
    Lexer::new(text, lookup, escape).process().map(|(_, words)| words)
}

/// Splits an instruction line into words the way BuildKit looks for here-documents: quotes and
/// escapes kept, unknown variables kept as written, escape character always `\`.
pub(super) fn heredoc_words(line: &str) -> Vec<String> {
    let none = |_: &str| None;
    let mut lexer = Lexer::new(line, &none, '\\');
    lexer.raw_quotes = true;
    lexer.raw_escapes = true;
    lexer.skip_unset = true;
    lexer.process().map(|(_, words)| words).unwrap_or_default()
}

/// The here-document delimiter for the text after `<<`/`<<-`: its unquoted name, and whether
/// the body is to be expanded (it is not when any part of the delimiter was quoted).
/// `None` when the text is not exactly one word.
pub(super) fn heredoc_name(rest: &str) -> Result<Option<(String, bool)>, String> {
    let none = |_: &str| None;
    let mut lexer = Lexer::new(rest, &none, '\\');
    lexer.skip_unset = true;
    let (_, words) = lexer.process()?;
    let [word] = words.as_slice() else {
        return Ok(None);
    };
    let mut lexer = Lexer::new(rest, &none, '\\');
    lexer.skip_unset = true;
    lexer.raw_quotes = true;
    let (_, raw) = lexer.process()?;
    let quotes = |s: &str| s.chars().filter(|c| matches!(c, '\'' | '"')).count();
    let expand = raw.len() == 1 && quotes(word) == quotes(&raw[0]);
    Ok(Some((word.clone(), expand)))
}

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    escape: char,
    lookup: Lookup<'a>,
    /// Keep quote characters in the output (BuildKit's `RawQuotes`).
    raw_quotes: bool,
    /// Keep escape characters in the output (BuildKit's `RawEscapes`).
    raw_escapes: bool,
    /// Leave references to unset variables as written (BuildKit's `SkipUnsetEnv`).
    skip_unset: bool,
    /// How many `${…}` enclose the current position (bounded: the recursion is on the stack).
    depth: usize,
}

/// The deepest `${a:-${b:-…}}` nesting processed; deeper input is refused rather than allowed
/// to overflow the stack (Docker accepts any depth; no real Dockerfile comes near this).
const MAX_NESTING: usize = 64;

/// Word splitting state (BuildKit's `wordsStruct`).
#[derive(Default)]
struct Words {
    word: String,
    words: Vec<String>,
}

impl Words {
    /// Adds text whose whitespace separates words (unquoted text, `$` expansions).
    fn add_splitting(&mut self, text: &str) {
        for ch in text.chars() {
            if ch.is_whitespace() {
                self.end_word();
            } else {
                self.word.push(ch);
            }
        }
    }
    fn end_word(&mut self) {
        if !self.word.is_empty() {
            self.words.push(std::mem::take(&mut self.word));
        }
    }
    fn finish(mut self) -> Vec<String> {
        self.end_word();
        self.words
    }
}

impl<'a> Lexer<'a> {
    fn new(text: &str, lookup: Lookup<'a>, escape: char) -> Self {
        Lexer {
            chars: text.chars().collect(),
            pos: 0,
            escape,
            lookup,
            raw_quotes: false,
            raw_escapes: false,
            skip_unset: false,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let ch = self.peek();
        if ch.is_some() {
            self.pos += 1;
        }
        ch
    }

    fn process(&mut self) -> Result<(String, Vec<String>), String> {
        self.process_until(None).map_err(|e| {
            let source: String = self.chars.iter().collect();
            format!("failed to process {source:?}: {e}")
        })
    }

    /// Processes up to `stop` (consumed) or the end of input when `stop` is `None`.
    fn process_until(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if Some(ch) == stop {
                self.pos += 1;
                return Ok((result, words.finish()));
            }
            match ch {
                '$' => {
                    let value = self.dollar()?;
                    result.push_str(&value);
                    words.add_splitting(&value);
                }
                '\'' | '"' => {
                    let value = self.quoted()?;
                    result.push_str(&value);
                    words.word.push_str(&value);
                }
                _ => {
                    self.pos += 1;
                    if ch != self.escape {
                        words.add_splitting(ch.encode_utf8(&mut [0; 4]));
                        result.push(ch);
                        continue;
                    }
                    if self.raw_escapes {
                        words.word.push(ch);
                        result.push(ch);
                    }
                    let Some(escaped) = self.next() else { break };
                    words.word.push(escaped);
                    result.push(escaped);
                }
            }
        }
        match stop {
            Some(stop) => Err(format!("unexpected end of statement while looking for matching {stop}")),
            None => Ok((result, words.finish())),
        }
    }

    /// A quoted string: single quotes keep everything; double quotes expand `$` and let the
    /// escape character escape `"`, `$` and itself (other escapes stay literal).
    fn quoted(&mut self) -> Result<String, String> {
        let quote = self.next().unwrap_or('"');
        let mut result = String::new();
        if self.raw_quotes {
            result.push(quote);
        }
        loop {
            let Some(ch) = self.peek() else {
                let which = if quote == '\'' { "single-quote" } else { "double-quote" };
                return Err(format!("unexpected end of statement while looking for matching {which}"));
            };
            if quote == '"' && ch == '$' {
                result.push_str(&self.dollar()?);
                continue;
            }
            self.pos += 1;
            if ch == quote {
                if self.raw_quotes {
                    result.push(ch);
                }
                return Ok(result);
            }
            if quote == '"' && ch == self.escape {
                if self.raw_escapes {
                    result.push(ch);
                }
                match self.peek() {
                    None => continue, // dropped; the missing quote is reported next
                    Some(next) if next == '"' || next == '$' || next == self.escape => {
                        self.pos += 1;
                        result.push(next);
                        continue;
                    }
                    Some(_) => {}
                }
            }
            result.push(ch);
        }
    }

    fn get_env(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    fn dollar(&mut self) -> Result<String, String> {
        self.pos += 1; // '$'
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(match self.get_env(&name) {
                Some(value) => value,
                None if self.skip_unset => format!("${name}"),
                None => String::new(),
            });
        }
        self.pos += 1; // '{'
        match self.peek() {
            None => return Err("syntax error: missing '}'".into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            Some(_) => {}
        }
        let name = self.name();
        let mut modifier = String::new();
        let mut null_is_unset = false;
        let mut op = self.next();
        if op == Some(':') {
            null_is_unset = true;
            modifier.push(':');
            op = self.next();
        }
        modifier.extend(op);
        match op {
            Some('}') if !null_is_unset => {
                return Ok(match self.get_env(&name) {
                    Some(value) => value,
                    None if self.skip_unset => format!("${{{name}}}"),
                    None => String::new(),
                });
            }
            Some('-' | '+' | '?') => {}
            None => return Err("syntax error: missing '}'".into()),
            _ => return Err(format!("unsupported modifier ({modifier}) in substitution")),
        }
        if self.depth >= MAX_NESTING {
            return Err(format!("syntax error: substitutions nested more than {MAX_NESTING} deep"));
        }
        self.depth += 1;
        let processed = self.process_until(Some('}'));
        self.depth -= 1;
        let (word, _) =
            processed.map_err(|e| if self.peek().is_none() { "syntax error: missing '}'".to_string() } else { e })?;
        let value = self.get_env(&name);
        if value.is_none() && self.skip_unset {
            return Ok(format!("${{{name}{modifier}{word}}}"));
        }
        let unset = match &value {
            None => true,
            Some(v) => null_is_unset && v.is_empty(),
        };
        match op {
            Some('-') => Ok(if unset { word } else { value.unwrap_or_default() }),
            Some('+') => Ok(if unset { String::new() } else { word }),
            _ => {
                if unset {
                    let default =
                        if value.is_none() { "is not allowed to be unset" } else { "is not allowed to be empty" };
                    let message = if word.is_empty() { default } else { &word };
                    return Err(format!("{name}: {message}"));
                }
                Ok(value.unwrap_or_default())
            }
        }
    }

    /// Reads a variable name: letters, digits and `_`; or a run of digits; or one special
    /// parameter character (`@*#?-$!0`).
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && ch.is_numeric() {
                while let Some(d) = self.peek().filter(|c| c.is_numeric()) {
                    name.push(d);
                    self.pos += 1;
                }
                return name;
            }
            if name.is_empty() && matches!(ch, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.pos += 1;
                return ch.to_string();
            }
            if !ch.is_alphanumeric() && ch != '_' {
                break;
            }
            name.push(ch);
            self.pos += 1;
        }
        name
    }
}

#[cfg(test)]
#[path = "expand_tests.rs"]
mod tests;
