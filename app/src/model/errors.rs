//! The error type every server function returns, and per-field messages.
//!
//! Which error where: validation problems are `Invalid` with a message per
//! field (HTTP 422); a stale edit is `Conflict` (409); `NotFound` (404);
//! anything unexpected is `Internal` carrying only a reference id — the detail
//! is in the server log under that id, never in the browser.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Field name → message. A `BTreeMap` keeps the order stable for tests and UI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        // The first problem found for a field is the one worth showing.
        self.0
            .entry(field.to_string())
            .or_insert_with(|| message.into());
    }
    pub fn merge(&mut self, field: &str, result: Result<(), String>) {
        if let Err(message) = result {
            self.add(field, message);
        }
    }
    pub fn get(&self, field: &str) -> Option<&String> {
        self.0.get(field)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    #[error("Please correct the highlighted fields.")]
    Invalid(FieldErrors),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("The request could not be understood: {0}")]
    BadRequest(String),
    /// No signed-in admin (never signed in, signed out, or the session expired).
    #[error("{0}")]
    Unauthorized(String),
    #[error("Something went wrong on the server. Reference: {0}")]
    Internal(String),
    #[error("Could not reach the server ({0}). Your changes are still in the form; try again.")]
    Transport(String),
}

impl ApiError {
    pub fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            ApiError::Invalid(f) => Some(f),
            _ => None,
        }
    }
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let mut f = FieldErrors::new();
        f.add(field, message);
        ApiError::Invalid(f)
    }
}

impl leptos::server_fn::error::FromServerFnError for ApiError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Request(m) => ApiError::Transport(m),
            // On the server these mean the arguments did not decode (a client
            // bug or a hand-made request): a 400, not a server fault.
            E::Args(m) | E::MissingArg(m) | E::Deserialization(m) => ApiError::BadRequest(m),
            E::Response(m) => ApiError::Transport(m),
            // Registration/serialization/middleware problems are server bugs:
            // no detail to the browser.
            _ => ApiError::Internal("server-function".to_string()),
        }
    }
}
