//! Configuration: defaults, then a TOML file, then `BERTH_*` environment variables, then
//! command-line flags, merged into one typed [`Config`] and validated once at start.
//! Every option is documented in `berth.example.toml` at the repository root.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use berth_client::Secret;
use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// Every option, as written in the TOML file. Environment variables are the upper-case names
/// with a `BERTH_` prefix (`listen` ↔ `BERTH_LISTEN`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub external_url: Option<String>,
    pub admin_password: Option<Secret>,
    pub token_ttl_seconds: u64,
    pub upload_ttl_seconds: u64,
    /// Seconds between scheduled syncs of an external registry that sets none of its own.
    pub sync_interval_seconds: u64,
    /// Syncs running at once in this process.
    pub sync_workers: u64,
    /// Requests in flight to one external registry at once.
    pub sync_concurrency: u64,
    /// How long a sync outlives the process running it before another process takes it over.
    pub sync_lease_seconds: u64,
    /// Vulnerability scans running at once in this process.
    pub scan_workers: u64,
    /// Keep what each layer holds by digest, so images sharing layers read them once.
    pub scan_layer_cache: bool,
    pub log_format: LogFormat,
    pub log_level: String,
}

/// The option names, which are also the only `BERTH_*` variables read.
const KEYS: [&str; 15] = [
    "listen",
    "data_dir",
    "database_url",
    "external_url",
    "admin_password",
    "token_ttl_seconds",
    "upload_ttl_seconds",
    "sync_interval_seconds",
    "sync_workers",
    "sync_concurrency",
    "sync_lease_seconds",
    "scan_workers",
    "scan_layer_cache",
    "log_format",
    "log_level",
];

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:5050".into(),
            data_dir: PathBuf::from("./berth-data"),
            database_url: None,
            external_url: None,
            admin_password: None,
            token_ttl_seconds: 300,
            upload_ttl_seconds: 24 * 3600,
            sync_interval_seconds: 600,
            sync_workers: 2,
            sync_concurrency: 8,
            sync_lease_seconds: 60,
            scan_workers: 2,
            scan_layer_cache: true,
            log_format: LogFormat::Text,
            log_level: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Flags given on the command line; unset ones leave lower layers alone.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
}

/// The configuration after validation, in the types the server uses.
#[derive(Debug, Clone)]
pub struct Validated {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub external_url: Option<String>,
    pub admin_password: Option<Secret>,
    pub token_ttl: Duration,
    pub upload_ttl: Duration,
    pub sync: berth_server::SyncSettings,
    pub scan: berth_server::ScanSettings,
    pub log_format: LogFormat,
    pub log_level: String,
}

/// A configuration problem, naming the option and where to fix it.
#[derive(Debug, thiserror::Error)]
#[error("configuration option `{option}` (BERTH_{upper}): {message}")]
pub struct ConfigError {
    option: &'static str,
    upper: String,
    message: String,
}

fn invalid(option: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        option,
        upper: option.to_uppercase(),
        message: message.into(),
    }
}

/// Merges the layers. `env` is the environment to read, so tests need not touch the process's.
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
    overrides: &Overrides,
) -> anyhow::Result<Config> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    if let Some(file) = file {
        if !file.exists() {
            anyhow::bail!("configuration file {} does not exist", file.display());
        }
        figment = figment.merge(Toml::file(file));
    }
    // Only known BERTH_* variables are read, so unrelated ones (BERTH_TEST_…) are ignored,
    // while the TOML file still rejects misspelt keys.
    let env: Vec<(String, String)> = env
        .into_iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("BERTH_")?.to_lowercase();
            KEYS.contains(&key.as_str()).then_some((key, v))
        })
        .collect();
    for (key, value) in &env {
        figment = figment.merge(Serialized::global(
            key.as_str(),
            parse_env_value(key, value),
        ));
    }
    figment = figment.merge(Serialized::globals(overrides));
    figment
        .extract::<Config>()
        .map_err(|e| anyhow::anyhow!("configuration: {e}"))
}

