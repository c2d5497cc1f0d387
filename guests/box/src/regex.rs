//! A small POSIX-style regex engine (BRE and ERE, GNU escapes) run by a Pike VM.
//!
//! Supported: literals, `.`, `[...]`/`[^...]` with ranges and `[:class:]`, `^ $`, `* + ? {n,m}`,
//! groups and alternation (ERE `( ) |`, BRE `\( \) \|`, BRE `\+ \?` and `\{n,m\}`), and the
//! GNU escapes `\w \W \s \S \b \B \< \>`. Matching is leftmost-first with greedy repeats;
//! group captures are kept (for sed's `\1`). No back-references. [`Regex::awk`] compiles
//! awk's flavour: ERE, backslash escapes inside brackets, and POSIX leftmost-longest matches
//! (what `match`, `sub` and `gsub` need).

#[derive(Debug, Clone)]
enum ClassItem {
    Range(char, char),
    Named(fn(char) -> bool),
}

#[derive(Debug, Clone)]
struct Class {
    neg: bool,
    items: Vec<ClassItem>,
}

impl Class {
    fn matches_one(&self, c: char) -> bool {
        self.items.iter().any(|it| match *it {
            ClassItem::Range(a, b) => a <= c && c <= b,
            ClassItem::Named(f) => f(c),
        })
    }
    fn matches(&self, c: char, icase: bool) -> bool {
        let hit = self.matches_one(c) || (icase && (self.matches_one(lower(c)) || self.matches_one(upper(c))));
        hit != self.neg
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Assert {
    Start,
    End,
    Word,
    NotWord,
    WordStart,
    WordEnd,
}

#[derive(Debug, Clone)]
enum Node {
    Char(char),
    Any,
    Class(Class),
    Assert(Assert),
    Group(usize, Box<Node>),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat(Box<Node>, u32, Option<u32>),
}

#[derive(Debug, Clone)]
enum Inst {
    Char(char),
    Any,
    Class(usize),
    Assert(Assert),
    Split(usize, usize),
    Jmp(usize),
    Save(usize),
    Match,
}

/// A compiled regular expression.
#[derive(Debug, Clone)]
pub struct Regex {
    prog: Vec<Inst>,
    classes: Vec<Class>,
    ngroups: usize,
    icase: bool,
    /// Leftmost-longest (POSIX) instead of leftmost-first.
    longest: bool,
}

// Classes and case folding are ASCII-only (like busybox without locale support): this keeps
// Unicode tables out of the wasm.
fn lower(c: char) -> char {
    c.to_ascii_lowercase()
}
fn upper(c: char) -> char {
    c.to_ascii_uppercase()
}
pub fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}
fn is_space(c: char) -> bool {
    c == ' ' || ('\t'..='\r').contains(&c)
}

fn named_class(name: &str) -> Option<fn(char) -> bool> {
    Some(match name {
        "alpha" => |c: char| c.is_ascii_alphabetic(),
        "digit" => |c: char| c.is_ascii_digit(),
        "alnum" => |c: char| c.is_ascii_alphanumeric(),
        "upper" => |c: char| c.is_ascii_uppercase(),
        "lower" => |c: char| c.is_ascii_lowercase(),
        "space" => is_space,
        "blank" => |c: char| c == ' ' || c == '\t',
        "punct" => |c: char| c.is_ascii_punctuation(),
        "print" => |c: char| !c.is_ascii_control(),
        "graph" => |c: char| !c.is_ascii_control() && c != ' ',
        "cntrl" => |c: char| c.is_ascii_control(),
        "xdigit" => |c: char| c.is_ascii_hexdigit(),
        _ => return None,
    })
}

struct Parser {
    p: Vec<char>,
    i: usize,
    ere: bool,
    groups: usize,
    /// awk: `\t`, `\]`, `\\`... inside brackets are escapes.
    class_escapes: bool,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.p.get(self.i).copied()
    }
    fn peek2(&self) -> Option<char> {
        self.p.get(self.i + 1).copied()
    }
    fn at_alt(&self) -> bool {
        if self.ere {
            self.peek() == Some('|')
        } else {
            self.peek() == Some('\\') && self.peek2() == Some('|')
        }
    }
    fn at_close(&self, depth: usize) -> bool {
        depth > 0
            && if self.ere { self.peek() == Some(')') } else { self.peek() == Some('\\') && self.peek2() == Some(')') }
    }

