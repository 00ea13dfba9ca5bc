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

/// Every response document in the samples, as its text stands in the file
/// (members in the documented order), with the benchmark's page and run.
pub fn recorded_documents() -> Vec<(String, Vec<u8>)> {
    #[derive(serde::Deserialize)]
    struct Sample {
        #[serde(default)]
        sections: Vec<Section>,
    }
    #[derive(serde::Deserialize)]
    struct Section {
        #[serde(default)]
        responses: Vec<Box<serde_json::value::RawValue>>,
    }
    let mut documents = Vec::new();
    for (name, bytes) in recorded_answers() {
        let Ok(sample) = serde_json::from_slice::<Sample>(&bytes) else { continue };
        for (s, section) in sample.sections.into_iter().enumerate() {
            for (r, response) in section.responses.into_iter().enumerate() {
                documents.push((format!("{name} #{s}.{r}"), response.get().as_bytes().to_vec()));
            }
        }
    }
    assert!(documents.len() > 100, "{} documents", documents.len());
    documents.push(("workspaces-page.json".into(), include_bytes!("../benches/fixtures/workspaces-page.json").to_vec()));
    documents.push(("run.json".into(), include_bytes!("../benches/fixtures/run.json").to_vec()));
    documents
}

/// `base`'s first 1, 7, 8, 9, 16 and 17 bytes with each byte value put at
/// each place in turn: what a scan of eight bytes at a time is checked on
/// (every byte at every place of a word and of the tail).
pub fn every_byte_at_every_place(base: &[u8; 17]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for b in 0..=255u8 {
        for len in [1, 7, 8, 9, 16, 17] {
            for at in 0..len {
                let mut bytes = base[..len].to_vec();
                bytes[at] = b;
                out.push(bytes);
            }
        }
    }
    out
}
