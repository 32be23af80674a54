//! Every rule with valid and invalid examples, and property tests that no
//! validator panics on any input.
use super::authority::{validate_authority, validate_tenant_segment, AuthorityPolicy};
use super::identifiers::*;
use super::scopes::*;
use super::tenant_email::{validate, Direction, TenantEmailInput};
use proptest::prelude::*;

const TENANT: &str = "79c6ff55-b7e0-4517-bfd7-b4fffb6fee40";

fn ms() -> AuthorityPolicy {
    AuthorityPolicy::default()
}

fn with_stand_in() -> AuthorityPolicy {
    AuthorityPolicy {
        extra_host: Some("127.0.0.1:5001".into()),
        ..AuthorityPolicy::default()
    }
}

#[test]
fn guids() {
    assert!(is_guid(TENANT));
    assert!(validate_application_id(TENANT).is_ok());
    assert!(validate_application_id(&TENANT.to_uppercase()).is_ok());
    for bad in [
        "",
        "common",
        "79c6ff55b7e04517bfd7b4fffb6fee40",
        "{79c6ff55-b7e0-4517-bfd7-b4fffb6fee40}",
        "79c6ff55-b7e0-4517-bfd7-b4fffb6fee4g",
        "79c6ff55-b7e0-4517-bfd7-b4fffb6fee400",
    ] {
        assert!(validate_application_id(bad).is_err(), "{bad}");
    }
}

#[test]
fn addresses() {
    for ok in [
        "helpdesk@contoso.com",
        "first.last+tag@mail.contoso.co.uk",
        "HelpDesk@Contoso.onmicrosoft.com",
    ] {
        assert!(validate_address(ok).is_ok(), "{ok}");
    }
    let long = format!("{}@contoso.com", "a".repeat(250));
    for bad in [
        "",
        "helpdesk",
        "helpdesk@",
        "@contoso.com",
        "help desk@contoso.com",
        "helpdesk@localhost",
        "a@[127.0.0.1]",
        "Help <help@contoso.com>",
        "a@b.123",
        long.as_str(),
    ] {
        assert!(validate_address(bad).is_err(), "{bad}");
    }
    assert_eq!(normalize_address(" Help@Contoso.COM "), "help@contoso.com");
}

#[test]
fn tenant_names() {
    assert!(validate_tenant_name("Contoso Ltd").is_ok());
    assert!(validate_tenant_name("   ").is_err());
    assert!(validate_tenant_name(&"x".repeat(101)).is_err());
    assert!(validate_tenant_name("bad\u{0007}").is_err());
}

#[test]
fn secrets() {
    assert!(validate_secret("Xy7~Q8abcDEFghiJKLmnoPQRstuVWX0123456789", true).is_ok());
    assert!(
        validate_secret("", false).is_ok(),
        "empty means unchanged when editing"
    );
    assert!(validate_secret("", true).is_err(), "required on create");
    assert!(validate_secret(" padded", true).is_err());
    assert!(validate_secret("two\nlines", true).is_err());
    let msg = validate_secret(TENANT, true).unwrap_err();
    assert!(msg.contains("Secret ID"), "{msg}");
}

#[test]
fn endpoints() {
    assert!(validate_endpoint_path("/oauth2/v2.0/authorize").is_ok());
    assert!(validate_endpoint_path("/oauth2/v2.0/token").is_ok());
    for bad in [
        "",
        "oauth2/v2.0/token",
        "/oauth2/../token",
        "/oauth2/v2.0/token?x=1",
        "/a#b",
        "//evil.com/token",
        "https://login.microsoftonline.com/oauth2/v2.0/token",
        "/a b",
    ] {
        assert!(validate_endpoint_path(bad).is_err(), "{bad}");
    }
}

#[test]
fn dates() {
    assert!(validate_optional_date("").is_ok());
    assert!(validate_optional_date("2028-02-29").is_ok());
    for bad in [
        "2027-02-29",
        "2027-13-01",
        "27-01-01",
        "2027/01/01",
        "2027-1-1",
        "tomorrow",
    ] {
        assert!(validate_optional_date(bad).is_err(), "{bad}");
    }
}