    fn alt(&mut self, depth: usize) -> Result<Node, String> {
        let mut branches = vec![self.concat(depth)?];
        while self.at_alt() {
            self.i += if self.ere { 1 } else { 2 };
            branches.push(self.concat(depth)?);
        }
        Ok(if branches.len() == 1 { branches.pop().unwrap() } else { Node::Alt(branches) })
    }

    fn concat(&mut self, depth: usize) -> Result<Node, String> {
        let mut items: Vec<Node> = Vec::new();
        while self.i < self.p.len() && !self.at_alt() && !self.at_close(depth) {
            let first =
                items.is_empty() || matches!(items.last(), Some(Node::Assert(Assert::Start)) if items.len() == 1);
            let atom = self.atom(depth, first)?;
            let atom = self.quantifiers(atom)?;
            items.push(atom);
        }
        Ok(if items.len() == 1 { items.pop().unwrap() } else { Node::Concat(items) })
    }

    /// Parse `{n}`, `{n,}`, `{n,m}` after the opening brace; None (position restored) if malformed.
    fn interval(&mut self) -> Option<(u32, Option<u32>)> {
        let save = self.i;
        let num = |s: &mut Self| -> Option<u32> {
            let st = s.i;
            while s.peek().is_some_and(|c| c.is_ascii_digit()) {
                s.i += 1;
            }
            if st == s.i {
                None
            } else {
                s.p[st..s.i].iter().collect::<String>().parse().ok()
            }
        };
        let lo = num(self);
        let hi = if self.peek() == Some(',') {
            self.i += 1;
            num(self)
        } else {
            Some(lo.unwrap_or(u32::MAX))
        };
        let closed = if self.ere {
            if self.peek() == Some('}') {
                self.i += 1;
                true
            } else {
                false
            }
        } else if self.peek() == Some('\\') && self.peek2() == Some('}') {
            self.i += 2;
            true
        } else {
            false
        };
        match (closed, lo) {
            (true, Some(lo)) if hi.is_none_or(|h| h >= lo && h <= 1000) && lo <= 1000 => Some((lo, hi)),
            (true, None) if hi.is_some_and(|h| h <= 1000) => Some((0, hi)),
            _ => {
                self.i = save;
                None
            }
        }
    }

    fn quantifiers(&mut self, mut atom: Node) -> Result<Node, String> {
        loop {
            let (min, max) = match (self.peek(), self.peek2()) {
                (Some('*'), _) => {
                    self.i += 1;
                    (0, None)
                }
                (Some('+'), _) if self.ere => {
                    self.i += 1;
                    (1, None)
                }
                (Some('?'), _) if self.ere => {
                    self.i += 1;
                    (0, Some(1))
                }
                (Some('\\'), Some('+')) if !self.ere => {
                    self.i += 2;
                    (1, None)
                }
                (Some('\\'), Some('?')) if !self.ere => {
                    self.i += 2;
                    (0, Some(1))
                }
                (Some('{'), _) if self.ere => {
                    self.i += 1;
                    match self.interval() {
                        Some(r) => r,
                        None => {
                            self.i -= 1;
                            return Ok(atom);
                        }
                    }
                }
                (Some('\\'), Some('{')) if !self.ere => {
                    self.i += 2;
                    match self.interval() {
                        Some(r) => r,
                        None => return Err("Invalid content of \\{\\}".into()),
                    }
                }
                _ => return Ok(atom),
            };
            atom = Node::Repeat(Box::new(atom), min, max);
        }
    }

