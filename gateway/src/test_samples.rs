//! The recorded HCP Terraform answers the unit tests check JSON handling
//! against: every sample payload in `tests/fixtures/tfc-api-samples` and
//! the benchmark's 20-workspace page.

/// Each sample's name and bytes.
pub fn recorded_answers() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tfc-api-samples");
    let mut answers: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("samples")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| (path.display().to_string(), std::fs::read(&path).expect("sample")))
        .collect();
    assert!(answers.len() > 20, "{} samples", answers.len());
    answers.push(("workspaces-page.json".into(), include_bytes!("../benches/fixtures/workspaces-page.json").to_vec()));
    answers
}
