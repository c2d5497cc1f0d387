//! `skiff save` and `skiff load`: images to and from archives (docker-archive or OCI layout).

use crate::archive::image_archive;
use crate::reference::Reference;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// `docker save`'s layout: manifest.json, repositories, <config>.json, <layer>/layer.tar
    Docker,
    /// An OCI image layout: oci-layout, index.json, blobs/sha256/…
    Oci,
}

#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long, value_name = "string")]
    output: Option<PathBuf>,
    /// Archive layout
    #[arg(long, value_enum, default_value = "docker")]
    format: Format,
    /// Images to save (names or IDs)
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN
    #[arg(short, long, value_name = "string")]
    input: Option<PathBuf>,
    /// Suppress the load output
    #[arg(short, long)]
    quiet: bool,
}

pub fn save(a: SaveArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let mut images = Vec::new();
    for name in &a.images {
        let img = store.find_image(name)?;
        // A name saves that tag; an ID saves every tag of the image.
        let tags = match Reference::parse(name).map(Reference::with_default_tag) {
            Ok(r) if img.tags.contains(&r) => vec![r],
            _ => img.tags.clone(),
        };
        images.push((img, tags));
    }
    let write = |out: &mut dyn std::io::Write| match a.format {
        Format::Docker => image_archive::save_docker(&store, &images, out),
        Format::Oci => image_archive::save_oci(&store, &images, out),
    };
    super::write_output(a.output.as_deref(), |out| Ok(write(out)?))?;
    for (img, tags) in &images {
        let name = tags.first().map(|t| t.familiar()).unwrap_or_else(|| img.id.to_string());
        crate::events::record(
            &store,
            crate::events::Event::new("image", "save", &img.id.to_string(), &[("name", &name)]),
        );
    }
    Ok(0)
}

pub fn load(a: LoadArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let (path, _tmp) = match &a.input {
        Some(p) => (p.clone(), None),
        None => {
            let mut tmp = tempfile::NamedTempFile::new_in(store.scratch_dir())?;
            std::io::copy(&mut std::io::stdin().lock(), tmp.as_file_mut())?;
            (tmp.path().to_path_buf(), Some(tmp))
        }
    };
    let _lock = store.lock()?;
    // All or nothing: a refused archive (a bad tag, a layer that does not match its diff ID)
    // keeps no image and leaves no blob or layer behind.
    let loaded = store.all_or_nothing(|| -> crate::error::Result<_> {
        let loaded = image_archive::load(&store, &path)?;
        for l in &loaded {
            for meta in &l.layers {
                crate::build::layer::precompile(&store, meta.clone(), &mut std::io::stderr())?;
            }
        }
        store.drop_leases();
        Ok(loaded)
    })?;
    for l in &loaded {
        let name = l.tags.first().map(|t| t.familiar()).unwrap_or_else(|| l.id.to_string());
        crate::events::record(
            &store,
            crate::events::Event::new("image", "load", &l.id.to_string(), &[("name", &name)]),
        );
        if a.quiet {
            continue;
        }
        for (tag, old) in &l.renamed {
            println!("The image {} already exists, renaming the old one with ID {old} to empty string", tag.familiar());
        }
        if l.tags.is_empty() {
            println!("Loaded image ID: {}", l.id);
        }
        for t in &l.tags {
            println!("Loaded image: {}", t.familiar());
        }
    }
    Ok(0)
}