    fn atom(&mut self, depth: usize, first: bool) -> Result<Node, String> {
        let c = self.p[self.i];
        self.i += 1;
        Ok(match c {
            '.' => Node::Any,
            '[' => Node::Class(self.class()?),
            '^' if self.ere || first => Node::Assert(Assert::Start),
            '$' if self.ere || self.i == self.p.len() || self.at_close(depth + 1) || self.at_alt() => {
                Node::Assert(Assert::End)
            }
            '*' if first => Node::Char('*'),
            '+' | '?' if self.ere && first => Node::Char(c),
            '(' if self.ere => self.group(depth)?,
            '\\' => {
                let Some(e) = self.peek() else {
                    return Err("Trailing backslash".into());
                };
                self.i += 1;
                match e {
                    '(' if !self.ere => self.group(depth)?,
                    'w' => Node::Class(Class { neg: false, items: vec![ClassItem::Named(is_word)] }),
                    'W' => Node::Class(Class { neg: true, items: vec![ClassItem::Named(is_word)] }),
                    's' => Node::Class(Class { neg: false, items: vec![ClassItem::Named(is_space)] }),
                    'S' => Node::Class(Class { neg: true, items: vec![ClassItem::Named(is_space)] }),
                    'b' => Node::Assert(Assert::Word),
                    'B' => Node::Assert(Assert::NotWord),
                    '<' => Node::Assert(Assert::WordStart),
                    '>' => Node::Assert(Assert::WordEnd),
                    'n' => Node::Char('\n'),
                    't' => Node::Char('\t'),
                    other => Node::Char(other),
                }
            }
            other => Node::Char(other),
        })
    }

    fn group(&mut self, depth: usize) -> Result<Node, String> {
        self.groups += 1;
        let n = self.groups;
        let inner = self.alt(depth + 1)?;
        if !self.at_close(depth + 1) {
            return Err("Unmatched ( or \\(".into());
        }
        self.i += if self.ere { 1 } else { 2 };
        Ok(Node::Group(n, Box::new(inner)))
    }

    fn class(&mut self) -> Result<Class, String> {
        let mut cl = Class { neg: false, items: Vec::new() };
        if self.peek() == Some('^') {
            cl.neg = true;
            self.i += 1;
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return Err("Unmatched [, [^, [:, [., or [=".into());
            };
            self.i += 1;
            if c == ']' && !first {
                break;
            }
            first = false;
            let c = if c == '\\' && self.class_escapes && self.peek().is_some() {
                let e = self.peek().unwrap();
                self.i += 1;
                match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'f' => '\x0c',
                    'v' => '\x0b',
                    'a' => '\x07',
                    'b' => '\x08',
                    other => other,
                }
            } else {
                c
            };
            if c == '[' && matches!(self.peek(), Some(':' | '=' | '.')) {
                let kind = self.peek().unwrap();
                let rest: String = self.p[self.i + 1..].iter().collect();
                let close = format!("{kind}]");
                if let Some(end) = rest.find(&close) {
                    let name = &rest[..end];
                    self.i += 1 + name.chars().count() + 2;
                    if kind == ':' {
                        match named_class(name) {
                            Some(f) => cl.items.push(ClassItem::Named(f)),
                            None => return Err("Invalid character class name".into()),
                        }
                    } else {
                        for ch in name.chars() {
                            cl.items.push(ClassItem::Range(ch, ch));
                        }
                    }
                    continue;
                }
            }
            if self.peek() == Some('-') && self.peek2().is_some_and(|n| n != ']') {
                let hi = self.p[self.i + 1];
                self.i += 2;
                if hi < c {
                    return Err("Invalid range end".into());
                }
                cl.items.push(ClassItem::Range(c, hi));
            } else {
                cl.items.push(ClassItem::Range(c, c));
            }
        }
        Ok(cl)
    }
}

struct Compiler {
    prog: Vec<Inst>,
    classes: Vec<Class>,
}

