//! The saved session: `{url, token}` in `credentials.json`, readable only by its owner.
//!
//! The file lives in `$BERTH_CONFIG_DIR`, else `$XDG_CONFIG_HOME/berth`, else
//! `~/.config/berth`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use berth_client::Secret;
use serde::{Deserialize, Serialize};

/// What `berth login` saves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub url: String,
    pub token: Secret,
}

const FILE: &str = "credentials.json";

/// The directory the credentials file lives in.
pub fn dir() -> anyhow::Result<PathBuf> {
    let from_env = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(dir) = from_env("BERTH_CONFIG_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = from_env("XDG_CONFIG_HOME") {
        return Ok(PathBuf::from(dir).join("berth"));
    }
    let home = from_env("HOME")
        .context("cannot find the configuration directory: set BERTH_CONFIG_DIR or HOME")?;
    Ok(PathBuf::from(home).join(".config").join("berth"))
}

/// The saved session, if there is one.
pub fn load() -> anyhow::Result<Option<Credentials>> {
    let path = dir()?.join(FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("reading {} (run `berth login` again)", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Saves the session and answers where. The file is written under a temporary name created
/// with mode 0600 and renamed over the old one, so the token is never readable by others,
/// not even for a moment, and a crash leaves the old file or the new one, never half of one.
pub fn save(credentials: &Credentials) -> anyhow::Result<PathBuf> {
    let dir = dir()?;
    create_private_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(FILE);
    let temp = dir.join(format!(".{FILE}.{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        // A leftover from a crashed run may have other permissions; start afresh.
        let _ = std::fs::remove_file(&temp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp)?;
        file.write_all(&serde_json::to_vec_pretty(credentials)?)?;
        file.sync_all()?;
        std::fs::rename(&temp, &path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        anyhow::Error::new(e).context(format!("writing {}", path.display()))
    })?;
    Ok(path)
}

/// Removes the saved session and answers it, or `None` when there was none.
pub fn remove() -> anyhow::Result<Option<Credentials>> {
    // An unreadable file is removed all the same: logging out must always work.
    let saved = load().ok().flatten();
    let path = dir()?.join(FILE);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(saved),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
    }
}

fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
