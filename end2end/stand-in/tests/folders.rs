//! Graph mail folders: nested listing, counts, paging, `$select`, 404s, scopes; control `add_folder`.

mod common;

use common::*;
use ms_stand_in::{Address, ControlError, Fault, FaultSpec, IncomingMail};
use serde_json::{json, Value};

struct Folders {
    f: Fixture,
    token: String,
}

async fn folders() -> Folders {
    let f = fixture().await;
    let tokens = f.tokens_for(MAILBOX).await;
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    Folders { f, token }
}

impl Folders {
    async fn get(&self, path: &str) -> reqwest::Response {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            self.f.graph(path)
        };
        self.f
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    async fn json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    fn add(&self, name: &str, parent: Option<&str>) -> String {
        self.f.stand_in.add_folder(MAILBOX, name, parent).unwrap()
    }
}

fn names(list: &Value) -> Vec<&str> {
    list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["displayName"].as_str().unwrap())
        .collect()
}

fn by_name<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["displayName"] == name)
        .unwrap()
}

async fn assert_graph_error(response: reqwest::Response, status: u16, code: &str) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["innerError"]["request-id"].is_string());
}

#[tokio::test]
async fn folders_nest_and_carry_counts() {
    let m = folders().await;
    let projects = m.add("Projects", None);
    let alpha = m.add("Alpha", Some(&projects));
    m.add("Beta", Some(&projects));
    m.add("Deep", Some(&alpha));
    // The HTTP control API does the same, with a well-known parent.
    let created: Value =
        m.f.http
            .post(format!(
                "{}/_stand-in/users/{MAILBOX}/folders",
                m.f.stand_in.base_url()
            ))
            .json(&json!({"display_name": "Receipts", "parent": "inbox"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let receipts = created["id"].as_str().unwrap().to_owned();

    let top = m.json("/me/mailFolders").await;
    assert_eq!(
        names(&top),
        [
            "Archive",
            "Deleted Items",
            "Drafts",
            "Inbox",
            "Junk Email",
            "Projects",
            "Sent Items"
        ]
    );
    assert!(top["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with(&format!("users('{}')/mailFolders", m.f.mailbox_oid)));
    assert!(top.get("@odata.nextLink").is_none());
    let root = m.json("/me/mailFolders/msgfolderroot").await;
    assert_eq!(root["childFolderCount"], 7);
    let root_id = root["id"].as_str().unwrap();
    for folder in top["value"].as_array().unwrap() {
        assert_eq!(folder["parentFolderId"], root_id, "{folder}");
        assert_eq!(folder["isHidden"], false);
    }
    let p = by_name(&top, "Projects");
    assert_eq!(p["id"], projects.as_str());
    assert_eq!(p["childFolderCount"], 2);
    assert_eq!(by_name(&top, "Inbox")["childFolderCount"], 1);
    assert_eq!(
        m.json("/me/mailFolders/msgfolderroot/childFolders").await["value"],
        top["value"]
    );
    assert_eq!(
        m.json(&format!("/me/mailFolders/{root_id}/childFolders"))
            .await["value"],
        top["value"]
    );

    let children = m
        .json(&format!("/me/mailFolders/{projects}/childFolders"))
        .await;
    assert_eq!(names(&children), ["Alpha", "Beta"]);
    assert_eq!(
        by_name(&children, "Alpha")["parentFolderId"],
        projects.as_str()
    );
    assert_eq!(by_name(&children, "Alpha")["childFolderCount"], 1);
    let deep = m
        .json(&format!("/me/mailFolders/{alpha}/childFolders"))
        .await;
    assert_eq!(names(&deep), ["Deep"]);
    let inbox_children = m.json("/me/mailFolders/Inbox/childFolders").await;
    assert_eq!(
        by_name(&inbox_children, "Receipts")["id"],
        receipts.as_str()
    );

    // Mail delivered into a created folder, and moved into one, is counted there.
    let delivered =
        m.f.stand_in
            .deliver(IncomingMail {
                to_user: MAILBOX.into(),
                folder: Some(alpha.clone()),
                from: Address {
                    name: "S".into(),
                    address: "s@example.org".into(),
                },
                subject: "into alpha".into(),
                ..IncomingMail::default()
            })
            .unwrap();
    let moved =
        m.f.http
            .post(m.f.graph(&format!("/me/messages/{delivered}/move")))
            .bearer_auth(&m.token)
            .json(&json!({"destinationId": receipts}))
            .send()
            .await
            .unwrap();
    assert_eq!(moved.status(), 201);
    m.f.stand_in
        .deliver(IncomingMail {
            to_user: MAILBOX.into(),
            folder: Some(alpha.clone()),
            from: Address {
                name: "S".into(),
                address: "s@example.org".into(),
            },
            subject: "stays".into(),
            ..IncomingMail::default()
        })
        .unwrap();
    let one = m.json(&format!("/me/mailFolders/{alpha}")).await;
    assert_eq!(one["displayName"], "Alpha");
    assert_eq!(one["totalItemCount"], 1);
    assert_eq!(one["unreadItemCount"], 1);
    assert!(one["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("/mailFolders/$entity"));
    let listed = m
        .json(&format!("/me/mailFolders/{receipts}/messages"))
        .await;
    assert_eq!(listed["value"][0]["subject"], "into alpha");
    assert_eq!(m.f.stand_in.messages(MAILBOX, &receipts).unwrap().len(), 1);

    let selected = m.json("/me/mailFolders?$select=displayName").await;
    let first = selected["value"][0].as_object().unwrap();
    let mut keys: Vec<&String> = first.keys().collect();
    keys.sort();
    assert_eq!(keys, ["displayName", "id"]);
}

#[tokio::test]
async fn control_add_folder_rejects_unknown_parents_and_duplicates() {
    let m = folders().await;
    let s = &m.f.stand_in;
    assert_eq!(
        s.add_folder(MAILBOX, "X", Some("nope")),
        Err(ControlError::UnknownFolder("nope".into()))
    );
    assert_eq!(
        s.add_folder("nobody@contoso.com", "X", None),
        Err(ControlError::UnknownUser("nobody@contoso.com".into()))
    );
    m.add("Clients", None);
    assert!(matches!(
        s.add_folder(MAILBOX, "clients", Some("msgfolderroot")),
        Err(ControlError::Conflict(_))
    ));
    // The same name under another parent is fine.
    m.add("Clients", Some("inbox"));
    // A user-created folder has no well-known name: an empty key must not find it.
    assert_eq!(
        s.messages(MAILBOX, ""),
        Err(ControlError::UnknownFolder(String::new()))
    );
    let r =
        m.f.http
            .post(format!(
                "{}/_stand-in/users/{MAILBOX}/folders",
                s.base_url()
            ))
            .json(&json!({"display_name": "Y", "parent": "nope"}))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn folder_lists_page_past_ten() {
    let m = folders().await;
    let many = m.add("Many", None);
    for i in 0..12 {
        m.add(&format!("Child {i:02}"), Some(&many));
    }
    let first = m
        .json(&format!("/me/mailFolders/{many}/childFolders"))
        .await;
    assert_eq!(first["value"].as_array().unwrap().len(), 10);
    assert_eq!(first["value"][0]["displayName"], "Child 00");
    let next = first["@odata.nextLink"].as_str().unwrap();
    assert!(next.contains("%24skip=10"), "{next}");
    let second = m.json(next).await;
    assert_eq!(names(&second), ["Child 10", "Child 11"]);
    assert!(second.get("@odata.nextLink").is_none());

    let small = m
        .json("/me/mailFolders?$top=3&$select=displayName&includeHiddenFolders=true")
        .await;
    assert_eq!(names(&small), ["Archive", "Deleted Items", "Drafts"]);
    let next = small["@odata.nextLink"].as_str().unwrap();
    assert!(next.contains("includeHiddenFolders=true"), "{next}");
    let rest = m.json(next).await;
    assert_eq!(names(&rest), ["Inbox", "Junk Email", "Many"], "{rest}");
    assert!(rest["value"][0].get("totalItemCount").is_none());
    let r = m.get("/me/mailFolders?$top=0").await;
    assert_graph_error(r, 400, "BadRequest").await;
}

#[tokio::test]
async fn unknown_folders_are_404() {
    let m = folders().await;
    for path in [
        "/me/mailFolders/AAMkADnope=",
        "/me/mailFolders/nope/childFolders",
        "/me/mailFolders/nope/messages",
    ] {
        assert_graph_error(m.get(path).await, 404, "ErrorItemNotFound").await;
    }
}

#[tokio::test]
async fn folders_need_a_mail_read_scope_and_pass_the_gate() {
    let f = fixture().await;
    f.consent_all();
    f.sign_in_only(MAILBOX);
    let url = f.authorize_url("common", &[("scope", "openid user.read")]);
    let code = f.authorize_redirect(&url).await["code"].clone();
    let tokens: Value = f.redeem(&code).await.json().await.unwrap();
    let token = tokens["access_token"].as_str().unwrap();
    for path in [
        "/me/mailFolders",
        "/me/mailFolders/inbox",
        "/me/mailFolders/inbox/childFolders",
    ] {
        let r = f
            .http
            .get(f.graph(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_graph_error(r, 403, "ErrorAccessDenied").await;
    }
    let r = f.http.get(f.graph("/me/mailFolders")).send().await.unwrap();
    assert_graph_error(r, 401, "InvalidAuthenticationToken").await;

    let m = Folders {
        token: f.tokens_for(MAILBOX).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned(),
        f,
    };
    m.f.stand_in.add_fault(FaultSpec {
        endpoint: "listFolders".into(),
        count: 1,
        fault: Fault::ServiceUnavailable { retry_after: None },
    });
    assert_graph_error(m.get("/me/mailFolders").await, 503, "ServiceUnavailable").await;
    assert_eq!(m.get("/me/mailFolders").await.status(), 200);
    let recorded: Vec<u16> =
        m.f.stand_in
            .ledger()
            .graph_requests
            .iter()
            .filter(|r| r.path == "/v1.0/me/mailFolders")
            .map(|r| r.status)
            .collect();
    assert_eq!(recorded, [403, 401, 503, 200]);
}