impl Compiler {
    fn emit(&mut self, n: &Node) {
        match n {
            Node::Char(c) => self.prog.push(Inst::Char(*c)),
            Node::Any => self.prog.push(Inst::Any),
            Node::Class(c) => {
                self.classes.push(c.clone());
                self.prog.push(Inst::Class(self.classes.len() - 1));
            }
            Node::Assert(a) => self.prog.push(Inst::Assert(*a)),
            Node::Group(g, inner) => {
                self.prog.push(Inst::Save(2 * g));
                self.emit(inner);
                self.prog.push(Inst::Save(2 * g + 1));
            }
            Node::Concat(v) => v.iter().for_each(|x| self.emit(x)),
            Node::Alt(v) => {
                let mut jumps = Vec::new();
                for (k, b) in v.iter().enumerate() {
                    if k + 1 < v.len() {
                        let split = self.prog.len();
                        self.prog.push(Inst::Split(split + 1, 0));
                        self.emit(b);
                        jumps.push(self.prog.len());
                        self.prog.push(Inst::Jmp(0));
                        let next = self.prog.len();
                        self.prog[split] = Inst::Split(split + 1, next);
                    } else {
                        self.emit(b);
                    }
                }
                let end = self.prog.len();
                for j in jumps {
                    self.prog[j] = Inst::Jmp(end);
                }
            }
            Node::Repeat(inner, min, max) => {
                for _ in 0..*min {
                    self.emit(inner);
                }
                match max {
                    None => {
                        let split = self.prog.len();
                        self.prog.push(Inst::Split(split + 1, 0));
                        self.emit(inner);
                        self.prog.push(Inst::Jmp(split));
                        let end = self.prog.len();
                        self.prog[split] = Inst::Split(split + 1, end);
                    }
                    Some(max) => {
                        let mut splits = Vec::new();
                        for _ in *min..*max {
                            splits.push(self.prog.len());
                            self.prog.push(Inst::Split(0, 0));
                            self.emit(inner);
                        }
                        let end = self.prog.len();
                        for s in splits {
                            self.prog[s] = Inst::Split(s + 1, end);
                        }
                    }
                }
            }
        }
    }
}

/// Capture positions (char indices): `caps[2g]..caps[2g+1]` is group g; group 0 is the match.
pub type Caps = Vec<Option<usize>>;

struct Threads {
    list: Vec<(usize, Vec<usize>)>,
    mark: Vec<usize>,
}

impl Regex {
    /// Compile `pat` as an ERE (`extended`) or BRE; `icase` folds case.
    pub fn new(pat: &str, extended: bool, icase: bool) -> Result<Regex, String> {
        Self::build(pat, extended, icase, false, false)
    }

    /// awk's regular expressions: ERE with escapes in brackets, leftmost-longest matching.
    pub fn awk(pat: &str) -> Result<Regex, String> {
        Self::build(pat, true, false, true, true)
    }

    fn build(pat: &str, extended: bool, icase: bool, longest: bool, class_escapes: bool) -> Result<Regex, String> {
        let mut p = Parser { p: pat.chars().collect(), i: 0, ere: extended, groups: 0, class_escapes };
        let node = p.alt(0)?;
        if p.i < p.p.len() {
            return Err("Unmatched ) or \\)".into());
        }
        let mut c = Compiler { prog: vec![Inst::Save(0)], classes: Vec::new() };
        c.emit(&node);
        c.prog.push(Inst::Save(1));
        c.prog.push(Inst::Match);
        Ok(Regex { prog: c.prog, classes: c.classes, ngroups: p.groups, icase, longest })
    }

    fn assert_ok(a: Assert, t: &[char], i: usize) -> bool {
        let before = i > 0 && is_word(t[i - 1]);
        let after = i < t.len() && is_word(t[i]);
        match a {
            Assert::Start => i == 0,
            Assert::End => i == t.len(),
            Assert::Word => before != after,
            Assert::NotWord => before == after,
            Assert::WordStart => !before && after,
            Assert::WordEnd => before && !after,
        }
    }

