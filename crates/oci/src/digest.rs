use std::fmt;
use std::str::FromStr;

use sha2::Digest as _;

/// The digest algorithms Berth verifies. The spec registers exactly these two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    /// Parses the algorithm name used in `?digest-algorithm=` and digest prefixes.
    pub fn parse(name: &str) -> Result<Algorithm, DigestError> {
        match name {
            "sha256" => Ok(Algorithm::Sha256),
            "sha512" => Ok(Algorithm::Sha512),
            other if is_algorithm_grammar(other) => {
                Err(DigestError::UnsupportedAlgorithm(other.to_string()))
            }
            other => Err(DigestError::Invalid(format!(
                "`{other}` is not a digest algorithm"
            ))),
        }
    }
}

/// A verified-format content digest such as `sha256:e3b0…`.
///
/// The encoded part is always lowercase hex of the algorithm's exact length, so two equal
/// contents always have equal `Digest` values and the string form is safe to use as a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("invalid digest: {0}")]
    Invalid(String),
    #[error("digest algorithm `{0}` is not supported (use sha256 or sha512)")]
    UnsupportedAlgorithm(String),
}

/// `algorithm-component` from the spec: `[a-z0-9]+` joined by `+ . _ -`.
fn is_algorithm_grammar(s: &str) -> bool {
    !s.is_empty()
        && s.split(['+', '.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

impl Digest {
    pub fn parse(text: &str) -> Result<Digest, DigestError> {
        let Some((algorithm, encoded)) = text.split_once(':') else {
            return Err(DigestError::Invalid(format!(
                "`{}` has no `algorithm:` prefix",
                truncate(text)
            )));
        };
        let algorithm = Algorithm::parse(algorithm)?;
        let valid_hex = encoded.len() == algorithm.hex_len()
            && encoded
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !valid_hex {
            return Err(DigestError::Invalid(format!(
                "a {} digest is {} lowercase hex characters",
                algorithm.as_str(),
                algorithm.hex_len()
            )));
        }
        Ok(Digest {
            algorithm,
            hex: encoded.to_string(),
        })
    }

    /// The digest of `bytes` under `algorithm`.
    pub fn of(algorithm: Algorithm, bytes: &[u8]) -> Digest {
        let mut digester = Digester::new(algorithm);
        digester.update(bytes);
        digester.finish()
    }

    pub fn sha256_of(bytes: &[u8]) -> Digest {
        Digest::of(Algorithm::Sha256, bytes)
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The encoded (hex) part, without the algorithm prefix.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.as_str(), self.hex)
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

/// Incremental hashing for either algorithm, so blobs are hashed while they stream in.
#[derive(Clone)]
pub enum Digester {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Digester {
    pub fn new(algorithm: Algorithm) -> Digester {
        match algorithm {
            Algorithm::Sha256 => Digester::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => Digester::Sha512(sha2::Sha512::new()),
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            Digester::Sha256(_) => Algorithm::Sha256,
            Digester::Sha512(_) => Algorithm::Sha512,
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Digester::Sha256(h) => h.update(bytes),
            Digester::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest of everything fed so far, without consuming the hasher.
    pub fn current(&self) -> Digest {
        self.clone().finish()
    }

    pub fn finish(self) -> Digest {
        let (algorithm, hex) = match self {
            Digester::Sha256(h) => (Algorithm::Sha256, hex::encode(h.finalize())),
            Digester::Sha512(h) => (Algorithm::Sha512, hex::encode(h.finalize())),
        };
        Digest { algorithm, hex }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        let got = Digest::parse(input);
        match (got, expected) {
            (Ok(d), Ok(text)) => assert_eq!(d.to_string(), text),
            (Err(e), Err(kind)) => {
                let actual = match e {
                    DigestError::Invalid(_) => "invalid",
                    DigestError::UnsupportedAlgorithm(_) => "unsupported",
                };
                assert_eq!(actual, kind, "{input}: {e}");
            }
            (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn parses_digests() {
        let empty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        check(empty, Ok(empty));
        check(
            &format!("sha512:{}", "a".repeat(128)),
            Ok(&format!("sha512:{}", "a".repeat(128))),
        );
        check(
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            Err("invalid"),
        );
        check("sha256:abc", Err("invalid"));
        check("sha256", Err("invalid"));
        check("", Err("invalid"));
        check(&format!("sha384:{}", "a".repeat(96)), Err("unsupported"));
        check("SHA256:abc", Err("invalid"));
        check("sha256:../../etc/passwd", Err("invalid"));
    }

    #[test]
    fn hashes_incrementally() {
        let mut d = Digester::new(Algorithm::Sha256);
        d.update(b"hello ");
        assert_eq!(d.current(), Digest::sha256_of(b"hello "));
        d.update(b"world");
        assert_eq!(d.finish(), Digest::sha256_of(b"hello world"));
        assert_eq!(
            Digest::sha256_of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Digest::of(Algorithm::Sha512, b"").hex().len(), 128);
    }
}
