//! The PowerShell scripts' output contract, read from recorded outputs (tests/fixtures/windows).

use fsx_migrate::cloud::windows::{last_line, parse_freeze, parse_unfreeze};

#[test]
fn a_freeze_output_gives_the_permissions_before_it_even_a_share_with_one_entry() {
    let result = parse_freeze(include_str!("fixtures/windows/freeze-output.txt")).unwrap();
    assert_eq!(result.changed, 4);
    assert_eq!(result.sessions_left, 0);
    let names: Vec<&str> = result
        .shares
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["share", "finance", "projects"]);
    assert_eq!(result.shares[1]["access"][2]["control"], "Deny");
    let projects = result.shares[2]["access"]
        .as_array()
        .expect("one entry stays an array");
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0]["right"], "Full");
}

#[test]
fn sessions_left_and_errors_are_read_from_the_last_line() {
    let result = parse_freeze(include_str!("fixtures/windows/freeze-output-sessions-left.txt")).unwrap();
    assert_eq!(result.sessions_left, 2);
    let error = parse_freeze(include_str!("fixtures/windows/freeze-output-error.txt")).unwrap_err();
    assert!(error.contains("Access is denied"), "{error}");
    assert!(error.ends_with("No share access was changed."), "{error}");
    let cut = "fsx-migrate freeze on x\r\nShare 'share' (D:\\share): 4 access entries";
    assert!(last_line(cut).unwrap_err().contains("cut short"));
}

#[test]
fn an_unfreeze_output_names_the_shares_gone_since_the_freeze() {
    let result = parse_unfreeze(include_str!("fixtures/windows/unfreeze-output.txt")).unwrap();
    assert_eq!(result.restored, 3);
    assert_eq!(result.missing_shares, ["projects"]);
}
