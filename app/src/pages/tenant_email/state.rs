//! The editor's form state: one signal per field, which fields were touched,
//! current messages, and the last saved values (to know what is unsaved).
use crate::model::authority::AuthorityPolicy;
use crate::model::inbox::ReceivingInput;
use crate::model::tenant_email::{validate, validate_field};
use crate::model::{fields, FieldErrors, TenantEmailInput, TenantEmailView};
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct FormState {
    pub account_type: RwSignal<String>,
    pub address: RwSignal<String>,
    pub direction: RwSignal<String>,
    pub cloud: RwSignal<String>,
    pub delegate: RwSignal<String>,
    pub application_id: RwSignal<String>,
    pub client_secret: RwSignal<String>,
    pub credential: RwSignal<String>,
    /// The certificate in use, when the credential is one.
    pub certificate: RwSignal<Option<crate::model::tenant_email::CertificateView>>,
    /// The next secret stored (when and until when; never its value).
    pub next_secret: RwSignal<Option<crate::model::tenant_email::NextSecretView>>,
    pub secret_expires_on: RwSignal<String>,
    pub authority_url: RwSignal<String>,
    pub authorization_endpoint: RwSignal<String>,
    pub token_endpoint: RwSignal<String>,
    pub scopes: RwSignal<String>,
    pub receive_folder: RwSignal<String>,
    pub after_processing: RwSignal<String>,
    pub move_to_folder: RwSignal<String>,
    pub poll_interval: RwSignal<String>,
    pub import_since: RwSignal<String>,
    pub arrival: RwSignal<String>,
    pub tenant_id_helper: RwSignal<String>,
    pub errors: RwSignal<FieldErrors>,
    touched: RwSignal<Vec<&'static str>>,
    /// The values as last loaded or saved.
    pub saved: RwSignal<TenantEmailInput>,
    pub email_id: RwSignal<Option<String>>,
    pub version: RwSignal<Option<i32>>,
    pub secret_set_at: RwSignal<Option<String>>,
    pub replace_secret: RwSignal<bool>,
    pub secret_expires_in_days: RwSignal<Option<i64>>,
    pub policy: StoredValue<AuthorityPolicy>,
}

impl FormState {
    pub fn new(email: Option<TenantEmailView>, policy: AuthorityPolicy) -> Self {
        let values = email
            .as_ref()
            .map(|e| e.values.clone())
            .unwrap_or_else(TenantEmailInput::defaults);
        // Prefilled fields are validated as they are edited; empty ones only
        // after the first blur, so nobody is scolded for a field not yet typed.
        let touched: Vec<&'static str> = crate::model::tenant_email::ALL_FIELDS
            .iter()
            .copied()
            .filter(|f| !field_value(&values, f).is_empty())
            .collect();
        Self {
            account_type: RwSignal::new(values.account_type.clone()),
            address: RwSignal::new(values.address.clone()),
            direction: RwSignal::new(values.direction.clone()),
            cloud: RwSignal::new(values.cloud.clone()),
            delegate: RwSignal::new(values.delegate.clone()),
            application_id: RwSignal::new(values.application_id.clone()),
            client_secret: RwSignal::new(String::new()),
            credential: RwSignal::new(values.credential.clone()),
            certificate: RwSignal::new(email.as_ref().and_then(|e| e.certificate.clone())),
            next_secret: RwSignal::new(email.as_ref().and_then(|e| e.next_secret.clone())),
            secret_expires_on: RwSignal::new(values.secret_expires_on.clone()),
            authority_url: RwSignal::new(values.authority_url.clone()),
            authorization_endpoint: RwSignal::new(values.authorization_endpoint.clone()),
            token_endpoint: RwSignal::new(values.token_endpoint.clone()),
            scopes: RwSignal::new(values.scopes.clone()),
            receive_folder: RwSignal::new(values.receiving.folder.clone()),
            after_processing: RwSignal::new(values.receiving.after_processing.clone()),
            move_to_folder: RwSignal::new(values.receiving.move_to_folder.clone()),
            poll_interval: RwSignal::new(values.receiving.poll_interval_seconds.clone()),
            import_since: RwSignal::new(values.receiving.import_since.clone()),
            arrival: RwSignal::new(values.receiving.arrival.clone()),
            tenant_id_helper: RwSignal::new(String::new()),
            errors: RwSignal::new(FieldErrors::new()),
            touched: RwSignal::new(touched),
            saved: RwSignal::new(values),
            email_id: RwSignal::new(email.as_ref().map(|e| e.id.clone())),
            version: RwSignal::new(email.as_ref().map(|e| e.version)),
            secret_expires_in_days: RwSignal::new(
                email.as_ref().and_then(|e| e.secret_expires_in_days),
            ),
            secret_set_at: RwSignal::new(email.and_then(|e| e.secret_set_at)),
            replace_secret: RwSignal::new(false),
            policy: StoredValue::new(policy),
        }
    }

