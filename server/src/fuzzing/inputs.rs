//! What a browser sends: the OAuth callback's query and cookies; and what
//! other people typed that ends up in the audit CSV.
use crate::identity::callback;
use crate::routes::audit_export;

/// The callback parser refuses or accepts, never panics; what it accepts
/// has a usable state and a code or an error, and what it refuses says why
/// in a sentence of bounded length (the query itself is never echoed whole).
pub fn callback_query(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    match callback::parse(Some(&raw)) {
        Ok(params) => {
            assert!(!params.state.is_empty() && params.state.len() <= 512);
            assert!(params.code.is_some() || params.error.is_some());
        }
        Err(failure) => {
            let shown = format!("{failure:?}");
            assert!(
                shown.len() <= 400,
                "refusal too long: {} bytes",
                shown.len()
            );
        }
    }
    if let Some(value) = callback::cookie_value(Some(&raw), "tm_flow") {
        assert!(!value.contains(';'));
    }
}

/// Cells separated by U+0001. The row reads back as exactly those cells,
/// each either as written or, when a spreadsheet would run it as a formula,
/// with a leading `'`.
pub fn csv_cells(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let cells: Vec<String> = text.split('\u{1}').map(str::to_owned).collect();
    let line = audit_export::row(&cells);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_slice());
    let records: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("the row does not read back: {e}"));
    assert_eq!(records.len(), 1, "one row, read back as {}", records.len());
    let record = &records[0];
    assert_eq!(record.len(), cells.len());
    for (written, cell) in record.iter().zip(&cells) {
        if audit_export::is_formula(cell) {
            assert_eq!(written, format!("'{cell}"));
        } else {
            assert_eq!(written, cell);
        }
    }
}
