use super::*;

fn b(row: &str) -> Binding<'_> {
    Binding {
        table: "tenant_email",
        column: "client_secret",
        row_id: row,
    }
}

#[test]
fn round_trip_and_binding() {
    let ring = KeyRing::from_bytes(&[7u8; 32]);
    let sealed = ring.seal("s3cr3t~value", &b("row-1")).unwrap();
    assert!(!sealed.contains("s3cr3t"));
    assert!(sealed.starts_with(&format!("tm1.{}.", ring.key_id())));
    assert_eq!(ring.open(&sealed, &b("row-1")).unwrap(), "s3cr3t~value");
    assert!(matches!(
        ring.open(&sealed, &b("row-2")),
        Err(SecretError::Open)
    ));
    let other = KeyRing::from_bytes(&[8u8; 32]);
    assert!(matches!(
        other.open(&sealed, &b("row-1")),
        Err(SecretError::WrongKey { .. })
    ));
    assert!(matches!(
        ring.open("garbage", &b("row-1")),
        Err(SecretError::Malformed)
    ));
}

#[test]
fn nonces_differ() {
    let ring = KeyRing::from_bytes(&[1u8; 32]);
    assert_ne!(
        ring.seal("x", &b("r")).unwrap(),
        ring.seal("x", &b("r")).unwrap()
    );
}

#[test]
fn key_file_created_private_and_reloaded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/key");
    assert!(KeyRing::load_or_create(&path, false).is_err());
    let (ring, created) = KeyRing::load_or_create(&path, true).unwrap();
    assert!(created);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let (again, created) = KeyRing::load_or_create(&path, true).unwrap();
    assert!(!created);
    assert_eq!(ring.key_id(), again.key_id());
    // Readable by others: refused, with the fix.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = KeyRing::load_or_create(&path, false)
            .unwrap_err()
            .to_string();
        assert!(refused.contains("chmod 600"), "{refused}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    std::fs::write(&path, "c2hvcnQ=\n").unwrap();
    assert!(KeyRing::load_or_create(&path, false)
        .unwrap_err()
        .to_string()
        .contains("32 bytes"));
}