    pub fn signal(&self, field: &str) -> RwSignal<String> {
        match field {
            fields::ACCOUNT_TYPE => self.account_type,
            fields::ADDRESS => self.address,
            fields::DIRECTION => self.direction,
            fields::CLOUD => self.cloud,
            fields::DELEGATE => self.delegate,
            fields::APPLICATION_ID => self.application_id,
            fields::CLIENT_SECRET => self.client_secret,
            fields::CREDENTIAL => self.credential,
            fields::SECRET_EXPIRES_ON => self.secret_expires_on,
            fields::AUTHORITY_URL => self.authority_url,
            fields::AUTHORIZATION_ENDPOINT => self.authorization_endpoint,
            fields::TOKEN_ENDPOINT => self.token_endpoint,
            fields::SCOPES => self.scopes,
            fields::RECEIVE_FOLDER => self.receive_folder,
            fields::AFTER_PROCESSING => self.after_processing,
            fields::MOVE_TO_FOLDER => self.move_to_folder,
            fields::POLL_INTERVAL => self.poll_interval,
            fields::IMPORT_SINCE => self.import_since,
            fields::ARRIVAL => self.arrival,
            _ => self.tenant_id_helper,
        }
    }

    pub fn creating(&self) -> bool {
        self.email_id.get_untracked().is_none()
    }

    pub fn secret_required(&self) -> bool {
        self.email_id.get_untracked().is_none() || self.replace_secret.get_untracked()
    }

    /// The form asks for a certificate instead of a secret.
    pub fn uses_certificate(&self) -> bool {
        self.credential.get() == crate::model::tenant_email::CREDENTIAL_CERTIFICATE
    }

    /// The values as typed (tracked, so memos re-run on every edit).
    pub fn current(&self) -> TenantEmailInput {
        TenantEmailInput {
            account_type: self.account_type.get(),
            address: self.address.get(),
            direction: self.direction.get(),
            cloud: self.cloud.get(),
            delegate: self.delegate.get(),
            application_id: self.application_id.get(),
            client_secret: self.client_secret.get(),
            credential: self.credential.get(),
            secret_expires_on: self.secret_expires_on.get(),
            authority_url: self.authority_url.get(),
            authorization_endpoint: self.authorization_endpoint.get(),
            token_endpoint: self.token_endpoint.get(),
            scopes: self.scopes.get(),
            receiving: ReceivingInput {
                folder: self.receive_folder.get(),
                after_processing: self.after_processing.get(),
                move_to_folder: self.move_to_folder.get(),
                poll_interval_seconds: self.poll_interval.get(),
                import_since: self.import_since.get(),
                arrival: self.arrival.get(),
            },
        }
    }

    pub fn current_untracked(&self) -> TenantEmailInput {
        untrack(|| self.current())
    }

    /// Unsaved changes: any field differs from the saved values, or a new secret is typed.
    pub fn is_dirty(&self) -> bool {
        let now = self.current();
        let saved = self.saved.get();
        !now.client_secret.is_empty()
            || TenantEmailInput {
                client_secret: String::new(),
                ..now
            } != saved
    }

    pub fn error(&self, field: &'static str) -> Signal<Option<String>> {
        let errors = self.errors;
        Signal::derive(move || errors.read().get(field).cloned())
    }

    fn recheck(&self, field: &'static str) {
        let input = self.current_untracked().trimmed();
        let result = validate_field(
            field,
            &input,
            self.secret_required(),
            &self.policy.get_value(),
        );
        self.errors.update(|e| {
            e.0.remove(field);
            if let Err(m) = result {
                e.add(field, m);
            }
        });
    }

