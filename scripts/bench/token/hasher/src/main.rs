//! Reads `username<TAB>password` lines on stdin and writes `username<TAB>PHC hash` lines on
//! stdout, in the same order, hashing with the algorithm, version and parameters of the
//! reference PHC string given as the only argument (a hash Berth made, so seeded users cost
//! exactly what real ones do to verify).
//!
//! The salt is derived from the username (`berth-bench:<username>`), so each user's hash is
//! distinct and the output is reproducible. That is fine for benchmark fixtures and nothing
//! else.

use std::io::{BufRead, Write};

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn main() {
    if let Err(message) = run() {
        eprintln!("berth-bench-hasher: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let reference = std::env::args()
        .nth(1)
        .ok_or("usage: berth-bench-hasher '<reference PHC string>' < users.tsv")?;
    let parsed = PasswordHash::new(&reference).map_err(|e| format!("reference hash: {e}"))?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| format!("algorithm: {e}"))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| format!("version: {e}"))?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|e| format!("parameters: {e}"))?;
    let argon2 = Argon2::new(algorithm, version, params);

    let mut lines = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| format!("reading stdin: {e}"))?;
        if line.is_empty() {
            continue;
        }
        let (user, password) = line
            .split_once('\t')
            .ok_or_else(|| format!("expected `username<TAB>password`, got `{line}`"))?;
        lines.push((user.to_string(), password.to_string()));
    }

    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = lines.len().div_ceil(threads).max(1);
    let hashes: Vec<Result<Vec<String>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = lines
            .chunks(chunk)
            .map(|part| {
                let argon2 = argon2.clone();
                scope.spawn(move || {
                    part.iter()
                        .map(|(user, password)| {
                            let salt =
                                SaltString::encode_b64(format!("berth-bench:{user}").as_bytes())
                                    .map_err(|e| format!("salt for {user}: {e}"))?;
                            argon2
                                .hash_password(password.as_bytes(), &salt)
                                .map(|h| h.to_string())
                                .map_err(|e| format!("hashing for {user}: {e}"))
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("hash thread"))
            .collect()
    });

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut index = 0;
    for part in hashes {
        for hash in part? {
            writeln!(out, "{}\t{}", lines[index].0, hash).map_err(|e| e.to_string())?;
            index += 1;
        }
    }
    out.flush().map_err(|e| e.to_string())
}
