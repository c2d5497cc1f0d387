//! `skiff search [OPTIONS] TERM`: Docker's table (`NAME  DESCRIPTION  STARS  OFFICIAL
//! AUTOMATED`) of skiff's built-in library and Docker Hub (when it can be reached), or of a
//! registry's catalog when the term names one (`skiff search localhost:5000/nginx`).

use super::listing::Listing;
use super::table::ellipsis;
use crate::registry::search::{self, Found};
use clap::Args;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Filter output based on conditions provided (stars=N, is-official=BOOL, is-automated=BOOL)
    #[arg(short, long = "filter", value_name = "filter")]
    filter: Vec<String>,
    /// Pretty-print search using a Go template
    #[arg(long, value_name = "string")]
    format: Option<String>,
    /// Max number of search results
    #[arg(long, value_name = "int", default_value_t = 25)]
    limit: i64,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// TERM, or REGISTRY/TERM to search a registry's catalog
    term: String,
}

const FIELDS: &[(&str, &str)] = &[
    ("Name", "NAME"),
    ("Description", "DESCRIPTION"),
    ("StarCount", "STARS"),
    ("IsOfficial", "OFFICIAL"),
    ("IsAutomated", "AUTOMATED"),
];
const DEFAULT: &str = "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}\t{{.IsAutomated}}";

pub fn exec(a: SearchArgs) -> anyhow::Result<i32> {
    if !(1..=100).contains(&a.limit) {
        anyhow::bail!("Limit {} is outside the range of [1, 100]", a.limit);
    }
    let (mut min_stars, mut official, mut automated) = (0u64, None, None);
    for f in &a.filter {
        let bad = || anyhow::anyhow!("Invalid filter '{f}'");
        match f.split_once('=') {
            Some(("stars", v)) => min_stars = v.parse().map_err(|_| anyhow::anyhow!("Invalid filter 'stars={v}'"))?,
            Some(("is-official", v)) => official = Some(v.parse::<bool>().map_err(|_| bad())?),
            Some(("is-automated", v)) => automated = Some(v.parse::<bool>().map_err(|_| bad())?),
            _ => return Err(bad()),
        }
    }
    let (registry, term) = search::split_term(&a.term);
    let mut found: Vec<Found> = match &registry {
        Some(domain) => search::catalog(domain, &term)?,
        None => {
            let mut f = search::builtin(&term);
            match search::hub(&term, a.limit as usize) {
                Ok(hub) => {
                    let hub: Vec<Found> = hub.into_iter().filter(|h| !f.iter().any(|b| b.name == h.name)).collect();
                    f.extend(hub)
                }
                // Offline: the built-in library answers alone; with nothing found, say why.
                Err(e) if f.is_empty() => return Err(e.into()),
                Err(_) => {}
            }
            f
        }
    };
    found.retain(|f| {
        f.stars >= min_stars && official.is_none_or(|o| o == f.official) && automated.is_none_or(|o| o == f.automated)
    });
    found.truncate(a.limit as usize);
    let mut list = Listing::new(FIELDS, DEFAULT);
    let ok = |b: bool| if b { "[OK]".to_string() } else { String::new() };
    for f in found {
        let description = if a.no_trunc { f.description.clone() } else { ellipsis(&f.description, 45) };
        list.push([
            ("Name", f.name),
            ("Description", description),
            ("StarCount", f.stars.to_string()),
            ("IsOfficial", ok(f.official)),
            ("IsAutomated", ok(f.automated)),
        ]);
    }
    list.print(a.format.as_deref())?;
    Ok(0)
}
