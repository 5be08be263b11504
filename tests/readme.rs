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

#[tokio::test]
async fn readme_example_runs_against_the_local_cloud() {
    use futures_util::TryStreamExt;
    let img = openstack_tests::image(openstack_tests::ADMIN); // fails loudly without the cloud
    // The example creates "hello" (deduplicated by name and data): an image of that name left
    // by an earlier run would be reused silently, so the run must create a new one.
    let query = openstack_image::ImageQuery::new().name("hello");
    let before: Vec<String> = img.images(&query).map_ok(|i| i.id).try_collect().await.unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_readme-example"))
        .env("OS_CLOUD", openstack_tests::ADMIN)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "README example failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = stdout
        .split("downloaded 5 verified bytes of ")
        .nth(1)
        .unwrap_or_else(|| panic!("unexpected output: {stdout}"))
        .trim()
        .to_string();
    assert!(!before.contains(&id), "the example reused the leftover image {id}");
    assert!(img.get_image_opt(&id).await.unwrap().is_none(), "the example deleted {id}");
}
