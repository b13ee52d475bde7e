//! Who is asking. Users and robots are checked against their credentials (argon2id
//! passwords, SHA-256 robot secrets), and the subject behind a token is read back as the
//! access rule needs it, with the facts about the spaces concerned. Tokens are signed and
//! verified here (registry tokens and REST session tokens, one key), and so is the key that
//! seals the external registries' passwords Berth stores.
//!
//! **Architecture invariant:** this crate authenticates and gathers facts; it decides nothing.
//! What a subject may do is `berth-access`'s answer. It knows no HTTP: the registry, the token
//! endpoint and the REST API are its callers, and each passes exactly the services a function
//! needs (the store, the password checker), never an application state.

/// Argon2id hashing and the checker that verifies passwords without blocking the runtime.
pub mod passwords;
/// Users and robots: authentication, the subject behind a token, the facts for the rule.
pub mod principals;
/// Sealing stored registry credentials (AES-256-GCM under a key in the data dir).
pub mod secrets;
/// Registry and session tokens (ES256 JWT) and the key that signs them.
pub mod tokens;
