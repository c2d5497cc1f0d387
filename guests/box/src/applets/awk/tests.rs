use super::*;
use crate::util::testutil::tempdir;

#[derive(Clone)]
struct Sink(Rc<RefCell<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Run `prog` over `input` (stdin) with extra arguments; returns (stdout, status).
fn run_with(prog: &str, input: &str, fs: Option<&str>, assigns: &[&str], operands: &[&str]) -> (String, i32) {
    let assigns: Vec<String> = assigns.iter().map(|s| s.to_string()).collect();
    let operands: Vec<String> = operands.iter().map(|s| s.to_string()).collect();
    let mut it = match build(prog, fs, &assigns, &operands) {
        Ok(it) => it,
        Err(c) => return (String::new(), c),
    };
    let sink = Sink(Rc::new(RefCell::new(Vec::new())));
    it.stdout = Box::new(sink.clone());
    it.stdin = Some(Box::new(io::Cursor::new(input.as_bytes().to_vec())));
    let rc = it.run();
    let out = String::from_utf8(sink.0.borrow().clone()).unwrap();
    (out, rc)
}

fn run(prog: &str, input: &str) -> String {
    let (out, rc) = run_with(prog, input, None, &[], &[]);
    assert_eq!(rc, 0, "program {prog:?} failed; output {out:?}");
    out
}

#[test]
fn fields_and_patterns() {
    let data = "alice 30 paris\nbob 25 london\ncarol 35 paris\n";
    assert_eq!(run("{ print $1 }", data), "alice\nbob\ncarol\n");
    assert_eq!(run("$2 > 28 { print $1, NF }", data), "alice 3\ncarol 3\n");
    assert_eq!(run("/paris/", data), "alice 30 paris\ncarol 35 paris\n");
    assert_eq!(run("!/paris/ { print NR \": \" $0 }", data), "2: bob 25 london\n");
    assert_eq!(run("{ s += $2 } END { print s, s / NR }", data), "90 30\n");
    assert_eq!(run("NR==1, NR==2 { print $1 }", data), "alice\nbob\n");
    assert_eq!(run("/bob/,/nobody/ { print $1 }", data), "bob\ncarol\n");
    assert_eq!(run("{ print $NF; print $(NF-1) }", "a b c\n"), "c\nb\n");
    assert_eq!(run("END { print NR, $0 }", data), "3 carol 35 paris\n");
    assert_eq!(run("BEGIN { print \"only\" }", data), "only\n");
    assert_eq!(run("{ print length }", "abc\n\nxy\n"), "3\n0\n2\n");
}

#[test]
fn separators() {
    assert_eq!(run_with("{ print $2 }", "a:b:c\n", Some(":"), &[], &[]).0, "b\n");
    assert_eq!(run_with("{ print $2 }", "a\tb c\td\n", Some("\\t"), &[], &[]).0, "b c\n");
    assert_eq!(run_with("{ print $2 }", "a1b22c\n", Some("[0-9]+"), &[], &[]).0, "b\n");
    assert_eq!(run("BEGIN { FS = \",\" } { print $3 }", "1,2,3\n"), "3\n");
    assert_eq!(run("BEGIN { OFS = \"-\" } { $1 = $1; print }", "a b  c\n"), "a-b-c\n");
    assert_eq!(run("BEGIN { OFS = \":\" } { $5 = \"e\"; print; print NF }", "a b\n"), "a:b:::e\n5\n");
    assert_eq!(run("{ NF = 2; print }", "a b c d\n"), "a b\n");
    assert_eq!(run("BEGIN { ORS = \";\" } { print $1 }", "a\nb\n"), "a;b;");
    assert_eq!(run("BEGIN { RS = \"\" } { print NR \": \" $1 \"/\" $NF }", "a b\nc\n\n\nd e\nf\n"), "1: a/c\n2: d/f\n");
    assert_eq!(run("BEGIN { RS = \";\" } { print }", "x;y;z"), "x\ny\nz\n");
    assert_eq!(run("{ print NF }", "  lead and trail  \n"), "3\n");
    assert_eq!(run("{ $0 = \"x y\"; print $2, NF }", "a\n"), "y 2\n");
}

#[test]
fn variables_and_arrays() {
    assert_eq!(run_with("BEGIN { print x + 1, y }", "", None, &["x=41", "y=a\\tb"], &[]).0, "42 a\tb\n");
    assert_eq!(run("{ n[$1]++ } END { for (k in n) print k, n[k] }", "a\nb\na\nc\na\n"), "a 3\nb 1\nc 1\n");
    assert_eq!(
        run("BEGIN { a[1,2] = 3; for (k in a) { split(k, p, SUBSEP); print p[1], p[2], a[k] } }", ""),
        "1 2 3\n"
    );
    assert_eq!(
        run("BEGIN { a[\"x\"]; if (\"x\" in a) print \"yes\"; if (!(\"y\" in a)) print \"no\" }", ""),
        "yes\nno\n"
    );
    assert_eq!(run("BEGIN { a[1]; a[2]; delete a[1]; print length(a); delete a; print length(a) }", ""), "1\n0\n");
    assert_eq!(run("BEGIN { if ((1,2) in a) print \"x\"; a[1,2]; if ((1,2) in a) print \"y\" }", ""), "y\n");
    assert_eq!(run("BEGIN { print ENVIRON[\"AWK_TEST_UNSET_VAR\"] \"|\" }", ""), "|\n");
    // operand assignments happen when reached
    let d = tempdir();
    let f = format!("{d}/f");
    std::fs::write(&f, "1\n").unwrap();
    assert_eq!(run_with("{ print v, $1 }", "", None, &[], &["v=A", &f, "v=B", &f]).0, "A 1\nB 1\n");
    assert_eq!(run_with("BEGIN { print ARGC, ARGV[1] }", "", None, &[], &["x"]).0, "2 x\n");
    assert_eq!(run_with("{ print FILENAME, FNR, NR }", "", None, &[], &[&f, &f]).0, format!("{f} 1 1\n{f} 1 2\n"));
}

#[test]
fn comparisons_follow_posix() {
    // numeric strings from input compare as numbers; constants as strings
    assert_eq!(run("{ print ($1 < $2) }", "10 9\n"), "0\n");
    assert_eq!(run("{ print ($1 < \"9\") }", "10\n"), "1\n");
    assert_eq!(run("BEGIN { print (\"10\" < \"9\"), (10 < 9) }", ""), "1 0\n");
    assert_eq!(run("{ print ($1 == 1) }", "1.0\n"), "1\n");
    assert_eq!(run("{ print ($1 == \"1\") }", "1.0\n"), "0\n");
    assert_eq!(run("BEGIN { print (x == 0), (x == \"\") }", ""), "1 1\n");
    assert_eq!(run("{ if ($1) print \"t\"; else print \"f\" }", "0.0\nabc\n\n"), "f\nt\nf\n");
    assert_eq!(run("BEGIN { x = \"3x\"; print x + 0, -\"2\" + 5, \"1e3\" * 1 }", ""), "3 3 1000\n");
}

#[test]
fn control_flow_and_functions() {
    let p = "function fact(n) { return n <= 1 ? 1 : n * fact(n - 1) }
             BEGIN { for (i = 1; i <= 5; i++) s = s fact(i) \" \"; print s }";
    assert_eq!(run(p, ""), "1 2 6 24 120 \n");
    let p = "function fill(arr, n,   i) { for (i = 1; i <= n; i++) arr[i] = i * i }
             BEGIN { fill(sq, 3); print sq[1], sq[2], sq[3], length(sq), i \"|\" }";
    assert_eq!(run(p, ""), "1 4 9 3 |\n");
    let p = "BEGIN { i = 0; while (1) { if (++i > 3) break; if (i == 2) continue; print i }
             do { print \"do\" } while (0) }";
    assert_eq!(run(p, ""), "1\n3\ndo\n");
    assert_eq!(run("NR == 2 { next } { print }", "a\nb\nc\n"), "a\nc\n");
    let (out, rc) = run_with("{ print; if (NR == 2) exit 3 } END { print \"end\" }", "a\nb\nc\n", None, &[], &[]);
    assert_eq!((out.as_str(), rc), ("a\nb\nend\n", 3));
    assert_eq!(run_with("BEGIN { exit } END { print \"end\" }", "", None, &[], &[]).0, "end\n");
    let p = "BEGIN { if (1)
                print \"a\"
              else
                print \"b\"
              if (0) print \"c\"; else print \"d\" }";
    assert_eq!(run(p, ""), "a\nd\n");
    assert_eq!(run("function f(a) { a = 5 } BEGIN { x = 1; f(x); print x }", ""), "1\n");
    assert_eq!(run("function g() { return } BEGIN { print g() \"|\" }", ""), "|\n");
}

#[test]
fn string_functions() {
    assert_eq!(run("BEGIN { print length(\"héllo\"), substr(\"hello\", 2, 3), substr(\"hello\", 0), substr(\"hello\", -1, 3), substr(\"hello\", 4) }", ""), "5 ell hello h lo\n");
    assert_eq!(run("BEGIN { print index(\"foobar\", \"bar\"), index(\"foo\", \"x\") }", ""), "4 0\n");
    assert_eq!(
        run(
            "BEGIN { n = split(\"a:b:c\", p, \":\"); print n, p[3]; n = split(\"  x  y \", q); print n, q[1] q[2] }",
            ""
        ),
        "3 c\n2 xy\n"
    );
    assert_eq!(run("BEGIN { n = split(\"a1b2c\", p, /[0-9]/); print n, p[2] }", ""), "3 b\n");
    assert_eq!(
        run("BEGIN { s = \"hello world\"; print sub(/o/, \"0\", s), s; print gsub(/o/, \"[&]\", s), s }", ""),
        "1 hell0 world\n1 hell0 w[o]rld\n"
    );
    assert_eq!(run("{ gsub(/a/, \"\\\\&\"); print }", "banana\n"), "b&n&n&\n");
    assert_eq!(run("BEGIN { s = \"abc\"; gsub(/x*/, \"-\", s); print s }", ""), "-a-b-c-\n");
    assert_eq!(run("BEGIN { s = \"abc\"; gsub(/b*/, \"-\", s); print s }", ""), "-a-c-\n");
    assert_eq!(
        run("BEGIN { print match(\"foobarbaz\", /ba[rz]/), RSTART, RLENGTH; print match(\"x\", /y/), RLENGTH }", ""),
        "4 4 3\n0 -1\n"
    );
    assert_eq!(run("BEGIN { print toupper(\"abC1\"), tolower(\"ABc\") }", ""), "ABC1 abc\n");
    assert_eq!(run("{ sub(/^ +/, \"\"); print \"[\" $0 \"]\" }", "   x y\n"), "[x y]\n");
    assert_eq!(run("BEGIN { print \"a\" ~ /^a$/, \"ab\" ~ \"b$\", \"x\" !~ /x/ }", ""), "1 1 0\n");
    assert_eq!(run("BEGIN { re = \"^[0-9]+$\"; print (\"123\" ~ re), (\"12a\" ~ re) }", ""), "1 0\n");
    assert_eq!(run("BEGIN { print match(\"xabcx\", /a|ab|abc/), RLENGTH }", ""), "2 3\n");
}

#[test]
fn numbers_and_printf() {
    assert_eq!(
        run("BEGIN { print 1/3, 2^10, 2**3, 7%3, -7%3, int(-3.9), 1e6, 1e16, 0.1+0.2 }", ""),
        "0.333333 1024 8 1 -1 -3 1000000 10000000000000000 0.3\n"
    );
    assert_eq!(run("BEGIN { print -2^2, 2^3^2 }", ""), "-4 512\n");
    assert_eq!(run("BEGIN { OFMT = \"%.2f\"; x = 3.14159; print x, x \"\" }", ""), "3.14 3.14159\n");
    assert_eq!(run("BEGIN { CONVFMT = \"%.2f\"; x = 3.14159; y = x \"\"; print y }", ""), "3.14\n");
    assert_eq!(
        run("BEGIN { printf \"%5d|%-5s|%05.1f|%x|%c|%c|%e|%3s%%\\n\", 42, \"ab\", 3.14159, 255, 65, \"hi\", 1234.5, \"z\" }", ""),
        "   42|ab   |003.1|ff|A|h|1.234500e+03|  z%\n"
    );
    assert_eq!(run("BEGIN { printf(\"%s-%s\\n\", \"a\", \"b\") }", ""), "a-b\n");
    assert_eq!(run("BEGIN { printf \"%*d|%.*f\\n\", 4, 7, 2, 1.5 }", ""), "   7|1.50\n");
    assert_eq!(run("BEGIN { s = sprintf(\"%03d\", 7); print s, length(s) }", ""), "007 3\n");
    assert_eq!(run("BEGIN { printf \"%d %s\\n\" }", ""), "0 \n");
    assert_eq!(run("BEGIN { x = 5; x += 2; x *= 3; x -= 1; x /= 4; x ^= 2; x %= 7; print x }", ""), "4\n");
    assert_eq!(run("BEGIN { print 1 \" \" 2, 1+2 \"\" 3 }", ""), "1 2 33\n");
    assert_eq!(run("BEGIN { print length(12345), length(1/4) }", ""), "5 4\n");
    assert_eq!(
        run("BEGIN { srand(1); a = rand(); srand(1); b = rand(); print (a == b), (a >= 0 && a < 1) }", ""),
        "1 1\n"
    );
    assert_eq!(run_with("BEGIN { print 1/0 }", "", None, &[], &[]).1, 2);
}

#[test]
fn io_redirection_and_getline() {
    let d = tempdir();
    let f = format!("{d}/out.txt");
    let p = format!(
        "BEGIN {{ print \"one\" > \"{f}\"; print \"two\" > \"{f}\"; close(\"{f}\"); print \"three\" >> \"{f}\";
                      close(\"{f}\"); while ((getline line < \"{f}\") > 0) n++; print n, line }}"
    );
    assert_eq!(run(&p, ""), "3 three\n");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "one\ntwo\nthree\n");
    assert_eq!(run(&format!("BEGIN {{ print (getline x < \"{d}/missing\") }}"), ""), "-1\n");
    assert_eq!(run("NR == 1 { getline; print \"after\", $0, NR } END { print NR }", "a\nb\nc\n"), "after b 2\n3\n");
    assert_eq!(run("{ getline nxt; print $0 \"+\" nxt }", "a\nb\nc\n"), "a+b\nc+b\n");
    assert_eq!(run("BEGIN { while ((\"echo x; echo y\" | getline l) > 0) s = s l; print s }", ""), "xy\n");
    assert_eq!(run("BEGIN { \"echo a b\" | getline; print $2, NF }", ""), "b 2\n");
    let p = format!("BEGIN {{ print \"b\\na\" | \"sort > {d}/sorted\"; close(\"sort > {d}/sorted\"); getline l < \"{d}/sorted\"; print l }}");
    assert_eq!(run(&p, ""), "a\n");
    assert_eq!(run("BEGIN { r = system(\"exit 3\"); print r }", ""), "3\n");
    assert_eq!(run(&format!("BEGIN {{ printf \"x\" > \"{d}/p\"; printf(\"%s\\n\", \"y\") >> \"{d}/p\"; close(\"{d}/p\"); getline l < \"{d}/p\"; print l }}"), ""), "xy\n");
}

#[test]
fn syntax_errors() {
    assert_eq!(run_with("BEGIN { print ( }", "", None, &[], &[]).1, 2);
    assert_eq!(run_with("{ f(1) }", "", None, &[], &[]).1, 2);
    assert_eq!(run_with("BEGIN { x = \"unterminated }", "", None, &[], &[]).1, 2);
    assert_eq!(run_with("BEGIN", "", None, &[], &[]).1, 2);
}

#[test]
fn programs() {
    // word frequency, the classic
    let p = "{ for (i = 1; i <= NF; i++) c[tolower($i)]++ }
             END { for (w in c) if (c[w] > 1) print w, c[w] }";
    assert_eq!(run(p, "The cat\nthe dog the end\n"), "the 3\n");
    // comments, semicolons, line continuation
    let p = "# comment\nBEGIN { x = 1 ; # more\n y = x + \\\n 2 ; print y }";
    assert_eq!(run(p, ""), "3\n");
    // regex with slash and brackets
    assert_eq!(run("$0 ~ /a\\/b/ { print \"slash\" } /[/]/ { print \"class\" }", "a/b\n"), "slash\nclass\n");
    // print > with parenthesised comparison
    assert_eq!(run("BEGIN { print (2 > 1), (1 > 2) }", ""), "1 0\n");
    // uninitialized in output and concatenation
    assert_eq!(run("BEGIN { print \"[\" u \"]\", u + 0 }", ""), "[] 0\n");
    // getline var updates NR; pre/post increment of fields
    assert_eq!(run("{ $2++; ++$3; print }", "1 1 1\n"), "1 2 2\n");
    assert_eq!(run("BEGIN { a = \"x\"; b = a++; print a, b }", ""), "1 0\n");
    assert_eq!(run("BEGIN { printf \"%s\", \"no newline\" }", ""), "no newline");
    assert_eq!(run("BEGIN { x[1] = 1; for (k in x) delete x[k]; print length(x) }", ""), "0\n");
    assert_eq!(run("BEGIN { n = split(\"3 1 2\", a); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }; print a[1] a[2] a[3] }", ""), "123\n");
    assert_eq!(run("BEGIN { getline; print \"got\", $0 }", "first\n"), "got first\n");
    assert_eq!(run("{ print > \"/dev/stdout\" }", "x\n"), "x\n");
    assert_eq!(run("BEGIN{x=1}END{print x}", ""), "1\n");
    assert_eq!(run("BEGIN { a = 1; a == 1 && b = 2; print b }", ""), "2\n");
    assert_eq!(run("BEGIN { print 1==1 ? \"y\" : \"n\" }", ""), "y\n");
    assert_eq!(run("BEGIN { print !0, !1, !\"\", !\"a\" }", ""), "1 0 1 0\n");
    assert_eq!(run("BEGIN { x = 2; print x^-1, -x }", ""), "0.5 -2\n");
    assert_eq!(run("{ print $1 \"\" $2 }", "a b\n"), "ab\n");
    assert_eq!(run("BEGIN { print index(\"abc\", \"\") }", ""), "0\n");
    assert_eq!(run("BEGIN { print 10 % 3 * 2, 2 * 3 % 4 }", ""), "2 2\n");
    assert_eq!(run("BEGIN { print 1 - 1 \"\" }", ""), "0\n");
    assert_eq!(run("BEGIN { print 1 \" \" -1 }", ""), "1-1\n");
}
