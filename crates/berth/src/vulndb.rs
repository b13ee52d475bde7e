//! `berth vulndb import` and `berth vulndb status`: the vulnerability database, written and
//! read on the deployment's own database (the configuration `berth serve` uses), so an
//! offline installation loads OSV exports without a running server.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use berth_store::advisories::{AdvisoryRecord, ImportCounts, VulnDbImport};
use berth_store::{now_millis, Store};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::cli::output::{render_record, render_table, Column, Kind};
use crate::config::{self, Overrides};

/// Advisories written per transaction: big enough that commits do not dominate, small enough
/// that an interrupted import loses little.
const BATCH: usize = 1_000;

#[derive(Subcommand)]
pub enum VulnDbCommand {
    /// Import OSV exports: per-ecosystem `all.zip` files (as OSV publishes them), folders of
    /// OSV JSON files, or single JSON files. Advisories already held with the same or a newer
    /// `modified` are left alone, so importing a newer export again is incremental.
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Show what the vulnerability database holds and its latest imports.
    Status {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Where the deployment's database is, as for `berth serve`.
#[derive(Args)]
pub struct DatabaseArgs {
    /// A TOML configuration file (see berth.example.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Directory for the database, blobs and keys [default: ./berth-data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… [default: SQLite in the data dir].
    #[arg(long)]
    database_url: Option<String>,
}

impl DatabaseArgs {
    async fn open(self) -> anyhow::Result<Store> {
        let overrides = Overrides {
            data_dir: self.data_dir,
            database_url: self.database_url,
            ..Overrides::default()
        };
        let config =
            config::load(self.config.as_deref(), config::process_env(), &overrides)?.validate()?;
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
        Store::connect(&config.database_url)
            .await
            .context("opening the database")
    }
}

pub async fn run(command: VulnDbCommand) -> anyhow::Result<()> {
    match command {
        VulnDbCommand::Import { paths, database } => {
            let store = database.open().await?;
            for path in &paths {
                import(&store, path).await?;
            }
            store.close().await;
        }
        VulnDbCommand::Status { database } => {
            let store = database.open().await?;
            print_status(&store).await?;
            store.close().await;
        }
    }
    Ok(())
}

async fn import(store: &Store, path: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let started_at = now_millis();
    let mut counts = ImportCounts::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut first_refusals = Vec::new();
    let mut documents = documents(path)?;
    while let Some((name, text)) = documents.next().transpose()? {
        match record(&text) {
            Ok(record) => batch.push(record),
            Err(error) => {
                counts.refused += 1;
                if first_refusals.len() < 5 {
                    first_refusals.push(format!("{name}: {error}"));
                }
            }
        }
        if batch.len() == BATCH {
            counts.add(store.import_advisories(&batch).await?);
            batch.clear();
        }
    }
    counts.add(store.import_advisories(&batch).await?);
    let source = path.display().to_string();
    store
        .record_vulndb_import(&VulnDbImport {
            source: source.clone(),
            started_at,
            finished_at: now_millis(),
            added: counts.added,
            updated: counts.updated,
            unchanged: counts.unchanged,
            withdrawn: counts.withdrawn,
            refused: counts.refused,
        })
        .await?;
    println!(
        "Imported {source}: {} added, {} updated, {} unchanged ({} withdrawn), {} refused, in {:.1} s.",
        counts.added,
        counts.updated,
        counts.unchanged,
        counts.withdrawn,
        counts.refused,
        started.elapsed().as_secs_f64()
    );
    for refusal in first_refusals {
        eprintln!("  refused {refusal}");
    }
    Ok(())
}

/// An OSV document as the database files it; an error says why it is not one.
fn record(text: &str) -> Result<AdvisoryRecord, serde_json::Error> {
    let advisory: osv::schema::Vulnerability = serde_json::from_str(text)?;
    let entry = berth_scan::advisory::index_entry(&advisory);
    Ok(AdvisoryRecord {
        id: advisory.id,
        modified: entry.modified,
        withdrawn: entry.withdrawn,
        document: text.to_string(),
        packages: entry.packages,
        aliases: entry.aliases,
    })
}

type Document = anyhow::Result<(String, String)>;

/// The JSON documents under `path`, each with the name to report it by.
fn documents(path: &Path) -> anyhow::Result<Box<dyn Iterator<Item = Document>>> {
    let metadata =
        std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if metadata.is_dir() {
        let mut files = Vec::new();
        json_files(path, &mut files)?;
        files.sort();
        return Ok(Box::new(files.into_iter().map(|file| {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            Ok((file.display().to_string(), text))
        })));
    }
    let is_zip = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if !is_zip {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return Ok(Box::new(std::iter::once(Ok((
            path.display().to_string(),
            text,
        )))));
    }
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut archive = zip::ZipArchive::new(file)
        .with_context(|| format!("{} is not a readable zip archive", path.display()))?;
    let zip_name = path.display().to_string();
    let mut index = 0;
    Ok(Box::new(std::iter::from_fn(move || loop {
        if index == archive.len() {
            return None;
        }
        let at = index;
        index += 1;
        let mut entry = match archive.by_index(at) {
            Ok(entry) => entry,
            Err(error) => return Some(Err(anyhow::anyhow!("{zip_name}: entry {at}: {error}"))),
        };
        if entry.is_dir() || !entry.name().ends_with(".json") {
            continue;
        }
        let name = format!("{zip_name}:{}", entry.name());
        let mut text = String::new();
        if let Err(error) = entry.read_to_string(&mut text) {
            return Some(Err(anyhow::anyhow!("{name}: {error}")));
        }
        return Some(Ok((name, text)));
    })))
}

fn json_files(folder: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in
        std::fs::read_dir(folder).with_context(|| format!("reading {}", folder.display()))?
    {
        let path = entry?.path();
        if path.is_dir() {
            json_files(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    Ok(())
}

async fn print_status(store: &Store) -> anyhow::Result<()> {
    let status = store.vulndb_status().await?;
    let time = berth_store::rfc3339;
    let column = |header, path| Column {
        header,
        path,
        kind: Kind::Plain,
    };
    let summary = json!({
        "advisories": status.advisories,
        "withdrawn": status.withdrawn,
        "newest": status.newest_modified.map(time),
    });
    print!(
        "{}",
        render_record(
            &[
                column("ADVISORIES", "advisories"),
                column("WITHDRAWN", "withdrawn"),
                column("NEWEST MODIFIED", "newest"),
            ],
            &summary
        )
    );
    let ecosystems: Vec<Value> = status
        .by_ecosystem
        .iter()
        .map(|(ecosystem, count)| json!({"ecosystem": ecosystem, "advisories": count}))
        .collect();
    if !ecosystems.is_empty() {
        print!(
            "\n{}",
            render_table(
                &[
                    column("ECOSYSTEM", "ecosystem"),
                    column("ADVISORIES", "advisories")
                ],
                &ecosystems
            )
        );
    }
    if status.imports.is_empty() {
        println!("\nNo imports yet: `berth vulndb import` takes OSV exports.");
        return Ok(());
    }
    let imports: Vec<Value> = status
        .imports
        .iter()
        .map(|i| {
            json!({
                "finished": time(i.finished_at),
                "source": i.source,
                "added": i.added,
                "updated": i.updated,
                "unchanged": i.unchanged,
                "withdrawn": i.withdrawn,
                "refused": i.refused,
            })
        })
        .collect();
    print!(
        "\n{}",
        render_table(
            &[
                column("IMPORTED", "finished"),
                column("SOURCE", "source"),
                column("ADDED", "added"),
                column("UPDATED", "updated"),
                column("UNCHANGED", "unchanged"),
                column("WITHDRAWN", "withdrawn"),
                column("REFUSED", "refused"),
            ],
            &imports
        )
    );
    Ok(())
}
