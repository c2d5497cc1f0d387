//! What list commands (`images`, `ps`, `history`) print: Docker's default table, or each row
//! through a `--format` Go template (`table …` adds the header and aligns the columns).

use super::table::render;
use super::template::Template;
use serde_json::{Map, Value};

/// A list command's rows, as the objects its `--format` templates see.
pub struct Listing {
    /// Every field a template may name, with the header Docker gives its column.
    pub fields: &'static [(&'static str, &'static str)],
    /// The format used without `--format` (always a `table …` one).
    pub default: &'static str,
    pub rows: Vec<Map<String, Value>>,
}

impl Listing {
    pub fn new(fields: &'static [(&'static str, &'static str)], default: &'static str) -> Listing {
        Listing { fields, default, rows: Vec::new() }
    }

    /// Add a row: `values` pairs field names with their text.
    pub fn push(&mut self, values: impl IntoIterator<Item = (&'static str, String)>) {
        self.rows.push(values.into_iter().map(|(k, v)| (k.to_string(), Value::String(v))).collect());
    }

    /// Render with `format` (Docker's rules: a `table` prefix, `\t` and `\n` escapes) or the
    /// default table.
    pub fn render(&self, format: Option<&str>) -> anyhow::Result<String> {
        let format = format.filter(|f| !f.trim().is_empty()).unwrap_or(self.default);
        let (table, body) = match format.strip_prefix("table") {
            Some(rest) if rest.is_empty() => (true, self.default.strip_prefix("table").unwrap_or(self.default)),
            Some(rest) => (true, rest),
            None => (false, format),
        };
        let body = body.trim_matches(' ').replace("\\t", "\t").replace("\\n", "\n");
        let template = Template::parse(&body).map_err(|e| anyhow::anyhow!("Template parsing error: {e}"))?;
        let mut lines = Vec::new();
        for row in &self.rows {
            lines.push(template.execute(&Value::Object(row.clone())).map_err(|e| anyhow::anyhow!("{e}"))?);
        }
        if !table {
            return Ok(lines.iter().map(|l| format!("{l}\n")).collect());
        }
        // A table: the header is the template run over the column titles, and the cells
        // (tab-separated) are aligned as Go's tabwriter does.
        let titles: Map<String, Value> =
            self.fields.iter().map(|(k, h)| (k.to_string(), Value::String(h.to_string()))).collect();
        let header = template.execute(&Value::Object(titles)).map_err(|e| anyhow::anyhow!("{e}"))?;
        let header: Vec<&str> = header.split('\t').collect();
        let rows: Vec<Vec<String>> = lines.iter().map(|l| l.split('\t').map(str::to_string).collect()).collect();
        Ok(render(&header, &rows))
    }

    pub fn print(&self, format: Option<&str>) -> anyhow::Result<()> {
        print!("{}", self.render(format)?);
        Ok(())
    }
}
