//! The PowerShell scripts' output contract, read from recorded outputs (tests/fixtures/windows).

use fsx_migrate::cloud::windows::{ScriptEnd, last_line, parse_freeze, parse_unfreeze};

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
    assert!(matches!(last_line(cut), ScriptEnd::Missing(m) if m.contains("cut short")));
}

#[test]
fn an_unfreeze_output_names_the_shares_gone_since_the_freeze() {
    let result = parse_unfreeze(include_str!("fixtures/windows/unfreeze-output.txt")).unwrap();
    assert_eq!(result.restored, 3);
    assert_eq!(result.missing_shares, ["projects"]);
}

#[test]
fn an_spn_output_names_the_computer_and_what_moved_and_an_error_says_what_stays() {
    use fsx_migrate::cloud::windows::parse_spn;
    let result = parse_spn(include_str!("fixtures/windows/spn-output.txt")).unwrap();
    assert_eq!(result.computer, "AMZNFSXB2C3D4E5");
    assert_eq!(result.moved[0]["spn"], "HOST/finance");
    assert_eq!(result.moved[0]["from"], "AMZNFSXA1B2C3D4");
    assert_eq!(result.added, ["HOST/finance.corp.example.com"]);
    assert_eq!(result.already.len(), 2);
    let error = parse_spn(include_str!("fixtures/windows/spn-output-error.txt")).unwrap_err();
    assert!(error.contains("Insufficient access rights"), "{error}");
    assert!(error.contains("Run the script again"), "{error}");
    // An SPN another object holds: nothing changed, and the person is told what to check.
    let in_use = parse_spn(include_str!("fixtures/windows/spn-output-in-use.txt")).unwrap_err();
    assert!(in_use.contains("HOST/finance is held by FINANCE"), "{in_use}");
    assert!(in_use.contains("No SPN was changed."), "{in_use}");
}

/// The recorded exports of a source and of the target after apply.ps1 read as fsx-migrate reads them: the
/// share outside the copied folder is the one the copy does not carry, and the target matches the rest.
#[tokio::test]
async fn recorded_exports_and_applies_read_back_and_the_target_matches_the_source() {
    use fsx_migrate::cloud::windows::{parse_apply, parse_export};
    use fsx_migrate::core::service::{setting_differences, share_differences, to_apply, uncovered_shares};
    let source = parse_export(include_str!("fixtures/windows/export-source-output.txt")).unwrap();
    let target = parse_export(include_str!("fixtures/windows/export-target-output.txt")).unwrap();
    let names: Vec<&str> = source.shares.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["finance", "home$", "projects", "share"]);
    let projects = &source.shares[2];
    assert_eq!(projects.access.len(), 1, "one entry stays an array");
    assert!(source.shadow_copies.is_some() && source.dedup.is_some() && source.user_quotas.is_some());
    assert!(source.not_exported.iter().any(|n| n.setting.contains("FSRM")));

    use crate::support::{intent_for, plan_request, sim, world};
    let transfer = intent_for(&mut sim(world("small")), &plan_request())
        .await
        .transfer;
    assert_eq!(transfer.source_subdirectory, "/share");
    let uncovered = uncovered_shares(&source, &transfer, &[]);
    assert_eq!(uncovered.len(), 1);
    assert_eq!(uncovered[0].name, "home$");
    let wanted = to_apply(&source, &["home$".into()]);
    assert!(
        share_differences(&wanted.shares, &target.shares).is_empty(),
        "{:?}",
        share_differences(&wanted.shares, &target.shares)
    );
    assert!(setting_differences(&source, &target).is_empty());

    let applied = parse_apply(include_str!("fixtures/windows/apply-output.txt")).unwrap();
    assert_eq!(applied.created, ["finance", "projects"]);
    assert_eq!(applied.updated, ["share"]);
    assert_eq!(applied.skipped[0].name, "home$");
    assert_eq!(applied.applied.len(), 4);
    let error = parse_apply(include_str!("fixtures/windows/apply-output-error.txt")).unwrap_err();
    assert!(error.contains("created: finance"), "{error}");
    assert!(error.contains("idempotent"), "{error}");
}