    fn add(&self, th: &mut Threads, gen: usize, pc: usize, caps: &mut Vec<usize>, t: &[char], i: usize) {
        if th.mark[pc] == gen {
            return;
        }
        th.mark[pc] = gen;
        match self.prog[pc] {
            Inst::Jmp(x) => self.add(th, gen, x, caps, t, i),
            Inst::Split(a, b) => {
                self.add(th, gen, a, caps, t, i);
                self.add(th, gen, b, caps, t, i);
            }
            Inst::Save(n) => {
                let old = caps[n];
                caps[n] = i;
                self.add(th, gen, pc + 1, caps, t, i);
                caps[n] = old;
            }
            Inst::Assert(a) => {
                if Self::assert_ok(a, t, i) {
                    self.add(th, gen, pc + 1, caps, t, i);
                }
            }
            _ => th.list.push((pc, caps.clone())),
        }
    }

    /// The leftmost match starting at or after char index `start`.
    pub fn find_at(&self, t: &[char], start: usize) -> Option<Caps> {
        let ncap = 2 * (self.ngroups + 1);
        let n = self.prog.len();
        let mut cur = Threads { list: Vec::new(), mark: vec![usize::MAX; n] };
        let mut next = Threads { list: Vec::new(), mark: vec![usize::MAX; n] };
        let mut matched: Option<Vec<usize>> = None;
        let mut gen = 0;
        let mut i = start;
        loop {
            if matched.is_none() {
                let mut caps = vec![usize::MAX; ncap];
                self.add(&mut cur, gen, 0, &mut caps, t, i);
            }
            gen += 1;
            if cur.list.is_empty() && (matched.is_some() || i >= t.len()) {
                break;
            }
            let list = std::mem::take(&mut cur.list);
            for (pc, mut caps) in list {
                let ok = match self.prog[pc] {
                    Inst::Match => {
                        if !self.longest {
                            matched = Some(caps);
                            break;
                        }
                        // POSIX: the leftmost start, then the longest end.
                        let better = match &matched {
                            None => true,
                            Some(m) => caps[0] < m[0] || (caps[0] == m[0] && caps[1] > m[1]),
                        };
                        if better {
                            matched = Some(caps);
                        }
                        continue;
                    }
                    Inst::Char(c) => i < t.len() && (t[i] == c || (self.icase && lower(t[i]) == lower(c))),
                    // awk's `.` matches a newline too (records may hold several lines).
                    Inst::Any => i < t.len() && (t[i] != '\n' || self.longest),
                    Inst::Class(k) => i < t.len() && self.classes[k].matches(t[i], self.icase),
                    _ => false,
                };
                if ok {
                    self.add(&mut next, gen, pc + 1, &mut caps, t, i + 1);
                }
            }
            std::mem::swap(&mut cur, &mut next);
            next.list.clear();
            if i >= t.len() {
                break;
            }
            i += 1;
        }
        matched.map(|c| c.into_iter().map(|x| (x != usize::MAX).then_some(x)).collect())
    }

    /// Does `s` contain a match?
    pub fn is_match(&self, s: &str) -> bool {
        let t: Vec<char> = s.chars().collect();
        self.find_at(&t, 0).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, ere: bool, s: &str) -> Option<String> {
        let r = Regex::new(p, ere, false).unwrap();
        let t: Vec<char> = s.chars().collect();
        r.find_at(&t, 0).map(|c| t[c[0].unwrap()..c[1].unwrap()].iter().collect())
    }

