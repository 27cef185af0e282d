//! The architecture invariants of docs/ARCHITECTURE.md, checked on the source text: the core does no I/O,
//! reads no clock and names no SDK type; no SDK type leaves `src/aws/`; only `src/cli/` prints or prompts;
//! and the modules import each other only downwards.

use std::path::{Path, PathBuf};

use fsx_migrate::cloud::port::ALL_OPERATIONS;

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The code of a file without comments (a doc comment may name what the code must not use).
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `(file, needle)` where a file under `src/<dir>` (minus `allowed` files) uses a forbidden needle.
fn offences(dir: &str, forbidden: &[&str], allowed: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut out = Vec::new();
    for path in rust_files(&root) {
        let relative = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .to_string_lossy()
            .to_string();
        if allowed.contains(&relative.as_str()) {
            continue;
        }
        let text = code(&path);
        for needle in forbidden {
            if text.contains(needle) {
                out.push(format!("{relative} uses `{needle}`"));
            }
        }
    }
    out
}

const SDK: &[&str] = &["aws_sdk_", "aws_smithy_", "aws_config::", "aws_types::"];
const PRINTING: &[&str] = &[
    "println!",
    "print!(",
    "eprintln!",
    "eprint!(",
    "std::io::stdin",
    "stdout()",
    "stderr()",
    "rpassword",
    "dialoguer",
    "indicatif",
];

#[test]
fn the_core_does_no_io_reads_no_clock_and_names_no_sdk_type() {
    let mut forbidden = vec![
        "std::fs",
        "std::io",
        "std::net",
        "std::process",
        "std::env",
        "tokio",
        "async fn",
        ".await;",
        ".await?",
        ".await)",
        ".await.",
        "Timestamp::now",
        "SystemTime",
        "Instant::now",
        "crate::engine",
        "crate::sim",
        "crate::aws",
        "crate::cli",
        "crate::files",
        "tracing::",
    ];
    forbidden.extend(SDK);
    forbidden.extend(PRINTING);
    let found = offences("core", &forbidden, &[]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn no_sdk_type_outside_the_aws_adapter() {
    let mut found = Vec::new();
    for dir in ["core", "cloud", "plan", "engine", "sim", "cli"] {
        // The CLI builds the AWS adapter from its options; it names no SDK type either.
        found.extend(offences(dir, SDK, &[]));
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn only_the_cli_prints_or_prompts() {
    let mut found = Vec::new();
    for dir in ["core", "cloud", "plan", "engine", "sim"] {
        found.extend(offences(dir, PRINTING, &[]));
    }
    // The one exception, on purpose: `prompt` as a password source asks at the moment the AWS adapter needs
    // the password (CreateLocationFsxWindows), so it never sits in memory longer than one call.
    found.extend(offences("aws", PRINTING, &["src/aws/secrets.rs"]));
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn modules_import_only_downwards() {
    // cloud: the vocabulary; plan: the operator's files; core: decisions; sim and aws: adapters of the cloud
    // port; engine: carries out decisions; cli: the shell over everything.
    let rules: &[(&str, &[&str])] = &[
        (
            "cloud",
            &[
                "crate::plan",
                "crate::core",
                "crate::engine",
                "crate::sim",
                "crate::aws",
                "crate::cli",
            ],
        ),
        (
            "plan",
            &[
                "crate::core",
                "crate::engine",
                "crate::sim",
                "crate::aws",
                "crate::cli",
            ],
        ),
        (
            "core",
            &["crate::engine", "crate::sim", "crate::aws", "crate::cli"],
        ),
        ("sim", &["crate::plan", "crate::core", "crate::aws", "crate::cli"]),
        (
            "aws",
            &[
                "crate::plan",
                "crate::core",
                "crate::engine",
                "crate::sim",
                "crate::cli",
            ],
        ),
        ("engine", &["crate::cli", "crate::aws"]),
    ];
    let mut found = Vec::new();
    for (dir, forbidden) in rules {
        found.extend(offences(dir, forbidden, &[]));
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_port_has_no_simulator_only_command() {
    // Every command is an AWS call both adapters carry out; nothing in the port exists for one adapter only.
    let port = code(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cloud/port.rs"));
    assert_eq!(
        port.matches("simulator:").count(),
        0,
        "simulator-only operations in the port"
    );
    for operation in ALL_OPERATIONS {
        let service = operation.split(':').next().unwrap();
        assert!(
            ["fsx", "ec2", "route53", "datasync", "logs", "ssm"].contains(&service),
            "{operation} is not an AWS operation"
        );
    }
}