/// logon.ps1: the share and each folder listed as the DataSync user, a folder it cannot list, a logon refused.
#[test]
fn logon_outputs_are_read_as_listed_denied_or_refused() {
    use fsx_migrate::cloud::windows::parse_logon;
    let listed = parse_logon(include_str!("fixtures/windows/logon-output.txt")).unwrap();
    assert_eq!(listed.share, "\\\\amznfsxa1b2c3d4.corp.example.com\\share");
    assert_eq!(listed.user, "CORP\\svc-datasync");
    assert!(listed.root_listed);
    let paths: Vec<(&str, bool)> = listed
        .folders
        .iter()
        .map(|f| (f.path.as_str(), f.listed))
        .collect();
    assert_eq!(paths, [("/finance", true), ("/projects", true)]);

    let denied = parse_logon(include_str!("fixtures/windows/logon-output-folder-denied.txt")).unwrap();
    assert_eq!(denied.password_from, "aws-cli");
    assert!(!denied.folders[0].listed);
    assert_eq!(
        denied.folders[0].error.as_deref(),
        Some("Access to the path 'FXMLOGON:\\finance' is denied.")
    );

    let refused = parse_logon(include_str!("fixtures/windows/logon-output-error.txt")).unwrap_err();
    assert!(
        refused.contains("The user name or password is incorrect"),
        "{refused}"
    );
}

/// The password never crosses SSM: logon.ps1 is sent the secret's id, and reads the password on the instance.
#[test]
fn the_logon_invocation_names_the_secret_not_a_password() {
    use fsx_migrate::cloud::windows::{LogonArgs, ScriptCall, WindowsScript};
    let call = ScriptCall {
        logon: Some(LogonArgs {
            share: "\\\\fs.corp.example.com\\share".into(),
            user_name: "CORP\\svc-datasync".into(),
            secret_id: "datasync-password".into(),
            folders: vec!["/finance".into()],
        }),
        ..ScriptCall::new(WindowsScript::Logon)
    };
    let text = call.invocation();
    assert!(
        text.ends_with(
            " -Share '\\\\fs.corp.example.com\\share' -UserName 'CORP\\svc-datasync' -SecretId 'datasync-password' -Folders '/finance'\n"
        ),
        "{}",
        &text[text.len().saturating_sub(200)..]
    );
    assert!(!text.contains(" -Endpoint "));
}

/// No PowerShell (nor PSScriptAnalyzer) can be installed from the package registries CI reaches, so the
/// scripts are parsed with the tree-sitter PowerShell grammar: a syntax error anywhere fails the build.
#[test]
fn the_scripts_parse_as_powershell() {
    use fsx_migrate::cloud::windows::{ScriptCall, WindowsScript};
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("the PowerShell grammar loads");
    // The check is not vacuous: a broken block is an error.
    let broken = parser.parse("& { if ($x -eq { }\n", None).expect("parsed");
    assert!(broken.root_node().has_error());
    for script in [
        WindowsScript::Freeze,
        WindowsScript::Unfreeze,
        WindowsScript::Export,
        WindowsScript::Apply,
        WindowsScript::Spn,
        WindowsScript::Dns,
        WindowsScript::Dfs,
        WindowsScript::Logon,
    ] {
        let call = ScriptCall {
            script,
            endpoint: "amznfsxa1b2c3d4.corp.example.com".into(),
            keep_accounts: vec!["CORP\\svc-datasync".into(), "CORP\\O'Brien".into()],
            shares_json: Some(r#"[{"name":"share","path":"D:\\share","access":[]}]"#.into()),
            service_json: Some(r#"{"shares":[],"shadow_copies":null,"dedup":null}"#.into()),
            from_dns_name: Some("amznfsxa1b2c3d4.corp.example.com".into()),
            aliases: vec!["finance.corp.example.com".into(), "hr.corp.example.com".into()],
            name_switch: None,
            logon: (script == WindowsScript::Logon).then(|| fsx_migrate::cloud::windows::LogonArgs {
                share: "\\\\amznfsxa1b2c3d4.corp.example.com\\share".into(),
                user_name: "CORP\\O'Brien".into(),
                secret_id: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:datasync-AbCdEf".into(),
                folders: vec!["/finance".into(), "/it's".into()],
            }),
        };
        // The file as it is, and the text SSM runs (the script as a block, with its arguments).
        for (what, text) in [
            ("file", script.text().to_string()),
            ("invocation", call.invocation()),
        ] {
            let tree = parser.parse(&text, None).expect("parsed");
            let root = tree.root_node();
            assert!(
                !root.has_error(),
                "{script} ({what}) does not parse: {}",
                first_error(root, &text)
            );
        }
    }
}

fn first_error(node: tree_sitter::Node<'_>, text: &str) -> String {
    let mut cursor = node.walk();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.is_error() || n.is_missing() {
            let line = n.start_position().row;
            return format!(
                "line {}: {:?}",
                line + 1,
                text.lines().nth(line).unwrap_or_default()
            );
        }
        stack.extend(n.children(&mut cursor).collect::<Vec<_>>().into_iter().rev());
    }
    "an error somewhere".into()
}
