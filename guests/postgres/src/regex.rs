//! A small backtracking regular expression matcher for the `~` operator: what psql's
//! patterns (`^(name.*)$`) and everyday filters need: literals, `.`, `[...]`, `^`, `$`,
//! groups, `|`, `* + ?` and `{m,n}`, `\d \w \s` and escaped characters.

#[derive(Debug, Clone)]
enum Node {
    Char(char),
    Any,
    Class(Vec<(char, char)>, bool),
    Start,
    End,
    Group(Vec<Vec<Node>>),
    Repeat(Box<Node>, usize, usize),
}

pub struct Regex {
    alts: Vec<Vec<Node>>,
    ci: bool,
}

impl Regex {
    pub fn new(p: &str, ci: bool) -> Result<Regex, String> {
        let chars: Vec<char> = if ci { p.to_lowercase().chars().collect() } else { p.chars().collect() };
        let mut i = 0;
        let alts = parse_alts(&chars, &mut i)?;
        if i < chars.len() {
            return Err("parentheses () not balanced".into());
        }
        Ok(Regex { alts, ci })
    }

    pub fn is_match(&self, s: &str) -> bool {
        let s: Vec<char> = if self.ci { s.to_lowercase().chars().collect() } else { s.chars().collect() };
        let g = [Node::Group(self.alts.clone())];
        (0..=s.len()).any(|start| match_seq(&g, &s, start, &mut |_| true))
    }
}

fn parse_alts(p: &[char], i: &mut usize) -> Result<Vec<Vec<Node>>, String> {
    let mut alts = vec![Vec::new()];
    while *i < p.len() {
        let c = p[*i];
        match c {
            ')' => break,
            '|' => {
                *i += 1;
                alts.push(Vec::new());
                continue;
            }
            _ => {}
        }
        let atom = match c {
            '(' => {
                *i += 1;
                // (?:...) is a plain group here
                if p.get(*i) == Some(&'?') && p.get(*i + 1) == Some(&':') {
                    *i += 2;
                }
                let inner = parse_alts(p, i)?;
                if p.get(*i) != Some(&')') {
                    return Err("parentheses () not balanced".into());
                }
                *i += 1;
                Node::Group(inner)
            }
            '.' => {
                *i += 1;
                Node::Any
            }
            '^' => {
                *i += 1;
                Node::Start
            }
            '$' => {
                *i += 1;
                Node::End
            }
            '[' => {
                *i += 1;
                let neg = p.get(*i) == Some(&'^');
                if neg {
                    *i += 1;
                }
                let mut ranges = Vec::new();
                let mut first = true;
                while *i < p.len() && (p[*i] != ']' || first) {
                    first = false;
                    let mut a = p[*i];
                    if a == '\\' && *i + 1 < p.len() {
                        *i += 1;
                        a = p[*i];
                        if let Some(cls) = class_escape(a) {
                            ranges.extend(cls);
                            *i += 1;
                            continue;
                        }
                    }
                    *i += 1;
                    if p.get(*i) == Some(&'-') && p.get(*i + 1).is_some_and(|&c| c != ']') {
                        let b = p[*i + 1];
                        *i += 2;
                        ranges.push((a, b));
                    } else {
                        ranges.push((a, a));
                    }
                }
                if *i >= p.len() {
                    return Err("brackets [] not balanced".into());
                }
                *i += 1;
                Node::Class(ranges, neg)
            }
            '\\' => {
                *i += 1;
                let e = *p.get(*i).ok_or("invalid escape \\ sequence")?;
                *i += 1;
                match class_escape(e) {
                    Some(r) => Node::Class(r, false),
                    None => match e {
                        'D' => Node::Class(vec![('0', '9')], true),
                        'W' => Node::Class(class_escape('w').unwrap_or_default(), true),
                        'S' => Node::Class(class_escape('s').unwrap_or_default(), true),
                        'n' => Node::Char('\n'),
                        't' => Node::Char('\t'),
                        c => Node::Char(c),
                    },
                }
            }
            '*' | '+' | '?' => return Err("quantifier operand invalid".into()),
            c => {
                *i += 1;
                Node::Char(c)
            }
        };
        // quantifiers
        let mut node = atom;
        loop {
            let (min, max) = match p.get(*i) {
                Some('*') => (0, usize::MAX),
                Some('+') => (1, usize::MAX),
                Some('?') => (0, 1),
                Some('{') => {
                    let close = p[*i..].iter().position(|&c| c == '}').ok_or("braces {} not balanced")?;
                    let body: String = p[*i + 1..*i + close].iter().collect();
                    let (a, b) = match body.split_once(',') {
                        Some((a, "")) => (a.parse().map_err(|_| "invalid repetition count(s)")?, usize::MAX),
                        Some((a, b)) => (
                            a.parse().map_err(|_| "invalid repetition count(s)")?,
                            b.parse().map_err(|_| "invalid repetition count(s)")?,
                        ),
                        None => {
                            let n = body.parse().map_err(|_| "invalid repetition count(s)")?;
                            (n, n)
                        }
                    };
                    *i += close;
                    (a, b)
                }
                _ => break,
            };
            *i += 1;
            // a lazy `?` after a quantifier is accepted and treated as greedy
            if p.get(*i) == Some(&'?') {
                *i += 1;
            }
            node = Node::Repeat(Box::new(node), min, max);
        }
        alts.last_mut().expect("one alternative").push(node);
    }
    Ok(alts)
}

