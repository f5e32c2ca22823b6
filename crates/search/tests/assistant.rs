//! The assistant over the real demo catalog: held-out everyday questions (written independently of
//! the development set), ranking rules, and a guard that no development question is copied into the
//! code or data.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tongban_search::eval::{evaluate, parse_query_set};
use tongban_search::{AnswerKind, Assistant};
use tongban_store::testing::demo_data;

fn assistant() -> &'static Assistant {
    static ASSISTANT: OnceLock<Assistant> = OnceLock::new();
    ASSISTANT
        .get_or_init(|| Assistant::build(&demo_data().catalog).unwrap_or_else(|e| panic!("{e}")))
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn top(query: &str) -> (AnswerKind, String) {
    let answers = assistant().ask(query, 3);
    let first = answers
        .first()
        .unwrap_or_else(|| panic!("no answer to {query}"));
    (first.kind, first.name.clone())
}

#[test]
fn held_out_everyday_questions_are_answered() {
    let text = std::fs::read_to_string(repository().join("data/search/heldout.tsv")).expect("read");
    let cases = parse_query_set(&text).expect("valid held-out set");
    assert!(cases.len() >= 40, "at least 40 held-out questions");
    let report = evaluate(assistant(), &cases);
    let misses: Vec<String> = report
        .misses
        .iter()
        .map(|(case, rank, names)| format!("{} (rank {rank:?}): {names:?}", case.query))
        .collect();
    println!(
        "held-out: top-1 {:.1}%, top-3 {:.1}% of {}\n{}",
        report.top1_rate() * 100.0,
        report.top3_rate() * 100.0,
        report.total,
        misses.join("\n")
    );
    assert!(
        report.top1_rate() >= 0.85,
        "top-1 {:.3}: {misses:#?}",
        report.top1_rate()
    );
    assert!(
        report.top3_rate() >= 0.95,
        "top-3 {:.3}: {misses:#?}",
        report.top3_rate()
    );
}

#[test]
fn a_sentence_about_a_whole_life_event_prefers_the_bundle() {
    let (kind, name) = top("家里添了个女儿,要去办哪些手续");
    assert_eq!(
        (kind, name.as_str()),
        (AnswerKind::Bundle, "新生儿出生一件事")
    );
    let (kind, name) = top("外公走了,后事要办哪些手续");
    assert_eq!((kind, name.as_str()), (AnswerKind::Bundle, "身后一件事"));
}

#[test]
fn a_sentence_about_one_thing_prefers_the_item() {
    let (kind, name) = top("宝宝的接种本怎么领");
    assert_eq!(kind, AnswerKind::Item, "{name}");
    assert_eq!(name, "预防接种证办理");
}

#[test]
fn everyday_words_find_formal_names() {
    assert_eq!(top("车本丢了").1, "机动车驾驶证补证");
    assert_eq!(top("想在这边开家餐馆").1, "开办餐饮店一件事");
}

#[test]
fn answers_say_why_and_what_to_do_first() {
    let answers = assistant().ask("驾驶执照补办", 3);
    let first = answers.first().expect("an answer");
    assert_eq!(first.name, "机动车驾驶证补证");
    assert!(first.why.iter().any(|w| w == "驾驶执照"), "{:?}", first.why);
    assert!(!first.first_step.is_empty());
    assert!(first.online_address.is_some());
}

#[test]
fn nonsense_and_empty_questions_get_no_answers() {
    assert!(assistant().ask("", 5).is_empty());
    assert!(assistant().ask(" ?!。 ", 5).is_empty());
    assert!(assistant().ask("qwxzv", 5).is_empty());
}

#[test]
fn a_new_item_is_found_once_the_assistant_is_rebuilt() {
    let mut catalog = demo_data().catalog;
    let before = Assistant::build(&catalog).expect("built");
    assert!(
        before
            .ask("宠物犬登记", 3)
            .iter()
            .all(|a| !a.name.contains("犬只")),
        "not there yet"
    );
    let mut item = catalog.items[0].clone();
    item.name = "犬只登记".into();
    item.aliases = vec!["养狗登记".into(), "狗证".into()];
    catalog.items.push(item);
    let after = Assistant::build(&catalog).expect("built");
    assert_eq!(
        after
            .ask("养狗要办狗证吗", 3)
            .first()
            .map(|a| a.name.as_str()),
        Some("犬只登记")
    );
}

/// The development set (`../shared/ask-dev-queries.tsv`) measures the assistant; copying its
/// questions (or phrases containing them) into the code or data would only fake the figures.
/// Skipped when the file is absent.
#[test]
fn no_development_question_is_copied_into_code_or_data() {
    let dev = repository().join("../shared/ask-dev-queries.tsv");
    let Ok(text) = std::fs::read_to_string(&dev) else {
        return;
    };
    let cases = parse_query_set(&text).expect("valid development set");
    let mut files = Vec::new();
    for folder in [
        "data/search",
        "data/demo/catalog",
        "crates/search/src",
        "crates/search/tests",
    ] {
        collect(&repository().join(folder), &mut files);
    }
    for file in files {
        let content = std::fs::read_to_string(&file).unwrap_or_default();
        for (number, line) in content.lines().enumerate() {
            // An entry's official name may contain everyday words; it is what a correct answer is
            // called, not a copied question.
            let trimmed = line.trim_start();
            if trimmed.starts_with("name = ") || trimmed.starts_with('#') {
                continue;
            }
            for case in &cases {
                assert!(
                    !line.contains(&case.query),
                    "{}:{} contains the development question {}",
                    file.display(),
                    number + 1,
                    case.query
                );
            }
        }
    }
}

fn collect(folder: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn without_a_word_for_cancelling_or_replacing_the_basic_service_comes_first() {
    assert_eq!(top("社保卡").1, "社会保障卡申领");
    assert_eq!(top("社保卡要注销").1, "社会保障卡注销");
    assert_eq!(top("驾照找不到了").1, "机动车驾驶证补证");
}