#[test]
fn authorities() {
    for ok in [
        format!("https://login.microsoftonline.com/{TENANT}"),
        "https://login.microsoftonline.com/common".into(),
        "https://login.microsoftonline.com/organizations".into(),
        "https://login.microsoftonline.com/contoso.onmicrosoft.com".into(),
        "https://login.microsoftonline.us/common".into(),
        "https://login.partner.microsoftonline.cn/common".into(),
        "HTTPS://Login.MicrosoftOnline.com/common".into(),
    ] {
        assert!(validate_authority(&ok, &ms()).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "http://login.microsoftonline.com/common",
        "https://login.microsoftonline.com",
        "https://login.microsoftonline.com/",
        "https://login.microsoftonline.com/common/",
        "https://login.microsoftonline.com/common/oauth2/v2.0",
        "https://login.microsoftonline.com/common?x=1",
        "https://login.microsoftonline.com.evil.com/common",
        "https://evil.com@login.microsoftonline.com/common",
        "https://login.microsoftonline.com/not a tenant",
        "https://login.microsoftonline.com/bad_tenant",
        "login.microsoftonline.com/common",
        "http://127.0.0.1:5001/common",
    ] {
        assert!(validate_authority(bad, &ms()).is_err(), "{bad}");
    }
    // The stand-in host is accepted only when configured, and http only on loopback.
    assert!(validate_authority("http://127.0.0.1:5001/common", &with_stand_in()).is_ok());
    assert!(validate_authority("http://127.0.0.1:5002/common", &with_stand_in()).is_err());
    let lan = AuthorityPolicy {
        extra_host: Some("login.test.internal".into()),
        ..AuthorityPolicy::default()
    };
    assert!(validate_authority("http://login.test.internal/common", &lan).is_err());
    assert!(validate_authority("https://login.test.internal/common", &lan).is_ok());
    assert!(validate_tenant_segment("common").is_ok());
    assert!(validate_tenant_segment(TENANT).is_ok());
    assert!(validate_tenant_segment("x").is_err());
}

#[test]
fn an_authority_belongs_to_the_mailboxs_cloud() {
    use super::authority::validate_authority_in;
    use super::cloud::{Cloud, CloudStandIn};
    let global = format!("https://login.microsoftonline.com/{TENANT}");
    let us = format!("https://login.microsoftonline.us/{TENANT}");
    let cn = format!("https://login.chinacloudapi.cn/{TENANT}");
    let cn_partner = format!("https://login.partner.microsoftonline.cn/{TENANT}");
    assert!(validate_authority_in(&global, Cloud::Global, &ms()).is_ok());
    assert!(validate_authority_in(&us, Cloud::UsGov, &ms()).is_ok());
    // GCC High and DoD sign in at the same host.
    assert!(validate_authority_in(&us, Cloud::UsDod, &ms()).is_ok());
    assert!(validate_authority_in(&cn, Cloud::China, &ms()).is_ok());
    assert!(validate_authority_in(&cn_partner, Cloud::China, &ms()).is_ok());
    let wrong = validate_authority_in(&global, Cloud::UsGov, &ms()).unwrap_err();
    assert!(
        wrong.contains("login.microsoftonline.us") && wrong.contains("GCC High"),
        "{wrong}"
    );
    assert!(validate_authority_in(&us, Cloud::Global, &ms()).is_err());
    assert!(validate_authority_in(&cn, Cloud::UsDod, &ms()).is_err());
    // A stand-in plays one cloud only.
    let two = AuthorityPolicy {
        extra_host: Some("127.0.0.1:5001".into()),
        cloud_stand_ins: vec![CloudStandIn {
            cloud: Cloud::UsGov,
            host: "127.0.0.1:5002".into(),
        }],
    };
    assert!(validate_authority_in("http://127.0.0.1:5001/common", Cloud::Global, &two).is_ok());
    assert!(validate_authority_in("http://127.0.0.1:5002/common", Cloud::UsGov, &two).is_ok());
    assert!(validate_authority_in("http://127.0.0.1:5002/common", Cloud::Global, &two).is_err());
    assert!(validate_authority_in("http://127.0.0.1:5001/common", Cloud::UsGov, &two).is_err());
    assert!(validate_authority_in("http://127.0.0.1:5003/common", Cloud::China, &two).is_err());
}

#[test]
fn written_out_scopes_name_the_mailboxs_graph() {
    use super::cloud::Cloud;
    let sr = Direction::SendAndReceive;
    let us = "openid offline_access https://graph.microsoft.us/Mail.Send https://graph.microsoft.us/Mail.Read";
    assert!(
        validate_scopes(us, sr).is_ok(),
        "a written-out scope counts"
    );
    assert!(check_cloud(us, Cloud::UsGov).is_ok());
    let wrong = check_cloud(us, Cloud::Global).unwrap_err();
    assert!(
        wrong.contains("https://graph.microsoft.com/Mail.Send") || wrong.contains("mail.send"),
        "{wrong}"
    );
    assert!(
        check_cloud(DEFAULT_SCOPES, Cloud::China).is_ok(),
        "bare scopes suit any cloud"
    );
    assert!(check_cloud("https://graph.microsoft.com/.default", Cloud::UsDod).is_err());
    assert!(check_cloud("https://dod-graph.microsoft.us/.default", Cloud::UsDod).is_ok());
    let mut input = TenantEmailInput {
        address: "desk@contoso.us".into(),
        application_id: TENANT.into(),
        client_secret: "s3cr3t-value".into(),
        authority_url: format!("https://login.microsoftonline.com/{TENANT}"),
        cloud: "us_gov".into(),
        ..TenantEmailInput::defaults()
    };
    let errors = validate(&input, true, &ms());
    assert!(errors.get(super::fields::AUTHORITY_URL).is_some());
    input.authority_url = format!("https://login.microsoftonline.us/{TENANT}");
    assert!(validate(&input, true, &ms()).is_empty());
    input.cloud = "mars".into();
    assert!(validate(&input, true, &ms())
        .get(super::fields::CLOUD)
        .is_some());
}

#[test]
fn scopes() {
    let sr = Direction::SendAndReceive;
    assert!(validate_scopes(DEFAULT_SCOPES, sr).is_ok());
    assert!(validate_scopes(
        "openid offline_access https://graph.microsoft.com/Mail.Send Mail.Read",
        sr
    )
    .is_ok());
    let line_break = "openid profile offline_access\nuser.read mail.read mail.send mail.readwrite";
    let msg = validate_scopes(line_break, sr).unwrap_err();
    assert!(msg.contains("single line"), "{msg}");
    assert!(validate_scopes("openid  offline_access mail.send mail.read", sr).is_err());
    assert!(validate_scopes("openid\toffline_access mail.send mail.read", sr).is_err());
    assert!(validate_scopes(" openid offline_access mail.send mail.read", sr).is_err());
    assert!(validate_scopes("openid,offline_access,mail.send,mail.read", sr).is_err());
    assert!(
        validate_scopes("openid offline_access mail.send mail.read Mail.Send", sr)
            .unwrap_err()
            .contains("twice")
    );
    assert!(validate_scopes("openid offline_access mail.send mail.read \"x\"", sr).is_err());
    assert!(validate_scopes("openid mail.send mail.read", sr)
        .unwrap_err()
        .contains("offline_access"));
    assert!(
        validate_scopes("openid offline_access mail.read", Direction::Send)
            .unwrap_err()
            .contains("mail.send")
    );
    assert!(validate_scopes("openid offline_access mail.read", Direction::Receive).is_ok());
    assert!(validate_scopes("openid offline_access mail.readwrite", Direction::Receive).is_ok());
    assert!(
        validate_scopes("openid offline_access mail.send", Direction::Receive)
            .unwrap_err()
            .contains("mail.read")
    );
    assert!(validate_scopes("", sr).is_err());
}

#[test]
fn one_click_scope_fix() {
    let messy = "openid profile\r\noffline_access  user.read\n mail.read mail.send mail.readwrite ";
    assert!(needs_whitespace_fix(messy));
    assert_eq!(normalize_scopes(messy), DEFAULT_SCOPES);
    assert!(validate_scopes(&normalize_scopes(messy), Direction::SendAndReceive).is_ok());
    assert!(!needs_whitespace_fix(DEFAULT_SCOPES));
}

#[test]
fn whole_form() {
    let mut input = TenantEmailInput {
        address: "helpdesk@contoso.com".into(),
        application_id: TENANT.into(),
        client_secret: "fake~test~secret~1".into(),
        ..TenantEmailInput::defaults()
    };
    assert!(validate(&input, true, &ms()).is_empty());
    input.scopes = "openid\noffline_access".into();
    input.client_secret.clear();
    input.direction = "sideways".into();
    let errors = validate(&input, true, &ms());
    assert!(errors.get("scopes").is_some());
    assert!(errors.get("client_secret").is_some());
    assert!(errors.get("direction").is_some());
    // The secret is never printed.
    input.client_secret = "hunter2-very-secret".into();
    assert!(!format!("{input:?}").contains("hunter2"));
}

proptest! {
    #[test]
    fn validators_never_panic(s in ".{0,300}") {
        let _ = validate_address(&s);
        let _ = validate_application_id(&s);
        let _ = validate_secret(&s, true);
        let _ = validate_endpoint_path(&s);
        let _ = validate_optional_date(&s);
        let _ = validate_tenant_name(&s);
        let _ = validate_authority(&s, &ms());
        let _ = validate_authority(&s, &with_stand_in());
        let _ = validate_tenant_segment(&s);
        for d in [Direction::Send, Direction::Receive, Direction::SendAndReceive] {
            let _ = validate_scopes(&s, d);
        }
        let _ = normalize_scopes(&s);
    }

    #[test]
    fn authority_prefixes_never_panic(tail in "\\PC{0,80}") {
        let _ = validate_authority(&format!("https://login.microsoftonline.com/{tail}"), &ms());
        let _ = validate_authority(&format!("http://127.0.0.1:5001/{tail}"), &with_stand_in());
    }

    #[test]
    fn normalised_scopes_are_a_single_line(s in "[a-z. \\n\\t\\r]{0,100}") {
        let n = normalize_scopes(&s);
        prop_assert!(!n.contains('\n') && !n.contains("  ") && !n.starts_with(' ') && !n.ends_with(' '));
    }
}
