//! All in-memory state. One mutex guards it; it is never held across an `.await`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::clock::Clock;
use crate::faults::Faults;
use crate::identity::jwt::SigningKey;
use crate::ledger::Ledger;
use crate::model::{App, Limits, MailboxPermission, Tenant, User};

/// A sign-in in progress (between `authorize` and the redirect back).
#[derive(Clone, Debug)]
pub struct PendingAuthorize {
    pub tenant_segment: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub login_hint: Option<String>,
    pub prompt: Option<String>,
    /// Chosen account, once known.
    pub oid: Option<String>,
}

#[derive(Clone, Debug)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub oid: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub issued_at: i64,
    pub redeemed: bool,
}

#[derive(Clone, Debug)]
pub struct RefreshGrant {
    pub client_id: String,
    pub oid: String,
    pub scopes: Vec<String>,
    pub issued_at: i64,
    pub last_used: i64,
    pub void: Option<Void>,
}

/// Why a refresh token no longer works.
#[derive(Clone, Debug)]
pub enum Void {
    /// Expired or revoked (AADSTS70008).
    Expired,
    /// The user's grant was revoked (password reset, …) at this instant (AADSTS50173).
    GrantRevoked { valid_from: i64 },
}

#[derive(Clone, Debug)]
pub struct AccessGrant {
    pub client_id: String,
    /// The signed-in user; `None` for an app-only token (client credentials).
    pub oid: Option<String>,
    /// The tenant the token was issued in (the user's, or the app's for app-only).
    pub tenant_id: String,
    /// Lower-cased Graph permissions: delegated scopes (`mail.send`, …), or for an app-only
    /// token the application permissions (`roles`) granted when it was issued.
    pub scopes: BTreeSet<String>,
    pub issued_at: i64,
    pub expires_at: i64,
}

#[derive(Clone, Debug)]
pub struct Attachment {
    pub id: String,
    pub name: String,
    pub content_type: String,
    /// Shared, so serving a large file (`$value`) does not copy it.
    pub bytes: axum::body::Bytes,
    pub is_inline: bool,
    /// The Content-ID an HTML body names it by (`cid:`).
    pub content_id: Option<String>,
    /// An attached message (`itemAttachment`): `bytes` is its MIME form,
    /// given only by `$value`.
    pub is_item: bool,
}

