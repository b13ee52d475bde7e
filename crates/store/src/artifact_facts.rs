//! What the catalog records about an artifact beyond its manifest bytes: the config fields,
//! the layers with the history lines that made them, and the full history. A push and a sync
//! derive them with the same rule ([`ArtifactFacts::of`]) and write them with the same
//! statements, so an external image's detail page reads exactly like a hosted one's.

use berth_oci::{ImageConfig, Manifest, ManifestKind};
use sqlx::{Any, Transaction};

use crate::batch::{group, values, MAX_PARAMETERS};
use crate::StoreError;

/// The facts of one artifact, ready for its `artifacts` row and its layer and history rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArtifactFacts {
    pub artifact_type: Option<String>,
    pub subject_digest: Option<String>,
    pub config_digest: Option<String>,
    /// The manifest's annotations as a JSON object.
    pub annotations: String,
    pub created: Option<String>,
    pub author: Option<String>,
    /// The config fields without columns of their own (see [`config_fields_json`]).
    pub config_fields: Option<String>,
    pub layers: Vec<LayerFact>,
    pub history: Vec<HistoryFact>,
}

/// A layer with the history line that created it, when the config says which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerFact {
    pub digest: String,
    pub media_type: String,
    pub size: i64,
    pub history_position: Option<i64>,
    pub created_by: Option<String>,
    pub created: Option<String>,
}

/// One line of the config's history, empty layers included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryFact {
    pub created: Option<String>,
    pub created_by: Option<String>,
    pub author: Option<String>,
    pub comment: Option<String>,
    pub empty_layer: bool,
}

impl ArtifactFacts {
    /// The facts of `manifest` with its parsed `config` (none for an index, an artifact whose
    /// config is not an image config, or a config that did not parse). Layers and history are
    /// recorded for images only: an index lists children instead.
    pub fn of(manifest: &Manifest, config: Option<&ImageConfig>) -> ArtifactFacts {
        let mut facts = ArtifactFacts {
            artifact_type: manifest.effective_artifact_type().map(str::to_string),
            subject_digest: manifest.subject.as_ref().map(|s| s.digest.to_string()),
            config_digest: manifest.config.as_ref().map(|c| c.digest.to_string()),
            // A map of strings, sorted by key; serialising it cannot fail.
            annotations: serde_json::to_string(&manifest.annotations)
                .expect("a map of strings serialises"),
            created: config.and_then(|c| c.created.clone()),
            author: config.and_then(|c| c.author.clone()),
            config_fields: config.map(config_fields_json),
            layers: Vec::new(),
            history: Vec::new(),
        };
        if manifest.kind != ManifestKind::Image {
            return facts;
        }
        let history_of_layer = config
            .map(|c| c.layer_history(manifest.layers.len()))
            .unwrap_or_else(|| vec![None; manifest.layers.len()]);
        facts.layers = manifest
            .layers
            .iter()
            .zip(history_of_layer)
            .map(|(layer, position)| {
                let entry = position.and_then(|i| config.map(|c| &c.history[i]));
                LayerFact {
                    digest: layer.digest.to_string(),
                    media_type: layer.media_type.clone(),
                    size: layer.size as i64,
                    history_position: position.map(|p| p as i64),
                    created_by: entry.and_then(|h| h.created_by.clone()),
                    created: entry.and_then(|h| h.created.clone()),
                }
            })
            .collect();
        facts.history = config
            .iter()
            .flat_map(|c| c.history.iter())
            .map(|entry| HistoryFact {
                created: entry.created.clone(),
                created_by: entry.created_by.clone(),
                author: entry.author.clone(),
                comment: entry.comment.clone(),
                empty_layer: entry.empty_layer,
            })
            .collect();
        facts
    }
}

/// Writes the layer and history rows of each `(artifact id, facts)`, in multi-row statements.
pub(crate) async fn insert_layers_and_history(
    tx: &mut Transaction<'_, Any>,
    artifacts: &[(i64, &ArtifactFacts)],
) -> Result<(), StoreError> {
    let layers: Vec<(i64, usize, &LayerFact)> = artifacts
        .iter()
        .flat_map(|(id, facts)| facts.layers.iter().enumerate().map(|(p, l)| (*id, p, l)))
        .collect();
    for chunk in layers.chunks(MAX_PARAMETERS / 8) {
        let sql = format!(
            "INSERT INTO artifact_layers (artifact_id, position, digest, media_type, size, \
             history_position, created_by, created) VALUES {}",
            values(1, chunk.len(), 8, group)
        );
        let mut query = sqlx::query(&sql);
        for (id, position, layer) in chunk {
            query = query
                .bind(*id)
                .bind(*position as i64)
                .bind(layer.digest.as_str())
                .bind(layer.media_type.as_str())
                .bind(layer.size)
                .bind(layer.history_position)
                .bind(layer.created_by.as_deref())
                .bind(layer.created.as_deref());
        }
        query.execute(&mut **tx).await?;
    }
    let history: Vec<(i64, usize, &HistoryFact)> = artifacts
        .iter()
        .flat_map(|(id, facts)| facts.history.iter().enumerate().map(|(p, h)| (*id, p, h)))
        .collect();
    for chunk in history.chunks(MAX_PARAMETERS / 7) {
        let sql = format!(
            "INSERT INTO artifact_history (artifact_id, position, created, created_by, author, \
             comment, empty_layer) VALUES {}",
            values(1, chunk.len(), 7, group)
        );
        let mut query = sqlx::query(&sql);
        for (id, position, entry) in chunk {
            query = query
                .bind(*id)
                .bind(*position as i64)
                .bind(entry.created.as_deref())
                .bind(entry.created_by.as_deref())
                .bind(entry.author.as_deref())
                .bind(entry.comment.as_deref())
                .bind(i64::from(entry.empty_layer));
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The config fields that have no column of their own, as a JSON object. Readers parse it
/// and look fields up by name, so the key order (serde_json's, sorted) is free to differ from
/// rows written before.
fn config_fields_json(config: &ImageConfig) -> String {
    serde_json::json!({
        "env": config.env,
        "entrypoint": config.entrypoint,
        "cmd": config.cmd,
        "working_dir": config.working_dir,
        "exposed_ports": config.exposed_ports,
        "labels": config.labels,
    })
    .to_string()
}
