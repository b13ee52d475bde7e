//! How severe a vulnerability is, and who said so.
//!
//! An advisory's own CVSS vector comes first (v4 before v3, the base score computed by the
//! `cvss` crate from the vector, never read from text), then a severity its database states.
//! Debian's advisories carry neither, so for them another imported record of the same CVE
//! (an alias, or an `upstream` entry) lends its rating; failing that, Debian's urgency is
//! used; failing that, the severity is unknown. Every rating says where it came from.

use std::fmt;
use std::str::FromStr;

use osv::schema::{Affected, SeverityType, Vulnerability};

/// Severity levels, lowest first, so that `max` is the highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Unknown,
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every level, lowest first.
    pub const ALL: [Severity; 6] = [
        Severity::Unknown,
        Severity::None,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The level [`as_str`](Severity::as_str) names, if `name` is one.
    pub fn from_name(name: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The level's rank, higher being worse (unknown 0 … critical 5), as reports store it and
    /// the image list filters and sorts by it.
    pub fn rank(self) -> u8 {
        self as u8
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// CVSS's qualitative bands (v3.1 and v4.0 share them).
    fn of_score(score: f64) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a rating came from.
#[derive(Debug, Clone, PartialEq)]
pub enum RatingSource {
    /// A CVSS vector of the advisory itself.
    Cvss { vector: String },
    /// The severity the advisory's database states (`database_specific.severity`).
    Database,
    /// Another record of the same vulnerability, by its id.
    Related {
        advisory: String,
        source: Box<RatingSource>,
    },
    /// Debian's urgency for the package.
    DebianUrgency { urgency: String },
    /// Nothing rates it.
    Unrated,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rating {
    pub severity: Severity,
    /// The CVSS base score, when a vector gave the rating.
    pub score: Option<f64>,
    pub source: RatingSource,
}

/// The rating an advisory gives itself, on the entry of the package concerned or at the
/// top: a CVSS v4 vector, else a v3 one, else a stated database severity.
pub fn own_rating(advisory: &Vulnerability, affected: Option<&Affected>) -> Option<Rating> {
    let vectors: Vec<(&SeverityType, &str)> = affected
        .and_then(|a| a.severity.as_ref())
        .into_iter()
        .chain(advisory.severity.as_ref())
        .flatten()
        .map(|s| (&s.severity_type, s.score.as_str()))
        .collect();
    for wanted_v4 in [true, false] {
        for (kind, vector) in &vectors {
            let is_v4 = match kind {
                SeverityType::CVSSv4 => true,
                SeverityType::CVSSv3 => false,
                _ => continue,
            };
            if is_v4 != wanted_v4 {
                continue;
            }
            if let Some(score) = base_score(vector) {
                return Some(Rating {
                    severity: Severity::of_score(score),
                    score: Some(score),
                    source: RatingSource::Cvss {
                        vector: vector.to_string(),
                    },
                });
            }
        }
    }
    let stated = advisory
        .database_specific
        .as_ref()
        .and_then(|d| d.get("severity"))
        .and_then(|s| s.as_str())?;
    let severity = match stated.to_ascii_lowercase().as_str() {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        // GitHub's advisories say "moderate".
        "moderate" | "medium" => Severity::Medium,
        "low" => Severity::Low,
        _ => return None,
    };
    Some(Rating {
        severity,
        score: None,
        source: RatingSource::Database,
    })
}

/// The base score of a CVSS v3.x or v4.0 vector, or `None` when it does not parse.
fn base_score(vector: &str) -> Option<f64> {
    if vector.starts_with("CVSS:4.0/") {
        cvss::v4::Vector::from_str(vector)
            .ok()
            .map(|v| v.score().value())
    } else {
        cvss::v3::Base::from_str(vector)
            .ok()
            .map(|b| b.score().value())
    }
}

/// The rating of `advisory` for the package entry `affected`: its own, else the first
/// rated record among those `related` returns for its aliases and `upstream` ids, else
/// Debian's urgency on the entry, else unknown.
pub fn rating<'a>(
    advisory: &Vulnerability,
    affected: Option<&Affected>,
    related: impl Fn(&str) -> Vec<&'a Vulnerability>,
) -> Rating {
    if let Some(rating) = own_rating(advisory, affected) {
        return rating;
    }
    let ids = advisory
        .aliases
        .iter()
        .flatten()
        .chain(advisory.upstream.iter().flatten());
    for id in ids {
        for other in related(id) {
            if other.id == advisory.id {
                continue;
            }
            if let Some(found) = own_rating(other, None) {
                return Rating {
                    source: RatingSource::Related {
                        advisory: other.id.clone(),
                        source: Box::new(found.source),
                    },
                    ..found
                };
            }
        }
    }
    let urgency = affected
        .and_then(|a| a.ecosystem_specific.as_ref())
        .and_then(|e| e.get("urgency"))
        .and_then(|u| u.as_str());
    if let Some(urgency) = urgency {
        // A trailing `*` marks an urgency the tracker guessed; the level is the same.
        let severity = match urgency.trim_end_matches('*') {
            "unimportant" | "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            _ => None,
        };
        if let Some(severity) = severity {
            return Rating {
                severity,
                score: None,
                source: RatingSource::DebianUrgency {
                    urgency: urgency.to_string(),
                },
            };
        }
    }
    Rating {
        severity: Severity::Unknown,
        score: None,
        source: RatingSource::Unrated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advisory(value: serde_json::Value) -> Vulnerability {
        let mut value = value;
        value["modified"] = "2026-01-01T00:00:00Z".into();
        serde_json::from_value(value).unwrap()
    }

    /// Base scores of vectors whose scores the CVSS specifications' calculators give.
    #[test]
    fn scores_are_computed_from_vectors() {
        for (vector, score, severity) in [
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                9.8,
                Severity::Critical,
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
                7.5,
                Severity::High,
            ),
            (
                "CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N",
                3.3,
                Severity::Low,
            ),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N",
                0.0,
                Severity::None,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                9.3,
                Severity::Critical,
            ),
        ] {
            let rated = own_rating(
                &advisory(serde_json::json!({"id": "X", "severity": [{
                    "type": if vector.starts_with("CVSS:4") { "CVSS_V4" } else { "CVSS_V3" },
                    "score": vector,
                }]})),
                None,
            )
            .unwrap();
            assert_eq!(
                (rated.score, rated.severity),
                (Some(score), severity),
                "{vector}"
            );
        }
    }

    #[test]
    fn v4_comes_before_v3_and_a_bad_vector_is_passed_over() {
        let both = advisory(serde_json::json!({"id": "X", "severity": [
            {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"},
            {"type": "CVSS_V4", "score": "not a vector"},
            {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"},
        ]}));
        assert_eq!(own_rating(&both, None).unwrap().score, Some(9.3));
        let stated =
            advisory(serde_json::json!({"id": "X", "database_specific": {"severity": "MODERATE"}}));
        let rated = own_rating(&stated, None).unwrap();
        assert_eq!(
            (rated.severity, rated.source),
            (Severity::Medium, RatingSource::Database)
        );
        assert_eq!(
            own_rating(&advisory(serde_json::json!({"id": "X"})), None),
            None
        );
    }

    #[test]
    fn the_highest_is_the_greatest() {
        let levels = [
            Severity::Low,
            Severity::Unknown,
            Severity::Critical,
            Severity::None,
        ];
        assert_eq!(levels.iter().max(), Some(&Severity::Critical));
        assert!(Severity::Unknown < Severity::None);
    }
}
