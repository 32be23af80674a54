//! id_token validation (OpenID Connect Core §3.1.3.7) with `jsonwebtoken`:
//! signature against the authority's published keys, `iss` (with `tid`
//! substituted for Entra's `{tenantid}` template), `aud`/`azp`, `exp`/`iat`/
//! `nbf` against the injected clock with a small leeway, and `nonce`.
use super::discovery::{Jwk, Jwks};
use super::same;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// The claims the product uses.
#[derive(Clone, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: Audience,
    #[serde(default)]
    pub azp: Option<String>,
    pub exp: i64,
    pub iat: i64,
    #[serde(default)]
    pub nbf: Option<i64>,
    #[serde(default)]
    pub nonce: Option<String>,
    pub oid: String,
    /// Entra's tenant id; other providers may leave it out.
    #[serde(default)]
    pub tid: String,
    #[serde(default)]
    pub preferred_username: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

impl std::fmt::Debug for Claims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claims")
            .field("iss", &self.iss)
            .field("oid", &self.oid)
            .field("tid", &self.tid)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn values(&self) -> Vec<&str> {
        match self {
            Audience::One(a) => vec![a.as_str()],
            Audience::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// What the id_token must match.
pub struct Expected<'a> {
    /// From discovery; may hold `{tenantid}`.
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub now: DateTime<Utc>,
    pub leeway_seconds: i64,
}

/// Algorithms an Entra-like provider signs id_tokens with. `none` and HMAC
/// (which would take the client secret as key) are never accepted.
const ACCEPTED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// Why an id_token was refused; the text is short and safe to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("it is not a signed JWT (or its algorithm is not allowed)")]
    NotAJwt,
    #[error("its algorithm {0} is not allowed")]
    Algorithm(String),
    #[error("it is signed with a key the authority does not publish")]
    UnknownKey,
    #[error("the signing key has no modulus/exponent")]
    RsaKeyIncomplete,
    #[error("the signing key has no coordinates")]
    EcKeyIncomplete,
    #[error("the signing key is malformed")]
    KeyMalformed,
    #[error("unsupported key type {0}")]
    KeyType(String),
    #[error("its signature is invalid")]
    Signature,
    #[error("required claims (oid, iss, aud, exp, iat) are missing")]
    MissingClaims,
    #[error("it could not be verified")]
    Unverified,
    #[error("it names no tenant (tid) for the multi-tenant issuer")]
    NoTenant,
    #[error("its issuer {found} is not {expected}")]
    Issuer { found: String, expected: String },
    #[error("it was issued for another application (aud)")]
    Audience,
    #[error("it was issued for several applications and azp is not this one")]
    AuthorizedParty,
    #[error("it has expired")]
    Expired,
    #[error("it was issued in the future (check the server clock)")]
    IssuedInFuture,
    #[error("it is not valid yet (check the server clock)")]
    NotYetValid,
    #[error("its nonce does not match this sign-in")]
    Nonce,
    #[error("it names no user (oid)")]
    NoUser,
}

fn decoding_key(jwk: &Jwk) -> Result<DecodingKey, Rejected> {
    match jwk.kty.as_str() {
        "RSA" => {
            let (Some(n), Some(e)) = (&jwk.n, &jwk.e) else {
                return Err(Rejected::RsaKeyIncomplete);
            };
            DecodingKey::from_rsa_components(n, e).map_err(|_| Rejected::KeyMalformed)
        }
        "EC" => {
            let (Some(x), Some(y)) = (&jwk.x, &jwk.y) else {
                return Err(Rejected::EcKeyIncomplete);
            };
            DecodingKey::from_ec_components(x, y).map_err(|_| Rejected::KeyMalformed)
        }
        other => Err(Rejected::KeyType(other.to_string())),
    }
}

fn key_fits(jwk: &Jwk, alg: Algorithm) -> bool {
    let family_ok = match alg {
        Algorithm::ES256 | Algorithm::ES384 => jwk.kty == "EC",
        _ => jwk.kty == "RSA",
    };
    let use_ok = jwk.use_.as_deref().is_none_or(|u| u == "sig");
    let alg_ok = jwk.alg.as_deref().is_none_or(|a| a == format!("{alg:?}"));
    family_ok && use_ok && alg_ok
}

/// Validates `token`; the error is a short reason safe to show.
pub fn validate(token: &str, keys: &Jwks, expected: &Expected<'_>) -> Result<Claims, Rejected> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| Rejected::NotAJwt)?;
    if !ACCEPTED.contains(&header.alg) {
        return Err(Rejected::Algorithm(format!("{:?}", header.alg)));
    }
    let candidates: Vec<&Jwk> = keys
        .keys
        .iter()
        .filter(|k| key_fits(k, header.alg))
        .filter(|k| match (&header.kid, &k.kid) {
            (Some(want), Some(have)) => want == have,
            (Some(_), None) => false,
            (None, _) => true,
        })
        .collect();
    if candidates.is_empty() {
        return Err(Rejected::UnknownKey);
    }
    let mut validation = Validation::new(header.alg);
    // Times are checked below against the injected clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    // Without a kid, any published key of the right type may have signed it.
    let mut last = Rejected::Unverified;
    let mut verified = None;
    for jwk in candidates {
        let key = match decoding_key(jwk) {
            Ok(k) => k,
            Err(e) => {
                last = e;
                continue;
            }
        };
        match jsonwebtoken::decode::<Claims>(token, &key, &validation) {
            Ok(data) => {
                verified = Some(data.claims);
                break;
            }
            Err(e) => {
                use jsonwebtoken::errors::ErrorKind;
                last = match e.kind() {
                    ErrorKind::InvalidSignature => Rejected::Signature,
                    ErrorKind::Json(_) => Rejected::MissingClaims,
                    _ => Rejected::Unverified,
                };
            }
        }
    }
    let claims = verified.ok_or(last)?;

    if expected.issuer.contains("{tenantid}") && claims.tid.is_empty() {
        return Err(Rejected::NoTenant);
    }
    let issuer = expected.issuer.replace("{tenantid}", &claims.tid);
    if claims.iss != issuer {
        return Err(Rejected::Issuer {
            found: claims.iss,
            expected: issuer,
        });
    }
    let audiences = claims.aud.values();
    if !audiences.contains(&expected.client_id) {
        return Err(Rejected::Audience);
    }
    if audiences.len() > 1 && claims.azp.as_deref() != Some(expected.client_id) {
        return Err(Rejected::AuthorizedParty);
    }
    let now = expected.now.timestamp();
    let leeway = expected.leeway_seconds;
    if claims.exp + leeway < now {
        return Err(Rejected::Expired);
    }
    if claims.iat - leeway > now {
        return Err(Rejected::IssuedInFuture);
    }
    if claims.nbf.is_some_and(|nbf| nbf - leeway > now) {
        return Err(Rejected::NotYetValid);
    }
    match claims.nonce.as_deref() {
        Some(n) if same(n, expected.nonce) => {}
        _ => return Err(Rejected::Nonce),
    }
    if claims.oid.is_empty() {
        return Err(Rejected::NoUser);
    }
    Ok(claims)
}
