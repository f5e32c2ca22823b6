//! Situational guidance (情形引导): questions whose answers select conditional materials, form
//! fields and bundle members, so that each applicant sees only the list that applies to them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::keys::QuestionCode;

/// A question with its options, e.g. "是否委托他人办理?" → 是 / 否.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub code: QuestionCode,
    pub text: String,
    pub options: Vec<QuestionOption>,
    /// A follow-up question is only asked when this holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionOption {
    pub code: QuestionCode,
    pub label: String,
}

/// An applicant's answers: question code → chosen option code.
pub type Answers = BTreeMap<QuestionCode, QuestionCode>;

/// One or several accepted options for a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Accepted {
    One(QuestionCode),
    Any(Vec<QuestionCode>),
}

impl Accepted {
    fn options(&self) -> &[QuestionCode] {
        match self {
            Accepted::One(option) => std::slice::from_ref(option),
            Accepted::Any(options) => options,
        }
    }
}

/// A condition over answers: every listed question must be answered with one of its accepted
/// options. Written in data as `when = { entrusted = "yes" }` or
/// `when = { household = ["local", "other"] }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Condition(BTreeMap<QuestionCode, Accepted>);

impl Condition {
    pub fn new(pairs: impl IntoIterator<Item = (QuestionCode, Vec<QuestionCode>)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(question, options)| (question, Accepted::Any(options)))
                .collect(),
        )
    }

    /// Whether the answers satisfy the condition. An unanswered question does not.
    pub fn holds(&self, answers: &Answers) -> bool {
        self.0.iter().all(|(question, accepted)| {
            answers
                .get(question)
                .is_some_and(|answer| accepted.options().contains(answer))
        })
    }

    /// Whether the condition can still hold: every answered question it names matches, and
    /// some may be unanswered yet. Pages show such entries as "depends on your answers".
    pub fn may_hold(&self, answers: &Answers) -> bool {
        self.0.iter().all(|(question, accepted)| {
            answers
                .get(question)
                .is_none_or(|answer| accepted.options().contains(answer))
        })
    }

    /// The questions the condition depends on.
    pub fn questions(&self) -> impl Iterator<Item = &QuestionCode> {
        self.0.keys()
    }

    /// Checks that the condition names only questions and options that exist.
    pub fn check_against(&self, questions: &[Question]) -> Result<(), String> {
        for (code, accepted) in &self.0 {
            let Some(question) = questions.iter().find(|q| &q.code == code) else {
                return Err(format!("the condition names an unknown question {code}"));
            };
            for option in accepted.options() {
                if !question.options.iter().any(|o| &o.code == option) {
                    return Err(format!("question {code} has no option {option}"));
                }
            }
        }
        Ok(())
    }
}

/// Checks a list of questions: unique codes, at least two options each, unique option codes,
/// follow-up conditions pointing only at earlier questions.
pub fn validate_questions(questions: &[Question]) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for (index, question) in questions.iter().enumerate() {
        if !seen.insert(&question.code) {
            return Err(format!("question {} is listed twice", question.code));
        }
        if question.options.len() < 2 {
            return Err(format!(
                "question {} needs at least two options",
                question.code
            ));
        }
        let mut options = BTreeSet::new();
        for option in &question.options {
            if !options.insert(&option.code) {
                return Err(format!(
                    "question {} lists option {} twice",
                    question.code, option.code
                ));
            }
        }
        if let Some(condition) = &question.when {
            condition
                .check_against(&questions[..index])
                .map_err(|reason| format!("question {}: {reason}", question.code))?;
        }
    }
    Ok(())
}

/// Parses answers given as `question=option` pairs and checks them against the questions.
/// Unknown questions or options are refused, so that a typo never silently widens a list.
pub fn parse_answers<'a>(
    questions: &[Question],
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Answers, String> {
    let mut answers = Answers::new();
    for (question_text, option_text) in pairs {
        let Some(question) = questions.iter().find(|q| q.code.as_str() == question_text) else {
            return Err(format!("there is no question {question_text:?}"));
        };
        let Some(option) = question
            .options
            .iter()
            .find(|o| o.code.as_str() == option_text)
        else {
            return Err(format!(
                "question {question_text:?} has no option {option_text:?}"
            ));
        };
        answers.insert(question.code.clone(), option.code.clone());
    }
    Ok(answers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> QuestionCode {
        QuestionCode::parse(text).unwrap()
    }

    fn entrusted() -> Question {
        Question {
            code: code("entrusted"),
            text: "是否委托他人办理?".into(),
            options: vec![
                QuestionOption {
                    code: code("yes"),
                    label: "是".into(),
                },
                QuestionOption {
                    code: code("no"),
                    label: "否".into(),
                },
            ],
            when: None,
        }
    }

    #[test]
    fn a_condition_holds_only_for_an_accepted_answer() {
        let condition = Condition::new([(code("entrusted"), vec![code("yes")])]);
        let mut answers = Answers::new();
        assert!(!condition.holds(&answers), "unanswered is not a match");
        answers.insert(code("entrusted"), code("no"));
        assert!(!condition.holds(&answers));
        answers.insert(code("entrusted"), code("yes"));
        assert!(condition.holds(&answers));
    }

    #[test]
    fn an_undecided_condition_may_still_hold_until_answered_otherwise() {
        let condition = Condition::new([(code("entrusted"), vec![code("yes")])]);
        let mut answers = Answers::new();
        assert!(condition.may_hold(&answers));
        answers.insert(code("entrusted"), code("no"));
        assert!(!condition.may_hold(&answers));
    }

    #[test]
    fn a_condition_naming_a_missing_option_is_refused() {
        let condition = Condition::new([(code("entrusted"), vec![code("maybe")])]);
        assert!(condition.check_against(&[entrusted()]).is_err());
    }

    #[test]
    fn conditions_read_from_data_in_both_forms() {
        let one: Condition = toml::from_str("entrusted = \"yes\"").unwrap();
        let many: Condition = toml::from_str("entrusted = [\"yes\", \"no\"]").unwrap();
        let mut answers = Answers::new();
        answers.insert(code("entrusted"), code("no"));
        assert!(!one.holds(&answers));
        assert!(many.holds(&answers));
    }

    #[test]
    fn answers_with_unknown_questions_or_options_are_refused() {
        let questions = [entrusted()];
        assert!(parse_answers(&questions, [("entrusted", "yes")]).is_ok());
        assert!(parse_answers(&questions, [("entrusted", "perhaps")]).is_err());
        assert!(parse_answers(&questions, [("first_time", "yes")]).is_err());
    }
}
