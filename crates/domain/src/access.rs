//! Access rules that need no I/O: the sign-in throttle (登录限流) and the actor a department
//! system acts as when it calls the API with its token.
//!
//! The throttle counts failed sign-ins per account and per client address inside a sliding
//! window. Time is passed in, never read, so that tests can walk the clock forward.
//!
//! ```
//! use tongban_domain::access::{Limit, SignInThrottle};
//! let start = jiff::Timestamp::from_second(1_772_413_200).unwrap();
//! let mut throttle = SignInThrottle::new(Limit::per_account(), Limit::per_client());
//! for _ in 0..5 {
//!     assert!(throttle.check("clerk", "10.0.0.1", start).is_ok());
//!     throttle.record_failure("clerk", "10.0.0.1", start);
//! }
//! assert!(throttle.check("clerk", "10.0.0.1", start).is_err());
//! assert!(throttle.check("approver", "10.0.0.1", start).is_ok());
//! ```

use std::collections::{HashMap, VecDeque};

use jiff::{SignedDuration, Timestamp};

use crate::cases::{Actor, ActorKind};
use crate::keys::{AccountName, DepartmentKey};
use crate::org::{Role, RoleAssignment};

/// At most `failures` failed sign-ins inside `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub failures: usize,
    pub window: SignedDuration,
}

impl Limit {
    /// Five failures in five minutes for one account.
    pub fn per_account() -> Limit {
        Limit {
            failures: 5,
            window: SignedDuration::from_mins(5),
        }
    }

    /// Thirty failures in five minutes from one client address. Higher than the account limit
    /// on purpose: a service hall's windows and kiosks share one public address, and one
    /// person's typos must not lock out the whole hall; it still stops one address from trying
    /// many accounts.
    pub fn per_client() -> Limit {
        Limit {
            failures: 30,
            window: SignedDuration::from_mins(5),
        }
    }
}

/// Why a sign-in attempt is refused before its password is even checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// When the oldest counted failure leaves the window.
    pub retry_at: Timestamp,
}

/// Entries are dropped once this many keys are tracked and their failures have aged out, so that
/// attempts with made-up account names cannot grow the memory without bound.
const PRUNE_ABOVE: usize = 10_000;

/// Recent failures per key, oldest first; at most `limit.failures` are kept per key.
#[derive(Debug, Default)]
struct Failures {
    by_key: HashMap<String, VecDeque<Timestamp>>,
}

impl Failures {
    fn forget_old(&mut self, key: &str, limit: Limit, now: Timestamp) {
        let Some(times) = self.by_key.get_mut(key) else {
            return;
        };
        while times.front().is_some_and(|&t| t + limit.window <= now) {
            times.pop_front();
        }
        if times.is_empty() {
            self.by_key.remove(key);
        }
    }

    fn check(&mut self, key: &str, limit: Limit, now: Timestamp) -> Result<(), Throttled> {
        self.forget_old(key, limit, now);
        let Some(times) = self.by_key.get(key) else {
            return Ok(());
        };
        if times.len() < limit.failures {
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        Err(Throttled {
            retry_at: oldest + limit.window,
        })
    }

    fn record(&mut self, key: &str, limit: Limit, now: Timestamp) {
        if self.by_key.len() > PRUNE_ABOVE {
            self.by_key.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|&newest| newest + limit.window > now)
            });
        }
        let times = self.by_key.entry(key.to_owned()).or_default();
        times.push_back(now);
        while times.len() > limit.failures.max(1) {
            times.pop_front();
        }
    }

    fn reset(&mut self, key: &str) {
        self.by_key.remove(key);
    }
}

/// Counts failed sign-ins per account and per client address.
#[derive(Debug)]
pub struct SignInThrottle {
    account_limit: Limit,
    client_limit: Limit,
    accounts: Failures,
    clients: Failures,
}

impl SignInThrottle {
    pub fn new(account_limit: Limit, client_limit: Limit) -> SignInThrottle {
        SignInThrottle {
            account_limit,
            client_limit,
            accounts: Failures::default(),
            clients: Failures::default(),
        }
    }

    /// Whether an attempt for `account` from `client` may go ahead at `now`. When both limits
    /// are reached, the later retry time is given.
    pub fn check(&mut self, account: &str, client: &str, now: Timestamp) -> Result<(), Throttled> {
        let by_account = self.accounts.check(account, self.account_limit, now);
        let by_client = self.clients.check(client, self.client_limit, now);
        match (by_account, by_client) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(throttled), Ok(())) | (Ok(()), Err(throttled)) => Err(throttled),
            (Err(first), Err(second)) => Err(Throttled {
                retry_at: first.retry_at.max(second.retry_at),
            }),
        }
    }

    pub fn record_failure(&mut self, account: &str, client: &str, now: Timestamp) {
        self.accounts.record(account, self.account_limit, now);
        self.clients.record(client, self.client_limit, now);
    }

    /// A successful sign-in clears the account's failures; the client's stay, so that one good
    /// password does not reopen an address that is guessing other accounts.
    pub fn record_success(&mut self, account: &str) {
        self.accounts.reset(account);
    }
}

