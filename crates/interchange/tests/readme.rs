//! The README documents the CSV layout; this keeps the two from drifting apart.

#[test]
fn the_readme_documents_every_csv_column() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    for (_, english, korean, meaning) in girok_interchange::COLUMNS {
        let row = format!(
            "| `{english}` | `{korean}` | {} |",
            meaning.replace(" ;", " `;`")
        );
        assert!(readme.contains(&row), "README.md lacks the row:\n{row}");
    }
}
