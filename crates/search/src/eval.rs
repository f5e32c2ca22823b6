//! Measuring the assistant on a query set: a TSV file with the columns `query` and `expected`,
//! where `expected` is a regular expression that the name of a correct answer matches. Used by
//! `tongban bench ask` (development set) and by the held-out test.

use regex::Regex;

use crate::{Answer, Assistant};

/// One question with what a correct answer's name looks like.
#[derive(Debug, Clone)]
pub struct Case {
    pub line: usize,
    pub query: String,
    pub expected: Regex,
}

#[derive(Debug, thiserror::Error)]
pub enum QuerySetError {
    #[error("the query set has no header line `query<TAB>expected`")]
    MissingHeader,
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
}

/// Reads a query set. Blank lines and lines starting with `#` are skipped.
pub fn parse_query_set(text: &str) -> Result<Vec<Case>, QuerySetError> {
    let mut lines = text.lines().enumerate();
    let header = lines
        .by_ref()
        .find(|(_, line)| !line.trim().is_empty())
        .ok_or(QuerySetError::MissingHeader)?;
    let columns: Vec<&str> = header.1.split('\t').map(str::trim).collect();
    let query_column = columns.iter().position(|c| *c == "query");
    let expected_column = columns.iter().position(|c| *c == "expected");
    let (Some(query_column), Some(expected_column)) = (query_column, expected_column) else {
        return Err(QuerySetError::MissingHeader);
    };
    let mut cases = Vec::new();
    for (index, line) in lines {
        let number = index + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let (Some(query), Some(expected)) = (fields.get(query_column), fields.get(expected_column))
        else {
            return Err(QuerySetError::Line {
                line: number,
                reason: "expected two tab-separated columns".into(),
            });
        };
        let expected = Regex::new(expected.trim()).map_err(|e| QuerySetError::Line {
            line: number,
            reason: format!("`expected` is not a regular expression: {e}"),
        })?;
        cases.push(Case {
            line: number,
            query: query.trim().to_owned(),
            expected,
        });
    }
    Ok(cases)
}

/// Where the first correct answer came, if among the answers.
pub fn rank_of_correct(case: &Case, answers: &[Answer]) -> Option<usize> {
    answers
        .iter()
        .position(|answer| case.expected.is_match(&answer.name))
        .map(|position| position + 1)
}

/// Accuracy over a query set.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub total: usize,
    pub top1: usize,
    pub top3: usize,
    /// Questions whose correct answer was not first: (case, the names answered).
    pub misses: Vec<(Case, Option<usize>, Vec<String>)>,
}

impl Report {
    pub fn top1_rate(&self) -> f64 {
        ratio(self.top1, self.total)
    }

    pub fn top3_rate(&self) -> f64 {
        ratio(self.top3, self.total)
    }
}

fn ratio(part: usize, total: usize) -> f64 {
    if total == 0 {
        return 0.0;
    }
    part as f64 / total as f64
}

/// Asks every question once and counts top-1 and top-3 hits.
pub fn evaluate(assistant: &Assistant, cases: &[Case]) -> Report {
    let mut report = Report::default();
    for case in cases {
        let answers = assistant.ask(&case.query, 3);
        record(&mut report, case, &answers);
    }
    report
}

/// Adds one question's answers to a report.
pub fn record(report: &mut Report, case: &Case, answers: &[Answer]) {
    report.total += 1;
    let rank = rank_of_correct(case, answers);
    if rank == Some(1) {
        report.top1 += 1;
    }
    if rank.is_some_and(|r| r <= 3) {
        report.top3 += 1;
    }
    if rank != Some(1) {
        report.misses.push((
            case.clone(),
            rank,
            answers.iter().map(|a| a.name.clone()).collect(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_set_is_read_by_column_name() {
        let cases =
            parse_query_set("expected\tquery\n结婚登记\t去领个证\n\n# note\n驾驶证\t驾照\n")
                .expect("valid");
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].query, "去领个证");
        assert!(cases[0].expected.is_match("结婚登记"));
        assert_eq!(cases[1].line, 5);
    }

    #[test]
    fn a_bad_regular_expression_names_its_line() {
        let error = parse_query_set("query\texpected\n问\t(\n").expect_err("bad regex");
        assert!(error.to_string().starts_with("line 2"), "{error}");
    }

    #[test]
    fn a_file_without_the_header_is_refused() {
        assert!(parse_query_set("问\t答\n").is_err());
    }
}
