//! Where lessons come from: the tutorials built into the binary, or a teacher's folder (`--dir`), in
//! English or Simplified Chinese.
//!
//! A folder holds `NN-topic.md` files (the English lessons, which define the list) and, optionally,
//! `zh-CN/NN-topic.md` translations with the same file names. A lesson without a translation is shown
//! in English. The built-in library is the project's `tutorials/` folder, embedded at build time.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/tutorials.rs"));
}

/// The language of a lesson's prose (commands and skiff's own messages stay the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    ZhCn,
}

impl Lang {
    /// `en`, `zh`, `zh-CN`, `zh_CN.UTF-8`… (case-insensitive); `None` for other languages.
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::ZhCn)
        } else if s.starts_with("en") || s == "c" || s == "posix" || s.starts_with("c.") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// From the environment as gettext reads it: `LC_ALL`, then `LC_MESSAGES`, then `LANG` (the first
    /// one set decides); English when none says Chinese.
    pub fn from_env() -> Lang {
        for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
                return if v.to_string_lossy().to_ascii_lowercase().starts_with("zh") { Lang::ZhCn } else { Lang::En };
            }
        }
        Lang::En
    }

    /// The folder of translations (`None` for English, the lessons' own folder).
    pub fn folder(self) -> Option<&'static str> {
        match self {
            Lang::En => None,
            Lang::ZhCn => Some("zh-CN"),
        }
    }
}

/// One lesson, ready to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lesson {
    /// File stem, e.g. `01-first-container`: the lesson's identity (progress is kept by it).
    pub stem: String,
    /// Where it comes from, for messages (`tutorials/zh-CN/01-first-container.md` when built in).
    pub path: PathBuf,
    pub text: String,
    /// The language of `text` (English when the asked-for translation is missing).
    pub lang: Lang,
}

impl Lesson {
    /// Parses the lesson.
    pub fn parse(&self) -> Result<super::Tutorial, super::ParseError> {
        super::parse(&self.path, &self.text)
    }

    /// True when `name` selects this lesson: its stem, or its number (`1`, `01`, `08`).
    pub fn is_named(&self, name: &str) -> bool {
        if self.stem == name || name.strip_suffix(".md") == Some(self.stem.as_str()) {
            return true;
        }
        let number = self.stem.split('-').next().unwrap_or("");
        match (number.parse::<u32>(), name.parse::<u32>()) {
            (Ok(a), Ok(b)) => a == b,
            _ => self.stem.starts_with(&format!("{name}-")),
        }
    }
}

fn is_lesson_file(p: &Path) -> bool {
    p.is_file()
        && p.extension().is_some_and(|e| e == "md")
        && !p.file_stem().is_some_and(|s| s.eq_ignore_ascii_case("readme"))
}

fn stem(name: &str) -> String {
    name.strip_suffix(".md").unwrap_or(name).to_string()
}

/// The built-in lessons in `lang`, sorted by file name.
pub fn builtin(lang: Lang) -> Vec<Lesson> {
    let mut out = Vec::new();
    for &(_, name, text) in embedded::BUILTIN.iter().filter(|(l, _, _)| *l == "en") {
        let translated = lang.folder().and_then(|folder| {
            embedded::BUILTIN.iter().find(|(fl, fname, _)| *fl == folder && *fname == name).map(|t| (folder, t.2))
        });
        let (path, text, lang) = match translated {
            Some((folder, t)) => (PathBuf::from("tutorials").join(folder).join(name), t, lang),
            None => (PathBuf::from("tutorials").join(name), text, Lang::En),
        };
        out.push(Lesson { stem: stem(name), path, text: text.to_string(), lang });
    }
    out
}

/// The lessons of a folder in `lang` (translations from `DIR/zh-CN/`), sorted by file name.
pub fn from_dir(dir: &Path, lang: Lang) -> io::Result<Vec<Lesson>> {
    let mut out = Vec::new();
    for path in super::find(dir)? {
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let translated = lang.folder().map(|f| dir.join(f).join(&name)).filter(|p| is_lesson_file(p));
        let (path, lang) = match translated {
            Some(p) => (p, lang),
            None => (path, Lang::En),
        };
        let text =
            fs::read_to_string(&path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        out.push(Lesson { stem: stem(&name), path, text, lang });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages() {
        for (s, want) in [
            ("zh", Some(Lang::ZhCn)),
            ("zh-CN", Some(Lang::ZhCn)),
            ("zh_CN.UTF-8", Some(Lang::ZhCn)),
            ("en", Some(Lang::En)),
            ("en_GB.UTF-8", Some(Lang::En)),
            ("C.UTF-8", Some(Lang::En)),
            ("fr", None),
        ] {
            assert_eq!(Lang::parse(s), want, "{s}");
        }
    }

    #[test]
    fn builtin_lessons_parse_in_both_languages() {
        let en = builtin(Lang::En);
        assert!(
            en.iter().any(|l| l.stem == "01-first-container"),
            "{:?}",
            en.iter().map(|l| &l.stem).collect::<Vec<_>>()
        );
        let zh = builtin(Lang::ZhCn);
        assert_eq!(en.len(), zh.len());
        for l in en.iter().chain(zh.iter()) {
            l.parse().unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(zh.iter().any(|l| l.lang == Lang::ZhCn && l.path.starts_with("tutorials/zh-CN")));
    }

    #[test]
    fn names_select_lessons() {
        let l = Lesson { stem: "08-dockerfile".into(), path: "x".into(), text: String::new(), lang: Lang::En };
        for (n, want) in [
            ("08", true),
            ("8", true),
            ("08-dockerfile", true),
            ("08-dockerfile.md", true),
            ("09", false),
            ("dockerfile", false),
        ] {
            assert_eq!(l.is_named(n), want, "{n}");
        }
    }

    #[test]
    fn folder_with_translations() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("01-a.md"), "# A\n").unwrap();
        fs::write(dir.path().join("02-b.md"), "# B\n").unwrap();
        fs::write(dir.path().join("README.md"), "# format\n").unwrap();
        fs::create_dir(dir.path().join("zh-CN")).unwrap();
        fs::write(dir.path().join("zh-CN/01-a.md"), "# 甲\n").unwrap();
        let zh = from_dir(dir.path(), Lang::ZhCn).unwrap();
        let got: Vec<(&str, &str, Lang)> = zh.iter().map(|l| (l.stem.as_str(), l.text.as_str(), l.lang)).collect();
        assert_eq!(got, [("01-a", "# 甲\n", Lang::ZhCn), ("02-b", "# B\n", Lang::En)]);
        let en = from_dir(dir.path(), Lang::En).unwrap();
        assert_eq!(en[0].text, "# A\n");
    }
}
