//! Every input of the committed fuzz corpora (`server/fuzz/corpus/<target>/`)
//! through its target's checks, on every test run and without the fuzzing
//! build: a crash fuzzing found and that was fixed stays fixed. Random
//! inputs on top catch the plainest regressions between fuzzing runs.
use proptest::prelude::*;
use server::fuzzing::TARGETS;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn names_in(dir: &Path, suffix: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(suffix).map(str::to_owned))
        .collect()
}

#[test]
fn each_target_has_a_binary_and_a_corpus() {
    let targets: BTreeSet<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(names_in(&fuzz_dir().join("fuzz_targets"), ".rs"), targets);
    assert_eq!(names_in(&fuzz_dir().join("corpus"), ""), targets);
}

#[test]
fn every_corpus_input_holds() {
    for (name, run) in TARGETS {
        let dir = fuzz_dir().join("corpus").join(name);
        let mut inputs = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{name}: {} fails", path.display());
            inputs += 1;
        }
        assert!(inputs > 0, "{name} has an empty corpus");
    }
}

/// What the spreadsheet check in `csv_cells` compares against.
#[test]
fn formula_cells_are_recognised() {
    use server::routes::audit_export::is_formula;
    for cell in ["=1+1", " +cmd", "-2", "@SUM", "\t=1", "\u{FF1D}1"] {
        assert!(is_formula(cell), "{cell:?}");
    }
    for cell in ["a=1", "", "plain", "1-2"] {
        assert!(!is_formula(cell), "{cell:?}");
    }
}

/// A Graph answer whose error code is a page long becomes a sentence an
/// admin can read (the length `graph_error` holds every answer to).
#[test]
fn a_page_long_graph_code_is_cut() {
    let mut input = vec![1, 44]; // status 100 + 300 = 400
    input.push(0);
    input.extend_from_slice(
        format!(
            r#"{{"error":{{"code":"{}","message":"m"}}}}"#,
            "X".repeat(70_000)
        )
        .as_bytes(),
    );
    server::fuzzing::graph_error(&input);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_bytes_hold(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for (_, run) in TARGETS {
            run(&data);
        }
    }

    #[test]
    fn random_text_holds(text in "\\PC{0,400}") {
        for (_, run) in TARGETS {
            run(text.as_bytes());
        }
    }
}
