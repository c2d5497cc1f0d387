//! Tests for `.dockerignore` matching.

use super::*;

fn matcher(text: &str) -> IgnoreMatcher {
    IgnoreMatcher::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

/// (dockerignore text, path, excluded?)
#[test]
fn is_excluded_table() {
    let cases: &[(&str, &str, bool)] = &[
        // exceptions, last match wins
        ("*.md\n!README.md\n", "README.md", false),
        ("*.md\n!README.md\n", "CHANGES.md", true),
        ("*.md\n!README.md\n", "docs/x.md", false), // * does not cross /
        ("*.md\n!README.md\n", "main.go", false),
        ("!README.md\n*.md\n", "README.md", true),
        ("*\n!keep\n", "keep", false),
        ("*\n!keep\n", "other", true),
        ("*\n!keep\n", "keep/inner/file", false),
        ("*\n!keep\n*\n", "keep", true),
        // ** matches any number of directories
        ("**/*.log\n", "a.log", true),
        ("**/*.log\n", "x/y/a.log", true),
        ("**/*.log\n", "x/y/a.txt", false),
        ("**/*.log\n", "logs/a.log/inner", true), // parent matched
        ("a/**/b\n", "a/b", true),
        ("a/**/b\n", "a/x/y/b", true),
        ("a/**/b\n", "a/xb", false),
        ("a/**\n", "a/x/y", true),
        ("a/**\n", "a", false),
        ("**\n", "anything/at/all", true),
        ("**/node_modules\n", "node_modules/x", true),
        ("**/node_modules\n", "web/node_modules/x/y.js", true),
        // a directory pattern excludes everything below it
        ("build/\n", "build", true),
        ("build/\n", "build/x/y", true),
        ("build/\n", "builds", false),
        ("build/\n", "src/build", false),
        ("/build\n", "build/out.o", true),
        ("./build\n", "build/out.o", true),
        ("build/../dist\n", "dist/a", true),
        // ? and classes
        ("temp?\n", "temp1", true),
        ("temp?\n", "temp", false),
        ("temp?\n", "temp12", false),
        ("temp?\n", "temp/", false),
        ("*/temp?\n", "a/tempX", true),
        ("*/temp?\n", "a/b/tempX", false),
        ("file[0-9].txt\n", "file7.txt", true),
        ("file[0-9].txt\n", "fileA.txt", false),
        ("file[^0-9].txt\n", "fileA.txt", true),
        ("file[^0-9].txt\n", "file1.txt", false),
        ("[ab]c\n", "bc", true),
        ("[a\\-c]\n", "-", true),
        // escapes
        ("\\*.txt\n", "*.txt", true),
        ("\\*.txt\n", "a.txt", false),
        ("a\\?\n", "a?", true),
        // literal characters that are regex syntax
        ("a+b.(c)\n", "a+b.(c)", true),
        ("a.b\n", "axb", false),
        // comments, whitespace, blank lines
        ("# comment\n\n   \n*.tmp\n", "x.tmp", true),
        ("# *.tmp\n", "x.tmp", false),
        (" *.tmp \n", "x.tmp", true),
        ("  # not a comment\n", "# not a comment", true),
        ("*.tmp\r\n", "x.tmp", true),
        ("\u{feff}*.tmp\n", "x.tmp", true),
        // the root and odd path spellings
        ("*\n", ".", false),
        ("*\n", "", false),
        ("a/b\n", "./a/b", true),
        ("a/b\n", "a//b/", true),
        // exceptions inside an excluded directory
        ("build\n!build/keep\n", "build/keep/x", false),
        ("build\n!build/keep\n", "build/other", true),
        ("*.log\n!important.log\ndebug-*.log\n", "important.log", false),
        ("*.log\n!important.log\ndebug-*.log\n", "debug-1.log", true),
    ];
    for (text, path, want) in cases {
        assert_eq!(matcher(text).is_excluded(path), *want, "patterns {text:?}, path {path:?}");
    }
}

#[test]
fn dir_may_contain_included_table() {
    let cases: &[(&str, &str, bool)] = &[
        ("build\n", "build", false),
        ("build\n", "src", true), // not excluded at all
        ("build\n!build/keep.txt\n", "build", true),
        ("build\n!build/keep.txt\n", "build/sub", false),
        ("build\n!build/*/keep.txt\n", "build/sub", true),
        ("*\n!**/keep.txt\n", "any/deep", true),
        ("*\n!src\n", "docs", false),
        ("*\n!src\n", "src", true),
        ("*\n!s*/keep\n", "stuff", true),
        ("*\n!s*/keep\n", "other", false),
        ("node_modules\n!node_modules/a/b\n", "node_modules/a", true),
        ("node_modules\n!node_modules/a/b\n", "node_modules/c", false),
    ];
    for (text, dir, want) in cases {
        assert_eq!(matcher(text).dir_may_contain_included(dir), *want, "patterns {text:?}, dir {dir:?}");
    }
}

#[test]
fn bad_patterns() {
    for text in ["!\n", "  !  \n", "a[\n", "a[]\n", "[z-a]\n", "a\\\n", "[^]\n"] {
        assert!(IgnoreMatcher::parse(text).is_err(), "{text:?} should be rejected");
    }
    assert_eq!(IgnoreMatcher::parse("!").unwrap_err(), "illegal exclusion pattern: \"!\"");
    assert_eq!(IgnoreMatcher::parse("[").unwrap_err(), "syntax error in pattern");
}

#[test]
fn add_pattern_appends_exception() {
    let mut m = matcher("*\n");
    assert!(m.is_excluded("Dockerfile"));
    m.add_pattern("!Dockerfile").unwrap();
    assert!(!m.is_excluded("Dockerfile"));
    assert!(m.is_excluded(".dockerignore"));
    assert!(!IgnoreMatcher::default().is_excluded("x"));
}

#[test]
fn clean_like_go() {
    let cases = [
        ("", "."),
        (".", "."),
        ("a/./b", "a/b"),
        ("a/../b", "b"),
        ("../a", "../a"),
        ("a/../..", ".."),
        ("/../a", "/a"),
        ("//a//b//", "/a/b"),
        ("/", "/"),
        ("a/b/../../c/", "c"),
    ];
    for (input, want) in cases {
        assert_eq!(clean(input), want, "clean({input:?})");
    }
}
