//! The Harbor double and the spec it is checked against, for `harbor_contract.rs`.
#![allow(dead_code)]

pub mod double;
pub mod spec;
