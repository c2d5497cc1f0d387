//! Table-driven tests of parsing, execution, printing and error messages.

// Expectations were checked against Go 1.19's text/template where Go and Docker agree; nulls and
// empty objects follow Docker's typed-struct printing instead (see fmt.rs).

use super::Template;
use serde_json::{json, Value};

fn data() -> Value {
    json!({"Id":"sha256:ae26","RepoTags":["mynginx:stable","mynginx:v1","nginx:latest"],"Size":1986683,
     "Config":{"Env":["PATH=/usr/bin","NGINX_VERSION=1.23.4"],"Cmd":["nginx","-g","daemon off;"],"ExposedPorts":{"80/tcp":{}},"Volumes":null,"Entrypoint":null,"Labels":null,"StopSignal":"SIGQUIT"},
     "RootFS":{"Type":"layers","Layers":["sha256:7b06","sha256:10e8"]},
     "NetworkSettings":{"Networks":{"mynet":{"IPAddress":"172.20.0.4"},"bridge":{"IPAddress":"172.17.0.2"}}},
     "F":1.5,"Big":1e21,"Small":0.00001,"T":true,"E":"","Z":0,"Arr":[1,"a",[2,3],{"k":"v"}],"Html":"<a&b>",
     "Null":null})
}

fn run(src: &str) -> Result<String, String> {
    let t = Template::parse(src).map_err(|e| e.to_string())?;
    t.execute(&data()).map_err(|e| e.to_string())
}