fn class_escape(c: char) -> Option<Vec<(char, char)>> {
    Some(match c {
        'd' => vec![('0', '9')],
        'w' => vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')],
        's' => vec![(' ', ' '), ('\t', '\t'), ('\n', '\n'), ('\r', '\r'), ('\x0b', '\x0c')],
        _ => return None,
    })
}

fn one(n: &Node, c: char) -> bool {
    match n {
        Node::Char(x) => *x == c,
        Node::Any => true,
        Node::Class(r, neg) => r.iter().any(|&(a, b)| a <= c && c <= b) != *neg,
        _ => false,
    }
}

/// Match `nodes` at `s[i..]`, then call `k` with where the match ended (backtracking when
/// `k` says no).
fn match_seq(nodes: &[Node], s: &[char], i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
    let Some((first, rest)) = nodes.split_first() else {
        return k(i);
    };
    match first {
        Node::Start => i == 0 && match_seq(rest, s, i, k),
        Node::End => i == s.len() && match_seq(rest, s, i, k),
        Node::Group(alts) => alts.iter().any(|alt| match_seq(alt, s, i, &mut |j| match_seq(rest, s, j, k))),
        Node::Repeat(inner, min, max) => repeat(inner, *min, *max, rest, s, i, k, 0),
        n => i < s.len() && one(n, s[i]) && match_seq(rest, s, i + 1, k),
    }
}

#[allow(clippy::too_many_arguments)]
fn repeat(
    inner: &Node,
    min: usize,
    max: usize,
    rest: &[Node],
    s: &[char],
    i: usize,
    k: &mut dyn FnMut(usize) -> bool,
    count: usize,
) -> bool {
    // Greedy: one more first, then stop here.
    if count < max {
        let more = match_seq(std::slice::from_ref(inner), s, i, &mut |j| {
            j != i && repeat(inner, min, max, rest, s, j, k, count + 1)
        });
        if more {
            return true;
        }
    }
    count >= min && match_seq(rest, s, i, k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Regex::new(p, false).unwrap().is_match(s)
    }

    #[test]
    fn patterns() {
        assert!(m("^(users)$", "users"));
        assert!(!m("^(users)$", "users2"));
        assert!(m("^(us.*)$", "users"));
        assert!(m("^pg_toast", "pg_toast_1"));
        assert!(!m("^pg_toast", "public"));
        assert!(m("b+c", "abbbc"));
        assert!(m("^a|b$", "xxb"));
        assert!(m("^[a-c]{2,3}$", "abc"));
        assert!(!m("^[a-c]{2,3}$", "abcd"));
        assert!(m("^\\d+$", "123"));
        assert!(m("colou?r", "color"));
        assert!(m("", "anything"));
        assert!(Regex::new("(a", false).is_err());
        assert!(Regex::new("HeLLo", true).unwrap().is_match("say hello"));
    }
}
