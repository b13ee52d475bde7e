//! Which distribution an image is, from its `os-release` file (`/etc/os-release`, or
//! `/usr/lib/os-release` where `/etc/os-release` is missing), as the OSV ecosystem its
//! advisories are filed under.

use std::str::FromStr;

use etc_os_release::OsRelease;
use osv::schema::Ecosystem;

/// The distribution an `os-release` file names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    /// `ID`, e.g. `debian`.
    pub id: String,
    /// `VERSION_ID`, e.g. `12`; rolling releases (Debian testing) have none.
    pub version_id: Option<String>,
    /// `PRETTY_NAME`, for the scan log.
    pub pretty_name: Option<String>,
}

impl Distribution {
    /// Reads an `os-release` file; `None` when it names no `ID`.
    pub fn from_os_release(bytes: &[u8]) -> Option<Distribution> {
        let text = String::from_utf8_lossy(bytes);
        let release = OsRelease::from_str(&text).unwrap_or_else(|never| match never {});
        let value = |key| {
            release
                .get_value(key)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Some(Distribution {
            id: value("ID")?,
            version_id: value("VERSION_ID"),
            pretty_name: value("PRETTY_NAME"),
        })
    }

    /// The ecosystem its advisories are filed under (`Debian:12`), or `None` for a
    /// distribution Berth has no advisories for yet.
    pub fn ecosystem(&self) -> Option<Ecosystem> {
        match self.id.as_str() {
            // OSV files Debian advisories by major release: `Debian:12`, not `Debian:12.5`.
            "debian" => Some(Ecosystem::Debian(
                self.version_id
                    .as_deref()
                    .map(|v| v.split('.').next().unwrap_or(v).to_string()),
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Debian 12's `/usr/lib/os-release`, as `base-files` 12.4+deb12u11 installs it.
    const BOOKWORM: &str = r#"PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"#;

    #[test]
    fn debian_is_filed_by_major_release() {
        let bookworm = Distribution::from_os_release(BOOKWORM.as_bytes()).unwrap();
        assert_eq!(bookworm.id, "debian");
        assert_eq!(
            bookworm.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(
            bookworm.ecosystem(),
            Some(Ecosystem::Debian(Some("12".into())))
        );
        let point = Distribution::from_os_release(b"ID=debian\nVERSION_ID='12.5'\n").unwrap();
        assert_eq!(
            point.ecosystem(),
            Some(Ecosystem::Debian(Some("12".into())))
        );
        // Testing has no VERSION_ID: only release-less advisories can apply.
        let testing = Distribution::from_os_release(b"ID=debian\n# rolling\n").unwrap();
        assert_eq!(testing.ecosystem(), Some(Ecosystem::Debian(None)));
    }

    #[test]
    fn unknown_or_missing_distributions_say_so() {
        let alpine = Distribution::from_os_release(b"ID=alpine\nVERSION_ID=3.20.3\n").unwrap();
        assert_eq!(alpine.ecosystem(), None);
        assert_eq!(Distribution::from_os_release(b"NAME=nothing\n"), None);
        assert_eq!(Distribution::from_os_release(b"ID=\n"), None);
        assert_eq!(Distribution::from_os_release(&[0xff, 0xfe, b'\n']), None);
    }

    proptest! {
        #[test]
        fn fuzz_any_bytes_name_a_distribution_or_none(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Some(distribution) = Distribution::from_os_release(&bytes) {
                prop_assert!(!distribution.id.is_empty());
            }
        }
    }
}
