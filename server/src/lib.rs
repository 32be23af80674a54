//! Tenant Mail's server: configuration, persistence, secrets and wiring.
//! A library so integration tests can start the real thing in-process.
// Tests may unwrap; the server itself may not.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![recursion_limit = "256"]

pub mod alerts;
pub mod auth;
pub mod capped;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod db;
pub mod failpoints;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod hashing;
pub mod identity;
pub mod mail;
pub mod memory;
pub mod reference;
pub mod routes;
pub mod secrets;
pub mod startup;
pub mod telemetry;
pub mod web_security;
