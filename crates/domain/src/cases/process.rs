//! Process definitions (办理流程) as data: the steps a case goes through after acceptance, who
//! acts at each step and how long each step may take. A definition is a catalog entry (named by a
//! key, written in `workflows.toml`); an item names its workflow, and every case keeps a copy of
//! the definition it was accepted under, so that later edits never change a running case.

use serde::{Deserialize, Serialize};

use crate::keys::{DepartmentKey, QuestionCode};
use crate::org::Role;

/// A named process definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    pub key: QuestionCode,
    pub name: String,
    pub steps: Vec<Step>,
}

/// One step after acceptance (承办 → 审核 → 批准 …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub code: QuestionCode,
    pub name: String,
    /// The role that acts at this step, in the case's department (or the countersigning ones).
    pub role: Role,
    #[serde(default)]
    pub kind: StepKind,
    /// The step's own time budget in working days (for the inbox), within the case's limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_days: Option<u32>,
}

/// What completes a step.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum StepKind {
    /// One pass by the role moves the case on.
    #[default]
    Review,
    /// 会签 (`all`: every department must pass) or 或签 (`any`: one pass suffices). With no
    /// departments listed, the item's co-implementing departments countersign.
    Countersign {
        mode: CountersignMode,
        #[serde(default)]
        departments: Vec<DepartmentKey>,
    },
    /// The decision (准予/不予); the last step of every workflow.
    Decision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountersignMode {
    All,
    Any,
}

/// Why a workflow cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("workflow {key}: {reason}")]
pub struct WorkflowError {
    pub key: String,
    pub reason: String,
}

impl Workflow {
    /// Checked when the catalog is loaded: at least one step, unique step codes, exactly one
    /// decision step and it is the last, staff roles only.
    pub fn validate(&self) -> Result<(), WorkflowError> {
        let fail = |reason: &str| {
            Err(WorkflowError {
                key: self.key.to_string(),
                reason: reason.to_owned(),
            })
        };
        let Some(last) = self.steps.last() else {
            return fail("a workflow needs at least one step");
        };
        if last.kind != StepKind::Decision {
            return fail("the last step must be the decision");
        }
        let decisions = self
            .steps
            .iter()
            .filter(|s| s.kind == StepKind::Decision)
            .count();
        if decisions != 1 {
            return fail("a workflow has exactly one decision step");
        }
        let mut codes = std::collections::BTreeSet::new();
        for step in &self.steps {
            if !codes.insert(&step.code) {
                return fail("step codes must be unique");
            }
            if !matches!(
                step.role,
                Role::Approver | Role::ChiefRepresentative | Role::Clerk
            ) {
                return fail("steps are taken by clerks, approvers or chief representatives");
            }
        }
        Ok(())
    }

    pub fn step_index(&self, code: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.code.as_str() == code)
    }
}