/// Environment values are strings; numeric options are parsed so that errors name the option.
fn parse_env_value(key: &str, value: &str) -> figment::value::Value {
    if key.ends_with("_seconds")
        || matches!(key, "sync_workers" | "sync_concurrency" | "scan_workers")
    {
        if let Ok(n) = value.trim().parse::<u64>() {
            return n.into();
        }
    }
    if key == "scan_layer_cache" {
        if let Ok(on) = value.trim().parse::<bool>() {
            return on.into();
        }
    }
    value.to_string().into()
}

/// Reads the process environment.
pub fn process_env() -> impl Iterator<Item = (String, String)> {
    std::env::vars()
}

impl Config {
    pub fn validate(self) -> Result<Validated, ConfigError> {
        let listen: SocketAddr = self.listen.parse().map_err(|_| {
            invalid(
                "listen",
                format!("`{}` is not an address like 127.0.0.1:5050", self.listen),
            )
        })?;
        if self.data_dir.as_os_str().is_empty() {
            return Err(invalid("data_dir", "must not be empty"));
        }
        let database_url = match self.database_url.filter(|u| !u.trim().is_empty()) {
            Some(url) => {
                let scheme_ok = ["sqlite:", "postgres:", "postgresql:"]
                    .iter()
                    .any(|s| url.starts_with(s));
                if !scheme_ok {
                    return Err(invalid(
                        "database_url",
                        "must start with sqlite:// or postgres://",
                    ));
                }
                url
            }
            None => format!("sqlite://{}", self.data_dir.join("berth.db").display()),
        };
        let external_url = match self.external_url.filter(|u| !u.trim().is_empty()) {
            Some(text) => {
                let url = url::Url::parse(&text)
                    .map_err(|e| invalid("external_url", format!("`{text}` is not a URL: {e}")))?;
                if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                    return Err(invalid(
                        "external_url",
                        "must be an http:// or https:// URL with a host",
                    ));
                }
                Some(text.trim_end_matches('/').to_string())
            }
            None => None,
        };
        if self.token_ttl_seconds == 0 || self.token_ttl_seconds > 86_400 {
            return Err(invalid("token_ttl_seconds", "must be between 1 and 86400"));
        }
        if self.upload_ttl_seconds < 60 {
            return Err(invalid("upload_ttl_seconds", "must be at least 60"));
        }
        if self.sync_interval_seconds < 60 {
            return Err(invalid("sync_interval_seconds", "must be at least 60"));
        }
        if !(1..=32).contains(&self.sync_workers) {
            return Err(invalid("sync_workers", "must be between 1 and 32"));
        }
        if !(1..=64).contains(&self.sync_concurrency) {
            return Err(invalid("sync_concurrency", "must be between 1 and 64"));
        }
        if !(3..=3600).contains(&self.sync_lease_seconds) {
            return Err(invalid("sync_lease_seconds", "must be between 3 and 3600"));
        }
        if !(1..=16).contains(&self.scan_workers) {
            return Err(invalid("scan_workers", "must be between 1 and 16"));
        }
        if self
            .admin_password
            .as_ref()
            .is_some_and(|p| p.expose().len() < 8)
        {
            return Err(invalid("admin_password", "must be at least 8 characters"));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log_level).is_err() {
            return Err(invalid(
                "log_level",
                format!(
                    "`{}` is not a level or filter like `info` or `berth=debug`",
                    self.log_level
                ),
            ));
        }
        Ok(Validated {
            listen,
            data_dir: self.data_dir,
            database_url,
            external_url,
            admin_password: self.admin_password,
            token_ttl: Duration::from_secs(self.token_ttl_seconds),
            upload_ttl: Duration::from_secs(self.upload_ttl_seconds),
            sync: berth_server::SyncSettings {
                default_interval: Duration::from_secs(self.sync_interval_seconds),
                workers: self.sync_workers as usize,
                concurrency: self.sync_concurrency as usize,
                lease: Duration::from_secs(self.sync_lease_seconds),
                remote: berth_server::RemoteSettings {
                    max_concurrency: self.sync_concurrency as usize,
                    ..Default::default()
                },
                ..Default::default()
            },
            scan: berth_server::ScanSettings {
                workers: self.scan_workers as usize,
                layer_cache: self.scan_layer_cache,
                ..Default::default()
            },
            log_format: self.log_format,
            log_level: self.log_level,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_match_the_design() {
        let config = load(None, env(&[]), &Overrides::default())
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:5050");
        assert_eq!(config.data_dir, PathBuf::from("./berth-data"));
        assert_eq!(config.database_url, "sqlite://./berth-data/berth.db");
        assert_eq!(config.token_ttl, Duration::from_secs(300));
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("berth.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:6000\"\ndata_dir = \"/srv/berth\"\ntoken_ttl_seconds = 60\n",
        )
        .unwrap();
        let from_file = load(Some(&file), env(&[]), &Overrides::default()).unwrap();
        assert_eq!(from_file.listen, "127.0.0.1:6000");
        assert_eq!(from_file.token_ttl_seconds, 60);

        let vars = env(&[
            ("BERTH_LISTEN", "127.0.0.1:7000"),
            ("BERTH_TOKEN_TTL_SECONDS", "90"),
            ("BERTH_TEST_UNRELATED", "x"),
        ]);
        let from_env = load(Some(&file), vars.clone(), &Overrides::default()).unwrap();
        assert_eq!(from_env.listen, "127.0.0.1:7000");
        assert_eq!(from_env.token_ttl_seconds, 90);
        assert_eq!(from_env.data_dir, PathBuf::from("/srv/berth"));

        let flags = Overrides {
            listen: Some("127.0.0.1:8000".into()),
            ..Default::default()
        };
        let from_flags = load(Some(&file), vars, &flags).unwrap();
        assert_eq!(from_flags.listen, "127.0.0.1:8000");
        assert_eq!(from_flags.token_ttl_seconds, 90);
    }

    #[test]
    fn errors_name_the_option() {
        let check = |pairs: &[(&str, &str)], option: &str| {
            let result = load(None, env(pairs), &Overrides::default())
                .map_err(|e| e.to_string())
                .and_then(|c| c.validate().map_err(|e| e.to_string()));
            let message = result.expect_err("should be refused");
            assert!(message.contains(option), "{message} should name {option}");
        };
        check(&[("BERTH_LISTEN", "nowhere")], "listen");
        check(&[("BERTH_DATABASE_URL", "mysql://x")], "database_url");
        check(&[("BERTH_EXTERNAL_URL", "ftp://x")], "external_url");
        check(&[("BERTH_TOKEN_TTL_SECONDS", "0")], "token_ttl_seconds");
        check(&[("BERTH_TOKEN_TTL_SECONDS", "soon")], "token_ttl_seconds");
        check(&[("BERTH_ADMIN_PASSWORD", "short")], "admin_password");
        check(&[("BERTH_LOG_FORMAT", "xml")], "log_format");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("berth.toml");
        std::fs::write(&file, "lisen = \"127.0.0.1:1\"\n").unwrap();
        let message = load(Some(&file), env(&[]), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(message.contains("lisen"), "{message}");
    }

    #[test]
    fn the_example_file_documents_every_option_and_loads() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../berth.example.toml");
        let text = std::fs::read_to_string(&example).unwrap();
        for key in KEYS {
            assert!(
                text.contains(&format!("{key} =")),
                "berth.example.toml does not document `{key}`"
            );
        }
        // The example, with its commented options switched on, is a valid configuration.
        let uncommented: String = text
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|l| l.contains(" = "))
                    .unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("berth.toml");
        std::fs::write(&file, uncommented).unwrap();
        load(Some(&file), env(&[]), &Overrides::default())
            .unwrap()
            .validate()
            .unwrap();
    }

    #[test]
    fn secrets_do_not_print() {
        let config = Config {
            admin_password: Some(Secret::new("hunter22hunter")),
            ..Config::default()
        };
        assert!(!format!("{config:?}").contains("hunter22"));
    }
}