#[derive(Clone, Debug)]
pub struct Message {
    pub immutable_id: String,
    pub rest_id: String,
    pub folder_id: String,
    pub subject: String,
    pub body_type: String,
    pub body: String,
    pub from: Option<crate::model::Address>,
    pub to: Vec<crate::model::Address>,
    pub cc: Vec<crate::model::Address>,
    pub bcc: Vec<crate::model::Address>,
    pub created: i64,
    pub modified: i64,
    pub received: i64,
    pub sent: Option<i64>,
    pub is_read: bool,
    pub is_draft: bool,
    pub importance: String,
    pub internet_message_id: String,
    pub conversation_id: String,
    pub reply_to: Vec<crate::model::Address>,
    /// `internetMessageHeaders` (name, value): the `x-` headers a draft was
    /// given, and `In-Reply-To` / `References` of a reply.
    pub headers: Vec<(String, String)>,
    pub attachments: Vec<Attachment>,
    pub change_seq: u64,
    /// `singleValueExtendedProperties` given at creation: (property id, value).
    pub extended_properties: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct Folder {
    pub id: String,
    /// `inbox`, `sentitems`, …; empty for folders a user created (which have no well-known name).
    pub well_known: String,
    pub display_name: String,
    /// `None`: a child of the mailbox root (`msgfolderroot`), as the well-known folders are.
    pub parent_id: Option<String>,
}

/// A message that left a folder (deleted or moved), for delta `@removed`.
#[derive(Clone, Debug)]
pub struct Removal {
    pub folder_id: String,
    pub immutable_id: String,
    pub rest_id: String,
    pub seq: u64,
}

/// Delta paging: what the next page of a round returns.
#[derive(Clone, Debug)]
pub struct DeltaPage {
    pub folder_id: String,
    /// Items of this round still to return: (immutable id, removed rest id if removed).
    pub remaining: Vec<DeltaItem>,
    pub upto: u64,
    pub generation: u64,
    pub select: Option<String>,
}

#[derive(Clone, Debug)]
pub enum DeltaItem {
    Changed(String),
    Removed {
        immutable_id: String,
        rest_id: String,
    },
}

#[derive(Clone, Debug)]
pub struct DeltaToken {
    pub folder_id: String,
    pub since: u64,
    pub generation: u64,
    pub select: Option<String>,
}

#[derive(Clone, Debug)]
pub struct UploadSession {
    pub message_immutable_id: String,
    pub owner_oid: String,
    /// `me` or `users/{x}`, as the session was created: the final `Location` repeats it.
    pub mailbox_path: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub received: Vec<u8>,
    pub expires_at: i64,
    pub is_inline: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Mailbox {
    /// Id of the root folder (`msgfolderroot`, "Top of Information Store"), the parent that
    /// top-level folders name in `parentFolderId`. Derived from the oid so it never changes.
    pub root_id: String,
    pub folders: Vec<Folder>,
    pub messages: Vec<Message>,
    pub seq: u64,
    pub removals: Vec<Removal>,
    /// Bumped to invalidate all delta tokens (expired sync state).
    pub delta_generation: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Throttle {
    pub in_flight: u32,
    pub window_start: i64,
    pub window_count: u32,
}

#[derive(Debug, Default)]
pub struct State {
    pub tenants: Vec<Tenant>,
    pub apps: BTreeMap<String, App>,
    pub users: BTreeMap<String, User>,
    /// Accounts signed in to the (single, simulated) browser, in sign-in order.
    pub signed_in: Vec<String>,
    pub session_state: String,
    /// (client id, oid) → Graph scopes consented by the user.
    pub user_consents: BTreeMap<(String, String), BTreeSet<String>>,
    /// (client id, tenant id) → Graph scopes consented by an admin for everyone.
    pub admin_consents: BTreeMap<(String, String), BTreeSet<String>>,
    pub pending: HashMap<String, PendingAuthorize>,
    pub codes: HashMap<String, AuthCode>,
    pub refresh_tokens: HashMap<String, RefreshGrant>,
    pub access_tokens: HashMap<String, AccessGrant>,
    /// (mailbox oid, delegate oid) → what the delegate may do in that mailbox.
    pub mailbox_permissions: BTreeMap<(String, String), MailboxPermission>,
    /// (lower-cased client id, `jti`) → `exp` of client assertions already redeemed (replays fail).
    pub assertion_ids: HashMap<(String, String), i64>,
    pub mailboxes: HashMap<String, Mailbox>,
    pub delta_pages: HashMap<String, DeltaPage>,
    pub delta_tokens: HashMap<String, DeltaToken>,
    pub uploads: HashMap<String, UploadSession>,
    pub throttles: HashMap<(String, String), Throttle>,
    pub limits: Limits,
    pub faults: Faults,
    pub ledger: Ledger,
    pub webhooks: crate::webhooks::Webhooks,
    counter: u64,
}

impl State {
    /// A deterministic GUID-shaped id: `{prefix}-0000-4000-8000-{counter}`.
    pub fn next_guid(&mut self, prefix: u32) -> String {
        self.counter += 1;
        format!("{prefix:08x}-0000-4000-8000-{:012x}", self.counter)
    }

    /// A deterministic opaque id in Graph's style (`AAMkAD…`).
    pub fn next_graph_id(&mut self, kind: &str) -> String {
        self.counter += 1;
        format!("AAMkAD{kind}{:010}AAA=", self.counter)
    }

    pub fn tenant(&self, segment: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| {
            t.id.eq_ignore_ascii_case(segment)
                || t.domains.iter().any(|d| d.eq_ignore_ascii_case(segment))
        })
    }

    pub fn app(&self, client_id: &str) -> Option<&App> {
        self.apps.get(&client_id.to_ascii_lowercase())
    }

    /// Finds a user by oid, UPN or mail (case-insensitive).
    pub fn find_user(&self, key: &str) -> Option<&User> {
        self.users.values().find(|u| {
            u.oid.eq_ignore_ascii_case(key)
                || u.upn.eq_ignore_ascii_case(key)
                || u.mail
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(key))
        })
    }

