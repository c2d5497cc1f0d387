//! Tests for shell-word expansion.

use super::*;

fn env(name: &str) -> Option<String> {
    match name {
        "A" => Some("a".into()),
        "B" => Some("b".into()),
        "EMPTY" => Some(String::new()),
        "SPACED" => Some("x  y".into()),
        "PATH" => Some("/usr/bin:/bin".into()),
        "_under9" => Some("u".into()),
        _ => None,
    }
}

fn ok(word: &str) -> String {
    expand(word, &env, '\\').unwrap_or_else(|e| panic!("{word:?}: {e}"))
}

#[test]
fn expand_table() {
    let cases: &[(&str, &str)] = &[
        ("plain", "plain"),
        ("$A", "a"),
        ("${A}", "a"),
        ("x${A}y", "xay"),
        ("$A$B", "ab"),
        ("$Ab", ""), // the name is "Ab"
        ("$_under9-", "u-"),
        ("$UNSET", ""),
        ("${UNSET}", ""),
        ("$", "$"),
        ("a$", "a$"),
        ("$/x", "$/x"),
        ("$1", ""),
        ("$12x", "x"),
        ("$@", ""),
        // ${:-}, ${-}
        ("${A:-x}", "a"),
        ("${UNSET:-x}", "x"),
        ("${EMPTY:-x}", "x"),
        ("${A-x}", "a"),
        ("${UNSET-x}", "x"),
        ("${EMPTY-x}", ""),
        // ${:+}, ${+}
        ("${A:+y}", "y"),
        ("${UNSET:+y}", ""),
        ("${EMPTY:+y}", ""),
        ("${EMPTY+y}", "y"),
        ("${UNSET+y}", ""),
        // ${:?} when the value is there
        ("${A:?must be set}", "a"),
        ("${EMPTY?ok}", ""),
        // nested words in defaults
        ("${A:-${B}}", "a"),
        ("${UNSET:-${B}}", "b"),
        ("${UNSET:-$B}", "b"),
        ("${UNSET:-${UNSET2:-deep}}", "deep"),
        ("${UNSET:-'q w'}", "q w"),
        ("${UNSET:-\"$A b\"}", "a b"),
        ("${A:+[$B]}", "[b]"),
        ("${UNSET:-}", ""),
        // quotes
        ("'$A'", "$A"),
        ("\"$A\"", "a"),
        ("\"${A} and ${B}\"", "a and b"),
        ("'a\\b'", "a\\b"),
        ("\"it's\"", "it's"),
        ("'say \"hi\"'", "say \"hi\""),
        ("a'b'\"c\"d", "abcd"),
        ("\"\"", ""),
        ("''", ""),
        // escapes
        ("\\$A", "$A"),
        ("\\\\", "\\"),
        ("a\\ b", "a b"),
        ("\\'$A\\'", "'a'"),
        ("x\\", "x"),
        ("\"\\$A\"", "$A"),
        ("\"\\\"\"", "\""),
        ("\"a\\nb\"", "a\\nb"),
        ("\"\\\\\"", "\\"),
        // whitespace is kept by expand
        ("a  b", "a  b"),
        ("$SPACED", "x  y"),
        ("$PATH:/sbin", "/usr/bin:/bin:/sbin"),
    ];
    for (word, want) in cases {
        assert_eq!(ok(word), *want, "expanding {word:?}");
    }
}

#[test]
fn backtick_escape() {
    let e = |w: &str| expand(w, &env, '`').unwrap();
    assert_eq!(e("`$A"), "$A");
    assert_eq!(e("c:\\windows\\$A"), "c:\\windows\\a");
    assert_eq!(e("\"`\"x`\"\""), "\"x\"");
    assert_eq!(e("a` b"), "a b");
}

#[test]
fn expand_errors() {
    let cases: &[(&str, &str)] = &[
        ("${UNSET:?}", "UNSET: is not allowed to be unset"),
        ("${EMPTY:?}", "EMPTY: is not allowed to be empty"),
        ("${UNSET?custom message}", "UNSET: custom message"),
        ("${UNSET:?custom}", "UNSET: custom"),
        ("${A", "syntax error: missing '}'"),
        ("${A:-x", "syntax error: missing '}'"),
        ("${", "syntax error: missing '}'"),
        ("${}", "syntax error: bad substitution"),
        ("${:-x}", "syntax error: bad substitution"),
        ("${{A}}", "syntax error: bad substitution"),
        ("${A:x}", "unsupported modifier (:x) in substitution"),
        ("${A#x}", "unsupported modifier (#) in substitution"),
        ("'abc", "unexpected end of statement while looking for matching single-quote"),
        ("\"abc", "unexpected end of statement while looking for matching double-quote"),
    ];
    for (word, want) in cases {
        let err = expand(word, &env, '\\').expect_err(word);
        assert_eq!(err, format!("failed to process {word:?}: {want}"), "expanding {word:?}");
    }
}

#[test]
fn expand_words_table() {
    let cases: &[(&str, &[&str])] = &[
        ("a b  c", &["a", "b", "c"]),
        ("  lead trail  ", &["lead", "trail"]),
        ("$A $B", &["a", "b"]),
        ("$SPACED", &["x", "y"]),
        ("\"$SPACED\"", &["x  y"]),
        ("'a b' c", &["a b", "c"]),
        ("a\\ b c", &["a b", "c"]),
        ("${UNSET:-x y}", &["x", "y"]),
        ("$UNSET", &[]),
        ("\"\"", &[]),
        ("80/tcp ${A}43", &["80/tcp", "a43"]),
        ("", &[]),
    ];
    for (text, want) in cases {
        assert_eq!(expand_words(text, &env, '\\').unwrap(), *want, "splitting {text:?}");
    }
}

#[test]
fn heredoc_helpers() {
    assert_eq!(heredoc_words("RUN cat <<'E F' \"q\" $X \\$Y"), ["RUN", "cat", "<<'E F'", "\"q\"", "$X", "\\$Y"]);
    let name = |rest: &str| heredoc_name(rest).unwrap();
    assert_eq!(name("EOF"), Some(("EOF".into(), true)));
    assert_eq!(name("'EOF'"), Some(("EOF".into(), false)));
    assert_eq!(name("\"EOF\""), Some(("EOF".into(), false)));
    assert_eq!(name("eo'f'"), Some(("eof".into(), false)));
    assert_eq!(name("eo\\'f"), Some(("eo'f".into(), true)));
    assert_eq!(name("'e'o\\'f"), Some(("eo'f".into(), false)));
    assert_eq!(name("'one two'"), Some(("one two".into(), false)));
    assert_eq!(name("$EOF"), Some(("$EOF".into(), true)));
    assert_eq!(name("EOF sh"), None);
    assert!(heredoc_name("'EOF").is_err());
}
