use std::collections::BTreeMap;

use oci_spec::image::ImageConfiguration;

/// One entry of an image config's `history`: the build step that made a layer, or an
/// `empty_layer` step (ENV, CMD, …) that changed only the config.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryEntry {
    pub created: Option<String>,
    pub created_by: Option<String>,
    pub author: Option<String>,
    pub comment: Option<String>,
    pub empty_layer: bool,
}

/// The fields of an image configuration the catalog keeps.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageConfig {
    pub created: Option<String>,
    pub author: Option<String>,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub working_dir: Option<String>,
    pub exposed_ports: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub history: Vec<HistoryEntry>,
}

impl ImageConfig {
    /// Parses an OCI image config or Docker container config. Registries do not validate
    /// config blobs, so a config that fails to parse is not an error for the push; the
    /// caller simply records no config fields.
    pub fn parse(bytes: &[u8]) -> Result<ImageConfig, String> {
        let config: ImageConfiguration =
            serde_json::from_slice(bytes).map_err(|e| format!("not an image config: {e}"))?;
        let runtime = config.config().clone().unwrap_or_default();
        Ok(ImageConfig {
            created: config.created().clone(),
            author: config.author().clone(),
            os: config.os().to_string(),
            architecture: config.architecture().to_string(),
            variant: config.variant().clone(),
            env: runtime.env().clone().unwrap_or_default(),
            entrypoint: runtime.entrypoint().clone().unwrap_or_default(),
            cmd: runtime.cmd().clone().unwrap_or_default(),
            working_dir: runtime.working_dir().clone().filter(|d| !d.is_empty()),
            exposed_ports: runtime.exposed_ports().clone().unwrap_or_default(),
            labels: runtime
                .labels()
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect(),
            history: config
                .history()
                .iter()
                .flatten()
                .map(|h| HistoryEntry {
                    created: h.created().clone(),
                    created_by: h.created_by().clone(),
                    author: h.author().clone(),
                    comment: h.comment().clone(),
                    empty_layer: h.empty_layer().unwrap_or(false),
                })
                .collect(),
        })
    }

    /// For each of `layer_count` layers, the index into `history` of the step that created
    /// it. Non-empty history entries correspond to layers in order; images built by tools
    /// that write no history (or too little) get `None` for the unmatched layers.
    pub fn layer_history(&self, layer_count: usize) -> Vec<Option<usize>> {
        let mut non_empty = self
            .history
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.empty_layer)
            .map(|(i, _)| i);
        (0..layer_count).map(|_| non_empty.next()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_pairs_layers_with_history() {
        let json = br#"{
            "created":"2024-01-02T03:04:05Z","author":"me","architecture":"arm64","os":"linux","variant":"v8",
            "config":{"Env":["A=b"],"Cmd":["sh"],"WorkingDir":"/app","ExposedPorts":{"80/tcp":{}},"Labels":{"k":"v"}},
            "rootfs":{"type":"layers","diff_ids":[]},
            "history":[
              {"created_by":"ADD rootfs /"},
              {"created_by":"ENV A=b","empty_layer":true},
              {"created_by":"RUN make"}
            ]}"#;
        let config = ImageConfig::parse(json).unwrap();
        assert_eq!(config.architecture, "arm64");
        assert_eq!(config.variant.as_deref(), Some("v8"));
        assert_eq!(config.env, vec!["A=b"]);
        assert_eq!(config.exposed_ports, vec!["80/tcp"]);
        assert_eq!(config.labels.get("k").map(String::as_str), Some("v"));
        assert_eq!(config.layer_history(2), vec![Some(0), Some(2)]);
        assert_eq!(config.layer_history(3), vec![Some(0), Some(2), None]);
        assert!(ImageConfig::parse(b"{}").is_err());
    }
}
