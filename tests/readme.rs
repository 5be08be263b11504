//! The README's example is this crate's `readme-example` binary, byte for byte, and it runs
//! against the local cloud: the README cannot rot.

#[test]
fn readme_example_is_the_tested_binary() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("../README.md")).unwrap();
    let start = readme.find("```rust\n").expect("README has a ```rust example") + "```rust\n".len();
    let end = start + readme[start..].find("```").expect("the example block ends");
    let file = std::fs::read_to_string(root.join("readme_example.rs")).unwrap();
    // The file's `//!` header (required by `missing_docs`) is not part of the README.
    let example: String = file
        .lines()
        .skip_while(|l| l.starts_with("//!") || l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        readme[start..end].trim(),
        example.trim(),
        "README.md's example and tests/readme_example.rs differ"
    );
}

#[test]
fn readme_example_runs_against_the_local_cloud() {
    openstack_tests::cloud(openstack_tests::ADMIN); // fails loudly without the local cloud
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_readme-example"))
        .env("OS_CLOUD", openstack_tests::ADMIN)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "README example failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("downloaded 5 verified bytes"), "{stdout}");
}
