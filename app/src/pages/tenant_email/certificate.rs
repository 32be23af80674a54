//! The certificate credential: made on the server (the private key never
//! leaves it), shown by thumbprint and expiry, downloaded as a `.cer` to
//! upload in Entra (App registrations → Certificates & secrets).
use super::state::FormState;
use crate::api::CreateCertificate;
use crate::components::error_banner::ErrorBanner;
use leptos::prelude::*;

/// `data:` URL of the certificate (public: it is what Microsoft publishes
/// for the app anyway), so the download needs no extra route.
fn download_href(pem: &str) -> String {
    // PEM is base64 lines: only these need escaping in a URL.
    let body: String = pem
        .chars()
        .map(|c| match c {
            '\n' => "%0A".to_string(),
            '\r' => "%0D".to_string(),
            ' ' => "%20".to_string(),
            '+' => "%2B".to_string(),
            '=' => "%3D".to_string(),
            c => c.to_string(),
        })
        .collect();
    format!("data:application/x-x509-ca-cert,{body}")
}

#[component]
pub fn CertificatePanel(state: FormState, tenant_id: String) -> impl IntoView {
    let create = ServerAction::<CreateCertificate>::new();
    let run = move |_| {
        if let Some(email_id) = state.email_id.get_untracked() {
            create.dispatch(CreateCertificate {
                tenant_id: tenant_id.clone(),
                email_id,
            });
        }
    };
    // The new view: certificate, version and "set at" follow the server.
    Effect::new(move |_| {
        if let Some(Ok(view)) = create.value().get() {
            state.version.set(Some(view.version));
            state.secret_set_at.set(view.secret_set_at.clone());
            state.certificate.set(view.certificate.clone());
        }
    });
    let error = move || {
        create
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <ErrorBanner error=e/> })
    };
    let shown = move || {
        state.certificate.get().map(|c| {
            let file = format!(
                "tenant-mail-{}.cer",
                state.saved.get_untracked().address.replace('@', "-at-")
            );
            let class = if c.expires_in_days <= 30 { "secret-expiry soon" } else { "secret-expiry" };
            view! {
                <dl class="connection-details" id="certificate">
                    <dt>"Thumbprint"</dt><dd id="certificate-thumbprint"><code>{c.thumbprint.clone()}</code></dd>
                    <dt>"Expires"</dt>
                    <dd id="certificate-expires" class=class>{format!("{} (in {} days)", c.expires_on, c.expires_in_days)}</dd>
                </dl>
                <p>
                    <a class="button secondary" id="certificate-download" href=download_href(&c.pem) download=file>
                        "Download certificate (.cer)"
                    </a>
                </p>
                <p class="hint">"Upload it in Microsoft Entra → App registrations → this app → Certificates & secrets → Certificates. Tenant Mail then signs each token request with it (a client assertion) instead of sending a secret. A new certificate replaces this one at once: upload it right after creating it."</p>
            }
        })
    };
    view! {
        <div class="field" id="certificate-panel">
            <label>"Certificate"</label>
            {shown}
            {move || state.certificate.get().is_none().then(|| view! {
                <p class="hint" id="certificate-none">
                    {move || if state.email_id.get().is_none() {
                        "Save this Tenant Email first, then create its certificate."
                    } else {
                        "No certificate yet: the secret (if any) is used until you create one. Creating it replaces the secret at once, so upload the certificate to the app registration right after (Microsoft refuses it until then, and mail waits)."
                    }}
                </p>
            })}
            <button type="button" class="secondary" id="create-certificate"
                disabled=move || state.email_id.get().is_none() || create.pending().get()
                on:click=run>
                {move || match (create.pending().get(), state.certificate.get().is_some()) {
                    (true, _) => "Creating the key pair…",
                    (false, true) => "Create a new certificate",
                    (false, false) => "Create certificate",
                }}
            </button>
            {error}
        </div>
    }
}
