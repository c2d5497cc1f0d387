//! `skiff history IMAGE`: the steps that made an image, newest first, one row per history
//! entry (`<missing>` where this store has no image for that step, 0B for metadata steps).

use super::listing::Listing;
use super::table::{ago, ellipsis};
use crate::units::human_size;
use clap::Args;

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Print sizes and dates in human readable format
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    human: bool,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Only show image IDs
    #[arg(short, long)]
    quiet: bool,
    /// Pretty-print history using a Go template
    #[arg(long, value_name = "string")]
    format: Option<String>,
    /// The image
    image: String,
}

/// The fields `--format` may name, with their column titles.
const FIELDS: &[(&str, &str)] = &[
    ("ID", "IMAGE"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("CreatedBy", "CREATED BY"),
    ("Size", "SIZE"),
    ("Comment", "COMMENT"),
];
const DEFAULT: &str = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
const DEFAULT_RAW: &str = "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

pub fn exec(a: HistoryArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let img = store.find_image(&a.image)?;
    let sizes: Vec<u64> = img.chain_ids().iter().map(|c| store.layer_meta(c).map(|m| m.size).unwrap_or(0)).collect();
    let mut layer = 0;
    let mut rows = Vec::new();
    for h in &img.config.history {
        let size = if h.empty_layer {
            0
        } else {
            layer += 1;
            sizes.get(layer - 1).copied().unwrap_or(0)
        };
        rows.push((h, size));
    }
    // An image in this store whose history is a prefix of this one is the image that step
    // made (the parent of a committed image, a build step): show its ID, else `<missing>`.
    let mut known = Vec::new();
    for s in store.list_images()? {
        if let Ok(other) = store.image_by_manifest(&s.manifest_digest, vec![]) {
            known.push(other);
        }
    }
    let n = img.config.history.len();
    let ids: Vec<Option<String>> = (0..n)
        .map(|j| {
            let len = n - j;
            let prefix = &img.config.history[..len];
            let layers = prefix.iter().filter(|h| !h.empty_layer).count();
            known
                .iter()
                .find(|o| {
                    o.config.history == prefix
                        && img.config.rootfs.diff_ids.get(..layers) == Some(&o.config.rootfs.diff_ids[..])
                })
                .map(|o| if a.no_trunc { o.id.to_string() } else { o.id.short().to_string() })
        })
        .collect();
    rows.reverse();
    let mut list = Listing::new(FIELDS, if a.human { DEFAULT } else { DEFAULT_RAW });
    for (i, (h, size)) in rows.iter().enumerate() {
        let row_id = ids[i].clone().unwrap_or_else(|| "<missing>".to_string());
        if a.quiet {
            println!("{row_id}");
            continue;
        }
        let created = h.created.as_deref().unwrap_or("");
        let by = h.created_by.clone().unwrap_or_default();
        let by = if a.no_trunc { by } else { ellipsis(&by, 45) };
        list.push([
            ("ID", row_id),
            ("CreatedSince", if a.human { ago(created) } else { created.to_string() }),
            ("CreatedAt", created.to_string()),
            ("CreatedBy", by),
            ("Size", if a.human { human_size(*size) } else { size.to_string() }),
            ("Comment", h.comment.clone().unwrap_or_default()),
        ]);
    }
    if !a.quiet {
        list.print(a.format.as_deref())?;
    }
    Ok(0)
}