    pub fn on_input(&self, field: &'static str) {
        let touched = self.touched.with_untracked(|t| t.contains(&field));
        let showing = self.errors.with_untracked(|e| e.get(field).is_some());
        if touched || showing {
            self.recheck(field);
        }
        // Scope rules depend on the direction.
        if field == fields::DIRECTION {
            self.recheck(fields::SCOPES);
        }
        // The authority's host and fully written scopes belong to one cloud.
        if field == fields::CREDENTIAL {
            // Back from a certificate to a secret: a new secret must be typed.
            let to_secret = self.credential.get_untracked()
                != crate::model::tenant_email::CREDENTIAL_CERTIFICATE;
            // No secret of its own to keep (a certificate, or none yet):
            // the typed secret is the new one.
            let nothing_to_keep = self.certificate.get_untracked().is_some()
                || self.secret_set_at.get_untracked().is_none();
            if nothing_to_keep && self.email_id.get_untracked().is_some() {
                self.replace_secret.set(to_secret);
            }
            if !to_secret {
                self.client_secret.set(String::new());
            }
            self.recheck(fields::CLIENT_SECRET);
        }
        if field == fields::CLOUD {
            self.recheck(fields::AUTHORITY_URL);
            self.recheck(fields::SCOPES);
        }
        // The account type decides which scopes, authority and fields apply.
        if field == fields::ACCOUNT_TYPE {
            for f in [fields::AUTHORITY_URL, fields::SCOPES, fields::ARRIVAL] {
                self.recheck(f);
            }
            let showing = self
                .errors
                .with_untracked(|e| e.get(fields::DELEGATE).is_some());
            if showing {
                self.recheck(fields::DELEGATE);
            }
        }
        if field == fields::ADDRESS {
            let showing = self
                .errors
                .with_untracked(|e| e.get(fields::DELEGATE).is_some());
            if showing {
                self.recheck(fields::DELEGATE);
            }
        }
        // The destination folder matters only when moving, and must differ
        // from the folder received from.
        if matches!(field, fields::AFTER_PROCESSING | fields::RECEIVE_FOLDER) {
            let showing = self
                .errors
                .with_untracked(|e| e.get(fields::MOVE_TO_FOLDER).is_some());
            if showing {
                self.recheck(fields::MOVE_TO_FOLDER);
            }
        }
    }

    pub fn on_blur(&self, field: &'static str) {
        self.touched.update(|t| {
            if !t.contains(&field) {
                t.push(field);
            }
        });
        self.recheck(field);
    }

    /// Validates everything; true when the form may be sent.
    pub fn check_all(&self) -> bool {
        let input = self.current_untracked().trimmed();
        let errors = validate(&input, self.secret_required(), &self.policy.get_value());
        let ok = errors.is_empty();
        self.errors.set(errors);
        ok
    }

    /// After a successful save: the stored values become the new baseline.
    pub fn saved_as(&self, view: TenantEmailView) {
        let values = view.values.clone();
        for field in crate::model::tenant_email::ALL_FIELDS {
            if *field != fields::CLIENT_SECRET {
                self.signal(field)
                    .set(field_value(&values, field).to_string());
            }
        }
        self.client_secret.set(String::new());
        self.replace_secret.set(false);
        self.saved.set(values);
        self.email_id.set(Some(view.id));
        self.version.set(Some(view.version));
        self.secret_set_at.set(view.secret_set_at);
        self.secret_expires_in_days.set(view.secret_expires_in_days);
        self.certificate.set(view.certificate);
        self.next_secret.set(view.next_secret);
        self.errors.set(FieldErrors::new());
    }
}

pub fn field_value<'a>(input: &'a TenantEmailInput, field: &str) -> &'a str {
    match field {
        fields::ACCOUNT_TYPE => &input.account_type,
        fields::ADDRESS => &input.address,
        fields::DIRECTION => &input.direction,
        fields::CLOUD => &input.cloud,
        fields::DELEGATE => &input.delegate,
        fields::APPLICATION_ID => &input.application_id,
        fields::CLIENT_SECRET => &input.client_secret,
        fields::CREDENTIAL => &input.credential,
        fields::SECRET_EXPIRES_ON => &input.secret_expires_on,
        fields::AUTHORITY_URL => &input.authority_url,
        fields::AUTHORIZATION_ENDPOINT => &input.authorization_endpoint,
        fields::TOKEN_ENDPOINT => &input.token_endpoint,
        fields::SCOPES => &input.scopes,
        fields::RECEIVE_FOLDER => &input.receiving.folder,
        fields::AFTER_PROCESSING => &input.receiving.after_processing,
        fields::MOVE_TO_FOLDER => &input.receiving.move_to_folder,
        fields::POLL_INTERVAL => &input.receiving.poll_interval_seconds,
        fields::IMPORT_SINCE => &input.receiving.import_since,
        fields::ARRIVAL => &input.receiving.arrival,
        _ => "",
    }
}