/// The actor a department system acts as with its API token: an account of kind
/// [`ActorKind::System`] holding the approver and chief-representative roles for its department
/// (部门审批系统 pushes decisions and signs off for its own department, nothing else).
pub fn department_system_actor(
    account: AccountName,
    name: String,
    department: DepartmentKey,
) -> Actor {
    let assignment = |role| RoleAssignment {
        role,
        department: Some(department.clone()),
        hall: None,
        region: None,
    };
    Actor {
        account,
        name,
        kind: ActorKind::System,
        roles: vec![
            assignment(Role::Approver),
            assignment(Role::ChiefRepresentative),
        ],
        identifier: None,
        acting_for: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> Timestamp {
        Timestamp::from_second(1_772_413_200).unwrap()
    }

    fn throttle() -> SignInThrottle {
        SignInThrottle::new(Limit::per_account(), Limit::per_client())
    }

    fn fail(
        throttle: &mut SignInThrottle,
        account: &str,
        client: &str,
        times: usize,
        at: Timestamp,
    ) {
        for _ in 0..times {
            throttle.record_failure(account, client, at);
        }
    }

    #[test]
    fn the_sixth_attempt_after_five_failures_is_refused_until_the_window_has_passed() {
        let mut throttle = throttle();
        fail(&mut throttle, "clerk", "a", 5, start());
        let refused = throttle.check("clerk", "a", start() + SignedDuration::from_secs(10));
        assert_eq!(
            refused,
            Err(Throttled {
                retry_at: start() + SignedDuration::from_mins(5)
            })
        );
        assert!(
            throttle
                .check("clerk", "a", start() + SignedDuration::from_mins(5))
                .is_ok()
        );
    }

    #[test]
    fn four_failures_leave_the_account_open() {
        let mut throttle = throttle();
        fail(&mut throttle, "clerk", "a", 4, start());
        assert!(throttle.check("clerk", "a", start()).is_ok());
    }

    #[test]
    fn failures_slide_out_of_the_window_one_by_one() {
        let mut throttle = throttle();
        fail(&mut throttle, "clerk", "a", 1, start());
        fail(
            &mut throttle,
            "clerk",
            "a",
            4,
            start() + SignedDuration::from_mins(2),
        );
        let later = start() + SignedDuration::from_mins(5);
        assert!(
            throttle.check("clerk", "a", later).is_ok(),
            "the first aged out"
        );
        throttle.record_failure("clerk", "a", later);
        assert!(throttle.check("clerk", "a", later).is_err());
    }

    #[test]
    fn a_locked_account_does_not_lock_another_account_from_the_same_address() {
        let mut throttle = throttle();
        fail(&mut throttle, "clerk", "hall", 5, start());
        assert!(throttle.check("clerk", "hall", start()).is_err());
        assert!(throttle.check("approver", "hall", start()).is_ok());
    }

    #[test]
    fn an_address_trying_many_accounts_is_refused_for_every_account() {
        let mut throttle = throttle();
        for n in 0..30 {
            throttle.record_failure(&format!("guess{n}"), "attacker", start());
        }
        assert!(throttle.check("admin", "attacker", start()).is_err());
        assert!(throttle.check("admin", "someone-else", start()).is_ok());
    }

    #[test]
    fn a_success_clears_the_account_but_not_the_address() {
        let mut throttle = SignInThrottle::new(
            Limit::per_account(),
            Limit {
                failures: 6,
                window: SignedDuration::from_mins(5),
            },
        );
        fail(&mut throttle, "clerk", "a", 4, start());
        throttle.record_success("clerk");
        fail(&mut throttle, "clerk", "a", 2, start());
        assert!(
            throttle.check("citizen", "a", start()).is_err(),
            "six failures from the address"
        );
        assert!(
            throttle.check("clerk", "b", start()).is_ok(),
            "two since the success"
        );
    }

    #[test]
    fn a_department_system_approves_and_signs_off_for_its_department_only() {
        let police = DepartmentKey::parse("city-police").unwrap();
        let tax = DepartmentKey::parse("city-tax").unwrap();
        let actor = department_system_actor(
            AccountName::parse("api-1").unwrap(),
            "公安审批系统".into(),
            police.clone(),
        );
        assert_eq!(actor.kind, ActorKind::System);
        assert!(actor.has_role(Role::Approver, Some(&police)));
        assert!(actor.has_role(Role::ChiefRepresentative, Some(&police)));
        assert!(!actor.has_role(Role::Approver, Some(&tax)));
        assert!(!actor.has_role(Role::Administrator, None));
    }
}