    #[test]
    fn basics() {
        assert_eq!(m("abc", false, "xxabcxx").as_deref(), Some("abc"));
        assert_eq!(m("a.c", false, "xxabcxx").as_deref(), Some("abc"));
        assert_eq!(m("ab*", false, "xabbbbc").as_deref(), Some("abbbb"));
        assert_eq!(m("^ab", false, "xab"), None);
        assert_eq!(m("ab$", false, "xab").as_deref(), Some("ab"));
        assert_eq!(m("a+", false, "a+").as_deref(), Some("a+"));
        assert_eq!(m("a\\+", false, "caaa").as_deref(), Some("aaa"));
        assert_eq!(m("a+", true, "caaa").as_deref(), Some("aaa"));
        assert_eq!(m("colou?r", true, "color").as_deref(), Some("color"));
        assert_eq!(m("cat|dog", true, "hotdog").as_deref(), Some("dog"));
        assert_eq!(m("cat\\|dog", false, "hotdog").as_deref(), Some("dog"));
        assert_eq!(m("cat|dog", false, "cat|dog").as_deref(), Some("cat|dog"));
        assert_eq!(m("(ab)+c", true, "xababc").as_deref(), Some("ababc"));
        assert_eq!(m("\\(ab\\)*c", false, "xababc").as_deref(), Some("ababc"));
        assert_eq!(m("[0-9]+", true, "abc 123 x").as_deref(), Some("123"));
        assert_eq!(m("[^a-z ]+", true, "abc 12X x").as_deref(), Some("12X"));
        assert_eq!(m("[[:digit:]]\\{2,3\\}", false, "1 12345").as_deref(), Some("123"));
        assert_eq!(m("x{2}", true, "xxxx").as_deref(), Some("xx"));
        assert_eq!(m("a{,2}b", true, "aaab").as_deref(), Some("aab"));
        assert_eq!(m("a{", true, "a{").as_deref(), Some("a{"));
        assert_eq!(m("[]a]+", true, "x]a]").as_deref(), Some("]a]"));
        assert_eq!(m("\\.", false, "a.b").as_deref(), Some("."));
        assert_eq!(m("*a", false, "x*a").as_deref(), Some("*a"));
        assert_eq!(m("\\bfoo\\b", false, "afoo foo").as_deref(), Some("foo"));
        assert_eq!(m("\\<fo", false, "afoo foo").as_deref(), Some("fo"));
        assert_eq!(m("\\w+", true, "  hi_1 ").as_deref(), Some("hi_1"));
        assert_eq!(m("", true, "abc").as_deref(), Some(""));
        assert_eq!(m("^$", true, ""), Some(String::new()));
        assert_eq!(m("(a*)*b", true, "aaab").as_deref(), Some("aaab"));
        assert_eq!(m("a|ab", true, "ab").as_deref(), Some("a"));
        assert_eq!(m("x$", false, "x$y"), None);
        assert_eq!(m("a$b", false, "a$b").as_deref(), Some("a$b"));
        assert!(Regex::new("(ab", true, false).is_err());
        assert!(Regex::new("[ab", true, false).is_err());
    }

    #[test]
    fn icase_and_groups() {
        let r = Regex::new("he(l+)o", true, true).unwrap();
        let t: Vec<char> = "say HELLO".chars().collect();
        let c = r.find_at(&t, 0).unwrap();
        assert_eq!((c[0], c[1], c[2], c[3]), (Some(4), Some(9), Some(6), Some(8)));
        assert!(Regex::new("[a-c]x", false, true).unwrap().is_match("BX"));
        let r = Regex::new("o", false, false).unwrap();
        let t: Vec<char> = "foo".chars().collect();
        assert_eq!(r.find_at(&t, 2).unwrap()[0], Some(2));
    }

    #[test]
    fn awk_flavour() {
        let m = |p: &str, s: &str| {
            let r = Regex::awk(p).unwrap();
            let t: Vec<char> = s.chars().collect();
            r.find_at(&t, 0).map(|c| t[c[0].unwrap()..c[1].unwrap()].iter().collect::<String>())
        };
        assert_eq!(m("a|ab", "xab").as_deref(), Some("ab"));
        assert_eq!(m("(a|ab)(c|bcd)", "abcd").as_deref(), Some("abcd"));
        assert_eq!(m("x*", "abc").as_deref(), Some(""));
        assert_eq!(m("[\\t ]+", "a \t b").as_deref(), Some(" \t "));
        assert_eq!(m("[^\\]]+", "ab]c").as_deref(), Some("ab"));
        assert_eq!(m("a.b", "a\nb").as_deref(), Some("a\nb"));
        assert_eq!(m("b+|c", "abbbc").as_deref(), Some("bbb"));
    }
}
