//! Client assertions (RFC 7523, `private_key_jwt`): a JWT signed with the key of a certificate
//! registered on the app, sent in place of a client secret on every grant.
//!
//! Checked as Entra documents it: header `alg` PS256 (or legacy RS256) and `x5t#S256` (or legacy
//! `x5t`) naming a registered, valid certificate; the signature; `iss` = `sub` = the client id;
//! `aud` = the exact token endpoint URL called; `exp` in the future and `nbf` not more than five
//! minutes ahead; a `jti` never presented before by that app.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::signature::Verifier;
use rsa::{pkcs1v15, pss};
use serde_json::Value;
use sha2::Sha256;

use super::certificates::{self, hex};
use crate::errors::{aadsts, EntraError};
use crate::model::{App, Certificate};
use crate::state::State as Store;
use crate::timefmt;

/// The only `client_assertion_type` there is.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Clock skew allowed on `nbf`.
pub const SKEW_SECONDS: i64 = 300;

struct Jwt {
    header: Value,
    claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

fn split(jwt: &str) -> Result<Jwt, EntraError> {
    let malformed = || {
        aadsts::invalid_assertion(
            "The client assertion is not a signed JWT (header.claims.signature, base64url JSON).",
        )
    };
    let mut parts = jwt.trim().split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let json = |part: &str| -> Result<Value, EntraError> {
        let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| malformed())?;
        serde_json::from_slice::<Value>(&bytes)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(malformed)
    };
    Ok(Jwt {
        header: json(header)?,
        claims: json(claims)?,
        signing_input: format!("{header}.{claims}"),
        signature: URL_SAFE_NO_PAD.decode(signature).map_err(|_| malformed())?,
    })
}

/// The `iss` of an assertion, not yet verified: it names the client when the request does not.
pub fn issuer(jwt: &str) -> Option<String> {
    split(jwt).ok()?.claims["iss"].as_str().map(str::to_owned)
}

/// The thumbprint as Entra's messages name it: upper-case hex of what the header carries.
fn thumbprint_text(sent: &str) -> String {
    URL_SAFE_NO_PAD
        .decode(sent)
        .map(|bytes| hex(&bytes))
        .unwrap_or_else(|_| sent.to_owned())
}

/// The certificate the header names: `x5t#S256` first, else the legacy `x5t`.
fn named<'a>(
    app: &'a App,
    header: &Value,
) -> Result<(Option<&'a Certificate>, String), EntraError> {
    if let Some(sent) = header["x5t#S256"].as_str() {
        let cert = app.certificates.iter().find(|c| c.x5t_s256 == sent);
        return Ok((cert, thumbprint_text(sent)));
    }
    if let Some(sent) = header["x5t"].as_str() {
        let cert = app.certificates.iter().find(|c| c.x5t == sent);
        return Ok((cert, thumbprint_text(sent)));
    }
    Err(aadsts::invalid_assertion(
        "No certificate thumbprint specified in token header.",
    ))
}

fn signature_ok(cert: &Certificate, alg: &str, jwt: &Jwt) -> bool {
    let Some(key) = certificates::public_key(cert) else {
        return false;
    };
    let input = jwt.signing_input.as_bytes();
    match alg {
        "RS256" => pkcs1v15::Signature::try_from(jwt.signature.as_slice()).is_ok_and(|sig| {
            pkcs1v15::VerifyingKey::<Sha256>::new(key)
                .verify(input, &sig)
                .is_ok()
        }),
        "PS256" => pss::Signature::try_from(jwt.signature.as_slice()).is_ok_and(|sig| {
            pss::VerifyingKey::<Sha256>::new(key)
                .verify(input, &sig)
                .is_ok()
        }),
        _ => false,
    }
}

/// Checks assertion `jwt` of `app`, presented at `token_url` (the exact URL called) at `now`;
/// on success remembers its `jti` so it cannot be presented again.
pub fn verify(
    store: &mut Store,
    app: &App,
    token_url: &str,
    jwt: &str,
    now: i64,
) -> Result<(), EntraError> {
    let parsed = split(jwt)?;
    let alg = parsed.header["alg"].as_str().unwrap_or_default().to_owned();
    if alg != "PS256" && alg != "RS256" {
        return Err(aadsts::invalid_assertion(&format!(
            "The signing algorithm '{alg}' is not supported; sign with PS256 (or RS256) and an RSA key."
        )));
    }
    let (cert, thumbprint) = named(app, &parsed.header)?;
    let Some(cert) = cert else {
        return Err(aadsts::assertion_signature(
            &thumbprint,
            &app.client_id,
            None,
        ));
    };
    let found = format!(
        "Start={}, End={}",
        timefmt::us(cert.not_before),
        timefmt::us(cert.not_after)
    );
    if now < cert.not_before || now >= cert.not_after {
        return Err(aadsts::certificate_expired(&thumbprint, &found));
    }
    if !signature_ok(cert, &alg, &parsed) {
        return Err(aadsts::assertion_signature(
            &thumbprint,
            &app.client_id,
            Some(&found),
        ));
    }
    let claims = &parsed.claims;
    let text = |name: &str| claims[name].as_str().unwrap_or_default();
    if text("iss") != text("sub") {
        return Err(aadsts::subject_mismatches_issuer());
    }
    if !text("iss").eq_ignore_ascii_case(&app.client_id) {
        return Err(aadsts::assertion_client_mismatch());
    }
    if claims["aud"].as_str() != Some(token_url) {
        return Err(aadsts::assertion_audience(
            &claims["aud"].to_string(),
            token_url,
        ));
    }
    let exp = claims["exp"].as_i64();
    let nbf = claims["nbf"].as_i64();
    if exp.is_none_or(|exp| exp <= now) || nbf.is_some_and(|nbf| nbf > now + SKEW_SECONDS) {
        let when = |t: Option<i64>| t.map_or_else(|| "(none)".to_owned(), timefmt::iso);
        return Err(aadsts::assertion_time(
            &timefmt::iso(now),
            &when(nbf),
            &when(exp),
        ));
    }
    let jti = text("jti");
    if jti.is_empty() {
        return Err(aadsts::invalid_assertion(
            "The client assertion has no 'jti' claim.",
        ));
    }
    let key = (app.client_id.to_ascii_lowercase(), jti.to_owned());
    store.assertion_ids.retain(|_, exp| *exp > now);
    if store.assertion_ids.contains_key(&key) {
        return Err(aadsts::invalid_assertion(&format!(
            "The client assertion with jti '{jti}' was presented before; sign a new assertion for every request."
        )));
    }
    store.assertion_ids.insert(key, exp.unwrap_or(now));
    Ok(())
}
