//! The `tongban` binary as scripts use it: exit codes, stdout and stderr.

use std::path::PathBuf;
use std::process::{Command, Output};

/// No acknowledged write is lost when the server is killed (SIGKILL) under load.
#[path = "cli/kill.rs"]
mod kill;

/// `tongban bench seed` at a small size: complete, and its figures agree.
#[path = "cli/seed.rs"]
mod seed;

fn tongban(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tongban"))
        .args(args)
        // Tests must not pick up a developer's configuration.
        .env_remove("TONGBAN_CONFIG")
        .env_remove("TONGBAN_DATABASE")
        .current_dir(workspace())
        .output()
        .unwrap_or_else(|error| panic!("cannot run tongban: {error}"))
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_owned()
}

#[test]
fn add_working_days_prints_the_reference_dates() {
    for (from, days, expected) in [
        ("2026-02-13", "5", "2026-02-27"),
        ("2026-02-13", "1", "2026-02-14"),
        ("2026-09-30", "15", "2026-10-27"),
        ("2025-12-31", "3", "2026-01-06"),
    ] {
        let output = tongban(&[
            "calendar",
            "add-working-days",
            "--from",
            from,
            "--days",
            days,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(stdout(&output), expected, "{from} + {days}");
    }
}

#[test]
fn is_workday_knows_make_up_days_and_holidays() {
    let saturday_make_up = tongban(&["calendar", "is-workday", "2026-02-14"]);
    assert_eq!(stdout(&saturday_make_up), "true");
    let spring_festival = tongban(&["calendar", "is-workday", "2026-02-17"]);
    assert_eq!(stdout(&spring_festival), "false");
}

#[test]
fn a_year_without_official_data_is_an_explicit_error() {
    let output = tongban(&["calendar", "is-workday", "2027-03-01"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty(), "no guess is printed");
    assert!(
        stderr(&output).contains("calendar_year_not_loaded"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn calendar_check_summarises_a_year_file_and_refuses_a_broken_one() {
    let output = tongban(&["calendar", "check", "data/calendar/2026.toml"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = stdout(&output);
    // REFERENCE §8: seven breaks (3 + 9 + 3 + 5 + 3 + 3 + 7 = 33 days off), six make-up
    // workdays, 248 working days.
    assert!(
        summary.starts_with(
            "2026: 7 holiday breaks (33 days off), 6 make-up workdays, 248 working days"
        ),
        "{summary}"
    );
    let folder = tempfile::tempdir().unwrap();
    let broken = folder.path().join("2027.toml");
    std::fs::write(
        &broken,
        "year = 2027\nsource = \"test\"\nmakeup_workdays = [\"2027-03-03\"]\n",
    )
    .unwrap();
    let output = tongban(&["calendar", "check", broken.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("calendar_data_invalid"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_malformed_date_is_refused_with_a_usage_error() {
    let output = tongban(&["calendar", "is-workday", "2026-13-01"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(!stderr(&output).is_empty());
}

#[test]
fn valid_identifiers_exit_zero_silently() {
    for (kind, value) in [
        ("id-number", "11010519491231002X"),
        ("id-number", "11010519491231002x"),
        ("credit-code", "91110000600037341L"),
        ("credit-code", "92340621MA2UK3PJXE"),
        (
            "licence-id",
            "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S",
        ),
    ] {
        let output = tongban(&["validate", kind, value]);
        assert!(
            output.status.success(),
            "{kind} {value}: {}",
            stderr(&output)
        );
        assert!(stderr(&output).is_empty());
    }
}

#[test]
fn invalid_identifiers_exit_one_with_the_reason() {
    for (kind, value, code) in [
        ("id-number", "36042619910102009X", "invalid_id_number"),
        ("id-number", "360426199113010079", "invalid_id_number"),
        ("credit-code", "91110000600037341N", "invalid_credit_code"),
        ("credit-code", "12345", "invalid_credit_code"),
    ] {
        let output = tongban(&["validate", kind, value]);
        assert_eq!(output.status.code(), Some(1), "{kind} {value}");
        assert!(
            stderr(&output).contains(code),
            "{kind} {value}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn the_demo_data_checks_clean_and_a_broken_folder_does_not() {
    let good = tongban(&["catalog", "check", "--dir", "data/demo"]);
    assert!(good.status.success(), "{}", stderr(&good));
    assert!(stdout(&good).starts_with("ok:"));

    let broken = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(broken.path().join("city.toml"), "regions = 3\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let bad = tongban(&[
        "catalog",
        "check",
        "--dir",
        &broken.path().to_string_lossy(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("city.toml"),
        "the broken file is named: {}",
        stderr(&bad)
    );
}

/// The number of demo items: one file each in data/demo/catalog/items.
fn demo_item_count() -> usize {
    std::fs::read_dir(workspace().join("data/demo/catalog/items"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn import_then_export_round_trips_and_a_second_import_changes_nothing() {
    let items = demo_item_count();
    assert!(items > 0);
    let data = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data_dir = data.path().to_string_lossy().into_owned();
    let first = tongban(&[
        "catalog",
        "import",
        "--from",
        "data/demo",
        "--data",
        &data_dir,
    ]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains(&format!("items {items} new")),
        "{}",
        stdout(&first)
    );

    let export_file = data.path().join("export.json");
    let export_path = export_file.to_string_lossy().into_owned();
    let export = tongban(&[
        "catalog",
        "export",
        "--to",
        &export_path,
        "--data",
        &data_dir,
    ]);
    assert!(export.status.success(), "{}", stderr(&export));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&export_file).unwrap_or_default())
            .unwrap_or_default();
    assert_eq!(json["format"], 1);
    assert_eq!(
        json["catalog"]["items"].as_array().map(Vec::len),
        Some(items)
    );

    let again = tongban(&[
        "catalog",
        "import",
        "--from",
        &export_path,
        "--data",
        &data_dir,
    ]);
    assert!(again.status.success(), "{}", stderr(&again));
    let unchanged = format!("0 new, 0 updated, {items} unchanged");
    assert!(stdout(&again).contains(&unchanged), "{}", stdout(&again));
}

#[test]
fn simulate_hall_prints_a_plan_where_more_windows_wait_less() {
    let output = tongban(&[
        "simulate",
        "hall",
        "--min-windows",
        "11",
        "--max-windows",
        "14",
        "--days",
        "3",
        "--json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&output))
        .unwrap_or_else(|error| panic!("not JSON: {error}\n{}", stdout(&output)));
    let rows = rows.as_array().cloned().unwrap_or_default();
    assert_eq!(
        rows.len(),
        8,
        "comprehensive and specialised for 11..=14 windows"
    );
    let p90 = |windows: u64, layout: &str| {
        rows.iter()
            .find(|r| r["windows"].as_u64() == Some(windows) && r["layout"] == layout)
            .and_then(|r| r["p90_wait"].as_f64())
            .unwrap_or_else(|| panic!("no {layout} row for {windows}"))
    };
    assert!(p90(14, "comprehensive") < p90(11, "comprehensive"));
    assert!(p90(14, "comprehensive") < p90(14, "specialised"));
    let text = tongban(&[
        "simulate",
        "hall",
        "--min-windows",
        "3",
        "--max-windows",
        "2",
    ]);
    assert!(!text.status.success(), "an empty range is refused");
}

#[test]
fn bench_ask_reports_accuracy_latency_and_misses_for_a_query_set() {
    let folder = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = folder.path().join("questions.tsv");
    // One question the assistant answers and one whose expected name exists nowhere: one miss.
    std::fs::write(
        &file,
        "query\texpected\n车本丢了怎么补\t驾驶证补证\n养了只猫\t宠物猫登记\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let path = file.to_string_lossy().to_string();
    let output = tongban(&["bench", "ask", "--file", &path, "--rounds", "2"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("top-1 accuracy    50.0%  (1/2)"), "{out}");
    assert!(out.contains("top-3 accuracy    50.0%  (1/2)"), "{out}");
    assert!(out.contains("p50") && out.contains("p99"), "{out}");
    assert!(out.contains("养了只猫"), "the miss is listed: {out}");
    assert!(
        !out.contains("车本丢了怎么补  →"),
        "a hit is not listed: {out}"
    );
}

#[test]
fn bench_ask_names_a_missing_query_set() {
    let output = tongban(&["bench", "ask", "--file", "no/such/file.tsv"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no/such/file.tsv"),
        "{}",
        stderr(&output)
    );
}