#[test]
fn outputs() {
    #[rustfmt::skip]
    let cases: &[(&str, &str)] = &[
        // The brief's cases.
        ("{{.RootFS.Layers}}", "[sha256:7b06 sha256:10e8]"),
        ("{{.Id}} {{.RepoTags}} {{.Size}}", "sha256:ae26 [mynginx:stable mynginx:v1 nginx:latest] 1986683"),
        ("{{.Config.Cmd}} {{.Config.ExposedPorts}}", "[nginx -g daemon off;] map[80/tcp:{}]"),
        ("{{json .Config.Cmd}}", r#"["nginx","-g","daemon off;"]"#),
        ("{{.Config.Entrypoint}}|{{.Config.Volumes}}|{{.Nope}}", "[]|map[]|<no value>"),
        ("{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}", "bridge=172.17.0.2 mynet=172.20.0.4 "),
        ("{{range .RootFS.Layers}}{{.}}{{\"\\n\"}}{{end}}", "sha256:7b06\nsha256:10e8\n"),
        ("{{index .RepoTags 1}}", "mynginx:v1"),
        ("{{index .Config.ExposedPorts \"80/tcp\"}}", "{}"),
        ("{{join .Config.Cmd \",\"}}", "nginx,-g,daemon off;"),
        ("{{len .RepoTags}}", "3"),
        ("{{if eq .Size 1986683}}big{{end}}", "big"),
        ("{{upper .Config.StopSignal}}", "SIGQUIT"),
        ("{{printf \"%-6s|\" \"ab\"}}", "ab    |"),
        // Printing.
        ("{{.Arr}} {{.Null}} {{.Config.Labels}}", "[1 a [2 3] map[k:v]] <nil> map[]"),
        ("{{.NetworkSettings}}", "map[Networks:map[bridge:map[IPAddress:172.17.0.2] mynet:map[IPAddress:172.20.0.4]]]"),
        ("{{.F}} {{.Big}} {{.Small}} {{1e6}} {{3.0}} {{123456789.0}} {{100000.0}}", "1.5 1e+21 1e-05 1e+06 3 1.23456789e+08 100000"),
        ("{{0x10}} {{'a'}} {{-5}} {{017}} {{1_000}} {{true}} {{.T}}", "16 97 -5 15 1000 true true"),
        ("{{\"a\\tb\\u00e9\\x41\"}}{{`raw\\n`}}", "a\tbéAraw\\n"),
        // Trim markers and comments.
        ("{{- \"a\" -}}  \n  {{- \"b\"}} {{ \"c\" -}}  d", "ab cd"),
        ("{{/* comment */}}x{{- /* c2 */ -}} y", "xy"),
        ("{{range .RepoTags -}}\n  {{.}}\n{{- end}}", "mynginx:stablemynginx:v1nginx:latest"),
        // Pipelines, parentheses, chains, variables.
        ("{{.RepoTags | len | printf \"%d tags\"}}", "3 tags"),
        ("{{(index .NetworkSettings.Networks \"mynet\").IPAddress}} {{len (index .Arr 2)}}", "172.20.0.4 2"),
        ("{{$.Id}} {{with .RootFS}}{{$.Size}} {{.Type}}{{end}}", "sha256:ae26 1986683 layers"),
        ("{{$x := 1}}{{if true}}{{$x = 2}}{{$y := 3}}{{end}}{{$x}}", "2"),
        ("{{$x := \"outer\"}}{{with .Id}}{{$x := \"inner\"}}{{$x}}{{end}}{{$x}}", "innerouter"),
        ("{{$n := 0}}{{range .RepoTags}}{{$n = len .}}{{end}}{{$n}}", "12"),
        ("{{.A.B}}{{.Nope.B}}{{.Null.X}}", "<no value><no value><no value>"),
        // Control flow.
        ("{{if .E}}a{{else if .Z}}b{{else if .T}}c{{else}}d{{end}}", "c"),
        ("{{with .Nope}}a{{else}}b{{end}} {{with $x := .Size}}{{$x}}{{end}}", "b 1986683"),
        ("{{with .E}}x{{else with .T}}y{{end}}", "y"),
        ("{{range .Nope}}x{{else}}empty{{end}} {{range .Config.Volumes}}x{{else}}none{{end}}", "empty none"),
        ("{{range $i, $v := .Arr}}{{$i}}={{$v}};{{end}}", "0=1;1=a;2=[2 3];3=map[k:v];"),
        ("{{range $i, $t := .RepoTags}}{{if eq $i 0}}{{continue}}{{end}}{{$t}},{{if eq $i 1}}{{break}}{{end}}{{end}}", "mynginx:v1,"),
        ("{{range $v := .RootFS.Layers}}{{$v}} {{end}}", "sha256:7b06 sha256:10e8 "),
        // Functions.
        ("{{and 1 0 2}} {{or 0 \"\" 3}} {{and 1 2}} {{not 0}} {{not .Arr}} {{and .Nope 1}}", "0 3 2 true false <no value>"),
        ("{{eq 1 2 3 1}} {{ne .Id \"x\"}} {{lt 1 2}} {{le \"a\" \"b\"}} {{gt 1.5 2.5}} {{ge 2 2}}", "true true true true false true"),
        ("{{eq .Nope \"x\"}} {{eq .Null nil}} {{\"x\" | eq \"x\"}}", "false true true"),
        ("{{index .Arr 2 1}} {{index .Arr 3 \"k\"}} {{index .Id 1}} {{index .Config.Labels \"x\"}}|", "3 v 104 |"),
        ("{{slice .Id 1 3}} {{slice .Arr 1 2}} {{slice .RepoTags 2}}", "ha [a] [nginx:latest]"),
        ("{{print 1 2 \"a\" 3 \"b\" \"c\"}}|{{println 1 \"a\" 2}}|{{print .Nope}}", "1 2a3bc|1 a 2\n|<nil>"),
        ("{{printf \"%d|%5d|%-5d|%05d|%+d|%x|%X|%o\" 42 42 42 42 42 255 255 8}}", "42|   42|42   |00042|+42|ff|FF|10"),
        ("{{printf \"%s|%q|%v|%t|%x|%%\" \"a\\\"b\" \"a\\\"b\" .Arr true \"hi\"}}", "a\"b|\"a\\\"b\"|[1 a [2 3] map[k:v]]|true|6869|%"),
        ("{{printf \"%.2f|%8.3f|%e|%g|%v|%.3g\" 3.14159 2.5 1234.5 0.000001 .F 3.14159}}", "3.14|   2.500|1.234500e+03|1e-06|1.5|3.14"),
        ("{{printf \"%d\" \"x\"}} {{printf \"%s\"}} {{printf \"%s\" 1 2}}", "%!d(string=x) %!s(MISSING) %!s(int=1)%!(EXTRA int=2)"),
        ("{{printf \"%q\" .RepoTags}} {{printf \"%v\" .Nope}} {{printf \"%5.2s|%c\" \"abc\" 65}}", "[\"mynginx:stable\" \"mynginx:v1\" \"nginx:latest\"] <nil>    ab|A"),
        ("{{json .Html}} {{json .Nope}} {{json .Big}} {{json .Small}} {{json 1e-7}}", "\"<a&b>\" null 1e+21 0.00001 1e-7"),
        ("{{json .NetworkSettings}} {{json .Config.Volumes}}", "{\"Networks\":{\"bridge\":{\"IPAddress\":\"172.17.0.2\"},\"mynet\":{\"IPAddress\":\"172.20.0.4\"}}} null"),
        ("{{json .RootFS}}", "{\"Type\":\"layers\",\"Layers\":[\"sha256:7b06\",\"sha256:10e8\"]}"),
        ("{{split \"a,b,c\" \",\"}} {{join (split \"a,b\" \",\") \"-\"}} {{join .Config.Entrypoint \",\"}}|", "[a b c] a-b |"),
        ("{{lower \"AbC\"}} {{title \"hello-world foo_bar x1y\"}}", "abc Hello-World Foo_bar X1y"),
        ("{{pad \"ab\" 2 3}}|{{pad \"\" 2 3}}|{{truncate \"abcdef\" 3}}|{{truncate \"ab\" 3}}", "  ab   ||abc|ab"),
        ("{{len .NetworkSettings.Networks}} {{len .Id}} {{len .Config.Env}} {{len .Config.Entrypoint}}", "2 11 2 0"),
    ];
    for (src, want) in cases {
        assert_eq!(run(src).as_deref(), Ok(*want), "template {src:?}");
    }
}

#[test]
fn errors() {
    #[rustfmt::skip]
    let cases: &[(&str, &str)] = &[
        // Parse errors.
        ("{{.Id", "template: :1: unclosed action"),
        ("line1\n{{.Id\n", "template: :3: unclosed action started at :2"),
        ("{{foo .Id}}", "template: :1: function \"foo\" not defined"),
        ("{{end}}", "template: :1: unexpected {{end}}"),
        ("{{else}}", "template: :1: unexpected {{else}}"),
        ("{{if .T}}x", "template: :1: unexpected EOF"),
        ("{{.Id}}}", ""), // a stray `}` in text is fine
        ("{{.Id }}}}", ""),
        ("{{.Id}", "template: :1: bad character U+007D '}'"),
        ("{{.Id ;}}", "template: :1: unexpected \";\" in operand"),
        ("{{@}}", "template: :1: unexpected \"@\" in command"),
        ("{{}}", "template: :1: missing value for command"),
        ("{{if}}{{end}}", "template: :1: missing value for if"),
        ("{{(.Id}}", "template: :1: unclosed left paren"),
        ("{{.Id)}}", "template: :1: unexpected \")\" in command"),
        ("{{$x}}", "template: :1: undefined variable \"$x\""),
        ("{{with $x := 1}}{{end}}{{$x}}", "template: :1: undefined variable \"$x\""),
        ("{{break}}", "template: :1: {{break}} outside {{range}}"),
        ("{{if .T}}a{{else}}b{{else}}c{{end}}", "template: :1: expected end; found {{else}}"),
        ("{{.Id | \"x\"}}", "template: :1: non executable command in pipeline stage 2"),
        ("{{.Id-}}", "template: :1: bad character U+002D '-'"),
        ("{{\"unterminated}}", "template: :1: unterminated quoted string"),
        ("{{.Config.ExposedPorts.80/tcp}}", "template: :1: unexpected \".80\" in operand"),
        ("{{$x, $y := .Arr}}", "template: :1: too many declarations in command"),
        ("{{\"x\".A}}", "template: :1: unexpected . after term \"\\\"x\\\"\""),
        ("{{1e}}", "template: :1: bad number syntax: \"1e\""),
        ("a\n\n{{if .T}}\n{{.Nope.X.Y}}{{foo}}", "template: :4: function \"foo\" not defined"),
        // Execution errors.
        ("{{index .RepoTags 9}}", "template: :1:2: executing \"\" at <index .RepoTags 9>: error calling index: index out of range: 9"),
        ("a\n{{.Id}}\n{{index .RepoTags 7}}", "template: :3:2: executing \"\" at <index .RepoTags 7>: error calling index: index out of range: 7"),
        ("{{.Id.X}}", "template: :1:5: executing \"\" at <.Id.X>: can't evaluate field X in type string"),
        ("{{.A.B}}{{.Size.X}}", "template: :1:15: executing \"\" at <.Size.X>: can't evaluate field X in type int"),
        ("{{eq .Size 1.5}}", "template: :1:2: executing \"\" at <eq .Size 1.5>: error calling eq: incompatible types for comparison"),
        ("{{lt true false}}", "template: :1:2: executing \"\" at <lt true false>: error calling lt: invalid type for comparison"),
        ("{{eq 1}}", "template: :1:2: executing \"\" at <eq 1>: error calling eq: missing argument for comparison"),
        ("{{index .Null 1}}", "template: :1:2: executing \"\" at <index .Null 1>: error calling index: index of untyped nil"),
        ("{{index .Arr \"x\"}}", "template: :1:2: executing \"\" at <index .Arr \"x\">: error calling index: cannot index slice/array with type string"),
        ("{{slice .Id 5 2}}", "template: :1:2: executing \"\" at <slice .Id 5 2>: error calling slice: invalid slice index: 5 > 2"),
        ("{{range .Id}}x{{end}}", "template: :1:8: executing \"\" at <.Id>: range can't iterate over sha256:ae26"),
        ("{{3 | len}}", "template: :1:6: executing \"\" at <len>: error calling len: len of type int"),
        ("{{not 1 2}}", "template: :1:2: executing \"\" at <not>: wrong number of args for not: want 1 got 2"),
        ("{{and}}", "template: :1:2: executing \"\" at <and>: wrong number of args for and: want at least 1 got 0"),
        ("{{upper .Size}}", "template: :1:8: executing \"\" at <.Size>: wrong type for value; expected string; got int"),
        ("{{upper .Nope}}", "template: :1:8: executing \"\" at <.Nope>: invalid value; expected string"),
        ("{{join .Arr \",\"}}", "template: :1:7: executing \"\" at <.Arr>: wrong type for value; expected []string; got []interface {}"),
        ("{{.Id \"x\"}}", "template: :1:2: executing \"\" at <.Id>: Id is not a method but has arguments"),
        ("{{\"a\" \"b\"}}", "template: :1:2: executing \"\" at <\"a\">: can't give argument to non-function \"a\""),
        ("{{nil}}", "template: :1:2: executing \"\" at <nil>: nil is not a command"),
    ];
    for (src, want) in cases {
        let got = run(src);
        if want.is_empty() {
            assert!(got.is_ok(), "template {src:?}: {got:?}");
        } else {
            assert_eq!(got, Err(want.to_string()), "template {src:?}");
        }
    }
}

#[test]
fn error_type_and_reuse() {
    let t = Template::parse("{{.Name}}").unwrap();
    assert_eq!(t.execute(&json!({"Name": "a"})).unwrap(), "a");
    assert_eq!(t.execute(&json!({"Name": 7})).unwrap(), "7");
    let e: Box<dyn std::error::Error> = Box::new(Template::parse("{{").err().unwrap());
    assert_eq!(e.to_string(), "template: :1: unclosed action");
}

#[test]
fn never_panics() {
    // Random soups of template fragments must give Ok or Err, never a panic.
    #[rustfmt::skip]
    let frags = ["{{", "}}", "{{- ", " -}}", "{{/*", "*/}}", ".", ".A", "$", "$x", ":=", "=", ",", "|",
        "(", ")", "\"s\"", "`r`", "'c'", "'", "\"", "1", "-1", "1.5", "1e", "if", "else", "end", "range",
        "with", "break", "index", "slice", "len", "printf", "\"%5.2f%q%-3s%\"", "json", "and", "eq", "lt",
        "pad", "split", " ", "\n", "é", "nil", "-", "}"];
    let data = json!({"A": {"B": [1, "x", null, {"C": 2.5}]}, "S": "héllo"});
    let mut seed: u64 = 0x2545F4914F6CDD1D;
    let mut rand = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed as usize
    };
    for _ in 0..20000 {
        let src: String = (0..rand() % 12).map(|_| frags[rand() % frags.len()]).collect();
        let src = if rand() % 3 == 0 { src } else { format!("{{{{range .A.B}}}}{{{{{src}}}}}{{{{end}}}}") };
        if let Ok(t) = Template::parse(&src) {
            let _ = t.execute(&data);
        }
    }
}