    /// Finds a user of tenant `tenant_id` as Graph's `/users/{key}` does: exactly by object id,
    /// case-insensitively by UPN or mail.
    pub fn find_user_in(&self, tenant_id: &str, key: &str) -> Option<&User> {
        self.users.values().find(|u| {
            u.tenant_id.eq_ignore_ascii_case(tenant_id)
                && (u.oid == key
                    || u.upn.eq_ignore_ascii_case(key)
                    || u.mail
                        .as_deref()
                        .is_some_and(|m| m.eq_ignore_ascii_case(key)))
        })
    }

    /// What `delegate_oid` may do in the mailbox of `mailbox_oid` (nothing unless granted).
    pub fn mailbox_permission(&self, mailbox_oid: &str, delegate_oid: &str) -> MailboxPermission {
        self.mailbox_permissions
            .get(&(mailbox_oid.to_owned(), delegate_oid.to_owned()))
            .copied()
            .unwrap_or_default()
    }

    /// Graph scopes consented for this app and user (user consent ∪ admin consent).
    pub fn consented(&self, client_id: &str, user: &User) -> BTreeSet<String> {
        let client = client_id.to_ascii_lowercase();
        let mut out = BTreeSet::new();
        if let Some(s) = self.user_consents.get(&(client.clone(), user.oid.clone())) {
            out.extend(s.iter().cloned());
        }
        if let Some(s) = self.admin_consents.get(&(client, user.tenant_id.clone())) {
            out.extend(s.iter().cloned());
        }
        out
    }

    pub fn mailbox_mut(&mut self, oid: &str) -> &mut Mailbox {
        if !self.mailboxes.contains_key(oid) {
            let mut folders = Vec::new();
            for (well_known, name) in [
                ("inbox", "Inbox"),
                ("drafts", "Drafts"),
                ("sentitems", "Sent Items"),
                ("deleteditems", "Deleted Items"),
                ("archive", "Archive"),
                ("junkemail", "Junk Email"),
            ] {
                let id = self.next_graph_id("FLDR");
                folders.push(Folder {
                    id,
                    well_known: well_known.to_owned(),
                    display_name: name.to_owned(),
                    parent_id: None,
                });
            }
            self.mailboxes.insert(
                oid.to_owned(),
                Mailbox {
                    root_id: format!("AAMkADROOT{}AAA=", oid.replace('-', "")),
                    folders,
                    ..Mailbox::default()
                },
            );
        }
        self.mailboxes.entry(oid.to_owned()).or_default()
    }
}

impl Mailbox {
    /// Resolves a well-known folder name or folder id. Folders without a well-known name
    /// (user-created ones, `well_known` empty) match by id only, so an empty key finds nothing.
    pub fn folder(&self, key: &str) -> Option<&Folder> {
        if key.is_empty() {
            return None;
        }
        self.folders.iter().find(|f| {
            f.id == key || (!f.well_known.is_empty() && f.well_known.eq_ignore_ascii_case(key))
        })
    }

    /// Finds a message by its current REST id or its immutable id.
    pub fn message_index(&self, id: &str) -> Option<usize> {
        self.messages
            .iter()
            .position(|m| m.rest_id == id || m.immutable_id == id)
    }

    pub fn bump(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

/// Everything a request handler needs.
#[derive(Clone)]
pub struct Shared {
    pub state: Arc<Mutex<State>>,
    pub clock: Clock,
    pub key: Arc<SigningKey>,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    /// Sends validation requests and change notifications to subscribers' endpoints.
    pub http: reqwest::Client,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn graph_base(&self) -> String {
        format!("{}/v1.0", self.base)
    }
}

/// A random, unguessable token (244 random bits).
pub fn random_token(prefix: &str) -> String {
    format!(
        "{prefix}{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}
