//! National code sets of GB/T 39046-2020 used by catalog items (REFERENCE §1).
//!
//! Each enum serialises as its national code (`"01"`, `"4"`, …) so that data files and exchange
//! formats carry the standard value; [`CodeSet::label_zh`] gives the Chinese name for pages.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// A code set with a Chinese and an English label for every value.
pub trait CodeSet {
    fn code(&self) -> &'static str;
    fn label_zh(&self) -> &'static str;
    fn label_en(&self) -> &'static str;
}

macro_rules! code_set {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $code)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Parses the national code, e.g. from a query parameter.
            pub fn from_code(code: &str) -> Option<$name> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl CodeSet for $name {
            fn code(&self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }
            fn label_zh(&self) -> &'static str {
                match self { $($name::$variant => $zh,)+ }
            }
            fn label_en(&self) -> &'static str {
                match self { $($name::$variant => $en,)+ }
            }
        }
    };
}

code_set!(
    /// 事项类型. Citizens apply for 01, 05, 07, 08, 09, 10 and 20; the rest are enforcement.
    ItemType {
        Licensing = "01", "行政许可", "administrative licensing";
        Penalty = "02", "行政处罚", "administrative penalty";
        Coercion = "03", "行政强制", "administrative coercion";
        Levy = "04", "行政征收", "administrative levy";
        Benefit = "05", "行政给付", "administrative benefit";
        Inspection = "06", "行政检查", "administrative inspection";
        Confirmation = "07", "行政确认", "administrative confirmation";
        Reward = "08", "行政奖励", "administrative reward";
        Adjudication = "09", "行政裁决", "administrative adjudication";
        OtherPower = "10", "其他行政权力", "other administrative power";
        PublicService = "20", "公共服务", "public service";
    }
);

impl ItemType {
    /// Whether citizens or enterprises apply for items of this type (not enforcement).
    pub fn is_applicable(&self) -> bool {
        !matches!(
            self,
            ItemType::Penalty | ItemType::Coercion | ItemType::Levy | ItemType::Inspection
        )
    }
}

code_set!(
    /// 行使层级.
    ExerciseLevel {
        National = "1", "国家级", "national";
        Provincial = "2", "省级", "provincial";
        Municipal = "3", "市级", "municipal";
        County = "4", "县级", "county";
        Township = "5", "镇(乡、街道)级", "township";
        Village = "6", "村(社区)级", "village";
        Tiered = "7", "分级管理", "tiered";
    }
);

code_set!(
    /// 实施主体性质.
    BodyNature {
        Statutory = "1", "法定机关", "statutory body";
        Authorised = "2", "授权组织", "authorised organisation";
        Entrusted = "3", "受委托组织", "entrusted organisation";
        Other = "9", "其他", "other";
    }
);

code_set!(
    /// 服务对象 (an item may serve several).
    ServiceObject {
        NaturalPerson = "1", "自然人", "natural person";
        Enterprise = "2", "企业法人", "enterprise";
        PublicInstitution = "3", "事业法人", "public institution";
        SocialOrganisation = "4", "社会组织法人", "social organisation";
        GovernmentOrgan = "5", "行政机关", "government organ";
        OtherOrganisation = "6", "其他组织", "other organisation";
    }
);

code_set!(
    /// 办理形式.
    HandlingForm {
        Window = "1", "窗口办理", "at a window";
        OnlinePc = "2", "电脑端网上办理", "online (PC)";
        OnlineMobile = "3", "移动端网上申请", "online (mobile)";
        Post = "4", "快递申请", "by post";
        Other = "9", "其他", "other";
    }
);

code_set!(
    /// 办件类型.
    CaseType {
        Immediate = "1", "即办件", "immediate";
        Promised = "2", "承诺件", "promised";
        Other = "9", "其他", "other";
    }
);

code_set!(
    /// 网办深度: the depth to which an item can be handled online.
    OnlineDepthLevel {
        Consultation = "1", "互联网咨询", "online consultation";
        Submission = "2", "互联网收件", "online submission";
        PreReview = "3", "互联网预审", "online pre-review";
        Acceptance = "4", "互联网受理", "online acceptance";
        Handling = "5", "互联网办理", "online handling";
        ResultFeedback = "6", "互联网办理结果信息反馈", "online result feedback";
        LicenceFeedback = "7", "互联网电子证照反馈", "electronic licence feedback";
    }
);

/// 网办深度 as a set of levels. An item "可网办" (can be handled online) when it reaches 4.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OnlineDepth(BTreeSet<OnlineDepthLevel>);

impl OnlineDepth {
    pub fn new(levels: impl IntoIterator<Item = OnlineDepthLevel>) -> Self {
        Self(levels.into_iter().collect())
    }

    pub fn levels(&self) -> impl Iterator<Item = OnlineDepthLevel> + '_ {
        self.0.iter().copied()
    }

    /// 可网办: the item reaches at least 互联网受理.
    pub fn online_capable(&self) -> bool {
        self.0
            .iter()
            .any(|level| *level >= OnlineDepthLevel::Acceptance)
    }
}

code_set!(
    /// 通办范围: where an item can be applied for and collected.
    Scope {
        National = "national", "全国", "nationwide";
        CrossProvince = "cross_province", "跨省", "across provinces";
        Province = "province", "全省", "province-wide";
        City = "city", "全市", "city-wide";
        County = "county", "全县(区)", "district-wide";
        Township = "township", "全镇(街道)", "street-wide";
    }
);

code_set!(
    /// 特别程序种类.
    SpecialProcedureKind {
        Extension = "1", "延长审批", "extended review";
        Other = "2", "其他特别程序", "other special procedure";
    }
);

code_set!(
    /// Unit of a time limit. Legal limits are working days unless the law says otherwise.
    TimeUnit {
        WorkingDays = "working_days", "工作日", "working days";
        NaturalDays = "natural_days", "自然日", "calendar days";
        Hours = "hours", "小时", "hours";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_types_serialise_as_their_national_codes() {
        assert_eq!(
            serde_json::to_string(&ItemType::PublicService).ok(),
            Some("\"20\"".to_owned())
        );
        assert_eq!(ItemType::from_code("01"), Some(ItemType::Licensing));
        assert_eq!(ItemType::from_code("11"), None);
    }

    #[test]
    fn an_item_is_online_capable_from_online_acceptance_upwards() {
        let shallow =
            OnlineDepth::new([OnlineDepthLevel::Consultation, OnlineDepthLevel::PreReview]);
        assert!(!shallow.online_capable());
        let deep = OnlineDepth::new([OnlineDepthLevel::Consultation, OnlineDepthLevel::Acceptance]);
        assert!(deep.online_capable());
    }

    #[test]
    fn enforcement_types_are_not_applied_for() {
        let applicable: Vec<&str> = ItemType::ALL
            .iter()
            .filter(|t| t.is_applicable())
            .map(|t| t.code())
            .collect();
        assert_eq!(applicable, ["01", "05", "07", "08", "09", "10", "20"]);
    }
}
